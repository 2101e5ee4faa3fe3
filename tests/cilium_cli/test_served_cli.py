"""`ciliumlab cilium …` (cilium-cli's role) against a served lab, and cilium-config being live.

Expectations come from cilium-cli (status/config wording) and the Cilium chart / agent behaviour.
The tests of this module share one lab and run in order; each restores what it changed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.served.served import ServedLab, ciliumlab

from .conftest import needs_kubectl

pytestmark = needs_kubectl

STARWARS = Path(__file__).resolve().parents[2] / "src" / "ciliumlab" / "data" / "starwars"
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed" / "helm-values-hubble.yaml"


def cilium(served: ServedLab, *args: str, timeout: float = 60):
    return ciliumlab("cilium", *args, timeout=timeout, env={"KUBECONFIG": str(served.kubeconfig)})


def config(served: ServedLab) -> dict:
    return served.get_json("cm", "cilium-config", "-n", "kube-system")["data"]


def agent_pods(served: ServedLab) -> set[str]:
    pods = served.get_json("pods", "-n", "kube-system", "-l", "k8s-app=cilium")["items"]
    return {p["metadata"]["name"] for p in pods}


def patch_config(served: ServedLab, data: dict) -> None:
    served.kubectl_ok("patch", "cm", "cilium-config", "-n", "kube-system", "--type", "merge",
                      "-p", json.dumps({"data": data}))


def remove_config_key(served: ServedLab, key: str) -> None:
    served.kubectl_ok("patch", "cm", "cilium-config", "-n", "kube-system", "--type", "json",
                      "-p", json.dumps([{"op": "remove", "path": f"/data/{key}"}]))


@pytest.fixture(scope="module")
def starwars(served: ServedLab) -> ServedLab:
    served.kubectl_ok("apply", "-f", str(STARWARS / "http-sw-app.yaml"))
    served.kubectl_ok("wait", "--for=condition=Ready", "pod", "--all", "--timeout=60s")
    return served


def test_status_box(served: ServedLab) -> None:
    res = cilium(served, "status", "--wait")
    assert res.rc == 0, res.err
    lines = res.out.splitlines()
    assert lines[0] == "    /¯¯\\"
    assert lines[1].startswith(" /¯¯\\__/¯¯\\") and lines[1].split()[-2:] == ["Cilium:", "OK"]
    text = res.out
    for component in ("Operator:", "Envoy DaemonSet:", "Hubble Relay:"):
        line = next(ln for ln in lines if component in ln)
        assert line.endswith(" OK"), line
    assert next(ln for ln in lines if "ClusterMesh:" in ln).endswith(" disabled")
    ds = next(ln for ln in lines if ln.startswith("DaemonSet") and ln.split()[1] == "cilium")
    assert ds.split(None, 2)[2] == "Desired: 3, Ready: 3/3, Available: 3/3"
    assert any(ln.startswith("Deployment") and ln.split()[1] == "cilium-operator"
               and ln.endswith("Desired: 1, Ready: 1/1, Available: 1/1") for ln in lines)
    assert "Containers:" in text and "Running: 3" in text
    assert any(ln.startswith("Cluster Pods:") and ln.endswith("managed by Cilium") for ln in lines)
    assert any(ln.split(":")[0] == "Helm chart version" and ln.endswith("1.17.6") for ln in lines)
    assert any(ln.startswith("Image versions") and "quay.io/cilium/cilium:v1.17.6" in ln for ln in lines)


def test_config_view_is_sorted_key_value(served: ServedLab) -> None:
    res = cilium(served, "config", "view")
    assert res.rc == 0, res.err
    rows = [ln.split(None, 1) for ln in res.out.splitlines()]
    keys = [r[0] for r in rows]
    assert keys == sorted(keys) == sorted(config(served))
    hubble = {r[0]: (r[1] if len(r) > 1 else "") for r in rows if "hubble" in r[0].lower()}
    assert hubble["enable-hubble"] == "true"
    assert hubble["hubble-listen-address"] == ":4244"


def test_config_set_patches_and_restarts_agents(served: ServedLab) -> None:
    before = agent_pods(served)
    res = cilium(served, "config", "set", "hubble-event-buffer-capacity", "8191")
    assert res.rc == 0, res.err
    assert res.out.splitlines() == ["✨ Patching ConfigMap cilium-config with hubble-event-buffer-capacity=8191...",
                                    "♻️  Restarted Cilium pods"]
    assert config(served)["hubble-event-buffer-capacity"] == "8191"
    out = served.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=60s")
    assert 'daemon set "cilium" successfully rolled out' in out
    after = agent_pods(served)
    assert len(after) == 3 and not (after & before)
    # the agents' Hubble rings now hold 8191 flows each: 3 nodes behind the relay
    relay = served.info()["hubble"]["relay"]
    status = ciliumlab("hubble", "status", "--server", relay)
    assert status.rc == 0, status.err
    assert "/24,573" in status.out, status.out
    res = cilium(served, "config", "delete", "hubble-event-buffer-capacity")
    assert res.rc == 0, res.err
    assert "hubble-event-buffer-capacity" not in config(served)


def test_kubectl_patch_rolls_the_daemonset(served: ServedLab) -> None:
    before = agent_pods(served)
    generation = served.get_json("ds", "cilium", "-n", "kube-system")["metadata"]["generation"]
    patch_config(served, {"debug-verbose": "flow"})
    ds = served.get_json("ds", "cilium", "-n", "kube-system")
    assert ds["metadata"]["generation"] == generation + 1
    assert "cilium.io/cilium-configmap-checksum" in ds["spec"]["template"]["metadata"]["annotations"]
    served.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=60s")
    assert not (agent_pods(served) & before)
    remove_config_key(served, "debug-verbose")


def test_upgrade_with_the_seed_values_file(served: ServedLab) -> None:
    assert "hubble-export-file-path" not in config(served)  # the chart's default: no static exporter
    res = cilium(served, "upgrade", "--reuse-values", "-f", str(SEED))
    assert res.rc == 0, res.err
    data = config(served)
    assert data["hubble-export-allowlist"] == '{"verdict":["DROPPED","ERROR"]}'
    assert data["hubble-export-denylist"] == '{"source_pod":["kube-system/"]},{"destination_pod":["kube-system/"]}'
    assert data["hubble-export-fieldmask"] == ("time source.namespace source.pod_name destination.namespace "
                                               "destination.pod_name l4 IP node_name is_reply verdict drop_reason_desc")
    assert data["hubble-export-file-path"] == "/var/run/cilium/hubble/events.log"
    assert data["hubble-metrics"].split()[:6] == ["dns", "drop", "tcp", "flow", "port-distribution", "icmp"]
    assert data["enable-hubble-open-metrics"] == "true"
    ui = served.get_json("svc", "hubble-ui", "-n", "kube-system")["spec"]
    assert ui["type"] == "NodePort" and ui["ports"][0]["nodePort"] == 31234
    res = cilium(served, "upgrade", "--reuse-values", "--set", "hubble.metrics.enabled={dns,drop}",
                 "--set", "hubble.export.static.allowList=null")
    assert res.rc == 0, res.err
    data = config(served)
    assert data["hubble-metrics"] == "dns drop"
    assert data["hubble-export-allowlist"] == ""
    served.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=60s")


def test_hubble_disable_and_enable(served: ServedLab) -> None:
    res = cilium(served, "hubble", "disable")
    assert res.rc == 0, res.err
    assert config(served)["enable-hubble"] == "false"
    assert served.kubectl("get", "deploy", "hubble-relay", "-n", "kube-system").rc != 0
    status = cilium(served, "status")
    assert next(ln for ln in status.out.splitlines() if "Hubble Relay:" in ln).endswith(" disabled")
    res = cilium(served, "hubble", "enable", "--ui")
    assert res.rc == 0, res.err
    assert config(served)["enable-hubble"] == "true"
    served.kubectl_ok("rollout", "status", "deploy/hubble-relay", "-n", "kube-system", "--timeout=60s")
    served.kubectl_ok("get", "deploy", "hubble-ui", "-n", "kube-system")
    assert cilium(served, "status", "--wait", "--wait-duration", "30s").rc == 0


def test_audit_mode_lets_the_xwing_land_with_verdict_audit(starwars: ServedLab) -> None:
    served = starwars
    served.kubectl_ok("apply", "-f", str(STARWARS / "sw_l3_l4_policy.yaml"))
    curl = ("exec", "xwing", "--", "curl", "-s", "--connect-timeout", "2", "-XPOST",
            "deathstar.default.svc.cluster.local/v1/request-landing")
    try:
        blocked = served.kubectl(*curl)
        assert blocked.rc != 0 and "Ship landed" not in blocked.out
        patch_config(served, {"policy-audit-mode": "true"})
        served.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=60s")
        landed = served.kubectl(*curl)
        assert (landed.rc, landed.out) == (0, "Ship landed\n"), landed.err
        relay = served.info()["hubble"]["relay"]
        res = ciliumlab("hubble", "observe", "--server", relay, "--from-pod", "default/xwing", "--to-pod",
                        "default/deathstar", "--verdict", "AUDIT", "-o", "json")
        assert res.rc == 0, res.err
        flows = [json.loads(ln)["flow"] for ln in res.out.splitlines()]
        assert flows and all(f["verdict"] == "AUDIT" for f in flows)
    finally:
        remove_config_key(served, "policy-audit-mode")
        served.kubectl_ok("delete", "-f", str(STARWARS / "sw_l3_l4_policy.yaml"))


def test_enable_policy_always_blocks_unpoliced_traffic(starwars: ServedLab) -> None:
    served = starwars
    ip = served.get_json("svc", "deathstar")["spec"]["clusterIP"]
    curl = ("exec", "tiefighter", "--", "curl", "-s", "--connect-timeout", "2", "-XPOST",
            f"http://{ip}/v1/request-landing")
    assert served.kubectl(*curl).out == "Ship landed\n"
    res = cilium(served, "config", "set", "enable-policy", "always")
    assert res.rc == 0, res.err
    try:
        served.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=60s")
        served.kubectl_ok("wait", "--for=condition=Ready", "pod", "--all", "--timeout=60s")
        blocked = served.kubectl(*curl)
        assert blocked.rc == 28 or "exit code 28" in blocked.err, (blocked.rc, blocked.out, blocked.err)
        assert "Ship landed" not in blocked.out
    finally:
        assert cilium(served, "config", "set", "enable-policy", "default").rc == 0
    served.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=60s")
    assert served.kubectl(*curl).out == "Ship landed\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hubble_port_forward_reaches_the_relay(served: ServedLab) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ciliumlab", "cilium", "hubble", "port-forward",
                             "--port-forward", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "KUBECONFIG": str(served.kubeconfig)})
    try:
        line = proc.stdout.readline()
        assert line == f"ℹ️  Hubble Relay is available at 127.0.0.1:{port}\n"
        deadline = time.monotonic() + 10
        while True:
            res = ciliumlab("hubble", "status", "--server", f"127.0.0.1:{port}")
            if res.rc == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert res.rc == 0, res.err
        assert "Connected Nodes: 3/3" in res.out
        assert proc.poll() is None  # keeps running until Ctrl-C
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
