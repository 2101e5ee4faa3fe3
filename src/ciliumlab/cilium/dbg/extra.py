"""`cilium-dbg config [-a]`, `bpf nat list`, `bpf fs show`, `policy selectors`, `map list|events`,
`metrics list`, `cgroups list`, `statedb dump`: read from the node's live lab state."""

from __future__ import annotations

import json
import re

from .common import BPF_GLOBALS, Dbg, Fatal, UsageError, endpoints, go_json
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
    # bpf_nat_list.go: fmt.Println(DumpEntriesWithTimeDiff(map)) per opened map (IPv4 here; the
    # IPv6 map is nil without IPv6), so the dump always ends with an empty line.
    dbg.write("".join(line + "\n" for line in nat_lines(dbg)) + "\n")
    return 0


def run_fs(dbg: Dbg, args: list[str]) -> int:
    if not args or args[0] != "show":
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} bpf fs"', "bpf fs")
    # bpf_fs_show.go: tabwriter.NewWriter(os.Stdout, 2, 0, 3, ' ', 0), fields of /proc/self/mountinfo
    w = TabWriter(dbg.out, minwidth=2)
    for label, value in (("MountID", "1017"), ("ParentID", "1006"), ("Mounted State", "true"),
                         ("MountPoint", "/sys/fs/bpf"), ("MountOptions", "rw,relatime"),
                         ("OptionFields", "[master:11]"), ("FilesystemType", "bpf"), ("MountSource", "bpf"),
                         ("SuperOptions", "rw,mode=700")):
        w.write(f"{label}:\t{value}\n")
    w.flush()
    return 0


# -- maps --------------------------------------------------------------------------------------
def _maps(dbg: Dbg) -> list[tuple[str, int, bool]]:
    """(map name, entries in the agent's userspace cache, cache enabled) for the maps the lab models.

    `map list` counts the *cache* (what the agent wrote), not the kernel map: conntrack maps
    have no cache (`ctmap.newMap` does not call `WithCache`), the SNAT map's cache stays empty
    because the datapath creates its entries, and per-CPU metrics are not cached."""
    lab = dbg.lab
    eps = endpoints(dbg)
    from .service import frontends

    fes = frontends(dbg)
    slots = sum(1 + len(fe.backends) for fe in fes)
    backends = {b.id for fe in fes for b in fe.backends}
    maps = [("cilium_ipcache_v2", len(lab.ipcache.entries()), True), ("cilium_lxc", len(eps) - 1, True),
            ("cilium_ct4_global", 0, False), ("cilium_ct_any4_global", 0, False),
            ("cilium_snat_v4_external", 0, True), ("cilium_lb4_services_v2", slots, True),
            ("cilium_lb4_backends_v3", len(backends), True), ("cilium_lb4_reverse_nat", len({fe.id for fe in fes}), True),
            ("cilium_metrics", 0, False), ("cilium_runtime_config", 1, True), ("cilium_tunnel_map", 0, True)]
    from .bpf import policy_entries

    for ep in eps:
        maps.append((f"cilium_policy_v2_{ep.id:05d}", len(policy_entries(dbg, ep)), True))
    return maps


def _event_buffers(dbg: Dbg) -> set[str]:
    """Maps named in `bpf-map-event-buffers` (`name=size,ttl;...`): only those keep events."""
    raw = _cfg(dbg).get("bpf-map-event-buffers", "")
    return {part.split("=", 1)[0].strip() for part in re.split(r"[;\s]+", raw) if part.strip()}


def _print_map_entries(dbg: Dbg, name: str, count: int, cached: bool) -> None:
    """map_get.go's printMapEntries: the agent's userspace cache of one map."""
    if not cached:
        dbg.write("Cache is disabled\n\n")
    elif count == 0:
        dbg.write("Cache is empty\n\n")
    else:
        w = TabWriter(dbg.out)
        w.write("Key\tValue\tState\tError\n")
        for key, value in _cache_entries(dbg, name):
            w.write(f"{key}\t{value}\tsync\t\n")
        w.flush()


