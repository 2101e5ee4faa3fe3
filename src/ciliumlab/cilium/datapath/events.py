"""Monitor events: what a node's datapath (and its proxies) report, one object per event.

These mirror Cilium's perf-ring messages (pkg/monitor): trace, drop, policy-verdict, trace-sock
and L7 access-log records. They are the only thing Hubble and `cilium-dbg monitor` read. They
are kept compact (slots, ints, no nested dicts) because every packet of every connection makes
one; turning them into protobuf/JSON Flows is the reader's job, done only when asked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Message types (pkg/monitor/api/types.go)
DROP, DEBUG, CAPTURE, TRACE, POLICY_VERDICT, RECORD_CAPTURE, TRACE_SOCK = 1, 2, 3, 4, 5, 6, 7
ACCESS_LOG, AGENT = 129, 130

# Trace observation points (monitor subtypes of TRACE)
TO_ENDPOINT, TO_PROXY, TO_HOST, TO_STACK, TO_OVERLAY = 0, 1, 2, 3, 4
FROM_ENDPOINT, FROM_PROXY, FROM_HOST, FROM_STACK, FROM_OVERLAY = 5, 6, 7, 8, 9
FROM_NETWORK, TO_NETWORK = 10, 11

OBS_POINT_NAMES = {
    TO_ENDPOINT: "to-endpoint", TO_PROXY: "to-proxy", TO_HOST: "to-host", TO_STACK: "to-stack",
    TO_OVERLAY: "to-overlay", FROM_ENDPOINT: "from-endpoint", FROM_PROXY: "from-proxy",
    FROM_HOST: "from-host", FROM_STACK: "from-stack", FROM_OVERLAY: "from-overlay",
    FROM_NETWORK: "from-network", TO_NETWORK: "to-network",
}

# Conntrack reasons carried by trace events (monitor values)
CT_NEW, CT_ESTABLISHED, CT_REPLY, CT_RELATED, CT_REOPENED = 0, 1, 2, 3, 4

# Socket translation points (TRACE_SOCK subtypes)
SOCK_PRE_XLATE_FWD, SOCK_POST_XLATE_FWD, SOCK_PRE_XLATE_REV, SOCK_POST_XLATE_REV = 1, 2, 3, 4

# TCP flag bits (as in the TCP header)
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

# Protocols
TCP, UDP, ICMP, SCTP = 6, 17, 1, 132

# Policy-verdict direction flags and match types (bpf/lib/policy_log.h; Hubble policy_match_type)
INGRESS, EGRESS = 1, 2
MATCH_NONE, MATCH_L3_ONLY, MATCH_L3_L4, MATCH_L4_ONLY, MATCH_ALL, MATCH_L3_PROTO, MATCH_PROTO_ONLY = range(7)

# Drop reasons used by the lab (full table: spec/hubble/metrics-export.md (c))
DROP_POLICY_DENIED = 133
DROP_POLICY_DENY = 181
DROP_NO_SERVICE = 158
DROP_UNROUTABLE = 151
DROP_AUTH_REQUIRED = 189

# L7 access-log record types and verdicts (pkg/proxy/accesslog)
L7_REQUEST, L7_RESPONSE, L7_SAMPLE = 1, 2, 3
L7_FORWARDED, L7_DENIED, L7_ERROR, L7_REDIRECTED = "Forwarded", "Denied", "Error", "Redirected"


@dataclass(slots=True)
class Peer:
    """One side of an event: what the datapath knows about an address on this node."""

    ip: str
    port: int
    identity: int
    endpoint_id: int = 0  # local endpoint id, 0 if not local to the reporting node


@dataclass(slots=True)
class HttpRecord:
    method: str
    url: str  # "http://deathstar.default.svc.cluster.local/v1/request-landing"
    protocol: str = "HTTP/1.1"
    code: int = 0  # responses only
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class DnsRecord:
    query: str  # FQDN with trailing dot
    qtypes: tuple[str, ...] = ("A",)
    rcode: int = 0  # responses only (0 NOERROR, 3 NXDOMAIN, 5 REFUSED)
    ips: tuple[str, ...] = ()
    ttl: int = 0
    cnames: tuple[str, ...] = ()
    rrtypes: tuple[str, ...] = ()


@dataclass(slots=True)
class L7Record:
    """An access-log record of the L7 proxies (HTTP from the Envoy role, DNS from the DNS proxy)."""

    type: int  # L7_REQUEST / L7_RESPONSE
    verdict: str  # L7_FORWARDED / L7_DENIED / …
    latency_ns: int = 0
    http: HttpRecord | None = None
    dns: DnsRecord | None = None
    observation_point: str = ""  # "Ingress" / "Egress"


@dataclass(slots=True)
class MonitorEvent:
    """One datapath or proxy event on one node.

    `type`/`subtype` are the monitor message type and subtype (trace observation point, drop
    reason, socket translation point …). `src`/`dst` are as the packet has them at that point;
    `orig_dst` is the service frontend before socket-LB translation, when there was one. Rings
    hold hundreds of thousands of these, so rare parts live in sub-records (`l7`, `file`).
    """

    type: int
    subtype: int
    time: float
    node: str
    proto: int
    src: Peer
    dst: Peer
    tcp_flags: int = 0
    icmp_type: int = -1
    ct_reason: int = -1  # trace: CT_NEW …, -1 unknown
    is_reply: bool | None = None
    # drop / policy verdict
    drop_reason: int = 0
    direction: int = 0  # INGRESS / EGRESS flags for verdicts and drops
    verdict: int = 0  # policy-verdict: 0 allow, proxy port for a redirect, -reason for a deny
    match_type: int = 0
    audited: bool = False
    policies: tuple = ()  # PolicyRef objects that decided (policy-verdict, drops)
    # trace details
    ifindex: int = 0
    proxy_port: int = 0
    orig_dst: tuple[str, int] | None = None  # service frontend (ip, port) before translation
    orig_src_ip: str = ""  # pre-SNAT source, when the node masqueraded
    file: tuple[str, int] | None = None  # drops: (BPF source file, line)
    length: int = 0
    l7: L7Record | None = None

    # -- conveniences for readers (L7 access log) -------------------------------------------
    @property
    def l7_type(self) -> int:
        return self.l7.type if self.l7 else 0

    @property
    def l7_verdict(self) -> str:
        return self.l7.verdict if self.l7 else ""

    @property
    def l7_latency_ns(self) -> int:
        return self.l7.latency_ns if self.l7 else 0

    @property
    def http(self) -> HttpRecord | None:
        return self.l7.http if self.l7 else None

    @property
    def dns(self) -> DnsRecord | None:
        return self.l7.dns if self.l7 else None

    @property
    def observation_point(self) -> str:
        return self.l7.observation_point if self.l7 else ""


Subscriber = Callable[[MonitorEvent], None]


class MonitorBus:
    """A node's event stream: a bounded buffer for late readers plus live subscribers."""

    def __init__(self, node: str, capacity: int = 65536) -> None:
        self.node = node
        self.capacity = capacity
        self._events: deque[MonitorEvent] = deque(maxlen=capacity)
        self._subscribers: list[Subscriber] = []
        self.total = 0

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber) if subscriber in self._subscribers else None

    def emit(self, event: MonitorEvent) -> None:
        self.total += 1
        self._events.append(event)
        if self._subscribers:
            for subscriber in self._subscribers:
                subscriber(event)

    def events(self) -> list[MonitorEvent]:
        return list(self._events)

    def clear(self) -> None:
        self._events.clear()
