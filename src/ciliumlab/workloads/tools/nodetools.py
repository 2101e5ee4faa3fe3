"""Node tools of an Ubuntu host (and the agent's host-network shell): ``ifconfig`` (net-tools),
``iptables``/``iptables-save`` (iptables 1.8 nf_tables) and ``ss`` (iproute2), built from the
node's state in ``workloads.node``. In a pod's own network namespace they show the pod's view:
``ifconfig`` its interfaces, ``iptables`` empty tables, ``ss`` no listeners."""

from __future__ import annotations

import time

from ..net import Interface
from ..shell.context import CommandContext

TABLES = ("filter", "nat", "mangle", "raw")


def _node(ctx: CommandContext):
    """(lab, node) when the shell runs in a node's host network namespace, else None."""
    net = ctx.net
    lab = getattr(getattr(net, "ctx", None), "_lab", None)
    if lab is None or not getattr(net, "host_network", False) or net.node_name not in lab.cilium.nodes:
        return None
    if net.hostname != net.node_name:  # an external client entering via this node
        return None
    return lab, net.node_name


# -- ifconfig ----------------------------------------------------------------------------------
def _netmask(prefix: int) -> str:
    bits = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return ".".join(str((bits >> s) & 0xFF) for s in (24, 16, 8, 0))


def _broadcast(ip: str, prefix: int) -> str:
    parts = [int(p) for p in ip.split(".")]
    value = sum(p << s for p, s in zip(parts, (24, 16, 8, 0), strict=True))
    value |= (1 << (32 - prefix)) - 1
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))


def _link_info(ctx: CommandContext, iface: Interface):
    """workloads.node.LinkInfo for a node's own interface, None inside a pod."""
    node = _node(ctx)
    if node is None:
        return None
    from ..node import link_info

    return link_info(node[0], node[1], iface.name, iface.mac)


def _ifconfig_block(iface: Interface, info=None) -> str:
    lo = iface.name == "lo"
    if lo:
        flags = "73<UP,LOOPBACK,RUNNING>"
    elif info is not None and info.noarp:
        flags = "4291<UP,BROADCAST,RUNNING,NOARP,MULTICAST>"
    else:
        flags = "4163<UP,BROADCAST,RUNNING,MULTICAST>"
    lines = [f"{iface.name}: flags={flags}  mtu {iface.mtu}"]
    for addr in iface.addresses:
        if ":" in addr:
            continue
        ip, _, plen = addr.partition("/")
        prefix = int(plen or 32)
        line = f"        inet {ip}  netmask {_netmask(prefix)}"
        if not lo:  # IFF_BROADCAST: net-tools prints the broadcast address, 0.0.0.0 when unset
            line += f"  broadcast {_broadcast(ip, prefix) if prefix < 31 else '0.0.0.0'}"
        lines.append(line)
    if lo:
        lines.append("        inet6 ::1  prefixlen 128  scopeid 0x10<host>")
        lines.append("        loop  txqueuelen 1000  (Local Loopback)")
    else:
        if info is not None and info.link_local:
            local, _, plen = info.link_local.partition("/")
            lines.append(f"        inet6 {local}  prefixlen {plen}  scopeid 0x20<link>")
        lines.append(f"        ether {iface.mac}  txqueuelen 1000  (Ethernet)")
    lines += ["        RX packets 0  bytes 0 (0.0 B)", "        RX errors 0  dropped 0  overruns 0  frame 0",
              "        TX packets 0  bytes 0 (0.0 B)", "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0"]
    return "\n".join(lines) + "\n\n"


def _nat_key(name: str) -> list:
    """net-tools keeps its interface list in nstrcmp (natural) order."""
    import re

    return [int(p) if i % 2 else p for i, p in enumerate(re.split(r"(\d+)", name))]


