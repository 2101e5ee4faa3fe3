"""The agent's control-plane counters, fed by the object store the way its watchers are fed by
the API server.

An agent starts by listing what it watches (one `create` event per existing object, one LIST
call per resource) and then counts every watch event: `cilium_kubernetes_events_received_total`
(`equal="true"` when only server-owned fields changed), `cilium_kubernetes_events_total` for
the ones it acted on, node events from CiliumNodes, policy changes and their outcome (the
repository's import result, read once the lab has reconciled), the identity-triggered policy
updates, the endpoints it creates (regeneration, the CNI's API calls, its CiliumEndpoint
writes), and the service frontends its load-balancer programs (`add`/`update`/`delete`).

Scopes are Cilium's: Pods and the Node only for this agent's node, everything else cluster-wide.
Clock-driven work (controllers, the health daemon's polls of the API) is accounted per
elapsed minute of lab time when the agent is scraped.
"""

from __future__ import annotations

import threading

from prometheus_client.registry import Collector

from ..dbg.common import Dbg
from ..dbg.service import frontends
from ..policy.types import KIND_CCNP, KIND_CNP, KIND_KNP
from .series import CounterVec, HistogramVec

ACTIONS = {"ADDED": "create", "MODIFIED": "update", "DELETED": "delete"}
POLICY_KINDS = (KIND_CNP, KIND_CCNP, KIND_KNP)

# kind -> (metrics scope, collection path the watcher lists/watches)
WATCHED = {
    "Pod": ("Pod", "/api/v1/pods"),
    "Node": ("Node", "/api/v1/nodes"),
    "Namespace": ("Namespace", "/api/v1/namespaces"),
    "Service": ("Service", "/api/v1/services"),
    "EndpointSlice": ("EndpointSlice", "/apis/discovery.k8s.io/v1/endpointslices"),
    KIND_KNP: ("NetworkPolicy", "/apis/networking.k8s.io/v1/networkpolicies"),
    KIND_CNP: ("CiliumNetworkPolicy", "/apis/cilium.io/v2/ciliumnetworkpolicies"),
    KIND_CCNP: ("CiliumClusterwideNetworkPolicy", "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies"),
    "CiliumNode": ("CiliumNode", "/apis/cilium.io/v2/ciliumnodes"),
    "CiliumEndpoint": ("CiliumEndpoint", "/apis/cilium.io/v2/ciliumendpoints"),
    "CiliumIdentity": ("CiliumIdentity", "/apis/cilium.io/v2/ciliumidentities"),
}
IGNORED_META = ("resourceVersion", "managedFields", "generation")
STATUS_IGNORED = {"Service", "Namespace", "Node", KIND_KNP, KIND_CNP, KIND_CCNP, "CiliumIdentity"}

# Span durations (seconds) the lab reports for one endpoint regeneration; a first build
# compiles and loads the BPF programs, a policy-triggered one only recomputes and syncs maps.
REGEN_SPANS = {"waitingForLock": 0.0002, "waitingForCTClean": 0.0001, "policyCalculation": 0.004,
               "proxyConfiguration": 0.0003, "proxyPolicyCalculation": 0.0005, "proxyWaitForAck": 0.0002,
               "mapSync": 0.0015, "prepareBuild": 0.0008}
BUILD_SPANS = {"bpfCompilation": 0.9, "bpfWaitForELF": 0.95, "bpfWriteELF": 0.01, "bpfLoadProg": 0.06}
API_SECONDS = {("PUT", "/v1/endpoint"): 1.2, ("DELETE", "/v1/endpoint"): 0.05, ("GET", "/v1/config"): 0.002,
               ("GET", "/v1/cluster/nodes"): 0.001}
K8S_CALL_SECONDS = 0.004
IDENTITY_TRIGGER = "one or more identities created or deleted"
CONTROLLERS_BASE = 38  # agent-wide controllers (cilium-dbg status: Controller Status)
TICK = 60.0  # controllers and the health daemon's API polls run about once a minute


def _essence(obj: dict, drop_status: bool) -> tuple:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in IGNORED_META}
    rest = {k: v for k, v in obj.items() if k != "metadata" and not (drop_status and k == "status")}
    return meta, rest


