"""Deployment -> ReplicaSet -> Pods, like kube-controller-manager.

A template change creates a new ReplicaSet `<deploy>-<pod-template-hash>`; the rollout is
instantaneous (new RS scaled to spec.replicas, old ones to 0). Old RSs beyond
revisionHistoryLimit are deleted.
"""

from __future__ import annotations

import copy
import math

from ..names import compute_hash
from ..selectors import matches
from . import Controller
from .util import (
    defaulted_template,
    is_active,
    now,
    omit_zero,
    owned_by,
    owner_ref,
    pod_from_template,
    pod_ready,
    set_condition,
    write,
)

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"


def _template_without_hash(template: dict) -> dict:
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def resolve_int_or_percent(value, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        pct = int(s[:-1])
        v = pct * total / 100
        return math.ceil(v) if round_up else math.floor(v)
    return int(s)


def build_replicaset(d: dict, template: dict, h: str, name: str, replicas: int, max_surge: int, rev: int) -> dict:
    """The ReplicaSet a Deployment creates for a pod template with hash `h`."""
    tmpl = copy.deepcopy(template)
    tmpl.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
    sel = copy.deepcopy(d["spec"].get("selector") or {})
    sel.setdefault("matchLabels", {})[HASH_LABEL] = h
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = h
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": d["metadata"]["namespace"],
            "labels": labels,
            "annotations": {DESIRED: str(replicas), MAX: str(replicas + max_surge), REVISION: str(rev)},
            "ownerReferences": [owner_ref(d)],
        },
        "spec": {"replicas": replicas, "selector": sel, "template": tmpl,
                 **({"minReadySeconds": d["spec"]["minReadySeconds"]} if d["spec"].get("minReadySeconds") else {})},
    }


