"""Cilium's control plane for the whole lab: the agents on each node plus the operator.

It watches the object store the way the agent and operator watch the API server: pods become
endpoints with identities, IPs and CiliumEndpoint objects; label sets become CiliumIdentity
objects; policies are imported into the repository and get their `Valid` status condition;
Services and EndpointSlices become the LB maps. Level-triggered: `sync()` looks at everything
and fixes what differs, so the order of events never matters.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from ..k8s.store import Store, rfc3339
from . import identity as ident
from .datapath.endpoints import DatapathEndpoint, NodeHost
from .datapath.fabric import Fabric
from .identity import Identity, IdentityAllocator, cidr_labels
from .ipam import NodeIPAM
from .ipcache import IPCache, IPEntry
from .labels import Label, LabelSet, pod_identity_labels
from .policy import ServiceInfo

POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy")


@dataclass
class EndpointRecord:
    """The agent's own record of an endpoint (what cilium-dbg endpoint list shows)."""

    id: int
    node: str
    ip: str
    identity: Identity
    namespace: str
    pod_name: str
    pod_uid: str
    kind: str = "pod"
    fingerprint: tuple = ()
    datapath: DatapathEndpoint | None = None
    created: float = 0.0
    log: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


class NodeAgent:
    """Per-node state: IPAM range, endpoint ids, the host and health endpoints."""

    def __init__(self, name: str, ips: list[str], pod_cidr: str) -> None:
        self.name = name
        self.ipam = NodeIPAM(name, pod_cidr)
        self.pod_cidr = pod_cidr
        self._ids = random.Random(f"endpoint-ids/{name}")
        self._used_ids: set[int] = set()
        self.router_ip = self.ipam.allocate("router")
        self.health_ip = self.ipam.allocate("health")
        self.host = NodeHost(name, ips, self.router_ip)
        self.host_endpoint_id = self.allocate_id()
        self.health_endpoint_id = self.allocate_id()

    def allocate_id(self) -> int:
        while True:
            candidate = self._ids.randrange(1, 4096)
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def release_id(self, eid: int) -> None:
        self._used_ids.discard(eid)


