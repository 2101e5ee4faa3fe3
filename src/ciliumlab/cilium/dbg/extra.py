"""`cilium-dbg config [-a]`, `bpf nat list`, `bpf fs show`, `policy selectors`, `map list|events`,
`metrics list`, `cgroups list`, `statedb dump`: read from the node's live lab state."""

from __future__ import annotations

import json
import re

from .common import BPF_GLOBALS, Dbg, Fatal, UsageError, endpoints
from .tabwriter import TabWriter

RW_OPTIONS = ("ConntrackAccounting", "Debug", "DebugLB", "DropNotification", "MonitorAggregationLevel",
              "PolicyAccounting", "PolicyAuditMode", "PolicyTracing", "PolicyVerdictNotification",
              "SourceIPVerification", "TraceNotification")


def _cfg(dbg: Dbg) -> dict:
    cm = dbg.lab.store.get("ConfigMap", "kube-system", "cilium-config") or {}
    return cm.get("data") or {}


# -- config ------------------------------------------------------------------------------------
def run_config(dbg: Dbg, args: list[str]) -> int:
    cfg = _cfg(dbg)
    audit = dbg.lab.policy_config.audit_mode
    rw = {k: "Enabled" for k in RW_OPTIONS}
    rw.update({"ConntrackAccounting": "Disabled", "Debug": "Disabled", "DebugLB": "Disabled",
               "MonitorAggregationLevel": cfg.get("monitor-aggregation", "medium").capitalize(),
               "PolicyAuditMode": "Enabled" if audit else "Disabled", "PolicyTracing": "Disabled"})
    if "-a" in args or "--all" in args:
        dbg.write("##### Read-only configurations #####\n")
        ro = {_camel(k): v for k, v in cfg.items() if "\n" not in v}
        for k in sorted(ro):
            dbg.write(f"{k:<34}: {ro[k]}\n")
        dbg.write(f"{'k8s-configuration':<34}: \n{'k8s-endpoint':<34}: \n")
    dbg.write("##### Read-write configurations #####\n")
    for k in RW_OPTIONS:
        dbg.write(f"{k:<34}: {rw[k]}\n")
    dbg.write(f"{'MonitorNumPages':<34}: 64\n")
    dbg.write(f"{'PolicyEnforcement':<34}: {dbg.lab.policy_config.enforcement_mode}\n")
    return 0


def _camel(key: str) -> str:
    """cilium-config's `enable-ipv4` → DaemonConfig's `EnableIPv4`."""
    special = {"ipv4": "IPv4", "ipv6": "IPv6", "ip": "IP", "bpf": "BPF", "lb": "LB", "k8s": "K8s", "cidr": "CIDR",
               "dns": "DNS", "l7": "L7", "xdp": "XDP", "tls": "TLS", "id": "ID", "api": "API"}
    return "".join(special.get(p, p.capitalize()) for p in key.split("-"))


# -- bpf nat / bpf fs --------------------------------------------------------------------------
def nat_lines(dbg: Dbg) -> list[str]:
    """SNAT entries for masqueraded world traffic, derived from the node's conntrack entries."""
    lab = dbg.lab
    ct = lab.fabric.ct.get(dbg.node)
    if ct is None:
        return []
    local = {ep.ipv4 for ep in endpoints(dbg) if ep.kind == "pod"}
    snat_ip = lab.fabric.nodes[dbg.node].ips[-1]
    now = lab.clock.now()
    names = {6: "TCP", 17: "UDP", 1: "ICMP"}
    lines = []
    for (proto, sip, sport, dip, dport), e in ct.items():
        if e.ingress or sip not in local:
            continue
        ident = lab.ipcache.identity_of(dip, dbg.node)
        if ident not in (2, 9) and ident < (1 << 24):
            continue
        name = names.get(proto, str(proto))
        age = int(max(0.0, now - e.created))
        lines.append(f"{name} OUT {sip}:{sport} -> {dip}:{dport} XLATE_SRC {snat_ip}:{sport} "
                     f"Created={age}sec ago NeedsCT=1")
        lines.append(f"{name} IN {dip}:{dport} -> {snat_ip}:{sport} XLATE_DST {sip}:{sport} "
                     f"Created={age}sec ago NeedsCT=1")
    return lines