def _busybox_block(iface: Interface) -> str:
    lo = iface.name == "lo"
    head = "Link encap:Local Loopback  " if lo else f"Link encap:Ethernet  HWaddr {iface.mac.upper()}  "
    lines = [f"{iface.name:<10}{head}"]
    for addr in iface.addresses:
        if ":" in addr:
            continue
        ip, _, plen = addr.partition("/")
        prefix = int(plen or 32)
        bcast = f"  Bcast:{_broadcast(ip, prefix)}" if not lo and prefix < 32 else ""
        lines.append(f"          inet addr:{ip}{bcast}  Mask:{_netmask(prefix)}")
    flags = "UP LOOPBACK RUNNING" if lo else "UP BROADCAST RUNNING MULTICAST"
    lines += [f"          {flags}  MTU:{iface.mtu}  Metric:1",
              "          RX packets:0 errors:0 dropped:0 overruns:0 frame:0",
              "          TX packets:0 errors:0 dropped:0 overruns:0 carrier:0",
              f"          collisions:0 txqueuelen:{1000 if lo else 0} ",
              "          RX bytes:0 (0.0 B)  TX bytes:0 (0.0 B)"]
    return "\n".join(lines) + "\n\n"


def ifconfig(args: list[str], ctx: CommandContext) -> int:
    from .common import flavour

    busybox = flavour(ctx) == "busybox"
    ifaces = ctx.net.interfaces()
    names = [a for a in args if not a.startswith("-")]
    if names:
        ifaces = [i for i in ifaces if i.name == names[0]]
        if not ifaces:
            ctx.stderr.write(f"{names[0]}: error fetching interface information: Device not found\n")
            return 1
    if busybox:
        ctx.stdout.write("".join(_busybox_block(i) for i in ifaces))
        return 0
    ifaces = sorted(ifaces, key=lambda i: _nat_key(i.name))
    ctx.stdout.write("".join(_ifconfig_block(i, _link_info(ctx, i)) for i in ifaces))
    return 0


# -- iptables ----------------------------------------------------------------------------------
IPT = "iptables v1.8.10 (nf_tables)"
BUILTIN = {"filter": ("INPUT", "FORWARD", "OUTPUT"), "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
           "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"), "raw": ("PREROUTING", "OUTPUT")}


def _tables(ctx: CommandContext) -> dict:
    node = _node(ctx)
    if node is None:
        return {t: [(c, "ACCEPT", []) for c in chains] for t, chains in BUILTIN.items()}
    from ..node import iptables_tables

    return iptables_tables(*node)


def iptables_save(args: list[str], ctx: CommandContext) -> int:
    tables = _tables(ctx)
    only = None
    for i, a in enumerate(args):
        if a in ("-t", "--table") and i + 1 < len(args):
            only = args[i + 1]
        elif a.startswith("--table="):
            only = a.split("=", 1)[1]
    if only is not None and only not in tables:
        ctx.stderr.write(f"{IPT.replace('iptables', 'iptables-save')}: Cannot initialize: table '{only}' does not "
                         "exist\n")
        return 1
    counters = "-c" in args or "--counters" in args
    stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(ctx.net.now()))  # ctime(3), UTC on the boxes
    out: list[str] = []
    for name in ("mangle", "raw", "filter", "nat"):
        if only is not None and name != only:
            continue
        chains = tables[name]
        out.append(f"# Generated by iptables-save v1.8.10 (nf_tables) on {stamp}")
        out.append(f"*{name}")
        for chain, policy, _ in chains:
            out.append(f":{chain} {policy} [0:0]")
        for chain, _, rules in chains:
            out += [f"{'[0:0] ' if counters else ''}-A {chain} {r}" for r in rules]
        out.append("COMMIT")
        out.append(f"# Completed on {stamp}")
    ctx.stdout.write("\n".join(out) + "\n")
    return 0


def _usage(ctx: CommandContext, msg: str, rc: int = 2) -> int:
    ctx.stderr.write(f"{IPT}: {msg}\nTry `iptables -h' or 'iptables --help' for more information.\n")
    return rc


