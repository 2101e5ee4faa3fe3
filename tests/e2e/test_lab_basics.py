"""The lab as a user first meets it: the cluster, the webpod/curl-pod metrics test, bad input."""

from __future__ import annotations

import pytest

from ciliumlab import InvalidObject, Lab, NotFound
from tests.conftest import shared_fixture


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def test_cluster_nodes_and_pod_cidrs(lab: Lab) -> None:
    nodes = {n["metadata"]["name"]: n for n in lab.list("nodes")}
    assert sorted(nodes) == ["k8s-ctr", "k8s-w1", "k8s-w2"]
    ips = {name: next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP")
           for name, n in nodes.items()}
    assert ips == {"k8s-ctr": "192.168.10.100", "k8s-w1": "192.168.10.101", "k8s-w2": "192.168.10.102"}
    taints = nodes["k8s-ctr"]["spec"].get("taints") or []
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in taints
    cidrs = {cn["metadata"]["name"]: cn["spec"]["ipam"]["podCIDRs"] for cn in lab.list("ciliumnodes")}
    assert cidrs == {"k8s-ctr": ["172.20.0.0/24"], "k8s-w1": ["172.20.1.0/24"], "k8s-w2": ["172.20.2.0/24"]}


def test_kube_system_as_a_real_lab_shows_it(lab: Lab) -> None:
    pods = lab.list("pods", "kube-system")
    by_app: dict[str, list[dict]] = {}
    for p in pods:
        assert p["status"]["phase"] == "Running", p["metadata"]["name"]
        by_app.setdefault((p["metadata"].get("labels") or {}).get("k8s-app", p["metadata"]["name"]), []).append(p)
    cilium = by_app["cilium"]
    assert sorted(p["spec"]["nodeName"] for p in cilium) == ["k8s-ctr", "k8s-w1", "k8s-w2"]
    assert all(p["status"]["podIP"].startswith("192.168.10.") for p in cilium)
    assert len(by_app["cilium-envoy"]) == 3 and len(by_app["kube-dns"]) == 2
    assert lab.get("svc", "kube-dns", "kube-system")["spec"]["clusterIP"] == "10.96.0.10"
    assert lab.get("svc", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"
    for name in ("cilium-config", "kubeadm-config", "kubelet-config", "coredns"):
        assert lab.get("cm", name, "kube-system")["data"]


def test_kinds_by_any_name(lab: Lab) -> None:
    assert lab.list("po", "kube-system") == lab.list("pods", "kube-system") == lab.list("Pod", "kube-system")
    assert lab.list("cep") == lab.list("ciliumendpoints") == lab.list("CiliumEndpoint")


def test_webpod_and_curl_pod() -> None:
    lab = Lab()
    lab.apply(shared_fixture("seed", "webpod.yaml"))
    lab.apply(shared_fixture("seed", "curl-pod.yaml"))
    pods = lab.list("pods", "default", label_selector="app=webpod")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["k8s-w1", "k8s-w2"]
    assert lab.get("pod", "curl-pod")["spec"]["nodeName"] == "k8s-ctr"
    hostnames = set()
    for _ in range(20):
        r = lab.exec("curl-pod", "curl -s webpod | grep Hostname")
        assert r.exit_code == 0
        hostnames.add(r.stdout.strip())
    assert hostnames == {f"Hostname: {p['metadata']['name']}" for p in pods}
    r = lab.exec("curl-pod", "sh -c 'while true; do curl -s webpod | grep Hostname; sleep 1; done'", timeout=10)
    lines = r.stdout.splitlines()
    assert 8 <= len(lines) <= 11 and all(line.startswith("Hostname: webpod-") for line in lines)
    slices = lab.list("endpointslices", "default", label_selector="kubernetes.io/service-name=webpod")
    assert sorted(a for s in slices for e in s["endpoints"] for a in e["addresses"]) == sorted(
        p["status"]["podIP"] for p in pods)


# -- bad input --------------------------------------------------------------------------------------
def state(lab: Lab) -> list:
    return sorted((o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"],
                   o["metadata"]["resourceVersion"]) for o in lab.store)


def test_malformed_yaml_applies_nothing() -> None:
    lab = Lab()
    before = state(lab)
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\nspec:\n  containers:\n  - name: a\n    image: nginx\n---\nkind: [oops\n"
    with pytest.raises(InvalidObject) as err:
        lab.apply(text)
    assert "yaml" in str(err.value)
    assert state(lab) == before


def test_invalid_core_object_rejected_others_applied() -> None:
    lab = Lab()
    text = """
apiVersion: v1
kind: Pod
metadata: {name: good}
spec: {containers: [{name: a, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec: {}
"""
    with pytest.raises(InvalidObject) as err:
        lab.apply(text)
    assert 'The Pod "bad" is invalid' in str(err.value)
    assert "spec.containers: Required value" in str(err.value)
    assert err.value.results == ["pod/good created"]
    with pytest.raises(NotFound):
        lab.get("pod", "bad")


def test_unknown_pod_and_unknown_kind() -> None:
    lab = Lab()
    before = state(lab)
    with pytest.raises(NotFound) as err:
        lab.exec("nope", "echo hi")
    assert str(err.value) == 'Error from server (NotFound): pods "nope" not found'
    with pytest.raises(InvalidObject) as err2:
        lab.list("frobnicators")
    assert 'the server doesn\'t have a resource type "frobnicators"' in str(err2.value)
    assert state(lab) == before


def test_unknown_kinds_are_stored_as_they_are() -> None:
    lab = Lab()
    lab.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}})
    lines = lab.apply(shared_fixture("seed", "servicemonitor.yaml"))
    assert lines and lines[0].endswith(" created")
    assert lab.apply(shared_fixture("seed", "servicemonitor.yaml"))[0].endswith(" unchanged")


def test_apply_twice_is_unchanged(sw_app) -> None:
    lab = Lab()
    lab.apply(sw_app)
    assert lab.apply(sw_app) == ["service/deathstar unchanged", "deployment.apps/deathstar unchanged",
                                 "pod/tiefighter unchanged", "pod/xwing unchanged"]


def test_identity_is_stable_for_same_labels(sw_app) -> None:
    a, b = Lab(), Lab()
    a.apply(sw_app)
    b.apply(sw_app)
    ids = lambda lab: {c["metadata"]["name"]: c["status"]["identity"]["id"] for c in lab.list("cep", "default")}  # noqa: E731
    assert ids(a)["xwing"] == ids(b)["xwing"]
    assert 256 <= ids(a)["xwing"] <= 65535
    deathstars = [v for k, v in ids(a).items() if k.startswith("deathstar-")]
    assert len(set(deathstars)) == 1
