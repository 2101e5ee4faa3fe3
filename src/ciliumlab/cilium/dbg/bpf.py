"""`cilium-dbg bpf ...`: the node's BPF maps as the agent dumps them (ct, policy, lb, nat)."""

from __future__ import annotations

from .common import BPF_GLOBALS, Dbg, Fatal, UsageError, endpoints, find_endpoint, go_json, identity_labels
from .service import run_bpf_lb
from .tabwriter import TabWriter

CT_FLAG_NAMES = ((0x1, "RxClosing"), (0x2, "TxClosing"), (0x4, "Nat64"), (0x8, "LBLoopback"),
                 (0x10, "SeenNonSyn"), (0x20, "NodePort"), (0x40, "ProxyRedirect"), (0x80, "DSR"),
                 (0x100, "FromL7LB"), (0x400, "FromTunnel"))
CT_PROTO = {6: "TCP", 17: "UDP", 1: "ICMP", 132: "SCTP"}


def run(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError(f'missing subcommand for "{dbg.name} bpf"', "bpf")
    group, rest = args[0], args[1:]
    if group == "lb":
        return run_bpf_lb(dbg, rest)
    if group == "ct":
        return _ct(dbg, rest)
    if group == "policy":
        return _policy(dbg, rest)
    if group == "nat":
        from .extra import run_nat
        return run_nat(dbg, rest)
    if group == "fs":
        from .extra import run_fs
        return run_fs(dbg, rest)
    raise UsageError(f'unknown command "{group}" for "{dbg.name} bpf"', "bpf")


# -- conntrack -----------------------------------------------------------------------------------
def _ct(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf ct"', "bpf ct")
    scope = [a for a in args[1:] if not a.startswith("-")]
    if not scope:
        raise UsageError("Usage: cilium bpf ct list ( global | endpoint | cluster ) [identifier]")
    if scope[0] not in ("global", "endpoint", "cluster"):
        raise Fatal(f"Unknown CT map type {scope[0]!r}\n")
    for line in ct_lines(dbg):
        dbg.write(line + "\n")
    return 0


def ct_lines(dbg: Dbg) -> list[str]:
    lab = dbg.lab
    now, mono = lab.clock.now(), lab.clock.monotonic()
    ct = lab.fabric.ct.get(dbg.node)
    if ct is None:
        return []
    lines = []
    for (proto, sip, sport, dip, dport), e in ct.items():
        lifetime = ct.TCP_LIFETIME if proto == 6 else ct.NON_TCP_LIFETIME
        if e.closed:
            lifetime = 10.0
        expires = int(mono + max(0.0, e.last_seen + lifetime - now))
        flags = 0x10 if proto == 6 else 0
        if e.closed:
            flags |= 0x3
        if e.proxy_port:
            flags |= 0x40
        tcp_seen = (0x1b if e.closed else 0x1a) if proto == 6 else 0
        packets = max(e.packets, 1)
        size = max(e.bytes, 74 * packets)
        rev_nat = 0
        if e.rev_nat is not None:
            fe = lab.fabric.lb.lookup(e.rev_nat[0], e.rev_nat[1], proto)
            rev_nat = fe.id if fe is not None else 0
        src_id = e.src_identity or lab.ipcache.identity_of(sip, dbg.node)
        report = int(mono - max(0.0, now - e.last_seen))
        names = " ".join(n for bit, n in CT_FLAG_NAMES if flags & bit)
        flag_text = f"[ {names} ]" if names else "[ ]"
        direction = "IN" if e.ingress else "OUT"
        name = CT_PROTO.get(proto, str(proto))
        tail = (f"RxPackets={packets} RxBytes={size} RxFlagsSeen=0x{tcp_seen:02x} LastRxReport={report} "
                f"TxPackets={packets} TxBytes={size} TxFlagsSeen=0x{tcp_seen:02x} LastTxReport={report} "
                f"Flags=0x{flags:04x} {flag_text} RevNAT={rev_nat} SourceSecurityID={src_id} IfIndex=0 ")
        lines.append(f"{name} {direction} {sip}:{sport} -> {dip}:{dport} expires={expires} {tail}")
        if e.rev_nat is not None:
            fip, fport = e.rev_nat
            lines.append(f"{name} OUT {sip}:{sport} -> {fip}:{fport} service expires={expires} "
                         f"RxPackets=0 RxBytes=0 RxFlagsSeen=0x00 LastRxReport=0 TxPackets=0 TxBytes=0 "
                         f"TxFlagsSeen=0x00 LastTxReport=0 Flags=0x0000 [ ] RevNAT={rev_nat} "
                         f"SourceSecurityID=0 IfIndex=0 ")
    return lines


# -- policy maps ---------------------------------------------------------------------------------
def _policy(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] != "get":
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf policy"', "bpf policy")
    rest = args[1:]
    numeric = any(a in ("-n", "--numeric") for a in rest)
    as_json = any(a.startswith("-o") or a.startswith("--output") for a in rest)
    ids = [a for a in rest if not a.startswith("-") and a not in ("json", "yaml")]
    if "--all" in rest:
        eps = endpoints(dbg)
        if as_json:
            dbg.write(go_json([{"EndpointID": str(ep.id), "Path": _map_path(ep.id),
                                "Content": policy_entries(dbg, ep)} for ep in eps]) + "\n")
            return 0
        for ep in eps:
            dbg.write(f"Endpoint ID: {ep.id}\nPath: {_map_path(ep.id)}\n\n")
            _print_table(dbg, policy_entries(dbg, ep), numeric)
            dbg.write("\n\n")
        return 0
    if not ids:
        # requireEndpointID -> Usagef: the message, a blank line, then the command's help
        dbg.err.write("Error: Missing endpoint id argument\n\n" + POLICY_GET_HELP.replace("cilium-dbg", dbg.name))
        return 1
    ep = find_endpoint(dbg, ids[0])
    entries = policy_entries(dbg, ep)
    if as_json:
        dbg.write(go_json(entries) + "\n")
        return 0
    _print_table(dbg, entries, numeric)
    return 0


POLICY_GET_HELP = """Get contents of a policy BPF map

Usage:
  cilium-dbg bpf policy get [flags]

Flags:
      --all             Dump all policy maps
  -h, --help            help for get
  -n, --numeric         Do not resolve IDs
  -o, --output string   json| yaml| jsonpath='{}'

Global Flags:
      --config string   Config file (default is $HOME/.cilium.yaml)
  -D, --debug           Enable debug messages
  -H, --host string     URI to server-side API
"""


def _map_path(eid: int) -> str:
    return f"{BPF_GLOBALS}/cilium_policy_v2_{eid:05d}"


def policy_entries(dbg: Dbg, ep) -> list[dict]:
    """Policy map entries of an endpoint, derived from its resolved `EndpointPolicy`:
    an allow-all key for a direction without enforcement, else one key per (peer identity,
    port/proto) of every allow/deny entry (plus the host for ingress with allow-localhost)."""
    lab = dbg.lab
    if ep.kind == "host":
        return [_entry("Allow", d, 0, 0, 0, 0) for d in ("Ingress", "Egress")]
    pol = lab.policy.policy_for(ep.identity)
    dirs = getattr(pol, "_dirs", {})
    out: list[dict] = []
    for name, enforced in (("Ingress", pol.ingress_enforced), ("Egress", pol.egress_enforced)):
        d = dirs.get(name.lower())
        if not enforced or d is None:
            out.append(_entry("Allow", name, 0, 0, 0, 0))
            continue
        if name == "Ingress" and getattr(pol, "_allow_localhost", False):
            out.append(_entry("Allow", name, 1, 0, 0, 0))
        for verdict, items in (("Deny", d.denies), ("Allow", d.allows)):
            for e in items:
                peers = sorted({i for cs in e.peers for i in cs.ids}) if e.peers is not None else [0]
                ports = [(0, 0, 0)] if e.l4 is None else [(p, e.l4.lo, e.l4.hi) for p in sorted(e.l4.protos)]
                proxy = _proxy_port(lab, e.l7) if verdict == "Allow" and e.l7 is not None else 0
                for peer in peers:
                    for proto, lo, hi in ports:
                        for port, plen in _port_prefixes(proto, lo, hi):
                            out.append(_entry(verdict, name, peer, proto, port, plen, proxy))
    uniq = {(e["Key"]["TrafficDirection"], e["Key"]["Identity"], e["Key"]["Nexthdr"], e["Key"]["DestPort"],
             e["Key"]["PrefixLen"]): e for e in out}
    # PolicyEntriesDump.Less: deny entries first, then traffic direction, then identity
    return sorted(uniq.values(), key=lambda e: (e["Verdict"] != "Deny", e["Key"]["TrafficDirection"],
                                                 e["Key"]["Identity"], e["Key"]["Nexthdr"], e["Key"]["DestPort"]))


def _proxy_port(lab, l7) -> int:
    proxy = lab.fabric.dns_proxy if getattr(l7, "parser", "") == "dns" else lab.fabric.http_proxy
    return int(getattr(proxy, "port", 0) or 0)


def _port_prefixes(proto: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """(dest port, key prefix length past identity/direction) entries covering a port range:
    0 for any protocol, 8 for a protocol with any port, 8 + port-mask bits otherwise (a range
    is split into aligned power-of-two blocks, as the policy map's LPM keys require)."""
    if proto == 0:
        return [(0, 0)]
    if (lo, hi) == (0, 65535):
        return [(0, 8)]
    out = []
    port = lo
    while port <= hi:
        size = 1
        while port % (size * 2) == 0 and port + size * 2 - 1 <= hi and size < 65536:
            size *= 2
        out.append((port, 8 + 16 - (size.bit_length() - 1)))
        port += size
    return out


def _entry(verdict: str, direction: str, identity: int, proto: int, port: int, prefix: int, proxy: int = 0) -> dict:
    return {"Key": {"Prefixlen": prefix, "Identity": identity, "TrafficDirection": 0 if direction == "Ingress" else 1,
                    "Nexthdr": proto, "DestPort": port, "PrefixLen": prefix},
            "Verdict": verdict, "Direction": direction, "ProxyPort": proxy, "Packets": 0, "Bytes": 0,
            "AuthType": "disabled", "Cookie": 0}


U8PROTO = {0: "ANY", 1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP"}


def _port_proto(e: dict) -> str:
    """`PolicyKey.PortProtoString()`: the protocol alone when the port is wildcarded (prefix 0 or
    8), `lo-hi/PROTO` for a partial port prefix, `port/PROTO` for an exact port."""
    k = e["Key"]
    proto = U8PROTO.get(k["Nexthdr"], str(k["Nexthdr"]))
    plen = k["PrefixLen"]
    if plen in (0, 8):
        return proto
    if 8 < plen < 24:
        return f"{k['DestPort']}-{k['DestPort'] + (0xFFFF >> (plen - 8))}/{proto}"
    if plen == 24:
        return f"{k['DestPort']}/{proto}"
    return f"<INVALID PREFIX LENGTH: {plen}>"


def _print_table(dbg: Dbg, entries: list[dict], numeric: bool) -> None:
    w = TabWriter(dbg.out)
    third = "IDENTITY" if numeric else "LABELS (source:key[=value])"
    w.write(f"POLICY\tDIRECTION\t{third}\tPORT/PROTO\tPROXY PORT\tAUTH TYPE\tBYTES\tPACKETS\tPREFIX\tCOOKIE\n")
    for e in entries:
        ident = e["Key"]["Identity"]
        proxy = str(e["ProxyPort"]) if e["ProxyPort"] else "NONE"
        cells = (f"{e['Verdict']}\t{e['Direction']}\t{{}}\t{_port_proto(e)}\t{proxy}\t{e['AuthType']}\t"
                 f"{e['Bytes']}\t{e['Packets']}\t{e['Key']['PrefixLen']}\t{e['Cookie']}\n")
        if numeric:
            w.write(cells.format(ident))
            continue
        labels = ["ANY"] if ident == 0 else (identity_labels(dbg.lab, ident) or [str(ident)])
        w.write(cells.format(labels[0]))
        for label in labels[1:]:
            w.write(f"\t\t{label}\t\t\t\t\t\t\t\n")
    w.flush()
    if not entries:
        dbg.write("Policy stats empty. Perhaps the policy enforcement is disabled?\n")
