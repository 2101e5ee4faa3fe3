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


def _ifconfig_block(iface: Interface) -> str:
    lo = iface.name == "lo"
    flags = "73<UP,LOOPBACK,RUNNING>" if lo else "4163<UP,BROADCAST,RUNNING,MULTICAST>"
    lines = [f"{iface.name}: flags={flags}  mtu {iface.mtu}"]
    for addr in iface.addresses:
        if ":" in addr:
            continue
        ip, _, plen = addr.partition("/")
        prefix = int(plen or 32)
        line = f"        inet {ip}  netmask {_netmask(prefix)}"
        if not lo and prefix < 32:
            line += f"  broadcast {_broadcast(ip, prefix)}"
        lines.append(line)
    if lo:
        lines.append("        inet6 ::1  prefixlen 128  scopeid 0x10<host>")
        lines.append("        loop  txqueuelen 1000  (Local Loopback)")
    else:
        lines.append(f"        ether {iface.mac}  txqueuelen 1000  (Ethernet)")
    lines += ["        RX packets 0  bytes 0 (0.0 B)", "        RX errors 0  dropped 0  overruns 0  frame 0",
              "        TX packets 0  bytes 0 (0.0 B)", "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0"]
    return "\n".join(lines) + "\n\n"


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

    block = _busybox_block if flavour(ctx) == "busybox" else _ifconfig_block
    ifaces = ctx.net.interfaces()
    names = [a for a in args if not a.startswith("-")]
    if names:
        ifaces = [i for i in ifaces if i.name == names[0]]
        if not ifaces:
            ctx.stderr.write(f"{names[0]}: error fetching interface information: Device not found\n")
            return 1
    ctx.stdout.write("".join(block(i) for i in ifaces))
    return 0


# -- iptables ----------------------------------------------------------------------------------
def _tables(ctx: CommandContext) -> dict:
    node = _node(ctx)
    if node is None:
        builtin = {"filter": ("INPUT", "FORWARD", "OUTPUT"), "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
                   "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
                   "raw": ("PREROUTING", "OUTPUT")}
        return {t: [(c, "ACCEPT", []) for c in chains] for t, chains in builtin.items()}
    from ..node import iptables_tables

    return iptables_tables(*node)


def iptables_save(args: list[str], ctx: CommandContext) -> int:
    tables = _tables(ctx)
    only = None
    for i, a in enumerate(args):
        if a in ("-t", "--table") and i + 1 < len(args):
            only = args[i + 1]
    stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(ctx.net.now()))
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
            out += [f"-A {chain} {r}" for r in rules]
        out.append("COMMIT")
        out.append(f"# Completed on {stamp}")
    ctx.stdout.write("\n".join(out) + "\n")
    return 0


def iptables(args: list[str], ctx: CommandContext) -> int:
    table, action, chain = "filter", None, None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-t", "--table") and i + 1 < len(args):
            table, i = args[i + 1], i + 2
            continue
        if a.startswith("-t") and len(a) > 2:
            table = a[2:]
        elif a in ("-S", "--list-rules", "-L", "--list"):
            action = "S" if a in ("-S", "--list-rules") else "L"
            if i + 1 < len(args) and not args[i + 1].startswith("-"):
                chain, i = args[i + 1], i + 1
        elif a in ("-n", "-v", "--numeric", "--verbose", "--line-numbers", "-w", "--wait"):
            pass
        else:
            ctx.stderr.write(f"iptables v1.8.10 (nf_tables): unknown option \"{a}\"\n"
                             "Try `iptables -h' or 'iptables --help' for more information.\n")
            return 2
        i += 1
    tables = _tables(ctx)
    if table not in tables:
        ctx.stderr.write(f"iptables v1.8.10 (nf_tables): table '{table}' does not exist\n"
                         "Perhaps iptables or your kernel needs to be upgraded.\n")
        return 3
    chains = tables[table]
    if chain is not None:
        chains = [c for c in chains if c[0] == chain]
        if not chains:
            ctx.stderr.write("iptables: No chain/target/match by that name.\n")
            return 1
    if action is None:
        ctx.stderr.write("iptables v1.8.10 (nf_tables): no command specified\n"
                         "Try `iptables -h' or 'iptables --help' for more information.\n")
        return 2
    out: list[str] = []
    if action == "S":
        for name, policy, _ in chains:
            out.append(f"-P {name} {policy}" if policy != "-" else f"-N {name}")
        for name, _, rules in chains:
            out += [f"-A {name} {r}" for r in rules]
    else:
        for n, (name, policy, rules) in enumerate(chains):
            if n:
                out.append("")
            head = f"Chain {name} (policy {policy})" if policy != "-" else f"Chain {name} (0 references)"
            out.append(head)
            out.append("target     prot opt source               destination         ")
            out += [f"{_target(r):<10} all  --  0.0.0.0/0            0.0.0.0/0           " for r in rules]
    ctx.stdout.write("\n".join(out) + "\n")
    return 0


def _target(rule: str) -> str:
    parts = rule.split()
    return parts[parts.index("-j") + 1] if "-j" in parts else ""


# -- ss ----------------------------------------------------------------------------------------
def ss(args: list[str], ctx: CommandContext) -> int:
    flags = "".join(a.lstrip("-") for a in args if a.startswith("-") and not a.startswith("--"))
    listening = "l" in flags or "--listening" in args
    show_proc = "p" in flags or "--processes" in args
    node = _node(ctx)
    rows: list[tuple[str, ...]] = []
    if listening and node is not None:
        from ..node import listeners

        for li in listeners(*node):
            local = f"{li.address}:{li.port}"
            peer = "0.0.0.0:*" if li.address != "*" else "*:*"
            proc = f'users:(("{li.process}",pid={li.pid},fd={li.fd}))' if show_proc else ""
            rows.append(("LISTEN", "0", "4096", local, peer, proc))
    header = ("State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "")
    w = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = []
    for r in [header, *rows]:
        if r is header:  # iproute2 prints "Peer Address:PortProcess" (no gap) in the header
            lines.append(f"{r[0]:<{w[0]}} {r[1]:<{w[1]}} {r[2]:<{w[2]}} {r[3]:>{w[3]}} {r[4]:>{w[4]}}Process")
            continue
        lines.append(f"{r[0]:<{w[0]}} {r[1]:<{w[1]}} {r[2]:<{w[2]}} {r[3]:>{w[3]}} {r[4]:>{w[4]}} {r[5]}".rstrip())
    ctx.stdout.write("\n".join(lines) + "\n")
    return 0


COMMANDS = {"ifconfig": ifconfig, "iptables": iptables, "iptables-save": iptables_save, "ss": ss}
