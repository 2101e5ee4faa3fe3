"""Each handler on hand-written flows: which flows count, under which labels."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.metrics import HubbleMetrics

from .flows import (
    COREDNS,
    DEATHSTAR,
    HOST,
    TIEFIGHTER,
    WORLD,
    XWING,
    dns,
    drop,
    http,
    ip,
    kafka,
    labelsets,
    policy_verdict,
    series,
    tcp,
    trace,
    value,
)


def run(spec: str, *flows: dict) -> HubbleMetrics:
    m = HubbleMetrics.from_config(spec)
    for f in flows:
        m.process(f)
    return m


# -- dns ---------------------------------------------------------------------------------------------
def test_dns_request_response_and_drop():
    m = run("dns",
            dns(),  # request: is_reply false
            dns(response=True, ips=("172.20.1.37",), rrtypes=("A",)),
            dns("api.github.com.", response=True, rcode=3),
            dns("www.google.com.", verdict="DROPPED"))
    assert series(m, "hubble_dns_queries_total") == {
        frozenset({"rcode": "", "qtypes": "A", "ips_returned": "0"}.items()): 1.0,
        frozenset({"rcode": "Policy denied", "qtypes": "A", "ips_returned": "0"}.items()): 1.0,
    }
    assert series(m, "hubble_dns_responses_total") == {
        frozenset({"rcode": "No Error", "qtypes": "A", "ips_returned": "1"}.items()): 1.0,
        frozenset({"rcode": "Non-Existent Domain", "qtypes": "A", "ips_returned": "0"}.items()): 1.0,
    }
    assert labelsets(m, "hubble_dns_response_types_total") == [{"type": "A", "qtypes": "A"}]


def test_dns_branches_on_is_reply_not_on_l7_type():
    m = run("dns",
            dns(response=True, is_reply=False),  # a RESPONSE record that is not a reply: a query
            dns(is_reply=None),  # unknown counts as a request
            dns(response=False, is_reply=True, rcode=2))  # a REQUEST record marked reply: a response
    assert value(m, "hubble_dns_queries_total", rcode="", qtypes="A", ips_returned="0") == 2
    assert value(m, "hubble_dns_responses_total", rcode="Server Failure", qtypes="A", ips_returned="0") == 1


def test_dns_dropped_reply_is_still_a_policy_denied_query():
    m = run("dns", dns(response=True, verdict="DROPPED"))
    assert value(m, "hubble_dns_queries_total", rcode="Policy denied", qtypes="A", ips_returned="0") == 1
    assert series(m, "hubble_dns_responses_total") == {}


def test_dns_response_types_one_per_rrtype():
    m = run("dns:query",
            dns("cilium.io.", response=True, ips=("1.2.3.4", "5.6.7.8"), qtypes=("A", "AAAA"),
                rrtypes=("CNAME", "A", "A")))
    assert series(m, "hubble_dns_response_types_total") == {
        frozenset({"type": "CNAME", "qtypes": "A,AAAA", "query": "cilium.io."}.items()): 1.0,
        frozenset({"type": "A", "qtypes": "A,AAAA", "query": "cilium.io."}.items()): 2.0,
    }
    assert labelsets(m, "hubble_dns_responses_total") == [
        {"rcode": "No Error", "qtypes": "A,AAAA", "ips_returned": "2", "query": "cilium.io."}]


@pytest.mark.parametrize("rcode, name", [(1, "Format Error"), (5, "Query Refused"), (9, "Not Authorized"),
                                         (23, "Bad/missing Server Cookie"), (12, ""), (99, "")])
def test_dns_rcode_names(rcode, name):
    m = run("dns", dns(response=True, rcode=rcode))
    assert labelsets(m, "hubble_dns_responses_total") == [{"rcode": name, "qtypes": "A", "ips_returned": "0"}]


def test_dns_ignore_aaaa_skips_only_pure_aaaa_queries():
    m = run("dns:ignoreAAAA", dns(qtypes=("AAAA",)), dns(qtypes=("A", "AAAA")), dns(qtypes=("A",)))
    assert labelsets(m, "hubble_dns_queries_total") == [
        {"rcode": "", "qtypes": "A", "ips_returned": "0"}, {"rcode": "", "qtypes": "A,AAAA", "ips_returned": "0"}]


def test_dns_ignores_everything_but_dns_records():
    m = run("dns", http(response=False), trace(), drop())
    assert series(m, "hubble_dns_queries_total") == {}


def test_dns_with_context():
    m = run("dns:sourceContext=pod;destinationContext=workload-name", dns())
    assert labelsets(m, "hubble_dns_queries_total") == [
        {"source": "default/tiefighter", "destination": "coredns", "rcode": "", "qtypes": "A", "ips_returned": "0"}]


# -- drop --------------------------------------------------------------------------------------------
def test_drop_counts_dropped_flows_by_enum_reason_and_protocol():
    m = run("drop",
            drop(), drop(),
            policy_verdict(XWING, DEATHSTAR, verdict="DROPPED"),
            drop(reason="STALE_OR_UNROUTABLE_IP", code=151, l4={"UDP": {"source_port": 1, "destination_port": 53}}),
            drop(reason=None, code=0, l4={"ICMPv4": {"type": 8}}),
            drop(l4=None),
            trace(), http(response=True))
    assert series(m, "hubble_drop_total") == {
        frozenset({"reason": "POLICY_DENIED", "protocol": "TCP"}.items()): 3.0,
        frozenset({"reason": "STALE_OR_UNROUTABLE_IP", "protocol": "UDP"}.items()): 1.0,
        frozenset({"reason": "DROP_REASON_UNKNOWN", "protocol": "ICMPv4"}.items()): 1.0,
        frozenset({"reason": "POLICY_DENIED", "protocol": "Unknown L4"}.items()): 1.0,
    }


def test_drop_of_l7_request_uses_l7_protocol():
    m = run("drop", http(response=False, verdict="DROPPED", method="PUT", url="/v1/exhaust-port"))
    assert labelsets(m, "hubble_drop_total") == [{"reason": "DROP_REASON_UNKNOWN", "protocol": "HTTP"}]


def test_drop_with_pod_context():
    m = run("drop:sourceContext=pod;destinationContext=pod", drop(), drop(), drop())
    assert value(m, "hubble_drop_total", source="default/xwing", destination="default/deathstar-d584d84bb-j2tzj",
                 reason="POLICY_DENIED", protocol="TCP") == 3


# -- tcp ---------------------------------------------------------------------------------------------
def test_tcp_flag_classes_are_counted_independently():
    m = run("tcp",
            trace(l4=tcp(36063, 80, SYN=True)),
            trace(l4=tcp(80, 36063, SYN=True, ACK=True), is_reply=True),
            trace(l4=tcp(36063, 80, FIN=True, ACK=True)),
            trace(l4=tcp(36063, 80, SYN=True, FIN=True, RST=True)),  # one flow, three series
            trace(l4=tcp(36063, 80, ACK=True, PSH=True)),  # ACK/PSH alone: nothing
            trace(l4=tcp(36063, 80, RST=True), verdict="REDIRECTED"),
            trace(l4=tcp(36063, 80)),  # no flags at all
            drop(), policy_verdict(verdict="DROPPED"),  # not forwarded
            trace(l4={"UDP": {"source_port": 1, "destination_port": 2}}))
    assert series(m, "hubble_tcp_flags_total") == {
        frozenset({"flag": "SYN", "family": "IPv4"}.items()): 2.0,
        frozenset({"flag": "SYN-ACK", "family": "IPv4"}.items()): 1.0,
        frozenset({"flag": "FIN", "family": "IPv4"}.items()): 2.0,
        frozenset({"flag": "RST", "family": "IPv4"}.items()): 2.0,
    }


def test_tcp_family_comes_from_ip_version():
    m = run("tcp", trace(IP=ip("fd00::1", "fd00::2", "IPv6")), trace(IP=None))
    assert labelsets(m, "hubble_tcp_flags_total") == [{"flag": "SYN", "family": "IPv6"}]


# -- flow --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flow, labels", [
    (trace(), ("TCP", "Trace", "to-endpoint", "FORWARDED")),
    (trace(sub_type=3, point="TO_STACK", direction="EGRESS", l4={"UDP": {"destination_port": 53}}),
     ("UDP", "Trace", "to-stack", "FORWARDED")),
    (trace(sub_type=5, point="FROM_ENDPOINT"), ("TCP", "Trace", "from-endpoint", "FORWARDED")),
    (trace(sub_type=1, point="TO_PROXY"), ("TCP", "Trace", "to-proxy", "FORWARDED")),
    (trace(sub_type=11, point="TO_NETWORK"), ("TCP", "Trace", "to-network", "FORWARDED")),
    (trace(sub_type=13, point="TO_CRYPTO"), ("TCP", "Trace", "to-crypto", "FORWARDED")),
    (trace(sub_type=42, point=None), ("TCP", "Trace", "", "FORWARDED")),
    # a flow carrying only the observation point (no sub_type) names it from that
    (trace(point="FROM_HOST"), ("TCP", "Trace", "from-host", "FORWARDED")),
    (drop(), ("TCP", "Drop", "", "DROPPED")),
    (policy_verdict(verdict="DROPPED"), ("TCP", "PolicyVerdict", "", "DROPPED")),
    (policy_verdict(), ("TCP", "PolicyVerdict", "", "FORWARDED")),
    (policy_verdict(verdict="AUDIT"), ("TCP", "PolicyVerdict", "", "AUDIT")),
    (http(response=True), ("HTTP", "L7", "HTTP", "FORWARDED")),
    (dns(), ("DNS", "L7", "DNS", "FORWARDED")),
    (kafka(), ("Kafka", "L7", "", "FORWARDED")),
    (trace(event_type={"type": 129}, l7={"type": "REQUEST"}), ("Unknown L7", "L7", "", "FORWARDED")),
    (trace(event_type={"type": 3}, verdict=None), ("TCP", "Capture", "", "VERDICT_UNKNOWN")),
    (trace(event_type={"type": 7, "sub_type": 2}, verdict="TRANSLATED"), ("Unknown flow", "Unknown", "7", "TRANSLATED")),
    (trace(event_type={"type": 7, "sub_type": 1}, verdict="TRACED"), ("Unknown flow", "Unknown", "7", "TRACED")),
    (trace(l4=None), ("Unknown L4", "Trace", "to-endpoint", "FORWARDED")),
    (trace(l4={"ICMPv4": {"type": 8}}), ("ICMPv4", "Trace", "to-endpoint", "FORWARDED")),
    (trace(l4={"SCTP": {"source_port": 1, "destination_port": 2}}), ("SCTP", "Trace", "to-endpoint", "FORWARDED")),
])
def test_flow_type_subtype_protocol_verdict(flow, labels):
    m = run("flow", flow)
    protocol, type_, subtype, verdict = labels
    assert labelsets(m, "hubble_flows_processed_total") == [
        {"protocol": protocol, "type": type_, "subtype": subtype, "verdict": verdict}]


def test_flow_counts_every_flow_with_context_last():
    flows = [trace(), trace(), drop(), dns(), http(response=False)]
    m = run("flow:sourceContext=namespace", *flows)
    assert sum(series(m, "hubble_flows_processed_total").values()) == len(flows)
    assert value(m, "hubble_flows_processed_total", protocol="TCP", type="Trace", subtype="to-endpoint",
                 verdict="FORWARDED", source="default") == 2


# -- port-distribution --------------------------------------------------------------------------------
def test_port_distribution_counts_forwarded_non_replies_by_destination_port():
    m = run("port-distribution",
            trace(),  # TCP 80
            trace(verdict="REDIRECTED", sub_type=1, point="TO_PROXY"),
            trace(l4=tcp(80, 36063, SYN=True, ACK=True), is_reply=True),  # reply: skipped
            trace(is_reply=None),  # unknown: skipped
            drop(is_reply=False),  # dropped: skipped
            policy_verdict(),  # is_reply false, forwarded: counts
            dns(),  # UDP 53 (L7 request, is_reply false)
            dns(response=True),  # reply
            trace(l4={"UDP": {"source_port": 51680, "destination_port": 53}}),
            trace(l4={"ICMPv4": {"type": 8}}),
            trace(l4=None))
    assert series(m, "hubble_port_distribution_total") == {
        frozenset({"protocol": "TCP", "port": "80"}.items()): 3.0,
        frozenset({"protocol": "UDP", "port": "53"}.items()): 2.0,
        frozenset({"protocol": "ICMPv4", "port": "0"}.items()): 1.0,
    }


def test_port_distribution_icmpv6_counts_twice_like_newest_cilium():
    m = run("port-distribution", trace(l4={"ICMPv6": {"type": 128}}))
    assert value(m, "hubble_port_distribution_total", protocol="ICMPv6", port="0") == 2


# -- icmp --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, type_name", [
    ({"ICMPv4": {"type": 8}}, "EchoRequest"),
    ({"ICMPv4": {}}, "EchoReply"),  # type 0 is omitted by protojson
    ({"ICMPv4": {"type": 3, "code": 3}}, "DestinationUnreachable(Port)"),
    ({"ICMPv4": {"type": 3}}, "DestinationUnreachable(Net)"),
    ({"ICMPv4": {"type": 3, "code": 13}}, "DestinationUnreachable(CommAdminProhibited)"),
    ({"ICMPv4": {"type": 3, "code": 16}}, "DestinationUnreachable(Code: 16)"),
    ({"ICMPv4": {"type": 11}}, "TimeExceeded(TTLExceeded)"),
    ({"ICMPv4": {"type": 5, "code": 1}}, "Redirect(Host)"),
    ({"ICMPv4": {"type": 8, "code": 4}}, "EchoRequest(Code: 4)"),
    ({"ICMPv4": {"type": 13}}, "TimestampRequest"),
    ({"ICMPv4": {"type": 9}}, "RouterAdvertisement"),
    ({"ICMPv4": {"type": 42, "code": 1}}, "42(1)"),
    ({"ICMPv6": {"type": 128}}, "EchoRequest"),
    ({"ICMPv6": {"type": 129}}, "EchoReply"),
    ({"ICMPv6": {"type": 135}}, "NeighborSolicitation"),
    ({"ICMPv6": {"type": 1, "code": 4}}, "DestinationUnreachable(PortUnreachable)"),
    ({"ICMPv6": {"type": 2}}, "PacketTooBig"),
])
def test_icmp_type_names(layer, type_name):
    m = run("icmp", trace(l4=layer))
    # family is "IPv4" for ICMPv6 too, as in Cilium's handler
    assert labelsets(m, "hubble_icmp_total") == [{"family": "IPv4", "type": type_name}]


def test_icmp_counts_any_verdict_and_ignores_other_l4():
    m = run("icmp", trace(l4={"ICMPv4": {"type": 8}}), drop(l4={"ICMPv4": {"type": 8}}), trace(), dns())
    assert value(m, "hubble_icmp_total", family="IPv4", type="EchoRequest") == 2
    assert len(series(m, "hubble_icmp_total")) == 1


# -- policy ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("match, name", [(0, "none"), (1, "l3-only"), (2, "l3-l4"), (3, "l4-only"), (4, "all"),
                                         (5, "l3-proto"), (6, "proto-only"), (9, "unknown")])
def test_policy_match_names(match, name):
    m = run("policy", policy_verdict(match=match))
    assert labelsets(m, "hubble_policy_verdicts_total") == [
        {"direction": "ingress", "match": name, "action": "forwarded"}]


def test_policy_actions_directions_and_host_skip():
    m = run("policy",
            policy_verdict(verdict="DROPPED", match=0),
            policy_verdict(verdict="AUDIT", match=1, direction="EGRESS"),
            policy_verdict(verdict="REDIRECTED", match=2),
            policy_verdict(match=4, direction=None),
            policy_verdict(HOST, DEATHSTAR),  # from the host: not counted
            trace(), drop())  # not policy-verdict events
    assert labelsets(m, "hubble_policy_verdicts_total") == [  # sorted by action
        {"direction": "egress", "match": "l3-only", "action": "audit"},
        {"direction": "ingress", "match": "none", "action": "dropped"},
        {"direction": "traffic_direction_unknown", "match": "all", "action": "forwarded"},
        {"direction": "ingress", "match": "l3-l4", "action": "redirected"},
    ]


def test_policy_l7_verdicts():
    m = run("policy", http(response=False), http(response=False, verdict="DROPPED", method="PUT"), dns(), kafka(),
            http(response=False, l7={"type": "REQUEST"}))
    assert series(m, "hubble_policy_verdicts_total") == {
        frozenset({"direction": "ingress", "match": "l7/http", "action": "forwarded"}.items()): 1.0,
        frozenset({"direction": "ingress", "match": "l7/http", "action": "dropped"}.items()): 1.0,
        frozenset({"direction": "egress", "match": "l7/dns", "action": "forwarded"}.items()): 1.0,
        frozenset({"direction": "egress", "match": "l7/kafka", "action": "forwarded"}.items()): 1.0,
        frozenset({"direction": "ingress", "match": "l7/", "action": "forwarded"}.items()): 1.0,
    }


def test_policy_with_the_documented_context():
    m = run("policy:sourceContext=app|workload-name|pod|reserved-identity;"
            "destinationContext=app|workload-name|pod|dns|reserved-identity;"
            "labelsContext=source_namespace,destination_namespace",
            policy_verdict(XWING, DEATHSTAR, verdict="DROPPED"))
    assert labelsets(m, "hubble_policy_verdicts_total") == [
        {"direction": "ingress", "match": "l3-l4", "action": "dropped", "source_namespace": "default",
         "destination_namespace": "default", "source": "xwing", "destination": "deathstar"}]


# -- flows-to-world ----------------------------------------------------------------------------------
def to_world(**kw) -> dict:
    base = dict(dst=WORLD, dst_ip="93.184.216.34", direction="EGRESS", sub_type=11, point="TO_NETWORK")
    base.update(kw)
    return trace(**base)


def test_flows_to_world_rules():
    m = run("flows-to-world",
            to_world(),  # TCP SYN out
            to_world(l4=tcp(36063, 443, ACK=True)),
            to_world(l4=tcp(443, 36063, SYN=True, ACK=True), is_reply=True),  # forwarded reply: skipped
            to_world(is_reply=None),  # unknown reply state: counted
            drop(dst=WORLD),  # policy drop: counted
            drop(dst=WORLD, reason="STALE_OR_UNROUTABLE_IP", code=151),  # other drop: skipped
            drop(dst=WORLD, is_reply=True),  # dropped replies are not skipped
            to_world(l4=None),  # no l4: skipped
            to_world(event_type=None),  # no event type: skipped
            to_world(dst={"identity": 16777217, "labels": ["reserved:world", "cidr:93.184.216.34/32"]}),
            to_world(dst={"identity": 9, "labels": ["reserved:world-ipv4"]}),  # not exactly reserved:world
            trace(),  # to a pod
            to_world(l4={"UDP": {"source_port": 40000, "destination_port": 53}}))
    assert series(m, "hubble_flows_to_world_total") == {
        frozenset({"protocol": "TCP", "verdict": "FORWARDED"}.items()): 4.0,
        frozenset({"protocol": "TCP", "verdict": "DROPPED"}.items()): 2.0,
        frozenset({"protocol": "UDP", "verdict": "FORWARDED"}.items()): 1.0,
    }


def test_flows_to_world_any_drop_port_syn_only():
    flows = [to_world(), to_world(l4=tcp(36063, 443, ACK=True)), drop(dst=WORLD, reason="STALE_OR_UNROUTABLE_IP"),
             to_world(l4={"UDP": {"source_port": 40000, "destination_port": 53}}),
             to_world(l4={"ICMPv4": {"type": 8}})]
    m = run("flows-to-world:any-drop;port", *flows)
    assert series(m, "hubble_flows_to_world_total") == {
        frozenset({"protocol": "TCP", "verdict": "FORWARDED", "port": "80"}.items()): 1.0,
        frozenset({"protocol": "TCP", "verdict": "FORWARDED", "port": "443"}.items()): 1.0,
        frozenset({"protocol": "TCP", "verdict": "DROPPED", "port": "80"}.items()): 1.0,
        frozenset({"protocol": "UDP", "verdict": "FORWARDED", "port": "53"}.items()): 1.0,
        frozenset({"protocol": "ICMPv4", "verdict": "FORWARDED", "port": ""}.items()): 1.0,
    }
    m = run("flows-to-world:syn-only", *flows, drop(dst=WORLD, is_reply=True))
    # only non-reply TCP SYNs: the first flow (the drop has SYN but reason STALE... is skipped without any-drop)
    assert series(m, "hubble_flows_to_world_total") == {
        frozenset({"protocol": "TCP", "verdict": "FORWARDED"}.items()): 1.0}


def test_flows_to_world_with_context():
    m = run("flows-to-world:sourceContext=workload-name|pod", to_world(src=DEATHSTAR), to_world(src=TIEFIGHTER))
    assert labelsets(m, "hubble_flows_to_world_total") == [
        {"protocol": "TCP", "verdict": "FORWARDED", "source": "deathstar"},
        {"protocol": "TCP", "verdict": "FORWARDED", "source": "default/tiefighter"}]


# -- http / httpV2 ------------------------------------------------------------------------------------
def test_http_v1_counts_requests_and_responses_with_the_flow_as_is():
    m = run("http:sourceContext=pod;destinationContext=pod",
            http(response=False), http(response=True, latency_ns=12345678),
            http(response=True, code=404, method="GET", latency_ns=300_000_000, direction="EGRESS"),
            dns(), http(response=False, l7={"type": "SAMPLE", "http": {"method": "GET"}}))
    tie, ds = "default/tiefighter", "default/deathstar-d584d84bb-j2tzj"
    assert labelsets(m, "hubble_http_requests_total") == [
        {"source": tie, "destination": ds, "method": "POST", "protocol": "HTTP/1.1", "reporter": "server"}]
    # responses keep the response flow's direction: source is the server
    assert series(m, "hubble_http_responses_total") == {
        frozenset({"source": ds, "destination": tie, "method": "POST", "protocol": "HTTP/1.1", "status": "200",
                   "reporter": "server"}.items()): 1.0,
        frozenset({"source": ds, "destination": tie, "method": "GET", "protocol": "HTTP/1.1", "status": "404",
                   "reporter": "client"}.items()): 1.0,
    }
    assert value(m, "hubble_http_request_duration_seconds_count", source=ds, destination=tie, method="POST",
                 reporter="server") == 1
    assert value(m, "hubble_http_request_duration_seconds_sum", source=ds, destination=tie, method="POST",
                 reporter="server") == pytest.approx(0.012345678)


def test_http_v2_counts_responses_only_from_the_request_side():
    labels = ("labelsContext=source_ip,source_pod,source_namespace,source_workload,source_app,destination_ip,"
              "destination_pod,destination_workload,destination_app,traffic_direction;"
              "sourceContext=pod;destinationContext=pod")
    m = run("httpV2:" + labels,
            http(response=False),  # requests are not counted by httpV2
            http(response=True, latency_ns=1100063),
            http(response=True, code=403, method="PUT", url="/v1/exhaust-port", latency_ns=299930))
    common = {"source_ip": "172.20.1.104", "source_pod": "tiefighter", "source_namespace": "default",
              "source_workload": "", "source_app": "tiefighter", "destination_ip": "172.20.1.37",
              "destination_pod": "deathstar-d584d84bb-j2tzj", "destination_workload": "deathstar",
              "destination_app": "deathstar", "traffic_direction": "ingress", "source": "default/tiefighter",
              "destination": "default/deathstar-d584d84bb-j2tzj", "protocol": "HTTP/1.1", "reporter": "server"}
    assert series(m, "hubble_http_requests_total") == {
        frozenset({**common, "method": "POST", "status": "200"}.items()): 1.0,
        frozenset({**common, "method": "PUT", "status": "403"}.items()): 1.0,
    }
    assert series(m, "hubble_http_responses_total") == {}


def test_http_v2_reporter_and_status_and_protocol():
    m = run("httpV2",
            http(response=True, direction="EGRESS", protocol="HTTP/2", code=503),
            http(response=True, direction="INGRESS"),
            http(response=True, direction=None, code=0))
    assert labelsets(m, "hubble_http_requests_total") == [
        {"method": "POST", "protocol": "HTTP/1.1", "status": "200", "reporter": "server"},
        {"method": "POST", "protocol": "HTTP/1.1", "status": "0", "reporter": "unknown"},
        {"method": "POST", "protocol": "HTTP/2", "status": "503", "reporter": "client"},
    ]


def test_http_v2_inverts_identifiers_as_cilium_does():
    # Cilium computes each side with its own identifier list on its own endpoint and then swaps
    # the two values: with sourceContext=namespace;destinationContext=workload-name a response
    # from deathstar to tiefighter gives source=<tiefighter's workload> (none) and
    # destination=<deathstar's namespace>.
    m = run("httpV2:sourceContext=namespace;destinationContext=workload-name", http(response=True))
    assert labelsets(m, "hubble_http_requests_total") == [
        {"source": "", "destination": "default", "method": "POST", "protocol": "HTTP/1.1", "status": "200",
         "reporter": "server"}]


def test_http_v2_source_context_alone_reads_the_empty_destination_side():
    # same swap: with only sourceContext set, the value shown as `source` is the one computed for
    # the destination side, which has no identifiers -> always "" (Cilium's behaviour)
    m = run("httpV2:sourceContext=pod", http(response=True))
    assert labelsets(m, "hubble_http_requests_total") == [
        {"source": "", "method": "POST", "protocol": "HTTP/1.1", "status": "200", "reporter": "server"}]
    m = run("httpV2:sourceContext=pod;destinationContext=pod", http(response=True))
    assert labelsets(m, "hubble_http_requests_total") == [
        {"source": "default/tiefighter", "destination": "default/deathstar-d584d84bb-j2tzj", "method": "POST",
         "protocol": "HTTP/1.1", "status": "200", "reporter": "server"}]


def test_http_v2_duration_histogram_uses_prometheus_default_buckets():
    m = run("httpV2", http(response=True, latency_ns=30_000_000), http(response=True, latency_ns=2_000_000_000))
    buckets = {dict(labels)["le"]: v for labels, v in series(m, "hubble_http_request_duration_seconds_bucket").items()}
    assert buckets == {"0.005": 0, "0.01": 0, "0.025": 0, "0.05": 1, "0.1": 1, "0.25": 1, "0.5": 1, "1.0": 1,
                       "2.5": 2, "5.0": 2, "10.0": 2, "+Inf": 2}
    assert value(m, "hubble_http_request_duration_seconds_sum", method="POST", reporter="server") == \
        pytest.approx(2.03)


# -- kafka / sctp -------------------------------------------------------------------------------------
def test_kafka_counts_requests():
    m = run("kafka:destinationContext=workload-name",
            kafka(), kafka(api_key="fetch", error_code=3, direction="INGRESS"), kafka(request=False), http(response=False))
    assert labelsets(m, "hubble_kafka_requests_total") == [
        {"destination": "kafka-broker", "topic": "empire-announce", "api_key": "fetch", "error_code": "3",
         "reporter": "server"},
        {"destination": "kafka-broker", "topic": "empire-announce", "api_key": "produce", "error_code": "0",
         "reporter": "client"},
    ]
    assert value(m, "hubble_kafka_request_duration_seconds_count", destination="kafka-broker",
                 topic="empire-announce", api_key="produce", reporter="client") == 1


def test_sctp_chunk_types():
    m = run("sctp",
            trace(l4={"SCTP": {"source_port": 1, "destination_port": 2, "chunk_type": "INIT"}}),
            trace(l4={"SCTP": {"source_port": 1, "destination_port": 2}}),  # UNSUPPORTED (0) omitted
            drop(l4={"SCTP": {"chunk_type": "ABORT"}}))
    assert labelsets(m, "hubble_sctp_chunk_types_total") == [{"chunk_type": "INIT", "family": "IPv4"}]


# -- robustness ---------------------------------------------------------------------------------------
def test_flow_without_anything_only_counts_in_flow():
    m = run("dns drop tcp flow port-distribution icmp httpV2 policy flows-to-world kafka sctp", {})
    assert labelsets(m, "hubble_flows_processed_total") == [
        {"protocol": "Unknown flow", "type": "Unknown", "subtype": "0", "verdict": "VERDICT_UNKNOWN"}]
    assert m.errors == 0


def test_a_handler_failing_on_a_malformed_flow_does_not_stop_the_others():
    m = run("drop flow", drop(event_type={"type": 4, "sub_type": [1]}), drop())
    assert m.errors == 1  # the flow handler cannot read that sub_type
    assert value(m, "hubble_drop_total", reason="POLICY_DENIED", protocol="TCP") == 2
    assert sum(series(m, "hubble_flows_processed_total").values()) == 1


def test_dns_endpoint_names_of_coredns():
    m = run("dns:destinationContext=identity", dns())
    (labels,) = labelsets(m, "hubble_dns_queries_total")
    assert labels["destination"] == ",".join(COREDNS["labels"])
