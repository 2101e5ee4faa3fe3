"""BusyBox wget: ``-q``, ``-O FILE`` / ``-O-`` / ``-qO-``, ``-T SEC``, ``-S``, ``-U AGENT``.

Messages as busybox 1.36/1.37 prints them (``Connecting to host (ip:port)``,
``wget: server returned error: HTTP/1.1 403 Forbidden``, ``wget: bad address 'x'``,
``wget: download timed out``); every failure exits 1.
"""

from __future__ import annotations

import posixpath

from ..net import (
    ConnectionRefused,
    ConnectTimeout,
    HostUnreachable,
    HttpRequest,
    NetError,
    OperationTimeout,
    ResolveError,
)
from ..shell.builtins.util import UsageError, split_short
from ..shell.context import CommandContext, DeadlineExceeded
from .common import is_ipv4, remaining_cap
from .curl_url import UrlError, parse_url

#: busybox's default network timeout (-T), seconds
DEFAULT_TIMEOUT = 900.0


def _progress(name: str, size: int) -> str:
    label = f"{name[:20]:<20}"
    return f"{label} 100% |********************************| {size:>5}  0:00:00 ETA\n"


def wget(args: list[str], ctx: CommandContext) -> int:
    long_map = {"--quiet": ("q", None), "--server-response": ("S", None), "--spider": ("spider", None)}
    norm: list[str] = []
    for a in args:
        if a in long_map:
            norm.append("-" + long_map[a][0] if len(long_map[a][0]) == 1 else "--spider")
        elif a.startswith("--output-document="):
            norm += ["-O", a.split("=", 1)[1]]
        elif a.startswith("--timeout="):
            norm += ["-T", a.split("=", 1)[1]]
        elif a.startswith("--user-agent="):
            norm += ["-U", a.split("=", 1)[1]]
        else:
            norm.append(a)
    opts = split_short(norm, with_arg="OTUYPoeh")
    quiet = any(o == "q" for o, _ in opts)
    server_resp = any(o == "S" for o, _ in opts)
    spider = any(o == "--spider" for o, _ in opts)
    output = next((v for o, v in reversed(opts) if o == "O"), None)
    agent = next((v for o, v in reversed(opts) if o == "U"), "Wget")
    timeout_s = next((v for o, v in reversed(opts) if o == "T"), None)
    try:
        timeout = float(timeout_s) if timeout_s is not None else DEFAULT_TIMEOUT
    except ValueError:
        raise UsageError(f"invalid number '{timeout_s}'") from None
    urls = [v or "" for o, v in opts if o == ""]
    if not urls:
        ctx.stderr.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] "
                         "[-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t"
                         "[-P DIR] [-U AGENT] [-T SEC] URL...\n")
        return 1
    status = 0
    for raw in urls:
        status = _fetch(ctx, raw, quiet, server_resp, spider, output, agent or "Wget", timeout) or status
    return status


def _fetch(ctx: CommandContext, raw: str, quiet: bool, server_resp: bool, spider: bool, output: str | None,
           agent: str, timeout: float) -> int:
    net = ctx.net
    err = ctx.stderr.write
    try:
        url = parse_url(raw)
    except UrlError:
        err(f"wget: not an http or ftp url: {raw}\n")
        return 1
    host = url.host
    cap, _ = remaining_cap(ctx, timeout)
    if is_ipv4(host):
        ip = host
    else:
        try:
            ip = net.resolve(host, timeout=min(cap or 5.0, 5.0) if cap is not None else 5.0)[0]
        except ResolveError as exc:
            if ctx.deadline_reached():
                raise DeadlineExceeded() from exc
            err(f"wget: bad address '{host}'\n")
            return 1
    if not quiet:
        err(f"Connecting to {host} ({ip}:{url.port})\n")
    req = HttpRequest(method="HEAD" if spider else "GET", target=url.target, host=url.host_header,
                      headers=[("Host", url.host_header), ("User-Agent", agent), ("Connection", "close")],
                      scheme=url.scheme)
    try:
        ex = net.http(ip, url.port, req, connect_timeout=cap, max_time=cap, tls=url.scheme == "https")
    except (ConnectTimeout, OperationTimeout) as exc:
        if ctx.deadline_reached():
            raise DeadlineExceeded() from exc
        if isinstance(exc, ConnectTimeout) and timeout >= DEFAULT_TIMEOUT:
            err(f"wget: can't connect to remote host ({ip}): Connection timed out\n")
        else:
            err("wget: download timed out\n")
        return 1
    except ConnectionRefused:
        err(f"wget: can't connect to remote host ({ip}): Connection refused\n")
        return 1
    except HostUnreachable:
        err(f"wget: can't connect to remote host ({ip}): Host is unreachable\n")
        return 1
    except NetError:
        err("wget: error getting response: Connection reset by peer\n")
        return 1
    resp = ex.response
    if server_resp:
        err(f"  {resp.version} {resp.status} {resp.reason}\n")
        for k, v in resp.headers:
            err(f"  {k}: {v}\n")
    if resp.status >= 400:
        err(f"wget: server returned error: {resp.version} {resp.status} {resp.reason}\n")
        return 1
    if spider:
        if not quiet:
            err("remote file exists\n")
        return 0
    body = resp.body.decode("utf-8", errors="replace")
    if output == "-":
        if not quiet:
            err("writing to stdout\n")
            err(_progress("-", len(resp.body)))
        ctx.stdout.write(body)
        if not quiet:
            err("written to stdout\n")
        return 0
    name = output or (posixpath.basename(url.target.split("?")[0]) or "index.html")
    if output is None and ctx.fs.read(name) is not None:
        err(f"wget: can't open '{name}': File exists\n")
        return 1
    if not quiet:
        err(f"saving to '{name}'\n")
        err(_progress(name, len(resp.body)))
    ctx.fs.write(name, body)
    if not quiet:
        err(f"'{name}' saved\n")
    return 0


COMMANDS = {"wget": wget}
