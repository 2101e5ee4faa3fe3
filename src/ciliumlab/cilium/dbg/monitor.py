"""`cilium-dbg monitor`: the node's datapath event stream, one line per event (spec e.1).

`MonitorSession` subscribes to the node's `MonitorBus` and prints every matching event as it
arrives; `run` keeps it open until the exec's deadline (kubectl exec's Ctrl-C in the served lab).
Embedded, `start_monitor(lab, node, args, out)` returns the open session: run traffic, then
`stop()`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from ...hubble.cli.names import DROP_REASON_TEXT
from ..datapath import events as ev
from ..policy.types import MATCH_TYPE_NAMES
from .common import Dbg, UsageError, identity_labels, identity_name
from .packet import hex_dump, packet_bytes

HEADER = "Listening for events on 2 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n"
TYPES = {"drop": ev.DROP, "debug": ev.DEBUG, "capture": ev.CAPTURE, "trace": ev.TRACE,
         "policy-verdict": ev.POLICY_VERDICT, "trace-sock": ev.TRACE_SOCK, "recorder": ev.RECORD_CAPTURE,
         "l7": ev.ACCESS_LOG, "agent": ev.AGENT}
CT_STATES = {ev.CT_NEW: "new", ev.CT_ESTABLISHED: "established", ev.CT_REPLY: "reply",
             ev.CT_RELATED: "related", ev.CT_REOPENED: "reopened"}
PROTO_NAMES = {ev.TCP: "tcp", ev.UDP: "udp", ev.SCTP: "sctp"}
ICMP_TYPES = {0: "EchoReply", 3: "DestinationUnreachable", 5: "Redirect", 8: "EchoRequest", 11: "TimeExceeded"}
SOCK_POINTS = {ev.SOCK_PRE_XLATE_FWD: "pre-xlate-fwd", ev.SOCK_POST_XLATE_FWD: "post-xlate-fwd",
               ev.SOCK_PRE_XLATE_REV: "pre-xlate-rev", ev.SOCK_POST_XLATE_REV: "post-xlate-rev"}
FILES = {"bpf_host.c": 1, "bpf_lxc.c": 2, "bpf_overlay.c": 3, "bpf_xdp.c": 4, "bpf_sock.c": 5}
DASHES = "-" * 78


@dataclass
class MonitorOptions:
    types: set[int] = field(default_factory=set)
    related: set[int] = field(default_factory=set)
    sources: set[int] = field(default_factory=set)
    destinations: set[int] = field(default_factory=set)
    verbosity: int = 0
    numeric: bool = False
    hex: bool = False
    json: bool = False


def parse(args: list[str]) -> MonitorOptions:
    opts = MonitorOptions()
    i = 0

    def value(flag: str) -> str:
        nonlocal i
        if "=" in args[i]:
            return args[i].split("=", 1)[1]
        if i + 1 >= len(args):
            raise UsageError(f"flag needs an argument: {flag}", "monitor")
        i += 1
        return args[i]

    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0]
        if a == "-v" or a == "--verbose":
            opts.verbosity += 1
        elif a == "-vv":
            opts.verbosity += 2
        elif a in ("-n", "--numeric"):
            opts.numeric = True
        elif a == "--hex":
            opts.hex = True
        elif a in ("-j", "--json"):
            opts.json = True
        elif name in ("-t", "--type"):
            t = value(name)
            if t not in TYPES:
                raise UsageError(f'invalid argument "{t}" for "-t, --type" flag: Unknown type ({t}). Please use one '
                                 "of the following ones [drop debug capture trace l7 agent policy-verdict trace-sock "
                                 "recorder]", "monitor")
            opts.types.add(TYPES[t])
        elif name in ("--related-to", "--from", "--to"):
            raw = value(name)
            try:
                ids = {int(x) for x in raw.split(",") if x}
            except ValueError:
                raise UsageError(f'invalid argument "{raw}" for "{name}" flag: strconv.ParseUint: parsing '
                                 f'"{raw}": invalid syntax', "monitor") from None
            {"--related-to": opts.related, "--from": opts.sources, "--to": opts.destinations}[name].update(ids)
        elif name == "--monitor-socket":
            value(name)
        else:
            raise UsageError(f"unknown flag: {a}" if a.startswith("--") else f"unknown shorthand flag: "
                             f"'{a.lstrip('-')[:1]}' in {a}", "monitor")
        i += 1
    return opts


class MonitorSession:
    """An open `cilium-dbg monitor`: prints the node's matching events as they are emitted."""

    def __init__(self, lab, node: str, opts: MonitorOptions, out) -> None:
        self.lab = lab
        self.node = node
        self.opts = opts
        self.out = out
        self._unsubscribe = None
        self._ifnames: dict[int, str] | None = None

    def start(self) -> MonitorSession:
        self.out.write(HEADER)
        self._unsubscribe = self.lab.fabric.monitors[self.node].subscribe(self._on_event)
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def __enter__(self) -> MonitorSession:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _on_event(self, e: ev.MonitorEvent) -> None:
        if e.type == ev.TRACE and e.subtype in (ev.FROM_ENDPOINT, ev.TO_ENDPOINT):
            self._debug_events(e)
        if not self.matches(e):
            return
        text = self.format(e)
        if text:
            self.out.write(text)

    # -- debug datapath: endpoints with `endpoint config <id> Debug=true` ------------------------
    def _debug_enabled(self, endpoint_id: int) -> bool:
        if not endpoint_id:
            return False
        return any(r.id == endpoint_id and r.node == self.node and r.options.get("Debug") == "Enabled"
                   for r in self.lab.cilium.endpoints.values())

    def _debug_events(self, e: ev.MonitorEvent) -> None:
        """What a Debug-enabled endpoint's program prints around a packet: conntrack and identity
        lookups as DEBUG messages (type 2, shown from `-v` on) and, on delivery, a packet capture
        (type 3). Derived from the trace the datapath emits, since only debug builds emit them."""
        egress = e.subtype == ev.FROM_ENDPOINT
        ep = e.src.endpoint_id if egress else e.dst.endpoint_id
        if not self._debug_enabled(ep):
            return
        o = self.opts
        src, dst = _ends(e)
        related = not (o.related and src not in o.related and dst not in o.related)
        mark = f"{_hash(e):#x}"
        state = {ev.CT_NEW: "New", ev.CT_ESTABLISHED: "Established", ev.CT_REPLY: "Reply",
                 ev.CT_RELATED: "Related"}.get(e.ct_reason, "New")
        if related and (not o.types or ev.DEBUG in o.types) and o.verbosity >= 1:
            messages = [] if egress else [f"Attempting local delivery for container id {ep} from seclabel "
                                          f"{e.src.identity}"]
            messages += [f"Conntrack lookup 1/2: src={e.src.ip}:{e.src.port} dst={e.dst.ip}:{e.dst.port}",
                         f"Conntrack lookup 2/2: nexthdr={e.proto} flags={0 if egress else 1}",
                         f"CT verdict: {state}, revnat=0"]
            if egress:
                messages.append(f"Successfully mapped addr={e.dst.ip} to identity={e.dst.identity}")
            self.out.write("".join(f"CPU 00: MARK {mark} FROM {ep} DEBUG: {m}\n" for m in messages))
        if related and not egress and (not o.types or ev.CAPTURE in o.types):
            ifindex = e.ifindex or self._endpoint_ifindex(e.dst.ip)
            if o.verbosity == 0:
                self.out.write(f"-> {self._ifname(ifindex)}: {summary(e)}\n")
            else:
                length = e.length or 66
                self.out.write(f"CPU 00: MARK {mark} FROM {ep} DEBUG: {length} bytes, Delivery to ifindex {ifindex}\n"
                               + "".join(f"{layer}\n" for layer in self._layers(e, length)))

    def _endpoint_ifindex(self, ip: str) -> int:
        endpoint = self.lab.fabric.endpoints.get(ip)
        return endpoint.ifindex if endpoint is not None else 0

    # -- filtering -------------------------------------------------------------------------------
    def matches(self, e: ev.MonitorEvent) -> bool:
        o = self.opts
        if o.types and e.type not in o.types:
            return False
        src, dst = _ends(e)
        if o.related and src not in o.related and dst not in o.related:
            return False
        if o.sources and src not in o.sources:
            return False
        return not (o.destinations and dst not in o.destinations)

    # -- formatting ------------------------------------------------------------------------------
    def format(self, e: ev.MonitorEvent) -> str:
        if e.type == ev.TRACE:
            line = self.trace_line(e)
        elif e.type == ev.DROP:
            line = self.drop_line(e)
        elif e.type == ev.POLICY_VERDICT:
            line = self.verdict_line(e)
        elif e.type == ev.ACCESS_LOG:
            line = self.l7_line(e)
        elif e.type == ev.TRACE_SOCK:
            line = self.sock_line(e)
        else:
            return ""
        if self.opts.verbosity < 2:
            return line + "\n"
        return DASHES + "\n" + self.verbose_block(e, line)

    def _id(self, identity: int) -> str:
        return identity_name(identity, self.opts.numeric)

    def _ifname(self, index: int) -> str:
        if self._ifnames is None:
            self._ifnames = {ep.ifindex: ep.ifname for ep in self.lab.fabric.endpoints.values()
                             if ep.node == self.node and ep.ifindex}
        return self._ifnames.get(index) or str(index)

    def trace_line(self, e: ev.MonitorEvent) -> str:
        state = CT_STATES.get(e.ct_reason, "unknown")
        orig = e.orig_src_ip or "0.0.0.0"
        return (f"{_trace_summary(e)} flow {_hash(e):#x} , identity {self._id(e.src.identity)}->"
                f"{self._id(e.dst.identity)} state {state} ifindex {self._ifname(e.ifindex) if e.ifindex else 0} "
                f"orig-ip {orig}: {summary(e)}")

    def drop_line(self, e: ev.MonitorEvent) -> str:
        reason = DROP_REASON_TEXT.get(e.drop_reason or e.subtype, str(e.drop_reason or e.subtype))
        file, line = e.file or ("bpf_lxc.c", 0)
        ifindex = e.ifindex or self._drop_ifindex(e)
        return (f"xx drop ({reason}) flow {_hash(e):#x} to endpoint {e.dst.endpoint_id}, ifindex {ifindex}, "
                f"file {file}:{line}, , identity {self._id(e.src.identity)}->{self._id(e.dst.identity)}: {summary(e)}")

    def _drop_ifindex(self, e: ev.MonitorEvent) -> int:
        ip = e.dst.ip if e.direction == ev.INGRESS else e.src.ip
        dp = self.lab.fabric.endpoints.get(ip)
        return dp.ifindex if dp is not None and dp.node == self.node else 0

    def verdict_line(self, e: ev.MonitorEvent) -> str:
        ingress = bool(e.direction & ev.INGRESS)
        local = e.dst.endpoint_id if ingress else e.src.endpoint_id
        remote = e.src.identity if ingress else e.dst.identity
        if e.verdict < 0:
            action = "audit" if e.audited else "deny"
        elif e.verdict > 0:
            action = "redirect"
        else:
            action = "allow"
        return (f"Policy verdict log: flow {_hash(e):#x} local EP ID {local}, remote ID {self._id(remote)}, "
                f"proto {e.proto}, {'ingress' if ingress else 'egress'}, action {action}, auth: disabled, "
                f"match {MATCH_TYPE_NAMES.get(e.match_type, 'none')}, {summary(e)}")

    def l7_line(self, e: ev.MonitorEvent) -> str:
        rec = e.l7
        if rec is None:
            return ""
        response = rec.type == ev.L7_RESPONSE
        client, server = (e.dst, e.src) if response else (e.src, e.dst)
        direction = {"Ingress": "<-", "Egress": "->"}.get(rec.observation_point, "??")
        kind = "Response" if response else "Request"
        proto = "http" if rec.http is not None else "dns" if rec.dns is not None else "unknown-l7"
        c_labels = "[" + " ".join(identity_labels(self.lab, client.identity)) + "]"
        s_labels = "[" + " ".join(identity_labels(self.lab, server.identity)) + "]"
        if response:
            head = (f"{direction} {kind} {proto} to {client.endpoint_id} ({c_labels}) from {server.endpoint_id} "
                    f"({s_labels})")
        else:
            head = (f"{direction} {kind} {proto} from {client.endpoint_id} ({c_labels}) to {server.endpoint_id} "
                    f"({s_labels})")
        line = f"{head}, identity {client.identity}->{server.identity}, verdict {rec.verdict}"
        if rec.http is not None:
            line += f" {rec.http.method} {rec.http.url} => {rec.http.code if response else 0}"
        elif rec.dns is not None:
            line += f" DNS proxy: {rec.dns.query} {','.join(rec.dns.qtypes)}"
            if response:
                line += f" TTL: {rec.dns.ttl} Answer: '{','.join(rec.dns.ips)}'"
                if rec.dns.cnames:
                    line += f" CNAMEs: {','.join(rec.dns.cnames)}"
        return line

    def sock_line(self, e: ev.MonitorEvent) -> str:
        point = SOCK_POINTS.get(e.subtype, "unknown")
        return (f"[{point}] cgroup_id: {_cgroup(e)} sock_cookie: {_hash(e)}, dst [{e.dst.ip}]:{e.dst.port} "
                f"{PROTO_NAMES.get(e.proto, 'unknown')}")

    def verbose_block(self, e: ev.MonitorEvent, line: str) -> str:
        length = e.length or 66
        mark = f"{_hash(e):#x}"
        src_ep = e.src.endpoint_id
        if e.type == ev.TRACE:
            point = ev.OBS_POINT_NAMES.get(e.subtype, "unknown")
            state = CT_STATES.get(e.ct_reason, "unknown")
            head = (f"CPU 00: MARK {mark} FROM {src_ep} {point}: {length} bytes ({length} captured), state {state}, "
                    f"interface {self._ifname(e.ifindex) if e.ifindex else 0}, , identity {self._id(e.src.identity)}->"
                    f"{self._id(e.dst.identity)}, orig-ip {e.orig_src_ip or '0.0.0.0'}, to endpoint {e.dst.endpoint_id}")
        elif e.type == ev.DROP:
            reason = DROP_REASON_TEXT.get(e.drop_reason, str(e.drop_reason))
            head = (f"CPU 00: MARK {mark} FROM {src_ep} DROP: {length} bytes, reason {reason}, identity "
                    f"{self._id(e.src.identity)}->{self._id(e.dst.identity)}, to endpoint {e.dst.endpoint_id}")
        else:
            return line + "\n"
        return head + "\n" + "".join(f"{layer}\n" for layer in self._layers(e, length))

    def _layers(self, e: ev.MonitorEvent, length: int) -> list[str]:
        """The packet below a verbose header: gopacket's layer dump, or with `--hex` its bytes."""
        if not self.opts.hex:
            return _layers(e, length)
        endpoints = self.lab.fabric.endpoints
        src, dst = endpoints.get(e.src.ip), endpoints.get(e.dst.ip)
        data = packet_bytes(e, length, src.mac if src else "", dst.mac if dst else "")
        return hex_dump(data).splitlines()


