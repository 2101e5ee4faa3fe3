"""DaemonSet: one pod per eligible node (nodeSelector, node affinity, taints vs tolerations)."""

from __future__ import annotations

import copy

from ..names import compute_hash
from . import Controller
from .scheduler import node_affinity_matches, untolerated_taint
from .util import defaulted_template, is_active, omit_zero, owned_by, pod_from_template, pod_ready

REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION = "pod-template-generation"
TEMPLATE_GENERATION_ANN = "deprecated.daemonset.template.generation"

# daemon.util.AddOrUpdateDaemonPodTolerations
_DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
_HOSTNET_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}


def daemon_tolerations(spec: dict) -> list[dict]:
    tols = list(spec.get("tolerations") or [])
    extra = list(_DS_TOLERATIONS)
    if spec.get("hostNetwork"):
        extra.append(_HOSTNET_TOLERATION)
    for t in extra:
        if not any(x.get("key") == t["key"] and x.get("effect") == t["effect"] for x in tols):
            tols.append(dict(t))
    return tols


def node_pinned_affinity(affinity: dict | None, node: str) -> dict:
    """daemon.util.ReplaceDaemonSetPodNodeNameNodeAffinity."""
    aff = copy.deepcopy(affinity or {})
    na = aff.setdefault("nodeAffinity", {})
    na["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    return aff


def pod_target_node(pod: dict) -> str | None:
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for t in terms:
        for f in t.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return None


class DaemonSetController(Controller):
    name = "daemonset"

    def sync(self) -> None:
        for ds in sorted(self.store.list("DaemonSet"), key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"])):
            self.sync_one(ds)

    def should_run(self, ds: dict, node: dict) -> bool:
        tspec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        if not node_affinity_matches(tspec, node):
            return False
        return untolerated_taint(node, daemon_tolerations(tspec)) is None

    def sync_one(self, ds: dict) -> None:
        ns = ds["metadata"]["namespace"]
        gen = ds["metadata"].get("generation", 1)
        template = defaulted_template(ds)
        h = compute_hash(template, (ds.get("status") or {}).get("collisionCount"))
        nodes = sorted(self.store.list("Node"), key=lambda n: n["metadata"]["name"])
        pods = [p for p in owned_by(self.store, "Pod", ds) if is_active(p)]
        by_node: dict[str, list[dict]] = {}
        for p in pods:
            by_node.setdefault(pod_target_node(p) or "", []).append(p)
        for p in by_node.pop("", []):
            self.store.delete("Pod", ns, p["metadata"]["name"])
        node_names = {n["metadata"]["name"] for n in nodes}
        for n, ps in list(by_node.items()):
            if n not in node_names:
                for p in ps:
                    self.store.delete("Pod", ns, p["metadata"]["name"])
                del by_node[n]
        for node in nodes:
            nn = node["metadata"]["name"]
            existing = by_node.get(nn, [])
            if not self.should_run(ds, node):
                for p in existing:
                    self.store.delete("Pod", ns, p["metadata"]["name"])
                continue
            keep = [p for p in existing if (p["metadata"].get("labels") or {}).get(REVISION_HASH) == h]
            stale = [p for p in existing if p not in keep]
            if (ds["spec"].get("updateStrategy") or {}).get("type") == "OnDelete":
                keep, stale = existing, []
            for p in stale + keep[1:]:
                self.store.delete("Pod", ns, p["metadata"]["name"])
            if not keep:
                self._create_pod(ds, template, h, gen, nn)
        if (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANN) != str(gen):
            new = copy.deepcopy(ds)
            new["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION_ANN] = str(gen)
            ds = self.store.update(new)
        self._status(ds, nodes, h)

    def _create_pod(self, ds: dict, template: dict, h: str, gen: int, node: str) -> None:
        ns = ds["metadata"]["namespace"]
        name = self.ctx.names.generate(f"{ds['metadata']['name']}-", lambda n: self.store.get("Pod", ns, n) is not None)
        tmpl = copy.deepcopy(template)
        tspec = tmpl.setdefault("spec", {})
        tspec["affinity"] = node_pinned_affinity(tspec.get("affinity"), node)
        tspec["tolerations"] = daemon_tolerations(tspec)
        pod = pod_from_template(ds, tmpl, name, extra_labels={REVISION_HASH: h, TEMPLATE_GENERATION: str(gen)})
        self.store.create(pod)
        self.event(ds, "SuccessfulCreate", f"Created pod: {name}", component="daemonset-controller")

    def _status(self, ds: dict, nodes: list[dict], h: str) -> None:
        pods = [p for p in owned_by(self.store, "Pod", ds) if is_active(p)]
        desired = current = ready = available = updated = mis = 0
        eligible = {n["metadata"]["name"] for n in nodes if self.should_run(ds, n)}
        desired = len(eligible)
        for p in pods:
            node = p["spec"].get("nodeName")
            if not node:
                continue
            if node in eligible:
                current += 1
                if pod_ready(p):
                    ready += 1
                    available += 1
                if (p["metadata"].get("labels") or {}).get(REVISION_HASH) == h:
                    updated += 1
            else:
                mis += 1
        status = {
            "currentNumberScheduled": current,
            "desiredNumberScheduled": desired,
            "numberAvailable": available,
            "numberMisscheduled": mis,
            "numberReady": ready,
            "numberUnavailable": max(desired - available, 0),
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": updated,
        }
        if (ds.get("status") or {}).get("collisionCount") is not None:
            status["collisionCount"] = ds["status"]["collisionCount"]
        omit_zero(status, "numberAvailable", "numberUnavailable", "updatedNumberScheduled")
        if status != ds.get("status"):
            new = copy.deepcopy(ds)
            new["status"] = status
            self.store.update(new)
