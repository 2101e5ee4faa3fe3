"""The cluster network: every connection's path through socket LB, conntrack, policy, proxies.

One `Fabric` holds every node's datapath state (conntrack, monitor bus) plus the shared maps
(IP cache, service LB, per-identity policy). A client operation — open a TCP connection, send
a DNS query, ping — walks the same steps Cilium's BPF programs take on the client's node and
then on the destination's node, and reports each step as a monitor event on the node where
it happens. Nothing here knows about sockets of the host machine; it is all lab state.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ...workloads.net import (
    ConnectionRefused,
    ConnectTimeout,
    HostUnreachable,
    OperationTimeout,
)
from ..ipcache import IPCache
from . import events as ev
from .conntrack import Conntrack
from .endpoints import DatapathEndpoint, NodeHost
from .events import TRACE, MonitorBus, MonitorEvent, Peer
from .lb import ServiceLB

# Linux: first SYN, then retransmits after 1, 2, 4, 8, 16, 32 s; gives up 64 s after the last one.
SYN_RETRY_TIMES = (0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0)
SYN_GIVE_UP = 127.0
PROTO_NAME = {ev.TCP: "TCP", ev.UDP: "UDP", ev.SCTP: "SCTP", ev.ICMP: "ICMP"}


@dataclass(slots=True)
class Client:
    """Who opens a connection: an endpoint (pod) or a node's host namespace."""

    node: str
    ip: str
    endpoint: DatapathEndpoint | None = None


@dataclass(slots=True)
class Target:
    """Where a packet is delivered after translation."""

    ip: str
    port: int
    kind: str  # endpoint | host | world | nowhere
    node: str = ""  # node that delivers it (endpoint/host); client's node for world
    endpoint: DatapathEndpoint | None = None
    host: NodeHost | None = None
    world: object | None = None  # workloads.world host


@dataclass(slots=True)
class Leg:
    """One enforcement point's decision for a new connection."""

    node: str
    direction: int  # ev.INGRESS / ev.EGRESS
    endpoint: DatapathEndpoint
    verdict: object  # policy PolicyVerdict
    peer_identity: int


class Path:
    """A resolved connection: who talks to whom, the decisions, and how to report packets."""

    __slots__ = ("client", "src_port", "proto", "target", "frontend", "src_identity_at_dst",
                 "dst_identity_at_src", "snat_ip", "egress", "ingress", "l7_leg", "_peers", "_points")

    def __init__(self, client: Client, src_port: int, proto: int, target: Target, frontend: tuple[str, int] | None,
                 src_identity_at_dst: int, dst_identity_at_src: int, snat_ip: str = "") -> None:
        self.client = client
        self.src_port = src_port
        self.proto = proto
        self.target = target
        self.frontend = frontend
        self.src_identity_at_dst = src_identity_at_dst
        self.dst_identity_at_src = dst_identity_at_src
        self.snat_ip = snat_ip
        self.egress: Leg | None = None
        self.ingress: Leg | None = None
        self.l7_leg: Leg | None = None  # which side's proxy handles this connection
        self._peers: dict = {}  # (node, reply) -> (src Peer, dst Peer)
        self._points: dict = {}  # (reply, to_proxy) -> resolved hops

    @property
    def src_ip_at_dst(self) -> str:
        return self.snat_ip or self.client.ip


