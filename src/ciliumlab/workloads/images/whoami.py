"""`traefik/whoami` — the tiny Go server behind `webpod` in the metrics test.

Reproduced from github.com/traefik/whoami `app.go`:

* port: `--port`/`-port` flag, else env `WHOAMI_PORT_NUMBER`, else 80; name: `--name` /
  `WHOAMI_NAME` (adds a first `Name: …` line).
* ``/`` (and every path no other handler owns): ``Hostname:``, one ``IP:`` line per
  interface address in interface order (lo: ``127.0.0.1``, ``::1``; eth0: the pod IPs and the
  IPv6 link-local derived from eth0's MAC), ``RemoteAddr: ip:port``, then the request as Go's
  `Request.Write` re-serialises it: ``GET / HTTP/1.1``, ``Host``, ``User-Agent`` (Go's default
  ``Go-http-client/1.1`` when the client sent none), the other headers sorted by canonical key,
  a blank line and the request body. Those request lines end in CRLF, as on the wire.
  ``?env=true`` appends the environment; ``?wait=100ms`` is reported through `delay()`.
* ``/api``: the same facts as JSON (Go's encoder: compact, HTML-escaped, trailing newline).
* ``/health``: GET answers the current health status with an empty body; POST with a number
  as body changes it. ``/bench``: ``1``. ``/data?size=n&unit=kb``: n bytes.
  ``/echo`` without a WebSocket upgrade: 400 ``Bad Request`` (gorilla/websocket).

Headers follow Go's net/http layout: handler headers (sorted), `Date`, `Content-Length`, then
the sniffed `Content-Type: text/plain; charset=utf-8`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re

from ..net import HttpRequest, HttpResponse, ServerContext
from .base import LogContext
from .httpserver import (
    ServerBehaviour,
    container_argv,
    container_env,
    go_canonical_key,
    go_flag,
    go_log_time,
    go_response,
    query_params,
    split_target,
)

PLAIN_UTF8 = "text/plain; charset=utf-8"
_SIZE_UNITS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
#: /data content: whoami's contentReader (content.go) indexes this charset by byte offset
_DATA_CHARSET = b"-ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_go_duration(text: str) -> float | None:
    """time.ParseDuration for the forms people type (`100ms`, `1.5s`, `1m30s`); None if invalid."""
    if not text:
        return None
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) else None


def data_content(size: int) -> bytes:
    """contentReader output: `|`, charset[offset % 27] for each middle offset, `|`
    (sizes 0 and 1 give nothing: the reader stops at offset size-1)."""
    if size <= 1:
        return b""
    cycle = _DATA_CHARSET * ((size - 2) // len(_DATA_CHARSET) + 2)
    return b"|" + cycle[1:size - 1] + b"|"


def link_local_from_mac(mac: str) -> str:
    """The EUI-64 IPv6 link-local address the kernel gives an interface with this MAC."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def pod_mac(namespace: str, pod: str) -> str:
    """A stable, locally administered unicast MAC for a pod's eth0 when the lab gives none."""
    digest = bytearray(hashlib.sha256(f"{namespace}/{pod}".encode()).digest()[:6])
    digest[0] = (digest[0] | 0x02) & 0xFE
    return ":".join(f"{b:02x}" for b in digest)


def interface_ips(ctx: ServerContext) -> list[str]:
    """Go's getIPs(): every address of every interface, in interface order."""
    if ctx.interfaces:
        ips: list[str] = []
        for iface in sorted(ctx.interfaces, key=lambda i: i.index):
            addrs = [a.split("/")[0] for a in iface.addresses]
            if iface.name == "lo":
                if "::1" not in addrs:
                    addrs.append("::1")
            elif not any(a.lower().startswith("fe80:") for a in addrs):
                addrs.append(link_local_from_mac(iface.mac))
            ips.extend(addrs)
        return ips
    return ["127.0.0.1", "::1", *ctx.ips, link_local_from_mac(pod_mac(ctx.namespace, ctx.pod_name))]


def remote_addr(ctx: ServerContext) -> str:
    if ":" in ctx.remote_ip:
        return f"[{ctx.remote_ip}]:{ctx.remote_port}"
    return f"{ctx.remote_ip}:{ctx.remote_port}"


def request_headers(request: HttpRequest) -> dict[str, list[str]]:
    """The server-side `r.Header`: canonical keys, Host removed (it lives in `r.Host`)."""
    headers: dict[str, list[str]] = {}
    for key, value in request.headers:
        ckey = go_canonical_key(key)
        if ckey == "Host":
            continue
        headers.setdefault(ckey, []).append(value)
    return headers


def go_request_write(request: HttpRequest, headers: dict[str, list[str]]) -> bytes:
    """net/http Request.Write as whoami calls it on the received request."""
    lines = [f"{request.method} {request.target} HTTP/1.1", f"Host: {request.host}"]
    agent = headers["User-Agent"][0] if "User-Agent" in headers else "Go-http-client/1.1"
    if agent:
        lines.append(f"User-Agent: {agent}")
    if request.body:
        lines.append(f"Content-Length: {len(request.body)}")
    elif request.method.upper() in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    skip = {"User-Agent", "Content-Length", "Transfer-Encoding", "Trailer"}
    for key in sorted(headers):
        if key not in skip:
            lines.extend(f"{key}: {v}" for v in headers[key])
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + request.body


