"""`ciliumlab cilium-dbg --node NODE ARGS`: in a fresh embedded lab, or in the served lab's agent pod."""

from __future__ import annotations

import json
import re

from tests.served.conftest import needs_kubectl, served  # noqa: F401
from tests.served.served import ciliumlab


def _ids(out: str) -> dict[int, str]:
    """{endpoint id: first labels cell} of an `endpoint list` table."""
    rows = {}
    for line in out.splitlines()[2:]:
        m = re.match(r"(\d+)\s+\S+\s+\S+\s+\d+\s+(\S+)", line)
        if m:
            rows[int(m.group(1))] = m.group(2)
    return rows


def test_embedded_endpoint_list(tmp_path):
    res = ciliumlab("cilium-dbg", "--state-dir", str(tmp_path / "none"), "--node", "k8s-w2", "endpoint", "list")
    assert res.rc == 0, res.err
    labels = set(_ids(res.out).values())
    assert {"reserved:host", "reserved:health"} <= labels


def test_embedded_exit_code_and_unknown_node(tmp_path):
    res = ciliumlab("cilium-dbg", "--state-dir", str(tmp_path / "none"), "--node", "k8s-w1", "no-such-command")
    assert res.rc == 1
    assert 'unknown command "no-such-command"' in res.err
    res = ciliumlab("cilium-dbg", "--state-dir", str(tmp_path / "none"), "--node", "k8s-w9", "endpoint", "list")
    assert res.rc == 1
    assert "k8s-w9" in res.err


@needs_kubectl
def test_served_endpoint_list_matches_ceps(served):  # noqa: F811
    res = ciliumlab("cilium-dbg", "--state-dir", str(served.state), "--node", "k8s-w1", "endpoint", "list")
    assert res.rc == 0, res.err
    rows = _ids(res.out)
    assert {"reserved:host", "reserved:health"} <= set(rows.values())
    node_ip = json.loads(served.kubectl_ok("get", "node", "k8s-w1", "-o", "json"))["status"]["addresses"]
    node_ip = next(a["address"] for a in node_ip if a["type"] == "InternalIP")
    ceps = json.loads(served.kubectl_ok("get", "ciliumendpoints", "-A", "-o", "json"))["items"]
    cep_ids = {c["status"]["id"] for c in ceps if c["status"]["networking"]["node"] == node_ip}
    pod_rows = {i for i, label in rows.items() if not label.startswith("reserved:")}
    assert pod_rows == cep_ids
    res = ciliumlab("cilium-dbg", "--state-dir", str(served.state), "--node", "k8s-w9", "endpoint", "list")
    assert res.rc == 1
