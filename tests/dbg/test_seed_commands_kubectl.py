"""The seed's Cilium commands, verbatim, through the real kubectl exec into a served lab's agent pod.

`c1` is the seed's alias: `kubectl exec -it $CILIUMPOD1 -n kube-system -c cilium-agent -- cilium`,
with CILIUMPOD1 found by the seed's own jsonpath query. Each test asserts what the user reads.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import ciliumlab
from tests.conftest import shared_fixture
from tests.served.conftest import needs_kubectl, served  # noqa: F401
from tests.served.served import ServedLab

pytestmark = needs_kubectl

# the seed applies Cilium 1.17.6's sw_l3_l4_policy.yaml (description under spec), as bundled for `demo`
RULE1 = str(Path(ciliumlab.__file__).parent / "data" / "starwars" / "sw_l3_l4_policy.yaml")
LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"


@pytest.fixture(scope="module")
def seed(served: ServedLab) -> dict:  # noqa: F811
    served.kubectl_ok("apply", "-f", str(shared_fixture("cilium", "http-sw-app.yaml")))
    served.kubectl_ok("wait", "--for=condition=Ready", "pod", "--all", "--timeout=30s")
    deathstar = served.get_json("pod", "-l", "class=deathstar")["items"][0]
    node = deathstar["spec"]["nodeName"]
    pod = served.kubectl_ok("get", "-l", "k8s-app=cilium", "pods", "-n", "kube-system", "--field-selector",
                            f"spec.nodeName={node}", "-o", "jsonpath={.items[0].metadata.name}")
    return {"node": node, "pod": pod, "deathstar_ip": deathstar["status"]["podIP"]}


def c1(served: ServedLab, seed: dict, *args: str, timeout: float = 60):  # noqa: F811
    return served.kubectl("exec", seed["pod"], "-n", "kube-system", "-c", "cilium-agent", "--", "cilium", *args,
                          timeout=timeout)


def endpoint_id(served: ServedLab, seed: dict, ip: str) -> str:  # noqa: F811
    out = c1(served, seed, "endpoint", "list").out
    return next(line.split()[0] for line in out.splitlines() if ip in line)


def test_status_verbose_through_ds(served: ServedLab) -> None:  # noqa: F811
    res = served.kubectl("exec", "-n", "kube-system", "-c", "cilium-agent", "ds/cilium", "--",
                         "cilium-dbg", "status", "--verbose")
    assert res.rc == 0, res.err
    assert re.search(r"^KubeProxyReplacement:\s+True", res.out, re.M)
    assert re.search(r"^Cilium:\s+Ok", res.out, re.M)
    assert "Allocated addresses:" in res.out and "KubeProxyReplacement Details:" in res.out


def test_endpoint_list_flips_to_enabled_after_rule1(served: ServedLab, seed: dict) -> None:  # noqa: F811
    def deathstar_row() -> list[str]:
        out = c1(served, seed, "endpoint", "list").out
        assert out.splitlines()[0].split()[:4] == ["ENDPOINT", "POLICY", "(ingress)", "POLICY"]
        return next(line.split() for line in out.splitlines() if seed["deathstar_ip"] in line)

    assert deathstar_row()[1:3] == ["Disabled", "Disabled"]
    served.kubectl_ok("apply", "-f", RULE1)
    try:
        assert deathstar_row()[1:3] == ["Enabled", "Disabled"]
        # the drop xwing causes is printed by `monitor --type drop` in Cilium's format
        monitor = served.kubectl("exec", seed["pod"], "-n", "kube-system", "-c", "cilium-agent",
                                 "--request-timeout=0", "--", "sh", "-c",
                                 "timeout 4 cilium monitor --type drop", timeout=30)
        assert "Listening for events" in monitor.out
    finally:
        served.kubectl_ok("delete", "-f", RULE1)


def test_identity_service_ip_and_bpf_tables(served: ServedLab, seed: dict) -> None:  # noqa: F811
    identities = c1(served, seed, "identity", "list", "--endpoints")
    assert identities.rc == 0, identities.err
    assert identities.out.splitlines()[0].split() == ["ID", "LABELS", "REFCOUNT"]
    services = c1(served, seed, "service", "list")
    assert services.out.splitlines()[0].split() == ["ID", "Frontend", "Service", "Type", "Backend"]
    svc = served.get_json("svc", "deathstar")["spec"]["clusterIP"]
    lb = c1(served, seed, "bpf", "lb", "list").out
    assert lb.splitlines()[0].split()[:3] == ["SERVICE", "ADDRESS", "BACKEND"]
    backends = {p["status"]["podIP"] for p in served.get_json("pod", "-l", "class=deathstar")["items"]}
    rows = [line for line in lb.splitlines() if line.startswith(f"{svc}:80/TCP") or line.startswith(" ")]
    assert all(any(f"{ip}:80/TCP" in line for line in lb.splitlines()) for ip in backends), lb
    assert rows
    revnat = c1(served, seed, "bpf", "lb", "list", "--revnat").out
    assert revnat.splitlines()[0].split() == ["ID", "BACKEND", "ADDRESS", "(REVNAT_ID)", "(SLOT)"] or \
        f"{svc}:80" in revnat
    ips = c1(served, seed, "ip", "list", "-n").out
    assert ips.splitlines()[0].split() == ["IP", "IDENTITY", "SOURCE"]
    assert re.search(rf"^{re.escape(seed['deathstar_ip'])}/32\s+\d+", ips, re.M)


def test_conntrack_nat_and_policy_maps(served: ServedLab, seed: dict) -> None:  # noqa: F811
    served.kubectl_ok("exec", "tiefighter", "--", "sh", "-c", LANDING)
    ct = c1(served, seed, "bpf", "ct", "list", "global").out
    svc = served.get_json("svc", "deathstar")["spec"]["clusterIP"]
    assert re.search(rf"^TCP OUT \S+ -> {re.escape(seed['deathstar_ip'])}:80 expires=\d+ .*SourceSecurityID=\d+ ",
                     ct, re.M), ct
    assert re.search(rf"^TCP OUT \S+ -> {re.escape(svc)}:80 service expires=\d+ ", ct, re.M), ct
    nat = c1(served, seed, "bpf", "nat", "list")
    assert nat.rc == 0, nat.err
    policy = c1(served, seed, "bpf", "policy", "get", "--all")
    assert policy.rc == 0, policy.err
    assert "POLICY   DIRECTION   LABELS (source:key[=value])" in policy.out


def test_endpoint_get_log_config_and_errors(served: ServedLab, seed: dict) -> None:  # noqa: F811
    eid = endpoint_id(served, seed, seed["deathstar_ip"])
    got = c1(served, seed, "endpoint", "get", eid)
    assert got.rc == 0 and f'"id": {eid}' in got.out
    log = c1(served, seed, "endpoint", "log", eid)
    assert log.out.splitlines()[0].split() == ["Timestamp", "Status", "State", "Message"]
    config = c1(served, seed, "endpoint", "config", eid, "Debug=true")
    assert config.out.strip() == f"Endpoint {eid} configuration updated successfully"
    assert re.search(r"^Debug\s+Enabled$", c1(served, seed, "endpoint", "config", eid).out, re.M)
    missing = c1(served, seed, "endpoint", "get", "9999")
    assert missing.rc != 0 and "Cannot get endpoint 9999: [GET /endpoint/{id}][404] getEndpointIdNotFound" in \
        missing.err
    bad = c1(served, seed, "monitor", "--type", "bogus")
    assert bad.rc != 0 and 'invalid argument "bogus" for "-t, --type" flag' in bad.err


def monitor_during_landing(served: ServedLab, seed: dict, args: str) -> str:  # noqa: F811
    """`timeout 4 cilium monitor ARGS` in the agent while tiefighter lands on this node's deathstar."""
    monitor = served.kubectl_popen("exec", seed["pod"], "-n", "kube-system", "-c", "cilium-agent", "--",
                                   "sh", "-c", f"timeout 4 cilium monitor {args}")
    time.sleep(1.5)
    served.kubectl_ok("exec", "tiefighter", "--", "curl", "-s", "-XPOST", f"{seed['deathstar_ip']}/v1/request-landing")
    out, err = monitor.communicate(timeout=30)
    assert monitor.returncode == 124, err  # timeout(1)'s status when it had to stop the monitor
    return out


