"""``ip addr|a|address [show [dev] IF]``, ``ip link``, ``ip route|r|ro``, ``ip -4|-6 …``, ``ip -br …``,
``ip -c …``: iproute2 6.1's output layout (Ubuntu 24.04) built from ``net.interfaces()`` /
``net.routes()``. On a node's own shell the details the kernel and systemd add come from
``workloads.node`` (qdisc, NOARP, altname, DHCP lifetimes, link-local IPv6, link-netns, route
protocols); inside a pod only what the pod's namespace holds is shown.

``-c`` means ``-color=always`` in iproute2: the escapes are written even into a pipe."""

from __future__ import annotations

from ..net import Interface
from ..shell.context import CommandContext

NAME, MAC, INET, INET6, UP, DOWN = 36, 33, 35, 34, 32, 31


class _Painter:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, color: int) -> str:
        return f"\x1b[{color}m{text}\x1b[0m" if self.on else text


def _node(ctx: CommandContext):
    from .nodetools import _node as node

    return node(ctx)


def _info(ctx: CommandContext, iface: Interface):
    node = _node(ctx)
    if node is None:
        return None
    from ..node import link_info

    return link_info(node[0], node[1], iface.name, iface.mac)


def _flags(iface: Interface, info) -> str:
    if iface.name == "lo":
        return "LOOPBACK,UP,LOWER_UP"
    if info is not None and info.noarp:
        return "BROADCAST,MULTICAST,NOARP,UP,LOWER_UP"
    return "BROADCAST,MULTICAST,UP,LOWER_UP"


def _name(iface: Interface, info) -> str:
    if info is not None and info.peer_name:
        return f"{iface.name}@{info.peer_name}"
    return f"{iface.name}@if{iface.peer_index}" if iface.peer_index else iface.name


def _state(iface: Interface) -> str:
    return "UNKNOWN" if iface.name == "lo" else "UP"


def _head(iface: Interface, info, paint: _Painter, link: bool) -> str:
    state = _state(iface)
    state_txt = f"state {state} " if state == "UNKNOWN" else "state " + paint(f"{state} ", UP)
    qdisc = info.qdisc if info is not None else "noqueue"
    mode = "mode DEFAULT " if link else ""
    return (f"{iface.index}: " + paint(f"{_name(iface, info)}: ", NAME) + f"<{_flags(iface, info)}> mtu {iface.mtu} "
            f"qdisc {qdisc} {state_txt}{mode}group default qlen 1000\n")


def _link_lines(iface: Interface, info, paint: _Painter) -> list[str]:
    if iface.name == "lo":
        zero = paint("00:00:00:00:00:00", MAC)
        return [f"    link/loopback {zero} brd {zero}\n"]
    line = f"    link/ether {paint(iface.mac, MAC)} brd {paint('ff:ff:ff:ff:ff:ff', MAC)}"
    if info is not None and info.netns:
        line += f" link-netns {info.netns}"
    elif iface.peer_index and not (info is not None and info.peer_name):
        line += f" link-netnsid {info.netnsid if info is not None else 0}"
    return [line + "\n"]


def _altname(info) -> list[str]:
    return [f"    altname {info.altname}\n"] if info is not None and info.altname else []


def _broadcast(ip: str, prefix: int) -> str:
    value = 0
    for part in ip.split("."):
        value = value << 8 | int(part)
    value |= (1 << (32 - prefix)) - 1
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))


