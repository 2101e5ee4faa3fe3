"""The versioned object store: the lab's etcd.

Objects are plain dicts shaped exactly as the Kubernetes API returns them. The store stamps
server-owned metadata (uid, resourceVersion, creationTimestamp, generation) and tells
subscribers about every change, which is how controllers and the Cilium agent react to writes
without polling.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from ..clock import Clock
from . import kinds

Key = tuple[str, str, str]  # (kind, namespace or "", name)
Listener = Callable[[str, dict, dict | None], None]  # (event ADDED|MODIFIED|DELETED, obj, old)


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    info = kinds.for_kind(obj.get("kind", ""), obj.get("apiVersion", ""))
    namespace = (meta.get("namespace") or "default") if info.namespaced else ""
    return (obj["kind"], namespace, meta.get("name", ""))


class Store:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._objects: dict[Key, dict] = {}
        self._by_kind: dict[str, dict[Key, dict]] = {}
        self._listeners: list[Listener] = []
        self.resource_version = 0

    # -- reading -------------------------------------------------------------------------
    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        info = kinds.for_kind(kind)
        ns = (namespace or "default") if info.namespaced else ""
        return self._objects.get((kind, ns, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        objs = self._by_kind.get(kind, {})
        if namespace is None:
            return list(objs.values())
        return [o for (_, ns, _), o in objs.items() if ns == namespace]

    def kinds_present(self) -> list[str]:
        return [k for k, objs in self._by_kind.items() if objs]

    def __iter__(self) -> Iterator[dict]:
        return iter(list(self._objects.values()))

    # -- writing -------------------------------------------------------------------------
    def restore(self, objects: Iterable[dict], resource_version: int = 0) -> None:
        """Load objects exactly as they were persisted (metadata untouched, listeners not told):
        the served lab coming back after a restart. Use on a fresh store; the counter resumes at
        `resource_version` or the highest object resourceVersion, whichever is larger."""
        highest = resource_version
        for obj in objects:
            key = key_of(obj)
            self._objects[key] = obj
            self._by_kind.setdefault(key[0], {})[key] = obj
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
            highest = max(highest, int(rv) if rv.isdigit() else 0)
        self.resource_version = max(self.resource_version, highest)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every write; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _next_rv(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    def create(self, obj: dict) -> dict:
        """Store a new object, stamping server metadata. The caller has validated it."""
        obj = copy.deepcopy(obj)
        key = key_of(obj)
        meta = obj.setdefault("metadata", {})
        info = kinds.for_kind(obj["kind"], obj.get("apiVersion", ""))
        obj.setdefault("apiVersion", info.api_version)
        if info.namespaced:
            meta["namespace"] = key[1]
        else:
            meta.pop("namespace", None)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", rfc3339(self._clock.now()))
        meta["resourceVersion"] = self._next_rv()
        if "spec" in obj:
            meta.setdefault("generation", 1)
        self._objects[key] = obj
        self._by_kind.setdefault(key[0], {})[key] = obj
        self._notify("ADDED", obj, None)
        return obj

    def update(self, obj: dict) -> dict:
        """Replace an existing object; bumps generation when the spec changed."""
        key = key_of(obj)
        old = self._objects[key]
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        old_meta = old["metadata"]
        for field in ("uid", "creationTimestamp"):
            meta[field] = old_meta[field]
        if "namespace" in old_meta:
            meta["namespace"] = old_meta["namespace"]
        generation = old_meta.get("generation")
        if generation is not None or "spec" in obj:
            generation = generation or 1
            if obj.get("spec") != old.get("spec"):
                generation += 1
            meta["generation"] = generation
        meta["resourceVersion"] = self._next_rv()
        self._objects[key] = obj
        self._by_kind[key[0]][key] = obj
        self._notify("MODIFIED", obj, old)
        return obj

    def upsert(self, obj: dict) -> dict:
        return self.update(obj) if key_of(obj) in self._objects else self.create(obj)

    def delete(self, kind: str, namespace: str | None, name: str) -> dict | None:
        info = kinds.for_kind(kind)
        key = (kind, (namespace or "default") if info.namespaced else "", name)
        obj = self._objects.pop(key, None)
        if obj is None:
            return None
        del self._by_kind[kind][key]
        self.resource_version += 1
        self._notify("DELETED", obj, None)
        return obj

    def _notify(self, event: str, obj: dict, old: dict | None) -> None:
        for listener in list(self._listeners):
            listener(event, obj, old)
