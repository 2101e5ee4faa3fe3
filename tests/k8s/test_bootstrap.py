import re

import yaml

from ciliumlab.clock import VirtualClock
from ciliumlab.k8s.bootstrap import bootstrap
from ciliumlab.k8s.controllers import ControllerContext, all_controllers, run_until_stable
from ciliumlab.k8s.store import Store
from ciliumlab.k8s.validation import validate

SAFE = "[bcdfghjklmnpqrstvwxz2456789]"


def test_nodes_look_like_kubeadm_nodes(lab):
    nodes = {n["metadata"]["name"]: n for n in lab.store.list("Node")}
    assert sorted(nodes) == ["k8s-ctr", "k8s-w1", "k8s-w2"]
    ctr = nodes["k8s-ctr"]
    assert ctr["spec"]["taints"] == [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    assert "node-role.kubernetes.io/control-plane" in ctr["metadata"]["labels"]
    assert "node.kubernetes.io/exclude-from-external-load-balancers" in ctr["metadata"]["labels"]
    assert "taints" not in nodes["k8s-w1"]["spec"]
    assert ctr["status"]["addresses"][0] == {"address": "192.168.10.100", "type": "InternalIP"}
    assert nodes["k8s-w2"]["status"]["addresses"][0]["address"] == "192.168.10.102"
    assert nodes["k8s-w1"]["spec"]["podCIDR"] == "10.244.1.0/24"
    info = ctr["status"]["nodeInfo"]
    assert (info["kubeletVersion"], info["containerRuntimeVersion"], info["osImage"], info["kernelVersion"]) == (
        "v1.33.2", "containerd://1.7.27", "Ubuntu 24.04.2 LTS", "6.8.0-53-generic")
    ready = [c for c in ctr["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    assert ctr["metadata"]["labels"]["kubernetes.io/hostname"] == "k8s-ctr"


def test_namespaces_and_per_namespace_objects(lab):
    names = sorted(n["metadata"]["name"] for n in lab.store.list("Namespace"))
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    for ns in names:
        obj = lab.store.get("Namespace", None, ns)
        assert obj["metadata"]["labels"]["kubernetes.io/metadata.name"] == ns
        assert obj["status"]["phase"] == "Active"
        assert lab.store.get("ServiceAccount", ns, "default") is not None
        assert "ca.crt" in lab.store.get("ConfigMap", ns, "kube-root-ca.crt")["data"]


def test_kube_system_pods_running_on_the_right_nodes(lab):
    pods = lab.pods("kube-system")
    assert pods and all(p["status"]["phase"] == "Running" for p in pods)
    assert all(all(cs["ready"] for cs in p["status"]["containerStatuses"]) for p in pods)
    by_app: dict[str, list[dict]] = {}
    for p in pods:
        by_app.setdefault(p["metadata"]["labels"].get("k8s-app") or p["metadata"]["labels"].get("component")
                          or p["metadata"]["labels"].get("io.cilium/app"), []).append(p)
    node_ip = {"k8s-ctr": "192.168.10.100", "k8s-w1": "192.168.10.101", "k8s-w2": "192.168.10.102"}
    for app in ("cilium", "cilium-envoy"):
        assert sorted(p["spec"]["nodeName"] for p in by_app[app]) == ["k8s-ctr", "k8s-w1", "k8s-w2"]
        for p in by_app[app]:
            assert re.fullmatch(f"{app}-{SAFE}{{5}}", p["metadata"]["name"])
            assert p["status"]["podIP"] == node_ip[p["spec"]["nodeName"]]
            assert "controller-revision-hash" in p["metadata"]["labels"]
    # coredns and the operator were scheduled while k8s-ctr was the only node
    assert [p["spec"]["nodeName"] for p in by_app["kube-dns"]] == ["k8s-ctr", "k8s-ctr"]
    for p in by_app["kube-dns"]:
        assert re.fullmatch(f"coredns-{SAFE}{{8,10}}-{SAFE}{{5}}", p["metadata"]["name"])
        assert p["status"]["podIP"].startswith("172.20.0.")
        assert p["status"]["qosClass"] == "Burstable"
    assert by_app["operator"][0]["spec"]["nodeName"] == "k8s-ctr"
    for app in ("hubble-relay", "hubble-ui"):
        assert by_app[app][0]["spec"]["nodeName"] in ("k8s-w1", "k8s-w2")
    statics = {p["metadata"]["name"]: p for p in pods if p["metadata"]["labels"].get("tier") == "control-plane"}
    assert sorted(statics) == ["etcd-k8s-ctr", "kube-apiserver-k8s-ctr", "kube-controller-manager-k8s-ctr",
                               "kube-scheduler-k8s-ctr"]
    node_uid = lab.store.get("Node", None, "k8s-ctr")["metadata"]["uid"]
    for p in statics.values():
        assert p["spec"]["nodeName"] == "k8s-ctr" and p["spec"]["hostNetwork"] is True
        assert p["metadata"]["ownerReferences"][0]["uid"] == node_uid
        assert p["status"]["podIP"] == "192.168.10.100"
    assert not [p for p in pods if "kube-proxy" in p["metadata"]["name"]]
    assert lab.store.get("ConfigMap", "kube-system", "kube-proxy") is None


def test_daemonset_and_deployment_status(lab):
    ds = lab.store.get("DaemonSet", "kube-system", "cilium")
    st = ds["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"], st["numberAvailable"],
            st["updatedNumberScheduled"], st["numberMisscheduled"]) == (3, 3, 3, 3, 3, 0)
    d = lab.store.get("Deployment", "kube-system", "coredns")
    assert d["status"]["readyReplicas"] == 2 and d["status"]["availableReplicas"] == 2
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    rs_name = lab.pods("kube-system", **{"k8s-app": "kube-dns"})[0]["metadata"]["name"].rsplit("-", 1)[0]
    assert conds["Progressing"]["message"] == f'ReplicaSet "{rs_name}" has successfully progressed.'


def test_services_and_kubernetes_endpoints(lab):
    kube_dns = lab.store.get("Service", "kube-system", "kube-dns")
    assert kube_dns["spec"]["clusterIP"] == "10.96.0.10"
    assert [(p["name"], p["port"], p["protocol"]) for p in kube_dns["spec"]["ports"]] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    k = lab.store.get("Service", "default", "kubernetes")
    assert k["spec"]["clusterIP"] == "10.96.0.1" and k["spec"]["ports"][0]["port"] == 443
    ep = lab.store.get("Endpoints", "default", "kubernetes")
    assert ep["subsets"] == [{"addresses": [{"ip": "192.168.10.100"}],
                              "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
    peer = lab.store.get("Service", "kube-system", "hubble-peer")
    assert peer["spec"]["internalTrafficPolicy"] == "Local"
    assert peer["spec"]["ports"][0]["targetPort"] == 4244
    peer_ep = lab.store.get("Endpoints", "kube-system", "hubble-peer")
    assert [a["ip"] for a in peer_ep["subsets"][0]["addresses"]] == ["192.168.10.100", "192.168.10.101",
                                                                      "192.168.10.102"]
    ui = lab.store.get("Service", "kube-system", "hubble-ui")
    assert ui["spec"]["type"] == "NodePort" and ui["spec"]["ports"][0]["nodePort"] == 31234
    relay_ep = lab.store.get("Endpoints", "kube-system", "hubble-relay")
    assert relay_ep["subsets"][0]["ports"] == [{"port": 4245, "protocol": "TCP"}]
    ips = [s["spec"]["clusterIP"] for s in lab.store.list("Service") if s["spec"]["clusterIP"] != "None"]
    assert len(ips) == len(set(ips))


def test_configmaps(lab):
    cfg = lab.store.get("ConfigMap", "kube-system", "cilium-config")["data"]
    expect = {"kube-proxy-replacement": "true", "enable-policy": "default", "enable-hubble": "true",
              "hubble-listen-address": ":4244", "cluster-name": "default", "cluster-pool-ipv4-cidr": "172.20.0.0/16",
              "cluster-pool-ipv4-mask-size": "24", "ipam": "cluster-pool", "enable-l7-proxy": "true",
              "hubble-metrics-server": ":9965", "enable-hubble-open-metrics": "true"}
    assert {k: cfg[k] for k in expect} == expect
    assert cfg["hubble-metrics"].startswith("dns drop tcp flow port-distribution icmp httpV2:exemplars=true;")
    assert all(isinstance(v, str) for v in cfg.values())
    kubeadm = yaml.safe_load(lab.store.get("ConfigMap", "kube-system", "kubeadm-config")["data"]["ClusterConfiguration"])
    assert kubeadm["kubernetesVersion"] == "v1.33.2"
    assert kubeadm["networking"]["serviceSubnet"] == "10.96.0.0/16"
    kubelet = yaml.safe_load(lab.store.get("ConfigMap", "kube-system", "kubelet-config")["data"]["kubelet"])
    assert kubelet["clusterDNS"] == ["10.96.0.10"] and kubelet["cgroupDriver"] == "systemd"
    assert "kubernetes cluster.local" in lab.store.get("ConfigMap", "kube-system", "coredns")["data"]["Corefile"]
    for sa in ("cilium", "cilium-envoy", "cilium-operator", "coredns", "hubble-relay", "hubble-ui", "default"):
        assert lab.store.get("ServiceAccount", "kube-system", sa) is not None


def test_cilium_config_overrides():
    from ciliumlab.k8s.bootstrap import default_cluster_config

    store = Store(VirtualClock())
    cfg = default_cluster_config()
    cfg.cilium_config = {"routing-mode": "tunnel", "policy-audit-mode": "true"}
    bootstrap(store, cfg)
    data = store.get("ConfigMap", "kube-system", "cilium-config")["data"]
    assert data["routing-mode"] == "tunnel" and data["policy-audit-mode"] == "true"


def test_bootstrapped_objects_pass_validation(lab):
    bad = [(o["kind"], o["metadata"]["name"], [str(e) for e in validate(o)]) for o in lab.store if validate(o)]
    assert bad == []


def test_fresh_labs_are_reproducible():
    def names():
        clock = VirtualClock()
        store = Store(clock)
        bootstrap(store)
        run_until_stable(store, all_controllers(store, ControllerContext(clock=clock)))
        return sorted((p["metadata"]["name"], p["spec"]["nodeName"]) for p in store.list("Pod"))

    assert names() == names()


def test_controllers_reach_a_fixpoint(lab):
    before = lab.store.resource_version
    for c in lab.controllers:
        c.sync()
    assert lab.store.resource_version == before
