"""Hand-built flow dicts (the `hubble observe -o json` contract) and a tiny in-memory FlowSource
for the gRPC tests."""

from __future__ import annotations

import queue
import threading
import time

from ciliumlab.hubble.types import UINT64_MAX, FilterError, FlowsRequest

XWING = {
    "ID": 1234,
    "identity": 5678,
    "namespace": "default",
    "labels": ["k8s:app.kubernetes.io/name=xwing", "k8s:class=xwing", "k8s:io.kubernetes.pod.namespace=default",
               "k8s:org=alliance"],
    "pod_name": "xwing",
    "workloads": [{"name": "xwing", "kind": "Pod"}],
}
DEATHSTAR = {
    "ID": 431,
    "identity": 27035,
    "cluster_name": "kind-kind",
    "namespace": "default",
    "labels": ["k8s:app.kubernetes.io/name=deathstar", "k8s:class=deathstar", "k8s:org=empire"],
    "pod_name": "deathstar-8c4c77fb7-9klws",
    "workloads": [{"name": "deathstar", "kind": "Deployment"}],
}

TCP_DROP = {
    "time": "2023-08-21T12:12:18.510175415Z",
    "uuid": "2bd1a3b8-5a4c-4c0e-9d6e-3f1c0f6e8a11",
    "emitter": {"name": "Hubble", "version": "1.19.4"},
    "verdict": "DROPPED",
    "drop_reason": 133,
    "ethernet": {"source": "1a:2b:3c:4d:5e:6f", "destination": "6f:5e:4d:3c:2b:1a"},
    "IP": {"source": "10.244.1.60", "destination": "10.244.1.5", "ipVersion": "IPv4"},
    "l4": {"TCP": {"source_port": 44916, "destination_port": 80, "flags": {"SYN": True}}},
    "source": XWING,
    "destination": DEATHSTAR,
    "Type": "L3_L4",
    "node_name": "kind-kind/kind-worker",
    "node_labels": ["kubernetes.io/hostname=kind-worker"],
    "event_type": {"type": 1, "sub_type": 133},
    "destination_service": {"name": "deathstar", "namespace": "default"},
    "traffic_direction": "INGRESS",
    "file": {"name": "bpf_lxc.c", "line": 2071},
    "drop_reason_desc": "POLICY_DENIED",
    "Summary": "TCP Flags: SYN",
    "ingress_denied_by": [{"name": "rule1", "namespace": "default", "labels": ["k8s:io.cilium.k8s.policy.name=rule1"],
                           "revision": "18446744073709551615", "kind": "CiliumNetworkPolicy"}],
    "policy_log": ["deny-log"],
}

HTTP_REQUEST = {
    "time": "2023-08-21T12:12:19.001Z",
    "uuid": "0c5a6b3e-2f55-4d0b-8f52-000000000002",
    "verdict": "FORWARDED",
    "IP": {"source": "10.244.1.60", "destination": "10.244.1.5", "ipVersion": "IPv4"},
    "l4": {"TCP": {"source_port": 44918, "destination_port": 80}},
    "source": XWING,
    "destination": DEATHSTAR,
    "Type": "L7",
    "node_name": "kind-kind/kind-worker",
    "l7": {"type": "REQUEST", "http": {"method": "POST", "url": "http://deathstar.default.svc.cluster.local/v1/request-landing?a=1&b=<x>",
                                       "protocol": "HTTP/1.1",
                                       "headers": [{"key": ":authority", "value": "deathstar"},
                                                   {"key": "X-Request-Id", "value": "9f8e"}]}},
    "event_type": {"type": 129},
    "traffic_direction": "INGRESS",
    "is_reply": False,
    "trace_context": {"parent": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}},
    "Summary": "HTTP/1.1 POST http://deathstar.default.svc.cluster.local/v1/request-landing",
    "ingress_allowed_by": [{"name": "rule1", "namespace": "default", "revision": "3", "kind": "CiliumNetworkPolicy"}],
}

