"""Flows built from real lab traffic carry what Hubble's parser puts in them (flow-api.md §1.1)."""

from __future__ import annotations

import pytest

from ciliumlab import Lab
from ciliumlab.hubble.types import FlowsRequest
from tests.conftest import shared_fixture

LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
EXHAUST = "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"
URL = "http://deathstar.default.svc.cluster.local"


def flows(lab: Lab) -> list[dict]:
    return [r["flow"] for r in lab.hubble.relay.get_flows(FlowsRequest(number=0)) if "flow" in r]


def pod(flow: dict, side: str) -> str:
    return flow.get(side, {}).get("pod_name", "")


@pytest.fixture(scope="module")
def l3() -> Lab:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_policy.yaml"))
    lab.exec("tiefighter", LANDING)
    lab.exec("xwing", LANDING + " --connect-timeout 2")
    return lab


def test_drop_flow_of_xwing(l3: Lab) -> None:
    drops = [f for f in flows(l3) if f["event_type"]["type"] == 1]
    assert drops, "no drop flows"
    f = drops[0]
    assert f["verdict"] == "DROPPED" and f["drop_reason"] == 133 and f["drop_reason_desc"] == "POLICY_DENIED"
    assert f["event_type"] == {"type": 1, "sub_type": 133}
    assert f["traffic_direction"] == "INGRESS"
    assert f["Summary"] == "TCP Flags: SYN" and f["l4"]["TCP"]["flags"] == {"SYN": True}
    assert "is_reply" not in f
    assert pod(f, "source") == "xwing" and pod(f, "destination").startswith("deathstar-")
    # the drop happens on the deathstar's node: its endpoint ID is known there; xwing's only if co-located
    assert f["destination"]["ID"] > 0
    same_node = l3.get("pod", "xwing")["spec"]["nodeName"] == f["node_name"]
    assert ("ID" in f["source"]) == same_node
    assert "k8s:org=alliance" in f["source"]["labels"] and f["source"]["labels"] == sorted(f["source"]["labels"])
    assert f["destination"]["workloads"] == [{"name": "deathstar", "kind": "Deployment"}]
    assert f["file"]["name"] == "bpf_lxc.c" and f["Type"] == "L3_L4"
    assert f["node_name"] == l3.get("pod", f["destination"]["pod_name"])["spec"]["nodeName"]
    assert len(drops) >= 2  # SYN retransmits


def test_policy_verdicts(l3: Lab) -> None:
    verdicts = [f for f in flows(l3) if f["event_type"]["type"] == 5]
    denied = [f for f in verdicts if pod(f, "source") == "xwing"]
    allowed = [f for f in verdicts if pod(f, "source") == "tiefighter"]
    assert denied and allowed
    d = denied[0]
    assert (d["verdict"], d["drop_reason_desc"], d["traffic_direction"]) == ("DROPPED", "POLICY_DENIED", "INGRESS")
    assert "policy_match_type" not in d and "is_reply" not in d and "ingress_denied_by" not in d
    a = allowed[0]
    assert (a["verdict"], a["policy_match_type"], a["is_reply"]) == ("FORWARDED", 2, False)
    by = a["ingress_allowed_by"]
    assert [(p["name"], p["namespace"], p["kind"]) for p in by] == [("rule1", "default", "CiliumNetworkPolicy")]
    assert "k8s:io.cilium.k8s.policy.name=rule1" in by[0]["labels"] and int(by[0]["revision"]) >= 1


def test_trace_flows_of_a_connection(l3: Lab) -> None:
    tf = [f for f in flows(l3) if f["event_type"]["type"] == 4 and "TCP" in f.get("l4", {})
          and "tiefighter" in (pod(f, "source"), pod(f, "destination"))]
    syn = next(f for f in tf if f["l4"]["TCP"].get("flags") == {"SYN": True} and f["trace_observation_point"] == "TO_ENDPOINT")
    assert (syn["trace_reason"], syn["is_reply"], syn["verdict"]) == ("NEW", False, "FORWARDED")
    # egress iff the source is a local endpoint XOR the packet is a reply (flow-api.md §1.1)
    assert "reply" not in syn
    assert syn["traffic_direction"] == ("EGRESS" if "ID" in syn["source"] else "INGRESS")
    synack = next(f for f in tf if f["l4"]["TCP"].get("flags") == {"SYN": True, "ACK": True})
    assert (synack["trace_reason"], synack["is_reply"], synack["reply"]) == ("REPLY", True, True)
    assert pod(synack, "source").startswith("deathstar-") and pod(synack, "destination") == "tiefighter"
    assert synack["Summary"] == "TCP Flags: SYN, ACK"


def test_socket_lb_flows(l3: Lab) -> None:
    socks = [f for f in flows(l3) if f["Type"] == "SOCK" and pod(f, "source") == "tiefighter"
             and f["l4"].get("TCP")]
    pre, post = socks[0], socks[1]
    cluster_ip = l3.get("svc", "deathstar")["spec"]["clusterIP"]
    assert (pre["verdict"], pre["IP"]["destination"], pre["sock_xlate_point"]) == (
        "TRACED", cluster_ip, "SOCK_XLATE_POINT_PRE_DIRECTION_FWD")
    assert pre["destination_service"] == {"name": "deathstar", "namespace": "default"}
    assert (post["verdict"], post["sock_xlate_point"]) == ("TRANSLATED", "SOCK_XLATE_POINT_POST_DIRECTION_FWD")
    assert pod(post, "destination").startswith("deathstar-")


