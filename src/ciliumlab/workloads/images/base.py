"""The contract of an image behaviour.

A behaviour says which ports a container listens on and how it answers HTTP. It knows nothing
of policy or the datapath: by the time `serve_http` runs, the request was allowed all the way.
"""

from __future__ import annotations

from ..net import HttpRequest, HttpResponse, ServerContext


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
