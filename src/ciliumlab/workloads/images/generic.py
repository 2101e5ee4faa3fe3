"""Images the lab has no specific model of: client-only tools and "anything else".

* Client images (`nicolaka/netshoot`, `curlimages/curl`, `busybox`, `alpine` …) listen on
  nothing: a connection to them is refused, as it would be to a shell container.
* Any other image listens on each declared `containerPort` (TCP by default, UDP when declared)
  and answers every HTTP request with 200 and a one-line body that says who answered::

      ciliumlab: <image> on <pod>:<port> answered GET /path

  UDP datagrams get the same kind of line back (``answered UDP``). Undeclared ports refuse.
"""

from __future__ import annotations

from ..net import HttpRequest, HttpResponse, ServerContext
from .base import Behaviour
from .httpserver import ServerBehaviour, go_response


class ClientBehaviour(Behaviour):
    """A container that runs a shell or a client tool and serves nothing."""

    name = "client"


def declared_ports(container: dict) -> tuple[frozenset[int], frozenset[int]]:
    """(TCP ports, UDP ports) from `ports[].containerPort` / `protocol`."""
    tcp: set[int] = set()
    udp: set[int] = set()
    for p in container.get("ports") or []:
        if not isinstance(p, dict):
            continue
        try:
            port = int(p.get("containerPort"))
        except (TypeError, ValueError):
            continue
        proto = str(p.get("protocol") or "TCP").upper()
        if proto == "TCP":
            tcp.add(port)
        elif proto == "UDP":
            udp.add(port)
    return frozenset(tcp), frozenset(udp)


class GenericBehaviour(ServerBehaviour):
    name = "generic"

    def __init__(self, image: str, container: dict, **kwargs) -> None:
        super().__init__(image, container, **kwargs)
        self.tcp_ports, self.udp_ports = declared_ports(container)

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        line = f"ciliumlab: {self.image} on {ctx.pod_name}:{ctx.local_port} answered {request.method} {request.target}\n"
        return go_response(200, line.encode(), now=self.now(), method=request.method.upper(),
                           sniffed_type="text/plain; charset=utf-8")

    def serve_udp(self, port: int, payload: bytes, ctx: ServerContext) -> bytes | None:
        if port not in self.udp_ports:
            return None
        return f"ciliumlab: {self.image} on {ctx.pod_name}:{port} answered UDP\n".encode()
