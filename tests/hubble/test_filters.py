"""Per-field matching semantics of compiled FlowFilters (flow-api.md §7, Cilium pkg/hubble/filters)."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.filters import compile_filter, compile_filters
from tests.hubble.filter_flows import (
    COREDNS,
    WORLD,
    XWING,
    dns_request,
    drop,
    flow,
    http_request,
    http_response,
    icmp,
    tcp,
)


def matches(ff: dict, f: dict) -> bool:
    return compile_filter(ff)(f)


def test_empty_filter_matches_everything():
    assert matches({}, flow())
    assert matches({}, {})


def test_uuid():
    assert matches({"uuid": ["x", "f-1"]}, flow())
    assert not matches({"uuid": ["x"]}, flow())


@pytest.mark.parametrize(
    ("ff", "expected"),
    [
        ({"source_ip": ["10.0.1.15"]}, True),
        ({"source_ip": ["10.0.1.16"]}, False),
        ({"source_ip": ["10.0.0.0/16"]}, True),
        ({"source_ip": ["10.0.2.0/24"]}, False),
        ({"destination_ip": ["10.0.2.20", "1.1.1.1"]}, True),
        ({"destination_ip": ["10.0.2.0/24"]}, True),
        ({"destination_ip": ["fd00::/8"]}, False),
        ({"source_ip": ["10.0.1.15"], "destination_ip": ["10.0.2.21"]}, False),
    ],
)
def test_ip_and_cidr(ff, expected):
    assert matches(ff, flow()) is expected


def test_ip_missing_never_matches_even_catch_all_cidr():
    assert not matches({"source_ip": ["0.0.0.0/0"]}, flow(IP=None))


def test_source_ip_xlated():
    snat = flow(
        IP={
            "source": "10.0.1.15",
            "source_xlated": "172.18.0.3",
            "destination": "1.1.1.1",
            "ipVersion": "IPv4",
        }
    )
    assert matches({"source_ip_xlated": ["172.18.0.3"]}, snat)
    assert matches({"source_ip_xlated": ["172.18.0.0/16"]}, snat)
    assert not matches({"source_ip_xlated": ["10.0.1.15"]}, snat)
    assert not matches({"source_ip_xlated": ["0.0.0.0/0"]}, flow())


def test_ipv6_cidr():
    f = flow(IP={"source": "fd00:10:244::1", "destination": "fd00:10:244::2", "ipVersion": "IPv6"})
    assert matches({"source_ip": ["fd00:10:244::/64"]}, f)
    assert not matches({"source_ip": ["10.0.0.0/8"]}, f)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tiefighter", True),  # no slash -> namespace default
        ("tie", True),  # prefix
        ("default/tiefighter", True),
        ("default/", True),  # whole namespace
        ("kube-system/", False),
        ("kube-system/tiefighter", False),
        ("/tie", True),  # any namespace
        ("/", True),
        ("xwing", False),
        ("fighter", False),  # prefix, not substring
    ],
)
def test_source_pod(value, expected):
    assert matches({"source_pod": [value]}, flow()) is expected


def test_pod_without_namespace_means_default():
    kube_system_tie = flow(source=dict(flow()["source"], namespace="kube-system"))
    assert not matches({"source_pod": ["tiefighter"]}, kube_system_tie)
    assert matches({"source_pod": ["kube-system/tiefighter"]}, kube_system_tie)


def test_pod_endpoint_without_namespace_and_name_never_matches():
    assert not matches({"destination_pod": ["/"]}, flow(destination=WORLD))
    assert not matches({"destination_pod": ["/"]}, flow(destination=None))


def test_destination_pod_and_source_pod_are_anded():
    ff = {"source_pod": ["default/tiefighter", "default/xwing"], "destination_pod": ["deathstar"]}
    assert matches(ff, flow())
    assert not matches(ff, flow(destination=XWING))
    assert not matches(ff, dns_request())


def test_service():
    assert matches({"destination_service": ["deathstar"]}, flow())
    assert matches({"destination_service": ["default/death"]}, flow())
    assert not matches({"destination_service": ["kube-system/"]}, flow())
    assert matches({"destination_service": ["kube-system/kube-dns"]}, dns_request())
    assert not matches({"source_service": ["/"]}, flow())  # flow has no source service


def test_workload():
    assert matches({"source_workload": [{"name": "tiefighter"}]}, flow())
    assert matches({"source_workload": [{"kind": "Deployment"}]}, flow())
    assert matches({"source_workload": [{"kind": "Deployment", "name": "tiefighter"}]}, flow())
    assert not matches({"source_workload": [{"kind": "StatefulSet", "name": "tiefighter"}]}, flow())
    assert not matches({"source_workload": [{"name": "xwing"}]}, flow())
    assert not matches({"source_workload": [{}]}, flow(source=XWING))  # xwing has no workloads
    assert matches({"destination_workload": [{"name": "deathstar", "kind": "Deployment"}]}, flow())


def test_identity():
    assert matches({"source_identity": [1234]}, flow())
    assert matches({"destination_identity": [555, 2]}, flow())
    assert not matches({"source_identity": [2]}, flow())
    assert matches({"destination_identity": [2]}, flow(destination=WORLD))
    assert not matches({"destination_identity": [0]}, flow(destination=None))
    assert matches({"sourceIdentity": ["1234"]}, flow())  # json name + uint32 as string


def test_cluster_name():
    assert matches({"source_cluster_name": ["default"]}, flow())
    assert not matches({"source_cluster_name": ["cluster-2"]}, flow())
    remote = flow(destination=dict(flow()["destination"], cluster_name="cluster-2"))
    assert matches({"destination_cluster_name": ["cluster-2"]}, remote)


def test_fqdn_patterns():
    f = flow(destination_names=["api.github.com"], source_names=["Mixed.Example.org"])
    assert matches({"destination_fqdn": ["api.github.com"]}, f)
    assert matches({"destination_fqdn": ["API.GitHub.com."]}, f)  # lower-cased, trailing dot dropped
    assert matches({"destination_fqdn": ["*.github.com"]}, f)
    assert matches({"destination_fqdn": ["*"]}, f)
    assert not matches({"destination_fqdn": ["github.com"]}, f)  # full match, not suffix
    assert not matches({"destination_fqdn": ["*.gitlab.com"]}, f)
    assert not matches({"source_fqdn": ["mixed.example.org"]}, f)  # flow names are not lower-cased
    assert not matches({"source_fqdn": ["*"]}, flow())  # no names -> never


def test_dns_query_is_unanchored_regex_on_dns_records_only():
    assert matches({"dns_query": ["github"]}, dns_request())
    assert matches({"dns_query": [r"^api\.github\.com\.$"]}, dns_request())
    assert not matches({"dns_query": ["^github"]}, dns_request())
    assert not matches({"dns_query": [".*"]}, flow())
    assert not matches({"dns_query": [".*"]}, http_request())


@pytest.mark.parametrize(
    ("verdicts", "f", "expected"),
    [
        (["FORWARDED"], flow(), True),
        (["DROPPED"], flow(), False),
        (["DROPPED", "ERROR"], drop(), True),
        ([2], drop(), True),  # enum by number
        ([1], drop(), False),
        (["VERDICT_UNKNOWN"], flow(verdict=None), True),  # absent = zero value
    ],
)
def test_verdict(verdicts, f, expected):
    assert matches({"verdict": verdicts}, f) is expected


def test_drop_reason_desc_requires_dropped():
    assert matches({"drop_reason_desc": ["POLICY_DENIED"]}, drop())
    assert matches({"drop_reason_desc": [133]}, drop())
    assert not matches({"drop_reason_desc": ["CT_MAP_INSERTION_FAILED"]}, drop())
    forwarded_with_reason = flow(drop_reason_desc="POLICY_DENIED")
    assert not matches({"drop_reason_desc": ["POLICY_DENIED"]}, forwarded_with_reason)


@pytest.mark.parametrize(
    ("event_types", "f", "expected"),
    [
        ([{"type": 4}], flow(), True),
        ([{"type": 1}], flow(), False),
        ([{"type": 1}, {"type": 4}], flow(), True),
        ([{"type": 4, "match_sub_type": True}], flow(), True),  # trace:to-endpoint (sub_type 0 omitted)
        ([{"type": 4, "match_sub_type": True, "sub_type": 3}], flow(), False),
        ([{"type": 4, "sub_type": 3}], flow(), True),  # sub_type ignored without match_sub_type
        ([{"type": 1, "match_sub_type": True, "sub_type": 133}], drop(), True),
        ([{}], drop(), True),  # type 0 = any
        ([{}], flow(event_type=None), False),  # no event type -> never
        ([{"type": 129}], http_request(), True),
    ],
)
def test_event_type(event_types, f, expected):
    assert matches({"event_type": event_types}, f) is expected


def test_http_status_code():
    assert matches({"http_status_code": ["200"]}, http_response(200))
    assert matches({"http_status_code": ["2+"]}, http_response(204))
    assert matches({"http_status_code": ["20+"]}, http_response(204))
    assert matches({"http_status_code": ["404", "5+"]}, http_response(503))
    assert not matches({"http_status_code": ["4+"]}, http_response(503))
    assert not matches({"http_status_code": ["2+"]}, http_request())  # requests have no code
    assert not matches({"http_status_code": ["2+"]}, flow())


def test_http_method_case_insensitive():
    assert matches({"http_method": ["post"]}, http_request("POST"))
    assert matches({"http_method": ["GET", "Post"]}, http_request("POST"))
    assert not matches({"http_method": ["PUT"]}, http_request("POST"))
    assert not matches({"http_method": ["POST"]}, flow())


def test_http_path_regex_on_parsed_path():
    assert matches({"http_path": ["/v1/request-landing"]}, http_request())
    assert matches({"http_path": ["^/v1/"]}, http_request())
    assert not matches({"http_path": ["deathstar"]}, http_request())  # host is not part of the path
    assert matches(
        {"http_path": ["^/exhaust-port$"]}, http_request("PUT", "http://deathstar/exhaust-port?x=1")
    )
    assert matches({"http_path": ["^/a b$"]}, http_request("GET", "/a%20b"))  # decoded path
    assert not matches({"http_path": [".*"]}, http_request("GET", "not a uri"))


def test_http_url_regex_on_full_url():
    assert matches({"http_url": ["deathstar\\.default"]}, http_request())
    assert matches({"http_url": ["^http://.*landing$"]}, http_request())
    assert not matches({"http_url": ["^/v1"]}, http_request())


def test_http_header_exact_pair():
    assert matches({"http_header": [{"key": "X-Request-Id", "value": "abc"}]}, http_request())
    assert not matches({"http_header": [{"key": "X-Request-Id", "value": "abd"}]}, http_request())
    assert not matches({"http_header": [{"key": "x-request-id", "value": "abc"}]}, http_request())
    assert matches(
        {"httpHeader": [{"key": "a", "value": "b"}, {"key": "X-Request-Id", "value": "abc"}]}, http_request()
    )


def test_http_filter_with_l7_event_type_is_allowed():
    ff = {"event_type": [{"type": 4}, {"type": 129}], "http_method": ["POST"]}
    assert matches(ff, http_request())
    assert not matches(ff, flow())


@pytest.mark.parametrize(
    ("protocols", "f", "expected"),
    [
        (["tcp"], flow(), True),
        (["TCP"], flow(), True),
        (["udp"], flow(), False),
        (["udp"], dns_request(), True),
        (["dns"], dns_request(), True),
        (["http"], dns_request(), False),
        (["http"], http_request(), True),
        (["tcp"], http_request(), True),  # L7 HTTP flows also carry l4.TCP
        (["icmp"], icmp(), True),
        (["icmpv4"], icmp(), True),
        (["icmpv6"], icmp(), False),
        (["icmp"], icmp(l4={"ICMPv6": {"type": 128}}), True),
        (["sctp", "vrrp", "igmp", "kafka"], flow(), False),
        (["igmp"], flow(l4={"IGMP": {"type": 22}}), True),
        (["tcp"], flow(l4=None), False),
    ],
)
def test_protocol(protocols, f, expected):
    assert matches({"protocol": protocols}, f) is expected


def test_ports():
    assert matches({"destination_port": ["80"]}, flow())
    assert matches({"source_port": ["41234"], "destination_port": ["8080", "80"]}, flow())
    assert not matches({"destination_port": ["443"]}, flow())
    assert matches({"destination_port": ["53"]}, dns_request())
    assert matches({"destination_port": ["080"]}, flow())  # decimal parse
    assert not matches({"destination_port": ["0"]}, icmp())  # no ports on ICMP
    assert matches({"destination_port": ["9"]}, flow(l4={"SCTP": {"source_port": 1, "destination_port": 9}}))


@pytest.mark.parametrize(
    ("reply", "f", "expected"),
    [
        ([False], flow(), True),
        ([True], flow(), False),
        ([True], http_response(200), True),
        ([False], flow(is_reply=None), False),  # unknown direction never matches ...
        ([True], flow(is_reply=None), False),
        ([False], drop(), True),  # ... except drops, where unset counts as false
        ([True], drop(), False),
        ([True, False], flow(is_reply=None), False),
    ],
)
def test_reply(reply, f, expected):
    assert matches({"reply": reply}, f) is expected


def test_tcp_flags_subset():
    syn_ack = flow(l4=tcp(80, 41234, SYN=True, ACK=True))
    assert matches({"tcp_flags": [{"SYN": True}]}, syn_ack)
    assert matches({"tcp_flags": [{"SYN": True, "ACK": True}]}, syn_ack)
    assert not matches({"tcp_flags": [{"SYN": True, "ACK": True}]}, flow())  # bare SYN
    assert matches({"tcp_flags": [{"FIN": True}, {"SYN": True}]}, flow())  # OR across values
    assert not matches({"tcp_flags": [{"RST": True}]}, syn_ack)
    assert not matches({"tcp_flags": [{"SYN": True}]}, http_request())  # L7 flows carry no flags
    assert not matches({"tcp_flags": [{"SYN": True}]}, dns_request())


@pytest.mark.parametrize(
    ("patterns", "node", "expected"),
    [
        (["kind-worker"], "kind-worker", True),
        (["kind-*"], "kind-worker", True),
        (["kind-*"], "kind-control-plane", True),
        (["kind-worker"], "kind-worker2", False),
        (["default/kind-worker"], "kind-worker", True),  # no cluster in flow -> default/
        (["default/"], "kind-worker", True),
        (["cluster-2/"], "kind-worker", False),
        (["cluster-2/*"], "cluster-2/kind-worker", True),
        (["kind-worker"], "cluster-2/kind-worker", True),  # node-only pattern: any cluster
        (["*.example.com"], "node1.example.com", True),
        (["*.example.com"], "example.com", False),
        (["KIND-WORKER"], "kind-worker", True),  # patterns are lower-cased
    ],
)
def test_node_name(patterns, node, expected):
    assert matches({"node_name": patterns}, flow(node_name=node)) is expected


def test_node_name_empty_never_matches():
    assert not matches({"node_name": ["/"]}, flow(node_name=None))


def test_ip_version():
    assert matches({"ip_version": ["IPv4"]}, flow())
    assert matches({"ip_version": [1]}, flow())
    assert not matches({"ip_version": ["IPv6"]}, flow())
    assert matches({"ip_version": ["IP_NOT_USED"]}, flow(IP=None))


def test_trace_id_and_ip_trace_id():
    traced = flow(trace_context={"parent": {"trace_id": "4bf92f3577b34da6"}}, ip_trace_id={"trace_id": "7"})
    assert matches({"trace_id": ["4bf92f3577b34da6"]}, traced)
    assert not matches({"trace_id": ["other"]}, traced)
    assert not matches({"trace_id": ["4bf92f3577b34da6"]}, flow())
    assert matches({"ip_trace_id": ["7"]}, traced)
    assert matches({"ip_trace_id": [7]}, traced)
    assert not matches({"ip_trace_id": [8]}, traced)
    assert not matches({"ip_trace_id": [7]}, flow())


def test_encrypted():
    enc = flow(IP={"source": "10.0.1.15", "destination": "10.0.2.20", "ipVersion": "IPv4", "encrypted": True})
    assert matches({"encrypted": [True]}, enc)
    assert not matches({"encrypted": [False]}, enc)
    assert matches({"encrypted": [False]}, flow())
    assert not matches({"encrypted": [True]}, flow())


def test_interface():
    f = flow(interface={"index": 7, "name": "eth0"})
    assert matches({"interface": [{"name": "eth0"}]}, f)
    assert matches({"interface": [{"index": 7}]}, f)
    assert matches({"interface": [{"index": 7, "name": "eth0"}]}, f)
    assert not matches({"interface": [{"index": 8, "name": "eth0"}]}, f)
    assert not matches({"interface": [{"name": "lxc123"}]}, f)
    assert not matches({"interface": [{}]}, flow())  # no interface -> never


def test_traffic_direction():
    assert matches({"traffic_direction": ["EGRESS"]}, flow())
    assert not matches({"traffic_direction": ["INGRESS"]}, flow())
    assert matches({"traffic_direction": [1]}, drop())
    assert matches({"trafficDirection": ["TRAFFIC_DIRECTION_UNKNOWN"]}, flow(traffic_direction=None))


def test_fields_are_anded_within_a_filter():
    ff = {
        "source_pod": ["xwing"],
        "destination_pod": ["deathstar"],
        "verdict": ["DROPPED"],
        "destination_port": ["80"],
    }
    assert matches(ff, drop())
    assert not matches(ff, drop(l4=tcp(4000, 443)))
    assert not matches(ff, flow(source=XWING))  # forwarded


def test_whitelist_is_or_and_blacklist_excludes():
    from_xwing = {"source_pod": ["default/xwing"]}
    to_xwing = {"destination_pod": ["default/xwing"]}
    pred = compile_filters([from_xwing, to_xwing], [])
    assert pred(dns_request())  # xwing -> coredns
    assert pred(flow(source=COREDNS, destination=XWING))
    assert not pred(flow())  # tiefighter -> deathstar

    pred = compile_filters([from_xwing, to_xwing], [{"protocol": ["dns"]}])
    assert not pred(dns_request())
    assert pred(drop())


def test_empty_lists_pass_everything_blacklist_only_excludes():
    assert compile_filters([], [])(flow())
    pred = compile_filters([], [{"verdict": ["DROPPED"]}])
    assert pred(flow())
    assert not pred(drop())


def test_blacklist_filter_fields_are_anded():
    # `--not --http-method put --not --to-namespace foo`-like: excludes only PUTs to kube-system
    pred = compile_filters([], [{"http_method": ["PUT"], "destination_pod": ["kube-system/"]}])
    assert pred(http_request("PUT"))
    put_to_kube_system = http_request("PUT")
    put_to_kube_system["destination"] = COREDNS
    assert not pred(put_to_kube_system)


def test_empty_filter_in_whitelist_matches_all():
    assert compile_filters([{"verdict": ["DROPPED"]}, {}], [])(flow())


def test_camel_case_and_enum_numbers_accepted():
    ff = {
        "sourcePod": ["xwing"],
        "destinationPort": ["80"],
        "verdict": [2],
        "eventType": [{"type": 1, "matchSubType": True, "subType": 133}],
    }
    assert matches(ff, drop())
    assert not matches(ff, drop(event_type={"type": 1, "sub_type": 181}))