def iptables(args: list[str], ctx: CommandContext) -> int:
    table, action, chain = "filter", None, None
    numeric = verbose = lines = False
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-t", "--table"):
            if i >= len(args):
                return _usage(ctx, "option \"-t\" requires an argument")
            table, i = args[i], i + 1
            continue
        if a.startswith("--"):
            long = {"--list": "L", "--list-rules": "S", "--numeric": "n", "--verbose": "v", "--exact": "x",
                    "--line-numbers": "#", "--wait": "w"}.get(a.split("=", 1)[0])
            if long is None:
                return _usage(ctx, f"unknown option \"{a}\"")
            letters = long
        elif a.startswith("-") and len(a) > 1:
            letters = a[1:]
        else:
            return _usage(ctx, f"Bad argument `{a}'")
        for j, ch in enumerate(letters):
            if ch in "LS":
                if action is not None and action != ch:
                    return _usage(ctx, f"Illegal option `-{ch}' with this command")
                action = ch
                if i < len(args) and not args[i].startswith("-"):
                    chain, i = args[i], i + 1
            elif ch == "n":
                numeric = True
            elif ch == "v":
                verbose = True
            elif ch == "x":
                pass  # counters are all 0: exact or not, the same
            elif ch == "#":
                lines = True
            elif ch == "w":
                if i < len(args) and args[i].isdigit():
                    i += 1
            elif ch == "t":
                rest = letters[j + 1:]
                if rest:
                    table = rest
                elif i < len(args):
                    table, i = args[i], i + 1
                break
            else:
                return _usage(ctx, f"unknown option \"{a}\"")
    if action is None:
        return _usage(ctx, "no command specified")
    tables = _tables(ctx)
    if table not in tables:
        ctx.stderr.write(f"{IPT}: table '{table}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.\n")
        return 3
    chains = tables[table]
    if chain is not None:
        chains = [c for c in chains if c[0] == chain]
        if not chains:
            ctx.stderr.write(f"{IPT}: chain `{chain}' in table `{table}' is incompatible, use 'nft' tool.\n")
            return 1
    out: list[str] = []
    if action == "S":
        for name, policy, _ in chains:
            out.append(f"-P {name} {policy}" if policy != "-" else f"-N {name}")
            if verbose and policy != "-":
                out[-1] += " -c 0 0"
        for name, _, rules in chains:
            out += [f"-A {name} {r}" + (" -c 0 0" if verbose else "") for r in rules]
    else:
        refs: dict[str, int] = {}
        for _, _, rules in tables[table]:
            for r in rules:
                target = _rule(r)["target"]
                refs[target] = refs.get(target, 0) + 1
        for n, (name, policy, rules) in enumerate(chains):
            if n:
                out.append("")
            out += _list_chain(name, policy, rules, refs.get(name, 0), numeric, verbose, lines)
    ctx.stdout.write("\n".join(out) + "\n")
    return 0


def _rule(rule: str) -> dict:
    """An iptables-save rule as the pieces `iptables -L` prints."""
    import shlex

    toks = shlex.split(rule)
    r = {"src": "0.0.0.0/0", "dst": "0.0.0.0/0", "in": "*", "out": "*", "proto": "all", "inv": set(),
         "matches": [], "target": "", "target_info": ""}
    i, neg = 0, False
    while i < len(toks):
        t = toks[i]
        if t == "!":
            neg, i = True, i + 1
            continue
        if t in ("-s", "-d", "-i", "-o", "-p"):
            key = {"-s": "src", "-d": "dst", "-i": "in", "-o": "out", "-p": "proto"}[t]
            value = toks[i + 1]
            if key in ("src", "dst") and "/" not in value:
                value += "/32"
            r[key] = value
            if neg:
                r["inv"].add(key)
            i += 2
        elif t == "-m":
            mod, i = toks[i + 1], i + 2
            opts: list[str] = []
            while i < len(toks) and toks[i] not in ("-m", "-j") and not (toks[i] == "!" and i + 1 < len(toks)
                                                                         and toks[i + 1] in ("-m", "-j")):
                opts.append(toks[i])
                i += 1
            r["matches"].append(_match_text(mod, opts))
        elif t == "-j":
            r["target"], i = toks[i + 1], i + 2
            r["target_info"] = _target_text(r["target"], toks[i:])
            break
        else:
            i += 1
        neg = False
    return r


