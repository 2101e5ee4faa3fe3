"""What every simulated HTTP server shares: the clock, the `Date` header, header layouts.

Real servers differ in small, visible ways — Go's net/http writes handler headers sorted and
then `Date` and `Content-Length`; nginx leads with `Server`; Express with `X-Powered-By` — and
users compare `curl -v` output with the docs. So each image picks the layout of the server it
imitates instead of one shared generic layout.

Behaviours never sleep and never read the wall clock themselves: the lab passes `now` (its
virtual or wall clock), which keeps outputs reproducible under the virtual clock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from email.utils import formatdate
from http import HTTPStatus

from ..net import HttpRequest, HttpResponse, ServerContext
from .base import MAX_LOGGED_REQUESTS, Behaviour, LogContext, ServedRequest

Now = Callable[[], float]
Headers = list[tuple[str, str]]

#: Go's http.Server switches to chunked encoding when a handler writes more than this before
#: returning without setting Content-Length (net/http bufferBeforeChunkingSize).
GO_CHUNKING_THRESHOLD = 2048

_date_cache: tuple[int, str] = (-1, "")


def http_date(ts: float) -> str:
    """RFC 7231 IMF-fixdate (`Tue, 25 Nov 2025 08:00:00 GMT`), cached per second: every
    response carries one, and benchmarks serve thousands per lab second."""
    global _date_cache
    second = int(ts)
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, usegmt=True))
    return _date_cache[1]


def reason(status: int) -> str:
    """Standard reason phrase (what Go's http.StatusText and nginx print)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def split_target(target: str) -> tuple[str, str]:
    """("/v1/x", "a=1") from "/v1/x?a=1"; absolute-form targets keep only their path."""
    if "://" in target:
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    return (path or "/"), query


def go_clean_path(path: str) -> str:
    """Go's path.Clean: collapse `//`, resolve `.`/`..`, drop a trailing slash (routers that
    clean make `/v1/request-landing/` reach the same handler as `/v1/request-landing`)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    cleaned = "/".join(out)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def go_canonical_key(key: str) -> str:
    """textproto.CanonicalMIMEHeaderKey: `user-agent` -> `User-Agent`."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in key.split("-"))


def query_params(query: str) -> dict[str, str]:
    """First value of each `k=v` pair (url.Values.Get semantics, minus escapes we never need)."""
    params: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        k, _, v = pair.partition("=")
        params.setdefault(k, v)
    return params


def go_response(status: int, body: bytes, *, now: float, method: str = "GET",
                headers: Iterable[tuple[str, str]] = (), sniffed_type: str | None = None) -> HttpResponse:
    """A response laid out like Go's net/http server writes it.

    Handler-set headers come first, sorted by key; then the server adds `Date`,
    `Content-Length` (or `Transfer-Encoding: chunked` for large bodies) and, when the handler
    set no Content-Type but wrote a body, the sniffed type. HEAD keeps the headers, drops the body.
    """
    out: Headers = sorted(headers, key=lambda kv: kv[0])
    has_type = any(k == "Content-Type" for k, _ in out)
    out.append(("Date", http_date(now)))
    if len(body) > GO_CHUNKING_THRESHOLD:
        out.append(("Transfer-Encoding", "chunked"))
    elif status not in (204, 304) and not (100 <= status < 200):
        out.append(("Content-Length", str(len(body))))
    if body and not has_type and sniffed_type:
        out.append(("Content-Type", sniffed_type))
    if method == "HEAD":
        body = b""
    return HttpResponse(status=status, reason=reason(status), headers=out, body=body)


def go_not_found(*, now: float, method: str = "GET") -> HttpResponse:
    """http.NotFound from a Go ServeMux: `404 page not found`."""
    return go_response(404, b"404 page not found\n", now=now, method=method, headers=[
        ("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")])


class ServerBehaviour(Behaviour):
    """A behaviour that serves HTTP on some TCP ports.

    Optional hooks the lab may honour (all default to "nothing happens"):

    * `delay(request)` — seconds the server waits before answering (whoami `?wait=`).
    * `crash_after(request, response)` — seconds after answering at which the container's
      process exits, so the kubelet restarts it (the deathstar after `PUT /v1/exhaust-port`).
    """

    name = "server"
    tcp_ports: frozenset[int] = frozenset()
    udp_ports: frozenset[int] = frozenset()

    def __init__(self, image: str, container: dict, *, now: Now | None = None) -> None:
        super().__init__(image, container)
        self.now: Now = now or time.time
        self.requests: deque[ServedRequest] = deque(maxlen=MAX_LOGGED_REQUESTS)

    def served(self, request: HttpRequest, response: HttpResponse, ctx: ServerContext, at: float) -> None:
        self.requests.append(ServedRequest(
            at, ctx.remote_ip, ctx.remote_port, request.method, request.target, request.version, response.status,
            0 if request.method.upper() == "HEAD" else len(response.body), request.header("referer") or "",
            request.header("user-agent") or "", request.header("x-forwarded-for") or ""))

    def startup_log(self, ctx: LogContext) -> list[str]:
        """What the process prints when it starts."""
        return []

    def access_log(self, req: ServedRequest) -> str | None:
        """The line it prints for a request it served (None: it logs no requests)."""
        return None

    def logs(self, ctx: LogContext) -> list[tuple[float, str]]:
        lines = [(ctx.started, line) for line in self.startup_log(ctx)]
        for req in self.requests:
            if req.time >= ctx.started:
                line = self.access_log(req)
                if line is not None:
                    lines.append((req.time, line))
        return lines

    def listens(self, protocol: str, port: int) -> bool:
        proto = protocol.upper()
        if proto == "TCP":
            return port in self.tcp_ports
        if proto == "UDP":
            return port in self.udp_ports
        return False

    def delay(self, request: HttpRequest) -> float:
        return 0.0

    def crash_after(self, request: HttpRequest, response: HttpResponse) -> float | None:
        return None


def go_log_time(ts: float) -> str:
    """The timestamp Go's `log` package prefixes (LstdFlags, UTC in a container)."""
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(ts))


def container_env(container: dict) -> dict[str, str]:
    """Literal `env` values of a container spec (valueFrom entries are not resolvable here)."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if isinstance(item, dict) and "name" in item and "value" in item:
            env[str(item["name"])] = str(item["value"])
    return env


def container_argv(container: dict) -> list[str]:
    """`command` + `args` as one list (either may be absent: the image's defaults apply)."""
    return [str(a) for a in (container.get("command") or [])] + [str(a) for a in (container.get("args") or [])]


def go_flag(argv: list[str], flag: str) -> str | None:
    """Value of a Go `flag` package option: `-port 8080`, `--port=8080`, `-port=8080` …"""
    value = None
    for i, arg in enumerate(argv):
        stripped = arg.lstrip("-")
        if not arg.startswith("-") or len(arg) - len(stripped) > 2:
            continue
        name, eq, val = stripped.partition("=")
        if name != flag:
            continue
        if eq:
            value = val
        elif i + 1 < len(argv):
            value = argv[i + 1]
    return value