def _lifetime(ctx: CommandContext) -> str:
    from ..node import DHCP_LEASE

    left = DHCP_LEASE - int(ctx.net.now()) % (DHCP_LEASE // 2)  # networkd renews at half the lease
    return f"{left}sec preferred_lft {left}sec"


def _v4(iface: Interface) -> list[str]:
    return [a for a in iface.addresses if ":" not in a]


def _v6(iface: Interface, info) -> list[str]:
    addrs = [a for a in iface.addresses if ":" in a]
    if info is not None:  # the node's namespace has IPv6 on: ::1 on lo, EUI-64 link-locals elsewhere
        addrs += ["::1/128"] if iface.name == "lo" else [info.link_local] if info.link_local else []
    return addrs


def _addr_lines(ctx: CommandContext, iface: Interface, info, family: str | None, paint: _Painter) -> list[str]:
    out: list[str] = []
    dhcp = info is not None and info.dhcp
    if family != "6":
        for addr in _v4(iface):
            ip, _, plen = addr.partition("/")
            prefix = int(plen or 32)
            line = f"    inet {paint(ip, INET)}/{prefix} "
            if dhcp:
                line += "metric 100 "
            if iface.name != "lo" and prefix < 31 and info is not None:
                line += "brd " + paint(f"{_broadcast(ip, prefix)} ", INET)
            scope = "host" if iface.name == "lo" else "global"
            line += f"scope {scope} " + ("dynamic " if dhcp else "") + f"{iface.name}\n"
            out.append(line)
            out.append(f"       valid_lft {_lifetime(ctx) if dhcp else 'forever preferred_lft forever'}\n")
    if family != "4":
        for addr in _v6(iface, info):
            ip, _, plen = addr.partition("/")
            scope = "host" if iface.name == "lo" else "link" if ip.lower().startswith("fe80") else "global"
            out.append(f"    inet6 {paint(ip, INET6)}/{plen} scope {scope} \n")
            out.append("       valid_lft forever preferred_lft forever\n")
    return out


def _route_line(line: str, paint: _Painter) -> str:
    toks = line.split()
    out, prev = [], ""
    for i, tok in enumerate(toks):
        if i == 0 and tok != "default" or prev in ("via", "src"):
            out.append(paint(tok + " ", INET))
        elif prev == "dev":
            out.append(paint(tok + " ", NAME))
        else:
            out.append(tok + " ")
        prev = tok
    return "".join(out) + "\n"


def _pod_route(r) -> str:
    line = r.destination
    if r.gateway:
        line += f" via {r.gateway}"
    line += f" dev {r.device}"
    if r.scope:
        line += f" proto kernel scope {r.scope}" if r.source else f" scope {r.scope}"
    if r.source:
        line += f" src {r.source}"
    return line


def ip(args: list[str], ctx: CommandContext) -> int:
    family: str | None = None
    brief = color = False
    rest: list[str] = []
    for a in args:
        if a in ("-4", "-6"):
            family = a[1]
        elif a in ("-br", "-brief", "--brief"):
            brief = True
        elif a in ("-c", "-color", "--color", "-color=always", "--color=always"):
            color = True
        elif a.startswith(("-color=", "--color=")) or a in ("-d", "-details", "-s", "-stats"):
            continue  # "auto"/"never": stdout is not a terminal
        else:
            rest.append(a)
    paint = _Painter(color)
    if not rest:
        ctx.stderr.write("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n")
        return 255
    obj, rest = rest[0], rest[1:]
    if rest and rest[0] in ("show", "list", "ls", "sh"):
        rest = rest[1:]
    if rest and rest[0] == "dev":
        rest = rest[1:]
    out: list[str] = []
    if "address".startswith(obj) or obj[0] == "l" and "link".startswith(obj):
        is_link = obj[0] == "l"
        ifaces = ctx.net.interfaces()
        if rest:
            ifaces = [i for i in ifaces if i.name == rest[0]]
            if not ifaces:
                ctx.stderr.write(f'Device "{rest[0]}" does not exist.\n')
                return 1
        for iface in ifaces:
            info = _info(ctx, iface)
            name = _name(iface, info)
            state = _state(iface)
            state_txt = f"{state:<14} " if state == "UNKNOWN" else paint(f"{state:<14} ", UP)
            if brief:
                if is_link:
                    out.append(paint(f"{name:<16} ", NAME) + state_txt + paint(f"{iface.mac} ", MAC)
                               + f"<{_flags(iface, info)}> \n")
                    continue
                addrs = []
                if family != "6":
                    addrs += [paint(a.split("/")[0], INET) + "/" + a.split("/")[1]
                              + (" metric 100" if info is not None and info.dhcp else "") for a in _v4(iface)]
                if family != "4":
                    addrs += [paint(a.split("/")[0], INET6) + "/" + a.split("/")[1] for a in _v6(iface, info)]
                if family and not addrs:
                    continue
                out.append(paint(f"{name:<16} ", NAME) + state_txt + "".join(a + " " for a in addrs) + "\n")
                continue
            if family and not is_link:
                lines = _addr_lines(ctx, iface, info, family, paint)
                if not lines:
                    continue
                out.append(_head(iface, info, paint, False))
                out += _altname(info) + lines
                continue
            out.append(_head(iface, info, paint, is_link))
            out += _link_lines(iface, info, paint) + _altname(info)
            if not is_link:
                out += _addr_lines(ctx, iface, info, family, paint)
    elif obj[0] == "r" and "route".startswith(obj):
        if family != "6":
            node = _node(ctx)
            if node is not None:
                from ..node import ip_routes

                lines = ip_routes(node[0], node[1], ctx.net.routes())
            else:
                lines = [_pod_route(r) for r in ctx.net.routes()]
            out += [_route_line(line, paint) for line in lines]
    else:
        ctx.stderr.write(f'Object "{obj}" is unknown, try "ip help".\n')
        return 255
    ctx.stdout.write("".join(out))
    return 0


COMMANDS = {"ip": ip}
