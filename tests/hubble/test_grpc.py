"""Wire-compatible Hubble gRPC: servers, client, conversions, raw protobuf bytes on the wire."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime

import grpc
import pytest

from ciliumlab.hubble.grpc import (
    InvalidArgumentError,
    RPCError,
    apply_field_mask,
    connect,
    filter_to_proto,
    flow_to_proto,
    proto_to_filter,
    proto_to_flow,
    proto_to_request,
    request_to_proto,
    serve_observer,
    serve_peer,
)
from ciliumlab.hubble.grpc.gen.flow import flow_pb2
from ciliumlab.hubble.grpc.gen.observer import observer_pb2
from ciliumlab.hubble.types import UINT64_MAX, FilterError, FlowsRequest

from .grpc_fixtures import DNS_ANSWER, FLOWS, HTTP_REQUEST, STATUS, TCP_DROP, TRACE_SOCK, ListSource

# -- raw protobuf wire decoding (independent of the generated code) ------------------------------------

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def wire_fields(buf: bytes) -> list[tuple[int, int, object]]:
    """[(field number, wire type, int | bytes)] of one message, in wire order."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:  # pragma: no cover
            raise ValueError(f"wire type {wt}")
        out.append((num, wt, val))
    return out


def field(buf: bytes, num: int):
    hits = [v for n, _, v in wire_fields(buf) if n == num]
    assert hits, f"field {num} not on the wire"
    return hits[0]


def _key(num: int, wt: int) -> bytes:
    v, out = (num << 3) | wt, b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


# -- fixtures -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def source():
    return ListSource(FLOWS)


@pytest.fixture(scope="module")
def server(source):
    srv = serve_observer(source, "127.0.0.1:0")
    yield srv
    srv.stop(None)


@pytest.fixture(scope="module")
def client(server):
    c = connect(f"127.0.0.1:{server.port}", timeout=2)
    yield c
    c.close()


def flows_of(events) -> list[dict]:
    return [ev["flow"] for ev in events if "flow" in ev]


# -- conversions ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f["uuid"][-2:] + "-" + f["Type"])
def test_grpc_flow_json_round_trip_is_identity(flow):
    back = proto_to_flow(flow_to_proto(flow, strict=True))
    assert back == flow
    # key order is .proto declaration order, like protojson (json_format alone sorts by number)
    assert json.dumps(back) == json.dumps(flow)


def test_grpc_json_conventions():
    m = flow_to_proto(TRACE_SOCK)
    assert m.socket_cookie == 18446744073709551000 and m.cgroup_id == 4294967296
    assert m.verdict == flow_pb2.TRACED and m.Type == flow_pb2.SOCK
    assert m.time.seconds == int(datetime(2023, 8, 21, 12, 12, 21, tzinfo=UTC).timestamp()) and m.time.nanos == 1
    d = proto_to_flow(m)
    assert d["socket_cookie"] == "18446744073709551000" and d["cgroup_id"] == "4294967296"  # uint64 as strings
    assert d["time"] == "2023-08-21T12:12:21.000000001Z"
    assert d["sock_xlate_point"] == "SOCK_XLATE_POINT_POST_DIRECTION_FWD"  # enums by name
    # BoolValue is_reply: false is kept because the wrapper is set; absent stays absent
    req = flow_to_proto(HTTP_REQUEST)
    assert req.HasField("is_reply") and req.is_reply.value is False
    assert proto_to_flow(req)["is_reply"] is False
    drop = flow_to_proto(TCP_DROP)
    assert not drop.HasField("is_reply") and "is_reply" not in proto_to_flow(drop)
    assert proto_to_flow(drop)["ingress_denied_by"][0]["revision"] == "18446744073709551615"
    # zero values are omitted
    assert "ID" not in proto_to_flow(flow_to_proto({"source": {"ID": 0, "identity": 2}}))["source"]
    # camelCase json names are accepted on input, proto names are produced on output
    assert proto_to_flow(flow_to_proto({"nodeName": "n1", "isReply": True})) == {"node_name": "n1", "is_reply": True}


