"""nslookup: BIND's (netshoot) and BusyBox's. Both apply the resolv.conf search list.

BIND: ``Server:\\t\\t10.96.0.10`` / ``Address:\\t10.96.0.10#53``; NXDOMAIN →
``** server can't find NAME: NXDOMAIN`` exit 1; no answer →
``;; connection timed out; no servers could be reached`` exit 1.
BusyBox: same layout but ``Address:\\t10.96.0.10:53``.
"""

from __future__ import annotations

from ..net import DnsAnswer, OperationTimeout
from ..shell.context import CommandContext, DeadlineExceeded
from .common import flavour, is_ipv4, resolv_conf, search_candidates
from .dnsfmt import is_cluster_name
from .rdns import ptr_name


def nslookup(args: list[str], ctx: CommandContext) -> int:
    busybox = flavour(ctx) != "netshoot"
    conf = resolv_conf(ctx)
    qtype = "A"
    operands: list[str] = []
    for a in args:
        if a.startswith("-type=") or a.startswith("-query=") or a.startswith("-q="):
            qtype = a.split("=", 1)[1].upper()
        elif a.startswith("-"):
            continue
        else:
            operands.append(a)
    if not operands:
        ctx.stderr.write("Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n" if busybox else
                         "nslookup: interactive mode is not supported in the lab\n")
        return 1
    name = operands[0]
    server = operands[1] if len(operands) > 1 else conf.nameservers[0]
    out = ctx.stdout.write
    sep = ":" if busybox else "#"
    reverse = is_ipv4(name) and qtype == "A"
    candidates = [ptr_name(name)] if reverse else (
        search_candidates(name, conf) if not name.endswith(".") else [name])
    qt = "PTR" if reverse else qtype
    answer: DnsAnswer | None = None
    for cand in candidates:
        try:
            left = ctx.remaining()
            answer = ctx.net.dns_query(server, cand, qt, timeout=min(5.0, left) if left is not None else 5.0)
        except OperationTimeout as exc:
            if ctx.remaining() is not None and (ctx.remaining() or 0) <= 0:
                raise DeadlineExceeded() from exc
            if busybox:
                out(";; connection timed out; no servers could be reached\n\n")
            else:
                out(";; connection timed out; no servers could be reached\n\n")
            return 1
        if answer.rcode == "NOERROR" and answer.answers:
            break
    out(f"Server:\t\t{server}\nAddress:\t{server}{sep}53\n\n")
    assert answer is not None
    if answer.rcode != "NOERROR" or not answer.answers:
        shown = name if not busybox else answer.question.rstrip(".")
        status = answer.rcode if answer.rcode != "NOERROR" else "NXDOMAIN"
        if answer.rcode == "NOERROR" and not busybox:
            out(f"*** Can't find {name}: No answer\n\n")
            return 0
        out(f"** server can't find {shown}: {status}\n\n")
        return 1
    if not is_cluster_name(answer.question) and not busybox:
        out("Non-authoritative answer:\n")
    for rec in answer.answers:
        owner = rec.name.rstrip(".")
        if rec.rtype == "CNAME":
            out(f"{owner}\tcanonical name = {rec.data}\n")
        elif rec.rtype == "PTR":
            out(f"{rec.name.rstrip('.') if busybox else rec.name.rstrip('.')}\tname = {rec.data}\n")
        elif rec.rtype in ("A", "AAAA"):
            out(f"Name:\t{owner}\nAddress: {rec.data}\n")
        else:
            out(f"{owner}\t{rec.rtype.lower()} = {rec.data}\n")
    out("\n")
    return 0


def host(args: list[str], ctx: CommandContext) -> int:
    """BIND's ``host NAME``: ``NAME has address IP``; NXDOMAIN → ``Host NAME not found: 3(NXDOMAIN)``."""
    operands = [a for a in args if not a.startswith("-")]
    if not operands:
        ctx.stderr.write("Usage: host [-aCdilrTvVw] [-c class] [-N ndots] [-t type] [-W time]\n"
                         "            [-R number] [-m flag] [-p port] hostname [server]\n")
        return 1
    conf = resolv_conf(ctx)
    name = operands[0]
    server = operands[1] if len(operands) > 1 else conf.nameservers[0]
    answer = None
    for cand in search_candidates(name, conf):
        try:
            answer = ctx.net.dns_query(server, cand, "A", timeout=5.0)
        except OperationTimeout:
            ctx.stdout.write(";; connection timed out; no servers could be reached\n")
            return 1
        if answer.rcode == "NOERROR" and answer.answers:
            break
    assert answer is not None
    if answer.rcode != "NOERROR":
        ctx.stdout.write(f"Host {name} not found: 3({answer.rcode})\n" if answer.rcode == "NXDOMAIN" else
                         f"Host {name} not found: 2({answer.rcode})\n")
        return 1
    for rec in answer.answers:
        if rec.rtype == "A":
            ctx.stdout.write(f"{rec.name.rstrip('.')} has address {rec.data}\n")
        elif rec.rtype == "CNAME":
            ctx.stdout.write(f"{rec.name.rstrip('.')} is an alias for {rec.data}\n")
    return 0


COMMANDS = {"nslookup": nslookup, "host": host}
