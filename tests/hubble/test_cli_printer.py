"""Printers against expected text written by hand from cli.md §3-5 (layouts copied from the spec)."""

from __future__ import annotations

import io

import pytest

from ciliumlab.hubble.cli import Printer
from ciliumlab.hubble.cli.printer import (
    format_namespaces,
    format_nodes,
    format_server_status,
    join_with_cutoff,
)

T = "2023-10-06T10:42:01.345678901Z"


def ep(ns, pod, identity):
    return {"identity": identity, "namespace": ns, "pod_name": pod}


def tcp(sport, dport, **flags):
    return {"TCP": {"source_port": sport, "destination_port": dport, "flags": flags}}


def flow(**kw):
    base = {"time": T, "verdict": "FORWARDED", "IP": {"source": "10.244.1.5", "destination": "10.244.1.9",
                                                      "ipVersion": "IPv4"},
            "l4": tcp(42690, 80, SYN=True), "source": ep("default", "tiefighter", 19530),
            "destination": ep("default", "deathstar-c74d84667-cx5kp", 1456), "Type": "L3_L4",
            "node_name": "kind-worker", "event_type": {"type": 4}, "is_reply": False, "Summary": "TCP Flags: SYN"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def render(*flows, output="compact", **opts) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    p = Printer(output=output, out=out, err=err, **opts)
    for f in flows:
        p.write_response(f if "flow" in f or "node_status" in f or "lost_events" in f
                         else {"flow": f, "node_name": f.get("node_name", ""), "time": f.get("time", "")})
    p.close()
    return out.getvalue(), err.getvalue()


DS = "default/deathstar-c74d84667-cx5kp"


def test_compact_examples_from_spec():
    flows = [
        flow(),
        flow(l4=tcp(80, 42690, SYN=True, ACK=True), is_reply=True, Summary="TCP Flags: SYN, ACK",
             source=ep("default", "deathstar-c74d84667-cx5kp", 1456), destination=ep("default", "tiefighter", 19530),
             IP={"source": "10.244.1.9", "destination": "10.244.1.5", "ipVersion": "IPv4"}),
        flow(event_type={"type": 5}, policy_match_type=2, traffic_direction="INGRESS"),
        flow(time="2023-10-06T10:42:07.852Z", verdict="DROPPED", is_reply=None, source=ep("default", "xwing", 30234),
             l4=tcp(42818, 80, SYN=True), event_type={"type": 5}, traffic_direction="INGRESS"),
        flow(time="2023-10-06T10:42:07.852Z", verdict="DROPPED", is_reply=None, source=ep("default", "xwing", 30234),
             l4=tcp(42818, 80, SYN=True), event_type={"type": 1, "sub_type": 133}),
        flow(time="2023-10-06T10:42:09.001Z", source=ep("default", "xwing", 30234),
             destination=ep("kube-system", "coredns-5d78c9869d-x7q2k", 5217), Type="L7",
             l4={"UDP": {"source_port": 53034, "destination_port": 53}}, event_type={"type": 129},
             l7={"type": "REQUEST", "dns": {"query": "api.github.com.", "observation_source": "proxy"}},
             Summary="DNS Query api.github.com. A"),
        flow(time="2023-10-06T10:42:10.100Z", source=ep("default", "xwing", 30234), destination={"identity": 2},
             destination_names=["api.github.com"], l4=tcp(40123, 443, SYN=True), event_type={"type": 4, "sub_type": 3}),
        flow(time="2023-10-06T10:42:11.200Z", source={"identity": 1}, destination=ep("default", "xwing", 30234),
             IP={"source": "10.244.0.1", "destination": "10.244.1.7", "ipVersion": "IPv4"},
             l4={"ICMPv4": {"type": 8}}, Summary="ICMPv4 EchoRequest"),
    ]
    out, _ = render(*flows)
    assert out == (
        f"Oct  6 10:42:01.345: default/tiefighter:42690 (ID:19530) -> {DS}:80 (ID:1456) to-endpoint FORWARDED (TCP Flags: SYN)\n"
        f"Oct  6 10:42:01.345: default/tiefighter:42690 (ID:19530) <- {DS}:80 (ID:1456) to-endpoint FORWARDED (TCP Flags: SYN, ACK)\n"
        f"Oct  6 10:42:01.345: default/tiefighter:42690 (ID:19530) -> {DS}:80 (ID:1456) policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)\n"
        f"Oct  6 10:42:07.852: default/xwing:42818 (ID:30234) <> {DS}:80 (ID:1456) policy-verdict:none INGRESS DENIED (TCP Flags: SYN)\n"
        f"Oct  6 10:42:07.852: default/xwing:42818 (ID:30234) <> {DS}:80 (ID:1456) Policy denied DROPPED (TCP Flags: SYN)\n"
        "Oct  6 10:42:09.001: default/xwing:53034 (ID:30234) -> kube-system/coredns-5d78c9869d-x7q2k:53 (ID:5217) dns-request proxy FORWARDED (DNS Query api.github.com. A)\n"
        "Oct  6 10:42:10.100: default/xwing:40123 (ID:30234) -> api.github.com:443 (world) to-stack FORWARDED (TCP Flags: SYN)\n"
        "Oct  6 10:42:11.200: 10.244.0.1 (host) -> default/xwing (ID:30234) to-endpoint FORWARDED (ICMPv4 EchoRequest)\n")


def test_compact_node_name_service_ipv6_and_numeric():
    f = flow(time="2023-10-06T10:42:12Z", node_name="kind-worker", source=ep("default", "xwing", 30234),
             destination={"identity": 0}, destination_service={"name": "deathstar", "namespace": "default"},
             IP={"source": "fd00::1", "destination": "fd00::2", "ipVersion": "IPv6"},
             l4={"UDP": {"source_port": 40124, "destination_port": 53}}, event_type={"type": 4, "sub_type": 4},
             Summary="UDP")
    out, _ = render(f, node_name=True)
    assert out == ("Oct  6 10:42:12.000 [kind-worker]: default/xwing:40124 (ID:30234) -> default/deathstar:53 "
                   "(unknown) to-overlay FORWARDED (UDP)\n")
    out, _ = render(f, ip_translation=False)
    assert out == ("Oct  6 10:42:12.000: [fd00::1]:40124 (ID:30234) -> [fd00::2]:53 (unknown) to-overlay FORWARDED "
                   "(UDP)\n")


def test_type_verdict_summary_rules():
    f = flow(event_type={"type": 1, "sub_type": 250}, verdict="DROPPED", is_reply=None, auth_type="SPIRE",
             ip_trace_id={"trace_id": "42"})
    out, _ = render(f)
    assert out.endswith(" <> default/deathstar-c74d84667-cx5kp:80 (ID:1456) 250, 0 DROPPED "
                        "(IP Trace ID: 42; TCP Flags: SYN; Auth: SPIRE)\n")
    pv = flow(event_type={"type": 5}, verdict="AUDIT", policy_match_type=9, traffic_direction="EGRESS",
              egress_allowed_by=[{"name": "allow-all", "namespace": "default", "kind": "CiliumNetworkPolicy"},
                                 {"name": "np", "kind": "NetworkPolicy"}])
    out, _ = render(pv, policy_names=True)
    assert "policy-verdict:unknown EGRESS AUDITED BY allow-all (CiliumNetworkPolicy), np (NetworkPolicy) (" in out
    sock = flow(event_type={"type": 7}, sock_xlate_point="SOCK_XLATE_POINT_POST_DIRECTION_FWD", Type="SOCK",
                verdict="TRANSLATED")
    assert " post-xlate-fwd TRANSLATED (" in render(sock)[0]
    http = flow(Type="L7", event_type={"type": 129}, l7={"type": "RESPONSE", "http": {"code": 200}}, is_reply=True)
    assert " http-response FORWARDED (" in render(http)[0]
    assert " UNKNOWN VERDICT_UNKNOWN (" in render(flow(event_type={"type": 99}, verdict=None))[0]


def test_ethernet_only_flow_prints_macs():
    f = flow(IP=None, l4=None, ethernet={"source": "aa:bb:cc:00:00:01", "destination": "aa:bb:cc:00:00:02"},
             Summary="Ethernet")
    assert render(f)[0] == ("Oct  6 10:42:01.345: aa:bb:cc:00:00:01 (ID:19530) -> aa:bb:cc:00:00:02 (ID:1456) "
                            "to-endpoint FORWARDED (Ethernet)\n")


@pytest.mark.parametrize(("fmt", "text"), [
    ("StampMilli", "Oct  6 10:42:01.345"), ("YearMonthDay", "2023-10-06"), ("YearMonthDayHour", "2023-10-06T10Z"),
    ("YearMonthDayHourMinute", "2023-10-06T10:42Z"), ("RFC3339", "2023-10-06T10:42:01Z"),
    ("RFC3339Milli", "2023-10-06T10:42:01.345Z"), ("RFC3339Micro", "2023-10-06T10:42:01.345678Z"),
    ("RFC3339Nano", "2023-10-06T10:42:01.345678901Z"), ("RFC1123Z", "Fri, 06 Oct 2023 10:42:01 +0000"),
])
def test_time_formats(fmt, text):
    assert render(flow(), output="dict", time_format=fmt)[0].startswith(f"  TIMESTAMP: {text}\n")


def test_missing_time_is_na():
    assert render(flow(time=None))[0].startswith("N/A: ")


def test_dict_output_with_separator_and_no_swap():
    reply = flow(is_reply=True)
    out, _ = render(flow(), reply, output="dict", node_name=True)
    block = ("  TIMESTAMP: Oct  6 10:42:01.345\n       NODE: kind-worker\n     SOURCE: default/tiefighter:42690\n"
             f"DESTINATION: {DS}:80\n       TYPE: to-endpoint\n    VERDICT: FORWARDED\n    SUMMARY: TCP Flags: SYN\n")
    assert out == block + "------------\n" + block


def test_table_output_matches_spec_layout():
    out, _ = render(flow(), output="table")
    assert out == (
        "TIMESTAMP             SOURCE                     DESTINATION                            TYPE          VERDICT     SUMMARY\n"
        "Oct  6 10:42:01.345   default/tiefighter:42690   default/deathstar-c74d84667-cx5kp:80   to-endpoint   FORWARDED   TCP Flags: SYN\n")


def test_json_is_one_compact_response_per_line_with_html_escapes():
    f = {"time": T, "verdict": "FORWARDED", "l7": {"http": {"url": "http://a/?x=1&y=<2>"}}, "Summary": "é"}
    res = {"flow": f, "node_name": "n1", "time": T}
    out, _ = render(res, output="jsonpb")
    assert out == ('{"flow":{"time":"2023-10-06T10:42:01.345678901Z","verdict":"FORWARDED","l7":{"http":{"url":'
                   '"http://a/?x=1\\u0026y=\\u003c2\\u003e"}},"Summary":"é"},"node_name":"n1",'
                   '"time":"2023-10-06T10:42:01.345678901Z"}\n')
    legacy, _ = render(res, output="json", legacy_json=True)
    assert legacy.startswith('{"time":"2023-10-06T10:42:01.345678901Z","verdict":"FORWARDED",')


def test_node_status_to_stderr_only_errors_unless_debug():
    connected = {"node_status": {"state_change": "NODE_CONNECTED", "node_names": ["a", "b", "c"]},
                 "node_name": "relay", "time": "2023-10-06T10:42:00Z"}
    unavailable = {"node_status": {"state_change": "NODE_UNAVAILABLE", "node_names": ["kind-worker2"]},
                   "node_name": "relay", "time": "2023-10-06T10:42:00Z"}
    error = {"node_status": {"state_change": "NODE_ERROR", "node_names": ["x"], "message": "boom"},
             "node_name": "relay", "time": "2023-10-06T10:42:00Z"}
    out, err = render(connected, unavailable, error)
    assert out == ""
    assert err == ("Oct  6 10:42:00.000 [relay]: 1 nodes are unavailable: kind-worker2\n"
                   'Oct  6 10:42:00.000 [relay]: Error "boom" on 1 nodes: x\n')
    _, err = render(connected, debug=True)
    assert err == "Oct  6 10:42:00.000 [relay]: Receiving flows from 3 nodes: a, b, c\n"
    _, err = render(unavailable, output="jsonpb")
    assert err == ('{"node_status":{"state_change":"NODE_UNAVAILABLE","node_names":["kind-worker2"]},'
                   '"node_name":"relay","time":"2023-10-06T10:42:00Z"}\n')


def test_join_with_cutoff():
    names = [f"kind-worker-{i:02d}" for i in range(6)]  # 14 chars + 2 each
    assert join_with_cutoff(names, ", ", 50) == "kind-worker-00, kind-worker-01, kind-worker-02 (and 3 more)"


def test_lost_events_compact():
    lost = {"lost_events": {"source": "PERF_EVENT_RING_BUFFER", "num_events_lost": "12", "cpu": 3},
            "node_name": "n", "time": "2023-10-06T10:42:00Z"}
    assert render(lost)[0] == "Oct  6 10:42:00.000 EVENTS LOST: PERF_EVENT_RING_BUFFER CPU(3) 12\n"


def test_status_compact_dict_table():
    relay = {"num_flows": "16380", "max_flows": "16380", "seen_flows": "100000", "uptime_ns": "100000000000",
             "flows_rate": 26.94, "version": "1.19.4", "num_connected_nodes": 4, "num_unavailable_nodes": 0}
    assert format_server_status(relay, "compact") == (
        "Current/Max Flows: 16,380/16,380 (100.00%)\nFlows/s: 26.94\nConnected Nodes: 4/4\n")
    agent = {"num_flows": "10", "max_flows": "4095", "seen_flows": "50", "uptime_ns": "25000000000"}
    assert format_server_status(agent, "compact") == "Current/Max Flows: 10/4,095 (0.24%)\nFlows/s: 2.00\n"
    partial = dict(relay, num_connected_nodes=2, num_unavailable_nodes=3, unavailable_nodes=["w2", "w1"])
    assert format_server_status(partial, "compact").endswith(
        "Connected Nodes: 2/5\nUnavailable Nodes: 3\n  - w1\n  - w2\n  - and 1 more...\n")
    assert format_server_status(relay, "dict") == (
        "          NUM FLOWS: 16,380\n          MAX FLOWS: 16,380\n         SEEN FLOWS: 100,000\n"
        "   FLOWS PER SECOND: 26.94\n             UPTIME: 1m40s\nNUM CONNECTED NODES: 4\n"
        " NUM UNAVAIL. NODES: 0\n            VERSION: 1.19.4\n")
    assert format_server_status(agent, "table") == (
        "NUM FLOWS   MAX FLOWS   SEEN FLOWS   FLOWS PER SECOND   UPTIME   NUM CONNECTED NODES   "
        "NUM UNAVAILABLE NODES   VERSION\n"
        "10          4,095       50           N/A                25s      N/A                   N/A                     \n")


def test_list_nodes_table_wide_json():
    nodes = [
        {"name": "kind-kind/kind-worker", "version": "1.19.4", "address": "172.18.0.3:4244",
         "state": "NODE_CONNECTED", "tls": {"enabled": True}, "uptime_ns": "7985000000000", "num_flows": "1021",
         "max_flows": "4095", "seen_flows": "45594"},
        {"name": "kind-kind/kind-control-plane", "state": "NODE_CONNECTED", "uptime_ns": "7985000000000",
         "num_flows": "4095", "max_flows": "4095", "seen_flows": "25552", "address": "172.18.0.2:4244"},
    ]
    assert format_nodes(nodes, "table") == (
        "NAME                           STATUS      AGE       FLOWS/S   CURRENT/MAX-FLOWS\n"
        "kind-kind/kind-control-plane   Connected   2h13m5s   3.20      4095/4095 (100.00%)\n"
        "kind-kind/kind-worker          Connected   2h13m5s   5.71      1021/4095 ( 24.93%)\n")
    wide = format_nodes(nodes, "wide").splitlines()
    assert wide[0].endswith("CURRENT/MAX-FLOWS     VERSION   ADDRESS           TLS")
    assert wide[1].endswith("N/A       172.18.0.2:4244   N/A")
    assert wide[2].endswith("1.19.4    172.18.0.3:4244   Enabled")
    assert format_nodes([nodes[1]], "json") == (
        '[\n  {\n    "name": "kind-kind/kind-control-plane",\n    "state": "NODE_CONNECTED",\n'
        '    "uptime_ns": "7985000000000",\n    "num_flows": "4095",\n    "max_flows": "4095",\n'
        '    "seen_flows": "25552",\n    "address": "172.18.0.2:4244"\n  }\n]\n')


def test_list_namespaces():
    nss = [{"cluster": "kind", "namespace": "default"}, {"cluster": "kind", "namespace": "kube-system"}]
    assert format_namespaces(nss, "table") == "NAMESPACE\ndefault\nkube-system\n"
    assert format_namespaces(nss, "wide") == ("NAMESPACE     CLUSTER\ndefault       kind\n"
                                              "kube-system   kind\n")
