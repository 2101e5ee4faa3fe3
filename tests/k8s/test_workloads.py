import copy
import re

SAFE = "[bcdfghjklmnpqrstvwxz2456789]"


def _deploy(name, replicas=2, labels=None, spec_extra=None, image="nginx"):
    labels = labels or {"app": name}
    spec = {"containers": [{"name": name, "image": image, "ports": [{"containerPort": 80, "name": "http"}]}]}
    spec.update(spec_extra or {})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": spec}}}


def _scale(lab, name, replicas):
    d = copy.deepcopy(lab.store.get("Deployment", "default", name))
    d["spec"]["replicas"] = replicas
    lab.store.update(d)
    lab.settle()


def test_http_sw_app(lab):
    lab.apply_file("http-sw-app.yaml")
    pods = lab.pods(org="empire", **{"class": "deathstar"})
    assert len(pods) == 2
    rs = lab.store.list("ReplicaSet", "default")
    assert len(rs) == 1
    h = rs[0]["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(f"{SAFE}{{8,10}}", h)
    assert rs[0]["metadata"]["name"] == f"deathstar-{h}"
    for p in pods:
        assert re.fullmatch(f"deathstar-{h}-{SAFE}{{5}}", p["metadata"]["name"])
        assert p["metadata"]["labels"]["pod-template-hash"] == h
        assert p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert p["status"]["phase"] == "Running"
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["k8s-w1", "k8s-w2"]
    for name in ("tiefighter", "xwing"):
        assert lab.store.get("Pod", "default", name)["spec"]["nodeName"] in ("k8s-w1", "k8s-w2")
    d = lab.store.get("Deployment", "default", "deathstar")
    assert d["status"]["readyReplicas"] == 2 and d["status"]["updatedReplicas"] == 2
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    ep = lab.store.get("Endpoints", "default", "deathstar")
    assert sorted(a["targetRef"]["name"] for a in ep["subsets"][0]["addresses"]) == [p["metadata"]["name"] for p in pods]
    assert ep["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    svc = lab.store.get("Service", "default", "deathstar")
    assert svc["spec"]["clusterIP"].startswith("10.96.") and svc["spec"]["ports"][0]["targetPort"] == 80
    slices = [s for s in lab.store.list("EndpointSlice", "default")
              if s["metadata"]["labels"].get("kubernetes.io/service-name") == "deathstar"]
    assert len(slices) == 1
    s = slices[0]
    assert re.fullmatch(f"deathstar-{SAFE}{{5}}", s["metadata"]["name"])
    assert s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert s["addressType"] == "IPv4" and s["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]
    assert sorted(e["targetRef"]["name"] for e in s["endpoints"]) == [p["metadata"]["name"] for p in pods]
    assert all(e["conditions"] == {"ready": True, "serving": True, "terminating": False} for e in s["endpoints"])
    assert s["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]


def test_webpod_and_curl_pod(lab):
    lab.apply_file("webpod.yaml")
    lab.apply_file("curl-pod.yaml")
    web = lab.pods(app="webpod")
    assert sorted(p["spec"]["nodeName"] for p in web) == ["k8s-w1", "k8s-w2"]
    curl = lab.store.get("Pod", "default", "curl-pod")
    assert curl["spec"]["nodeName"] == "k8s-ctr" and curl["status"]["phase"] == "Running"
    assert curl["status"]["podIP"].startswith("172.20.0.")
    assert curl["status"]["hostIP"] == "192.168.10.100"
    cs = curl["status"]["containerStatuses"][0]
    assert cs["image"] == "docker.io/nicolaka/netshoot:latest"
    assert cs["imageID"].startswith("docker.io/nicolaka/netshoot@sha256:")
    assert re.fullmatch("containerd://[0-9a-f]{64}", cs["containerID"])
    assert cs["state"]["running"]["startedAt"].endswith("Z")
    types = [c["type"] for c in curl["status"]["conditions"]]
    assert types == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]


def test_required_anti_affinity_leaves_a_pod_pending(lab):
    anti = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "spread"}}, "topologyKey": "kubernetes.io/hostname"}]}}}
    lab.apply(_deploy("spread", 3, spec_extra=anti))
    pods = lab.pods(app="spread")
    bound = sorted(p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName"))
    assert bound == ["k8s-w1", "k8s-w2"]
    pending = [p for p in pods if not p["spec"].get("nodeName")]
    assert len(pending) == 1 and pending[0]["status"]["phase"] == "Pending"
    cond = pending[0]["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert cond["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling.")
    d = lab.store.get("Deployment", "default", "spread")
    assert d["status"]["availableReplicas"] == 2 and d["status"]["unavailableReplicas"] == 1


def test_pod_affinity_and_node_selector(lab):
    lab.apply(_deploy("anchor", 1))
    anchor_node = lab.pods(app="anchor")[0]["spec"]["nodeName"]
    aff = {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "anchor"}}, "topologyKey": "kubernetes.io/hostname"}]}}}
    lab.apply(_deploy("follower", 2, spec_extra=aff))
    assert {p["spec"]["nodeName"] for p in lab.pods(app="follower")} == {anchor_node}
    lab.apply(_deploy("nowhere", 1, spec_extra={"nodeSelector": {"disk": "ssd"}}))
    p = lab.pods(app="nowhere")[0]
    assert p["status"]["conditions"][0]["message"].startswith(
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
    tolerant = {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                 "effect": "NoSchedule"}],
                "nodeSelector": {"kubernetes.io/hostname": "k8s-ctr"}}
    lab.apply(_deploy("onctr", 1, spec_extra=tolerant))
    assert lab.pods(app="onctr")[0]["spec"]["nodeName"] == "k8s-ctr"


