"""Kubernetes SD label sets (Prometheus 2.42) from the lab's real objects."""

from __future__ import annotations

from ciliumlab.monitoring import k8s_sd
from ciliumlab.monitoring.k8s_sd import ADDRESS, META, discover, file_sd_groups, sanitize

from .conftest import NODE_IPS, agent_pods


def by_address(targets):
    out = {}
    for t in targets:
        out.setdefault(t[ADDRESS], []).append(t)
    return out


def test_sanitize_is_strutil_sanitize_label_name():
    assert sanitize("app.kubernetes.io/name") == "app_kubernetes_io_name"
    assert sanitize("k8s-app") == "k8s_app"
    assert sanitize("prometheus.io/scrape") == "prometheus_io_scrape"
    assert sanitize("ok_Name9") == "ok_Name9"


def test_pod_role_one_target_per_container_port(mlab, objects):
    pod = agent_pods(mlab)["k8s-w1"]
    targets = k8s_sd.pod_targets(pod)
    ip = NODE_IPS["k8s-w1"]
    addrs = by_address(targets)
    for port in ("4244", "9962", "9965"):
        assert f"{ip}:{port}" in addrs
    t = addrs[f"{ip}:9962"][0]
    name = pod["metadata"]["name"]
    assert t[f"{META}namespace"] == "kube-system"
    assert t[f"{META}pod_name"] == name
    assert t[f"{META}pod_ip"] == ip
    assert t[f"{META}pod_host_ip"] == ip
    assert t[f"{META}pod_node_name"] == "k8s-w1"
    assert t[f"{META}pod_ready"] == "true"
    assert t[f"{META}pod_phase"] == "Running"
    assert t[f"{META}pod_uid"] == pod["metadata"]["uid"]
    assert t[f"{META}pod_controller_kind"] == "DaemonSet"
    assert t[f"{META}pod_controller_name"] == "cilium"
    assert t[f"{META}pod_label_k8s_app"] == "cilium"
    assert t[f"{META}pod_labelpresent_k8s_app"] == "true"
    assert t[f"{META}pod_label_app_kubernetes_io_name"] == "cilium-agent"
    assert t[f"{META}pod_annotation_prometheus_io_scrape"] == "true"
    assert t[f"{META}pod_annotationpresent_prometheus_io_port"] == "true"
    assert t[f"{META}pod_annotation_prometheus_io_port"] == "9962"
    assert t[f"{META}pod_container_name"] == "cilium-agent"
    assert t[f"{META}pod_container_port_name"] == "prometheus"
    assert t[f"{META}pod_container_port_number"] == "9962"
    assert t[f"{META}pod_container_port_protocol"] == "TCP"
    assert t[f"{META}pod_container_init"] == "false"
    assert t[f"{META}pod_container_image"].startswith("quay.io/cilium/cilium:")
    status = next(s for s in pod["status"]["containerStatuses"] if s["name"] == "cilium-agent")
    assert t[f"{META}pod_container_id"] == status["containerID"]
    # init containers have no ports: one port-less target each, marked init
    inits = [x for x in targets if x[f"{META}pod_container_init"] == "true"]
    assert len(inits) == len(pod["spec"]["initContainers"])
    assert all(x[ADDRESS] == ip and f"{META}pod_container_port_number" not in x for x in inits)


def test_pod_role_pod_without_ip_has_no_targets():
    pod = {"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "c"}]},
           "status": {"phase": "Pending"}}
    assert k8s_sd.pod_targets(pod) == []


def test_endpoints_role_service_pod_and_container_labels(mlab, objects):
    targets = [t for t in discover({"role": "endpoints"}, objects)
               if t[f"{META}endpoints_name"] == "hubble-metrics"]
    addrs = by_address(targets)
    pods = agent_pods(mlab)
    for node, ip in NODE_IPS.items():
        (t,) = addrs[f"{ip}:9965"]
        assert t[f"{META}namespace"] == "kube-system"
        assert t[f"{META}service_name"] == "hubble-metrics"
        assert t[f"{META}service_annotation_prometheus_io_scrape"] == "true"
        assert t[f"{META}service_annotationpresent_prometheus_io_scrape"] == "true"
        assert t[f"{META}service_annotation_prometheus_io_port"] == "9965"
        assert t[f"{META}service_label_k8s_app"] == "hubble"
        assert t[f"{META}endpoints_label_k8s_app"] == "hubble"
        assert t[f"{META}endpoints_labelpresent_service_kubernetes_io_headless"] == "true"
        assert t[f"{META}endpoint_port_name"] == "hubble-metrics"
        assert t[f"{META}endpoint_port_protocol"] == "TCP"
        assert t[f"{META}endpoint_ready"] == "true"
        assert t[f"{META}endpoint_node_name"] == node
        assert t[f"{META}endpoint_address_target_kind"] == "Pod"
        assert t[f"{META}endpoint_address_target_name"] == pods[node]["metadata"]["name"]
        assert t[f"{META}pod_name"] == pods[node]["metadata"]["name"]
        assert t[f"{META}pod_label_k8s_app"] == "cilium"
        assert t[f"{META}pod_container_name"] == "cilium-agent"
        assert t[f"{META}pod_container_port_name"] == "hubble-metrics"
        assert t[f"{META}pod_container_port_number"] == "9965"
        assert t[f"{META}pod_container_image"].startswith("quay.io/cilium/cilium:")
        # the pod's other container ports get targets of their own, without endpoint labels
        (other,) = addrs[f"{ip}:9962"]
        assert f"{META}endpoint_port_name" not in other
        assert other[f"{META}pod_container_port_name"] == "prometheus"
        assert other[f"{META}service_name"] == "hubble-metrics"