class ControlPlaneStats(Collector):
    """Store-fed counters of one node's agent. `sync()` settles what can only be read after the
    lab reconciled (policy outcomes, load-balancer changes, elapsed controller runs)."""

    def __init__(self, lab, node: str) -> None:
        self.lab = lab
        self.node = node
        self._lock = threading.RLock()
        self.received = CounterVec("cilium_kubernetes_events_received_total")
        self.processed = CounterVec("cilium_kubernetes_events_total")
        self.api_calls = CounterVec("cilium_k8s_client_api_calls_total")
        self.api_latency = HistogramVec("cilium_k8s_client_api_latency_time_seconds")
        self.node_events = CounterVec("cilium_nodes_all_events_received_total")
        self.policy_change = CounterVec("cilium_policy_change_total", preset=(("success",), ("failure",)))
        self.import_errors = CounterVec("cilium_policy_import_errors_total", preset=((),))
        self.triggers = CounterVec("cilium_triggers_policy_update_total")
        self.trigger_duration = HistogramVec("cilium_triggers_policy_update_call_duration_seconds")
        self.regenerations = CounterVec("cilium_endpoint_regenerations_total", preset=(("success",), ("failure",)))
        self.regen_time = HistogramVec("cilium_endpoint_regeneration_time_stats_seconds")
        self.agent_api = HistogramVec("cilium_agent_api_process_time_seconds")
        self.services = CounterVec("cilium_services_events_total")
        self.controller_runs = CounterVec("cilium_controllers_runs_total")
        self.controller_time = HistogramVec("cilium_controllers_runs_duration_seconds")
        self.endpoints_deleted = 0
        self._pending: list[tuple[tuple[str, str, str], str]] = []  # policy changes awaiting their outcome
        self._frontends: dict[int, tuple] = {}
        self._lb_stamp: tuple = ()
        self._started = lab.clock.now()
        self._ticks = 0
        self._closed = False
        self._starting = False
        self._start()
        self._unsubscribe = lab.store.subscribe(self._on_event)

    # -- start-up: what the agent lists and programs when it starts ---------------------------
    def _start(self) -> None:
        self._starting = True
        for kind, (_scope, path) in WATCHED.items():
            self._k8s_call("GET", path, "200")
            for obj in self.lab.store.list(kind):
                if self._watches(kind, obj):
                    self._count_event("ADDED", obj, None)
        self._starting = False
        self._run_controllers(1)
        self._diff_frontends()

    def close(self) -> None:
        """Stop watching the store."""
        self._closed = True
        self._unsubscribe()

    # -- the watch ----------------------------------------------------------------------------
    @property
    def host_ip(self) -> str:
        agent = self.lab.cilium.nodes.get(self.node)
        return agent.host.ip if agent is not None else ""

    def _apiserver(self) -> str:
        cp = self.lab.cluster_config.control_plane
        return f"{getattr(cp, 'ip', '') or self.host_ip}:6443"

    def _watches(self, kind: str, obj: dict) -> bool:
        if kind == "Pod":
            return (obj.get("spec") or {}).get("nodeName") == self.node
        if kind == "Node":
            return (obj.get("metadata") or {}).get("name") == self.node
        return kind in WATCHED

    def _on_event(self, event: str, obj: dict, old: dict | None) -> None:
        if self._closed:
            return
        kind = obj.get("kind", "")
        with self._lock:
            if self._pending and event == "MODIFIED" and kind in POLICY_KINDS:
                self._resolve_policies(status_write=(kind, obj))
            if kind in WATCHED:
                now, before = self._watches(kind, obj), old is not None and self._watches(kind, old)
                if event == "MODIFIED" and now != before:
                    # a pod scheduled onto (or away from) this node enters (leaves) the selection
                    self._count_event("ADDED" if now else "DELETED", obj, None)
                elif now or before:
                    self._count_event(event, obj, old)
            self._diff_frontends()

    def _count_event(self, event: str, obj: dict, old: dict | None) -> None:
        kind = obj["kind"]
        scope = WATCHED[kind][0]
        action = ACTIONS[event]
        equal = old is not None and _essence(old, kind in STATUS_IGNORED) == _essence(obj, kind in STATUS_IGNORED)
        self.received.inc(scope, action, "true", "true" if equal else "false")
        if equal:
            return
        self.processed.inc(scope, action, "success")
        meta = obj.get("metadata") or {}
        if kind in POLICY_KINDS:
            changed = old is None or event == "DELETED" or \
                (old.get("metadata") or {}).get("generation") != meta.get("generation")
            if changed:
                key = (kind, meta.get("namespace", "") if kind != KIND_CCNP else "", meta.get("name", ""))
                self._pending.append((key, action))
        elif kind == "CiliumNode":
            source = "local" if meta.get("name") == self.node else "custom-resource"
            self.node_events.inc("delete" if event == "DELETED" else "update", source)
            if meta.get("name") == self.node and event == "MODIFIED":
                self._k8s_call("PUT", f"/apis/cilium.io/v2/ciliumnodes/{self.node}", "200")
        elif kind == "CiliumIdentity" and event in ("ADDED", "DELETED"):
            self._trigger(IDENTITY_TRIGGER)
        elif kind == "CiliumEndpoint":
            self._endpoint_event(event, obj)

    # -- endpoints this agent manages -----------------------------------------------------------
    def _local_cep(self, obj: dict) -> bool:
        networking = (obj.get("status") or {}).get("networking") or {}
        return bool(self.host_ip) and networking.get("node") == self.host_ip

    def _endpoint_event(self, event: str, obj: dict) -> None:
        if not self._local_cep(obj):
            return
        meta = obj["metadata"]
        path = f"/apis/cilium.io/v2/namespaces/{meta.get('namespace', 'default')}/ciliumendpoints"
        if self._starting:  # an endpoint restored at start: regenerated, no CNI call, CEP kept
            self._regenerate(1, build=True)
            return
        if event == "ADDED":
            self._api("GET", "/v1/config", "200")
            self._api("PUT", "/v1/endpoint", "201")
            self._regenerate(1, build=True)
            self._k8s_call("POST", path, "201")
        elif event == "MODIFIED":
            self._k8s_call("PUT", f"{path}/{meta['name']}", "200")
        else:
            self._api("DELETE", "/v1/endpoint", "200")
            self._k8s_call("DELETE", f"{path}/{meta['name']}", "200")
            self.endpoints_deleted += 1

    def _local_endpoint_count(self) -> int:
        records = [r for r in self.lab.cilium.endpoints.values() if r.node == self.node]
        return len(records) + 2  # + host and health endpoints

    def _regenerate(self, count: int, build: bool) -> None:
        if count <= 0:
            return
        self.regenerations.inc("success", amount=count)
        spans = dict(REGEN_SPANS, **(BUILD_SPANS if build else {}))
        for scope, seconds in spans.items():
            self.regen_time.observe(scope, "success", value=seconds, count=count)
        self.regen_time.observe("total", "success", value=sum(spans.values()), count=count)

    def _trigger(self, reason: str) -> None:
        self.triggers.inc(reason)
        self.trigger_duration.observe("duration", value=0.002)
        self.trigger_duration.observe("latency", value=0.0005)

    def _api(self, method: str, path: str, code: str, count: int = 1) -> None:
        self.agent_api.observe(path, method, code, value=API_SECONDS.get((method, path), 0.001), count=count)

    def _k8s_call(self, method: str, path: str, code: str) -> None:
        self.api_calls.inc(self._apiserver(), method, code)
        self.api_latency.observe(path, method, value=K8S_CALL_SECONDS)

    # -- settling after reconcile ---------------------------------------------------------------
    def sync(self) -> None:
        with self._lock:
            self._resolve_policies()
            self._diff_frontends()
            ticks = int((self.lab.clock.now() - self._started) // TICK)
            if ticks > self._ticks:
                self._run_controllers(ticks - self._ticks)
                self._ticks = ticks

    def _run_controllers(self, rounds: int) -> None:
        controllers = CONTROLLERS_BASE + self._local_endpoint_count()
        self.controller_runs.inc("success", amount=rounds * controllers)
        self.controller_time.observe("success", value=0.0008, count=rounds * controllers)
        self._api("GET", "/v1/cluster/nodes", "200", count=rounds)

    def _resolve_policies(self, status_write: tuple[str, dict] | None = None) -> None:
        """Outcome of pending policy changes: once the lab reconciled (at a scrape), or when the
        agent wrote the policy's status (its import was done)."""
        errors = getattr(self.lab.policy, "errors", {})
        keep, resolved_any = [], False
        for key, action in self._pending:
            if status_write is not None:
                kind, obj = status_write
                meta = obj.get("metadata") or {}
                if (kind, meta.get("namespace", "") if kind != KIND_CCNP else "", meta.get("name", "")) != key:
                    keep.append((key, action))
                    continue
            failed = action != "delete" and key in errors
            self.policy_change.inc("fail" if failed else "success")
            if failed:
                self.import_errors.inc()
            else:
                resolved_any = True
        self._pending = keep
        if resolved_any:
            self._regenerate(self._local_endpoint_count(), build=False)

    def _diff_frontends(self) -> None:
        if self.node not in self.lab.cilium.nodes:
            return
        lb = self.lab.fabric.lb
        # the LB swaps in new tables when it rebuilds: skip the walk while they are the same
        stamp = (id(getattr(lb, "_frontends", None)), id(getattr(lb, "_nodeports", None)))
        if stamp == self._lb_stamp and stamp != (id(None), id(None)):
            return
        self._lb_stamp = stamp
        dbg = Dbg(self.lab, self.node, None, None)
        now = {fe.id: (fe.ip, fe.port, fe.proto, tuple((b.ip, b.port, b.ready) for b in fe.backends))
               for fe in frontends(dbg)}
        old = self._frontends
        for fid, sig in now.items():
            if fid not in old:
                self.services.inc("add")
            elif old[fid] != sig:
                self.services.inc("update")
        for fid in old:
            if fid not in now:
                self.services.inc("delete")
        self._frontends = now

    def collect(self) -> list:
        """Scrape: settle first, then every family."""
        self.sync()
        return [c.family() for c in (
            self.received, self.processed, self.api_calls, self.api_latency, self.node_events, self.policy_change,
            self.import_errors, self.triggers, self.trigger_duration, self.regenerations, self.regen_time,
            self.agent_api, self.services, self.controller_runs, self.controller_time)]
