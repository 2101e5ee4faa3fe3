"""The contract between programs running in a pod and the lab's network.

Client tools (curl, dig, ping, nc …) only ever talk to a `PodNet`; server behaviours (the
starwars app, whoami …) only ever receive an `HttpRequest` with a `ServerContext`. The
datapath implements `PodNet`, so every byte a tool sends crosses service LB, conntrack,
policy and the L7 proxy — and emits the events Hubble turns into flows. Tests of a tool can
use a fake `PodNet`; tests of the lab use the real one.

Errors are the socket-level outcomes a client can observe; each tool maps them to its own
message and exit code (curl: 6 could not resolve, 7 refused, 28 timeout …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


# ---------------------------------------------------------------------------------------------
# Errors a client observes
class NetError(Exception):
    """Base: a failed network operation. `elapsed` is the lab time (s) it took to fail."""

    def __init__(self, message: str = "", *, elapsed: float = 0.0) -> None:
        super().__init__(message)
        self.elapsed = elapsed


class ConnectTimeout(NetError):
    """SYNs were dropped (e.g. by policy) until the caller's timeout or the kernel gave up."""


class ConnectionRefused(NetError):
    """The destination answered the SYN with RST: nothing listens on that port."""


class HostUnreachable(NetError):
    """No route / ICMP unreachable."""


class ConnectionReset(NetError):
    """The peer reset an established connection."""


class OperationTimeout(NetError):
    """Connected, but no (complete) answer before the caller's max time."""


class ResolveError(NetError):
    """A name could not be resolved. `rcode` is NXDOMAIN, REFUSED, SERVFAIL or TIMEOUT."""

    def __init__(self, message: str = "", *, rcode: str = "NXDOMAIN", elapsed: float = 0.0) -> None:
        super().__init__(message, elapsed=elapsed)
        self.rcode = rcode


# ---------------------------------------------------------------------------------------------
# HTTP
def find_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of a header, by case-insensitive name (HTTP header names are)."""
    lname = name.lower()
    for k, v in headers:
        if k.lower() == lname:
            return v
    return None


@dataclass
class HttpRequest:
    method: str
    target: str  # path with query string, as on the request line: "/v1/request-landing?x=1"
    host: str  # Host header value (name[:port]) as the client sends it
    headers: list[tuple[str, str]] = field(default_factory=list)  # in send order, incl. Host
    body: bytes = b""
    version: str = "HTTP/1.1"
    scheme: str = "http"

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)


@dataclass
class HttpResponse:
    status: int
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)


@dataclass
class HttpExchange:
    """What a client learns from one HTTP request over a fresh TCP connection."""

    response: HttpResponse
    local_ip: str
    local_port: int
    remote_ip: str
    remote_port: int
    elapsed: float  # lab seconds from connect to last byte


# ---------------------------------------------------------------------------------------------
# DNS
@dataclass
class DnsRecord:
    name: str  # FQDN with trailing dot
    ttl: int
    rtype: str  # "A", "CNAME", "SRV", "PTR", "AAAA"
    data: str  # "10.96.0.10", "target.example.com."


@dataclass
class DnsAnswer:
    rcode: str  # "NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL"
    question: str  # FQDN with trailing dot
    qtype: str
    answers: list[DnsRecord] = field(default_factory=list)
    server: str = ""  # IP the client sent the query to
    port: int = 53
    elapsed: float = 0.0
    authority: list[DnsRecord] = field(default_factory=list)


@dataclass
class Interface:
    name: str  # "eth0", "lo"
    index: int
    mac: str
    addresses: list[str]  # CIDR notation: "10.0.1.23/32"
    mtu: int = 1500
    peer_index: int | None = None  # for "eth0@if12"


@dataclass
class Route:
    destination: str  # "default" or CIDR
    gateway: str | None
    device: str
    source: str | None = None
    scope: str | None = None


# ---------------------------------------------------------------------------------------------
class PodNet(Protocol):
    """The network as seen from inside one pod (or a node's host network namespace)."""

    pod_name: str
    namespace: str
    hostname: str
    node_name: str
    ip: str  # primary IP

    def read_file(self, path: str) -> str | None:
        """Files a tool may read: /etc/resolv.conf, /etc/hosts, /etc/hostname … None if absent."""

    def list_dir(self, path: str) -> list[str] | None:
        """Entries of a directory the node keeps on disk; None when the lab does not model it."""
        return None

    def interfaces(self) -> list[Interface]: ...

    def routes(self) -> list[Route]: ...

    def resolve(self, name: str, *, timeout: float = 5.0) -> list[str]:
        """getaddrinfo(): /etc/hosts, then DNS with resolv.conf search list and ndots:5.
        Returns IPv4 addresses; raises ResolveError."""

    def dns_query(self, server: str, name: str, qtype: str = "A", *, timeout: float = 5.0,
                  port: int = 53, tcp: bool = False) -> DnsAnswer:
        """One DNS query (no search list). Raises OperationTimeout when the query gets no answer."""

    def tcp_connect(self, ip: str, port: int, *, timeout: float | None = None) -> float:
        """Open and close a TCP connection (nc -z). Returns elapsed seconds; raises
        ConnectTimeout / ConnectionRefused / HostUnreachable."""

    def http(self, ip: str, port: int, request: HttpRequest, *, connect_timeout: float | None = None,
             max_time: float | None = None, tls: bool = False) -> HttpExchange:
        """Send one HTTP request on a new TCP connection (ip is already resolved)."""

    def ping(self, ip: str, *, timeout: float = 1.0, seq: int = 1, size: int = 56) -> float | None:
        """One ICMP echo. Returns the RTT in ms, or None if no reply before timeout."""

    def sleep(self, seconds: float) -> None:
        """Advance lab time (virtual) or sleep (wall)."""

    def now(self) -> float: ...


# ---------------------------------------------------------------------------------------------
@dataclass
class ServerContext:
    """What a server process knows about an incoming request."""

    pod_name: str
    namespace: str
    hostname: str
    ips: list[str]  # the pod's IPs (first is primary)
    remote_ip: str
    remote_port: int
    local_port: int
    interfaces: list[Interface] = field(default_factory=list)