def test_scale_and_pod_deletion_keep_endpoints_current(lab):
    lab.apply_file("webpod.yaml")

    def ep_names():
        ep = lab.store.get("Endpoints", "default", "webpod")
        slices = [s for s in lab.store.list("EndpointSlice", "default")
                  if s["metadata"]["labels"]["kubernetes.io/service-name"] == "webpod"]
        assert len(slices) == 1
        from_slice = sorted(e["targetRef"]["name"] for e in slices[0]["endpoints"] or [])
        from_ep = sorted(a["targetRef"]["name"] for s in ep.get("subsets") or [] for a in s.get("addresses", []))
        assert from_slice == from_ep
        return from_ep

    assert ep_names() == [p["metadata"]["name"] for p in lab.pods(app="webpod")]
    _scale(lab, "webpod", 4)
    assert len(ep_names()) == 4 and len(lab.pods(app="webpod")) == 4
    _scale(lab, "webpod", 1)
    assert len(ep_names()) == 1
    _scale(lab, "webpod", 0)
    assert ep_names() == []
    assert "subsets" not in lab.store.get("Endpoints", "default", "webpod")
    _scale(lab, "webpod", 2)
    victim = lab.pods(app="webpod")[0]
    victim_ip = victim["status"]["podIP"]
    lab.store.delete("Pod", "default", victim["metadata"]["name"])
    assert victim_ip in lab.ipam.released
    lab.settle()
    names = ep_names()
    assert len(names) == 2 and victim["metadata"]["name"] not in names


def test_template_change_rolls_to_a_new_replicaset(lab):
    lab.apply(_deploy("web", 2))
    old_rs = lab.store.list("ReplicaSet", "default")[0]["metadata"]["name"]
    d = copy.deepcopy(lab.store.get("Deployment", "default", "web"))
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    lab.store.update(d)
    lab.settle()
    rss = {rs["metadata"]["name"]: rs for rs in lab.store.list("ReplicaSet", "default")}
    assert len(rss) == 2 and rss[old_rs]["spec"]["replicas"] == 0
    new_rs = next(n for n in rss if n != old_rs)
    assert rss[new_rs]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = lab.pods(app="web")
    assert len(pods) == 2 and all(p["metadata"]["name"].startswith(new_rs + "-") for p in pods)
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in pods)
    d = lab.store.get("Deployment", "default", "web")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"] == 2


