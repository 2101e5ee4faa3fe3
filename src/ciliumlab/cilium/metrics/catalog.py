"""What cilium-agent (:9962) and cilium-operator (:9963) export: every metric's name, type, help
text and label names, in one table (spec/hubble/metrics-export.md (b); help texts and label
names as in Cilium's `pkg/metrics`, `pkg/maps/metricsmap`, `pkg/ipam/metrics`).

Collectors build their metric families from here (`family(name)`), so a name is spelled once.
Names are the exposition names: counters end in `_total`, histograms are the base name (the
exposition adds `_bucket`, `_sum`, `_count`).

A few entries are kept although Cilium 1.19 no longer registers them, because the Grafana
dashboards Cilium ships still query them (`LEGACY`); others exist only so the dashboards'
panels have a series in a cluster-pool/CRD lab (`PLACEHOLDER`: kvstore, ENI/EC2 IPAM). Both
lists are exported by the package.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    UnknownMetricFamily,
)

COUNTER, GAUGE, HISTOGRAM, UNTYPED = "counter", "gauge", "histogram", "untyped"

# Prometheus' default histogram buckets (client_golang DefBuckets)
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Spec:
    name: str
    type: str
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = DEFAULT_BUCKETS


def _specs(*items: Spec) -> dict[str, Spec]:
    return {s.name: s for s in items}


AGENT = _specs(
    # -- the BPF metrics map (pkg/maps/metricsmap) ---------------------------------------------
    Spec("cilium_drop_count_total", COUNTER,
         "Total dropped packets, tagged by drop reason and ingress/egress direction", ("reason", "direction")),
    Spec("cilium_drop_bytes_total", COUNTER,
         "Total dropped bytes, tagged by drop reason and ingress/egress direction", ("reason", "direction")),
    Spec("cilium_forward_count_total", COUNTER, "Total forwarded packets, tagged by ingress/egress direction",
         ("direction",)),
    Spec("cilium_forward_bytes_total", COUNTER, "Total forwarded bytes, tagged by ingress/egress direction",
         ("direction",)),
    # -- endpoints -----------------------------------------------------------------------------
    Spec("cilium_endpoint", GAUGE, "Number of endpoints managed by this agent"),
    Spec("cilium_endpoint_state", GAUGE, "Count of all endpoints, tagged by different endpoint states",
         ("endpoint_state",)),
    Spec("cilium_endpoint_regenerations_total", COUNTER,
         "Count of all endpoint regenerations that have completed, tagged by outcome", ("outcome",)),
    Spec("cilium_endpoint_regeneration_time_stats_seconds", HISTOGRAM,
         "Endpoint regeneration time stats labeled by the scope", ("scope", "status")),
    # -- policy --------------------------------------------------------------------------------
    Spec("cilium_policy", GAUGE, "Number of policies currently loaded"),
    Spec("cilium_policy_max_revision", GAUGE, "Highest policy revision number in the agent"),
    Spec("cilium_policy_change_total", COUNTER, "Number of policy changes by outcome", ("outcome",)),
    Spec("cilium_policy_import_errors_total", COUNTER, "Number of times a policy import has failed"),
    Spec("cilium_policy_endpoint_enforcement_status", GAUGE,
         "Number of endpoints labeled by policy enforcement status", ("enforcement",)),
    Spec("cilium_policy_l7_total", COUNTER, "Number of total proxy requests handled", ("rule", "proxy_type")),
    Spec("cilium_policy_l7_denied_total", COUNTER, "Number of total L7 denied requests/responses due to policy"),
    Spec("cilium_policy_l7_forwarded_total", COUNTER, "Number of total L7 forwarded requests/responses"),
    Spec("cilium_policy_l7_received_total", COUNTER, "Number of total L7 received requests/responses"),
    Spec("cilium_policy_l7_parse_errors_total", COUNTER, "Number of total L7 parse errors"),
    Spec("cilium_proxy_redirects", GAUGE, "Number of redirects installed for endpoints, labeled by protocol",
         ("protocol_l7",)),
    Spec("cilium_proxy_upstream_reply_seconds", HISTOGRAM, "Seconds waited to get a reply from a upstream server",
         ("error", "protocol_l7", "scope")),
    Spec("cilium_fqdn_selectors", GAUGE, "Number of registered ToFQDN selectors"),
    Spec("cilium_triggers_policy_update_total", COUNTER,
         "Total number of policy update trigger invocations labeled by reason", ("reason",)),
    Spec("cilium_triggers_policy_update_folds", GAUGE, "Current number of folds"),
    Spec("cilium_triggers_policy_update_call_duration_seconds", HISTOGRAM, "Duration of policy update trigger",
         ("type",)),
    # -- identities, addresses, nodes ----------------------------------------------------------
    Spec("cilium_identity", GAUGE, "Number of identities currently allocated", ("type",)),
    Spec("cilium_ip_addresses", GAUGE, "Number of allocated IP addresses", ("family",)),
    Spec("cilium_ipam_capacity", GAUGE, "Total number of IPs in the IPAM pool labeled by family", ("family",)),
    Spec("cilium_nodes_all_num", GAUGE, "Number of nodes managed"),
    Spec("cilium_nodes_all_events_received_total", COUNTER, "Number of node events received",
         ("event_type", "source")),
    Spec("cilium_unreachable_nodes", GAUGE, "Number of nodes that cannot be reached"),
    Spec("cilium_unreachable_health_endpoints", GAUGE, "Number of health endpoints that cannot be reached"),
    Spec("cilium_version", GAUGE, "Cilium version", ("version", "revision", "arch")),
    # -- datapath ------------------------------------------------------------------------------
    Spec("cilium_datapath_conntrack_gc_entries", GAUGE,
         "The number of alive and deleted conntrack entries at the end of a garbage collector run labeled by "
         "datapath family.", ("family", "protocol", "status")),
    Spec("cilium_datapath_conntrack_dump_resets_total", COUNTER,
         "Number of conntrack dump resets. Happens when a BPF entry gets removed while dumping the map is in "
         "progress", ("area", "name", "family")),
    Spec("cilium_datapath_errors_total", COUNTER,
         "Number of errors that occurred in the datapath or datapath management", ("area", "name", "family")),
    Spec("cilium_services_events_total", COUNTER, "Number of services events labeled by action type", ("action",)),
    Spec("cilium_bpf_map_ops_total", COUNTER, "Total operations on map, tagged by map name",
         ("map_name", "operation", "outcome")),
    Spec("cilium_bpf_map_pressure", GAUGE, "Fill percentage of map, tagged by map name", ("map_name",)),
    Spec("cilium_bpf_map_capacity", GAUGE,
         "Capacity of map, tagged by map group. All maps with a capacity of 65536 are grouped under 'default'",
         ("map_group",)),
    Spec("cilium_bpf_syscall_duration_seconds", HISTOGRAM, "Duration of BPF system calls", ("operation", "outcome")),
    Spec("cilium_bpf_maps_virtual_memory_max_bytes", GAUGE, "BPF maps kernel max memory usage size in bytes."),
    Spec("cilium_bpf_progs_virtual_memory_max_bytes", GAUGE, "BPF programs kernel max memory usage size in bytes."),
    # -- agent internals -----------------------------------------------------------------------
    Spec("cilium_errors_warnings_total", COUNTER, "Number of total errors in cilium-agent instances",
         ("level", "subsystem")),
    Spec("cilium_controllers_runs_total", COUNTER,
         "Number of times that a controller process was run labeled by completion status", ("status",)),
    Spec("cilium_controllers_runs_duration_seconds", HISTOGRAM,
         "Duration in seconds of the controller process labeled by completion status", ("status",)),
    Spec("cilium_controllers_failing", GAUGE, "Number of failing controllers"),
    Spec("cilium_agent_api_process_time_seconds", HISTOGRAM,
         "Duration of processed API calls labeled by path, method and return code.",
         ("path", "method", "return_code")),
    # -- Kubernetes ----------------------------------------------------------------------------
    Spec("cilium_kubernetes_events_received_total", COUNTER,
         "Number of Kubernetes events received labeled by scope, action, valid data and equalness",
         ("scope", "action", "valid", "equal")),
    Spec("cilium_kubernetes_events_total", COUNTER,
         "Number of Kubernetes events processed labeled by scope, action and execution result",
         ("scope", "action", "status")),
    Spec("cilium_k8s_client_api_latency_time_seconds", HISTOGRAM,
         "Duration of processed API calls labeled by path and method.", ("path", "method")),
    Spec("cilium_k8s_client_api_calls_total", COUNTER,
         "Number of API calls made to kube-apiserver labeled by host, method and return code.",
         ("host", "method", "return_code")),
    # -- kvstore (the lab runs in CRD identity mode: no kvstore) --------------------------------
    Spec("cilium_kvstore_operations_duration_seconds", HISTOGRAM, "Duration in seconds of kvstore operations",
         ("scope", "kind", "action", "outcome")),
    Spec("cilium_kvstore_events_queue_seconds", HISTOGRAM, "Seconds waited before a received event was queued",
         ("scope", "action"), (.002, .005, .01, .015, .025, .05, .1, .25, .5, .75, 1.0)),
    Spec("kvstore_operations_total", COUNTER, "Number of kvstore operations (legacy name, pre-1.3 agents)",
         ("scope", "kind", "action", "outcome")),
)

OPERATOR = _specs(
    Spec("cilium_operator_ipam_ips", GAUGE, "Number of IPs allocated", ("type",)),
    Spec("cilium_operator_ipam_nodes", GAUGE, "Number of nodes by category { total | in-deficit | at-capacity }",
         ("category",)),
    Spec("cilium_operator_ipam_available", GAUGE, "Number of interfaces with addresses available"),
    Spec("cilium_operator_ipam_resync_total", COUNTER, "Number of resync operations to synchronize and resolve IP deficit of nodes"),
    # a CounterVec without `_total` in Cilium; exposed untyped so the name stays and promtool is happy
    Spec("cilium_operator_ipam_interface_creation_ops", UNTYPED, "Number of interfaces allocated",
         ("subnet_id", "status")),
    Spec("cilium_operator_ec2_api_duration_seconds", HISTOGRAM, "Duration of interactions with API",
         ("operation", "response_code")),
    Spec("cilium_operator_ec2_api_rate_limit_duration_seconds", HISTOGRAM,
         "Duration of client-side rate limiter blocking", ("operation",)),
)

# Names Cilium 1.19 no longer registers but its shipped dashboards still query.
LEGACY = ("cilium_policy_l7_denied_total", "cilium_policy_l7_forwarded_total", "cilium_policy_l7_received_total",
          "cilium_policy_l7_parse_errors_total", "cilium_policy_import_errors_total", "cilium_datapath_errors_total",
          "kvstore_operations_total")

# Zero-valued series for subsystems the lab does not run (kvstore, AWS ENI IPAM), so dashboard
# panels show 0 instead of "No data". A real agent in CRD mode / an operator in cluster-pool
# mode registers these without any series, or not at all.
PLACEHOLDER = ("cilium_kvstore_operations_duration_seconds", "cilium_kvstore_events_queue_seconds",
               "kvstore_operations_total", "cilium_operator_ipam_interface_creation_ops",
               "cilium_operator_ec2_api_duration_seconds", "cilium_operator_ec2_api_rate_limit_duration_seconds")

ALL = {**AGENT, **OPERATOR}


def family(name: str):
    """An empty metric family for `name` (help and label names from the table)."""
    spec = ALL[name]
    if spec.type == COUNTER:
        return CounterMetricFamily(name, spec.help, labels=spec.labels)
    if spec.type == GAUGE:
        return GaugeMetricFamily(name, spec.help, labels=spec.labels)
    if spec.type == HISTOGRAM:
        return HistogramMetricFamily(name, spec.help, labels=spec.labels)
    return UnknownMetricFamily(name, spec.help, labels=spec.labels)


def gauge(name: str, rows) -> GaugeMetricFamily:
    """A gauge family from `(label values tuple, value)` rows (a bare number for no labels)."""
    fam = family(name)
    if isinstance(rows, int | float):
        rows = [((), rows)]
    for labels, value in rows:
        fam.add_metric(list(labels), float(value))
    return fam
