"""The precompiled flow <-> protobuf conversions: identical to json_format (the reference) on real
lab flows of every kind, and json_format's answer (result or error) for every other shape."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from google.protobuf import json_format

from ciliumlab import Lab
from ciliumlab.hubble.grpc import connect, convert, flow_to_proto, proto_to_flow, serve_observer
from ciliumlab.hubble.grpc.gen.flow import flow_pb2
from ciliumlab.hubble.grpc.gen.observer import observer_pb2
from ciliumlab.hubble.types import UINT64_MAX, FlowsRequest
from tests.conftest import shared_fixture

from .grpc_fixtures import FLOWS, HTTP_REQUEST, ListSource

LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
EXHAUST = "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"
DNS_VISIBILITY = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: tiefighter-dns}
spec:
  endpointSelector: {matchLabels: {org: empire, class: tiefighter}}
  egress:
  - toEndpoints:
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules: {dns: [{matchPattern: "*"}]}
  - toEndpoints: [{matchLabels: {org: empire, class: deathstar}}]
"""


def kind(flow: dict) -> str:
    t = flow["event_type"]["type"]
    if t == 129:
        return "l7-" + next(k for k in ("http", "dns", "kafka") if k in flow["l7"])
    return {1: "drop", 4: "trace", 5: "policy-verdict", 7: "trace-sock"}.get(t, str(t))


@pytest.fixture(scope="module")
def lab_flows() -> list[dict]:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    lab.apply(DNS_VISIBILITY)
    lab.exec("tiefighter", LANDING)  # dns + http allowed
    lab.exec("xwing", LANDING + " --connect-timeout 2")  # dropped by policy
    lab.exec("tiefighter", EXHAUST)  # http denied by the L7 rule
    flows = lab.observe("--last", "50")
    kinds = Counter(kind(f) for f in flows)
    assert set(kinds) >= {"trace", "trace-sock", "policy-verdict", "drop", "l7-http", "l7-dns"}, kinds
    return flows


@pytest.fixture
def no_fallback(monkeypatch):
    """Fail if a conversion falls back to json_format (the plans must cover real flows)."""
    def boom(*_args):
        raise AssertionError("fell back to json_format")
    monkeypatch.setattr(convert, "_slow_to_message", boom)
    monkeypatch.setattr(convert, "_slow_to_dict", boom)


def reference_proto(d: dict, cls=flow_pb2.Flow, strict: bool = True):
    m = cls()
    json_format.ParseDict(d, m, ignore_unknown_fields=not strict)
    return m


def test_grpc_lab_flows_round_trip_on_the_fast_path(lab_flows, no_fallback):
    refs = [reference_proto(f) for f in lab_flows]  # before no_fallback matters: json_format itself
    encode, decode = convert.encoder(flow_pb2.Flow), convert.decoder(flow_pb2.Flow.DESCRIPTOR)
    for flow, ref in zip(lab_flows, refs, strict=True):
        m = flow_to_proto(flow, strict=True)
        assert m == ref and m.SerializeToString(deterministic=True) == ref.SerializeToString(deterministic=True)
        back = proto_to_flow(flow_pb2.Flow.FromString(m.SerializeToString()))
        assert back == flow, kind(flow)
        assert json.dumps(back) == json.dumps(flow)  # key order: .proto declaration order
        assert decode(encode(flow)) == flow


def test_grpc_lab_flows_match_json_format_output(lab_flows):
    for flow in lab_flows:
        m = flow_to_proto(flow)
        assert json.dumps(proto_to_flow(m)) == json.dumps(convert._slow_to_dict(m))


def test_grpc_lab_flows_over_the_wire(lab_flows, no_fallback):
    srv = serve_observer(ListSource(lab_flows), "127.0.0.1:0")
    try:
        with connect(f"127.0.0.1:{srv.port}", timeout=2) as c:
            events = list(c.get_flows(FlowsRequest(number=UINT64_MAX)))
            assert [ev["flow"] for ev in events] == lab_flows
            assert json.dumps([ev["flow"] for ev in events]) == json.dumps(lab_flows)
            masked = list(c.get_flows(FlowsRequest(number=UINT64_MAX, field_mask=["time", "l7.dns.query", "IP"])))
            assert [ev["flow"] for ev in masked] == [convert.apply_field_mask(f, ["time", "l7.dns.query", "IP"])
                                                     for f in lab_flows]
    finally:
        srv.stop(None)


def test_grpc_fixture_responses_round_trip_on_the_fast_path(no_fallback):
    for flow in FLOWS:
        ev = {"flow": flow, "node_name": flow["node_name"], "time": flow["time"]}
        assert convert.proto_to_response(convert.response_to_proto(ev)) == ev


# -- shapes the plans hand to json_format: same result, same error -----------------------------------

def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as err:  # noqa: BLE001
        return type(err).__name__, str(err)


