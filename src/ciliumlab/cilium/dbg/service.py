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
    flags = [fe.type]
    if fe.local_only:
        flags.append("InternalLocal")
    if fe.type == "ClusterIP":
        flags.append("non-routable")
    return "[" + ", ".join(flags) + "]"


def run_bpf_lb(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf lb"', "bpf lb")
    rest = args[1:]
    fes = frontends(dbg)
    w = TabWriter(dbg.out)
    if "--revnat" in rest:
        w.write("ID\tSERVICE ADDRESS\n")
        for fe in sorted(fes, key=lambda f: f.id):
            w.write(f"{fe.id}\t{fe.ip}:{fe.port}\n")
        w.flush()
        return 0
    w.write("SERVICE ADDRESS\tBACKEND ADDRESS (REVNAT_ID) (SLOT)\n")
    for fe in sorted(fes, key=lambda f: (f.ip, f.port, f.proto)):
        lines = [f"{addr(b.ip, b.port, fe.proto)} ({fe.id}) ({slot})" for slot, b in enumerate(fe.backends, start=1)]
        lines.append(f"0.0.0.0:0 ({fe.id}) (0) {_flags(fe)}")
        w.write(f"{addr(fe.ip, fe.port, fe.proto)}\t{lines[0]}\n")
        for line in lines[1:]:
            w.write(f"\t{line}\n")
    w.flush()
    return 0