def test_grpc_flow_field_numbers_on_the_wire():
    raw = flow_to_proto(TCP_DROP).SerializeToString()
    assert field(raw, 34) == TCP_DROP["uuid"].encode()
    assert field(raw, 100000) == b"TCP Flags: SYN"
    assert field(raw, 2) == 2  # verdict DROPPED
    assert field(raw, 3) == 133 and field(raw, 25) == 133  # drop_reason, drop_reason_desc POLICY_DENIED
    assert field(raw, 10) == 1  # Type L3_L4
    assert field(raw, 11) == b"kind-kind/kind-worker"
    assert field(raw, 37) == b"kubernetes.io/hostname=kind-worker"  # node_labels
    assert field(raw, 22) == 1  # traffic_direction INGRESS
    ip = field(raw, 5)
    assert field(ip, 1) == b"10.244.1.60" and field(ip, 2) == b"10.244.1.5" and field(ip, 3) == 1
    tcp = field(field(raw, 6), 1)
    assert field(tcp, 1) == 44916 and field(tcp, 2) == 80 and field(field(tcp, 3), 2) == 1  # flags.SYN
    src = field(raw, 8)
    assert field(src, 1) == 1234 and field(src, 2) == 5678 and field(src, 5) == b"xwing"
    assert field(field(raw, 41), 1) == b"Hubble"  # emitter
    assert field(field(raw, 19), 2) == 133  # event_type.sub_type
    assert field(field(raw, 38), 1) == b"bpf_lxc.c"  # file
    policy = field(raw, 21005)  # ingress_denied_by
    assert field(policy, 1) == b"rule1" and field(policy, 4) == 2**64 - 1
    assert field(raw, 21006) == b"deny-log"
    http = flow_to_proto(HTTP_REQUEST).SerializeToString()
    assert field(http, 26) == b""  # is_reply BoolValue(false): present, empty message
    l7 = field(http, 15)
    assert field(l7, 1) == 1 and field(field(l7, 101), 2) == b"POST"  # REQUEST, http.method
    assert field(field(field(http, 30), 1), 1) == b"4bf92f3577b34da6a3ce929d0e0e4736"  # trace_context
    dns = field(field(flow_to_proto(DNS_ANSWER).SerializeToString(), 15), 100)
    assert field(dns, 1) == b"api.github.com." and field(dns, 3) == 60 and field(dns, 5) == b"proxy"
    sock = flow_to_proto(TRACE_SOCK).SerializeToString()
    assert field(sock, 31) == 2 and field(sock, 32) == 18446744073709551000 and field(sock, 33) == 4294967296


def test_grpc_filters_and_request_conversion():
    f = {"source_pod": ["default/xwing"], "verdict": ["DROPPED", "FORWARDED"], "source_identity": [5678],
         "tcp_flags": [{"SYN": True}], "reply": [False], "ip_trace_id": ["7"],
         "http_header": [{"key": "a", "value": "b"}], "experimental": {"cel_expression": ["true"]}}
    m = filter_to_proto(f)
    assert proto_to_filter(m) == {**f, "reply": [False]}
    raw = m.SerializeToString()
    assert field(raw, 2) == b"default/xwing" and field(raw, 19) == b"\xae\x2c"  # packed uint32 5678
    assert field(raw, 5) == bytes([2, 1])  # packed enum verdicts
    assert field(field(raw, 999), 1) == b"true"
    assert proto_to_filter(filter_to_proto({"sourcePod": ["x"]})) == {"source_pod": ["x"]}
    with pytest.raises(FilterError):
        filter_to_proto({"no_such_filter": ["x"]})
    with pytest.raises(FilterError):
        filter_to_proto({"verdict": ["MAYBE"]})

    since = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    req = FlowsRequest(number=UINT64_MAX, first=True, since=since, until=since.replace(hour=4),
                       whitelist=[{"verdict": ["DROPPED"]}], blacklist=[{"protocol": ["udp"]}],
                       field_mask=["time", "source.pod_name"])
    pm = request_to_proto(req)
    raw = pm.SerializeToString()
    assert field(raw, 1) == UINT64_MAX and field(raw, 9) == 1
    assert field(field(raw, 6), 5) == bytes([2]) and field(field(raw, 5), 12) == b"udp"
    assert field(field(raw, 10), 1) == b"time"  # top-level field_mask = 10
    assert field(field(raw, 7), 1) == int(since.timestamp())
    assert proto_to_request(pm) == req


