"""`Lab`: the whole 3-node Cilium lab as one embedded object.

`Lab()` builds the seed's cluster (k8s-ctr, k8s-w1, k8s-w2 with kube-system as a real
kubeadm + Cilium install shows it) and wires the Kubernetes half (store, controllers) to the
Cilium half (identities, policy, datapath, proxies). Every write goes through `apply`/`delete`
and is reconciled before the call returns, so the lab is always settled when you look.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from .cilium.agent import CiliumControlPlane
from .cilium.datapath.fabric import Fabric
from .cilium.datapath.lb import ServiceLB
from .cilium.datapath.podnet import LabPodNet
from .cilium.identity import IdentityAllocator
from .cilium.ipcache import IPCache
from .cilium.policy import PolicyConfig, PolicyRepository
from .cilium.proxy.dns import DnsProxy
from .cilium.proxy.http import HttpProxy
from .clock import make_clock
from .errors import AlreadyExists, Conflict, InvalidObject, NotFound
from .k8s import kinds, manifest
from .k8s.selectors import parse_label_selector
from .k8s.store import Store
from .metricsview import MetricsView
from .network import NetContext
from .nodedisk import NodeDisks
from .observability import HubbleView
from .workloads.nodeservices import node_listeners

CONFIG_CHECKSUM = "cilium.io/cilium-configmap-checksum"  # the chart's rollOutCiliumPods annotation
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
NODE_IMAGE = "ubuntu:24.04"


@dataclass
class ExecResult:
    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False


class Lab:
    """The seed's Cilium lab, embedded. See the README for a tour."""

    def __init__(self, *, clock: str = "virtual", config: dict | None = None,
                 restore: Iterable[dict] | None = None, restore_version: int = 0,
                 data_dir: str | os.PathLike | None = None) -> None:
        """`restore`: every object of a persisted store (the served lab's restart). They are loaded
        as they were instead of bootstrapping the cluster; pods keep their IPs, endpoints their
        ids and identities their numbers. `data_dir`: where the nodes' disks live (exported flow
        logs…); default a temporary directory removed with the lab."""
        from .k8s import bootstrap as boot
        from .k8s.controllers import ControllerContext, all_controllers
        from .workloads.images.registry import behaviour_for
        from .workloads.world import World

        self.clock = make_clock(clock)
        self.disks = NodeDisks(data_dir)
        self.store = Store(self.clock)
        self.cluster_config = boot.default_cluster_config()
        _apply_overrides(self.cluster_config, config or {})
        self.world = World(now=self.clock.now)
        self.allocator = IdentityAllocator()
        self.ipcache = IPCache(self.allocator)
        self.policy_config = PolicyConfig()
        self.policy = PolicyRepository(self.policy_config)
        self.fabric = Fabric(self.clock, self.ipcache, ServiceLB(), self.policy.policy_for,
                             lambda: self.policy_config, self.world)
        self.fabric.http_proxy = HttpProxy(self.fabric)
        self.fabric.dns_proxy = DnsProxy(self.fabric)
        self.cilium = CiliumControlPlane(self.store, self.clock, self.fabric, self.allocator, self.ipcache,
                                         self.policy, functools.partial(behaviour_for, now=self.clock.now),
                                         self.cluster_config.cluster_name)
        self.fabric.dns_proxy.learn = self.cilium.learn_fqdn
        self.net = NetContext(self)
        self._podnets: dict[tuple[str, str], tuple[tuple, LabPodNet]] = {}
        if restore is not None:
            self.store.restore(restore, restore_version)
        else:
            boot.bootstrap(self.store, self.cluster_config)
        for node in self.cluster_config.nodes:
            agent = self.cilium.add_node(node.name, [node.ip, "10.0.2.15"], node.pod_cidr, apiserver=node.control_plane)
            agent.host.listeners.update(node_listeners(node.control_plane, self.cluster_config.k8s_version,
                                                       now=self.clock.now))
        ctx = ControllerContext(clock=self.clock, cluster_name=self.cluster_config.cluster_name,
                                service_cidr=self.cluster_config.service_cidr,
                                allocate_pod_ip=self.cilium.allocate_pod_ip,
                                release_pod_ip=self.cilium.release_pod_ip,
                                node_ip=lambda name: self.cilium.nodes[name].host.ip)
        self.controllers = all_controllers(self.store, ctx)
        self.hubble = HubbleView(self)
        self.metrics = MetricsView(self)
        self.metrics.listen()
        self._read_cilium_config()
        self.reconcile()
        if restore is None:
            # the cluster was installed before anyone looked: its bootstrap Events have expired (1 h TTL)
            for ev in self.store.list("Event"):
                self.store.delete("Event", ev["metadata"].get("namespace"), ev["metadata"]["name"])
            ctx.events = None

    # -- settling -------------------------------------------------------------------------------
    def reconcile(self, max_rounds: int = 50) -> None:
        """Run every controller and the Cilium control plane until nothing changes any more."""
        for _ in range(max_rounds):
            before = self.store.resource_version
            for controller in self.controllers:
                controller.sync()
            self.cilium.sync()
            if self.store.resource_version == before:
                return

    def _read_cilium_config(self) -> None:
        """Apply cilium-config to the agents; when it changed since the last read, roll the agents
        (the chart's `rollOutCiliumPods`: a checksum annotation on the DaemonSet's pod template)."""
        cm = self.store.get("ConfigMap", "kube-system", "cilium-config")
        data = (cm or {}).get("data") or {}
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        previous = getattr(self, "_cilium_config_digest", None)
        self._cilium_config_digest = digest
        if previous is not None and previous != digest:
            self._roll_agents(digest)
        cfg = self.policy_config
        cfg.enforcement_mode = data.get("enable-policy", cfg.enforcement_mode)
        cfg.audit_mode = data.get("policy-audit-mode", "false") == "true"
        cfg.enable_l7_proxy = data.get("enable-l7-proxy", "true") == "true"
        cfg.cluster_name = data.get("cluster-name", cfg.cluster_name)
        cfg.dns_reject_response_code = data.get("tofqdns-dns-reject-response-code", cfg.dns_reject_response_code)
        self.fabric.routing_mode = data.get("routing-mode", "tunnel")
        self.hubble.configure(data)

    def _roll_agents(self, digest: str) -> None:
        ds = self.store.get("DaemonSet", "kube-system", "cilium")
        if ds is None:
            return
        ds = copy.deepcopy(ds)
        meta = ds["spec"]["template"].setdefault("metadata", {})
        annotations = meta.get("annotations") or {}
        if annotations.get(CONFIG_CHECKSUM) == digest:
            return
        meta["annotations"] = {**annotations, CONFIG_CHECKSUM: digest}
        self.store.update(ds)
        self.reconcile()

    # -- the kubectl-like API -------------------------------------------------------------------
    def apply(self, src) -> list[str]:
        """`kubectl apply -f`: returns kubectl's lines; raises InvalidObject for rejected documents
        (after applying the others; `.results` on the exception holds the lines that did apply)."""
        docs = manifest.load(src)
        lines: list[str] = []
        errors: list[str] = []
        for doc in docs:
            try:
                lines.append(self._apply_one(doc.obj, doc.origin))
            except InvalidObject as exc:
                errors.append(str(exc))
        if errors:
            exc = InvalidObject("\n".join(errors))
            exc.results = lines  # type: ignore[attr-defined]
            raise exc
        return lines

    def _apply_one(self, doc: dict, origin: str) -> str:
        info = kinds.for_kind(doc["kind"], doc["apiVersion"])
        meta = doc.get("metadata") or {}
        name = meta.get("name", "")
        namespace = (meta.get("namespace") or "default") if info.namespaced else None
        existing = self.store.get(info.kind, namespace, name)
        applied = json.dumps(_strip_for_last_applied(doc), sort_keys=True, separators=(",", ":"))
        if existing is not None and (existing["metadata"].get("annotations") or {}).get(LAST_APPLIED) == applied:
            return f"{info.resource_ref}/{name} unchanged"
        obj = copy.deepcopy(doc)
        obj.setdefault("metadata", {})
        obj["metadata"].setdefault("annotations", {})[LAST_APPLIED] = applied
        verb = "applying patch" if existing else "creating"
        try:
            if existing is None:
                self.create(obj)
                return f"{info.resource_ref}/{name} created"
            self.update(_merge_server_fields(obj, existing), check_version=False)
            return f"{info.resource_ref}/{name} configured"
        except InvalidObject as exc:
            prefix = "Error from server (NotFound)" if exc.code == 404 else "Error from server (Invalid)"
            raise InvalidObject(f'{prefix}: error when {verb} "{origin}": {exc}', kind=exc.kind, name=exc.name,
                                causes=exc.causes, code=exc.code, reason=exc.reason) from None

    # -- the API server's write path (what `kubectl` requests reach in the served lab) -----------
    def create(self, obj: dict) -> dict:
        """POST: default, validate, allocate (Service IPs), store, reconcile. Returns the stored object.
        Raises InvalidObject (422, or 404 for a missing namespace) and AlreadyExists (409)."""
        from .k8s.controllers.services import assign_service_addresses
        from .k8s.validation import apply_defaults, validate

        info = kinds.for_kind(obj["kind"], obj["apiVersion"])
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name", "")
        namespace = (meta.get("namespace") or "default") if info.namespaced else None
        if namespace:
            meta["namespace"] = namespace
            if self.store.get("Namespace", None, namespace) is None:
                raise InvalidObject(f'namespaces "{namespace}" not found', kind="Namespace", name=namespace,
                                    code=404, reason="NotFound")
        if self.store.get(info.kind, namespace, name) is not None:
            raise AlreadyExists(f'{_resource(info)} "{name}" already exists', kind=info.kind, name=name)
        obj = apply_defaults(obj)
        causes = validate(obj, old=None)
        if causes:
            raise InvalidObject.from_causes(info.kind, name, causes)
        if info.kind == "Service":
            obj = assign_service_addresses(self.store, obj, self.cluster_config.service_cidr)
        stored = self.store.create(obj)
        self.reconcile()
        self._read_cilium_config()
        return copy.deepcopy(self.store.get(info.kind, namespace, name) or stored)

    def update(self, obj: dict, *, check_version: bool = True) -> dict:
        """PUT: replace an existing object (optimistic concurrency on metadata.resourceVersion).
        Raises NotFound, Conflict (409) and InvalidObject (422)."""
        from .k8s.validation import apply_defaults, validate

        info = kinds.for_kind(obj["kind"], obj["apiVersion"])
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name", "")
        namespace = (meta.get("namespace") or "default") if info.namespaced else None
        existing = self.store.get(info.kind, namespace, name)
        if existing is None:
            raise _not_found(info, name)
        wanted = meta.get("resourceVersion")
        if check_version and wanted and wanted != existing["metadata"]["resourceVersion"]:
            raise Conflict(f'Operation cannot be fulfilled on {_resource(info)} "{name}": the object has been '
                           "modified; please apply your changes to the latest version and try again",
                           kind=info.kind, name=name)
        if namespace:
            meta["namespace"] = namespace
        obj = apply_defaults(obj)
        causes = validate(obj, old=existing)
        if causes:
            raise InvalidObject.from_causes(info.kind, name, causes)
        self.store.update(obj)
        self.reconcile()
        self._read_cilium_config()
        return copy.deepcopy(self.store.get(info.kind, namespace, name))

    def remove(self, kind: str, name: str, namespace: str | None = "default") -> dict:
        """DELETE one object (cascading to what it owns). Raises NotFound."""
        info = self._kind(kind)
        obj = self.store.delete(info.kind, namespace if info.namespaced else None, name)
        if obj is None:
            raise _not_found(info, name)
        self.reconcile()
        self._read_cilium_config()
        return obj

    def delete(self, src) -> list[str]:
        """`kubectl delete -f`: `<kind> "<name>" deleted` per object; missing ones raise NotFound
        after the others are deleted."""
        docs = manifest.load(src)
        lines, missing = [], []
        for doc in docs:
            info = kinds.for_kind(doc.obj["kind"], doc.obj["apiVersion"])
            meta = doc.obj.get("metadata") or {}
            ns = (meta.get("namespace") or "default") if info.namespaced else None
            if self.store.delete(info.kind, ns, meta["name"]) is None:
                missing.append(f'Error from server (NotFound): error when deleting "{doc.origin}": '
                               f'{_resource(info)} "{meta["name"]}" not found')
            else:
                lines.append(f'{info.resource_ref} "{meta["name"]}" deleted')
            self.reconcile()
        if missing:
            exc = NotFound("\n".join(missing))
            exc.results = lines  # type: ignore[attr-defined]
            raise exc
        return lines

    def delete_object(self, kind: str, name: str, namespace: str = "default") -> str:
        """`kubectl delete <kind> <name>`: kubectl's line."""
        info = self._kind(kind)
        self.remove(kind, name, namespace)
        return f'{info.resource_ref} "{name}" deleted'

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        info = self._kind(kind)
        obj = self.store.get(info.kind, namespace if info.namespaced else None, name)
        if obj is None:
            raise _not_found(info, name)
        return copy.deepcopy(obj)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[dict]:
        info = self._kind(kind)
        objs = self.store.list(info.kind, namespace if info.namespaced else None)
        if label_selector:
            pred = parse_label_selector(label_selector)
            objs = [o for o in objs if pred(o["metadata"].get("labels") or {})]
        return [copy.deepcopy(o) for o in sorted(objs, key=lambda o: (o["metadata"].get("namespace", ""),
                                                                     o["metadata"]["name"]))]

    def _kind(self, kind: str) -> kinds.KindInfo:
        info = kinds.lookup(kind)
        if info is None:
            raise InvalidObject(f'error: the server doesn\'t have a resource type "{kind}"', code=404,
                                reason="NotFound")
        return info

    # -- exec -----------------------------------------------------------------------------------
    def exec(self, pod: str, command, namespace: str = "default", container: str | None = None,
             stdin: str | None = None, timeout: float | None = None) -> ExecResult:
        """`kubectl exec`: run `command` (shell string or argv) in the pod; `timeout` is lab seconds."""
        from .cilium.dbg import agent_commands
        from .workloads.shell import run_command

        obj = self.store.get("Pod", namespace, pod)
        if obj is None:
            raise NotFound(f'Error from server (NotFound): pods "{pod}" not found', kind="Pod", name=pod)
        spec = obj.get("spec") or {}
        containers = spec.get("containers") or []
        chosen = containers[0] if containers else {}
        if container is not None:
            chosen = next((c for c in containers if c.get("name") == container), None)
            if chosen is None:
                raise NotFound(f'error: container {container} not found in pod {pod}', kind="Pod", name=pod)
        if (obj.get("status") or {}).get("phase") != "Running":
            raise InvalidObject(f"error: unable to upgrade connection: container not found (\"{chosen.get('name', '')}\")",
                                code=400, reason="BadRequest")
        net = self.podnet(obj)
        deadline = self.clock.now() + timeout if timeout is not None else None
        env = {e["name"]: str(e.get("value", "")) for e in chosen.get("env") or [] if "name" in e}
        env.setdefault("HOSTNAME", net.hostname)
        result = run_command(net, command, stdin=stdin, env=env, deadline=deadline, image=chosen.get("image", ""),
                             extra_commands=agent_commands(self, obj, chosen) or None)
        return ExecResult(result.stdout, result.stderr, result.exit_code, getattr(result, "timed_out", False))

    def podnet(self, pod: dict) -> LabPodNet:
        """The pod's network stack; reused while the pod object and its endpoint are unchanged."""
        meta = pod["metadata"]
        key = (meta.get("namespace", "default"), meta["name"])
        cached = self._podnets.get(key)
        stamp = (meta.get("uid"), meta.get("resourceVersion"),
                 self.fabric.endpoints.get((pod.get("status") or {}).get("podIP", "")))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        net = self._new_podnet(pod)
        self._podnets[key] = (stamp, net)
        return net

    def _new_podnet(self, pod: dict) -> LabPodNet:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        node = spec.get("nodeName", "")
        host_network = bool(spec.get("hostNetwork"))
        endpoint = None if host_network else self.fabric.endpoints.get(status.get("podIP", ""))
        hostname = node if host_network else (spec.get("hostname") or meta["name"])
        return LabPodNet(self.net, node=node, ip=status.get("podIP") or self.cilium.nodes[node].host.ip,
                         pod_name=meta["name"], namespace=meta.get("namespace", "default"), hostname=hostname,
                         endpoint=endpoint, host_network=host_network)

    def node_net(self, node: str) -> LabPodNet:
        """The host network namespace of a node (for node shells and kubelet-like probes)."""
        return LabPodNet(self.net, node=node, ip=self.cilium.nodes[node].host.ip, pod_name="", namespace="",
                         hostname=node, endpoint=None, host_network=True)

    def node_exec(self, node: str, command, stdin: str | None = None, timeout: float | None = None) -> ExecResult:
        """A shell on a node (the seed's `ssh k8s-w1`): host network namespace, Ubuntu's tools."""
        from .workloads.shell import run_command

        if node not in self.cilium.nodes:
            raise NotFound(f'Error from server (NotFound): nodes "{node}" not found', kind="Node", name=node)
        deadline = self.clock.now() + timeout if timeout is not None else None
        result = run_command(self.node_net(node), command, stdin=stdin, deadline=deadline, image=NODE_IMAGE)
        return ExecResult(result.stdout, result.stderr, result.exit_code, result.timed_out)

    def external_exec(self, ip: str, command, via_node: str = "k8s-w1", timeout: float | None = None) -> ExecResult:
        """Run a command on a machine outside the cluster (e.g. 1.1.1.1) whose traffic enters via a node."""
        from .workloads.shell import run_command

        deadline = self.clock.now() + timeout if timeout is not None else None
        result = run_command(self.external_net(ip, via_node), command, deadline=deadline, image=NODE_IMAGE)
        return ExecResult(result.stdout, result.stderr, result.exit_code, result.timed_out)

    def external_net(self, ip: str, via_node: str = "k8s-w1") -> LabPodNet:
        """A client outside the cluster (e.g. 1.1.1.1) whose traffic enters through `via_node`."""
        return LabPodNet(self.net, node=via_node, ip=ip, pod_name="", namespace="", hostname=ip, endpoint=None,
                         host_network=True)

    # -- events ---------------------------------------------------------------------------------
    def events(self, node: str | None = None) -> list:
        """Monitor events emitted so far (all nodes merged by time, or one node)."""
        if node is not None:
            return self.fabric.monitors[node].events()
        merged = [e for bus in self.fabric.monitors.values() for e in bus.events()]
        return sorted(merged, key=lambda e: e.time)

    def subscribe(self, node: str, callback):
        """Follow a node's event stream live; returns an unsubscribe function."""
        return self.fabric.monitors[node].subscribe(callback)

    # -- metrics ----------------------------------------------------------------------------------
    def scrape(self, target: str, node: str | None = None, accept: str = "") -> str:
        """`curl <target>:<port>/metrics` from inside the cluster: the text exposition of
        `cilium-agent` (:9962) or `hubble` (:9965) on `node`, or of `cilium-operator` (:9963).
        Raises NotFound when that endpoint is not enabled in cilium-config."""
        found = self.metrics.expose(target, node, accept)
        if found is None:
            raise NotFound(f"{target} metrics are not enabled" + (f" on {node}" if node else ""))
        return found[0].decode()

    # -- Hubble -----------------------------------------------------------------------------------
    def observe(self, *flags: str) -> list[dict]:
        """`hubble observe FLAGS` against the lab's relay: each flow as the `flow` object of
        `-o json`. Same flags as the real CLI (`--follow` is not available embedded)."""
        # the flows of `-o json`: full flows (compact output would ask for the default field mask)
        return [r["flow"] for r in self._observe((*flags, "-o", "json"))[1] if "flow" in r]

    def hubble_observe(self, *flags: str) -> str:
        """The text `hubble observe FLAGS` prints (compact by default; `-o json`, `-o table` …)."""
        import io

        from .hubble.cli import run_observe

        opts, responses = self._observe(flags)
        out, err = io.StringIO(), io.StringIO()
        if opts.print_raw_filters:
            return opts.raw_filters_yaml()
        run_observe(opts, _ListSource(responses), out, err)
        return out.getvalue()

    def _observe(self, flags) -> tuple:
        from datetime import UTC, datetime

        from .hubble.cli import HubbleError, parse_observe
        from .hubble.types import FilterError

        try:
            opts = parse_observe(list(flags), now=datetime.fromtimestamp(self.clock.now(), UTC))
            if opts.request.follow:
                raise HubbleError("--follow is not available on the embedded lab; use `ciliumlab up`")
            return opts, list(self.hubble.relay.get_flows(opts.request))
        except (HubbleError, FilterError) as exc:
            raise ValueError(str(exc)) from None

    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self.cluster_config.nodes]


