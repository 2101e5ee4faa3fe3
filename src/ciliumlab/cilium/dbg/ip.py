"""`cilium-dbg ip list [-n] [-v]`: the node's view of the IP cache."""

from __future__ import annotations

import ipaddress

from ..identity import HEALTH
from .common import Dbg, UsageError, go_json, identity_labels
from .tabwriter import TabWriter

SOURCES = {"pod": "custom-resource", "health": "custom-resource", "node": "custom-resource", "router": "local"}


def run(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError(f'missing subcommand for "{dbg.name} ip"', "ip")
    sub, rest = args[0], args[1:]
    if sub not in ("list", "ls"):
        raise UsageError(f'unknown command "{sub}" for "{dbg.name} ip"', "ip")
    numeric = any(a in ("-n", "--numeric") for a in rest)
    verbose = any(a in ("-v", "--verbose") for a in rest)
    rows = entries(dbg)
    if any(a.startswith("-o") or a.startswith("--output") for a in rest):
        dbg.write(go_json([{"cidr": c, "identity": i, "hostIP": h, "encryptKey": 0,
                            "metadata": {"source": s}} for c, i, s, h in rows]) + "\n")
        return 0
    w = TabWriter(dbg.out)
    w.write("IP\tIDENTITY\tSOURCE\tHOST\tENCRYPT_KEY\n" if verbose else "IP\tIDENTITY\tSOURCE\n")
    for cidr, ident, src, host in rows:
        labels = [str(ident)] if numeric else (identity_labels(dbg.lab, ident) or [str(ident)])
        for j, label in enumerate(labels):
            if j == 0:
                w.write(f"{cidr}\t{label}\t{src}\t{host}\t0\n" if verbose else f"{cidr}\t{label}\t{src}\n")
            else:
                w.write(f"\t{label}\t\n")
    w.flush()
    return 0


def entries(dbg: Dbg) -> list[tuple[str, int, str, str]]:
    """(cidr, identity, source, host ip) per IP cache entry as this node sees it, sorted."""
    lab, node = dbg.lab, dbg.node
    ipcache = lab.ipcache
    rows: dict[str, tuple[int, str, str]] = {"0.0.0.0/0": (2, "", "")}
    for e in ipcache.entries():
        ident = ipcache.identity_of(e.ip, node)
        host = ""
        if e.kind in ("pod", "health"):
            agent = lab.cilium.nodes.get(e.node)
            host = agent.host.ip if agent is not None and e.node != node else ""
        if e.kind == "health":
            ident = HEALTH
        source = "kube-apiserver" if ident == 7 else SOURCES.get(e.kind, "custom-resource")
        if e.kind in ("node", "router") and e.node == node:
            source = "local"
        rows[f"{e.ip}/32"] = (ident, source, host)
    for prefix, ident in getattr(ipcache, "_prefixes", []):
        rows.setdefault(str(prefix), (ident, "generated", ""))
    return [(cidr, *rows[cidr]) for cidr in sorted(rows, key=_cidr_key)]


def _cidr_key(cidr: str):
    net = ipaddress.ip_network(cidr, strict=False)
    return (net.version, int(net.network_address), net.prefixlen)