def _match_text(mod: str, opts: list[str]) -> str:
    inv = "! " if opts and opts[0] == "!" else ""
    opts = [o for o in opts if o != "!"]
    if mod == "comment":
        return f"/* {opts[1]} */"
    if mod == "mark":
        return f"mark match {inv}{opts[1]}"
    if mod == "conntrack":
        return f"{inv}ctstate {opts[1]}"
    if mod == "socket":
        return "socket " + " ".join(opts)
    if mod == "set":
        return f"match-set {opts[1]} {opts[2]}"
    return mod + " " + " ".join(opts)


def _target_text(target: str, opts: list[str]) -> str:
    o = dict(zip(opts[::2], opts[1::2], strict=False))
    if target == "MARK" and "--set-xmark" in o:
        value, _, mask = o["--set-xmark"].partition("/")
        return f"MARK set {value}" if mask == "0xffffffff" else f"MARK xset {value}/{mask}"
    if target == "CT" and "--notrack" in opts:
        return "CT notrack"
    if target == "SNAT":
        return f"to:{o['--to-source']}" + (" random-fully" if "--random-fully" in opts else "")
    if target == "MASQUERADE":
        return "random-fully" if "--random-fully" in opts else ""
    if target == "TPROXY":
        return f"TPROXY redirect {o['--on-ip']}:{o['--on-port']} mark {o['--tproxy-mark']}"
    return ""


_NETWORKS = {"127.0.0.0": "loopback", "169.254.0.0": "link-local", "0.0.0.0": "default"}  # /etc/networks


def _addr(cidr: str, numeric: bool) -> str:
    ip, _, plen = cidr.partition("/")
    if plen == "32":
        if not numeric and ip == "127.0.0.1":
            return "localhost"
        return ip
    if numeric:
        return cidr
    if cidr == "0.0.0.0/0":
        return "anywhere"
    return f"{_NETWORKS.get(ip, ip)}/{plen}"


def _list_chain(name: str, policy: str, rules: list[str], refs: int, numeric: bool, verbose: bool,
                lines: bool) -> list[str]:
    """One chain as iptables 1.8.10 `-L` prints it (xshared.c print_header/print_rule_details)."""
    if policy != "-":
        head = f"Chain {name} (policy {policy}" + (" 0 packets, 0 bytes)" if verbose else ")")
    else:
        head = f"Chain {name} ({refs} references)"
    cols = ("num  " if lines else "") + (" pkts bytes " if verbose else "") + "target     prot opt"
    if verbose:
        cols += " in     out    "
    cols += f" {'source':<19}  {'destination':<19} "
    out = [head, cols]
    for n, rule in enumerate(rules, 1):
        r = _rule(rule)
        line = f"{n:<4} " if lines else ""
        if verbose:
            line += "    0     0 "
        inv = r["inv"]
        line += f"{r['target']:<9} {'!' if 'proto' in inv else ' '}{r['proto']:<5}-- "
        if verbose:  # interfaces: "*" with -n, "any" without
            ifin, ifout = (x if x != "*" or numeric else "any" for x in (r["in"], r["out"]))
            line += f" {('!' if 'in' in inv else '') + ifin:<6} {('!' if 'out' in inv else '') + ifout:<6} "
        line += f"{'!' if 'src' in inv else ' '}{_addr(r['src'], numeric):<19} "
        line += f"{'!' if 'dst' in inv else ' '}{_addr(r['dst'], numeric):<19} "
        extra = " ".join(m for m in r["matches"])
        if r["target_info"]:
            extra = f"{extra} {r['target_info']}" if extra else r["target_info"]
        if extra:
            line += " " + extra
        out.append(line)
    return out


# -- ss ----------------------------------------------------------------------------------------
SERVICES = {("tcp", 22): "ssh", ("tcp", 53): "domain", ("udp", 53): "domain", ("udp", 68): "bootpc",
            ("tcp", 2379): "etcd-client", ("tcp", 2380): "etcd-server"}  # /etc/services (netbase)