def test_endpoints_role_non_pod_address(objects):
    targets = [t for t in discover({"role": "endpoints", "namespaces": {"names": ["default"]}}, objects)]
    (t,) = [t for t in targets if t[f"{META}endpoints_name"] == "kubernetes"]
    assert t[ADDRESS] == "192.168.10.100:6443"
    assert t[f"{META}endpoint_port_name"] == "https"
    assert not any(k.startswith(f"{META}pod_") for k in t)


def test_endpoints_not_ready_addresses():
    eps = {"metadata": {"name": "x", "namespace": "n"},
           "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "notReadyAddresses": [{"ip": "10.0.0.2"}],
                        "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}]}
    targets = k8s_sd.endpoints_targets(eps, {}, {})
    assert {t[ADDRESS]: t[f"{META}endpoint_ready"] for t in targets} == {"10.0.0.1:80": "true", "10.0.0.2:80": "false"}


def test_service_role(objects):
    targets = [t for t in discover({"role": "service"}, objects) if t[f"{META}service_name"] == "kube-dns"]
    assert sorted(t[ADDRESS] for t in targets) == ["kube-dns.kube-system.svc:53", "kube-dns.kube-system.svc:53",
                                                    "kube-dns.kube-system.svc:9153"]
    t = next(t for t in targets if t[f"{META}service_port_name"] == "metrics")
    assert t[f"{META}service_port_number"] == "9153"
    assert t[f"{META}service_port_protocol"] == "TCP"
    assert t[f"{META}service_cluster_ip"] == "10.96.0.10"
    assert t[f"{META}service_type"] == "ClusterIP"
    assert t[f"{META}namespace"] == "kube-system"
    assert t[f"{META}service_annotation_prometheus_io_port"] == "9153"
    assert t[f"{META}service_label_kubernetes_io_name"] == "CoreDNS"
    ui = next(t for t in discover({"role": "service"}, objects) if t[f"{META}service_name"] == "hubble-ui")
    assert ui[f"{META}service_type"] == "NodePort"
    headless = next(t for t in discover({"role": "service"}, objects) if t[f"{META}service_name"] == "cilium-agent")
    assert headless[f"{META}service_cluster_ip"] == "None"


def test_service_role_external_name():
    svc = {"metadata": {"name": "ext", "namespace": "default"},
           "spec": {"type": "ExternalName", "externalName": "example.com", "ports": [{"port": 443, "protocol": "TCP"}]}}
    (t,) = k8s_sd.service_targets(svc)
    assert t[f"{META}service_external_name"] == "example.com"
    assert f"{META}service_cluster_ip" not in t


def test_node_role(mlab, objects):
    targets = {t["instance"]: t for t in discover({"role": "node"}, objects)}
    assert set(targets) == set(NODE_IPS)
    t = targets["k8s-w2"]
    assert t[ADDRESS] == "192.168.10.102:10250"
    assert t[f"{META}node_name"] == "k8s-w2"
    assert t[f"{META}node_provider_id"] == ""
    assert t[f"{META}node_address_InternalIP"] == "192.168.10.102"
    assert t[f"{META}node_address_Hostname"] == "k8s-w2"
    assert t[f"{META}node_label_kubernetes_io_hostname"] == "k8s-w2"
    assert t[f"{META}node_labelpresent_kubernetes_io_os"] == "true"
    assert t[f"{META}node_annotation_node_alpha_kubernetes_io_ttl"] == "0"
    assert t[f"{META}node_annotationpresent_node_alpha_kubernetes_io_ttl"] == "true"
    assert f"{META}namespace" not in t
    assert targets["k8s-ctr"][f"{META}node_labelpresent_node_role_kubernetes_io_control_plane"] == "true"


def test_namespaces_selectors_and_attach_metadata(objects):
    sd = {"role": "pod", "namespaces": {"names": ["kube-system"]},
          "selectors": [{"role": "pod", "label": "k8s-app=cilium", "field": "spec.nodeName=k8s-w1"}],
          "attach_metadata": {"node": True}}
    targets = discover(sd, objects)
    assert targets and {t[f"{META}pod_node_name"] for t in targets} == {"k8s-w1"}
    assert {t[f"{META}pod_label_k8s_app"] for t in targets} == {"cilium"}
    assert all(t[f"{META}node_name"] == "k8s-w1" and t[f"{META}node_label_kubernetes_io_hostname"] == "k8s-w1"
               for t in targets)
    own = discover({"role": "pod", "namespaces": {"own_namespace": True}}, objects, own_namespace="cilium-monitoring")
    assert {t[f"{META}namespace"] for t in own} == {"cilium-monitoring"}


def test_unsupported_role_is_an_error(objects):
    try:
        discover({"role": "ingress"}, objects)
    except ValueError as exc:
        assert "ingress" in str(exc)
    else:
        raise AssertionError("ingress role accepted")


def test_file_sd_groups_shape():
    groups = file_sd_groups([{ADDRESS: "1.2.3.4:80", "__meta_kubernetes_namespace": "x"}])
    assert groups == [{"targets": ["1.2.3.4:80"], "labels": {"__meta_kubernetes_namespace": "x"}}]
