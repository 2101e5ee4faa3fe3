"""The per-node BPF metrics map (`cilium_metrics`) and the collector the agent reads it with.

In Cilium the datapath bumps `{reason, direction} -> {count, bytes}` entries
(`bpf/lib/metrics.h: update_metrics`) and the agent turns the map into
`cilium_{drop,forward}_{count,bytes}_total` whenever Prometheus scrapes
(`pkg/maps/metricsmap`: reason 0 and the non-drop codes 1..129 are forwards, code 2 and
codes >= 130 are drops). The lab has no BPF, but every packet a node's programs handle is
reported on that node's monitor bus, so the map is fed from there, one update per event, the
way the programs would:

* DROP events: `update_metrics(len, direction, reason)` — the drop's own direction (INGRESS for a
  drop at the destination endpoint's policy, EGRESS at the source's) and reason code, so one
  xwing SYN dropped by the deathstar's ingress policy adds 1 to
  `cilium_drop_count_total{reason="Policy denied",direction="INGRESS"}` on the deathstar's node.
* TRACE events, as `bpf/lib/trace.h: update_trace_metrics` counts them:
  `to-endpoint` (the packet handed to the destination endpoint, after its ingress program)
  -> forward INGRESS; `to-host`, `to-stack`, `to-overlay` (the packet leaving the node's
  endpoint programs towards the host, the stack or the tunnel) -> forward EGRESS;
  `from-overlay`, `from-network` -> INGRESS with reason 3 (plaintext), which the agent also
  reports as a forward. `to-proxy` is not counted (the proxy has its own L7 counters) and
  neither are the other `from-*` points. A `to-endpoint` whose source is another endpoint of
  the same node also counts one EGRESS forward: that packet never leaves through to-stack or
  to-overlay, the source's program hands it over directly (`bpf/lib/l3.h:
  ipv4_local_delivery`, LOCAL_DELIVERY_METRICS).
* Policy verdicts, socket traces and L7 access-log records are not datapath forwards/drops.

The map is the source of truth between scrapes: like the real one it keeps counting whether or
not anybody scrapes, and the collector only reads it.
"""

from __future__ import annotations

import threading

from prometheus_client.registry import Collector

from ...hubble.cli.names import DROP_REASON_TEXT
from ..datapath import events as ev
from . import catalog

DIR_UNKNOWN, DIR_INGRESS, DIR_EGRESS, DIR_SERVICE = 0, 1, 2, 3
DIRECTION_NAMES = {DIR_UNKNOWN: "UNKNOWN", DIR_INGRESS: "INGRESS", DIR_EGRESS: "EGRESS", DIR_SERVICE: "SERVICE"}

REASON_FORWARDED, REASON_PLAINTEXT, REASON_DECRYPT = 0, 3, 4
DROP_INVALID, DROP_MIN = 2, 130
MAX_ENTRIES = 1024  # pkg/maps/metricsmap.MaxEntries

# trace observation point -> (direction, reason) of the map update, or absent when not counted
TRACE_UPDATES = {
    ev.TO_ENDPOINT: (DIR_INGRESS, REASON_FORWARDED),
    ev.TO_HOST: (DIR_EGRESS, REASON_FORWARDED),
    ev.TO_STACK: (DIR_EGRESS, REASON_FORWARDED),
    ev.TO_OVERLAY: (DIR_EGRESS, REASON_FORWARDED),
    ev.FROM_OVERLAY: (DIR_INGRESS, REASON_PLAINTEXT),
    ev.FROM_NETWORK: (DIR_INGRESS, REASON_PLAINTEXT),
}


def is_drop(reason: int) -> bool:
    """metricsmap `Key.IsDrop`."""
    return reason == DROP_INVALID or reason >= DROP_MIN


def drop_reason(reason: int) -> str:
    """monitorAPI.DropReason: the human string, or the bare number for an unknown code."""
    return DROP_REASON_TEXT.get(reason, str(reason))


def direction_name(direction: int) -> str:
    return DIRECTION_NAMES.get(direction, "UNKNOWN")


class MetricsMap:
    """One node's `cilium_metrics` map: (reason, direction) -> [packets, bytes]."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._entries: dict[tuple[int, int], list[int]] = {}
        self._lock = threading.Lock()

    def update(self, reason: int, direction: int, length: int) -> None:
        """`update_metrics(bytes, direction, reason)`."""
        key = (reason & 0xFF, direction)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = [1, length]
            else:
                entry[0] += 1
                entry[1] += length

    def record(self, event: ev.MonitorEvent) -> None:
        """Count one monitor event the way the BPF program that emitted it would (hot path)."""
        etype = event.type
        if etype == ev.TRACE:
            upd = TRACE_UPDATES.get(event.subtype)
            if upd is not None:
                self.update(upd[1], upd[0], event.length)
                if event.subtype == ev.TO_ENDPOINT and event.src.endpoint_id:
                    # endpoint to endpoint on this node: the source's program delivers it straight
                    # to the destination's (`ipv4_local_delivery`) and counts the egress forward
                    self.update(REASON_FORWARDED, DIR_EGRESS, event.length)
        elif etype == ev.DROP:
            reason = event.drop_reason or event.subtype
            direction = event.direction if event.direction in (DIR_INGRESS, DIR_EGRESS) else DIR_UNKNOWN
            self.update(reason, direction, event.length)

    def entries(self) -> dict[tuple[int, int], tuple[int, int]]:
        """A snapshot: (reason, direction) -> (packets, bytes)."""
        with self._lock:
            return {k: (v[0], v[1]) for k, v in self._entries.items()}

    def __len__(self) -> int:
        return len(self._entries)


class MetricsMapCollector(Collector):
    """`metricsmapCollector`: sums the map by label set at scrape time."""

    def __init__(self, metrics_map: MetricsMap) -> None:
        self.map = metrics_map

    def collect(self):
        drops: dict[tuple[str, str], list[int]] = {}
        forwards: dict[str, list[int]] = {}
        for (reason, direction), (packets, size) in sorted(self.map.entries().items()):
            if is_drop(reason):
                acc = drops.setdefault((drop_reason(reason), direction_name(direction)), [0, 0])
            else:
                acc = forwards.setdefault(direction_name(direction), [0, 0])
            acc[0] += packets
            acc[1] += size
        fwd_count, fwd_bytes = catalog.family("cilium_forward_count_total"), catalog.family("cilium_forward_bytes_total")
        for direction, (packets, size) in sorted(forwards.items()):
            fwd_count.add_metric([direction], packets)
            fwd_bytes.add_metric([direction], size)
        drop_count, drop_bytes = catalog.family("cilium_drop_count_total"), catalog.family("cilium_drop_bytes_total")
        for (reason, direction), (packets, size) in sorted(drops.items()):
            drop_count.add_metric([reason, direction], packets)
            drop_bytes.add_metric([reason, direction], size)
        return [fwd_count, fwd_bytes, drop_count, drop_bytes]
