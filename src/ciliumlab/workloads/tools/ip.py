"""``ip addr|a|address [show [dev] IF]``, ``ip route|r|ro``, ``ip -4|-6 …``, ``ip -br a``, ``ip link``:
iproute2's output layout built from ``net.interfaces()`` / ``net.routes()``."""

from __future__ import annotations

from ..net import Interface
from ..shell.context import CommandContext


def _flags(iface: Interface) -> str:
    if iface.name == "lo":
        return "<LOOPBACK,UP,LOWER_UP> mtu {mtu} qdisc noqueue state UNKNOWN group default qlen 1000"
    return "<BROADCAST,MULTICAST,UP,LOWER_UP> mtu {mtu} qdisc noqueue state UP group default qlen 1000"


def _name(iface: Interface) -> str:
    return f"{iface.name}@if{iface.peer_index}" if iface.peer_index else iface.name


def _link(iface: Interface, out: list[str]) -> None:
    out.append(f"{iface.index}: {_name(iface)}: " + _flags(iface).format(mtu=iface.mtu) + "\n")
    if iface.name == "lo":
        out.append("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
    else:
        netns = " link-netnsid 0" if iface.peer_index else ""
        out.append(f"    link/ether {iface.mac} brd ff:ff:ff:ff:ff:ff{netns}\n")


def _addr_lines(iface: Interface, family: str | None, out: list[str]) -> None:
    for addr in iface.addresses:
        v6 = ":" in addr
        if (family == "4" and v6) or (family == "6" and not v6):
            continue
        if iface.name == "lo":
            scope = "host"
        elif v6 and addr.lower().startswith("fe80"):
            scope = "link"
        else:
            scope = "global"
        if v6:
            out.append(f"    inet6 {addr} scope {scope} \n")
        else:
            out.append(f"    inet {addr} scope {scope} {iface.name}\n")
        out.append("       valid_lft forever preferred_lft forever\n")


def ip(args: list[str], ctx: CommandContext) -> int:
    family: str | None = None
    brief = False
    rest: list[str] = []
    for a in args:
        if a in ("-4", "-6"):
            family = a[1]
        elif a in ("-br", "-brief", "--brief"):
            brief = True
        elif a in ("-c", "-color", "--color", "-d", "-details", "-s"):
            continue
        else:
            rest.append(a)
    if not rest:
        ctx.stderr.write("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n")
        return 255
    obj, rest = rest[0], rest[1:]
    if rest and rest[0] in ("show", "list", "ls", "sh"):
        rest = rest[1:]
    if rest and rest[0] == "dev":
        rest = rest[1:]
    out: list[str] = []
    if "address".startswith(obj) or obj == "a" or "link".startswith(obj) and len(obj) >= 1 and obj[0] == "l":
        is_link = obj[0] == "l"
        ifaces = ctx.net.interfaces()
        if rest:
            ifaces = [i for i in ifaces if i.name == rest[0]]
            if not ifaces:
                ctx.stderr.write(f'Device "{rest[0]}" does not exist.\n')
                return 1
        for iface in ifaces:
            if brief:
                state = "UNKNOWN" if iface.name == "lo" else "UP"
                addrs = " ".join(a for a in iface.addresses if family is None or (":" in a) == (family == "6"))
                if is_link:
                    out.append(f"{_name(iface):<16} {state:<14} {iface.mac} <{_flags(iface)[1:].split('>')[0]}> \n")
                else:
                    out.append(f"{_name(iface):<16} {state:<14} {addrs} \n")
                continue
            if family and not is_link:
                if not any((":" in a) == (family == "6") for a in iface.addresses):
                    continue
                out.append(f"{iface.index}: {_name(iface)}: " + _flags(iface).format(mtu=iface.mtu) + "\n")
            else:
                _link(iface, out)
            if not is_link:
                _addr_lines(iface, family, out)
    elif "route".startswith(obj) and obj[0] == "r":
        for r in ctx.net.routes():
            if family == "6":
                continue
            line = r.destination
            if r.gateway:
                line += f" via {r.gateway}"
            line += f" dev {r.device}"
            if r.scope:
                line += f" proto kernel scope {r.scope}" if r.source else f" scope {r.scope}"
            if r.source:
                line += f" src {r.source}"
            out.append(line + " \n")
    else:
        ctx.stderr.write(f'Object "{obj}" is unknown, try "ip help".\n')
        return 255
    ctx.stdout.write("".join(out))
    return 0


COMMANDS = {"ip": ip}
