"""Context options on real-looking flows: every identifier, first-non-empty fallback, the
per-direction overrides, labelsContext values, and pod clean-up."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.metrics import HubbleMetrics

from .flows import (
    APISERVER,
    COREDNS,
    DEATHSTAR,
    HOST,
    TIEFIGHTER,
    WORLD,
    XWING,
    drop,
    endpoint,
    labelsets,
    trace,
)


def drop_labels(spec_opts: str, flow: dict) -> dict[str, str]:
    m = HubbleMetrics.from_config("drop:" + spec_opts)
    m.process(flow)
    (labels,) = labelsets(m, "hubble_drop_total")
    return labels


@pytest.mark.parametrize("ident, src, dst", [
    ("identity", "k8s:app.kubernetes.io/name=xwing,k8s:class=xwing,k8s:io.kubernetes.pod.namespace=default,"
                 "k8s:org=alliance",
     "k8s:app.kubernetes.io/name=deathstar,k8s:class=deathstar,k8s:io.kubernetes.pod.namespace=default,"
     "k8s:org=empire"),
    ("namespace", "default", "default"),
    ("pod", "default/xwing", "default/deathstar-d584d84bb-j2tzj"),
    ("pod-name", "xwing", "deathstar-d584d84bb-j2tzj"),
    ("pod-short", "default/xwing", "default/deathstar"),
    ("dns", "", "deathstar.default.svc.cluster.local"),
    ("ip", "172.20.2.45", "172.20.1.37"),
    ("reserved-identity", "", ""),
    ("workload-name", "", "deathstar"),
    ("workload", "", "default/deathstar"),
    ("app", "xwing", "deathstar"),
])
def test_identifiers(ident, src, dst):
    flow = drop(destination_names=["deathstar.default.svc.cluster.local"])
    labels = drop_labels(f"sourceContext={ident};destinationContext={ident}", flow)
    assert (labels["source"], labels["destination"]) == (src, dst)


def test_first_non_empty_identifier_wins():
    opts = "sourceContext=workload-name|reserved-identity|pod;destinationContext=dns|pod|ip"
    # to the world: no pod, no DNS name -> falls through to the IP
    labels = drop_labels(opts, drop(src=DEATHSTAR, dst=WORLD, reason="POLICY_DENIED"))
    assert labels["source"] == "deathstar"
    assert labels["destination"] == "172.20.1.37"  # the flow's IP.destination
    # from the host: no workload -> reserved identity
    labels = drop_labels(opts, drop(src=HOST, dst=XWING))
    assert labels["source"] == "reserved:host"
    assert labels["destination"] == "default/xwing"
    # nothing matches: empty string, the label is still there
    labels = drop_labels("sourceContext=workload-name|dns", drop(src=XWING))
    assert labels["source"] == ""


def test_reserved_identity_prefers_kube_apiserver():
    assert drop_labels("destinationContext=reserved-identity", drop(dst=APISERVER))["destination"] == \
        "reserved:kube-apiserver"
    assert drop_labels("destinationContext=reserved-identity", drop(dst=WORLD))["destination"] == "reserved:world"


@pytest.mark.parametrize("labels, app", [
    (["k8s:app=legacy", "k8s:app.kubernetes.io/name=modern"], "legacy"),  # first matching label wins
    (["k8s:k8s-app=kube-dns", "k8s:io.kubernetes.pod.namespace=kube-system"], "kube-dns"),
    (["k8s:app=", "k8s:k8s-app=fallback"], "fallback"),  # empty value does not count
    (["k8s:application=nope", "container:app=nope"], ""),
])
def test_app_identifier(labels, app):
    ep = endpoint("default", "p", labels, 1000)
    assert drop_labels("sourceContext=app", drop(src=ep))["source"] == app


def test_direction_overrides_replace_the_identifiers_per_traffic_direction():
    opts = "sourceContext=namespace;sourceEgressContext=pod;destinationContext=namespace;destinationIngressContext=ip"
    ingress = drop_labels(opts, drop(traffic_direction="INGRESS"))
    assert (ingress["source"], ingress["destination"]) == ("default", "172.20.1.37")
    egress = drop_labels(opts, drop(traffic_direction="EGRESS"))
    assert (egress["source"], egress["destination"]) == ("default/xwing", "default")
    unknown = drop_labels(opts, drop(traffic_direction=None))
    assert (unknown["source"], unknown["destination"]) == ("default", "default")


def test_override_alone_adds_no_label():
    labels = drop_labels("sourceIngressContext=pod", drop())
    assert "source" not in labels


def test_labels_context_values():
    opts = ("labelsContext=source_ip,source_pod,source_namespace,source_workload,source_workload_kind,source_app,"
            "destination_ip,destination_pod,destination_namespace,destination_workload,destination_workload_kind,"
            "destination_app,traffic_direction")
    labels = drop_labels(opts, drop(src=XWING, dst=DEATHSTAR))
    assert labels == {
        "source_ip": "172.20.2.45", "source_pod": "xwing", "source_namespace": "default", "source_workload": "",
        "source_workload_kind": "", "source_app": "xwing",
        "destination_ip": "172.20.1.37", "destination_pod": "deathstar-d584d84bb-j2tzj",
        "destination_namespace": "default", "destination_workload": "deathstar",
        "destination_workload_kind": "Deployment", "destination_app": "deathstar",
        "traffic_direction": "ingress", "reason": "POLICY_DENIED", "protocol": "TCP",
    }


@pytest.mark.parametrize("direction, label", [("INGRESS", "ingress"), ("EGRESS", "egress"),
                                              ("TRAFFIC_DIRECTION_UNKNOWN", "unknown"), (None, "unknown")])
def test_traffic_direction_label(direction, label):
    assert drop_labels("labelsContext=traffic_direction", drop(traffic_direction=direction)) == {
        "traffic_direction": label, "reason": "POLICY_DENIED", "protocol": "TCP"}


def test_missing_endpoints_give_empty_values():
    flow = drop(src=None, dst=None, IP=None)
    labels = drop_labels("sourceContext=pod|namespace|ip;labelsContext=source_pod,destination_ip", flow)
    assert labels == {"source_pod": "", "destination_ip": "", "source": "", "reason": "POLICY_DENIED",
                      "protocol": "TCP"}


# -- pod clean-up --------------------------------------------------------------------------------
def test_delete_pod_removes_series_naming_the_pod():
    m = HubbleMetrics.from_config(
        "drop:sourceContext=pod;destinationContext=pod "
        "flow:labelsContext=source_namespace,source_pod,destination_namespace,destination_pod "
        "tcp:sourceContext=namespace "
        "icmp:labelsContext=source_pod")
    m.process(drop(src=XWING, dst=DEATHSTAR))
    m.process(drop(src=TIEFIGHTER, dst=COREDNS, l4={"UDP": {"source_port": 51680, "destination_port": 53}}))
    m.process(trace(src=XWING, dst=DEATHSTAR))
    m.process(trace(src=TIEFIGHTER, dst=DEATHSTAR))
    m.process(trace(src=XWING, dst=DEATHSTAR, l4={"ICMPv4": {"type": 8}}))

    m.delete_pod("default", "xwing")

    assert labelsets(m, "hubble_drop_total") == [
        {"source": "default/tiefighter", "destination": "kube-system/coredns-d8f5f58dd-klkkw",
         "reason": "POLICY_DENIED", "protocol": "UDP"}]
    flows = labelsets(m, "hubble_flows_processed_total")
    assert {f["source_pod"] for f in flows} == {"tiefighter"}
    # namespace context cannot name a pod: untouched
    assert labelsets(m, "hubble_tcp_flags_total") == [{"flag": "SYN", "family": "IPv4", "source": "default"}]
    # source_pod without source_namespace in labelsContext: Cilium does not clean these up
    assert labelsets(m, "hubble_icmp_total") == [{"family": "IPv4", "type": "EchoRequest", "source_pod": "xwing"}]

    m.delete_pod("default", "deathstar-d584d84bb-j2tzj")
    assert [(f["source_pod"], f["destination_pod"]) for f in labelsets(m, "hubble_flows_processed_total")] == [
        ("tiefighter", "coredns-d8f5f58dd-klkkw")]
    # the series come back when the pod's flows do
    m.process(drop(src=XWING, dst=DEATHSTAR))
    assert len(labelsets(m, "hubble_drop_total")) == 2
