"""`quay.io/cilium/starwars` — the deathstar of Cilium's Star Wars demo.

Reproduced from the app's source (github.com/cilium/starwars-docker,
`restapi/configure_deathstar.go`, `restapi/embedded_spec.go`, `restapi/operations/*`): a
go-swagger server on TCP 80 with basePath `/v1` that produces `text/plain`:

=========================  ======  =====================================================
request                    status  body
=========================  ======  =====================================================
``GET /v1``                200     the `info` JSON listing the API (with the pod hostname)
``POST /v1/request-landing`` 200   ``Ship landed\\n``
``PUT /v1/exhaust-port``   503     the fake panic backtrace (``Panic: deathstar exploded …``)
known path, other method   405     ``{"code":405,"message":"method GET is not allowed, but [POST] are"}``
anything else              404     ``{"code":404,"message":"path /x was not found"}``
=========================  ======  =====================================================

Routing cleans the path first (go-openapi's router looks up `path.Clean(path)`), so
`/v1/request-landing/` lands too; the query string is not part of the route.

Successful answers carry `Content-Type: text/plain` (go-openapi sets the negotiated producer
type, which has no charset); errors `application/json` (go-openapi errors.ServeError). Headers
are laid out as Go's net/http writes them: `Content-Type`, then `Date`, `Content-Length`.

The exhaust-port handler also starts a goroutine that panics two seconds later, killing the
process: `crash_after` returns 2.0 so the lab can restart the container as the kubelet would.
"""

from __future__ import annotations

from ..net import HttpRequest, HttpResponse, ServerContext
from .base import LogContext
from .httpserver import ServerBehaviour, go_clean_path, go_log_time, go_response, split_target

LANDED = b"Ship landed\n"

#: configure_deathstar.go `backtrace`, byte for byte (8-space indents, wrapped paths).
BACKTRACE = (
    b"Panic: deathstar exploded\n"
    b"\n"
    b"goroutine 1 [running]:\n"
    b"main.HandleGarbage(0x2080c3f50, 0x2, 0x4, 0x425c0, 0x5, 0xa)\n"
    b"        /code/src/github.com/empire/deathstar/\n"
    b"        temp/main.go:9 +0x64\n"
    b"main.main()\n"
    b"        /code/src/github.com/empire/deathstar/\n"
    b"        temp/main.go:5 +0x85\n"
)

#: configure_deathstar.go `info` (tab-indented, as the Go raw string literal is).
INFO_TEMPLATE = (
    "{\n"
    '\t"name": "Death Star",\n'
    '\t"hostname": "%s",\n'
    '\t"model": "DS-1 Orbital Battle Station",\n'
    '\t"manufacturer": "Imperial Department of Military Research, Sienar Fleet Systems",\n'
    '\t"cost_in_credits": "1000000000000",\n'
    '\t"length": "120000",\n'
    '\t"crew": "342953",\n'
    '\t"passengers": "843342",\n'
    '\t"cargo_capacity": "1000000000000",\n'
    '\t"hyperdrive_rating": "4.0",\n'
    '\t"starship_class": "Deep Space Mobile Battlestation",\n'
    '\t"api": [\n'
    '\t\t"GET   /v1",\n'
    '\t\t"GET   /v1/healthz",\n'
    '\t\t"POST  /v1/request-landing",\n'
    '\t\t"PUT   /v1/cargobay",\n'
    '\t\t"GET   /v1/hyper-matter-reactor/status",\n'
    '\t\t"PUT   /v1/exhaust-port"\n'
    "\t]\n"
    "}\n"
)

#: route -> the one method the swagger spec defines for it
ROUTES: dict[str, str] = {
    "/v1": "GET",
    "/v1/request-landing": "POST",
    "/v1/exhaust-port": "PUT",
}

#: the goroutine in the exhaust-port handler sleeps 2 s, then panics
EXPLOSION_DELAY = 2.0


class StarwarsBehaviour(ServerBehaviour):
    name = "starwars"

    def startup_log(self, ctx: LogContext) -> list[str]:
        # go-swagger's generated server logs where it serves; it writes no access log
        return [f"{go_log_time(ctx.started)} Serving deathstar at http://[::]:80"]
    tcp_ports = frozenset({80})

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, _ = split_target(request.target)
        route = go_clean_path(path)
        method = request.method.upper()
        now = self.now()
        allowed = ROUTES.get(route)
        if allowed is None:
            body = b'{"code":404,"message":"path %s was not found"}' % path.encode()
            return go_response(404, body, now=now, method=method, headers=[("Content-Type", "application/json")])
        if method != allowed:
            body = b'{"code":405,"message":"method %s is not allowed, but [%s] are"}' % (
                method.encode(), allowed.encode())
            return go_response(405, body, now=now, method=method,
                               headers=[("Allow", allowed), ("Content-Type", "application/json")])
        if route == "/v1/request-landing":
            body = LANDED
            status = 200
        elif route == "/v1/exhaust-port":
            body = BACKTRACE
            status = 503
        else:
            body = (INFO_TEMPLATE % ctx.hostname).encode()
            status = 200
        return go_response(status, body, now=now, method=method, headers=[("Content-Type", "text/plain")])

    def crash_after(self, request: HttpRequest, response: HttpResponse) -> float | None:
        if response.status == 503 and request.method.upper() == "PUT":
            return EXPLOSION_DELAY
        return None
