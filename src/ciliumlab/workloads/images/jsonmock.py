"""`quay.io/cilium/json-mock` — the spaceship pods (tiefighter, xwing) of the Star Wars demo.

The image (github.com/cilium/json-mock) runs `json-server --host '' --port 80 --watch
/default.json` (port from env `PORT`) with a small middleware. What it serves here:

==================================  ======  ===============================================
request                             status  body
==================================  ======  ===============================================
``GET /public``                     200     ``[{"id": 1, "body": "public information"}]``
``GET /private``                    200     ``[{"id": 1, "body": "secret information"}]``
``GET /public/1``, ``/private/1``   200     the item
``GET /db``                         200     the whole database
``GET /client-ip``                  200     ``{"client-ip": "<remote ip>"}`` (middleware.js)
``GET /hostname``                   200     ``{"hostname": "<pod hostname>"}`` (middleware.js)
``/auth-header-required…``          401     unless ``Authorization: Bearer 123456``
``GET /``                           200     an abridged json-server home page (HTML)
anything else                       404     ``{}``
==================================  ======  ===============================================

JSON is pretty-printed with 2 spaces and no trailing newline (Express `json spaces` 2).
Writes (POST/PUT/PATCH/DELETE) are not persisted: they answer 404 ``{}``, a documented
simplification — the demo only ever reads from the spaceships. Headers follow Express +
json-server 0.17 middleware order (`X-Powered-By`, CORS `Vary`, no-cache trio, `ETag` …).
"""

from __future__ import annotations

import base64
import hashlib
import json

from ..net import HttpRequest, HttpResponse, ServerContext
from .base import LogContext, ServedRequest
from .httpserver import ServerBehaviour, container_env, http_date, reason, split_target


def hash_ms(text: str) -> int:
    """A stable pseudo-random number (deterministic logs)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)

DEFAULT_DB: dict[str, list[dict]] = {
    "private": [{"id": 1, "body": "secret information"}],
    "public": [{"id": 1, "body": "public information"}],
}

#: Abridged from json-server 0.17's public/index.html (the real page also links sponsors and
#: renders the resource list client-side with script.js; here the list is rendered inline).
HOME_PAGE = """<html>
  <head>
    <title>JSON Server</title>
  </head>
  <body>
    <main>
      <h1>Congrats!</h1>
      <p>
        You're successfully running JSON Server
        <br />
        \u2727*\uff61\u0669(\u02ca\u15dc\u02cb*)\u0648\u2727*\uff61
      </p>
      <h1>Resources</h1>
      <ul>
%s
      </ul>
      <p>
        To access and modify resources, you can use any HTTP method:
      </p>
      <p>
        <code>GET</code>
        <code>POST</code>
        <code>PUT</code>
        <code>PATCH</code>
        <code>DELETE</code>
        <code>OPTIONS</code>
      </p>
    </main>
  </body>
</html>
"""

AUTH_MESSAGE = b'Invalid Authorization header, try setting it to "Bearer 123456"'


def express_etag(body: bytes) -> str:
    """Express's weak ETag (the `etag` module): W/"<len hex>-<sha1 base64, 27 chars>"."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


def pretty_json(value: object) -> bytes:
    """JSON.stringify(value, null, 2)."""
    return json.dumps(value, indent=2, ensure_ascii=False).encode()


class JsonMockBehaviour(ServerBehaviour):
    name = "json-mock"

    def startup_log(self, ctx: LogContext) -> list[str]:
        """json-server 0.17's banner for `--watch /default.json`."""
        base = f"http://localhost:{min(self.tcp_ports)}"
        return ["", "  \\{^_^}/ hi!", "", "  Loading /default.json", "  Done", "", "  Resources",
                *(f"  {base}/{name}" for name in DEFAULT_DB), "", "  Home", f"  {base}", "",
                "  Type s + enter at any time to create a snapshot of the database", "  Watching..."]

    def access_log(self, req: ServedRequest) -> str:
        """morgan's `dev` format, which json-server logs every request with (colours left out)."""
        ms = 1.0 + (hash_ms(f"{req.time}/{req.target}") % 4000) / 1000
        return f"{req.method} {req.target} {req.status} {ms:.3f} ms - {req.body_bytes if req.body_bytes else '-'}"

    def __init__(self, image: str, container: dict, **kwargs) -> None:
        super().__init__(image, container, **kwargs)
        port = container_env(container).get("PORT", "80")
        self.tcp_ports = frozenset({int(port) if port.isdigit() else 80})

    def _respond(self, status: int, body: bytes, content_type: str, method: str,
                 extra: list[tuple[str, str]] | None = None) -> HttpResponse:
        headers = [("X-Powered-By", "Express"), ("Vary", "Origin, Accept-Encoding"),
                   ("Access-Control-Allow-Credentials", "true"), ("Cache-Control", "no-cache"),
                   ("Pragma", "no-cache"), ("Expires", "-1")]
        headers.extend(extra or [])
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body))),
                    ("ETag", express_etag(body)), ("Date", http_date(self.now())),
                    ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5")]
        return HttpResponse(status, reason(status), headers, b"" if method == "HEAD" else body)

    def _json(self, status: int, value: object, method: str) -> HttpResponse:
        return self._respond(status, pretty_json(value), "application/json; charset=utf-8", method,
                             [("X-Content-Type-Options", "nosniff")])

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        path, _ = split_target(request.target)
        method = request.method.upper()
        if path.startswith("/auth-header-required") and request.header("Authorization") != "Bearer 123456":
            return self._respond(401, AUTH_MESSAGE, "text/html; charset=utf-8", method)
        if path.startswith("/client-ip"):
            return self._json(200, {"client-ip": ctx.remote_ip}, method)
        if path.startswith("/hostname"):
            return self._json(200, {"hostname": ctx.hostname}, method)
        if method not in ("GET", "HEAD"):
            return self._json(404, {}, method)
        if path in ("/", "/index.html"):
            items = "\n".join(f'        <li><a href="{k}">/{k}</a> <sup>{len(v)}x</sup></li>'
                              for k, v in DEFAULT_DB.items())
            return self._respond(200, (HOME_PAGE % items).encode(), "text/html; charset=UTF-8", method)
        parts = [p for p in path.split("/") if p]
        if parts == ["db"]:
            return self._json(200, DEFAULT_DB, method)
        if parts and parts[0] in DEFAULT_DB and len(parts) <= 2:
            rows = DEFAULT_DB[parts[0]]
            if len(parts) == 1:
                return self._json(200, rows, method)
            for row in rows:
                if str(row["id"]) == parts[1]:
                    return self._json(200, row, method)
        return self._json(404, {}, method)
