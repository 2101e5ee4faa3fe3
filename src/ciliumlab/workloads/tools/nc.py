"""nc: OpenBSD netcat as packaged by Debian/Alpine (netshoot) and BusyBox's nc.

``-z`` (scan), ``-v``, ``-w SECS``, ``-n``. Without ``-z`` the lab sends stdin when it is an
HTTP request (``printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc webpod 80``) and prints the raw answer;
other payloads just open and close the connection.
"""

from __future__ import annotations

from ..net import ConnectionRefused, ConnectTimeout, HostUnreachable, HttpRequest, NetError, ResolveError
from ..shell.builtins.util import split_short
from ..shell.context import CommandContext, DeadlineExceeded
from .common import flavour, is_ipv4, remaining_cap

SERVICES = {21: "ftp", 22: "ssh", 25: "smtp", 53: "domain", 80: "http", 443: "https", 8080: "http-alt",
            3306: "mysql", 5432: "postgresql", 6379: "redis", 9090: "websm", 4240: "*", 4244: "*"}

#: Linux gives up on an unanswered SYN after ~130 s (tcp_syn_retries=6)
KERNEL_SYN_TIMEOUT = 130.0


def nc(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="wpsqiWTX")
    flags = {o for o, _ in opts if o and len(o) == 1}
    vals = {o: v for o, v in opts if o}
    operands = [v or "" for o, v in opts if o == ""]
    busybox = flavour(ctx) != "netshoot"
    if len(operands) < 2:
        ctx.stderr.write("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n"
                         "\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n"
                         "\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n"
                         "\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n"
                         "\t  [destination] [port]\n")
        return 1
    host, port_s = operands[0], operands[1]
    ports = _ports(port_s)
    if ports is None:
        ctx.stderr.write(f"nc: port number invalid: {port_s}\n" if not busybox else f"nc: bad port '{port_s}'\n")
        return 1
    timeout = float(vals["w"]) if "w" in vals else None
    verbose = "v" in flags
    if is_ipv4(host):
        ip = host
    else:
        try:
            ip = ctx.net.resolve(host)[0]
        except ResolveError:
            if busybox:
                ctx.stderr.write(f"nc: bad address '{host}'\n")
            else:
                ctx.stderr.write(f'nc: getaddrinfo for host "{host}" port {ports[0]}: Name does not resolve\n')
            return 1
    label = host if is_ipv4(host) else f"{host} ({ip})"
    status = 1
    for port in ports:
        svc = SERVICES.get(port, "*")
        cap, _ = remaining_cap(ctx, timeout if timeout is not None else KERNEL_SYN_TIMEOUT)
        try:
            if "z" in flags or not ctx.stdin.startswith(("GET ", "HEAD ", "POST ", "PUT ", "DELETE ")):
                ctx.net.tcp_connect(ip, port, timeout=cap)
            else:
                _send_http(ctx, host, ip, port, cap)
        except ConnectTimeout as exc:
            if ctx.deadline_reached():
                raise DeadlineExceeded() from exc
            if verbose or not busybox:
                if busybox:
                    ctx.stderr.write(f"nc: can't connect to remote host ({ip}): Connection timed out\n")
                else:
                    ctx.stderr.write(f"nc: connect to {label} port {port} (tcp) timed out: Operation now in progress\n")
            continue
        except (ConnectionRefused, HostUnreachable) as exc:
            reason = "Connection refused" if isinstance(exc, ConnectionRefused) else "No route to host"
            if busybox:
                ctx.stderr.write(f"nc: can't connect to remote host ({ip}): {reason}\n")
            else:
                ctx.stderr.write(f"nc: connect to {label} port {port} (tcp) failed: {reason}\n")
            continue
        except NetError:
            continue
        status = 0
        if verbose:
            if busybox:
                ctx.stderr.write(f"{host} ({ip}:{port}) open\n")
            else:
                ctx.stderr.write(f"Connection to {label} {port} port [tcp/{svc}] succeeded!\n")
    return status


def _ports(spec: str) -> list[int] | None:
    try:
        if "-" in spec:
            a, b = spec.split("-", 1)
            ports = list(range(int(a), int(b) + 1))
        else:
            ports = [int(spec)]
    except ValueError:
        return None
    if not ports or any(p < 1 or p > 65535 for p in ports):
        return None
    return ports


def _send_http(ctx: CommandContext, host: str, ip: str, port: int, cap: float | None) -> None:
    head, _, body = ctx.stdin.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    method, target, version = (lines[0].split() + ["HTTP/1.0"])[:3]
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)]
    req_host = next((v for k, v in headers if k.lower() == "host"), "")
    req = HttpRequest(method=method, target=target, host=req_host, headers=headers, body=body.encode(),
                      version=version)
    ex = ctx.net.http(ip, port, req, connect_timeout=cap, max_time=cap)
    resp = ex.response
    out = f"{resp.version} {resp.status} {resp.reason}\r\n"
    out += "".join(f"{k}: {v}\r\n" for k, v in resp.headers) + "\r\n"
    ctx.stdout.write(out + resp.body.decode("utf-8", errors="replace"))


COMMANDS = {"nc": nc}