HTTP_RESPONSE = {
    "time": "2023-08-21T12:12:19.003456Z",
    "uuid": "0c5a6b3e-2f55-4d0b-8f52-000000000003",
    "verdict": "FORWARDED",
    "IP": {"source": "10.244.1.5", "destination": "10.244.1.60", "ipVersion": "IPv4"},
    "l4": {"TCP": {"source_port": 80, "destination_port": 44918}},
    "source": DEATHSTAR,
    "destination": XWING,
    "Type": "L7",
    "node_name": "kind-kind/kind-worker",
    "l7": {"type": "RESPONSE", "latency_ns": "2456000",
           "http": {"code": 200, "method": "POST", "url": "http://deathstar.default.svc.cluster.local/v1/request-landing",
                    "protocol": "HTTP/1.1", "headers": [{"key": "content-type", "value": "text/plain"}]}},
    "event_type": {"type": 129},
    "traffic_direction": "INGRESS",
    "is_reply": True,
    "Summary": "HTTP/1.1 200 2ms (POST http://deathstar.default.svc.cluster.local/v1/request-landing)",
}

DNS_ANSWER = {
    "time": "2023-08-21T12:12:20Z",
    "uuid": "0c5a6b3e-2f55-4d0b-8f52-000000000004",
    "verdict": "FORWARDED",
    "IP": {"source": "10.96.0.10", "destination": "10.244.1.60", "ipVersion": "IPv4"},
    "l4": {"UDP": {"source_port": 53, "destination_port": 51234}},
    "source": {"identity": 102, "namespace": "kube-system", "labels": ["k8s:k8s-app=kube-dns"],
               "pod_name": "coredns-5d78c9869d-abcde"},
    "destination": XWING,
    "Type": "L7",
    "node_name": "kind-kind/kind-worker",
    "source_names": ["kube-dns.kube-system.svc.cluster.local"],
    "l7": {"type": "RESPONSE", "latency_ns": "512000",
           "dns": {"query": "api.github.com.", "ips": ["140.82.121.6"], "ttl": 60, "cnames": ["github.com."],
                   "observation_source": "proxy", "qtypes": ["A"], "rrtypes": ["A"]}},
    "event_type": {"type": 129},
    "traffic_direction": "EGRESS",
    "is_reply": True,
    "Summary": 'DNS Answer "140.82.121.6" TTL: 60 (Proxy api.github.com. A)',
}

TRACE_SOCK = {
    "time": "2023-08-21T12:12:21.000000001Z",
    "uuid": "0c5a6b3e-2f55-4d0b-8f52-000000000005",
    "verdict": "TRACED",
    "IP": {"source": "10.244.1.60", "destination": "10.96.120.7", "ipVersion": "IPv4"},
    "l4": {"TCP": {"destination_port": 80}},
    "source": XWING,
    "destination": {"identity": 27035, "namespace": "default", "pod_name": "deathstar-8c4c77fb7-9klws"},
    "Type": "SOCK",
    "node_name": "kind-kind/kind-worker",
    "event_type": {"type": 7, "sub_type": 2},
    "destination_service": {"name": "deathstar", "namespace": "default"},
    "sock_xlate_point": "SOCK_XLATE_POINT_POST_DIRECTION_FWD",
    "socket_cookie": "18446744073709551000",
    "cgroup_id": "4294967296",
    "Summary": "TCP",
}

TRACE_REPLY = {
    "time": "2023-08-21T12:12:22.500Z",
    "uuid": "0c5a6b3e-2f55-4d0b-8f52-000000000006",
    "verdict": "FORWARDED",
    "ethernet": {"source": "6f:5e:4d:3c:2b:1a", "destination": "1a:2b:3c:4d:5e:6f"},
    "IP": {"source": "10.244.2.9", "source_xlated": "172.18.0.3", "destination": "10.244.1.60",
           "ipVersion": "IPv4", "encrypted": True},
    "l4": {"ICMPv4": {}},
    "tunnel": {"protocol": "VXLAN", "IP": {"source": "172.18.0.3", "destination": "172.18.0.2",
                                           "ipVersion": "IPv4"},
               "l4": {"UDP": {"source_port": 41234, "destination_port": 8472}}, "vni": 2},
    "source": {"identity": 6, "labels": ["reserved:remote-node"]},
    "destination": XWING,
    "Type": "L3_L4",
    "node_name": "kind-kind/kind-worker",
    "reply": True,
    "event_type": {"type": 4},
    "traffic_direction": "EGRESS",
    "trace_observation_point": "TO_ENDPOINT",
    "trace_reason": "REPLY",
    "ip_trace_id": {"trace_id": "7", "ip_option_type": 136},
    "is_reply": True,
    "interface": {"index": 12, "name": "lxc1234"},
    "Summary": "ICMPv4 EchoReply",
    "aggregate": {"ingress_flow_count": 3},
}

