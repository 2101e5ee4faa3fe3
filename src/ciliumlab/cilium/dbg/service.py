"""`cilium-dbg service list` and `cilium-dbg bpf lb list [--revnat]`: the node's load-balancer."""

from __future__ import annotations

from .common import Dbg, UsageError, go_json
from .tabwriter import TabWriter

PROTO_NAMES = {6: "TCP", 17: "UDP", 132: "SCTP"}


def frontends(dbg: Dbg) -> list:
    """The frontends this node's agent programs: ClusterIPs, NodePorts on its own addresses and
    the `0.0.0.0:<nodePort>` wildcard."""
    lb = dbg.lab.fabric.lb
    own = set(dbg.agent.host.ips)
    out = [f for f in lb.frontends() if f.type != "NodePort" or f.ip in own]
    out.extend(getattr(lb, "_nodeports", {}).values())
    return sorted(out, key=lambda f: f.id)


def addr(ip: str, port: int, proto: int) -> str:
    return f"{ip}:{port}/{PROTO_NAMES.get(proto, str(proto))}"


def backend_state(backend) -> str:
    return "active" if backend.ready else "terminating"


def run_service(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError(f'missing subcommand for "{dbg.name} service"', "service")
    sub, rest = args[0], args[1:]
    if sub not in ("list", "ls"):
        raise UsageError(f'unknown command "{sub}" for "{dbg.name} service"', "service")
    fes = frontends(dbg)
    if any(a.startswith("-o") or a.startswith("--output") for a in rest):
        dbg.write(go_json([_model(f) for f in fes]) + "\n")
        return 0
    w = TabWriter(dbg.out)
    w.write("ID\tFrontend\tService Type\tBackend\t\n")
    for fe in fes:
        backends = [f"{i} => {addr(b.ip, b.port, fe.proto)} ({backend_state(b)})"
                    for i, b in enumerate(fe.backends, start=1)]
        if not backends:
            w.write(f"{fe.id}\t{addr(fe.ip, fe.port, fe.proto)}\t{fe.type}\t\t\n")
            continue
        w.write(f"{fe.id}\t{addr(fe.ip, fe.port, fe.proto)}\t{fe.type}\t{backends[0]}\t\n")
        for line in backends[1:]:
            w.write(f"\t\t\t{line}\t\n")
    w.flush()
    return 0


def _model(fe) -> dict:
    return {"spec": {"backend-addresses": [{"ip": b.ip, "port": b.port, "state": backend_state(b)} for b in fe.backends],
                     "flags": {"name": fe.service, "namespace": fe.namespace, "type": fe.type},
                     "frontend-address": {"ip": fe.ip, "port": fe.port, "protocol": PROTO_NAMES.get(fe.proto, ""),
                                          "scope": "external"},
                     "id": fe.id},
            "status": {"realized": {"id": fe.id}}}


def _flags(fe) -> str:
    """`loadbalancer.ServiceFlags.String()`: the type, then `InternalLocal` (internalTrafficPolicy
    Local), then `non-routable` for ClusterIPs and the `0.0.0.0` NodePort surrogate."""
    flags = [fe.type]
    if fe.local_only:
        flags.append("InternalLocal")
    if fe.type == "ClusterIP" or fe.ip in ("0.0.0.0", "::"):
        flags.append("non-routable")
    return ", ".join(flags)


def _hostport(ip: str, port: int) -> str:
    """Go's `net.JoinHostPort`: IPv6 addresses in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _ip_key(ip: str):
    import ipaddress

    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))


def _table_printer(dbg: Dbg, first: str, second: str, rows: list[tuple[str, list[str]]]) -> None:
    """cilium-dbg's `TablePrinter`: header `first\tsecond\n`, every row `key\tvalue\t\n` (so the
    value column is padded, trailing blanks included), further values of a key with an empty key."""
    w = TabWriter(dbg.out)
    w.write(f"{first}\t{second}\n")
    for key, values in rows:
        for i, value in enumerate(values):
            w.write(f"{key if i == 0 else ''}\t{value}\t\n")
    w.flush()


BACKEND_TITLE = "BACKEND ADDRESS (REVNAT_ID) (SLOT)"


def run_bpf_lb(dbg: Dbg, args: list[str]) -> int:
    """`bpf lb list [--revnat|--backends]` as cilium-dbg/cmd/bpf_lb_list.go prints the maps.

    The default view has one row per service-map key, i.e. per frontend *and* backend slot
    (`Service4Key.String()` = `ip:port/PROTO (slot)`); slot 0 is the master entry. The real
    command iterates a Go map (random order); the lab sorts by frontend address, then slot."""
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf lb"', "bpf lb")
    rest = args[1:]
    fes = sorted(frontends(dbg), key=lambda f: (_ip_key(f.ip), f.port, f.proto))
    if "--revnat" in rest:
        # RevNat4Map: key = rev-NAT id, value = net.JoinHostPort(addr, port); the second title
        # stays the default backend title (bpf_lb_list.go only sets the first one).
        seen: dict[int, str] = {}
        for fe in fes:
            seen.setdefault(fe.id, _hostport(fe.ip, fe.port))
        _table_printer(dbg, "ID", BACKEND_TITLE, [(str(i), [seen[i]]) for i in sorted(seen)])
        return 0
    if "--backends" in rest:
        # Backend4ValueV3.String(): `<PROTO>://<addr>` (no port) keyed by backend id.
        backends: dict[int, str] = {}
        for fe in fes:
            for b in fe.backends:
                backends.setdefault(b.id, f"{PROTO_NAMES.get(fe.proto, 'ANY')}://{b.ip}")
        _table_printer(dbg, "ID", BACKEND_TITLE, [(str(i), [backends[i]]) for i in sorted(backends)])
        return 0
    rows: list[tuple[str, list[str]]] = []
    for fe in fes:
        proto = PROTO_NAMES.get(fe.proto, "ANY")
        front = f"{_hostport(fe.ip, fe.port)}/{proto}"
        any_ip = "[::]" if ":" in fe.ip else "0.0.0.0"
        rows.append((f"{front} (0)", [f"{any_ip}:0 ({fe.id}) (0) [{_flags(fe)}] "]))
        for slot, b in enumerate(fe.backends, start=1):
            rows.append((f"{front} ({slot})", [f"{_hostport(b.ip, b.port)}/{proto} ({fe.id}) ({slot})"]))
    _table_printer(dbg, "SERVICE ADDRESS", BACKEND_TITLE, rows)
    return 0
