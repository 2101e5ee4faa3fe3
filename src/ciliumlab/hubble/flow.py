"""Monitor events → Flows, the way Hubble's parser builds them (flow-api.md §1.1–1.3).

The observer stores each event with the `Enrichment` captured when it arrived (who the
endpoints were, which service, which DNS names) — what the agent knew *then* — and builds the
flow dict only when someone reads it. The dict is exactly the `flow` object of
`hubble observe -o json`: proto names, declaration order, protojson value conventions.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from ..cilium.datapath import events as ev
from .enums import (
    DNS_RCODES,
    DROP_REASON_NAMES,
    ICMPV4_TYPES,
    L7_TYPES,
    OBSERVATION_POINTS,
    SOCK_XLATE_POINTS,
    TRACE_REASONS,
    TRAFFIC_DIRECTIONS,
)

# Summary lists flags SYN first (Hubble's parser); the JSON object follows TCPFlags' field order.
TCP_FLAG_ORDER = (("SYN", ev.SYN), ("ACK", ev.ACK), ("RST", ev.RST), ("FIN", ev.FIN), ("PSH", ev.PSH),
                  ("URG", ev.URG), ("ECE", ev.ECE), ("CWR", ev.CWR))
TCP_FLAG_FIELDS = (("FIN", ev.FIN), ("SYN", ev.SYN), ("RST", ev.RST), ("PSH", ev.PSH), ("ACK", ev.ACK),
                   ("URG", ev.URG), ("ECE", ev.ECE), ("CWR", ev.CWR))
L4_NAMES = {ev.TCP: "TCP", ev.UDP: "UDP", ev.SCTP: "SCTP"}


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What the agent knew about an event's addresses when it happened."""

    source: dict  # Endpoint dict (shared, never mutated)
    destination: dict
    source_service: dict | None = None
    destination_service: dict | None = None
    source_names: tuple[str, ...] = ()
    destination_names: tuple[str, ...] = ()
    source_mac: str = ""
    destination_mac: str = ""
    ifname: str = ""


def timestamp(ts: float) -> str:
    """protojson Timestamp: RFC3339 UTC with 0, 3, 6 or 9 fractional digits."""
    ns_total = round(ts * 1_000_000_000)
    secs, nanos = divmod(ns_total, 1_000_000_000)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return base + "Z"
    if nanos % 1_000_000 == 0:
        return f"{base}.{nanos // 1_000_000:03d}Z"
    if nanos % 1_000 == 0:
        return f"{base}.{nanos // 1_000:06d}Z"
    return f"{base}.{nanos:09d}Z"


def tcp_flags_summary(flags: int) -> str:
    return "TCP Flags: " + ", ".join(name for name, bit in TCP_FLAG_ORDER if flags & bit)


def policy_dicts(policies) -> list[dict]:
    out = []
    for ref in policies:
        d = {"name": ref.name}
        if ref.namespace:
            d["namespace"] = ref.namespace
        if ref.labels:
            d["labels"] = list(ref.labels)
        if ref.revision:
            d["revision"] = str(ref.revision)
        if ref.kind:
            d["kind"] = ref.kind
        out.append(d)
    return out