def ss(args: list[str], ctx: CommandContext) -> int:
    short = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    longs = {a for a in args if a.startswith("--")}
    listening = "l" in short or "--listening" in longs
    show_all = "a" in short or "--all" in longs
    show_proc = "p" in short or "--processes" in longs
    numeric = "n" in short or "--numeric" in longs
    no_header = "H" in short or "--no-header" in longs
    want_tcp = "t" in short or "--tcp" in longs
    want_udp = "u" in short or "--udp" in longs
    if not (want_tcp or want_udp):
        want_tcp = want_udp = True
    only4, only6 = "4" in short or "--ipv4" in longs, "6" in short or "--ipv6" in longs
    node = _node(ctx)
    rows: list[list[str]] = []
    if (listening or show_all) and node is not None:
        from ..node import listeners

        socks = [li for li in listeners(*node) if (li.proto == "tcp" and want_tcp) or (li.proto == "udp" and want_udp)]
        socks.sort(key=lambda li: li.proto != "udp")  # ss dumps UDP before TCP
        for li in socks:
            v6 = li.address.startswith(("*", "["))
            if (only4 and v6) or (only6 and not v6):
                continue
            addr = li.address if numeric else _ss_host(li.address, node)
            port = str(li.port) if numeric else SERVICES.get((li.proto, li.port), str(li.port))
            peer = "*" if li.address == "*" else "[::]" if li.address.startswith("[") else "0.0.0.0"
            users = ""
            if show_proc:
                users = " users:(" + ",".join(f'("{p}",pid={pid},fd={fd})'
                                             for p, pid, fd in ((li.process, li.pid, li.fd), *li.also)) + ")"
            state, recvq, sendq = ("LISTEN", 0, li.backlog) if li.proto == "tcp" else ("UNCONN", 0, 0)
            rows.append([li.proto, state, f"{recvq:<6}", f"{sendq:<6}", addr + ":", port, peer + ":", "*", users])
    header = ["Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port", "Peer Address:", "Port", "Process"]
    enabled = [not (want_tcp and want_udp) and i == 0 for i in range(len(header))]  # one protocol: no Netid
    cols = [i for i in range(len(header)) if not enabled[i]]
    table = ([] if no_header else [header]) + rows
    ctx.stdout.write(_ss_render(table, cols, no_header))
    return 0


def _ss_host(address: str, node) -> str:
    """systemd-resolved's synthesized names and /etc/hosts, as getnameinfo() answers them."""
    ip, sep, ifname = address.partition("%")
    names = {"127.0.0.1": "localhost", "127.0.0.53": "_localdnsstub", "127.0.0.54": "_localdnsproxy"}
    lab, name = node
    for n, agent in lab.cilium.nodes.items():
        names.setdefault(agent.host.ip, n)
    if ip == "[::]":
        return ip
    return names.get(ip, ip) + (sep + ifname if sep else "")


def _ss_render(table: list[list[str]], cols: list[int], no_header: bool) -> str:
    """iproute2 6.x's ss renderer with stdout not a terminal: each column as wide as its widest
    cell (header included) plus its left delimiter; addresses right-aligned, the rest left."""
    ldelim = {0: "", 1: " ", 2: " ", 3: " ", 4: " ", 5: "", 6: " ", 7: "", 8: ""}
    right = {4, 6}
    width: dict[int, int] = {}
    first = True
    for c in cols:
        w = max((len(r[c]) for r in table), default=0)
        width[c] = w + (len(ldelim[c]) if not first and w else 0)
        if width[c]:
            first = False
    lines = []
    for r in table:
        line, started = "", False
        for c in cols:
            if not width[c]:
                continue
            printed = 0
            if started:
                line += ldelim[c]
                printed = len(ldelim[c])
            started = True
            cell = r[c]
            if c in right:
                pad = width[c] - len(cell) - printed
                line += " " * max(pad, 0) + cell
            else:
                line += cell + " " * max(width[c] - printed - len(cell), 0)
        lines.append(line)
    return "".join(line + "\n" for line in lines)


COMMANDS = {"ifconfig": ifconfig, "iptables": iptables, "iptables-save": iptables_save, "ss": ss}
