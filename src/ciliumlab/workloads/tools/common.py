"""Helpers shared by the client tools: resolv.conf, IP literals, image flavour, timings."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..shell.context import CommandContext
from ..shell.images import profile


def is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def flavour(ctx: CommandContext) -> str:
    """"netshoot" (iputils/bind/OpenBSD tools) or "busybox" (applet variants)."""
    return profile(ctx.image).flavour


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ndots: int = 1


def resolv_conf(ctx: CommandContext) -> ResolvConf:
    """Parse the pod's /etc/resolv.conf (what its resolver, nslookup and dig use)."""
    conf = ResolvConf()
    text = ctx.net.read_file("/etc/resolv.conf") or ""
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith(("#", ";")):
            continue
        if parts[0] == "nameserver" and len(parts) > 1:
            conf.nameservers.append(parts[1])
        elif parts[0] in ("search", "domain"):
            conf.search = parts[1:]
        elif parts[0] == "options":
            for opt in parts[1:]:
                if opt.startswith("ndots:"):
                    try:
                        conf.ndots = int(opt[6:])
                    except ValueError:
                        pass
    if not conf.nameservers:
        conf.nameservers = ["127.0.0.1"]
    return conf


def search_candidates(name: str, conf: ResolvConf) -> list[str]:
    """FQDNs (trailing dot) a stub resolver tries for ``name``, in order (ndots rule)."""
    if name.endswith("."):
        return [name]
    absolute = name + "."
    with_search = [f"{name}.{d}." for d in conf.search]
    if name.count(".") >= conf.ndots:
        return [absolute, *with_search]
    return [*with_search, absolute]


def millis(seconds: float) -> int:
    return int(round(seconds * 1000))


def remaining_cap(ctx: CommandContext, timeout: float | None) -> tuple[float | None, bool]:
    """The timeout to hand the net layer, and whether the exec deadline is what limits it
    (then a timeout means "deadline reached", not the tool's own failure)."""
    left = ctx.remaining()
    if left is None:
        return timeout, False
    if timeout is None or left < timeout:
        return max(left, 0.0), True
    return timeout, False
