"""Helpers shared by the controllers."""

from __future__ import annotations

import copy

from ..store import Store, rfc3339
from ..validation import apply_defaults

TERMINAL_PHASES = ("Succeeded", "Failed")


def now(ctx) -> str:
    return rfc3339(ctx.clock.now())


def owner_ref(owner: dict, *, controller: bool = True) -> dict:
    ref = {
        "apiVersion": owner.get("apiVersion", "v1"),
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if controller:
        ref["controller"] = True
        ref["blockOwnerDeletion"] = True
    return ref


def controller_uid(obj: dict) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def owned_by(store: Store, kind: str, owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    ns = owner["metadata"].get("namespace")
    return [o for o in store.list(kind, ns) if controller_uid(o) == uid]


def is_active(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES and not pod["metadata"].get("deletionTimestamp")


def condition(obj: dict, ctype: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def pod_ready(pod: dict) -> bool:
    c = condition(pod, "Ready")
    return bool(c and c.get("status") == "True")


def write(store: Store, new: dict, old: dict | None) -> dict:
    """Create or update `new`, but only when it differs from `old` (ignoring resourceVersion)."""
    if old is None:
        return store.create(new)
    if _strip(new) == _strip(old):
        return old
    return store.update(new)


def _strip(obj: dict) -> dict:
    o = dict(obj)
    meta = dict(o.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta.pop("generation", None)
    o["metadata"] = meta
    return o


def set_condition(conditions: list[dict], ctype: str, status: str, ts: str, *, reason: str | None = None,
                  message: str | None = None, probe: bool = True, update_time: bool = False) -> list[dict]:
    """Set one condition, keeping lastTransitionTime unless the status changed."""
    out = [dict(c) for c in conditions]
    cur = next((c for c in out if c.get("type") == ctype), None)
    new = {"type": ctype, "status": status}
    if probe:
        new["lastProbeTime"] = None
    if update_time:
        new["lastUpdateTime"] = ts
    new["lastTransitionTime"] = ts
    if reason is not None:
        new["reason"] = reason
    if message is not None:
        new["message"] = message
    if cur is not None:
        if cur.get("status") == status:
            new["lastTransitionTime"] = cur.get("lastTransitionTime", ts)
            if update_time and cur.get("reason") == reason and cur.get("message") == message:
                new["lastUpdateTime"] = cur.get("lastUpdateTime", ts)
        out[out.index(cur)] = {k: new[k] for k in _cond_order(new)}
    else:
        out.append({k: new[k] for k in _cond_order(new)})
    return out


def _cond_order(c: dict) -> list[str]:
    order = ["lastProbeTime", "lastTransitionTime", "lastUpdateTime", "message", "reason", "status", "type"]
    return [k for k in order if k in c]


def pod_from_template(owner: dict, template: dict, name: str, *, extra_labels: dict | None = None) -> dict:
    """A new Pod object from a workload's template (defaulted as the API server would)."""
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    labels.update(extra_labels or {})
    meta: dict = {
        "name": name,
        "generateName": name[: name.rfind("-") + 1] if owner["kind"] != "StatefulSet" else None,
        "namespace": owner["metadata"].get("namespace", "default"),
        "labels": labels,
        "ownerReferences": [owner_ref(owner)],
    }
    if meta["generateName"] is None:
        del meta["generateName"]
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}
    return apply_defaults(pod)


def defaulted_template(obj: dict) -> dict:
    """The workload's pod template with API-server defaults (what pod-template-hash is computed over)."""
    d = apply_defaults({"kind": obj["kind"], "apiVersion": obj.get("apiVersion"), "metadata": {},
                        "spec": {"template": copy.deepcopy((obj.get("spec") or {}).get("template") or {})}})
    return d["spec"]["template"]


def omit_zero(status: dict, *keys: str) -> dict:
    for k in keys:
        if not status.get(k):
            status.pop(k, None)
    return status
