"""Agent gauges computed at scrape time from the node's live lab state.

They read the same views `cilium-dbg` prints (`endpoint list`, `identity list`, `status`,
`map list`), so a scrape and a `cilium-dbg` run at the same moment agree: `cilium_endpoint`
is the number of `endpoint list` rows (pods, host and health), `cilium_ip_addresses` the IPAM
line of `status`, `cilium_policy_max_revision` the `Revision:` of `policy get`.

Modelled rather than measured (there is no kernel): `cilium_bpf_map_pressure` is the entry
count of a modelled map over its size — shown for the global maps at any fill level (Cilium
hides a map's series while it is under the 10 % threshold; a small lab would show none), for
per-endpoint policy maps only above it; the `*_virtual_memory_max_bytes` gauges are sizes
computed from the maps' dimensions and the number of loaded programs; map operations are the
entries the agent added to / removed from the maps it writes, accounted at each scrape.
"""

from __future__ import annotations

from prometheus_client.registry import Collector

from ..dbg.bpf import policy_entries
from ..dbg.common import Dbg, endpoints
from ..dbg.extra import nat_lines
from ..dbg.status import _commit
from ..identity import LOCAL_SCOPE, MIN_CLUSTER_ID
from . import catalog
from .series import CounterVec, HistogramVec

ARCH = "linux/amd64"

# endpoint states every endpoint passes through while it is created / removed
CREATION_STATES = ("waiting-for-identity", "not-ready", "waiting-to-regenerate", "regenerating", "ready")
REMOVAL_STATES = ("disconnecting", "disconnected")
ENFORCEMENT = ("none", "ingress", "egress", "both", "audit-ingress", "audit-egress", "audit-both")
IDENTITY_TYPES = ("reserved", "cluster_local", "node_local")

# BPF maps the lab models: name -> (max entries, key size, value size); from `cilium-dbg status
# --verbose`'s "BPF Maps" table (dynamic sizing on a small node) and the maps' C structs.
MAPS = {
    "cilium_ct4_global": (131072, 14, 56),
    "cilium_ct_any4_global": (65536, 14, 56),
    "cilium_ipcache_v2": (512000, 40, 24),
    "cilium_lb4_services_v2": (65536, 12, 12),
    "cilium_snat_v4_external": (131072, 14, 40),
    "cilium_lxc": (65535, 20, 48),
    "cilium_metrics": (1024, 8, 16),
}
POLICY_MAP = (16384, 16, 24)  # one per endpoint
POLICY_PRESSURE_THRESHOLD = 0.1  # policy maps report pressure only above this (Cilium's default)
PROG_BYTES = 98304  # one loaded (jited) program
HOST_PROGS, ENDPOINT_PROGS = 6, 2  # cil_from/to_host, netdev, overlay; cil_from/to_container
AGENT_MAP_OPS = ("cilium_ipcache_v2", "cilium_lxc", "cilium_lb4_services_v2")  # maps the agent writes
SYSCALL_SECONDS = 0.000006
PROXY_PROTOCOLS = (6, 17)  # a port rule for ANY gets a TCP and a UDP redirect (no SCTP proxying)


def map_label(name: str) -> str:
    """Metrics name a map by its name without the `cilium_` prefix (`Map.NonPrefixedName`)."""
    return name.removeprefix("cilium_")