def test_grpc_apply_field_mask():
    masked = apply_field_mask(TCP_DROP, ["Summary", "time", "source.pod_name", "source.identity", "IP", "l7"])
    assert json.dumps(masked) == json.dumps({
        "time": TCP_DROP["time"], "IP": TCP_DROP["IP"],
        "source": {"identity": 5678, "pod_name": "xwing"}, "Summary": "TCP Flags: SYN"})
    # nested paths allocate their message, as Hubble's fieldmask.Alloc does
    assert apply_field_mask({"time": "t"}, ["destination.pod_name"]) == {"destination": {}}
    # parent path wins over its children (fieldmaskpb Normalize)
    assert apply_field_mask(TCP_DROP, ["source.pod_name", "source"])["source"] == TCP_DROP["source"]
    assert apply_field_mask(TCP_DROP, []) is TCP_DROP
    for bad in (["no_such_field"], ["source.nope"], ["node_labels.x"]):
        with pytest.raises(FilterError, match="invalid fieldmask"):
            apply_field_mask(TCP_DROP, bad)
    masked["source"]["pod_name"] = "changed"
    assert TCP_DROP["source"]["pod_name"] == "xwing"  # a copy, never the ring's flow


# -- Observer over TCP ------------------------------------------------------------------------------

def test_grpc_get_flows_streams_in_order(client):
    events = list(client.get_flows(FlowsRequest(number=UINT64_MAX)))
    assert flows_of(events) == FLOWS
    assert [ev["node_name"] for ev in events] == [f["node_name"] for f in FLOWS]
    assert [ev["time"] for ev in events] == [f["time"] for f in FLOWS]
    assert flows_of(client.get_flows(FlowsRequest(number=2))) == FLOWS[-2:]
    assert flows_of(client.get_flows(FlowsRequest(number=2, first=True))) == FLOWS[:2]
    assert flows_of(client.get_flows(FlowsRequest(number=UINT64_MAX, whitelist=[{"verdict": ["DROPPED"]}]))) == [TCP_DROP]
    assert client.server_version == "1.19.4"


def test_grpc_request_reaches_source_intact(client, source):
    since = datetime(2023, 8, 21, 12, 12, 19, tzinfo=UTC)
    req = FlowsRequest(number=3, since=since, whitelist=[{"protocol": ["tcp"]}], blacklist=[{"verdict": ["DROPPED"]}])
    list(client.get_flows(req))
    assert source.requests[-1] == req


def test_grpc_field_mask_applied_server_side(client):
    events = list(client.get_flows(FlowsRequest(number=UINT64_MAX, field_mask=["time", "verdict", "source.pod_name"])))
    assert events[0] == {"flow": {"time": TCP_DROP["time"], "verdict": "DROPPED", "source": {"pod_name": "xwing"}},
                         "time": TCP_DROP["time"]}  # node_name not in the mask: the envelope has none either
    assert events[3]["flow"]["source"] == {"pod_name": "coredns-5d78c9869d-abcde"}
    with pytest.raises(InvalidArgumentError, match="invalid fieldmask"):
        list(client.get_flows(FlowsRequest(field_mask=["bogus"])))


def test_grpc_invalid_arguments(client):
    with pytest.raises(InvalidArgumentError) as err:
        list(client.get_flows(FlowsRequest(whitelist=[{"protocol": ["foo"]}])))
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "foo" in err.value.details and "protocol" in err.value.details
    assert str(err.value).startswith("rpc error: code = InvalidArgument desc = ")
    assert isinstance(err.value, FilterError)
    with pytest.raises(InvalidArgumentError, match="first cannot be specified with follow"):
        list(client.get_flows(FlowsRequest(first=True, follow=True)))


def test_grpc_follow_and_cancel(client, source):
    source.follow_ended.clear()
    stream = client.get_flows(FlowsRequest(number=1, follow=True))
    assert next(stream)["flow"] == FLOWS[-1]
    live = dict(copy.deepcopy(DNS_ANSWER), uuid="live-1", time="2023-08-21T12:13:00Z")
    source.incoming.put(live)
    assert next(stream)["flow"] == live
    stream.stop()
    assert list(stream) == []
    assert source.follow_ended.wait(3), "server kept following after the client cancelled"


def test_grpc_server_status_nodes_namespaces(client):
    assert client.server_status() == STATUS
    assert client.get_namespaces() == [{"cluster": "kind-kind", "namespace": "default"},
                                       {"cluster": "kind-kind", "namespace": "kube-system"}]
    with pytest.raises(RPCError) as err:
        client.get_nodes()
    assert err.value.code == grpc.StatusCode.UNIMPLEMENTED and "Relay" in err.value.details


def test_grpc_health(client):
    assert client.health_check() == "SERVING"
    assert client.health_check("") == "SERVING"
    with pytest.raises(RPCError) as err:
        client.health_check("no.such.Service")
    assert err.value.code == grpc.StatusCode.NOT_FOUND


