"""ping: iputils (netshoot) and BusyBox variants, ``-c -W -i -q -w -s -n``.

Without ``-c`` ping runs until the exec deadline; like after Ctrl-C it then prints its
statistics before the exec ends. TTL is not part of the ``PodNet`` contract: we show 64 for
the pod itself and 63 otherwise (one routed hop through the node, as in a Cilium cluster).
"""

from __future__ import annotations

import math

from ..net import ResolveError
from ..shell.builtins.util import UsageError, split_short
from ..shell.context import CommandContext, DeadlineExceeded
from .common import flavour, is_ipv4, millis
from .rdns import reverse_name


def _fmt_rtt(ms: float) -> str:
    """iputils' precision: 3 decimals under 1 ms, 2 under 10, 1 under 100, none above."""
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def ping(args: list[str], ctx: CommandContext) -> int:
    opts = split_short(args, with_arg="cWiwsIt")
    vals = {o: v for o, v in opts if o}
    targets = [v or "" for o, v in opts if o == ""]
    busybox = flavour(ctx) != "netshoot"
    if not targets:
        if busybox:
            raise UsageError("BusyBox v1.37.0 multi-call binary.\n\nUsage: ping [OPTIONS] HOST", 1)
        ctx.stderr.write("ping: usage error: Destination address required\n")
        return 1
    try:
        count = int(vals["c"]) if "c" in vals else None
        wait = float(vals.get("W", "10" if busybox else "10"))
        interval = float(vals.get("i", "1"))
        size = int(vals.get("s", "56"))
        overall = float(vals["w"]) if "w" in vals else None
    except ValueError:
        ctx.stderr.write(f"ping: invalid argument: '{next(iter(vals.values()))}'\n")
        return 1 if busybox else 2
    quiet = "q" in vals
    target = targets[-1]
    try:
        ip = target if is_ipv4(target) else ctx.net.resolve(target)[0]
    except ResolveError:
        if busybox:
            ctx.stderr.write(f"ping: bad address '{target}'\n")
            return 1
        ctx.stderr.write(f"ping: {target}: Name or service not known\n")
        return 2
    out = ctx.stdout.write
    if busybox:
        out(f"PING {target} ({ip}): {size} data bytes\n")
    else:
        out(f"PING {target} ({ip}) {size}({size + 28}) bytes of data.\n")
    peer = ip if is_ipv4(target) or busybox or "n" in vals else _peer_label(ctx, ip)
    ttl = 64 if ip == ctx.net.ip else 63
    start = ctx.net.now()
    rtts: list[float] = []
    sent = 0
    interrupted = False
    try:
        seq = 0
        while count is None or seq < count:
            if overall is not None and ctx.net.now() - start >= overall:
                break
            seq += 1
            sent += 1
            left = ctx.remaining()
            rtt = ctx.net.ping(ip, timeout=min(wait, left) if left is not None else wait, seq=seq, size=size)
            if rtt is not None:
                rtts.append(rtt)
                if not quiet:
                    if busybox:
                        out(f"{size + 8} bytes from {ip}: seq={seq - 1} ttl={ttl} time={rtt:.3f} ms\n")
                    else:
                        out(f"{size + 8} bytes from {peer}: icmp_seq={seq} ttl={ttl} time={_fmt_rtt(rtt)} ms\n")
            if count is None or seq < count:
                ctx.sleep(max(interval - (rtt or 0) / 1000.0, 0.0) if rtt is not None else
                          max(interval - wait, 0.0))
    except DeadlineExceeded:
        interrupted = True
    _summary(ctx, target, sent, rtts, millis(ctx.net.now() - start), busybox)
    if interrupted:
        raise DeadlineExceeded()
    return 0 if rtts else 1


def _peer_label(ctx: CommandContext, ip: str) -> str:
    name = reverse_name(ctx, ip)
    return f"{name} ({ip})" if name else ip


def _summary(ctx: CommandContext, target: str, sent: int, rtts: list[float], elapsed_ms: int, busybox: bool) -> None:
    out = ctx.stdout.write
    recv = len(rtts)
    loss = int(100 * (sent - recv) / sent) if sent else 0
    out(f"\n--- {target} ping statistics ---\n")
    if busybox:
        out(f"{sent} packets transmitted, {recv} packets received, {loss}% packet loss\n")
        if rtts:
            out(f"round-trip min/avg/max = {min(rtts):.3f}/{sum(rtts) / recv:.3f}/{max(rtts):.3f} ms\n")
        return
    out(f"{sent} packets transmitted, {recv} received, {loss}% packet loss, time {elapsed_ms}ms\n")
    if rtts:
        avg = sum(rtts) / recv
        mdev = math.sqrt(max(sum(r * r for r in rtts) / recv - avg * avg, 0.0))
        out(f"rtt min/avg/max/mdev = {min(rtts):.3f}/{avg:.3f}/{max(rtts):.3f}/{mdev:.3f} ms\n")


COMMANDS = {"ping": ping}