# -- helpers ----------------------------------------------------------------------------------------
def _ends(e: ev.MonitorEvent) -> tuple[int, int]:
    if e.type == ev.ACCESS_LOG and e.l7 is not None and e.l7.type == ev.L7_RESPONSE:
        return e.dst.endpoint_id, e.src.endpoint_id
    return e.src.endpoint_id, e.dst.endpoint_id


def _trace_summary(e: ev.MonitorEvent) -> str:
    p = e.subtype
    if p == ev.TO_ENDPOINT:
        return f"-> endpoint {e.dst.endpoint_id}"
    if p == ev.TO_PROXY:
        return f"-> proxy port {e.proxy_port}" if e.proxy_port else "-> proxy"
    if p == ev.FROM_ENDPOINT:
        return f"<- endpoint {e.src.endpoint_id}"
    return {ev.TO_HOST: "-> host from", ev.TO_STACK: "-> stack", ev.TO_OVERLAY: "-> overlay",
            ev.TO_NETWORK: "-> network", ev.FROM_PROXY: "<- proxy", ev.FROM_HOST: "<- host",
            ev.FROM_STACK: "<- stack", ev.FROM_OVERLAY: "<- overlay", ev.FROM_NETWORK: "<- network"}.get(p, "unknown trace")


def _flags(flags: int) -> str:
    names = [n for bit, n in ((ev.SYN, "SYN"), (ev.ACK, "ACK"), (ev.RST, "RST"), (ev.FIN, "FIN")) if flags & bit]
    return ", ".join(names)