def test_l7_flows() -> None:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    lab.exec("tiefighter", LANDING)
    lab.exec("tiefighter", EXHAUST)
    l7 = [f for f in flows(lab) if f["Type"] == "L7"]
    assert [(f["l7"]["type"], f["verdict"], f["l7"]["http"]["method"]) for f in l7] == [
        ("REQUEST", "FORWARDED", "POST"), ("RESPONSE", "FORWARDED", "POST"),
        ("REQUEST", "DROPPED", "PUT"), ("RESPONSE", "FORWARDED", "PUT")]
    req, resp, denied, resp403 = l7
    assert req["Summary"] == f"HTTP/1.1 POST {URL}/v1/request-landing"
    assert req["is_reply"] is False and req["traffic_direction"] == "INGRESS" and req["event_type"] == {"type": 129}
    assert req["l4"] == {"TCP": {"source_port": req["l4"]["TCP"]["source_port"], "destination_port": 80}}
    assert pod(req, "source") == "tiefighter" and pod(resp, "destination") == "tiefighter"
    assert resp["is_reply"] is True and resp["l7"]["http"]["code"] == 200
    ms = int(resp["l7"]["latency_ns"]) // 1_000_000
    assert resp["Summary"] == f"HTTP/1.1 200 {ms}ms (POST {URL}/v1/request-landing)"
    assert denied["Summary"] == f"HTTP/1.1 PUT {URL}/v1/exhaust-port"
    assert resp403["l7"]["http"]["code"] == 403
    verdicts = [f for f in flows(lab) if f["event_type"]["type"] == 5 and pod(f, "source") == "tiefighter"]
    assert verdicts and all(f["verdict"] == "REDIRECTED" for f in verdicts)


def test_dns_proxy_flows_and_names() -> None:
    lab = Lab()
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: mediabot, labels: {org: empire, class: mediabot}}
spec:
  containers: [{name: mediabot, image: nicolaka/netshoot}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn}
spec:
  endpointSelector: {matchLabels: {org: empire, class: mediabot}}
  egress:
  - toFQDNs: [{matchName: api.github.com}]
  - toEndpoints:
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules: {dns: [{matchPattern: "*"}]}
""")
    assert lab.exec("mediabot", "curl -sI https://api.github.com").exit_code == 0
    all_flows = flows(lab)
    dns = [f for f in all_flows if f["Type"] == "L7" and "dns" in f["l7"]]
    answer = next(f for f in dns if f["l7"]["type"] == "RESPONSE" and f["l7"]["dns"]["query"] == "api.github.com."
                  and f["l7"]["dns"]["qtypes"] == ["A"])
    ips = answer["l7"]["dns"]["ips"]
    ttl = answer["l7"]["dns"]["ttl"]
    assert answer["Summary"] == f'DNS Answer "{",".join(ips)}" TTL: {ttl} (Proxy api.github.com. A)'
    assert answer["l7"]["dns"]["observation_source"] == "proxy" and answer["traffic_direction"] == "EGRESS"
    query = next(f for f in dns if f["l7"]["type"] == "REQUEST" and f["l7"]["dns"]["query"] == "api.github.com.")
    assert query["Summary"] == "DNS Query api.github.com. A"
    out = next(f for f in all_flows if f["Type"] == "L3_L4" and f["IP"]["destination"] in ips
               and f.get("l4", {}).get("TCP", {}).get("flags") == {"SYN": True})
    assert out["destination_names"] == ["api.github.com"]
    assert out["destination"]["labels"] == sorted(out["destination"]["labels"])
    assert "reserved:world" in out["destination"]["labels"]


def test_to_proxy_trace_carries_the_proxy_port() -> None:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    lab.exec("tiefighter", LANDING)
    to_proxy = [f for f in flows(lab) if f.get("trace_observation_point") == "TO_PROXY"]
    assert to_proxy and all(f["proxy_port"] == lab.fabric.http_proxy.port for f in to_proxy)
    assert pod(to_proxy[0], "destination").startswith("deathstar-")


def test_webpod_flows_from_curl_pod() -> None:
    lab = Lab()
    lab.apply(shared_fixture("seed", "webpod.yaml"))
    lab.apply(shared_fixture("seed", "curl-pod.yaml"))
    for _ in range(10):  # a random backend per connection: both are hit
        lab.exec("curl-pod", "curl -s webpod | grep Hostname")
    out = lab.hubble_observe("--from-pod", "curl-pod", "--to-pod", "webpod", "--type", "trace", "--last", "100")
    lines = out.splitlines()
    assert lines
    import re
    pattern = (r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: default/curl-pod:\d+ \(ID:\d+\) -> "
               r"default/webpod-[a-z0-9]+-[a-z0-9]{5}:80 \(ID:\d+\) to-(endpoint|stack|overlay) FORWARDED "
               r"\(TCP Flags: [A-Z, ]+\)")
    assert all(re.fullmatch(pattern, line) for line in lines), lines[:3]
    targets = {re.search(r"default/(webpod-\S+):80", line).group(1) for line in lines}
    assert targets == {p["metadata"]["name"] for p in lab.list("pods", "default", label_selector="app=webpod")}