def test_cascade_delete(lab):
    lab.apply_file("webpod.yaml")
    pod = lab.pods(app="webpod")[0]
    # An object the Cilium agent would create, owned by the pod.
    lab.store.create({"apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
                      "metadata": {"name": pod["metadata"]["name"], "namespace": "default",
                                   "ownerReferences": [{"apiVersion": "v1", "kind": "Pod",
                                                        "name": pod["metadata"]["name"],
                                                        "uid": pod["metadata"]["uid"]}]}})
    lab.store.delete("Deployment", "default", "webpod")
    lab.settle()
    assert lab.store.list("ReplicaSet", "default") == []
    assert lab.pods(app="webpod") == []
    assert lab.store.list("CiliumEndpoint", "default") == []
    assert "subsets" not in lab.store.get("Endpoints", "default", "webpod")
    lab.store.delete("Service", "default", "webpod")
    lab.settle()
    assert lab.store.get("Endpoints", "default", "webpod") is None
    assert not [s for s in lab.store.list("EndpointSlice", "default")
                if s["metadata"]["labels"].get("kubernetes.io/service-name") == "webpod"]


def test_named_target_port_and_not_ready_pods(lab):
    lab.apply(_deploy("named", 1))
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "named"},
               "spec": {"selector": {"app": "named"}, "ports": [{"name": "web", "port": 8080, "targetPort": "http"}]}})
    ep = lab.store.get("Endpoints", "default", "named")
    assert ep["subsets"][0]["ports"] == [{"name": "web", "port": 80, "protocol": "TCP"}]
    # a pod whose sandbox has no IP yet is not an endpoint
    lab.ipam.allocate = lambda node, pod: None
    lab.ctx.allocate_pod_ip = lab.ipam.allocate
    _scale(lab, "named", 2)
    pods = lab.pods(app="named")
    waiting = [p for p in pods if p["status"]["phase"] == "Pending"]
    assert len(waiting) == 1
    assert waiting[0]["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert len(lab.store.get("Endpoints", "default", "named")["subsets"][0]["addresses"]) == 1


def test_daemonset_and_statefulset(lab):
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}}
    lab.apply(ds)
    pods = lab.pods(app="agent")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["k8s-w1", "k8s-w2"]  # no toleration for k8s-ctr
    st = lab.store.get("DaemonSet", "default", "agent")["status"]
    assert st["desiredNumberScheduled"] == 2 and st["numberReady"] == 2
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"replicas": 3, "serviceName": "web", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"containers": [{"name": "db", "image": "redis"}]}}}}
    lab.apply(sts)
    pods = lab.pods(app="db")
    assert [p["metadata"]["name"] for p in pods] == ["web-0", "web-1", "web-2"]
    assert [p["metadata"]["labels"]["apps.kubernetes.io/pod-index"] for p in pods] == ["0", "1", "2"]
    assert pods[1]["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert pods[0]["spec"]["hostname"] == "web-0" and pods[0]["spec"]["subdomain"] == "web"
    assert lab.store.get("StatefulSet", "default", "web")["status"]["readyReplicas"] == 3


def test_namespace_lifecycle(lab):
    lab.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    assert lab.store.get("ServiceAccount", "team", "default") is not None
    assert lab.store.get("ConfigMap", "team", "kube-root-ca.crt") is not None
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team"},
               "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    assert lab.store.get("Pod", "team", "p")["status"]["phase"] == "Running"
    lab.store.delete("Namespace", None, "team")
    lab.settle()
    assert [o for o in lab.store if o["metadata"].get("namespace") == "team"] == []


def test_service_ip_allocation(lab):
    from ciliumlab.errors import InvalidObject

    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
               "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]}})
    svc = lab.store.get("Service", "default", "np")
    assert 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    assert svc["spec"]["clusterIPs"] == [svc["spec"]["clusterIP"]]
    try:
        lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dup"},
                   "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 53}]}})
    except InvalidObject as e:
        assert str(e) == ('The Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
                          "failed to allocate IP 10.96.0.10: provided IP is already allocated")
    else:
        raise AssertionError("duplicate clusterIP accepted")
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless"},
               "spec": {"clusterIP": "None", "selector": {"app": "x"}, "ports": [{"port": 80}]}})
    assert lab.store.get("Service", "default", "headless")["spec"]["clusterIP"] == "None"
    assert "service.kubernetes.io/headless" in lab.store.get("Endpoints", "default", "headless")["metadata"]["labels"]