class AgentStateCollector(Collector):
    """Scrape-time gauges of one agent, plus the map-operation counters derived from how the
    agent-written maps changed between scrapes."""

    def __init__(self, lab, node: str, metrics_map, controlplane) -> None:
        self.lab = lab
        self.node = node
        self.metrics_map = metrics_map
        self.controlplane = controlplane
        self.map_ops = CounterVec("cilium_bpf_map_ops_total")
        self.syscalls = HistogramVec("cilium_bpf_syscall_duration_seconds")
        self._map_sizes: dict[str, int] | None = None
        self._redirect_protocols: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------------
    def _dbg(self) -> Dbg:
        return Dbg(self.lab, self.node, None, None)

    def _map_entries(self, dbg: Dbg, eps) -> dict[str, int]:
        lab = self.lab
        ct = lab.fabric.ct.get(self.node)
        sizes = {
            "cilium_ct4_global": sum(1 for (proto, *_), _e in (ct.items() if ct else ()) if proto == 6),
            "cilium_ct_any4_global": sum(1 for (proto, *_), _e in (ct.items() if ct else ()) if proto != 6),
            "cilium_ipcache_v2": len(lab.ipcache.entries()),
            "cilium_lb4_services_v2": len(lab.fabric.lb.frontends()),
            "cilium_snat_v4_external": len(nat_lines(dbg)),
            "cilium_lxc": sum(1 for ep in eps if ep.kind != "host"),
            "cilium_metrics": len(self.metrics_map),
        }
        for ep in eps:
            sizes[f"cilium_policy_v2_{ep.id:05d}"] = len(policy_entries(dbg, ep))
        return sizes

    def _account_map_ops(self, sizes: dict[str, int]) -> None:
        """Entries the agent added to / removed from the maps it writes since the last scrape."""
        old = self._map_sizes or {}
        for name, size in sizes.items():
            if name not in AGENT_MAP_OPS and not name.startswith("cilium_policy_v2_"):
                continue
            label = "policy" if name.startswith("cilium_policy_v2_") else map_label(name)
            if name not in old:
                self._op(label, "Create", 1)
            delta = size - old.get(name, 0)
            if delta > 0:
                self._op(label, "Update", delta)
            elif delta < 0:
                self._op(label, "Delete", -delta)
        for name in old:
            if name not in sizes and name.startswith("cilium_policy_v2_"):
                self._op("policy", "Delete", old[name])
        self._map_sizes = sizes

    def _op(self, label: str, operation: str, count: int) -> None:
        self.map_ops.inc(label, operation, "success", amount=count)
        self.syscalls.observe(f"Map{operation}", "success", value=SYSCALL_SECONDS, count=count)

    def _redirects(self, eps) -> dict[str, int]:
        """L7 redirects installed for this node's endpoints: one per (endpoint, direction,
        protocol, port) of an allow entry with L7 rules, counted by parser (`http`, `dns` ...).
        Redirects stay in the metric at 0 once their last one is gone, as the GaugeVec does."""
        counts: dict[str, int] = {}
        if not self.lab.policy_config.enable_l7_proxy:
            return counts
        for ep in eps:
            if ep.kind == "host":
                continue
            pol = self.lab.policy.policy_for(ep.identity)
            seen = set()
            for direction, d in (getattr(pol, "_dirs", None) or {}).items():
                for entry in d.allows:
                    if entry.l7 is None or entry.l4 is None:
                        continue
                    for proto in entry.l4.protos:
                        if proto not in PROXY_PROTOCOLS:
                            continue
                        key = (direction, proto, entry.l4.lo, entry.l7.parser)
                        if key not in seen:
                            seen.add(key)
                            counts[entry.l7.parser] = counts.get(entry.l7.parser, 0) + 1
        return counts

    # -- the collector ---------------------------------------------------------------------------
    def collect(self):
        lab, node = self.lab, self.node
        agent = lab.cilium.nodes.get(node)
        if agent is None:
            return []
        dbg = self._dbg()
        eps = endpoints(dbg)
        out = [catalog.gauge("cilium_endpoint", len(eps))]

        states = dict.fromkeys(CREATION_STATES, 0)
        if self.controlplane.endpoints_deleted:
            states.update(dict.fromkeys(REMOVAL_STATES, 0))
        states["ready"] = len(eps)  # the lab's endpoints are ready once they exist (`endpoint list`)
        out.append(catalog.gauge("cilium_endpoint_state", [((s,), n) for s, n in states.items()]))

        audit = lab.policy_config.audit_mode
        enforcement = dict.fromkeys(ENFORCEMENT, 0)
        for ep in eps:
            mode = ep.policy_enabled
            enforcement[f"audit-{mode}" if audit and mode != "none" else mode] += 1
        out.append(catalog.gauge("cilium_policy_endpoint_enforcement_status",
                                 [((k,), v) for k, v in enforcement.items()]))

        rules = sum(len(r) for r in lab.policy.objects().values())
        out.append(catalog.gauge("cilium_policy", rules))
        out.append(catalog.gauge("cilium_policy_max_revision", lab.policy.revision))
        out.append(catalog.gauge("cilium_fqdn_selectors", len(lab.policy.fqdn_selectors())))

        redirects = self._redirects(eps)
        self._redirect_protocols |= set(redirects)
        out.append(catalog.gauge("cilium_proxy_redirects",
                                 [((p,), redirects.get(p, 0)) for p in sorted(self._redirect_protocols)]))

        identities = dict.fromkeys(IDENTITY_TYPES, 0)
        for ident in lab.allocator.all():
            kind = "reserved" if ident.id < MIN_CLUSTER_ID else "node_local" if ident.id >= LOCAL_SCOPE else "cluster_local"
            identities[kind] += 1
        out.append(catalog.gauge("cilium_identity", [((k,), v) for k, v in identities.items()]))

        out.append(catalog.gauge("cilium_ip_addresses", [(("ipv4",), len(agent.ipam.used()))]))
        out.append(catalog.gauge("cilium_ipam_capacity", [(("ipv4",), max(0, agent.ipam.cidr.num_addresses - 2))]))
        out.append(catalog.gauge("cilium_nodes_all_num", len(lab.cilium.nodes)))
        out.append(catalog.gauge("cilium_unreachable_nodes", 0))
        out.append(catalog.gauge("cilium_unreachable_health_endpoints", 0))
        version = lab.cluster_config.cilium_version
        out.append(catalog.gauge("cilium_version", [((version, _commit(version), ARCH), 1)]))

        ct = lab.fabric.ct.get(node)
        tcp = sum(1 for (proto, *_), _e in (ct.items() if ct else ()) if proto == 6)
        other = (len(ct) if ct else 0) - tcp
        out.append(catalog.gauge("cilium_datapath_conntrack_gc_entries", [
            (("ipv4", "TCP", "alive"), tcp), (("ipv4", "TCP", "deleted"), 0),
            (("ipv4", "non-TCP", "alive"), other), (("ipv4", "non-TCP", "deleted"), 0)]))
        out.append(catalog.gauge("cilium_controllers_failing", 0))
        out.append(catalog.gauge("cilium_triggers_policy_update_folds", 0))

        sizes = self._map_entries(dbg, eps)
        self._account_map_ops(sizes)
        pressure = []
        for name, size in sorted(sizes.items()):
            if name.startswith("cilium_policy_v2_"):
                ratio = size / POLICY_MAP[0]
                if ratio > POLICY_PRESSURE_THRESHOLD:
                    pressure.append(((map_label(name),), ratio))
            elif name in MAPS:
                pressure.append(((map_label(name),), size / MAPS[name][0]))
        out.append(catalog.gauge("cilium_bpf_map_pressure", pressure))
        out.append(catalog.gauge("cilium_bpf_map_capacity", [(("default",), 65536)]))
        policy_maps = sum(1 for n in sizes if n.startswith("cilium_policy_v2_"))
        map_bytes = sum(n * (k + v) for n, k, v in MAPS.values()) + policy_maps * POLICY_MAP[0] * sum(POLICY_MAP[1:])
        out.append(catalog.gauge("cilium_bpf_maps_virtual_memory_max_bytes", map_bytes))
        progs = HOST_PROGS + ENDPOINT_PROGS * sum(1 for ep in eps if ep.kind != "host")
        out.append(catalog.gauge("cilium_bpf_progs_virtual_memory_max_bytes", progs * PROG_BYTES))
        out.append(self.map_ops.family())
        out.append(self.syscalls.family())
        return out