class FlowBuilder:
    """Builds flow dicts for one node."""

    def __init__(self, node_name: str, node_labels: list[str], version: str, seed: str = "hubble") -> None:
        self.node_name = node_name
        self.node_labels = node_labels
        self.emitter = {"name": "Hubble", "version": version}
        self._seed = f"{seed}/{node_name}/".encode()

    def _uuid(self, e: ev.MonitorEvent) -> str:
        """A random-looking v4 UUID that is the same every time this event's flow is built
        (derived from the live event object and its time)."""
        key = self._seed + id(e).to_bytes(8, "big") + repr(e.time).encode()
        return str(uuid.UUID(bytes=hashlib.blake2b(key, digest_size=16).digest(), version=4))

    def build(self, e: ev.MonitorEvent, x: Enrichment, *, light: bool = False) -> dict:
        """The flow dict; `light` leaves out `time`, `uuid` and `emitter` (the costliest fields,
        which metrics handlers never read) for the per-event metrics path."""
        t = e.type
        flow: dict = {} if light else {"time": timestamp(e.time), "uuid": self._uuid(e), "emitter": self.emitter}
        if t == ev.ACCESS_LOG:
            return self._l7(flow, e, x)
        if t == ev.TRACE_SOCK:
            return self._sock(flow, e, x)
        verdict, drop = self._verdict(e)
        flow["verdict"] = verdict
        if drop:
            flow["drop_reason"] = drop
        if x.source_mac or x.destination_mac:
            flow["ethernet"] = {"source": x.source_mac, "destination": x.destination_mac}
        flow["IP"] = self._ip(e)
        l4, summary = self._l4(e, with_flags=True)
        if l4:
            flow["l4"] = l4
        self._endpoints(flow, x)
        flow["Type"] = "L3_L4"
        self._node(flow, x)
        is_reply = self._is_reply(e)
        if is_reply:
            flow["reply"] = True  # deprecated twin of is_reply; protojson omits false
        flow["event_type"] = {"type": t, "sub_type": e.subtype} if e.subtype else {"type": t}
        self._services(flow, x)
        direction = self._direction(e)
        if direction:
            flow["traffic_direction"] = direction
        if t == ev.POLICY_VERDICT and e.match_type:
            flow["policy_match_type"] = e.match_type
        if t == ev.TRACE:
            flow["trace_observation_point"] = OBSERVATION_POINTS.get(e.subtype, "UNKNOWN_POINT")
            if e.ct_reason >= 0:
                flow["trace_reason"] = TRACE_REASONS.get(e.ct_reason, "TRACE_REASON_UNKNOWN")
        if t == ev.DROP and e.file:
            flow["file"] = {"name": e.file[0], "line": e.file[1]}
        if drop:
            flow["drop_reason_desc"] = DROP_REASON_NAMES.get(drop, "DROP_REASON_UNKNOWN")
        if is_reply is not None:
            flow["is_reply"] = is_reply
        if t == ev.TRACE and e.ifindex:
            flow["interface"] = {"index": e.ifindex, "name": x.ifname} if x.ifname else {"index": e.ifindex}
        if t == ev.TRACE and e.subtype == ev.TO_PROXY and e.proxy_port:
            flow["proxy_port"] = e.proxy_port
        flow["Summary"] = summary
        if t == ev.POLICY_VERDICT and e.policies:
            key = ("ingress" if e.direction == ev.INGRESS else "egress") + (
                "_denied_by" if e.verdict < 0 and not e.audited else "_allowed_by")
            flow[key] = policy_dicts(e.policies)
        return flow

    # -- pieces -----------------------------------------------------------------------------
    def _verdict(self, e: ev.MonitorEvent) -> tuple[str, int]:
        if e.type == ev.DROP:
            return "DROPPED", e.drop_reason or e.subtype
        if e.type == ev.POLICY_VERDICT:
            if e.audited:
                return "AUDIT", 0
            if e.verdict < 0:
                return "DROPPED", -e.verdict
            if e.verdict > 0:
                return "REDIRECTED", 0
        return "FORWARDED", 0

    def _ip(self, e: ev.MonitorEvent) -> dict:
        ip = {"source": e.src.ip}
        if e.orig_src_ip and e.orig_src_ip != e.src.ip:
            # SNAT: the flow shows the pre-NAT source and the translated one
            ip = {"source": e.orig_src_ip, "source_xlated": e.src.ip}
        ip["destination"] = e.dst.ip
        ip["ipVersion"] = "IPv4"
        return ip

    def _l4(self, e: ev.MonitorEvent, with_flags: bool) -> tuple[dict | None, str]:
        name = L4_NAMES.get(e.proto)
        if name is not None:
            l4 = {}
            if e.src.port:
                l4["source_port"] = e.src.port
            if e.dst.port:
                l4["destination_port"] = e.dst.port
            if name == "TCP" and with_flags and e.tcp_flags:
                l4["flags"] = {n: True for n, bit in TCP_FLAG_FIELDS if e.tcp_flags & bit}
                return {name: l4}, tcp_flags_summary(e.tcp_flags)
            return {name: l4}, name
        if e.proto == ev.ICMP:
            icmp = {}
            if e.icmp_type > 0:
                icmp["type"] = e.icmp_type
            kind = ICMPV4_TYPES.get(e.icmp_type, str(e.icmp_type))
            return {"ICMPv4": icmp}, f"ICMPv4 {kind}"
        return None, "IPv4"

    def _endpoints(self, flow: dict, x: Enrichment) -> None:
        if x.source:
            flow["source"] = x.source
        if x.destination:
            flow["destination"] = x.destination

    def _node(self, flow: dict, x: Enrichment) -> None:
        flow["node_name"] = self.node_name
        if self.node_labels:
            flow["node_labels"] = self.node_labels
        if x.source_names:
            flow["source_names"] = list(x.source_names)
        if x.destination_names:
            flow["destination_names"] = list(x.destination_names)

    def _services(self, flow: dict, x: Enrichment) -> None:
        if x.source_service:
            flow["source_service"] = x.source_service
        if x.destination_service:
            flow["destination_service"] = x.destination_service

    def _direction(self, e: ev.MonitorEvent) -> str:
        if e.type in (ev.DROP, ev.POLICY_VERDICT, ev.ACCESS_LOG):
            return TRAFFIC_DIRECTIONS.get(e.direction, "") if e.direction else ""
        if e.type == ev.TRACE and e.ct_reason >= 0:
            # egress iff the source is a local endpoint XOR the packet is a reply
            local_src = e.src.endpoint_id != 0
            return "EGRESS" if local_src != bool(e.is_reply) else "INGRESS"
        return ""

    def _is_reply(self, e: ev.MonitorEvent) -> bool | None:
        if e.type == ev.DROP:
            return None
        if e.type == ev.POLICY_VERDICT:
            return None if e.verdict < 0 and not e.audited else False
        if e.type == ev.TRACE:
            return None if e.ct_reason < 0 else e.ct_reason == ev.CT_REPLY
        return e.is_reply

    # -- L7 access log ------------------------------------------------------------------------
    def _l7(self, flow: dict, e: ev.MonitorEvent, x: Enrichment) -> dict:
        verdict = {ev.L7_FORWARDED: "FORWARDED", ev.L7_DENIED: "DROPPED", ev.L7_ERROR: "ERROR",
                   ev.L7_REDIRECTED: "REDIRECTED"}.get(e.l7_verdict, "VERDICT_UNKNOWN")
        flow["verdict"] = verdict
        flow["IP"] = self._ip(e)
        l4, _ = self._l4(e, with_flags=False)
        if l4:
            flow["l4"] = l4
        self._endpoints(flow, x)
        flow["Type"] = "L7"
        self._node(flow, x)
        l7: dict = {"type": L7_TYPES.get(e.l7_type, "UNKNOWN_L7_TYPE")}
        if e.l7_type == ev.L7_RESPONSE and e.l7_latency_ns:
            l7["latency_ns"] = str(e.l7_latency_ns)
        summary = ""
        if e.http is not None:
            l7["http"], summary = self._http(e)
        elif e.dns is not None:
            l7["dns"], summary = self._dns(e)
        flow["l7"] = l7
        if e.l7_type == ev.L7_RESPONSE:
            flow["reply"] = True
        flow["event_type"] = {"type": ev.ACCESS_LOG}
        self._services(flow, x)
        flow["traffic_direction"] = "INGRESS" if e.observation_point == "Ingress" else "EGRESS"
        flow["is_reply"] = e.l7_type == ev.L7_RESPONSE
        flow["Summary"] = summary
        return flow

    def _http(self, e: ev.MonitorEvent) -> tuple[dict, str]:
        h = e.http
        http: dict = {}
        if h.code:
            http["code"] = h.code
        http["method"] = h.method
        http["url"] = h.url
        http["protocol"] = h.protocol
        if h.headers:
            http["headers"] = [{"key": k, "value": v} for k, v in h.headers]
        if e.l7_type == ev.L7_RESPONSE:
            ms = e.l7_latency_ns // 1_000_000
            return http, f"{h.protocol} {h.code} {ms}ms ({h.method} {h.url})"
        return http, f"{h.protocol} {h.method} {h.url}"

    def _dns(self, e: ev.MonitorEvent) -> tuple[dict, str]:
        d = e.dns
        dns: dict = {"query": d.query}
        if d.ips:
            dns["ips"] = list(d.ips)
        if d.ttl:
            dns["ttl"] = d.ttl
        if d.cnames:
            dns["cnames"] = list(d.cnames)
        dns["observation_source"] = "proxy"
        if d.rcode:
            dns["rcode"] = d.rcode
        dns["qtypes"] = list(d.qtypes)
        if d.rrtypes:
            dns["rrtypes"] = list(d.rrtypes)
        qtypes = ",".join(d.qtypes)
        if e.l7_type != ev.L7_RESPONSE:
            return dns, f"DNS Query {d.query} {qtypes}"
        if d.rcode:
            answer = f"RCode: {DNS_RCODES.get(d.rcode, str(d.rcode))}"
        else:
            answer = '"' + ",".join(d.ips) + '"'
            if d.cnames:
                answer += ' CNAMEs: "' + ",".join(d.cnames) + '"'
        return dns, f"DNS Answer {answer} TTL: {d.ttl} (Proxy {d.query} {qtypes})"

    # -- trace-sock -----------------------------------------------------------------------------
    def _sock(self, flow: dict, e: ev.MonitorEvent, x: Enrichment) -> dict:
        pre = e.subtype in (ev.SOCK_PRE_XLATE_FWD, ev.SOCK_PRE_XLATE_REV)
        flow["verdict"] = "TRACED" if pre else "TRANSLATED"
        flow["IP"] = {"source": e.src.ip, "destination": e.dst.ip, "ipVersion": "IPv4"}
        name = L4_NAMES.get(e.proto, "TCP")
        flow["l4"] = {name: {"destination_port": e.dst.port}} if e.dst.port else {name: {}}
        self._endpoints(flow, x)
        flow["Type"] = "SOCK"
        self._node(flow, x)
        flow["event_type"] = {"type": ev.TRACE_SOCK, "sub_type": e.subtype}
        self._services(flow, x)
        flow["traffic_direction"] = "EGRESS"
        flow["sock_xlate_point"] = SOCK_XLATE_POINTS.get(e.subtype, "SOCK_XLATE_POINT_UNKNOWN")
        # stable per pod socket: a cookie per (pod, source port) and the pod's cgroup id
        flow["socket_cookie"] = str(zlib.crc32(f"{e.src.ip}/{e.node}".encode()) | 0x100000000)
        flow["cgroup_id"] = str(4096 + zlib.crc32(e.src.ip.encode()) % 65536)
        flow["Summary"] = name
        return flow