def summary(e: ev.MonitorEvent) -> str:
    """The connection summary: `ip:port -> ip:port tcp SYN`, `ip -> ip EchoRequest` …"""
    s, d = e.src, e.dst
    if e.proto == ev.TCP:
        flags = _flags(e.tcp_flags)
        return f"{s.ip}:{s.port} -> {d.ip}:{d.port} tcp" + (f" {flags}" if flags else "")
    if e.proto in (ev.UDP, ev.SCTP):
        return f"{s.ip}:{s.port} -> {d.ip}:{d.port} {PROTO_NAMES[e.proto]}"
    if e.proto == ev.ICMP:
        return f"{s.ip} -> {d.ip} {ICMP_TYPES.get(e.icmp_type, str(max(e.icmp_type, 0)))}"
    return f"{s.ip} -> {d.ip}"


def _hash(e: ev.MonitorEvent) -> int:
    a, b = (e.src.ip, e.src.port), (e.dst.ip, e.dst.port)
    lo, hi = sorted((a, b))
    return zlib.crc32(f"{e.proto}|{lo[0]}|{lo[1]}|{hi[0]}|{hi[1]}".encode())


def _cgroup(e: ev.MonitorEvent) -> int:
    return 4000 + zlib.crc32(e.src.ip.encode()) % 10000