def test_grpc_raw_stub_and_wire_bytes(server):
    """A hand-encoded GetFlowsRequest, raw response bytes: proves the numbers, not our codegen."""
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        get_flows = ch.unary_stream("/observer.Observer/GetFlows", request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        # number=2 (1), first=true (9), whitelist (6) = FlowFilter{verdict: [FORWARDED]} (5, packed)
        req = _key(1, 0) + b"\x02" + _key(9, 0) + b"\x01" + _key(6, 2) + b"\x03" + _key(5, 2) + b"\x01\x01"
        call = get_flows(req)
        raws = list(call)
        assert dict(call.initial_metadata())["hubble-server-version"] == "1.19.4"
        assert len(raws) == 2
        flow = field(raws[0], 1)
        assert field(flow, 34) == HTTP_REQUEST["uuid"].encode() and field(flow, 2) == 1
        assert field(raws[0], 1000) == b"kind-kind/kind-worker"  # node_name
        assert field(field(raws[0], 1001), 1) == field(field(flow, 1), 1)  # time == flow.time
        status = ch.unary_unary("/observer.Observer/ServerStatus", request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)(b"")
        assert field(status, 1) == 6 and field(status, 2) == 4095 and field(status, 4) == 7997613431426
        assert field(status, 8) == b"1.19.4"
        health = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
        assert field(health(_key(1, 2) + b"\x16hubble.server.Observer"), 1) == 1  # SERVING


def test_grpc_relay_metadata_and_status():
    class RelaySource(ListSource):
        def server_status(self):
            return {**STATUS, "num_connected_nodes": 2, "num_unavailable_nodes": 1, "unavailable_nodes": ["kind-worker2"]}

        def get_nodes(self):
            return [{"name": "kind-kind/kind-worker", "version": "1.19.4", "address": "172.18.0.3:4244",
                     "state": "NODE_CONNECTED", "tls": {"enabled": True, "server_name": "kind-worker.kind-kind.hubble-grpc.cilium.io"},
                     "uptime_ns": "1000", "num_flows": "6", "max_flows": "4095", "seen_flows": "6"}]

    relay = RelaySource(FLOWS)
    srv = serve_observer(relay, "127.0.0.1:0", relay=True, version="1.19.4")
    try:
        with connect(f"127.0.0.1:{srv.port}", timeout=2) as c:
            assert c.server_status()["num_unavailable_nodes"] == 1
            assert c.server_status()["unavailable_nodes"] == ["kind-worker2"]
            assert c.get_nodes() == relay.get_nodes()
            assert c.server_version == "1.19.4"
            _, call = c.observer.ServerStatus.with_call(observer_pb2.ServerStatusRequest())
            assert dict(call.initial_metadata()) == {"hubble-relay-version": "1.19.4"}
    finally:
        srv.stop(None)


# -- Peer ---------------------------------------------------------------------------------------------

def test_grpc_peer_notify():
    nodes = [{"name": "kind-kind/kind-control-plane", "address": "172.18.0.2:4244",
              "tls": {"server_name": "kind-control-plane.kind-kind.hubble-grpc.cilium.io"}},
             {"name": "kind-kind/kind-worker", "address": "172.18.0.3:4244"}]
    current = list(nodes)
    srv = serve_peer(lambda: list(current), "127.0.0.1:0", poll_interval=0.02)
    try:
        with connect(f"127.0.0.1:{srv.port}", timeout=2) as c:
            stream = c.peers()
            assert next(stream) == {**nodes[0], "type": "PEER_ADDED"} | {"tls": nodes[0]["tls"]}
            assert next(stream) == {"name": nodes[1]["name"], "address": nodes[1]["address"], "type": "PEER_ADDED"}
            current.pop()  # the stream stays open and reports changes
            assert next(stream) == {"name": nodes[1]["name"], "address": nodes[1]["address"], "type": "PEER_DELETED"}
            stream.stop()
            with grpc.insecure_channel(f"127.0.0.1:{srv.port}") as ch:
                notify = ch.unary_stream("/peer.Peer/Notify", request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)(b"")
                first = next(notify)
                assert field(first, 1) == nodes[0]["name"].encode() and field(first, 3) == 1
                assert field(field(first, 4), 1) == b"kind-control-plane.kind-kind.hubble-grpc.cilium.io"
                notify.cancel()
    finally:
        srv.stop(None)


def test_grpc_observer_server_can_also_serve_peers(source):
    srv = serve_observer(source, "127.0.0.1:0", peers=lambda: [{"name": "n1", "address": "10.0.0.1:4244"}])
    try:
        with connect(f"127.0.0.1:{srv.port}", timeout=2) as c:
            stream = c.peers()
            assert next(stream) == {"name": "n1", "address": "10.0.0.1:4244", "type": "PEER_ADDED"}
            stream.stop()
    finally:
        srv.stop(None)


# -- transports -----------------------------------------------------------------------------------

def test_grpc_unix_socket(tmp_path, source):
    sock = tmp_path / "hubble.sock"
    srv = serve_observer(source, f"unix://{sock}")
    try:
        assert srv.address == f"unix://{sock}" and srv.port is None and sock.exists()
        with connect(f"unix://{sock}", timeout=2) as c:
            assert flows_of(c.get_flows(FlowsRequest(number=3))) == FLOWS[-3:]
            assert c.health_check() == "SERVING"
    finally:
        srv.stop(None)


def test_grpc_connect_timeout():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="failed to connect"):
        connect(f"127.0.0.1:{port}", timeout=0.2)
    assert time.monotonic() - t0 < 2


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not available to make test certificates")
def test_grpc_tls(tmp_path, source):
    from ciliumlab.hubble.grpc import ServerTLS

    name = "kind-worker.kind-kind.hubble-grpc.cilium.io"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=hubble-ca", "-days", "1",
             cwd=tmp_path)
    _openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", f"/CN={name}", cwd=tmp_path)
    (tmp_path / "ext.cnf").write_text(f"subjectAltName=DNS:{name}\n")
    _openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "srv.crt", "-days", "1", "-extfile", "ext.cnf", cwd=tmp_path)
    srv = serve_observer(source, "127.0.0.1:0", tls=ServerTLS(str(tmp_path / "srv.crt"), str(tmp_path / "srv.key")))
    try:
        with connect(f"tls://127.0.0.1:{srv.port}", timeout=2, ca_files=[str(tmp_path / "ca.crt")],
                     server_name=name) as c:
            assert c.health_check() == "SERVING"
            assert flows_of(c.get_flows(FlowsRequest(number=1))) == FLOWS[-1:]
        with pytest.raises(ConnectionError):  # plaintext against a TLS server
            connect(f"127.0.0.1:{srv.port}", timeout=0.2)
        with pytest.raises(ConnectionError):  # TLS without trusting the CA
            connect(f"tls://127.0.0.1:{srv.port}", timeout=0.2, server_name=name)
        with connect(f"tls://127.0.0.1:{srv.port}", timeout=2, insecure=True) as c:  # --tls-allow-insecure
            assert c.health_check() == "SERVING"
    finally:
        srv.stop(None)
    crt, key, ca = (str(tmp_path / f) for f in ("srv.crt", "srv.key", "ca.crt"))
    mtls = serve_observer(source, "127.0.0.1:0", tls={"cert_file": crt, "key_file": key, "client_ca_files": (ca,)})
    try:
        with pytest.raises(ConnectionError):  # the server requires a client certificate
            connect(f"tls://127.0.0.1:{mtls.port}", timeout=0.2, ca_files=[ca], server_name=name)
        with connect(f"tls://127.0.0.1:{mtls.port}", timeout=2, ca_files=[ca], server_name=name, cert=crt, key=key) as c:
            assert c.health_check() == "SERVING"
    finally:
        mtls.stop(None)


# -- the real hubble CLI, when present ------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("hubble") is None, reason="no real hubble binary on PATH")
def test_grpc_real_hubble_cli(server):
    addr = f"127.0.0.1:{server.port}"
    out = subprocess.run(["hubble", "observe", "--server", addr, "--all", "-o", "json"], capture_output=True,
                         text=True, timeout=20, check=True).stdout
    got = [json.loads(line)["flow"] for line in out.splitlines() if line.strip()]
    assert got == FLOWS
    status = subprocess.run(["hubble", "status", "--server", addr], capture_output=True, text=True, timeout=20)
    assert status.returncode == 0 and "Healthcheck (via" in status.stdout
    bad = subprocess.run(["hubble", "observe", "--server", addr, "--protocol", "foo"], capture_output=True,
                         text=True, timeout=20)
    assert bad.returncode != 0 and "InvalidArgument" in bad.stderr


def test_grpc_many_concurrent_streams(client):
    results: list[list[dict]] = []

    def run():
        results.append(flows_of(client.get_flows(FlowsRequest(number=UINT64_MAX))))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert results == [FLOWS] * 8