class CiliumControlPlane:
    def __init__(self, store: Store, clock, fabric: Fabric, allocator: IdentityAllocator, ipcache: IPCache,
                 repo, behaviour_for, cluster_name: str = "default") -> None:
        self.store = store
        self.clock = clock
        self.fabric = fabric
        self.allocator = allocator
        self.ipcache = ipcache
        self.repo = repo
        self.behaviour_for = behaviour_for
        self.cluster_name = cluster_name
        self.nodes: dict[str, NodeAgent] = {}
        self.endpoints: dict[str, EndpointRecord] = {}  # pod uid -> record
        self._policy_seen: dict[tuple[str, str, str], tuple[str, int]] = {}
        self._lb_version = -1
        self._svc_stamp: tuple = ()
        self._services: list[ServiceInfo] = []
        self._cidr_identities: dict = {}
        self._fqdn_labels: dict[str, set[Label]] = {}
        self._apiservers: set[str] = set()
        self._named_ports: dict[str, set[tuple[int, str]]] = {}
        self.dns_names: dict[tuple[str, int], dict[str, list[str]]] = {}  # (node, endpoint id) -> ip -> names
        self._restored: dict[str, tuple[int, int]] = {}  # pod uid -> (endpoint id, identity) from a stored CEP
        allocator.subscribe(self._on_identity)
        for identity in allocator.all():
            repo.set_identity(identity.id, identity.labels)

    # -- nodes ----------------------------------------------------------------------------------
    def add_node(self, name: str, ips: list[str], pod_cidr: str, apiserver: bool = False) -> NodeAgent:
        agent = NodeAgent(name, ips, pod_cidr)
        self.nodes[name] = agent
        self._adopt_stored_endpoints(agent)
        self.fabric.add_node(agent.host)
        for ip in ips:
            self.ipcache.upsert(IPEntry(ip, "node", name, ident.HOST))
        self.ipcache.upsert(IPEntry(agent.router_ip, "router", name, ident.HOST))
        self.ipcache.upsert(IPEntry(agent.health_ip, "health", name, ident.HEALTH, agent.health_endpoint_id))
        health = DatapathEndpoint(agent.health_endpoint_id, agent.health_ip, name, ident.HEALTH, "health",
                                  hostname=name, mac=_mac(f"health/{name}"), ifindex=_ifindex(f"health/{name}"),
                                  ifname="lxc_health")
        self.fabric.add_endpoint(health)
        if apiserver:
            self._apiservers.add(name)
            self.ipcache.set_apiserver_nodes(self._apiservers)
        self._write_cilium_node(agent)
        return agent

    def _adopt_stored_endpoints(self, agent: NodeAgent) -> None:
        """Pods already in the store (a restored lab) keep what the agent gave them: their IP is
        reserved in the node's IPAM, their CiliumEndpoint's id and identity are reused."""
        for pod in self.store.list("Pod"):
            spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
            if spec.get("nodeName") != agent.name or spec.get("hostNetwork") or not status.get("podIP"):
                continue
            owner = f"{meta.get('namespace', 'default')}/{meta['name']}/{meta.get('uid', '')}"
            agent.ipam.allocate(owner, status["podIP"])
            cep = self.store.get("CiliumEndpoint", meta.get("namespace", "default"), meta["name"]) or {}
            owners = {ref.get("uid") for ref in (cep.get("metadata") or {}).get("ownerReferences") or []}
            cep_status = cep.get("status") or {}
            eid = cep_status.get("id")
            if meta.get("uid") not in owners or not isinstance(eid, int) or eid in agent._used_ids:
                continue
            agent._used_ids.add(eid)
            self._restored[meta["uid"]] = (eid, int((cep_status.get("identity") or {}).get("id") or 0))

    def _write_cilium_node(self, agent: NodeAgent) -> None:
        node = self.store.get("Node", None, agent.name) or {}
        obj = {
            "apiVersion": "cilium.io/v2", "kind": "CiliumNode",
            "metadata": {"name": agent.name, "labels": dict((node.get("metadata") or {}).get("labels") or {}),
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": agent.name,
                                              "uid": (node.get("metadata") or {}).get("uid", "")}]},
            "spec": {
                "addresses": [{"ip": agent.host.ips[0], "type": "InternalIP"},
                              {"ip": agent.router_ip, "type": "CiliumInternalIP"}],
                "alibaba-cloud": {}, "azure": {}, "encryption": {}, "eni": {},
                "health": {"ipv4": agent.health_ip},
                "ingress": {},
                "ipam": {"podCIDRs": [agent.pod_cidr], "pools": {}},
            },
            "status": {"alibaba-cloud": {}, "azure": {}, "eni": {}, "ipam": {"operator-status": {}}},
        }
        self.store.upsert(obj)

    def allocate_pod_ip(self, node: str, pod: dict) -> str | None:
        agent = self.nodes.get(node)
        if agent is None:
            return None
        meta = pod["metadata"]
        return agent.ipam.allocate(f"{meta.get('namespace', 'default')}/{meta['name']}/{meta.get('uid', '')}",
                                   (pod.get("status") or {}).get("podIP") or None)

    def release_pod_ip(self, node: str, pod: dict) -> None:
        agent = self.nodes.get(node)
        ip = (pod.get("status") or {}).get("podIP")
        if agent is not None and ip:
            agent.ipam.release(ip)

    # -- the reconcile loop ---------------------------------------------------------------------
    def sync(self) -> None:
        self._sync_endpoints()
        self._sync_services()
        self._sync_policies()
        self._sync_lb()

    def _sync_endpoints(self) -> None:
        seen: set[str] = set()
        namespaces = {ns["metadata"]["name"]: (ns["metadata"].get("labels") or {}) for ns in self.store.list("Namespace")}
        for pod in self.store.list("Pod"):
            spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
            if spec.get("hostNetwork") or not status.get("podIP") or spec.get("nodeName") not in self.nodes:
                continue
            if meta.get("deletionTimestamp"):
                continue
            uid = meta["uid"]
            seen.add(uid)
            ns = meta.get("namespace", "default")
            labels = pod_identity_labels(meta.get("labels") or {}, ns, namespaces.get(ns, {}),
                                         spec.get("serviceAccountName") or "default", self.cluster_name)
            fingerprint = (labels, status["podIP"], spec["nodeName"], tuple(c.get("image", "") for c in spec.get("containers", [])))
            record = self.endpoints.get(uid)
            if record is not None and record.fingerprint == fingerprint:
                continue
            if record is not None:
                self._remove_endpoint(record, keep_id=True)
            self.endpoints[uid] = self._add_endpoint(pod, labels, fingerprint, record.id if record else None)
        for uid in [u for u in self.endpoints if u not in seen]:
            self._remove_endpoint(self.endpoints.pop(uid))
        self._sync_named_ports()

    def _sync_named_ports(self) -> None:
        """The cluster-wide name → port map policies resolve `port: http` against."""
        ports: dict[str, set[tuple[int, str]]] = {}
        for pod in self.store.list("Pod"):
            if (pod.get("spec") or {}).get("hostNetwork"):
                continue
            for container in (pod.get("spec") or {}).get("containers") or []:
                for port in container.get("ports") or []:
                    if port.get("name") and port.get("containerPort"):
                        ports.setdefault(port["name"], set()).add((port["containerPort"], port.get("protocol", "TCP")))
        if ports != self._named_ports:
            self._named_ports = ports
            self.repo.set_named_ports(ports)

    def _add_endpoint(self, pod: dict, labels: LabelSet, fingerprint: tuple, eid: int | None) -> EndpointRecord:
        meta, spec, status = pod["metadata"], pod["spec"], pod["status"]
        node = spec["nodeName"]
        agent = self.nodes[node]
        restored_id, restored_identity = self._restored.pop(meta["uid"], (0, 0))
        eid = eid or restored_id or agent.allocate_id()
        identity = self.allocator.acquire(labels, preferred=restored_identity or None)
        ns = meta.get("namespace", "default")
        behaviours = [self.behaviour_for(c.get("image", ""), c) for c in spec.get("containers", [])]
        dp = DatapathEndpoint(eid, status["podIP"], node, identity.id, "pod", ns, meta["name"],
                              spec.get("hostname") or meta["name"], behaviours, _mac(meta["uid"]),
                              _ifindex(meta["uid"]), "lxc" + hashlib.sha1(meta["uid"].encode()).hexdigest()[:12],
                              dict(meta.get("labels") or {}))
        self.fabric.add_endpoint(dp)
        self.ipcache.upsert(IPEntry(dp.ip, "pod", node, identity.id, eid, ns, meta["name"]))
        record = EndpointRecord(eid, node, dp.ip, identity, ns, meta["name"], meta["uid"], "pod", fingerprint, dp,
                                self.clock.now())
        record.log.append("Successfully regenerated endpoint program (Reason: Initial build)")
        self._write_cep(record, pod)
        self._write_identity(identity)
        return record

    def _remove_endpoint(self, record: EndpointRecord, keep_id: bool = False) -> None:
        self.fabric.remove_endpoint(record.ip)
        self.ipcache.delete(record.ip)
        if not keep_id:
            self.nodes[record.node].release_id(record.id)
        self.allocator.release(record.identity)
        if self.store.get("CiliumEndpoint", record.namespace, record.pod_name) is not None and not keep_id:
            self.store.delete("CiliumEndpoint", record.namespace, record.pod_name)

    def _write_cep(self, record: EndpointRecord, pod: dict) -> None:
        policy = self.repo.policy_for(record.identity.id)
        meta = pod["metadata"]
        obj = {
            "apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
            "metadata": {"name": record.pod_name, "namespace": record.namespace,
                         "labels": dict(meta.get("labels") or {}),
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": record.pod_name,
                                              "uid": record.pod_uid, "blockOwnerDeletion": True}]},
            "status": {
                "encryption": {},
                "external-identifiers": {
                    "cni-attachment-id": f"{_container_id(record.pod_uid)}:eth0",
                    "container-id": _container_id(record.pod_uid),
                    "k8s-namespace": record.namespace, "k8s-pod-name": record.pod_name,
                    "pod-name": f"{record.namespace}/{record.pod_name}"},
                "id": record.id,
                "identity": {"id": record.identity.id, "labels": record.identity.labels.strings},
                "networking": {"addressing": [{"ipv4": record.ip}], "node": self.nodes[record.node].host.ip},
                "policy": _cep_policy(policy),
                "state": "ready",
            },
        }
        named = [{"name": p["name"], "port": p["containerPort"], "protocol": p.get("protocol", "TCP")}
                 for c in pod["spec"].get("containers", []) for p in c.get("ports") or [] if p.get("name")]
        if named:
            obj["status"]["named-ports"] = named
        existing = self.store.get("CiliumEndpoint", record.namespace, record.pod_name)
        if existing is None or existing.get("status") != obj["status"]:
            self.store.upsert(obj)

    def _write_identity(self, identity: Identity) -> None:
        if identity.is_reserved or identity.is_local:
            return
        if self.store.get("CiliumIdentity", None, str(identity.id)) is not None:
            return
        k8s_labels = {label.key: label.value for label in identity.labels if label.source == "k8s"}
        self.store.create({
            "apiVersion": "cilium.io/v2", "kind": "CiliumIdentity",
            "metadata": {"name": str(identity.id), "labels": {k: v for k, v in k8s_labels.items()
                                                             if "/" not in k or k.startswith("app.kubernetes.io")}},
            "security-labels": {f"k8s:{k}": v for k, v in sorted(k8s_labels.items())},
        })

    def _on_identity(self, event: str, identity: Identity) -> None:
        if event == "added":
            self.repo.set_identity(identity.id, identity.labels)
        else:
            self.repo.remove_identity(identity.id)
            if not identity.is_local and self.store.get("CiliumIdentity", None, str(identity.id)) is not None:
                self.store.delete("CiliumIdentity", None, str(identity.id))

    # -- policies -------------------------------------------------------------------------------
    def _sync_policies(self) -> None:
        present: set[tuple[str, str, str]] = set()
        changed = False
        for kind in POLICY_KINDS:
            for obj in self.store.list(kind):
                meta = obj["metadata"]
                key = (kind, meta.get("namespace", ""), meta["name"])
                present.add(key)
                stamp = (meta.get("uid", ""), meta.get("generation", 1))
                if self._policy_seen.get(key) == stamp:
                    continue
                self._policy_seen[key] = stamp
                result = self.repo.upsert(obj)
                changed = True
                if kind != "NetworkPolicy":
                    self._write_policy_status(obj, result)
        for key in [k for k in self._policy_seen if k not in present]:
            del self._policy_seen[key]
            self.repo.delete(*key)
            changed = True
        if changed:
            self._sync_cidr_identities()
            self._refresh_ceps()

    def _write_policy_status(self, obj: dict, result) -> None:
        condition = {"type": "Valid", "status": "True" if result.valid else "False",
                     "lastTransitionTime": rfc3339(self.clock.now()), "message": result.message}
        status = dict(obj.get("status") or {})
        old = next((c for c in status.get("conditions") or [] if c.get("type") == "Valid"), None)
        if old is not None and old.get("status") == condition["status"] and old.get("message") == condition["message"]:
            return
        status["conditions"] = [condition]
        updated = dict(obj)
        updated["status"] = status
        self.store.update(updated)

    def _sync_cidr_identities(self) -> None:
        prefixes = self.repo.cidr_prefixes()
        mapping = {}
        for prefix in prefixes:
            identity = self._cidr_identities.get(prefix)
            if identity is None:
                identity = self.allocator.local_identity(cidr_labels(prefix))
                self._cidr_identities[prefix] = identity
            mapping[prefix] = identity
        self.ipcache.set_prefixes(mapping)

    def learn_fqdn(self, node: str, name: str, ips: list[str], ttl: int, endpoint_id: int = 0) -> None:
        """The DNS proxy saw `name` resolve to `ips` for an endpoint: remember the names (Hubble's
        source/destination_names) and give the IPs identities toFQDNs selectors can select."""
        cache = self.dns_names.setdefault((node, endpoint_id), {})
        for ip in ips:
            names = cache.setdefault(ip, [])
            if name.rstrip(".") not in names:
                names.append(name.rstrip("."))
        selectors = [s for s in self.repo.fqdn_selectors() if s.matches(name)]
        if not selectors:
            return
        for ip in ips:
            labels = self._fqdn_labels.setdefault(ip, set())
            before = len(labels)
            labels.update(s.label for s in selectors)
            if len(labels) == before and ip in self._fqdn_labels and before:
                continue
            identity = self.allocator.local_identity(
                LabelSet((Label("cidr", f"{ip}/32"), Label("reserved", "world"), *labels)))
            self.ipcache.set_fqdn_identity(ip, identity.id)

    def _refresh_ceps(self) -> None:
        for record in self.endpoints.values():
            pod = self.store.get("Pod", record.namespace, record.pod_name)
            if pod is not None:
                self._write_cep(record, pod)

    # -- services -------------------------------------------------------------------------------
    def _sync_services(self) -> None:
        """Feed Services + EndpointSlice backends to the policy engine (toServices peers)."""
        services, slices = self.store.list("Service"), self.store.list("EndpointSlice")
        stamp = tuple(sorted((o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"],
                              o["metadata"].get("resourceVersion", "")) for o in services + slices))
        if stamp == self._svc_stamp:
            return
        self._svc_stamp = stamp
        infos = _service_infos(services, slices)
        if infos == self._services:
            return
        self._services = infos
        if self.repo.set_services(infos):
            self._sync_cidr_identities()

    def _sync_lb(self) -> None:
        version = sum(int(o["metadata"].get("resourceVersion", 0)) for kind in ("Service", "EndpointSlice")
                      for o in self.store.list(kind)) + len(self.store.list("Service")) * 100003
        if version == self._lb_version:
            return
        self._lb_version = version
        node_ips = {name: agent.host.ips for name, agent in self.nodes.items()}
        self.fabric.lb.rebuild(self.store.list("Service"), self.store.list("EndpointSlice"), node_ips)