def run_nat(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf nat"', "bpf nat")
    for line in nat_lines(dbg):
        dbg.write(line + "\n")
    return 0


def run_fs(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] != "show":
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf fs"', "bpf fs")
    dbg.write("MountID:          1017\nParentID:         1006\nMounted State:    true\n"
              "MountPoint:       /sys/fs/bpf\nMountOptions:     rw,relatime\nOptionFields:     [master:11]\n"
              "FilesystemType:   bpf\nMountSource:      bpf\nSuperOptions:     rw,mode=700\n")
    return 0


# -- maps --------------------------------------------------------------------------------------
def _maps(dbg: Dbg) -> list[tuple[str, int]]:
    """(map name, live entries) for the node's maps the lab models."""
    lab = dbg.lab
    ct = lab.fabric.ct.get(dbg.node)
    n_ct = len(ct) if ct is not None else 0
    eps = endpoints(dbg)
    maps = [("cilium_ipcache_v2", len(lab.ipcache.entries())), ("cilium_lxc", len(eps) - 1),
            ("cilium_ct4_global", n_ct), ("cilium_ct_any4_global", 0), ("cilium_snat_v4_external", len(nat_lines(dbg))),
            ("cilium_lb4_services_v2", len(lab.fabric.lb.frontends())),
            ("cilium_metrics", 0), ("cilium_runtime_config", 1), ("cilium_tunnel_map", 0)]
    from .bpf import policy_entries

    for ep in eps:
        maps.append((f"cilium_policy_v2_{ep.id:05d}", len(policy_entries(dbg, ep))))
    return maps


def run_map(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError(f'missing subcommand for "{dbg.name} map"', "map")
    sub, rest = args[0], args[1:]
    if sub in ("list", "ls"):
        verbose = "--verbose" in rest or "-v" in rest
        if verbose:
            for name, count in _maps(dbg):
                dbg.write(f"## Map: {name}\n")
                dbg.write("Key\tValue\tState\tError\n" if count else "Cache is empty\n")
                dbg.write("\n")
            return 0
        w = TabWriter(dbg.out)
        w.write("Name\tNum entries\tNum errors\tCache enabled\n")
        for name, count in _maps(dbg):
            w.write(f"{name}\t{count}\t0\ttrue\n")
        w.flush()
        return 0
    if sub == "events":
        names = [a for a in rest if not a.startswith("-")]
        if not names:
            raise UsageError("map name must be specified", "map events")
        if names[0] not in {n for n, _ in _maps(dbg)}:
            raise Fatal(f"Cannot get map {names[0]}: [GET /map/{{name}}/events][404] getMapNameEventsNotFound ")
        return 0
    if sub == "get":
        names = [a for a in rest if not a.startswith("-")]
        if names and names[0] in {n for n, _ in _maps(dbg)}:
            dbg.write("Key\tValue\tState\tError\n")
            return 0
    raise UsageError(f'unknown command "{sub}" for "{dbg.name} map"', "map")


# -- metrics / cgroups / statedb ---------------------------------------------------------------
def run_metrics(dbg: Dbg, args: list[str]) -> int:
    """`metrics list [-p REGEX]`: the agent's own registry (what :9962 serves), counters and gauges."""
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} metrics"', "metrics")
    pattern = None
    for i, a in enumerate(args):
        if a in ("-p", "--match-pattern") and i + 1 < len(args):
            pattern = args[i + 1]
        elif a.startswith("--match-pattern="):
            pattern = a.split("=", 1)[1]
    try:
        regex = re.compile(pattern) if pattern is not None else None
    except re.error as exc:
        dbg.err.write(f"Error: Cannot compile the pattern: {exc}\n")
        return 1
    lines = []
    for family in dbg.lab.metrics.agents[dbg.node].registry.collect():
        if family.type not in ("counter", "gauge", "unknown"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created") or (regex is not None and not regex.search(sample.name)):
                continue
            labels = " ".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            lines.append(f"{sample.name}\t{labels}\t{float(sample.value):f}\n")
    w = TabWriter(dbg.out)
    w.write("Metric\tLabels\tValue\n")
    for line in sorted(lines):
        w.write(line)
    w.flush()
    return 0


def run_cgroups(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} cgroups"', "cgroups")
    w = TabWriter(dbg.out)
    w.write("Cgroup Id\tCgroup Path\tPod Name\tNamespace\tContainer Name\n")
    for ep in endpoints(dbg):
        if ep.kind != "pod":
            continue
        uid = ep.pod_uid.replace("-", "_")
        path = f"/run/cilium/cgroupv2/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid}.slice"
        w.write(f"{4000 + ep.id}\t{path}\t{ep.pod_name}\t{ep.namespace}\t\n")
    w.flush()
    return 0


def run_statedb(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] != "dump":
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} statedb"', "statedb")
    lab = dbg.lab
    eps = endpoints(dbg)
    tables = {
        "devices": [{"Index": i.index, "Name": i.name, "HardwareAddr": i.mac, "MTU": i.mtu,
                     "Addrs": [{"Addr": a.split("/")[0]} for a in i.addresses], "Selected": i.name in ("eth0", "eth1")}
                    for i in lab.net.node_interfaces(dbg.node)],
        "routes": [{"Dst": r.destination, "Gw": r.gateway or "", "Dev": r.device, "Src": r.source or ""}
                   for r in lab.net.node_routes(dbg.node)],
        "endpoints": [{"ID": ep.id, "IPv4": ep.ipv4, "Identity": ep.identity, "Labels": ep.labels} for ep in eps],
        "node-addresses": [{"Addr": ip, "NodePort": True, "Primary": n == 0, "DeviceName": dev}
                           for n, (ip, dev) in enumerate(zip(lab.fabric.nodes[dbg.node].ips, ("eth1", "eth0"),
                                                             strict=False))],
    }
    dbg.write(json.dumps(tables, indent=2) + "\n")
    return 0


# -- policy selectors ----------------------------------------------------------------------------
def _selector_text(selector) -> str:
    labels, exprs = [], []
    for r in selector.reqs:
        key = f"{r.source}.{r.key}"
        if r.op == "In" and len(r.values) == 1 or r.op in ("=", "==", "Equals", "EQ"):
            labels.append(f"{key}: {next(iter(r.values), '')}")
        elif len(r.values) == 1 and r.op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            labels.append(f"{key}: {next(iter(r.values))}")
        else:
            vals = ",".join(sorted(r.values))
            exprs.append(f"LabelSelectorRequirement{{Key:{key},Operator:{r.op},Values:[{vals}],}}")
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{','.join(labels)}{',' if labels else ''}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{','.join(exprs)}}},}}")


def run_selectors(dbg: Dbg, args: list[str]) -> int:
    cache = dbg.lab.policy.selector_cache
    w = TabWriter(dbg.out)
    w.write("SELECTOR\tLABELS\tUSERS\tIDENTITIES\n")
    for cs in sorted(cache._selectors.values(), key=lambda c: _selector_text(c.selector)):
        ids = sorted(cs.ids)
        text = _selector_text(cs.selector)
        w.write(f"{text}\t\t{cs.refs}\t{ids[0] if ids else ''}\n")
        for i in ids[1:]:
            w.write(f"\t\t\t{i}\n")
    w.flush()
    return 0


__all__ = ["BPF_GLOBALS", "run_cgroups", "run_config", "run_fs", "run_map", "run_metrics", "run_nat",
           "run_selectors", "run_statedb"]