class _ListSource:
    """Responses already fetched, served to the CLI printer."""

    def __init__(self, responses: list[dict]) -> None:
        self._responses = responses

    def get_flows(self, request):
        return iter(self._responses)


def _resource(info: kinds.KindInfo) -> str:
    """How the API server names a resource in errors: `pods`, `deployments.apps`."""
    return f"{info.plural}.{info.group}" if info.group else info.plural


def _not_found(info: kinds.KindInfo, name: str) -> NotFound:
    return NotFound(f'Error from server (NotFound): {_resource(info)} "{name}" not found', kind=info.kind, name=name)


def _strip_for_last_applied(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    meta = doc.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    if not annotations:
        meta.pop("annotations", None)
    doc.pop("status", None)
    return doc


def _merge_server_fields(new: dict, old: dict) -> dict:
    """Keep what the server owns (status, allocated IPs/ports, scheduling) across an apply."""
    if "status" in old:
        new["status"] = copy.deepcopy(old["status"])
    kind = new.get("kind")
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if kind == "Service" and isinstance(spec, dict):
        for field in ("clusterIP", "clusterIPs"):
            if field not in spec and field in old_spec:
                spec[field] = copy.deepcopy(old_spec[field])
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
        for port in spec.get("ports") or []:
            prev = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if prev and "nodePort" in prev and "nodePort" not in port and spec.get("type") in ("NodePort", "LoadBalancer"):
                port["nodePort"] = prev["nodePort"]
    if kind == "Pod" and isinstance(spec, dict) and "nodeName" not in spec and "nodeName" in old_spec:
        spec["nodeName"] = old_spec["nodeName"]
    return new


def _apply_overrides(cluster_config, overrides: dict) -> None:
    for key, value in overrides.items():
        if key == "cilium_config" and isinstance(value, dict):
            cluster_config.cilium_config.update(value)
        elif hasattr(cluster_config, key):
            setattr(cluster_config, key, value)
        else:
            raise ValueError(f"unknown lab config key {key!r}")
