"""Events for `kubectl describe` / `kubectl get events`, and `kubectl logs`, through the real kubectl.

Expectations come from what Kubernetes components record (kube-scheduler `Scheduled`, kubelet
`Pulled`/`Created`/`Started`, replicaset-controller `SuccessfulCreate`/`SuccessfulDelete`,
deployment-controller `ScalingReplicaSet`; messages as in Kubernetes 1.32), kubectl's describe
and event printers (shared/spec/kubeapi §3.3, §8), and what the images print: nginx's
`log_format main`, go-swagger's `Serving <name> at http://[::]:80`, cilium-agent's logrus lines.
Cluster facts (nodes, pod names, IPs) are read from the lab's store, never from the output.
"""

from __future__ import annotations

import re

from ciliumlab.k8s.controllers import events as events_mod
from ciliumlab.workloads.tools.curl import USER_AGENT
from tests.apiserver.kube import Kubectl, LabServer, table

NGINX = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: evdemo
spec:
  replicas: 1
  selector: {matchLabels: {app: evdemo}}
  template:
    metadata: {labels: {app: evdemo}}
    spec:
      containers:
      - name: web
        image: nginx:1.27.5
"""
GO_LOG = r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d"
RFC3339NANO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"


def _events_section(text: str) -> list[list[str]]:
    body = text.split("\nEvents:\n", 1)[1]
    return [row for row in table("\n".join(line.strip() for line in body.splitlines()))
            if row[0] not in ("Type", "----")]


def test_describe_pod_shows_scheduler_and_kubelet_events(skubectl: Kubectl, stream_server: LabServer) -> None:
    lab = stream_server.lab
    pod = lab.store.get("Pod", "default", "tiefighter")
    node, image = pod["spec"]["nodeName"], pod["spec"]["containers"][0]["image"]
    rows = _events_section(skubectl.ok("describe", "pod", "tiefighter"))
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("Normal", "Scheduled", "default-scheduler", f"Successfully assigned default/tiefighter to {node}"),
        ("Normal", "Pulled", "kubelet", f'Container image "{image}" already present on machine'),
        ("Normal", "Created", "kubelet", "Created container: spaceship"),
        ("Normal", "Started", "kubelet", "Started container spaceship"),
    ]
    assert all(re.fullmatch(r"\d+[sm]", r[2]) for r in rows)  # the Age column


def test_describe_deployment_and_get_events_follow_a_scale(skubectl: Kubectl, stream_server: LabServer) -> None:
    lab = stream_server.lab
    skubectl.ok("apply", "-f", "-", stdin=NGINX)
    try:
        skubectl.ok("scale", "deploy/evdemo", "--replicas=2")
        before = {p["metadata"]["name"] for p in lab.store.list("Pod", "default")
                  if p["metadata"]["name"].startswith("evdemo-")}
        skubectl.ok("scale", "deploy/evdemo", "--replicas=1")
        rs = next(r["metadata"]["name"] for r in lab.store.list("ReplicaSet", "default")
                  if r["metadata"]["name"].startswith("evdemo-"))
        left = {p["metadata"]["name"] for p in lab.store.list("Pod", "default")
                if p["metadata"]["name"].startswith("evdemo-")}
        (deleted,) = before - left
        rows = _events_section(skubectl.ok("describe", "deploy", "evdemo"))
        assert [(r[1], r[3], r[4]) for r in rows] == [
            ("ScalingReplicaSet", "deployment-controller", f"Scaled up replica set {rs} from 0 to 1"),
            ("ScalingReplicaSet", "deployment-controller", f"Scaled up replica set {rs} from 1 to 2"),
            ("ScalingReplicaSet", "deployment-controller", f"Scaled down replica set {rs} from 2 to 1"),
        ]
        out = skubectl.ok("get", "events", "--field-selector", f"involvedObject.kind=ReplicaSet,involvedObject.name={rs}")
        lines = table(out)
        assert lines[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        got = sorted((r[2], r[3], r[4]) for r in lines[1:])
        assert got == sorted([*(("SuccessfulCreate", f"replicaset/{rs}", f"Created pod: {p}") for p in before),
                              ("SuccessfulDelete", f"replicaset/{rs}", f"Deleted pod: {deleted}")])
        # one pod's events only, as `describe` asks for them
        (pod,) = left
        out = skubectl.ok("get", "events", "-o", "name", "--field-selector", f"involvedObject.name={pod}")
        assert len(out.split()) == 4 and all(n.startswith(f"event/{pod}.") for n in out.split())
    finally:
        skubectl.ok("delete", "deploy", "evdemo")


def test_event_recorder_counts_repeats_and_caps_each_namespace(monkeypatch) -> None:
    from ciliumlab import Lab

    lab = Lab()
    rec = events_mod.EventRecorder(lab.store, lab.clock)
    node = lab.store.get("Node", None, "k8s-w1")
    pod = lab.store.list("Pod", "kube-system")[0]
    first = rec.record(pod, "BackOff", "Back-off restarting failed container", component="kubelet", type="Warning")
    lab.clock.advance(30)
    again = rec.record(pod, "BackOff", "Back-off restarting failed container", component="kubelet", type="Warning")
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert (again["count"], again["firstTimestamp"] < again["lastTimestamp"]) == (2, True)
    ev = rec.record(node, "NodeReady", "Node k8s-w1 status is now: NodeReady", component="kubelet", host="k8s-w1")
    assert ev["metadata"]["namespace"] == "default" and "namespace" not in ev["involvedObject"]
    monkeypatch.setattr(events_mod, "MAX_PER_NAMESPACE", 5)
    for i in range(12):
        rec.record(pod, "Unhealthy", f"Readiness probe failed {i}", component="kubelet", type="Warning")
    kept = sorted((e["message"] for e in lab.store.list("Event", "kube-system")), key=lambda m: int(m.split()[-1]))
    assert kept == [f"Readiness probe failed {i}" for i in range(7, 12)]


def test_a_fresh_lab_has_no_bootstrap_events() -> None:
    from ciliumlab import Lab

    assert Lab().store.list("Event") == []


# -- logs -------------------------------------------------------------------------------------
def test_logs_of_a_deployment_is_its_first_pods_log(skubectl: Kubectl) -> None:
    res = skubectl("logs", "deploy/deathstar")
    assert res.rc == 0, res.err
    assert re.fullmatch(rf"{GO_LOG} Serving deathstar at http://\[::\]:80\n", res.out)
    assert re.fullmatch(r"Found 2 pods, using pod/deathstar-\S+\n", res.err)


def test_nginx_logs_one_access_line_per_request(skubectl: Kubectl, stream_server: LabServer) -> None:
    lab = stream_server.lab
    skubectl.ok("apply", "-f", "-", stdin=NGINX)
    try:
        (pod,) = [p for p in lab.store.list("Pod", "default") if p["metadata"]["name"].startswith("evdemo-")]
        ip = pod["status"]["podIP"]
        client_ip = lab.store.get("Pod", "default", "curl-pod")["status"]["podIP"]
        skubectl.ok("exec", "curl-pod", "--", "sh", "-c", f"curl -s -o /dev/null {ip}/; curl -s -o /dev/null {ip}/nope")
        out = skubectl.ok("logs", pod["metadata"]["name"])
        lines = out.splitlines()
        assert lines[0] == "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
        assert any(line.endswith("[notice] 1#1: nginx/1.27.5") for line in lines)
        stamp = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\]"
        assert re.fullmatch(rf'{re.escape(client_ip)} - - {stamp} "GET / HTTP/1.1" 200 615 "-" "{USER_AGENT}" "-"',
                            lines[-2])
        assert re.fullmatch(rf'{re.escape(client_ip)} - - {stamp} "GET /nope HTTP/1.1" 404 153 "-" "{USER_AGENT}" "-"',
                            lines[-1])
        tail = skubectl.ok("logs", pod["metadata"]["name"], "--tail=1", "--timestamps")
        assert re.fullmatch(rf"{RFC3339NANO} {re.escape(lines[-1])}\n", tail)
    finally:
        skubectl.ok("delete", "deploy", "evdemo")


def test_logs_of_the_cilium_agent(skubectl: Kubectl, stream_server: LabServer) -> None:
    lab = stream_server.lab
    res = skubectl("logs", "-n", "kube-system", "ds/cilium")
    assert res.rc == 0, res.err
    pod_name = re.fullmatch(r"Found 3 pods, using pod/(\S+)\n", res.err).group(1)
    node = lab.store.get("Pod", "kube-system", pod_name)["spec"]["nodeName"]
    lines = res.out.splitlines()
    logrus = re.compile(r'time="(\S+)" level=info msg="(.*?)"(?: \S+=\S+)* subsys=\S+')
    assert all(logrus.fullmatch(line) for line in lines), lines
    assert any(f'msg="Cilium {lab.cluster_config.cilium_version} ' in line for line in lines)
    stamps = [logrus.fullmatch(line).group(1) for line in lines]
    assert stamps == sorted(stamps)
    on_node = {f"{r.namespace}/{r.pod_name}" for r in lab.cilium.endpoints.values() if r.node == node}
    logged = set(re.findall(r"ciliumEndpointName=(\S+)", res.out))
    assert on_node and logged == on_node
    assert skubectl("logs", "-n", "kube-system", "ds/cilium", "-c", "config").out == ""


def test_logs_container_errors_are_kubectls(skubectl: Kubectl) -> None:
    res = skubectl("logs", "deploy/deathstar", "-c", "nope")
    assert res.rc == 1
    assert "container nope is not valid for pod deathstar-" in res.err