def run_map(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError(f'missing subcommand for "{dbg.name} map"', "map")
    sub, rest = args[0], args[1:]
    names = [a for a in rest if not a.startswith("-")]
    if sub in ("list", "ls"):
        for a in rest:
            if a.startswith("-") and not a.startswith("--") and a not in ("-o", "-h"):
                raise UsageError(f"unknown shorthand flag: {a[1]!r} in {a}", "map list")
        if "--verbose" in rest:
            # map_list.go printMapListVerbose: `## Map: <name>`, printMapEntries, an empty line
            for name, count, cached in _maps(dbg):
                dbg.write(f"## Map: {name}\n")
                _print_map_entries(dbg, name, count, cached)
                dbg.write("\n")
            return 0
        w = TabWriter(dbg.out)
        w.write("Name\tNum entries\tNum errors\tCache enabled\n")
        for name, count, cached in _maps(dbg):
            w.write(f"{name}\t{count}\t0\t{'true' if cached else 'false'}\n")
        w.flush()
        return 0
    if sub == "events":
        if not names:
            raise Fatal("map name must be specified")
        # GET /map/{name}/events answers 404 for an unknown map and for a map without an
        # events buffer; map_event_list.go wraps it in Fatalf("could not get map name events: %s")
        if names[0] not in {n for n, _, _ in _maps(dbg)} or names[0] not in _event_buffers(dbg):
            raise Fatal("could not get map name events: [GET /map/{name}/events][404] getMapNameEventsNotFound ")
        return 0
    if sub == "get":
        if not names:
            raise Fatal("map name must be specified")
        found = {n: (c, cached) for n, c, cached in _maps(dbg)}
        if names[0] not in found:
            raise Fatal("[GET /map/{name}][404] getMapNameNotFound ")
        _print_map_entries(dbg, names[0], *found[names[0]])
        return 0
    raise UsageError(f'unknown command "{sub}" for "{dbg.name} map"', "map")


def _cache_entries(dbg: Dbg, name: str) -> list[tuple[str, str]]:
    """Key/value strings of a cached map, for the maps whose `String()` forms were checked
    (lb4 reverse NAT and backends, pkg/loadbalancer/maps/types.go); others list no rows."""
    from .service import frontends

    fes = frontends(dbg)
    if name == "cilium_lb4_reverse_nat":
        seen: dict[int, str] = {}
        for fe in fes:
            seen.setdefault(fe.id, f"{fe.ip}:{fe.port}")
        return [(str(i), seen[i]) for i in sorted(seen)]
    if name == "cilium_lb4_backends_v3":
        from .service import PROTO_NAMES

        out: dict[int, str] = {}
        for fe in fes:
            for b in fe.backends:
                out.setdefault(b.id, f"{PROTO_NAMES.get(fe.proto, 'ANY')}://{b.ip}")
        return [(str(i), out[i]) for i in sorted(out)]
    return []


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
    """cgroups_list.go: `POD NAME  POD NAMESPACE  CGROUP IDS` (each cell tab-terminated), one
    row per container, further containers of a pod with empty name/namespace; `--no-headers`."""
    if not args or args[0] not in ("list", "ls"):
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} cgroups"', "cgroups")
    pods = [p for p in dbg.lab.list("pod", None) if (p.get("spec") or {}).get("nodeName") == dbg.node]
    pods.sort(key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"]))
    if any(a.startswith("-o") or a.startswith("--output") for a in args[1:]):
        metas = [{"containers": [{"cgroup-id": cid} for cid in _cgroup_ids(p)], "ip-addresses": _pod_ips(p),
                  "name": p["metadata"]["name"], "namespace": p["metadata"].get("namespace", "")} for p in pods]
        dbg.write(go_json(metas) + "\n")
        return 0
    w = TabWriter(dbg.out)
    if "--no-headers" not in args:
        w.write("POD NAME\tPOD NAMESPACE\tCGROUP IDS\t\n")
    for p in pods:
        for i, cid in enumerate(_cgroup_ids(p)):
            if i == 0:
                w.write(f"{p['metadata']['name']}\t{p['metadata'].get('namespace', '')}\t{cid}\t\n")
            else:
                w.write(f"\t\t{cid}\t\n")
    w.flush()
    return 0


def _cgroup_ids(pod: dict) -> list[int]:
    """A stable cgroup v2 id (the cgroup directory's inode) per running container."""
    import hashlib

    out = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        cid = str(cs.get("containerID") or "")
        if not cid:
            continue
        out.append(4096 + int(hashlib.sha256(cid.encode()).hexdigest()[:8], 16) % 60000)
    return out


def _pod_ips(pod: dict) -> list[str]:
    return [i["ip"] for i in (pod.get("status") or {}).get("podIPs") or [] if i.get("ip")]


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
    """The selector cache key: the slim `LabelSelector.String()` (gogo-generated), e.g.
    `&LabelSelector{MatchLabels:map[string]string{any.org: empire,},MatchExpressions:[]LabelSelectorRequirement{},}`
    (map keys sorted, each `k: v,`; expressions `LabelSelectorRequirement{Key:..,Operator:..,Values:[a b],},`)."""
    labels, exprs = {}, []
    for r in selector.reqs:
        key = f"{r.source}.{r.key}"
        if r.op in ("=", "==", "Equals", "EQ") or (r.op == "In" and len(r.values) == 1):
            labels[key] = next(iter(r.values), "")
        else:
            vals = " ".join(sorted(r.values))
            exprs.append(f"LabelSelectorRequirement{{Key:{key},Operator:{r.op},Values:[{vals}],}},")
    ml = "".join(f"{k}: {v}," for k, v in sorted(labels.items()))
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{ml}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{''.join(exprs)}}},}}")