def _layers(e: ev.MonitorEvent, length: int) -> list[str]:
    ip_len = length - 14
    layers = [f"Ethernet\t{{Contents=[..14..] Payload=[..{ip_len}..] EthernetType=IPv4 Length=0}}",
              f"IPv4\t{{Contents=[..20..] Payload=[..{ip_len - 20}..] Version=4 IHL=5 TOS=0 Length={ip_len} Id=0 "
              f"Flags=DF FragOffset=0 TTL=64 Protocol={PROTO_NAMES.get(e.proto, 'ICMPv4').upper()} "
              f"SrcIP={e.src.ip} DstIP={e.dst.ip} Options=[] Padding=[]}}"]
    if e.proto == ev.TCP:
        f = e.tcp_flags
        layers.append(f"TCP\t{{Contents=[..{ip_len - 20}..] Payload=[] SrcPort={e.src.port} DstPort={e.dst.port} "
                      f"FIN={str(bool(f & ev.FIN)).lower()} SYN={str(bool(f & ev.SYN)).lower()} "
                      f"RST={str(bool(f & ev.RST)).lower()} PSH={str(bool(f & ev.PSH)).lower()} "
                      f"ACK={str(bool(f & ev.ACK)).lower()} URG=false ECE=false CWR=false NS=false Window=64240 "
                      f"Urgent=0 Options=[] Padding=[]}}")
    elif e.proto == ev.UDP:
        layers.append(f"UDP\t{{Contents=[..8..] Payload=[..{ip_len - 28}..] SrcPort={e.src.port} "
                      f"DstPort={e.dst.port} Length={ip_len - 20}}}")
    return layers


# -- the command ----------------------------------------------------------------------------------
def start_monitor(lab, node: str, args: list[str], out) -> MonitorSession:
    """Open a `cilium-dbg monitor ARGS` on `node`, printing to `out` until `stop()`."""
    return MonitorSession(lab, node, parse(args), out).start()


def run(dbg: Dbg, args: list[str]) -> int:
    opts = parse(args)
    session = MonitorSession(dbg.lab, dbg.node, opts, dbg.out).start()
    try:
        if dbg.sleep is not None:
            while True:
                dbg.sleep(0.2)  # raises at the exec's deadline (or on Ctrl-C in the served lab)
        clock = dbg.lab.clock
        if dbg.deadline is not None and dbg.deadline > clock.now():
            clock.sleep(dbg.deadline - clock.now())
    finally:
        session.stop()
    return 0
