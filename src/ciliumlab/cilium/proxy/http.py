"""The per-node HTTP proxy (cilium-envoy's role) for ports with L7 HTTP rules.

The BPF datapath has already allowed the TCP connection; the proxy now decides per request.
A denied request never reaches the app: Envoy answers 403 with body `Access denied`. Every
request and response becomes an L7 access-log record (monitor type 129) on the proxy's node.
"""

from __future__ import annotations

from ...workloads.net import HttpRequest, HttpResponse
from ..datapath import events as ev

DENIED_BODY = b"Access denied\r\n"


def access_denied(now_http_date: str) -> HttpResponse:
    return HttpResponse(403, "Forbidden", [
        ("content-length", str(len(DENIED_BODY))),
        ("content-type", "text/plain"),
        ("date", now_http_date),
        ("server", "envoy"),
    ], DENIED_BODY)


def request_url(request: HttpRequest) -> str:
    scheme = "https" if request.scheme == "https" else "http"
    return f"{scheme}://{request.host}{request.target}"


class HttpProxy:
    """One node's L7 HTTP proxy: policy check + access log; forwarding is done by the caller."""

    def __init__(self, fabric, port: int = 13627) -> None:
        self.fabric = fabric
        self.port = port

    def allows(self, leg, request: HttpRequest) -> bool:
        l7 = leg.verdict.l7
        if l7 is None:
            return True
        path = request.target
        return bool(l7.allows_http(request.method, path, request.host, list(request.headers)))

    def log(self, path, leg, kind: int, verdict: str, request: HttpRequest, response: HttpResponse | None,
            latency_ns: int = 0) -> None:
        fabric = self.fabric
        reply = kind == ev.L7_RESPONSE
        src, dst = fabric.peers(path, leg.node, reply)
        record = ev.HttpRecord(
            method=request.method, url=request_url(request), protocol=request.version,
            code=response.status if (response is not None and reply) else 0,
            headers=tuple(sorted(request.headers if not reply else (response.headers if response else ()),
                                 key=lambda kv: kv[0].lower())))
        fabric.emit(leg.node, ev.MonitorEvent(
            ev.ACCESS_LOG, 0, fabric.clock.tick(), leg.node, ev.TCP, src, dst, is_reply=reply,
            direction=leg.direction, proxy_port=self.port, policies=tuple(leg.verdict.policies),
            l7=ev.L7Record(kind, verdict, latency_ns, http=record,
                           observation_point="Ingress" if leg.direction == ev.INGRESS else "Egress")))