class Fabric:
    def __init__(self, clock, ipcache: IPCache, lb: ServiceLB, policy_for: Callable[[int], object],
                 config: Callable[[], object], world=None) -> None:
        self.clock = clock
        self.ipcache = ipcache
        self.lb = lb
        self.policy_for = policy_for  # identity id -> EndpointPolicy
        self.config = config  # -> object with .audit_mode, .enable_l7_proxy
        self.world = world
        self.nodes: dict[str, NodeHost] = {}
        self.ct: dict[str, Conntrack] = {}
        self.monitors: dict[str, MonitorBus] = {}
        self.endpoints: dict[str, DatapathEndpoint] = {}  # ip -> endpoint
        self._host_by_ip: dict[str, NodeHost] = {}
        self._rng = random.Random("ports")
        self.routing_mode = "native"  # cilium-config routing-mode: native | tunnel
        self.http_proxy = None  # set by the lab: proxy.http.HttpProxy
        self.dns_proxy = None  # set by the lab: proxy.dns.DnsProxy

    # -- topology ------------------------------------------------------------------------------
    def add_node(self, host: NodeHost) -> None:
        self.nodes[host.name] = host
        self.ct.setdefault(host.name, Conntrack())
        self.monitors.setdefault(host.name, MonitorBus(host.name))
        for ip in host.ips + ([host.router_ip] if host.router_ip else []):
            self._host_by_ip[ip] = host

    def add_endpoint(self, endpoint: DatapathEndpoint) -> None:
        self.endpoints[endpoint.ip] = endpoint

    def remove_endpoint(self, ip: str) -> None:
        self.endpoints.pop(ip, None)

    def ephemeral_port(self) -> int:
        return self._rng.randrange(32768, 61000)

    # -- resolution ----------------------------------------------------------------------------
    def resolve_target(self, client: Client, ip: str, port: int) -> Target:
        endpoint = self.endpoints.get(ip)
        if endpoint is not None:
            return Target(ip, port, "endpoint", endpoint.node, endpoint=endpoint)
        host = self._host_by_ip.get(ip)
        if host is not None:
            return Target(ip, port, "host", host.name, host=host)
        if ip.startswith("127."):
            return Target(ip, port, "local", client.node)
        if self.ipcache.is_cluster_ip(ip):
            return Target(ip, port, "nowhere", client.node)
        world_host = self.world.host_for_ip(ip) if self.world is not None else None
        return Target(ip, port, "world" if world_host is not None else "nowhere", client.node, world=world_host)

    def plan(self, client: Client, dst_ip: str, dst_port: int, proto: int, src_port: int | None = None) -> Path:
        """Socket-LB translation, target lookup and both policy decisions for a new connection."""
        frontend = None
        fe = self.lb.lookup(dst_ip, dst_port, proto) if proto != ev.ICMP else None
        if fe is not None:
            backend = self.lb.select(fe, client.node)
            if backend is None:
                raise ConnectionRefused("no backend", elapsed=0.0)
            frontend = (dst_ip, dst_port)
            dst_ip, dst_port = backend.ip, backend.port
        target = self.resolve_target(client, dst_ip, dst_port)
        snat = ""
        if target.kind in ("world", "nowhere") and client.endpoint is not None:
            snat = self.nodes[client.node].ips[-1]  # masquerade via the NAT interface (eth0)
        path = Path(client, src_port or self.ephemeral_port(), proto, target, frontend,
                    src_identity_at_dst=self._src_identity(client, target),
                    dst_identity_at_src=self.ipcache.identity_of(dst_ip, client.node), snat_ip=snat)
        if frontend is not None and client.endpoint is not None:
            self.sock_trace(path, ev.SOCK_PRE_XLATE_FWD)
            self.sock_trace(path, ev.SOCK_POST_XLATE_FWD)
        port_or_type = dst_port if proto != ev.ICMP else 8
        # A verdict counts when policy decided it: an enforced direction, or a deny / L7 redirect
        # from a rule with enableDefaultDeny false in a direction that is otherwise open.
        if client.endpoint is not None:
            verdict = self.policy_for(client.endpoint.identity).lookup(
                "egress", path.dst_identity_at_src, proto, port_or_type)
            if verdict.enforced:
                path.egress = Leg(client.node, ev.EGRESS, client.endpoint, verdict, path.dst_identity_at_src)
        if target.endpoint is not None:
            verdict = self.policy_for(target.endpoint.identity).lookup(
                "ingress", path.src_identity_at_dst, proto, port_or_type)
            if verdict.enforced:
                path.ingress = Leg(target.node, ev.INGRESS, target.endpoint, verdict, path.src_identity_at_dst)
        for leg in (path.egress, path.ingress):
            if leg is not None and _decision(leg.verdict) == "REDIRECT" and self.config().enable_l7_proxy:
                path.l7_leg = path.l7_leg or leg
        return path

    def _src_identity(self, client: Client, target: Target) -> int:
        if client.endpoint is not None:
            return client.endpoint.identity
        # a node's host namespace (host on its own node, remote-node elsewhere) or an outside client
        return self.ipcache.identity_of(client.ip, target.node or client.node)

    # -- enforcement ---------------------------------------------------------------------------
    def denied_leg(self, path: Path) -> Leg | None:
        """The first leg whose policy drops the connection (egress is checked before ingress)."""
        audit = self.config().audit_mode
        for leg in (path.egress, path.ingress):
            if leg is not None and _decision(leg.verdict) == "DENY" and not audit:
                return leg
        return None

    # -- events --------------------------------------------------------------------------------
    def peers(self, path: Path, node: str, reply: bool) -> tuple[Peer, Peer]:
        """Source and destination of a packet of this connection as `node` reports them."""
        cached = path._peers.get((node, reply))
        if cached is None:
            cached = path._peers[(node, reply)] = self._peers(path, node, reply)
        return cached

    def _peers(self, path: Path, node: str, reply: bool) -> tuple[Peer, Peer]:
        c, t = path.client, path.target
        c_ip = c.ip if node == c.node else path.src_ip_at_dst
        if node != c.node:
            c_id = path.src_identity_at_dst
        else:
            c_id = c.endpoint.identity if c.endpoint is not None else self.ipcache.identity_of(c.ip, node)
        c_ep = c.endpoint.id if (c.endpoint is not None and node == c.node) else 0
        t_id = self.ipcache.identity_of(t.ip, node)
        t_ep = t.endpoint.id if (t.endpoint is not None and t.node == node) else 0
        client = Peer(c_ip, path.src_port, c_id, c_ep)
        server = Peer(t.ip, t.port, t_id, t_ep)
        return (server, client) if reply else (client, server)

    def emit(self, node: str, event: MonitorEvent) -> None:
        self.monitors[node].emit(event)

    def trace(self, path: Path, node: str, point: int, flags: int, reply: bool, ct_reason: int,
              length: int = 66, icmp_type: int = -1) -> None:
        src, dst = self.peers(path, node, reply)
        self.monitors[node].emit(MonitorEvent(
            ev.TRACE, point, self.clock.tick(), node, path.proto, src, dst, tcp_flags=flags, icmp_type=icmp_type, ct_reason=ct_reason, is_reply=reply,
            orig_dst=path.frontend if not reply else None,
            orig_src_ip=path.client.ip if (path.snat_ip and node == path.client.node and not reply) else "",
            length=length, ifindex=self._ifindex(path, node, point, reply)))

    def _ifindex(self, path: Path, node: str, point: int, reply: bool) -> int:
        if point == ev.TO_ENDPOINT:
            ep = path.client.endpoint if reply else path.target.endpoint
            return ep.ifindex if ep is not None else 0
        return 0

    def sock_trace(self, path: Path, point: int) -> None:
        """Socket-LB translation at connect()/sendmsg() (pre: the service frontend, post: the
        backend) or, for replies read by recvmsg(), the reverse translation."""
        key = ("sock", point in (ev.SOCK_PRE_XLATE_FWD, ev.SOCK_POST_XLATE_REV))
        peers = path._peers.get(key)
        if peers is None:
            c = path.client
            src = Peer(c.ip, 0, c.endpoint.identity, c.endpoint.id)
            if key[1]:
                dst = Peer(path.frontend[0], path.frontend[1], 0, 0)
            else:
                dst = Peer(path.target.ip, path.target.port, path.dst_identity_at_src, 0)
            peers = path._peers[key] = (src, dst, self.monitors[c.node])
        src, dst, bus = peers
        bus.emit(MonitorEvent(ev.TRACE_SOCK, point, self.clock.tick(), path.client.node, path.proto, src, dst))

    def policy_verdict(self, path: Path, leg: Leg, flags: int, icmp_type: int = -1) -> None:
        verdict = leg.verdict
        decision = _decision(verdict)
        audit = self.config().audit_mode and decision == "DENY"
        if decision == "DENY":
            code = -verdict.drop_reason
        elif decision == "REDIRECT" and self.config().enable_l7_proxy:
            code = self.http_proxy.port if self.http_proxy is not None else 1
        else:
            code = 0
        src, dst = self.peers(path, leg.node, False)
        self.emit(leg.node, MonitorEvent(
            ev.POLICY_VERDICT, 0, self.clock.tick(), leg.node, path.proto, src, dst, tcp_flags=flags,
            icmp_type=icmp_type, direction=leg.direction, verdict=code, match_type=verdict.match_type,
            audited=audit, policies=tuple(verdict.policies), drop_reason=verdict.drop_reason if decision == "DENY" else 0))

    def drop(self, path: Path, leg: Leg, flags: int, icmp_type: int = -1) -> None:
        src, dst = self.peers(path, leg.node, False)
        reason = leg.verdict.drop_reason or ev.DROP_POLICY_DENIED
        self.emit(leg.node, MonitorEvent(
            ev.DROP, reason, self.clock.tick(), leg.node, path.proto, src, dst, tcp_flags=flags, icmp_type=icmp_type,
            drop_reason=reason, direction=leg.direction, policies=tuple(leg.verdict.policies),
            file=("bpf_lxc.c", 2068 if leg.direction == ev.INGRESS else 1374), length=74))

    @property
    def _between_nodes(self) -> int:
        """Where a packet leaves a node for another: the overlay in tunnel mode, else the stack."""
        return ev.TO_OVERLAY if self.routing_mode == "tunnel" else ev.TO_STACK

    def forward_points(self, path: Path, to_proxy: bool = False) -> list[tuple[str, int]]:
        """Observation points a client→server packet passes, in order (node, point)."""
        c, t = path.client, path.target
        last = ev.TO_PROXY if to_proxy else ev.TO_ENDPOINT
        if t.kind == "endpoint":
            if t.node == c.node:
                return [(c.node, last)]
            return [(c.node, self._between_nodes), (t.node, last)]
        if t.kind == "host":
            if t.node == c.node:
                return [(c.node, ev.TO_HOST)] if c.endpoint is not None else []
            return [(c.node, self._between_nodes), (t.node, ev.TO_HOST)]
        return [(c.node, ev.TO_STACK)] if c.endpoint is not None else []

    def reply_points(self, path: Path) -> list[tuple[str, int]]:
        c, t = path.client, path.target
        deliver = ev.TO_ENDPOINT if c.endpoint is not None else ev.TO_STACK
        if t.kind == "endpoint":
            if t.node == c.node:
                return [(c.node, deliver)]
            return [(t.node, self._between_nodes), (c.node, deliver)]
        if t.kind == "host":
            if t.node == c.node:
                return [(c.node, deliver)] if c.endpoint is not None else []
            return [(t.node, self._between_nodes), (c.node, deliver)]
        return [(c.node, deliver)] if c.endpoint is not None else []

    def packet(self, path: Path, flags: int, reply: bool, ct_reason: int, *, to_proxy: bool = False,
               length: int = 66, icmp_type: int = -1) -> None:
        """Report one packet of the connection at every observation point it passes (hot path:
        everything about the points is resolved once per connection and direction)."""
        hops = path._points.get((reply, to_proxy))
        if hops is None:
            hops = path._points[(reply, to_proxy)] = self._hops(path, reply, to_proxy)
        tick, proto, orig_dst = self.clock.tick, path.proto, (None if reply else path.frontend)
        for node, point, src, dst, ifindex, orig_src, proxy_port, bus in hops:
            bus.emit(MonitorEvent(TRACE, point, tick(), node, proto, src, dst, tcp_flags=flags, icmp_type=icmp_type,
                                  ct_reason=ct_reason, is_reply=reply, orig_dst=orig_dst, orig_src_ip=orig_src,
                                  length=length, ifindex=ifindex, proxy_port=proxy_port))

    def _hops(self, path: Path, reply: bool, to_proxy: bool) -> list[tuple]:
        points = self.reply_points(path) if reply else self.forward_points(path, to_proxy)
        hops = []
        for node, point in points:
            src, dst = self.peers(path, node, reply)
            orig_src = path.client.ip if (path.snat_ip and node == path.client.node and not reply) else ""
            proxy_port = 0
            if point == ev.TO_PROXY:
                proxy = self.dns_proxy if path.proto == ev.UDP or path.target.port == 53 else self.http_proxy
                proxy_port = proxy.port if proxy is not None else 0
            hops.append((node, point, src, dst, self._ifindex(path, node, point, reply), orig_src, proxy_port,
                         self.monitors[node]))
        return hops

    # -- connection setup ----------------------------------------------------------------------
    def connect(self, client: Client, dst_ip: str, dst_port: int, *, timeout: float | None,
                proto: int = ev.TCP) -> Path:
        """TCP three-way handshake. Raises ConnectTimeout / ConnectionRefused / HostUnreachable."""
        path = self.plan(client, dst_ip, dst_port, proto)
        for leg in (path.egress, path.ingress):
            if leg is not None:
                self.policy_verdict(path, leg, ev.SYN)
        denied = self.denied_leg(path)
        if denied is not None or path.target.kind == "nowhere" or not self._reachable_world(path):
            self._syn_retries(path, denied, timeout)
        self.packet(path, ev.SYN, False, ev.CT_NEW, to_proxy=path.l7_leg is not None and path.l7_leg.direction == ev.INGRESS)
        if path.l7_leg is None and not self._listening(path, "TCP"):
            self.packet(path, ev.RST | ev.ACK, True, ev.CT_REPLY)
            raise ConnectionRefused("refused", elapsed=0.001)
        self.packet(path, ev.SYN | ev.ACK, True, ev.CT_REPLY)
        self.packet(path, ev.ACK, False, ev.CT_ESTABLISHED)
        now = self.clock.now()
        key = (proto, path.client.ip, path.src_port, path.target.ip, path.target.port)
        self.ct[path.client.node].create(key, now, rev_nat=path.frontend)
        if path.target.node and path.target.node != path.client.node:
            self.ct[path.target.node].create((proto, path.src_ip_at_dst, path.src_port, path.target.ip, path.target.port),
                                             now, ingress=True)
        self.clock.tick(0.0002)
        return path

    def _reachable_world(self, path: Path) -> bool:
        t = path.target
        return t.kind != "world" or t.world is not None

    def _syn_retries(self, path: Path, denied: Leg | None, timeout: float | None) -> None:
        start = self.clock.now()
        limit = SYN_GIVE_UP if timeout is None else min(timeout, SYN_GIVE_UP)
        for at in SYN_RETRY_TIMES:
            if at >= limit:
                break
            self.clock.advance(max(0.0, start + at - self.clock.now()))
            if denied is not None:
                self.drop(path, denied, ev.SYN)
            else:
                self.packet(path, ev.SYN, False, ev.CT_NEW)
        self.clock.advance(max(0.0, start + limit - self.clock.now()))
        if path.target.kind == "nowhere" and path.target.world is None and denied is None and path.client.endpoint is None:
            raise HostUnreachable("no route", elapsed=limit)
        raise ConnectTimeout("timed out", elapsed=limit)

    def _listening(self, path: Path, proto_name: str):
        t = path.target
        if t.kind == "endpoint":
            return t.endpoint.listens(proto_name, t.port)
        if t.kind == "host":
            return _accepting(t.host.listeners.get((proto_name, t.port)))
        if t.kind == "world":
            return t.world if t.world.listens(proto_name, t.port) else None
        if t.kind == "local" and path.client.endpoint is None:  # a node's own loopback: its host sockets
            return _accepting(self.nodes[path.client.node].listeners.get((proto_name, t.port)))
        return None

    def close(self, path: Path) -> None:
        self.packet(path, ev.FIN | ev.ACK, False, ev.CT_ESTABLISHED)
        self.packet(path, ev.FIN | ev.ACK, True, ev.CT_REPLY)
        self.packet(path, ev.ACK, False, ev.CT_ESTABLISHED)
        key = (path.proto, path.client.ip, path.src_port, path.target.ip, path.target.port)
        entry, _ = self.ct[path.client.node].lookup(key)
        if entry is not None:
            entry.closed = True
            entry.last_seen = self.clock.now()

    def server_for(self, path: Path):
        return self._listening(path, "TCP" if path.proto == ev.TCP else "UDP")

    # -- datagrams -----------------------------------------------------------------------------
    def datagram(self, client: Client, dst_ip: str, dst_port: int, *, timeout: float,
                 proto: int = ev.UDP, length: int = 80) -> Path:
        """Send a UDP datagram that expects an answer; raises OperationTimeout if it is dropped."""
        path = self.plan(client, dst_ip, dst_port, proto)
        key = (proto, path.client.ip, path.src_port, path.target.ip, path.target.port)
        entry, _ = self.ct[client.node].lookup(key)
        if entry is None:
            for leg in (path.egress, path.ingress):
                if leg is not None:
                    self.policy_verdict(path, leg, 0)
        denied = self.denied_leg(path)
        if denied is not None:
            self.drop(path, denied, 0)
            self.clock.advance(timeout)
            raise OperationTimeout("timed out", elapsed=timeout)
        if path.l7_leg is None and not self._listening(path, PROTO_NAME[proto]):
            self.packet(path, 0, False, ev.CT_NEW, length=length)
            self.clock.advance(timeout)
            raise OperationTimeout("timed out", elapsed=timeout)
        if entry is None:
            self.ct[client.node].create(key, self.clock.now(), rev_nat=path.frontend)
        return path


def _decision(verdict) -> str:
    decision = verdict.decision
    return getattr(decision, "name", str(decision))


def _accepting(listener):
    """A host listener that may be switched off by configuration (`accepting()`, e.g. a metrics
    endpoint cilium-config disables) refuses connections while it is off."""
    accepting = getattr(listener, "accepting", None)
    return listener if accepting is None or accepting() else None
