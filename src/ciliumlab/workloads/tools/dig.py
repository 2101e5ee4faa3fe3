"""dig (BIND 9.20 as in netshoot): full output, ``+short``, ``@server``, ``-t``, ``-x``, ``-p``,
``+search``, ``+tcp``, ``+noall +answer``, ``+timeout=``, ``+tries=``.

No search list unless ``+search`` (dig's default). Exit codes: 0 for any answer (NXDOMAIN
included), 9 when no server answered, 1 for usage errors.
"""

from __future__ import annotations

from ..net import DnsAnswer, OperationTimeout
from ..shell.context import CommandContext, DeadlineExceeded
from . import dnsfmt
from .common import is_ipv4, millis, resolv_conf, search_candidates
from .rdns import ptr_name

DIG_VERSION = "9.20.11"
TYPES = {"A", "AAAA", "CNAME", "SRV", "PTR", "TXT", "MX", "NS", "SOA", "ANY"}


def dig(args: list[str], ctx: CommandContext) -> int:
    conf = resolv_conf(ctx)
    server = conf.nameservers[0]
    name: str | None = None
    qtype = "A"
    port = 53
    short = search = tcp = False
    show = {"comments": True, "question": True, "answer": True, "authority": True, "stats": True, "cmd": True}
    timeout, tries = 5.0, 3
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a.startswith("@"):
            server = a[1:]
        elif a.startswith("+"):
            opt, _, val = a[1:].partition("=")
            neg = opt.startswith("no")
            base = opt[2:] if neg else opt
            if base == "short":
                short = not neg
            elif base == "search":
                search = not neg
            elif base in ("tcp", "vc"):
                tcp = not neg
            elif base == "all":
                for k in show:
                    show[k] = not neg
            elif base in show:
                show[base] = not neg
            elif base == "timeout" and val.isdigit():
                timeout = float(val)
            elif base in ("tries", "retry") and val.isdigit():
                tries = int(val) + (1 if base == "retry" else 0)
        elif a in ("-t", "-p", "-x", "-c") and i < len(args):
            val = args[i]
            i += 1
            if a == "-t":
                qtype = val.upper()
            elif a == "-p":
                port = int(val)
            elif a == "-x":
                name, qtype = ptr_name(val), "PTR"
        elif a.upper() in TYPES and name is not None:
            qtype = a.upper()
        elif a.upper() == "IN":
            continue
        elif name is None:
            name = a
        elif a.upper() in TYPES:
            qtype = a.upper()
        else:
            name = a
    if name is None:
        name, qtype = ".", "NS"
    fqdn = name if name.endswith(".") else name + "."
    candidates = search_candidates(name, conf) if search and not name.endswith(".") else [fqdn]
    out = ctx.stdout.write
    header = f"\n; <<>> DiG {DIG_VERSION} <<>> {' '.join(args)}\n"
    start = ctx.net.now()
    answer: DnsAnswer | None = None
    for cand in candidates:
        answer = _query(ctx, server, cand, qtype, port, tcp, timeout, tries, short)
        if answer is None:
            if not short:
                out(header + ";; global options: +cmd\n;; no servers could be reached\n")
            else:
                pass
            return 9
        if answer.rcode == "NOERROR" and answer.answers:
            break
    assert answer is not None
    if short:
        for rec in answer.answers:
            out(rec.data + "\n")
        return 0
    elapsed = millis(answer.elapsed or (ctx.net.now() - start))
    qid = dnsfmt.msg_id(answer.question, qtype, start)
    cluster = dnsfmt.is_cluster_name(answer.question)
    flags = "qr aa rd" if cluster else "qr rd ra"
    if show["cmd"]:
        out(header + ";; global options: +cmd\n")
    if show["comments"]:
        out(";; Got answer:\n")
        out(f";; ->>HEADER<<- opcode: QUERY, status: {answer.rcode}, id: {qid}\n")
        out(f";; flags: {flags}; QUERY: 1, ANSWER: {len(answer.answers)}, AUTHORITY: {len(answer.authority)}, "
            "ADDITIONAL: 1\n")
        if cluster:
            out(";; WARNING: recursion requested but not available\n")
        cookie = f"{dnsfmt.msg_id(answer.question, 'cookie', start):04x}" * 4
        out(f"\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n; COOKIE: {cookie} (echoed)\n")
    if show["question"]:
        if show["comments"]:
            out(";; QUESTION SECTION:\n")
        out(dnsfmt.question_line(answer.question, qtype) + "\n")
    if answer.answers and show["answer"]:
        if show["comments"]:
            out("\n;; ANSWER SECTION:\n")
        for rec in answer.answers:
            out(dnsfmt.record_line(rec) + "\n")
    if answer.authority and show["authority"]:
        if show["comments"]:
            out("\n;; AUTHORITY SECTION:\n")
        for rec in answer.authority:
            out(dnsfmt.record_line(rec) + "\n")
    if show["stats"]:
        size = dnsfmt.message_size(answer.question, answer.answers, answer.authority)
        proto = "TCP" if tcp else "UDP"
        srv = answer.server or server
        out(f"\n;; Query time: {elapsed} msec\n;; SERVER: {srv}#{port}({srv}) ({proto})\n"
            f";; WHEN: {dnsfmt.when_string(start)}\n;; MSG SIZE  rcvd: {size}\n\n")
    elif show["cmd"] or show["answer"]:
        pass
    return 0


def _query(ctx: CommandContext, server: str, name: str, qtype: str, port: int, tcp: bool,
           timeout: float, tries: int, short: bool) -> DnsAnswer | None:
    """One question with dig's retries; None (after printing the errors) when nobody answered."""
    if not is_ipv4(server):
        try:
            server = ctx.net.resolve(server)[0]
        except Exception:
            ctx.stderr.write(f"dig: couldn't get address for '{server}': not found\n")
            return None
    for _ in range(max(tries, 1)):
        left = ctx.remaining()
        t = timeout if left is None else min(timeout, max(left, 0.0))
        try:
            return ctx.net.dns_query(server, name, qtype, timeout=t, port=port, tcp=tcp)
        except OperationTimeout as exc:
            if ctx.deadline_reached():
                raise DeadlineExceeded() from exc
            ctx.stdout.write(f";; communications error to {server}#{port}: timed out\n")
    return None


COMMANDS = {"dig": dig}
