"""curl 8.14.1 (as in nicolaka/netshoot on Alpine 3.22): HTTP(S) client on top of ``PodNet``.

Messages and exit codes follow curl: 6 could not resolve, 7 refused/unreachable, 22 --fail,
28 timeouts, 47 too many redirects, 2 bad usage. ``-s`` hides error lines unless ``-S``.
Timeout wording (curl 8.x):
- ``--connect-timeout`` hit while connecting → ``Failed to connect to H port P after N ms: Timeout was reached``
- ``-m`` hit while connecting → ``Connection timed out after N milliseconds``
- no timeout flags and the kernel gives up on SYN retries (~130 s) →
  ``Failed to connect to H port P after N ms: Could not connect to server`` (exit 28: curl maps
  ETIMEDOUT to CURLE_OPERATION_TIMEDOUT after formatting the message)
- ``-m`` hit after connecting → ``Operation timed out after N milliseconds with 0 bytes received``
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from ..net import (
    ConnectionRefused,
    ConnectionReset,
    ConnectTimeout,
    HostUnreachable,
    HttpExchange,
    HttpRequest,
    NetError,
    OperationTimeout,
    ResolveError,
)
from ..shell.context import CommandContext, DeadlineExceeded
from .common import is_ipv4, millis, remaining_cap
from .curl_args import CurlOptions, CurlUsage, parse_args, parse_seconds
from .curl_output import WriteOutVars, meter, render_write_out
from .curl_url import Url, UrlError, parse_url

CURL_VERSION = "8.14.1"
USER_AGENT = f"curl/{CURL_VERSION}"
TRY_HELP = "curl: try 'curl --help' or 'curl --manual' for more information\n"
REDIRECT_CODES = {301, 302, 303, 307, 308}


class CurlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Settings:
    silent: bool
    show_error: bool
    verbose: bool
    include: bool
    head: bool
    follow: bool
    fail: bool
    fail_with_body: bool
    output: str | None
    write_out: str | None
    connect_timeout: float | None
    max_time: float | None
    max_redirs: int
    method: str | None
    data: bytes | None
    get: bool
    headers: list[tuple[str, str]]
    user_agent: str | None
    resolve: dict[tuple[str, int], str]


def curl(args: list[str], ctx: CommandContext) -> int:
    try:
        opts = parse_args(args)
        settings = _settings(opts, ctx)
    except CurlUsage as exc:
        ctx.stderr.write(f"curl: {exc.message}\n{TRY_HELP}")
        return exc.code
    if not opts.urls:
        ctx.stderr.write(f"curl: no URL specified\n{TRY_HELP}")
        return 2
    session = _Session(ctx, settings)
    status = 0
    for raw in opts.urls:
        status = session.transfer(raw)
    return status


def _settings(opts: CurlOptions, ctx: CommandContext) -> _Settings:
    data_parts: list[str] = []
    for name, value in opts.all("data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json"):
        if name in ("data", "data-ascii", "data-binary") and value.startswith("@"):
            text = ctx.fs.read(value[1:]) if value != "@-" else ctx.stdin
            if text is None:
                ctx.stderr.write(f"Warning: Couldn't read data from file \"{value[1:]}\", this makes an empty POST.\n")
                text = ""
            value = text if name == "data-binary" else text.replace("\r", "").replace("\n", "")
        data_parts.append(value)
    headers: list[tuple[str, str]] = []
    for _, h in opts.all("header"):
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    if opts.get("json") is not None:
        headers += [("Content-Type", "application/json"), ("Accept", "application/json")]
    resolve: dict[tuple[str, int], str] = {}
    for _, r in opts.all("resolve"):
        parts = r.split(":")
        if len(parts) >= 3 and parts[1].isdigit():
            resolve[(parts[0].lower(), int(parts[1]))] = parts[2]
    ct = opts.get("connect-timeout")
    mt = opts.get("max-time")
    user = opts.get("user")
    if user is not None:
        import base64

        headers.insert(0, ("Authorization", "Basic " + base64.b64encode(user.encode()).decode()))
    return _Settings(
        silent="silent" in opts.flags,
        show_error="show-error" in opts.flags,
        verbose="verbose" in opts.flags,
        include="include" in opts.flags,
        head="head" in opts.flags,
        follow="location" in opts.flags or "location-trusted" in opts.flags,
        fail="fail" in opts.flags,
        fail_with_body="fail-with-body" in opts.flags,
        output=opts.get("output"),
        write_out=opts.get("write-out"),
        connect_timeout=parse_seconds("connect-timeout", ct) if ct is not None else None,
        max_time=parse_seconds("max-time", mt) if mt is not None else None,
        max_redirs=int(opts.get("max-redirs") or 50),
        method=opts.get("request"),
        data="&".join(data_parts).encode() if data_parts else None,
        get="get" in opts.flags,
        headers=headers,
        user_agent=opts.get("user-agent"),
        resolve=resolve,
    )


class _Session:
    """One curl invocation: connection numbering, output streams, verbose trace."""

    def __init__(self, ctx: CommandContext, s: _Settings) -> None:
        self.ctx = ctx
        self.s = s
        self.conn_id = 0
        self.meter = not s.silent and not ctx.stdout_is_tty or (not s.silent and s.output is not None)

    # ------------------------------------------------------------------------ output helpers
    def info(self, text: str) -> None:
        if self.s.verbose:
            self.ctx.stderr.write(text)

    def error(self, err: CurlError) -> None:
        if not self.s.silent or self.s.show_error:
            self.ctx.stderr.write(f"curl: ({err.code}) {err.message}\n")

    # ------------------------------------------------------------------------ one URL
    def transfer(self, raw: str) -> int:
        s = self.s
        wo = WriteOutVars()
        start = self.ctx.net.now()
        body_out = b""
        header_out = ""
        code = 0
        try:
            url = parse_url(raw)
            method, target_body, url = self._method_and_body(url)
            wo.method = method
            redirects = 0
            while True:
                exchange = self._request(url, method, target_body, wo, start)
                resp = exchange.response
                hdr = self._header_block(resp)
                wo.http_code, wo.num_redirects = resp.status, redirects
                wo.size_header += len(hdr.encode())
                wo.content_type = resp.header("Content-Type") or ""
                location = resp.header("Location")
                if s.follow and resp.status in REDIRECT_CODES and location:
                    if s.include or s.head:
                        header_out += hdr
                    redirects += 1
                    if redirects > s.max_redirs:
                        raise CurlError(47, f"Maximum ({s.max_redirs}) redirects followed")
                    url = parse_url(location, base=url)
                    self.info(f"* Issue another request to this URL: '{url}'\n")
                    if resp.status == 303 or (resp.status in (301, 302) and method == "POST" and s.method is None):
                        if method != "HEAD":
                            method, target_body = "GET", None
                    continue
                if s.include or s.head:
                    header_out += hdr
                if s.fail and resp.status >= 400 or s.fail_with_body and resp.status >= 400:
                    if s.fail_with_body:
                        body_out = resp.body
                    self._flush(header_out if s.fail_with_body else "", body_out)
                    header_out, body_out = "", b""
                    raise CurlError(22, f"The requested URL returned error: {resp.status}")
                body_out = b"" if method == "HEAD" else resp.body
                wo.size_download = len(body_out)
                break
        except UrlError as exc:
            code = exc.code
            self.error(CurlError(exc.code, exc.message))
        except CurlError as exc:
            code = exc.code
            wo.errormsg = exc.message
            if self.meter:
                self.ctx.stderr.write(meter(None, 0, 0, 0, 0.0, done=False) + "\n")
            self.error(exc)
        else:
            self._flush(header_out, body_out)
            if self.meter:
                elapsed = self.ctx.net.now() - start
                up = len(target_body or b"")
                self.ctx.stderr.write(meter(len(resp.body), len(body_out), up, up, elapsed, done=True))
        wo.exitcode = code
        wo.time_total = self.ctx.net.now() - start
        if s.write_out is not None:
            self.ctx.stdout.write(render_write_out(s.write_out, wo))
        return code

    def _flush(self, header_out: str, body: bytes) -> None:
        text = header_out + body.decode("utf-8", errors="replace")
        if self.s.output is not None:
            self.ctx.fs.write(self.s.output, text)
        else:
            self.ctx.stdout.write(text)

    def _method_and_body(self, url: Url) -> tuple[str, bytes | None, Url]:
        s = self.s
        body = s.data
        if s.get and body is not None:
            sep = "&" if "?" in url.target else "?"
            url = Url(url.scheme, url.host, url.port, url.target + sep + body.decode(), url.explicit_port)
            body = None
        default = "HEAD" if s.head else ("POST" if body is not None else "GET")
        method = s.method or default
        if s.method and s.verbose and s.method == default:
            self.ctx.stderr.write(f"Note: Unnecessary use of -X or --request, {default} is already inferred.\n")
        return method, body, url

    # ------------------------------------------------------------------------ the exchange
    def _request(self, url: Url, method: str, body: bytes | None, wo: WriteOutVars, start: float) -> HttpExchange:
        s, net = self.s, self.ctx.net
        conn = self.conn_id
        self.conn_id += 1
        host, port = url.host.strip("[]"), url.port
        wo.url_effective, wo.scheme = str(url), url.scheme
        # -- resolve
        override = s.resolve.get((host, port))
        if override:
            ips = [override]
            self.info(f"* Added {host}:{port}:{override} to DNS cache\n* Hostname {host} was found in DNS cache\n")
        elif is_ipv4(host):
            ips = [host]
        else:
            timeout, _ = remaining_cap(self.ctx, s.connect_timeout or s.max_time)
            try:
                ips = net.resolve(host, **({"timeout": timeout} if timeout is not None else {}))
            except ResolveError as exc:
                if self.ctx.deadline_reached():
                    raise DeadlineExceeded() from exc
                if exc.rcode == "TIMEOUT" and (s.connect_timeout or s.max_time):
                    ms = millis(net.now() - start)
                    raise self._fail_conn(conn, CurlError(28, f"Resolving timed out after {ms} milliseconds")) from exc
                self.info(f"* Could not resolve host: {host}\n")
                raise self._fail_conn(conn, CurlError(6, f"Could not resolve host: {host}")) from exc
            self.info(f"* Host {host}:{port} was resolved.\n* IPv6: (none)\n* IPv4: {', '.join(ips)}\n")
        wo.time_namelookup = net.now() - start
        ip = ips[0]
        self.info(f"*   Trying {ip}:{port}...\n")
        # -- timeouts: curl's own, capped by what is left of the exec
        spent = net.now() - start
        max_left = None if s.max_time is None else max(s.max_time - spent, 0.0)
        connect_limit = s.connect_timeout if max_left is None else min(s.connect_timeout or max_left, max_left)
        connect_cap, _ = remaining_cap(self.ctx, connect_limit)
        max_cap, _ = remaining_cap(self.ctx, max_left)
        request = self._build_request(url, method, body)
        try:
            exchange = net.http(ip, port, request, connect_timeout=connect_cap, max_time=max_cap,
                                tls=url.scheme == "https")
        except ConnectTimeout as exc:
            if self.ctx.deadline_reached():
                raise DeadlineExceeded() from exc
            ms = millis(net.now() - start)
            if s.max_time is not None and (s.connect_timeout is None or s.max_time - spent <= s.connect_timeout):
                err = CurlError(28, f"Connection timed out after {ms} milliseconds")
            elif s.connect_timeout is not None:
                err = CurlError(28, f"Failed to connect to {host} port {port} after {ms} ms: Timeout was reached")
            else:
                self.info(f"* connect to {ip} port {port} from {net.ip} port {self._lport(ip, port)} failed: "
                          "Connection timed out\n")
                err = CurlError(28, f"Failed to connect to {host} port {port} after {ms} ms: Could not connect to server")
            self.info(f"* {err.message}\n")
            raise self._fail_conn(conn, err, traced=True) from exc
        except (ConnectionRefused, HostUnreachable) as exc:
            reason = "Connection refused" if isinstance(exc, ConnectionRefused) else "No route to host"
            ms = millis(net.now() - start)
            self.info(f"* connect to {ip} port {port} from {net.ip} port {self._lport(ip, port)} failed: {reason}\n")
            err = CurlError(7, f"Failed to connect to {host} port {port} after {ms} ms: Could not connect to server")
            self.info(f"* {err.message}\n")
            raise self._fail_conn(conn, err, traced=True) from exc
        except OperationTimeout as exc:
            if self.ctx.deadline_reached():
                raise DeadlineExceeded() from exc
            ms = millis(net.now() - start)
            err = CurlError(28, f"Operation timed out after {ms} milliseconds with 0 bytes received")
            self.info(f"* {err.message}\n")
            raise self._fail_conn(conn, err, traced=True) from exc
        except ConnectionReset as exc:
            err = CurlError(56, "Recv failure: Connection reset by peer")
            self.info(f"* {err.message}\n")
            raise self._fail_conn(conn, err, traced=True) from exc
        except NetError as exc:  # anything else the datapath may report
            err = CurlError(7, f"Failed to connect to {host} port {port} after {millis(net.now() - start)} ms: "
                               "Could not connect to server")
            raise self._fail_conn(conn, err) from exc
        wo.remote_ip, wo.remote_port = exchange.remote_ip, exchange.remote_port
        wo.local_ip, wo.local_port = exchange.local_ip, exchange.local_port
        wo.time_connect = wo.time_namelookup
        wo.time_starttransfer = net.now() - start
        wo.size_upload = len(body or b"")
        self._trace_exchange(url, conn, request, exchange)
        return exchange

    def _fail_conn(self, conn: int, err: CurlError, traced: bool = False) -> CurlError:
        self.info(f"* closing connection #{conn}\n")
        return err

    def _lport(self, ip: str, port: int) -> int:
        return 32768 + zlib.crc32(f"{ip}:{port}:{self.ctx.net.now()}".encode()) % 28000

    def _build_request(self, url: Url, method: str, body: bytes | None) -> HttpRequest:
        s = self.s
        defaults: list[tuple[str, str]] = [("Host", url.host_header), ("User-Agent", s.user_agent or USER_AGENT),
                                           ("Accept", "*/*")]
        custom = list(s.headers)
        custom_names = {n.lower() for n, _ in custom}
        default_names = {n.lower() for n, _ in defaults}
        headers: list[tuple[str, str]] = []
        for n, v in defaults:  # a -H replacing a default keeps its position; "-H 'Accept:'" removes it
            override = [(cn, cv) for cn, cv in custom if cn.lower() == n.lower()]
            if not override:
                headers.append((n, v))
            elif override[-1][1]:
                headers.append(override[-1])
        headers += [(n, v) for n, v in custom if n.lower() not in default_names and v]
        if body is not None:
            if "content-length" not in custom_names:
                headers.append(("Content-Length", str(len(body))))
            if "content-type" not in custom_names:
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        return HttpRequest(method=method, target=url.target, host=url.host_header, headers=headers,
                           body=body or b"", scheme=url.scheme)

    def _header_block(self, resp) -> str:  # noqa: ANN001 - HttpResponse
        lines = [f"{resp.version} {resp.status} {resp.reason}"] + [f"{k}: {v}" for k, v in resp.headers]
        return "".join(line + "\r\n" for line in lines) + "\r\n"

    def _trace_exchange(self, url: Url, conn: int, req: HttpRequest, ex: HttpExchange) -> None:
        if not self.s.verbose:
            return
        w = self.ctx.stderr.write
        host = url.host
        w(f"* Connected to {host} ({ex.remote_ip}) port {ex.remote_port}\n")
        if url.scheme == "https":
            w("* ALPN: curl offers h2,http/1.1\n* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384 / "
              "x25519 / RSASSA-PSS\n* ALPN: server accepted http/1.1\n")
        w("* using HTTP/1.x\n")
        w(f"> {req.method} {req.target} {req.version}\r\n")
        for k, v in req.headers:
            w(f"> {k}: {v}\r\n")
        w("> \r\n")
        if req.body and not self.ctx.stdout_is_tty:
            w(f"}} [{len(req.body)} bytes data]\n")
        w(f"* upload completely sent off: {len(req.body)} bytes\n" if req.body else "* Request completely sent off\n")
        resp = ex.response
        w(f"< {resp.version} {resp.status} {resp.reason}\r\n")
        for k, v in resp.headers:
            w(f"< {k}: {v}\r\n")
        w("< \r\n")
        if resp.body and req.method != "HEAD" and (not self.ctx.stdout_is_tty or self.s.output is not None):
            w(f"{{ [{len(resp.body)} bytes data]\n")
        close = (resp.header("Connection") or "").lower() == "close" or resp.version == "HTTP/1.0"
        if close:
            w(f"* shutting down connection #{conn}\n")
        else:
            w(f"* Connection #{conn} to host {host} left intact\n")


COMMANDS = {"curl": curl}
