"""A small fake ``PodNet`` for shell/tool tests: a resolvable world with services that answer,
refuse, drop (ConnectTimeout after min(timeout, 130 s) of lab time) or hang after connecting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ciliumlab.clock import VIRTUAL_EPOCH
from ciliumlab.workloads.net import (
    ConnectionRefused,
    ConnectTimeout,
    DnsAnswer,
    DnsRecord,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    Interface,
    OperationTimeout,
    ResolveError,
    Route,
)

KERNEL_SYN_TIMEOUT = 130.0
RESOLV = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
HOSTS = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n10.0.0.5\tcurl-pod\n"

Handler = Callable[[HttpRequest], HttpResponse]


def whoami(hostname: str) -> Handler:
    def handle(req: HttpRequest) -> HttpResponse:
        body = f"Hostname: {hostname}\nIP: 127.0.0.1\nRemoteAddr: 10.0.0.5:41234\n{req.method} {req.target} HTTP/1.1\n"
        return HttpResponse(200, "OK", [("Content-Length", str(len(body))), ("Content-Type", "text/plain; charset=utf-8")],
                            body.encode())
    return handle


@dataclass
class FakeNet:
    pod_name: str = "curl-pod"
    namespace: str = "default"
    hostname: str = "curl-pod"
    node_name: str = "k8s-ctr"
    ip: str = "10.0.0.5"
    t: float = VIRTUAL_EPOCH
    files: dict[str, str] = field(default_factory=lambda: {
        "/etc/resolv.conf": RESOLV, "/etc/hosts": HOSTS, "/etc/hostname": "curl-pod\n"})
    dns: dict[str, list[str]] = field(default_factory=lambda: {
        "webpod.default.svc.cluster.local.": ["10.96.88.194"],
        "deathstar.default.svc.cluster.local.": ["10.96.7.7"],
        "dropped.default.svc.cluster.local.": ["10.96.9.9"],
        "refused.default.svc.cluster.local.": ["10.96.6.6"],
        "slow.default.svc.cluster.local.": ["10.96.5.5"],
        "redir.default.svc.cluster.local.": ["10.96.4.4"],
    })
    ptr: dict[str, str] = field(default_factory=dict)
    dns_down: bool = False
    #: (ip, port) → handler | "refuse" | "drop" | "hang"
    services: dict[tuple[str, int], object] = field(default_factory=dict)
    pingable: set[str] = field(default_factory=lambda: {"10.0.1.20", "10.0.0.5"})
    rtt_ms: float = 0.123
    requests: list[tuple[str, int, HttpRequest]] = field(default_factory=list)
    latency: float = 0.002

    def __post_init__(self) -> None:
        pods = iter(["webpod-697b545f57-abcde", "webpod-697b545f57-fghij"])
        names = [next(pods), next(pods)]
        counter = {"n": 0}
        handlers = [whoami(n) for n in names]

        def lb(req: HttpRequest) -> HttpResponse:
            counter["n"] += 1
            return handlers[(counter["n"] - 1) % 2](req)

        self.services.setdefault(("10.96.88.194", 80), lb)
        self.services.setdefault(("10.96.9.9", 80), "drop")
        self.services.setdefault(("10.96.6.6", 80), "refuse")
        self.services.setdefault(("10.96.5.5", 80), "hang")

    # ------------------------------------------------------------------ PodNet
    def read_file(self, path: str) -> str | None:
        return self.files.get(path)

    def interfaces(self) -> list[Interface]:
        return [
            Interface("lo", 1, "00:00:00:00:00:00", ["127.0.0.1/8"], mtu=65536),
            Interface("eth0", 12, "8a:1c:3e:4f:5a:6b", [f"{self.ip}/32"], mtu=1500, peer_index=13),
        ]

    def routes(self) -> list[Route]:
        return [Route("default", "10.0.0.84", "eth0"), Route("10.0.0.84", None, "eth0", scope="link")]

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)

    def _lookup(self, fqdn: str) -> list[str] | None:
        return self.dns.get(fqdn)

    def resolve(self, name: str, *, timeout: float = 5.0) -> list[str]:
        for line in self.files["/etc/hosts"].splitlines():
            parts = line.split()
            if len(parts) > 1 and not line.startswith("#") and name in parts[1:]:
                return [parts[0]]
        if self.dns_down:
            self.sleep(timeout)
            raise ResolveError(name, rcode="TIMEOUT", elapsed=timeout)
        cands = [f"{name}.{d}." for d in ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")]
        for fq in ([name + "."] if name.count(".") >= 5 else []) + cands + [name + "."]:
            ips = self._lookup(fq)
            if ips:
                self.sleep(0.001)
                return list(ips)
        self.sleep(0.001)
        raise ResolveError(name, rcode="NXDOMAIN", elapsed=0.001)

    def dns_query(self, server: str, name: str, qtype: str = "A", *, timeout: float = 5.0, port: int = 53,
                  tcp: bool = False) -> DnsAnswer:
        if self.dns_down or server != "10.96.0.10":
            self.sleep(timeout)
            raise OperationTimeout("timed out", elapsed=timeout)
        self.sleep(0.001)
        if qtype == "PTR":
            target = self.ptr.get(name)
            if target:
                return DnsAnswer("NOERROR", name, "PTR", [DnsRecord(name, 30, "PTR", target)], server, port, 0.001)
            return DnsAnswer("NXDOMAIN", name, "PTR", [], server, port, 0.001)
        ips = self._lookup(name)
        if ips is None:
            soa = DnsRecord("cluster.local.", 30, "SOA",
                            "ns.dns.cluster.local. hostmaster.cluster.local. 1764144000 7200 1800 86400 30")
            return DnsAnswer("NXDOMAIN", name, qtype, [], server, port, 0.001, authority=[soa])
        recs = [DnsRecord(name, 30, "A", ip) for ip in ips] if qtype == "A" else []
        return DnsAnswer("NOERROR", name, qtype, recs, server, port, 0.001)

    def _behaviour(self, ip: str, port: int) -> object:
        return self.services.get((ip, port), "refuse")

    def _connect(self, ip: str, port: int, timeout: float | None) -> object:
        b = self._behaviour(ip, port)
        if b == "refuse":
            self.sleep(0.0001)
            raise ConnectionRefused("refused", elapsed=0.0001)
        if b == "drop":
            wait = KERNEL_SYN_TIMEOUT if timeout is None else min(timeout, KERNEL_SYN_TIMEOUT)
            self.sleep(wait)
            raise ConnectTimeout("dropped", elapsed=wait)
        return b

    def tcp_connect(self, ip: str, port: int, *, timeout: float | None = None) -> float:
        self._connect(ip, port, timeout)
        self.sleep(self.latency)
        return self.latency

    def http(self, ip: str, port: int, request: HttpRequest, *, connect_timeout: float | None = None,
             max_time: float | None = None, tls: bool = False) -> HttpExchange:
        self.requests.append((ip, port, request))
        b = self._connect(ip, port, connect_timeout if connect_timeout is not None else max_time)
        if b == "hang":
            if max_time is None:
                raise AssertionError("a hanging server without max_time would block forever")
            self.sleep(max_time)
            raise OperationTimeout("no answer", elapsed=max_time)
        assert callable(b)
        self.sleep(self.latency)
        return HttpExchange(b(request), self.ip, 41234, ip, port, self.latency)

    def ping(self, ip: str, *, timeout: float = 1.0, seq: int = 1, size: int = 56) -> float | None:
        if ip in self.pingable:
            self.sleep(self.rtt_ms / 1000)
            return self.rtt_ms
        self.sleep(timeout)
        return None
