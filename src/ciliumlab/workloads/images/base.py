"""The contract of an image behaviour.

A behaviour says which ports a container listens on and how it answers HTTP. It knows nothing
of policy or the datapath: by the time `serve_http` runs, the request was allowed all the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..net import HttpRequest, HttpResponse, ServerContext

#: how many served requests a container remembers for its log (a bounded buffer)
MAX_LOGGED_REQUESTS = 1000


@dataclass
class LogContext:
    """What `kubectl logs` knows about a container when a behaviour writes its log."""

    pod_name: str
    namespace: str
    container: str
    node: str
    started: float  # containerStatuses[].state.running.startedAt (epoch seconds)
    hostname: str = ""
    ips: list[str] = field(default_factory=list)


@dataclass
class ServedRequest:
    """One request a server answered, for its access log."""

    time: float
    remote_ip: str
    remote_port: int
    method: str
    target: str
    version: str
    status: int
    body_bytes: int
    referer: str
    user_agent: str
    forwarded_for: str


class Behaviour:
    """Default: nothing listens (a client-only image such as netshoot or curl)."""

    #: human name for docs / `kubectl logs`
    name = "none"

    def __init__(self, image: str, container: dict) -> None:
        self.image = image
        self.container = container

    def listens(self, protocol: str, port: int) -> bool:
        """Does a socket accept connections on (protocol "TCP"/"UDP", port)?"""
        return False

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        raise NotImplementedError

    def serve_udp(self, port: int, payload: bytes, ctx: ServerContext) -> bytes | None:
        """Answer a UDP datagram (None: no answer)."""
        return None

    def served(self, request: HttpRequest, response: HttpResponse, ctx: ServerContext, at: float) -> None:
        """The datapath tells the server what it just answered (servers keep it for their log)."""

    def logs(self, ctx: LogContext) -> list[tuple[float, str]]:
        """The container's log as (time, line) pairs, oldest first (`kubectl logs`)."""
        return []
