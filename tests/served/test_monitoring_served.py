"""`ciliumlab up --monitoring`: a real Prometheus scraping every metrics endpoint of the served lab
(under the cluster's instance addresses), the seed's ServiceMonitor and PrometheusRule honoured,
and the Grafana stand-in page. Skipped without Debian's `prometheus` (CI installs it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request

import pytest

from tests.conftest import shared_fixture
from tests.served.conftest import needs_kubectl
from tests.served.served import ANY_PORTS, ServedLab

pytestmark = [needs_kubectl, pytest.mark.skipif(shutil.which("prometheus") is None,
                                                reason="prometheus is not installed (apt-get install prometheus)")]


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def wait_for(check, timeout: float = 45.0, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    root = tmp_path_factory.mktemp("monitored")
    lab = ServedLab(root / "state", root / "work")
    res = lab.up(*ANY_PORTS, "--monitoring")
    try:
        assert res.rc == 0, res.err
        yield lab
    finally:
        lab.teardown()


def test_monitoring_example_is_installed_as_the_seed_has_it(monitored: ServedLab) -> None:
    svcs = {s["metadata"]["name"]: s for s in monitored.get_json("svc", "-n", "cilium-monitoring")["items"]}
    assert svcs["prometheus"]["spec"]["type"] == "NodePort"
    assert svcs["prometheus"]["spec"]["ports"][0]["nodePort"] == 30001
    assert svcs["grafana"]["spec"]["ports"][0]["nodePort"] == 30002
    assert monitored.kubectl("get", "ns", "monitoring").rc == 0


def test_prometheus_scrapes_every_endpoint_and_loads_the_seed_rule(monitored: ServedLab) -> None:
    monitored.kubectl_ok("apply", "-f", str(shared_fixture("seed", "servicemonitor.yaml")),
                         "-f", str(shared_fixture("seed", "prometheusrule.yaml")))
    prometheus = wait_for(lambda: (monitored.status().get("monitoring") or {}).get("prometheus"))
    nodes = {"192.168.10.100", "192.168.10.101", "192.168.10.102"}
    expected = {("kubernetes-pods", f"{ip}:9962") for ip in nodes} | {("kubernetes-pods", "192.168.10.100:9963")}
    expected |= {("kubernetes-endpoints", f"{ip}:9965") for ip in nodes}
    expected |= {("serviceMonitor/monitoring/cilium-metrics/0", f"{ip}:9962") for ip in nodes}

    def all_up():
        targets = get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        seen = {(t["scrapePool"], t["labels"]["instance"]): t for t in targets}
        if not expected <= set(seen) or any(seen[k]["health"] != "up" for k in expected):
            return None
        return seen
    seen = wait_for(all_up, timeout=60)
    agent = seen[("serviceMonitor/monitoring/cilium-metrics/0", "192.168.10.101:9962")]["labels"]
    assert agent["namespace"] == "kube-system" and agent["service"] == "cilium-agent" and agent["pod"].startswith("cilium-")
    up = get(f"{prometheus}/api/v1/query?query=up")["data"]["result"]
    assert up and all(r["value"][1] == "1" for r in up), up
    drops = get(f"{prometheus}/api/v1/query?query=cilium_version")["data"]["result"]
    assert {r["metric"]["instance"] for r in drops} >= {f"{ip}:9962" for ip in nodes}
    groups = wait_for(lambda: get(f"{prometheus}/api/v1/rules")["data"]["groups"])
    rules = [r for g in groups for r in g["rules"]]
    assert any(r["name"] == "CiliumHighErrorRate" and r["query"] == "rate(cilium_drop_count_total[5m]) > 0.1"
               for r in rules)


def test_every_endpoint_passes_promtool(monitored: ServedLab) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    metrics = monitored.status()["metrics"]
    addresses = [*metrics["cilium-agent"].values(), metrics["cilium-operator"], *metrics["hubble"].values()]
    for address in addresses:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as resp:
            body = resp.read()
        check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
        assert check.returncode == 0, (address, check.stdout, check.stderr)


def test_grafana_page_lists_the_dashboards(monitored: ServedLab) -> None:
    grafana = wait_for(lambda: (monitored.status().get("monitoring") or {}).get("grafana"))
    with urllib.request.urlopen(grafana, timeout=5) as resp:
        page = resp.read().decode()
    for title in ("Cilium Metrics", "Hubble"):
        assert title in page
    assert get(f"{grafana}/api/health")["dashboards"] >= 3


def test_tail_f_follows_the_exported_flows(monitored: ServedLab) -> None:
    """The seed's `kubectl -n kube-system exec ds/cilium -- tail -f /var/run/cilium/hubble/events.log`."""
    monitored.kubectl_ok("apply", "-f", str(shared_fixture("cilium", "http-sw-app.yaml")))
    monitored.kubectl_ok("wait", "--for=condition=Ready", "pod", "--all", "--timeout=30s")
    patch = json.dumps({"data": {"hubble-export-file-path": "/var/run/cilium/hubble/events.log"}})
    monitored.kubectl_ok("patch", "cm", "cilium-config", "-n", "kube-system", "--type", "merge", "-p", patch)
    monitored.kubectl_ok("rollout", "status", "ds/cilium", "-n", "kube-system", "--timeout=30s")
    tail = monitored.kubectl_popen("exec", "-n", "kube-system", "ds/cilium", "--", "tail", "-f",
                                   "/var/run/cilium/hubble/events.log")
    lines: list[dict] = []

    def read() -> None:
        for text in tail.stdout:
            if text.strip():
                lines.append(json.loads(text))
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deathstars = [p["status"]["podIP"] for p in monitored.get_json("pod", "-l", "class=deathstar")["items"]]
    try:
        # traffic on every node (ds/cilium may be any agent): CoreDNS on the control plane, both
        # deathstar replicas directly; repeated until tail -f shows it (the exec may start late)
        def seen() -> bool:
            monitored.kubectl_ok("exec", "tiefighter", "--", "sh", "-c",
                                 "nslookup deathstar.default.svc.cluster.local >/dev/null; "
                                 + "; ".join(f"curl -s -XPOST {ip}/v1/request-landing" for ip in deathstars))
            return bool(lines)
        wait_for(seen, timeout=45, step=1.0)
    finally:
        tail.terminate()
        tail.wait(10)
        reader.join(5)
    assert all(list(line) == ["flow", "node_name", "time"] for line in lines)
    assert len({line["node_name"] for line in lines}) == 1  # one agent's file