def test_monitor_type_drop_prints_xwings_policy_denied(served: ServedLab, seed: dict) -> None:  # noqa: F811
    served.kubectl_ok("apply", "-f", RULE1)
    try:
        monitor = served.kubectl_popen("exec", seed["pod"], "-n", "kube-system", "-c", "cilium-agent", "--",
                                       "sh", "-c", "timeout 6 cilium monitor --type drop")
        time.sleep(1.5)
        # at this node's deathstar itself (the Service may pick the other replica, on another node)
        served.kubectl("exec", "xwing", "--", "curl", "-s", "-XPOST", "--connect-timeout", "2",
                       f"{seed['deathstar_ip']}/v1/request-landing")
        out, _ = monitor.communicate(timeout=30)
    finally:
        served.kubectl_ok("delete", "-f", RULE1)
    eid = endpoint_id(served, seed, seed["deathstar_ip"])
    assert re.search(rf"^xx drop \(Policy denied\) flow 0x[0-9a-f]+ to endpoint {eid}, ifindex \d+, "
                     rf"file bpf_lxc.c:\d+, , identity \d+->\d+: \S+ -> {re.escape(seed['deathstar_ip'])}:80 tcp SYN$",
                     out, re.M), out


def test_monitor_debug_capture_and_hex(served: ServedLab, seed: dict) -> None:  # noqa: F811
    """With Debug=true on deathstar's endpoint, `monitor -v --type debug` shows its conntrack lookups,
    `--type capture` the deliveries, and `-v -v --hex` the packets as hex dumps."""
    eid = endpoint_id(served, seed, seed["deathstar_ip"])
    c1(served, seed, "endpoint", "config", eid, "Debug=true")
    ip = re.escape(seed["deathstar_ip"])
    debug = monitor_during_landing(served, seed, "-v --type debug")
    assert re.search(rf"^CPU \d\d: MARK 0x[0-9a-f]+ FROM {eid} DEBUG: Conntrack lookup 1/2: src=\S+ dst={ip}:80$",
                     debug, re.M), debug
    assert re.search(rf"^CPU \d\d: MARK 0x[0-9a-f]+ FROM {eid} DEBUG: CT verdict: New, revnat=0$", debug, re.M)
    capture = monitor_during_landing(served, seed, "--type capture")
    assert re.search(rf"^-> lxc\w+: \S+ -> {ip}:80 tcp SYN$", capture, re.M), capture
    dump = monitor_during_landing(served, seed, "-v -v --hex --type trace")
    # the SYN to deathstar: IPv4 header after the 14-byte Ethernet header, TCP port 80, flags 0x02
    block = next(b for b in dump.split("-" * 78) if f"to endpoint {eid}" in b and "state new" in b)
    rows = [line for line in block.splitlines() if re.match(r"^[0-9a-f]{8}  ", line)]
    data = bytes.fromhex("".join(line[10:58].replace(" ", "") for line in rows))
    assert data[12:14] == b"\x08\x00" and data[14] == 0x45 and data[23] == 6
    assert ".".join(str(b) for b in data[30:34]) == seed["deathstar_ip"]
    assert int.from_bytes(data[36:38], "big") == 80 and data[47] == 0x02