def go_json(value: object) -> bytes:
    """encoding/json Encoder output: compact, `<>&` escaped, newline-terminated."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode()


class WhoamiBehaviour(ServerBehaviour):
    name = "whoami"

    def startup_log(self, ctx: LogContext) -> list[str]:
        # traefik/whoami: `log.Printf("Starting up on port %s", port)`; requests are not logged
        return [f"{go_log_time(ctx.started)} Starting up on port {self.port}"]

    def __init__(self, image: str, container: dict, **kwargs) -> None:
        super().__init__(image, container, **kwargs)
        argv = container_argv(container)
        self.env = container_env(container)
        port = go_flag(argv, "port") or self.env.get("WHOAMI_PORT_NUMBER") or "80"
        self.port = int(port) if port.isdigit() else 80
        self.tcp_ports = frozenset({self.port})
        self.whoami_name = go_flag(argv, "name") or self.env.get("WHOAMI_NAME", "")
        self.allowed_origins = go_flag(argv, "allowed-origins") or self.env.get("WHOAMI_ALLOWED_ORIGINS") or "*"
        self.health_status = 200

    def delay(self, request: HttpRequest) -> float:
        path, query = split_target(request.target)
        if path in ("/data", "/echo", "/bench", "/api", "/health"):
            return 0.0
        return parse_go_duration(query_params(query).get("wait", "")) or 0.0

    def environ(self, ctx: ServerContext) -> list[str]:
        """os.Environ() approximated: image PATH, HOSTNAME, the container's literal env, HOME."""
        env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", f"HOSTNAME={ctx.hostname}"]
        env.extend(f"{k}={v}" for k, v in self.env.items())
        env.append("HOME=/root")
        return env

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, query = split_target(request.target)
        method = request.method.upper()
        now = self.now()
        if path == "/health":
            if method == "POST":
                text = request.body.decode(errors="replace").strip()
                if not re.fullmatch(r"-?\d+", text):
                    msg = "invalid character looking for beginning of value\n" if text else "EOF\n"
                    return go_response(400, msg.encode(), now=now, method=method, headers=[
                        ("Content-Type", PLAIN_UTF8), ("X-Content-Type-Options", "nosniff")])
                self.health_status = int(text)
                return go_response(200, b"", now=now, method=method)
            return go_response(self.health_status, b"", now=now, method=method)
        if path == "/bench":
            return go_response(200, b"1", now=now, method=method,
                               headers=[("Connection", "keep-alive"), ("Content-Type", "text/plain")])
        if path == "/echo":
            return go_response(400, b"Bad Request\n", now=now, method=method, headers=[
                ("Content-Type", PLAIN_UTF8), ("Sec-Websocket-Version", "13"),
                ("X-Content-Type-Options", "nosniff")])
        params = query_params(query)
        show_env = params.get("env", "").lower() in ("1", "t", "true")
        headers = request_headers(request)
        if path == "/api":
            data: dict[str, object] = {"hostname": ctx.hostname, "ip": interface_ips(ctx)}
            if headers:
                data["headers"] = {k: headers[k] for k in sorted(headers)}
            data.update({"url": request.target, "host": request.host, "method": request.method})
            if self.whoami_name:
                data["name"] = self.whoami_name
            data["remoteAddr"] = remote_addr(ctx)
            if show_env:
                data["environ"] = dict(sorted(e.split("=", 1) for e in self.environ(ctx)))
            return go_response(200, go_json(data), now=now, method=method, headers=[
                ("Access-Control-Allow-Methods", "*"), ("Access-Control-Allow-Origin", self.allowed_origins),
                ("Content-Type", "application/json")])
        if path == "/data":
            size_text = params.get("size", "")
            size = int(size_text) if re.fullmatch(r"-?\d+", size_text) else 1
            size = max(size, 0) * _SIZE_UNITS.get(params.get("unit", "").lower(), 1)
            size = min(size, 1 << 20)  # the lab does not ship gigabytes around
            body = data_content(size)
            return go_response(200, body, now=now, method=method, sniffed_type=PLAIN_UTF8)
        lines = []
        if self.whoami_name:
            lines.append(f"Name: {self.whoami_name}")
        lines.append(f"Hostname: {ctx.hostname}")
        lines.extend(f"IP: {ip}" for ip in interface_ips(ctx))
        lines.append(f"RemoteAddr: {remote_addr(ctx)}")
        body = ("\n".join(lines) + "\n").encode() + go_request_write(request, headers)
        if show_env:
            body += ("\n".join(self.environ(ctx)) + "\n").encode()
        return go_response(200, body, now=now, method=method, sniffed_type=PLAIN_UTF8)
