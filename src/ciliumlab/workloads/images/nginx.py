"""`nginx` (any tag) — the official image's default server on TCP 80.

* ``GET /`` and ``/index.html``: the stock "Welcome to nginx!" page (615 bytes) with
  `Last-Modified`/`ETag` of the packaged file. For 1.27.5 the real image answers
  ``Last-Modified: Wed, 16 Apr 2025 12:01:11 GMT`` and ``ETag: "67ff9c07-267"`` (seen in
  published `curl -v` transcripts; the ETag is hex(mtime)-hex(size)); other versions reuse that
  mtime.
* other paths: nginx's built-in 404 page (CRLF line endings, version in the footer).
* methods other than GET/HEAD on an existing file: 405 Not Allowed; POST to a missing file: 404
  (ngx_http_static_module order of checks).

`Server: nginx/<version>`: an exact `x.y.z` tag is used as is; `x.y`, `latest`, `alpine` … map
to the patch releases below (default 1.27.5).
"""

from __future__ import annotations

import re
import time

from ..net import HttpRequest, HttpResponse, ServerContext
from .base import LogContext, ServedRequest
from .httpserver import ServerBehaviour, go_log_time, http_date, reason, split_target

ENTRYPOINT_LOG = [
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
]

WELCOME_PAGE = b"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

#: mtime of /usr/share/nginx/html/index.html in nginx:1.27.5
INDEX_MTIME = 0x67FF9C07

DEFAULT_VERSION = "1.27.5"
#: newest patch release of each line, for `nginx:1.27`-style tags
MINOR_LATEST = {
    "1.29": "1.29.3", "1.28": "1.28.0", "1.27": "1.27.5", "1.26": "1.26.3", "1.25": "1.25.5",
    "1.24": "1.24.0", "1.23": "1.23.4", "1.22": "1.22.1", "1.21": "1.21.6", "1.20": "1.20.2",
}
_VERSION = re.compile(r"^(\d+\.\d+)(\.\d+)?")
_FILES = ("/", "/index.html")


def nginx_version(image: str) -> str:
    """`nginx:1.25.3-alpine` -> 1.25.3, `nginx:1.26` -> 1.26.3, `nginx` -> 1.27.5."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    m = _VERSION.match(tag)
    if not m:
        return DEFAULT_VERSION
    if m.group(2):
        return m.group(1) + m.group(2)
    return MINOR_LATEST.get(m.group(1), m.group(1) + ".0")


def error_page(status: int, server: str) -> bytes:
    """ngx_http_special_response.c page: `<html>` … `<hr><center>nginx/x.y.z</center>` with CRLF."""
    title = f"{status} {'Not Allowed' if status == 405 else reason(status)}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n").encode()


class NginxBehaviour(ServerBehaviour):
    name = "nginx"

    def startup_log(self, ctx: LogContext) -> list[str]:
        """The official image's entrypoint, then nginx's notices (error_log to stderr)."""
        t = go_log_time(ctx.started)
        return [*ENTRYPOINT_LOG, f"{t} [notice] 1#1: using the \"epoll\" event method",
                f"{t} [notice] 1#1: {self.server}", f"{t} [notice] 1#1: OS: Linux 6.8.0-60-generic",
                f"{t} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576",
                f"{t} [notice] 1#1: start worker processes", f"{t} [notice] 1#1: start worker process 29"]

    def access_log(self, req: ServedRequest) -> str:
        """`log_format main` of the image's nginx.conf (access_log to stdout)."""
        local = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(req.time))
        return (f'{req.remote_ip} - - [{local}] "{req.method} {req.target} {req.version}" {req.status} '
                f'{req.body_bytes} "{req.referer or "-"}" "{req.user_agent or "-"}" "{req.forwarded_for or "-"}"')
    tcp_ports = frozenset({80})

    def __init__(self, image: str, container: dict, **kwargs) -> None:
        super().__init__(image, container, **kwargs)
        self.server = "nginx/" + nginx_version(image)

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, _ = split_target(request.target)
        method = request.method.upper()
        date = http_date(self.now())
        exists = path in _FILES
        if method in ("GET", "HEAD") and exists:
            body = WELCOME_PAGE
            headers = [("Server", self.server), ("Date", date), ("Content-Type", "text/html"),
                       ("Content-Length", str(len(body))), ("Last-Modified", http_date(INDEX_MTIME)),
                       ("Connection", "keep-alive"), ("ETag", f'"{INDEX_MTIME:x}-{len(body):x}"'),
                       ("Accept-Ranges", "bytes")]
            return HttpResponse(200, "OK", headers, b"" if method == "HEAD" else body)
        status = 404 if (method in ("GET", "HEAD", "POST") and not exists) else 405
        body = error_page(status, self.server)
        headers = [("Server", self.server), ("Date", date), ("Content-Type", "text/html"),
                   ("Content-Length", str(len(body))), ("Connection", "keep-alive")]
        return HttpResponse(status, "Not Allowed" if status == 405 else reason(status), headers,
                            b"" if method == "HEAD" else body)