class DeploymentController(Controller):
    name = "deployment"

    def sync(self) -> None:
        for d in sorted(self.store.list("Deployment"), key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"])):
            self.sync_one(d)

    def sync_one(self, d: dict) -> None:
        spec = d.get("spec") or {}
        ns = d["metadata"]["namespace"]
        template = defaulted_template(d)
        replicas = spec.get("replicas", 1)
        rss = owned_by(self.store, "ReplicaSet", d)
        target = _template_without_hash(template)
        new_rs = next((rs for rs in rss if _template_without_hash(rs["spec"]["template"]) == target), None)
        old_rss = [rs for rs in rss if rs is not new_rs]
        max_rev = max([int(rs["metadata"].get("annotations", {}).get(REVISION, "0") or 0) for rs in rss] or [0])
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
        max_unavail = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
        created = False
        status = copy.deepcopy(d.get("status") or {})
        if spec.get("paused"):
            return
        if new_rs is None:
            collision = status.get("collisionCount")
            while True:
                h = compute_hash(template, collision)
                name = f"{d['metadata']['name']}-{h}"
                existing = self.store.get("ReplicaSet", ns, name)
                if existing is None:
                    break
                collision = (collision or 0) + 1
            if collision is not None:
                status["collisionCount"] = collision
            new_rs = build_replicaset(d, template, h, name, replicas, max_surge, max_rev + 1)
            new_rs = self.store.create(new_rs)
            created = True
            if replicas:
                self._scaled(d, new_rs, 0, replicas)
        else:
            rev = int(new_rs["metadata"].get("annotations", {}).get(REVISION, "0") or 0)
            want_rev = rev if rev == max_rev else max_rev + 1
            updated = copy.deepcopy(new_rs)
            updated["spec"]["replicas"] = replicas
            ann = updated["metadata"].setdefault("annotations", {})
            ann[DESIRED] = str(replicas)
            ann[MAX] = str(replicas + max_surge)
            ann[REVISION] = str(want_rev)
            was = new_rs["spec"].get("replicas", 1)
            new_rs = write(self.store, updated, new_rs)
            if was != replicas:
                self._scaled(d, new_rs, was, replicas)
        for rs in old_rss:
            if rs["spec"].get("replicas", 0) != 0:
                updated = copy.deepcopy(rs)
                updated["spec"]["replicas"] = 0
                self._scaled(d, self.store.update(updated), rs["spec"]["replicas"], 0)
        self._cleanup(d, [rs for rs in old_rss if self.store.get("ReplicaSet", ns, rs["metadata"]["name"])])
        # annotations on the Deployment
        d_new = copy.deepcopy(d)
        d_new["metadata"].setdefault("annotations", {})[REVISION] = new_rs["metadata"]["annotations"][REVISION]
        # status
        rss = owned_by(self.store, "ReplicaSet", d)
        new_rs = self.store.get("ReplicaSet", ns, new_rs["metadata"]["name"]) or new_rs
        rs_status = [rs.get("status") or {} for rs in rss]
        total = sum(s.get("replicas", 0) for s in rs_status)
        ready = sum(s.get("readyReplicas", 0) for s in rs_status)
        available = sum(s.get("availableReplicas", 0) for s in rs_status)
        updated_n = (new_rs.get("status") or {}).get("replicas", 0)
        new_available = (new_rs.get("status") or {}).get("availableReplicas", 0)
        status["observedGeneration"] = d["metadata"].get("generation", 1)
        status["replicas"] = total
        status["updatedReplicas"] = updated_n
        status["readyReplicas"] = ready
        status["availableReplicas"] = available
        status["unavailableReplicas"] = max(replicas - available, 0)
        omit_zero(status, "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")
        ts = now(self.ctx)
        conds = status.get("conditions") or []
        if available >= replicas - max_unavail:
            conds = set_condition(conds, "Available", "True", ts, reason="MinimumReplicasAvailable",
                                  message="Deployment has minimum availability.", probe=False, update_time=True)
        else:
            conds = set_condition(conds, "Available", "False", ts, reason="MinimumReplicasUnavailable",
                                  message="Deployment does not have minimum availability.", probe=False,
                                  update_time=True)
        rs_name = new_rs["metadata"]["name"]
        complete = updated_n == replicas and new_available == replicas and total == replicas
        if complete:
            reason, msg = "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.'
        elif created:
            reason, msg = "NewReplicaSetCreated", f'Created new replica set "{rs_name}"'
        else:
            reason, msg = "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'
        conds = set_condition(conds, "Progressing", "True", ts, reason=reason, message=msg, probe=False,
                              update_time=True)
        order = {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}
        status["conditions"] = sorted(conds, key=lambda c: order.get(c["type"], 9))
        d_new["status"] = {k: status[k] for k in sorted(status)}
        write(self.store, d_new, d)

    def _scaled(self, d: dict, rs: dict, was: int, now_: int) -> None:
        direction = "up" if now_ > was else "down"
        self.event(d, "ScalingReplicaSet", f"Scaled {direction} replica set {rs['metadata']['name']} from {was} to {now_}",
                   component="deployment-controller")

    def _cleanup(self, d: dict, old_rss: list[dict]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit", 10)
        idle = [rs for rs in old_rss if rs["spec"].get("replicas", 0) == 0 and
                not (rs.get("status") or {}).get("replicas")]
        if len(idle) <= limit:
            return
        idle.sort(key=lambda rs: int(rs["metadata"].get("annotations", {}).get(REVISION, "0") or 0))
        for rs in idle[: len(idle) - limit]:
            self.store.delete("ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"])


class ReplicaSetController(Controller):
    name = "replicaset"

    def sync(self) -> None:
        for rs in sorted(self.store.list("ReplicaSet"), key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"])):
            self.sync_one(rs)

    def sync_one(self, rs: dict) -> None:
        ns = rs["metadata"]["namespace"]
        spec = rs.get("spec") or {}
        want = spec.get("replicas", 1)
        pods = [p for p in owned_by(self.store, "Pod", rs) if is_active(p)]
        if len(pods) < want:
            for _ in range(want - len(pods)):
                name = self.ctx.names.generate(f"{rs['metadata']['name']}-",
                                               lambda n: self.store.get("Pod", ns, n) is not None)
                self.store.create(pod_from_template(rs, spec.get("template") or {}, name))
                self.event(rs, "SuccessfulCreate", f"Created pod: {name}", component="replicaset-controller")
        elif len(pods) > want:
            for pod in self._deletion_order(pods)[: len(pods) - want]:
                self.store.delete("Pod", ns, pod["metadata"]["name"])
                self.event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                           component="replicaset-controller")
        pods = [p for p in owned_by(self.store, "Pod", rs) if is_active(p)]
        tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        status = {
            "availableReplicas": sum(1 for p in pods if pod_ready(p)),
            "fullyLabeledReplicas": sum(1 for p in pods if matches({"matchLabels": tlabels}, p["metadata"].get("labels"))),
            "observedGeneration": rs["metadata"].get("generation", 1),
            "readyReplicas": sum(1 for p in pods if pod_ready(p)),
            "replicas": len(pods),
        }
        omit_zero(status, "availableReplicas", "fullyLabeledReplicas", "readyReplicas")
        if status != rs.get("status"):
            new = copy.deepcopy(rs)
            new["status"] = status
            self.store.update(new)

    @staticmethod
    def _deletion_order(pods: list[dict]) -> list[dict]:
        """controller.ActivePodsWithRanks: unscheduled, pending, not ready, doubled-up, newer first."""
        per_node: dict[str, int] = {}
        for p in pods:
            n = p["spec"].get("nodeName", "")
            per_node[n] = per_node.get(n, 0) + 1
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}

        def key(p: dict):
            node = p["spec"].get("nodeName")
            return (
                1 if node else 0,
                phase_rank.get((p.get("status") or {}).get("phase", "Pending"), 0),
                1 if pod_ready(p) else 0,
                -per_node.get(node or "", 0),
                _neg_ts(p["metadata"].get("creationTimestamp", "")),
                -int(p["metadata"].get("resourceVersion", "0") or 0),
            )

        return sorted(pods, key=key)


def _neg_ts(ts: str) -> str:
    # Newer pods sort first: invert the RFC3339 string character-wise (digits only matter).
    return "".join(chr(255 - ord(c)) for c in ts)


__all__ = ["DeploymentController", "ReplicaSetController"]