EDGE_FLOWS = [
    {"time": "2023-08-21T12:12:21.5Z"},  # 1 digit -> printed with 3
    {"time": "2023-08-21T12:12:21.1234567Z"},
    {"time": "2023-08-21T12:12:21.000000000Z"},
    {"time": "2023-08-21T14:12:21.25+02:00"},  # offsets: json_format
    {"time": "2023-02-30T12:12:21Z"},  # bad date: json_format's error
    {"time": "2023-08-21T12:12:21.1234567891Z"},
    {"time": "1969-12-31T23:59:59.999999999Z"},
    {"time": 5},
    {"nodeName": "n1", "isReply": True},  # camelCase
    {"node_name": "n1", "nodeName": "n2"},
    {"no_such_field": 1, "uuid": "u"},
    {"verdict": "MAYBE"},
    {"verdict": 2, "Type": "7"},  # enum numbers (also as strings), unknown numbers of open enums
    {"verdict": 999},
    {"verdict": True},
    {"socket_cookie": "18446744073709551615", "cgroup_id": 7},
    {"socket_cookie": "18446744073709551616"},
    {"socket_cookie": " 1"},
    {"socket_cookie": "1e3"},
    {"socket_cookie": -1},
    {"drop_reason": "5"},
    {"drop_reason": 5.0},
    {"drop_reason": True},
    {"drop_reason": -1},
    {"reply": 1},
    {"reply": False, "is_reply": False},
    {"is_reply": None},
    {"is_reply": 0},
    {"uuid": None, "node_name": "x"},
    {"uuid": b"x"},
    {"uuid": "\ud800"},
    {"node_labels": "a"},
    {"node_labels": ("a", "b")},
    {"node_labels": ["a", None]},
    {"node_labels": ["a", 1]},
    {"l4": {"TCP": {}, "UDP": {}}},
    {"l4": {"ICMPv4": {}}},
    {"l7": {"type": "REQUEST", "dns": {"ttl": 4294967296}}},
    {"source": []},
    {"source": {"ID": 1, "labels": ["a"], "workloads": [{"name": "w"}, None]}},
    {"ingress_denied_by": [{"revision": "18446744073709551615"}, {"revision": 3}]},
    {"extensions": {"@type": "type.googleapis.com/flow.Emitter", "name": "x"}},
    {"aggregate": {"ingress_flow_count": 3, "egress_flow_count": 1}},
    {"destination": {}},
    {},
]


@pytest.mark.parametrize("d", EDGE_FLOWS, ids=lambda d: json.dumps(d, default=repr)[:50])
@pytest.mark.parametrize("strict", [True, False])
def test_grpc_conversion_edges_match_json_format(d, strict):
    got = outcome(lambda: flow_to_proto(d, strict=strict))
    want = outcome(lambda: reference_proto(d, strict=strict))
    assert got[0] == want[0]
    if got[0] != "ok":
        assert got[1] == want[1]
    else:
        assert got[1].SerializeToString(deterministic=True) == want[1].SerializeToString(deterministic=True)
        assert outcome(proto_to_flow, got[1]) == outcome(convert._slow_to_dict, want[1])


@pytest.mark.parametrize("nanos", [0, 1, 999, 1000, 120_000, 1_000_000, 500_000_000, 999_999_999])
@pytest.mark.parametrize("seconds", [0, -1, 1692619941, 253402300799, -62135596800])
def test_grpc_timestamps_match_json_format(seconds, nanos):
    m = flow_pb2.Flow(time={"seconds": seconds, "nanos": nanos})
    d = proto_to_flow(m)
    assert d == convert._slow_to_dict(m)
    assert flow_to_proto(d) == m


def test_grpc_invalid_messages_still_fail_like_json_format():
    for m in (flow_pb2.Flow(time={"seconds": 253402300800}), flow_pb2.Flow(time={"nanos": -1})):
        assert outcome(proto_to_flow, m)[0] == outcome(convert._slow_to_dict, m)[0] != "ok"
    weird = flow_pb2.Flow(verdict=77, l7={"type": 9})  # unknown numbers of open enums stay numbers
    assert proto_to_flow(weird) == convert._slow_to_dict(weird) == {"verdict": 77, "l7": {"type": 9}}


def test_grpc_other_messages_use_the_plans():
    status = {"num_flows": "6", "max_flows": "4095", "seen_flows": "7997613431426", "uptime_ns": "1",
              "num_connected_nodes": 2, "num_unavailable_nodes": 0, "version": "1.19.4", "flows_rate": 1.5}
    m = convert.server_status_to_proto(status)
    assert m == reference_proto(status, observer_pb2.ServerStatusResponse)
    assert convert.message_to_dict(m) == convert._slow_to_dict(m)
    for rate in (0.0, -0.0, float("inf"), float("nan"), 2.0):
        m = observer_pb2.ServerStatusResponse(flows_rate=rate)
        assert json.dumps(convert.message_to_dict(m)) == json.dumps(convert._slow_to_dict(m))
    assert convert.proto_to_flow(flow_to_proto(HTTP_REQUEST)) == HTTP_REQUEST
