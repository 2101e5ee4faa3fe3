"""Reverse lookups (PTR) through the pod's nameserver, as ping and nslookup do them."""

from __future__ import annotations

from ..net import NetError
from ..shell.context import CommandContext
from .common import resolv_conf


def ptr_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."


def reverse_name(ctx: CommandContext, ip: str) -> str | None:
    """The PTR target without its trailing dot, or None (no record, no answer)."""
    server = resolv_conf(ctx).nameservers[0]
    try:
        ans = ctx.net.dns_query(server, ptr_name(ip), "PTR", timeout=2.0)
    except NetError:
        return None
    for rec in ans.answers:
        if rec.rtype == "PTR":
            return rec.data.rstrip(".")
    return None
