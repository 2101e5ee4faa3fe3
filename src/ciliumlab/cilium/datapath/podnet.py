"""`PodNet` for the lab: the network as a pod (or a node's host namespace) sees it.

Client tools call these methods; each one drives the fabric (LB, conntrack, policy, proxies)
and so produces exactly the events the real datapath would for the same traffic.
"""

from __future__ import annotations

from email.utils import formatdate

from ...workloads.net import (
    ConnectionRefused,
    ConnectTimeout,
    DnsAnswer,
    HostUnreachable,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    Interface,
    OperationTimeout,
    ResolveError,
    Route,
    ServerContext,
)
from ..proxy.http import access_denied
from . import events as ev
from .fabric import Client, Fabric, Path, _decision

DNS_TIMEOUT, DNS_ATTEMPTS = 5.0, 2


class LabPodNet:
    """Network operations of one pod; `ctx` is the lab's network context (fabric, store, world)."""

    def __init__(self, ctx, *, node: str, ip: str, pod_name: str, namespace: str, hostname: str,
                 endpoint=None, host_network: bool = False, extra_hosts: list[tuple[str, str]] | None = None) -> None:
        self.ctx = ctx
        self.fabric: Fabric = ctx.fabric
        self.node_name = node
        self.ip = ip
        self.pod_name = pod_name
        self.namespace = namespace
        self.hostname = hostname
        self.endpoint = endpoint
        self.host_network = host_network
        self.extra_hosts = extra_hosts or []
        self.client = Client(node, ip, endpoint)
        self.search = [] if host_network else [f"{namespace}.svc.{ctx.cluster_domain}", f"svc.{ctx.cluster_domain}",
                                               ctx.cluster_domain]

    # -- files ----------------------------------------------------------------------------------
    def read_file(self, path: str) -> str | None:
        if path == "/etc/resolv.conf":
            if self.host_network:
                return "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"
            return (f"search {' '.join(self.search)}\nnameserver {self.ctx.dns_ip}\noptions ndots:5\n")
        if path == "/etc/hosts" and self.host_network:
            node_hosts = self.ctx.read_file(self, path)
            if node_hosts is not None:
                return node_hosts
        if path == "/etc/hosts":
            lines = ["# Kubernetes-managed hosts file.", "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                     "fe00::0\tip6-localnet", "fe00::0\tip6-mcastprefix", "fe00::1\tip6-allnodes", "fe00::2\tip6-allrouters",
                     f"{self.ip}\t{self.hostname}"]
            lines += [f"{ip}\t{name}" for ip, name in self.extra_hosts]
            return "\n".join(lines) + "\n"
        if path == "/etc/hostname":
            return self.hostname + "\n"
        return self.ctx.read_file(self, path)

    def list_dir(self, path: str) -> list[str] | None:
        return self.ctx.list_dir(self, path)

    def interfaces(self) -> list[Interface]:
        lo = Interface("lo", 1, "00:00:00:00:00:00", ["127.0.0.1/8"], 65536)
        if self.endpoint is None:
            return [lo] + self.ctx.node_interfaces(self.node_name)
        ep = self.endpoint
        return [lo, Interface("eth0", 2 + ep.id % 10, ep.mac, [f"{self.ip}/32"], 1500, peer_index=ep.ifindex)]

    def routes(self) -> list[Route]:
        if self.endpoint is None:
            return self.ctx.node_routes(self.node_name)
        gw = self.fabric.nodes[self.node_name].router_ip
        return [Route("default", gw, "eth0", None, None), Route(f"{gw}", None, "eth0", None, "link")]

    # -- time -----------------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        self.fabric.clock.advance(seconds)

    def now(self) -> float:
        return self.fabric.clock.now()

    # -- DNS ------------------------------------------------------------------------------------
    def resolve(self, name: str, *, timeout: float = 5.0) -> list[str]:
        """glibc's getaddrinfo: /etc/hosts, then the search list (ndots:5), A and AAAA in
        parallel from one socket, 5 s per try, 2 tries per name."""
        name = name.rstrip(".") if name.endswith(".") and name.count(".") > 1 else name
        if _is_ipv4(name):
            return [name]
        for line in (self.read_file("/etc/hosts") or "").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not parts[0].startswith("#") and name in parts[1:] and _is_ipv4(parts[0]):
                return [parts[0]]
        start = self.now()
        candidates = self._candidates(name)
        last_rcode = "NXDOMAIN"
        for fqdn in candidates:
            remaining = timeout - (self.now() - start)
            if remaining <= 0:
                raise ResolveError(f"timeout resolving {name}", rcode="TIMEOUT", elapsed=self.now() - start)
            try:
                answer = self._lookup_a_aaaa(self.ctx.dns_ip, fqdn, remaining)
            except OperationTimeout:
                raise ResolveError(f"timeout resolving {name}", rcode="TIMEOUT", elapsed=self.now() - start) from None
            ips = [r.data for r in answer.answers if r.rtype == "A"]
            if answer.rcode == "NOERROR" and ips:
                return ips
            last_rcode = answer.rcode
            if answer.rcode in ("REFUSED", "SERVFAIL") and fqdn == candidates[-1]:
                break
        raise ResolveError(f"could not resolve {name}", rcode=last_rcode, elapsed=self.now() - start)

    def _candidates(self, name: str) -> list[str]:
        if name.endswith("."):
            return [name]
        absolute = name + "."
        if name.count(".") >= 5 or self.host_network:
            return [absolute] + [f"{name}.{s}." for s in self.search]
        return [f"{name}.{s}." for s in self.search] + [absolute]

    def _lookup_a_aaaa(self, server: str, fqdn: str, timeout: float) -> DnsAnswer:
        """One resolver round for a name: A and AAAA from the same socket; the A answer."""
        per_try = min(DNS_TIMEOUT, timeout)
        start = self.now()
        for attempt in range(DNS_ATTEMPTS):
            try:
                path = self._dns_path(server, 53, per_try, tcp=False)
                answer = self._dns_exchange(path, server, 53, fqdn, "A", tcp=False)
                self._dns_exchange(path, server, 53, fqdn, "AAAA", tcp=False)
                return answer
            except OperationTimeout:
                if attempt == DNS_ATTEMPTS - 1 or (self.now() - start) + per_try > timeout:
                    raise
        raise OperationTimeout("dns timeout")

    def dns_query(self, server: str, name: str, qtype: str = "A", *, timeout: float = 5.0, port: int = 53,
                  tcp: bool = False) -> DnsAnswer:
        fqdn = name if name.endswith(".") else name + "."
        path = self._dns_path(server, port, timeout, tcp)
        return self._dns_exchange(path, server, port, fqdn, qtype, tcp)

    def _dns_path(self, server: str, port: int, timeout: float, tcp: bool) -> Path:
        start = self.now()
        try:
            if tcp:
                return self.fabric.connect(self.client, server, port, timeout=timeout)
            return self.fabric.datagram(self.client, server, port, timeout=timeout)
        except (ConnectionRefused, OperationTimeout, ConnectTimeout, HostUnreachable) as exc:
            # whatever stopped it, a resolver only sees a query without an answer
            raise OperationTimeout("no answer", elapsed=self.now() - start) from exc

    def _dns_exchange(self, path: Path, server: str, port: int, fqdn: str, qtype: str, tcp: bool) -> DnsAnswer:
        start = self.now()
        leg = path.l7_leg if (path.l7_leg is not None and path.l7_leg.direction == ev.EGRESS) else None
        proxy = self.fabric.dns_proxy
        self.fabric.packet(path, ev.PSH | ev.ACK if tcp else 0, False, ev.CT_NEW if not tcp else ev.CT_ESTABLISHED,
                           to_proxy=leg is not None, length=80)
        if leg is not None and proxy is not None:
            allowed = proxy.allows(leg, fqdn)
            proxy.log(path, leg, ev.L7_REQUEST, ev.L7_FORWARDED if allowed else ev.L7_DENIED, fqdn, qtype)
            if not allowed:
                rcode = "NXDOMAIN" if self.ctx.dns_reject_code() == "nameError" else "REFUSED"
                answer = DnsAnswer(rcode, fqdn, qtype, [], server, port)
                self.fabric.packet(path, 0, True, ev.CT_REPLY, length=80)
                answer.elapsed = self.now() - start
                return answer
        answer = self.ctx.dns_answer(path, fqdn, qtype, self.namespace)
        answer.server, answer.port = server, port
        self.fabric.clock.tick(0.0004)
        if leg is not None and proxy is not None:
            proxy.log(path, leg, ev.L7_RESPONSE, ev.L7_FORWARDED, fqdn, qtype, answer, latency_ns=400_000)
            ips = [r.data for r in answer.answers if r.rtype == "A"]
            if ips and proxy.learn is not None:
                proxy.learn(self.node_name, fqdn, ips, min(r.ttl for r in answer.answers),
                            self.endpoint.id if self.endpoint is not None else 0)
        self.fabric.packet(path, ev.PSH | ev.ACK if tcp else 0, True, ev.CT_REPLY, length=120)
        if path.frontend is not None and self.endpoint is not None and not tcp:
            self.fabric.sock_trace(path, ev.SOCK_PRE_XLATE_REV)
            self.fabric.sock_trace(path, ev.SOCK_POST_XLATE_REV)
        if tcp:
            self.fabric.close(path)
        answer.elapsed = self.now() - start
        return answer

    # -- TCP ------------------------------------------------------------------------------------
    def tcp_connect(self, ip: str, port: int, *, timeout: float | None = None) -> float:
        start = self.now()
        path = self.fabric.connect(self.client, ip, port, timeout=timeout)
        if path.l7_leg is not None and self.fabric.server_for(path) is None:
            self.fabric.close(path)
            return self.now() - start
        self.fabric.close(path)
        return self.now() - start

    def http(self, ip: str, port: int, request: HttpRequest, *, connect_timeout: float | None = None,
             max_time: float | None = None, tls: bool = False) -> HttpExchange:
        start = self.now()
        timeout = connect_timeout if connect_timeout is not None else max_time
        path = self.fabric.connect(self.client, ip, port, timeout=timeout)
        response = self._exchange(path, request, tls)
        self.fabric.close(path)
        return HttpExchange(response, path.snat_ip or self.ip, path.src_port, ip, port, self.now() - start)

    def _exchange(self, path: Path, request: HttpRequest, tls: bool) -> HttpResponse:
        fabric = self.fabric
        leg = path.l7_leg
        to_proxy = leg is not None and leg.direction == ev.INGRESS
        fabric.packet(path, ev.PSH | ev.ACK, False, ev.CT_ESTABLISHED, to_proxy=to_proxy,
                      length=66 + len(request.body) + 80)
        proxy = fabric.http_proxy
        if leg is not None and proxy is not None:
            allowed = proxy.allows(leg, request)
            proxy.log(path, leg, ev.L7_REQUEST, ev.L7_FORWARDED if allowed else ev.L7_DENIED, request, None)
            t0 = self.now()
            if allowed:
                response = self._serve(path, request)
            else:
                fabric.clock.tick(0.0003)
                response = access_denied(formatdate(self.now(), usegmt=True))
            latency = int((self.now() - t0) * 1e9)
            proxy.log(path, leg, ev.L7_RESPONSE, ev.L7_FORWARDED, request, response, latency_ns=latency)
        else:
            response = self._serve(path, request)
        fabric.packet(path, ev.PSH | ev.ACK, True, ev.CT_REPLY, length=66 + len(response.body) + 120)
        return response

    def _serve(self, path: Path, request: HttpRequest) -> HttpResponse:
        server = self.fabric.server_for(path)
        if server is None:
            return HttpResponse(503, "Service Unavailable", [("content-type", "text/plain"), ("server", "envoy")],
                                b"upstream connect error or disconnect/reset before headers. reset reason: connection failure")
        t = path.target
        if t.endpoint is not None:
            ep = t.endpoint
            sctx = ServerContext(ep.pod_name, ep.namespace, ep.hostname or ep.pod_name, [ep.ip], path.src_ip_at_dst,
                                 path.src_port, t.port, self.ctx.endpoint_interfaces(ep))
        else:
            sctx = ServerContext("", "", t.node or "", [t.ip], path.src_ip_at_dst, path.src_port, t.port, [])
        self.fabric.clock.tick(0.0011)
        response = server.serve_http(request, sctx)
        served = getattr(server, "served", None)  # image behaviours keep an access log; world hosts do not
        if served is not None:
            served(request, response, sctx, self.now())
        return response

    # -- ICMP -----------------------------------------------------------------------------------
    def ping(self, ip: str, *, timeout: float = 1.0, seq: int = 1, size: int = 56) -> float | None:
        fabric = self.fabric
        path = fabric.plan(self.client, ip, 0, ev.ICMP, src_port=0)
        for leg in (path.egress, path.ingress):
            if leg is not None:
                fabric.policy_verdict(path, leg, 0, icmp_type=8)
        denied = fabric.denied_leg(path)
        if denied is not None:
            fabric.drop(path, denied, 0, icmp_type=8)
            fabric.clock.advance(timeout)
            return None
        t = path.target
        answers = t.kind in ("endpoint", "host") or (t.kind == "world" and fabric.world.answers_icmp(ip))
        fabric.packet(path, 0, False, ev.CT_NEW, length=size + 42, icmp_type=8)
        if not answers:
            fabric.clock.advance(timeout)
            return None
        rtt = fabric.world.rtt_ms(ip) if t.kind == "world" else (0.05 if t.node == self.node_name else 0.4)
        fabric.clock.advance(rtt / 1000.0)
        fabric.packet(path, 0, True, ev.CT_REPLY, length=size + 42, icmp_type=0)
        return rtt


def _is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and 0 <= int(p) <= 255 for p in parts)


__all__ = ["LabPodNet", "_decision"]