FLOWS = [TCP_DROP, HTTP_REQUEST, HTTP_RESPONSE, DNS_ANSWER, TRACE_SOCK, TRACE_REPLY]

STATUS = {"num_flows": "6", "max_flows": "4095", "seen_flows": "6", "uptime_ns": "7997613431426",
          "version": "1.19.4", "flows_rate": 0.25}


def _fallback_compile(whitelist: list[dict], blacklist: list[dict]):
    """Just enough of pkg/hubble/filters when ciliumlab.hubble.filters is not there yet."""

    def one(f: dict):
        for key in f:
            if key not in ("verdict", "protocol"):
                raise FilterError(f"unsupported filter in test source: {key}")
        for proto in f.get("protocol", []):
            if proto.lower() not in ("tcp", "udp", "icmp", "icmpv4", "icmpv6", "sctp", "dns", "http", "kafka"):
                raise FilterError(f'unknown protocol: "{proto}"')

        def match(flow: dict) -> bool:
            if "verdict" in f and flow.get("verdict") not in f["verdict"]:
                return False
            if "protocol" in f:
                l4 = {k.lower() for k in flow.get("l4", {})}
                return any(p.lower() in l4 for p in f["protocol"])
            return True

        return match

    wl = [one(f) for f in whitelist]
    bl = [one(f) for f in blacklist]
    return lambda flow: (not wl or any(m(flow) for m in wl)) and not any(m(flow) for m in bl)


def compile_request(request: FlowsRequest):
    if not request.whitelist and not request.blacklist:
        return lambda flow: True
    try:
        from ciliumlab.hubble.filters import compile_filters
    except ImportError:
        compile_filters = _fallback_compile
    return compile_filters(request.whitelist, request.blacklist)


class ListSource:
    """FlowSource over a list of flow dicts: number / first / follow / whitelist, minimally."""

    def __init__(self, flows: list[dict], node_name: str = "kind-kind/kind-worker") -> None:
        self.flows = list(flows)
        self.node_name = node_name
        self.incoming: queue.Queue = queue.Queue()
        self.requests: list[FlowsRequest] = []
        self.follow_ended = threading.Event()
        self.nodes_error: Exception | None = NotImplementedError("GetNodes is only implemented by Hubble Relay")

    def _response(self, flow: dict) -> dict:
        return {"flow": flow, "node_name": flow.get("node_name", self.node_name), "time": flow["time"]}

    def get_flows(self, request: FlowsRequest, stop: threading.Event | None = None):
        self.requests.append(request)
        if request.first and request.follow:
            raise FilterError("first cannot be specified with follow")
        match = compile_request(request)
        picked = [f for f in self.flows if match(f)]
        n = request.number
        if request.follow and n == 0:
            picked = []
        elif n and n != UINT64_MAX:
            picked = picked[:n] if request.first else picked[-n:]
        for flow in picked:
            yield self._response(flow)
        if not request.follow:
            return
        deadline = time.monotonic() + 10  # a broken cancel must fail the test, not hang the suite
        try:
            while (stop is None or not stop.is_set()) and time.monotonic() < deadline:
                try:
                    flow = self.incoming.get(timeout=0.05)
                except queue.Empty:
                    continue
                if match(flow):
                    yield self._response(flow)
        finally:
            self.follow_ended.set()

    def server_status(self) -> dict:
        return dict(STATUS)

    def get_nodes(self) -> list[dict]:
        if self.nodes_error:
            raise self.nodes_error
        return []

    def get_namespaces(self) -> list[dict]:
        return [{"cluster": "kind-kind", "namespace": "default"}, {"cluster": "kind-kind", "namespace": "kube-system"}]
