"""kube-scheduler: bind pending pods to nodes.

Filters (in the real plugin order): NodeName, NodeUnschedulable, NodeAffinity (nodeSelector and
required nodeAffinity), TaintToleration, NodePorts, InterPodAffinity (required podAffinity /
podAntiAffinity, incl. existing pods' anti-affinity). Scoring is deterministic spreading: fewest
pods of the same controller, then fewest pods, then node name.
"""

from __future__ import annotations

import copy

from ..selectors import compile_selector, matches
from . import Controller
from .util import controller_uid, is_active, now, set_condition

REASON_NODE_NAME = "node(s) didn't match the requested node name"
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_NOT_READY = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        key = t.get("key", "")
        if not key:
            if op == "Exists":
                return True
            continue
        if key != taint.get("key"):
            continue
        if op == "Exists" or t.get("value", "") == taint.get("value", ""):
            return True
    return False


def untolerated_taint(node: dict, tolerations: list[dict], effects=("NoSchedule", "NoExecute")) -> dict | None:
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in effects and not tolerates(tolerations, taint):
            return taint
    return None


def _node_selector_term_matches(term: dict, node: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    for e in exprs:
        if not _node_req(e, labels.get(e.get("key")), e.get("key") in labels):
            return False
    for f in fields:
        if f.get("key") == "metadata.name":
            if not _node_req(f, node["metadata"]["name"], True):
                return False
        else:
            return False
    return True


def _node_req(e: dict, value: str | None, present: bool) -> bool:
    op = e.get("operator")
    values = [str(v) for v in e.get("values") or []]
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            a, b = int(value or ""), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def node_affinity_matches(pod_spec: dict, node: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    req = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = req.get("nodeSelectorTerms")
    if terms:
        return any(_node_selector_term_matches(t, node) for t in terms)
    return True


def node_ready(node: dict) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _host_ports(spec: dict) -> set[tuple]:
    out = set()
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            hp = p.get("hostPort")
            if hp:
                out.add((p.get("hostIP") or "0.0.0.0", hp, p.get("protocol", "TCP")))
    return out


def _term_namespaces(term: dict, pod: dict) -> set[str] | None:
    """Namespaces a pod (anti-)affinity term applies to; None = all namespaces."""
    nss = term.get("namespaces")
    if term.get("namespaceSelector") == {}:
        return None
    if nss:
        return set(nss)
    return {pod["metadata"].get("namespace", "default")}


def _term_matches_pod(term: dict, owner_pod: dict, other: dict, ns_labels: dict[str, dict]) -> bool:
    nss = _term_namespaces(term, owner_pod)
    ons = other["metadata"].get("namespace", "default")
    if nss is not None and ons not in nss:
        nsel = term.get("namespaceSelector")
        if not nsel or not matches(nsel, ns_labels.get(ons, {})):
            return False
    sel = term.get("labelSelector")
    if sel is None:
        return False
    return compile_selector(sel)(other["metadata"].get("labels") or {})


def _required_terms(spec: dict, kind: str) -> list[dict]:
    return list(((spec.get("affinity") or {}).get(kind) or {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution") or [])


class Scheduler(Controller):
    name = "scheduler"

    def sync(self) -> None:
        pods = sorted(self.store.list("Pod"), key=lambda p: (p["metadata"].get("creationTimestamp", ""),
                                                               int(p["metadata"].get("resourceVersion", "0"))))
        for pod in pods:
            spec = pod.get("spec") or {}
            if spec.get("nodeName") or not is_active(pod):
                continue
            if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
                continue
            self.schedule(pod)

    # -------------------------------------------------------------------------------------
    def schedule(self, pod: dict) -> None:
        nodes = sorted(self.store.list("Node"), key=lambda n: n["metadata"]["name"])
        feasible, reasons = self.filter(pod, nodes)
        ts = now(self.ctx)
        if not feasible:
            new = copy.deepcopy(pod)
            status = new.setdefault("status", {})
            status["phase"] = "Pending"
            msg = self.failure_message(len(nodes), reasons)
            status["conditions"] = set_condition(status.get("conditions") or [], "PodScheduled", "False", ts,
                                                 reason="Unschedulable", message=msg)
            if new != pod:
                updated = self.store.update(new)
                if (pod.get("status") or {}).get("conditions") != status["conditions"]:
                    self.event(updated, "FailedScheduling", msg, component="default-scheduler", type="Warning")
            return
        node = self.score(pod, feasible)
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = node["metadata"]["name"]
        status = new.setdefault("status", {})
        status["phase"] = "Pending"
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        status["conditions"] = set_condition(conds, "PodScheduled", "True", ts)
        bound = self.store.update(new)
        meta = bound["metadata"]
        self.event(bound, "Scheduled",
                   f"Successfully assigned {meta.get('namespace', 'default')}/{meta['name']} to {node['metadata']['name']}",
                   component="default-scheduler")

    @staticmethod
    def failure_message(n_nodes: int, reasons: dict[str, int]) -> str:
        parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
        head = f"0/{n_nodes} nodes are available"
        if parts:
            head += ": " + ", ".join(parts)
        return f"{head}. preemption: 0/{n_nodes} nodes are available: {n_nodes} Preemption is not helpful for scheduling."

    def filter(self, pod: dict, nodes: list[dict]) -> tuple[list[dict], dict[str, int]]:
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        others = [p for p in self.store.list("Pod") if is_active(p) and (p.get("spec") or {}).get("nodeName")
                  and p["metadata"].get("uid") != pod["metadata"].get("uid")]
        by_node: dict[str, list[dict]] = {}
        for p in others:
            by_node.setdefault(p["spec"]["nodeName"], []).append(p)
        node_by_name = {n["metadata"]["name"]: n for n in nodes}
        ns_labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in self.store.list("Namespace")}
        feasible: list[dict] = []
        reasons: dict[str, int] = {}
        for node in nodes:
            reason = self._filter_node(pod, spec, tolerations, node, by_node, node_by_name, ns_labels)
            if reason is None:
                feasible.append(node)
            else:
                reasons[reason] = reasons.get(reason, 0) + 1
        return feasible, reasons

    def _filter_node(self, pod, spec, tolerations, node, by_node, node_by_name, ns_labels) -> str | None:
        if (node.get("spec") or {}).get("unschedulable") and not tolerates(
                tolerations, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}):
            return REASON_UNSCHEDULABLE
        if not node_affinity_matches(spec, node):
            return REASON_AFFINITY
        taint = untolerated_taint(node, tolerations)
        if taint is not None:
            return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
        wanted = _host_ports(spec)
        if wanted:
            used = set()
            for p in by_node.get(node["metadata"]["name"], []):
                used |= _host_ports(p["spec"])
            for ip, port, proto in wanted:
                if any(u[1] == port and u[2] == proto and (ip == u[0] or "0.0.0.0" in (ip, u[0])) for u in used):
                    return REASON_PORTS
        all_pods = [p for ps in by_node.values() for p in ps]
        # Existing pods' required anti-affinity that this pod would violate.
        for other in all_pods:
            for term in _required_terms(other["spec"], "podAntiAffinity"):
                if _term_matches_pod(term, other, pod, ns_labels) and self._same_topology(
                        node, node_by_name.get(other["spec"]["nodeName"]), term.get("topologyKey")):
                    return REASON_POD_ANTI_AFFINITY
        for term in _required_terms(spec, "podAffinity"):
            key = term.get("topologyKey")
            matching = [p for p in all_pods if _term_matches_pod(term, pod, p, ns_labels)]
            if not matching:
                # The first pod of a group may land anywhere if it matches its own term.
                if _term_matches_pod(term, pod, pod, ns_labels):
                    continue
                return REASON_POD_AFFINITY
            if not any(self._same_topology(node, node_by_name.get(p["spec"]["nodeName"]), key) for p in matching):
                return REASON_POD_AFFINITY
        for term in _required_terms(spec, "podAntiAffinity"):
            key = term.get("topologyKey")
            for p in all_pods:
                if _term_matches_pod(term, pod, p, ns_labels) and self._same_topology(
                        node, node_by_name.get(p["spec"]["nodeName"]), key):
                    return REASON_POD_ANTI_AFFINITY
        return None

    @staticmethod
    def _same_topology(a: dict | None, b: dict | None, key: str | None) -> bool:
        if a is None or b is None or not key:
            return False
        la, lb = a["metadata"].get("labels") or {}, b["metadata"].get("labels") or {}
        return key in la and key in lb and la[key] == lb[key]

    def score(self, pod: dict, nodes: list[dict]) -> dict:
        owner = controller_uid(pod)
        counts: dict[str, tuple[int, int]] = {}
        for p in self.store.list("Pod"):
            n = (p.get("spec") or {}).get("nodeName")
            if not n or not is_active(p):
                continue
            same, total = counts.get(n, (0, 0))
            if owner is not None and controller_uid(p) == owner:
                same += 1
            elif owner is None and self._same_labels(pod, p):
                same += 1
            counts[n] = (same, total + 1)
        return min(nodes, key=lambda n: (*counts.get(n["metadata"]["name"], (0, 0)), n["metadata"]["name"]))

    @staticmethod
    def _same_labels(a: dict, b: dict) -> bool:
        la = a["metadata"].get("labels") or {}
        return bool(la) and la == (b["metadata"].get("labels") or {}) and \
            a["metadata"].get("namespace") == b["metadata"].get("namespace")