def _service_infos(services: list[dict], slices: list[dict]) -> list[ServiceInfo]:
    """ServiceInfo per Service; backends are the EndpointSlice addresses Cilium would use
    (ready endpoints, or terminating ones still serving), found by `kubernetes.io/service-name`."""
    backends: dict[tuple[str, str], list[str]] = {}
    for es in slices:
        meta = es.get("metadata") or {}
        svc = (meta.get("labels") or {}).get("kubernetes.io/service-name")
        if not svc:
            continue
        ips = backends.setdefault((meta.get("namespace", "default"), svc), [])
        for ep in es.get("endpoints") or []:
            cond = ep.get("conditions") or {}
            if cond.get("ready") is False and not (cond.get("serving") and cond.get("terminating")):
                continue
            ips.extend(a for a in ep.get("addresses") or [] if a not in ips)
    out = []
    for svc in services:
        meta, spec = svc["metadata"], svc.get("spec") or {}
        ns = meta.get("namespace", "default")
        out.append(ServiceInfo(meta["name"], ns, dict(meta.get("labels") or {}), dict(spec.get("selector") or {}) or None,
                               tuple(sorted(backends.get((ns, meta["name"]), [])))))
    out.sort(key=lambda s: (s.namespace, s.name))
    return out


def _cep_policy(policy) -> dict:
    def side(enforced: bool) -> dict:
        return {"enforcing": bool(enforced), "state": "<status disabled>"}
    return {"egress": side(policy.egress_enforced), "ingress": side(policy.ingress_enforced)}


def _mac(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02 | (digest[0] & 0xFC), *digest[1:6]))


def _ifindex(seed: str) -> int:
    return 10 + int.from_bytes(hashlib.sha1(seed.encode()).digest()[:2], "big") % 90


def _container_id(uid: str) -> str:
    return hashlib.sha256(f"container/{uid}".encode()).hexdigest()