def _peer_selectors(dbg: Dbg) -> list[tuple[object, list[tuple[str, ...]]]]:
    """The peer selectors (`policy selectors`; subjects are `policy subject-selectors`) with the
    label arrays of the rules using each, one array per using rule item."""
    users: dict[int, tuple[object, list[tuple[str, ...]]]] = {}
    for rules in dbg.lab.policy.objects().values():
        for rule in rules:
            for item in rule.items:
                for cs in item.peer_cs:
                    users.setdefault(id(cs), (cs, []))[1].append(tuple(rule.ref.labels))
    return list(users.values())


def _subject_selectors(dbg: Dbg) -> list[tuple[object, list[tuple[str, ...]]]]:
    users: dict[int, tuple[object, list[tuple[str, ...]]]] = {}
    for rules in dbg.lab.policy.objects().values():
        for rule in rules:
            if rule.subject_cs is not None:
                users.setdefault(id(rule.subject_cs), (rule.subject_cs, []))[1].append(tuple(rule.ref.labels))
    return list(users.values())


def _label_value(labels: tuple[str, ...], key: str) -> str:
    for text in labels:
        if text.startswith(f"k8s:{key}="):
            return text.split("=", 1)[1]
    return ""


def run_selectors(dbg: Dbg, args: list[str], subject: bool = False) -> int:
    """policy_selectors.go: rows sorted by selector; LABELS = `namespace/name` of the using
    policies (`-v`: the full label arrays); USERS; IDENTITIES one per line (`\t\t\t%d\t`)."""
    verbose = any(a in ("-v", "--verbose") for a in args)
    entries = _subject_selectors(dbg) if subject else _peer_selectors(dbg)
    rows = sorted(((_selector_text(cs.selector), cs, lbls) for cs, lbls in entries), key=lambda r: r[0])
    w = TabWriter(dbg.out)
    w.write("SELECTOR\tLABELS\tUSERS\tIDENTITIES\n")
    for text, cs, lbls in rows:
        uniq = list(dict.fromkeys(lbls))
        if verbose:
            col = "[" + " ".join("[" + " ".join(sorted(la)) + "]" for la in uniq) + "]" if uniq else ""
        else:
            names = []
            for la in uniq:
                ns = _label_value(la, "io.cilium.k8s.policy.namespace")
                if ns:
                    names.append(f"{ns}/{_label_value(la, 'io.cilium.k8s.policy.name')}")
            col = ",".join(names)
        w.write(f"{text}\t{col}\t{len(lbls)}")
        ids = sorted(cs.ids)
        if not ids:
            w.write("\t\n")
        for i, ident in enumerate(ids):
            w.write(f"\t{ident}\t\n" if i == 0 else f"\t\t\t{ident}\t\n")
    w.flush()
    return 0


__all__ = ["BPF_GLOBALS", "run_cgroups", "run_config", "run_fs", "run_map", "run_metrics", "run_nat",
           "run_selectors", "run_statedb"]
