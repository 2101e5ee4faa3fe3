"""`labelSelector` and `fieldSelector` query parameters.

Field selectors are deliberately narrow on a real apiserver: every resource supports
`metadata.name`/`metadata.namespace`, a few kinds add their own fields, and anything else is a
400 `field label not supported: X`. kubectl relies on the pod fields (`spec.nodeName`,
`status.phase!=Succeeded`) and the event `involvedObject.*` fields for describe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..selectors import parse_label_selector
from .errors import bad_request

_COMMON = ("metadata.name", "metadata.namespace")
_EXTRA: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
              "reason", "reportingComponent", "source", "type"),
    "Node": ("spec.unschedulable",),
    "Namespace": ("status.phase",),
    "Secret": ("type",),
    "ReplicaSet": ("status.replicas",),
}

ObjPredicate = Callable[[dict[str, Any]], bool]


def _field_value(obj: dict[str, Any], path: str) -> str:
    if path == "source":
        return ((obj.get("source") or {}).get("component")) or obj.get("reportingComponent") or ""
    if path == "status.podIPs":
        return ",".join(p.get("ip", "") for p in (obj.get("status") or {}).get("podIPs") or [])
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if cur is None:
        if path == "metadata.namespace":
            return ""
        return "false" if path in ("spec.hostNetwork", "spec.unschedulable") else ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def field_selector(text: str | None, kind: str) -> ObjPredicate:
    """Compile `a=b,c!=d` for `kind`; unsupported fields raise 400 like the apiserver."""
    if not text:
        return lambda obj: True
    reqs: list[tuple[str, bool, str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "!=" in part:
            key, value = part.split("!=", 1)
            negate = True
        elif "==" in part:
            key, value = part.split("==", 1)
            negate = False
        elif "=" in part:
            key, value = part.split("=", 1)
            negate = False
        else:
            raise bad_request(f'invalid field selector: "{part}": no operator found')
        key = key.strip()
        if key not in _COMMON and key not in _EXTRA.get(kind, ()):
            raise bad_request(f'field label not supported: {key}')
        reqs.append((key, negate, value.strip()))

    def pred(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, key) == value) != negate for key, negate, value in reqs)

    return pred


def label_selector(text: str | None) -> ObjPredicate:
    if not text:
        return lambda obj: True
    try:
        match = parse_label_selector(text)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's
        raise bad_request(f"unable to parse requirement: {exc}") from None
    return lambda obj: match((obj.get("metadata") or {}).get("labels") or {})
