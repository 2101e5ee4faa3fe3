"""StatefulSet: `<name>-0..N-1`, ordered (OrderedReady) or all at once (Parallel)."""

from __future__ import annotations

import copy

from ..names import compute_hash
from . import Controller
from .util import defaulted_template, is_active, omit_zero, owned_by, pod_from_template, pod_ready

REVISION_HASH = "controller-revision-hash"
POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"


def ordinal(pod: dict, sts_name: str) -> int | None:
    name = pod["metadata"]["name"]
    prefix = sts_name + "-"
    if not name.startswith(prefix) or not name[len(prefix):].isdigit():
        return None
    return int(name[len(prefix):])


class StatefulSetController(Controller):
    name = "statefulset"

    def sync(self) -> None:
        for sts in sorted(self.store.list("StatefulSet"), key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"])):
            self.sync_one(sts)

    def sync_one(self, sts: dict) -> None:
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        spec = sts.get("spec") or {}
        replicas = spec.get("replicas", 1)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        template = defaulted_template(sts)
        revision = f"{name}-{compute_hash(template, (sts.get('status') or {}).get('collisionCount'))}"
        pods = {ordinal(p, name): p for p in owned_by(self.store, "Pod", sts) if is_active(p)}
        pods.pop(None, None)
        # scale down / out-of-range ordinals: highest first, one at a time unless Parallel
        extra = sorted((i for i in pods if i >= replicas), reverse=True)
        for i in extra:
            self.store.delete("Pod", ns, pods[i]["metadata"]["name"])
            del pods[i]
            if not parallel:
                break
        # stale revisions: replace highest ordinal first
        stale = sorted((i for i, p in pods.items() if (p["metadata"].get("labels") or {}).get(REVISION_HASH) != revision),
                       reverse=True)
        if stale and (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0)
            for i in stale:
                if i < partition:
                    continue
                self.store.delete("Pod", ns, pods[i]["metadata"]["name"])
                del pods[i]
                if not parallel:
                    break
        for i in range(replicas):
            if i in pods:
                if not parallel and not pod_ready(pods[i]):
                    break
                continue
            self._create(sts, template, revision, i)
            if not parallel:
                break
        self._status(sts, revision)

    def _create(self, sts: dict, template: dict, revision: str, i: int) -> None:
        name = f"{sts['metadata']['name']}-{i}"
        tmpl = copy.deepcopy(template)
        tspec = tmpl.setdefault("spec", {})
        tspec.setdefault("hostname", name)
        if sts["spec"].get("serviceName"):
            tspec.setdefault("subdomain", sts["spec"]["serviceName"])
        pod = pod_from_template(sts, tmpl, name, extra_labels={
            REVISION_HASH: revision, POD_NAME: name, POD_INDEX: str(i)})
        self.store.create(pod)
        self.event(sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful",
                   component="statefulset-controller")

    def _status(self, sts: dict, revision: str) -> None:
        pods = [p for p in owned_by(self.store, "Pod", sts) if is_active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        current = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get(REVISION_HASH) == revision)
        status = {
            "availableReplicas": ready,
            "collisionCount": (sts.get("status") or {}).get("collisionCount", 0),
            "currentReplicas": current,
            "currentRevision": revision,
            "observedGeneration": sts["metadata"].get("generation", 1),
            "readyReplicas": ready,
            "replicas": len(pods),
            "updateRevision": revision,
            "updatedReplicas": current,
        }
        omit_zero(status, "readyReplicas", "currentReplicas", "updatedReplicas")
        if status != sts.get("status"):
            new = copy.deepcopy(sts)
            new["status"] = status
            self.store.update(new)
