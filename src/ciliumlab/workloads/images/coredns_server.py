"""`registry.k8s.io/coredns/coredns` — the kube-dns pods, seen as a container.

The DNS answers themselves come from `workloads.coredns` (the lab routes port 53 there); this
behaviour only says what else the container listens on, as the kubeadm Corefile configures:

* UDP/TCP 53 — DNS (`serve_udp` returns None: the lab answers through `coredns.answer`).
* TCP 8080 ``/health`` — the `health` plugin: ``OK``.
* TCP 8181 ``/ready`` — the `ready` plugin: ``OK`` once every plugin is ready.
* TCP 9153 ``/metrics`` — the `prometheus` plugin: Prometheus text exposition (a fixed,
  plausible snapshot: build info and zeroed request counters).

Unknown paths get Go's ServeMux ``404 page not found``.
"""

from __future__ import annotations

import re

from ..net import HttpRequest, HttpResponse, ServerContext
from .httpserver import ServerBehaviour, go_not_found, go_response, split_target

DEFAULT_VERSION = "1.11.3"
PROM_TEXT = "text/plain; version=0.0.4; charset=utf-8"

METRICS_TEMPLATE = """# HELP coredns_build_info A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.
# TYPE coredns_build_info gauge
coredns_build_info{{goversion="go1.21.11",revision="a6338e9",version="{version}"}} 1
# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.
# TYPE coredns_dns_requests_total counter
coredns_dns_requests_total{{family="1",proto="udp",server="dns://:53",type="A",view="",zone="."}} 0
# HELP coredns_dns_responses_total Counter of response status codes.
# TYPE coredns_dns_responses_total counter
coredns_dns_responses_total{{plugin="kubernetes",rcode="NOERROR",server="dns://:53",view="",zone="."}} 0
# HELP coredns_health_request_duration_seconds Histogram of the time (in seconds) each request took.
# TYPE coredns_health_request_duration_seconds histogram
coredns_health_request_duration_seconds_count 0
# HELP coredns_plugin_enabled A metric that indicates whether a plugin is enabled on per server and zone basis.
# TYPE coredns_plugin_enabled gauge
coredns_plugin_enabled{{name="cache",server="dns://:53",view="",zone="."}} 1
coredns_plugin_enabled{{name="errors",server="dns://:53",view="",zone="."}} 1
coredns_plugin_enabled{{name="forward",server="dns://:53",view="",zone="."}} 1
coredns_plugin_enabled{{name="kubernetes",server="dns://:53",view="",zone="."}} 1
coredns_plugin_enabled{{name="loadbalance",server="dns://:53",view="",zone="."}} 1
coredns_plugin_enabled{{name="loop",server="dns://:53",view="",zone="."}} 1
coredns_plugin_enabled{{name="prometheus",server="dns://:53",view="",zone="."}} 1
# HELP coredns_ready_status_total The number of times the ready endpoint was hit.
# TYPE coredns_ready_status_total counter
coredns_ready_status_total 0
"""


def coredns_version(image: str) -> str:
    """`registry.k8s.io/coredns/coredns:v1.12.0` -> 1.12.0."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    m = re.search(r":v?(\d+\.\d+\.\d+)", last)
    return m.group(1) if m else DEFAULT_VERSION


class CorednsBehaviour(ServerBehaviour):
    name = "coredns"
    tcp_ports = frozenset({53, 8080, 8181, 9153})
    udp_ports = frozenset({53})

    def __init__(self, image: str, container: dict, **kwargs) -> None:
        super().__init__(image, container, **kwargs)
        self.version = coredns_version(image)

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, _ = split_target(request.target)
        method = request.method.upper()
        now = self.now()
        port = ctx.local_port
        if (port, path) in ((8080, "/health"), (8181, "/ready")):
            return go_response(200, b"OK", now=now, method=method, sniffed_type="text/plain; charset=utf-8")
        if port == 9153 and path == "/metrics":
            body = METRICS_TEMPLATE.format(version=self.version).encode()
            return go_response(200, body, now=now, method=method, headers=[("Content-Type", PROM_TEXT)])
        return go_not_found(now=now, method=method)

    def serve_udp(self, port: int, payload: bytes, ctx: ServerContext) -> bytes | None:
        return None
