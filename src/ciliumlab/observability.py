"""Glue between the lab and Hubble: one observer per node fed from that node's monitor bus.

Hubble's parser asks the agent who an address is (endpoint, identity labels, pod, workload),
which service an address:port is, and which DNS names an endpoint learned for an IP. This
module answers those questions from the lab's agent state at the moment each event arrives,
so a flow still names a pod after the pod is gone — as in a real cluster.
"""

from __future__ import annotations

from .cilium.datapath import events as ev
from .cilium.identity import RESERVED_NAMES
from .hubble.flow import Enrichment, FlowBuilder
from .hubble.observer import DEFAULT_CAPACITY, LocalObserver
from .hubble.outputs import NodeOutputs
from .hubble.relay import Relay

HUBBLE_PORT = 4244


class HubbleView:
    """Per-node observers plus the relay, kept in step with cilium-config."""

    def __init__(self, lab) -> None:
        self._lab = lab
        self.version = lab.cluster_config.cilium_version
        self.observers: dict[str, LocalObserver] = {}
        self.outputs: dict[str, NodeOutputs] = {}
        self._endpoints: dict[tuple, dict] = {}
        self._services: dict[tuple[str, int], dict | None] = {}
        self._generation = -1
        self._interned: dict[tuple, Enrichment] = {}
        for node in lab.nodes:
            builder = FlowBuilder(node, self._node_labels(node), self.version)
            observer = LocalObserver(node, builder, lab.clock, DEFAULT_CAPACITY, version=self.version)
            self.observers[node] = observer
            self.outputs[node] = NodeOutputs(node, observer, lab.clock, lab.disks)
            lab.fabric.monitors[node].subscribe(self._ingest_for(node, observer))
        lab.store.subscribe(self._on_store_event)
        addresses = {n: f"{lab.cilium.nodes[n].host.ip}:{HUBBLE_PORT}" for n in lab.nodes}
        self.relay = Relay(self.observers, lab.clock, version=self.version,
                           cluster=lab.cluster_config.cluster_name, addresses=addresses)

    def configure(self, data: dict[str, str]) -> None:
        """Apply cilium-config: `enable-hubble`, `hubble-event-buffer-capacity`, the metrics
        handlers and the exporters (with the flowlog ConfigMap the agents mount)."""
        enabled = data.get("enable-hubble", "true") == "true"
        capacity = int(data.get("hubble-event-buffer-capacity") or DEFAULT_CAPACITY)
        flowlogs_cm = self._lab.store.get("ConfigMap", "kube-system", "cilium-flowlog-config") or {}
        flowlogs = (flowlogs_cm.get("data") or {}).get("flowlogs.yaml")
        for node, observer in self.observers.items():
            observer.enabled = enabled
            if observer.capacity != capacity:
                observer.resize(capacity)
            self.outputs[node].configure(data if enabled else {}, flowlogs if enabled else None)

    def _on_store_event(self, event: str, obj: dict, old: dict | None) -> None:
        if event == "DELETED" and obj.get("kind") == "Pod":
            meta = obj["metadata"]
            for outputs in self.outputs.values():
                outputs.pod_deleted(meta.get("namespace", "default"), meta["name"])

    # -- ingest ---------------------------------------------------------------------------------
    def _ingest_for(self, node: str, observer: LocalObserver):
        def ingest(event: ev.MonitorEvent) -> None:
            if observer.enabled:
                observer.add(event, self.enrich(node, event))
        return ingest

    def enrich(self, node: str, e: ev.MonitorEvent) -> Enrichment:
        """Hot path (every datapath event): two cache hits and a small object."""
        generation = self._lab.store.resource_version
        if generation != self._generation:
            self._endpoints.clear()
            self._services.clear()
            self._interned.clear()
            self._generation = generation
        src, sp = e.src, e.dst
        s_desc, s_mac, s_if = self._endpoint(node, src)
        d_desc, d_mac, d_if = self._endpoint(node, sp)
        dst_service = self._service(sp.ip, sp.port) if e.type == ev.TRACE_SOCK else None
        src_names = dst_names = ()
        names = self._lab.cilium.dns_names
        if names:
            if sp.endpoint_id:
                src_names = tuple(names.get((node, sp.endpoint_id), {}).get(src.ip, ()))
            if src.endpoint_id:
                dst_names = tuple(names.get((node, src.endpoint_id), {}).get(sp.ip, ()))
        ifname = ""
        if e.ifindex:
            ifname = d_if[1] if d_if[0] == e.ifindex else (s_if[1] if s_if[0] == e.ifindex else "")
        key = (id(s_desc), id(d_desc), id(dst_service), src_names, dst_names, s_mac, d_mac, ifname)
        found = self._interned.get(key)
        if found is None:
            # most events repeat the same few endpoint pairs: share one Enrichment per combination
            found = self._interned[key] = Enrichment(s_desc, d_desc, None, dst_service, src_names, dst_names,
                                                     s_mac, d_mac, ifname)
        return found

    def _endpoint(self, node: str, peer: ev.Peer) -> tuple[dict, str, tuple[int, str]]:
        key = (node, peer.ip, peer.identity, peer.endpoint_id)
        cached = self._endpoints.get(key)
        if cached is None:
            ep = self._lab.fabric.endpoints.get(peer.ip)
            cached = self._endpoints[key] = (
                self._describe(peer), ep.mac if ep else "", (ep.ifindex, ep.ifname) if ep else (0, ""))
        return cached

    def _describe(self, peer: ev.Peer) -> dict:
        lab = self._lab
        out: dict = {}
        if peer.endpoint_id:
            out["ID"] = peer.endpoint_id
        if peer.identity:
            out["identity"] = peer.identity
        identity = lab.allocator.get(peer.identity)
        entry = lab.ipcache.entry(peer.ip)
        if entry is not None and entry.kind == "pod":
            out["cluster_name"] = lab.cluster_config.cluster_name
            out["namespace"] = entry.namespace
        if identity is not None:
            out["labels"] = identity.labels.strings
        elif peer.identity in RESERVED_NAMES and peer.identity:
            out["labels"] = [f"reserved:{RESERVED_NAMES[peer.identity]}"]
        if entry is not None and entry.kind == "pod":
            out["pod_name"] = entry.pod_name
            workloads = self._workloads(entry.namespace, entry.pod_name)
            if workloads:
                out["workloads"] = workloads
        return out

    def _workloads(self, namespace: str, pod_name: str) -> list[dict]:
        pod = self._lab.store.get("Pod", namespace, pod_name)
        if pod is None:
            return []
        for ref in pod["metadata"].get("ownerReferences") or []:
            kind, name = ref.get("kind"), ref.get("name")
            if kind == "ReplicaSet":
                rs = self._lab.store.get("ReplicaSet", namespace, name)
                owner = next(iter((rs or {}).get("metadata", {}).get("ownerReferences") or []), None)
                if owner is not None:
                    return [{"name": owner["name"], "kind": owner["kind"]}]
                return [{"name": name, "kind": kind}]
            if kind in ("DaemonSet", "StatefulSet", "Job", "ReplicationController"):
                return [{"name": name, "kind": kind}]
        return []

    def _service(self, ip: str, port: int) -> dict | None:
        key = (ip, port)
        if key not in self._services:
            fe = next((f for f in self._lab.fabric.lb.frontends() if f.ip == ip and f.port == port), None)
            self._services[key] = {"name": fe.service, "namespace": fe.namespace} if fe else None
        return self._services[key]

    def _node_labels(self, node: str) -> list[str]:
        obj = self._lab.store.get("Node", None, node) or {}
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return [f"{k}={v}" for k, v in sorted(labels.items())]
