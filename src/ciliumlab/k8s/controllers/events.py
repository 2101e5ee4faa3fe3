"""core/v1 Events, recorded where the owning component acts (client-go's `record.EventRecorder`).

What a real cluster shows in `kubectl describe` / `kubectl get events` for the common cases:

    default-scheduler       Scheduled          Successfully assigned default/tiefighter to k8s-w1
    kubelet                 Pulled             Container image "quay.io/cilium/json-mock:v1.3.8…" already present on machine
    kubelet                 Created            Created container: spaceship
    kubelet                 Started            Started container spaceship
    replicaset-controller   SuccessfulCreate   Created pod: deathstar-6c94dcc57b-4f9x7
    deployment-controller   ScalingReplicaSet  Scaled up replica set deathstar-6c94dcc57b from 0 to 2

Like client-go's event correlator, a repeat of the same event (same object, reason, message,
source) bumps `count` and `lastTimestamp` of the existing Event instead of adding one. Names are
`<involved object name>.<hex nanoseconds>` as client-go makes them. Each namespace keeps at most
`MAX_PER_NAMESPACE` Events (the oldest go first) — the lab's stand-in for the apiserver's 1 h
event TTL, so recording stays cheap and bounded however long a lab runs.
"""

from __future__ import annotations

from collections import OrderedDict

from ..store import Store, rfc3339

MAX_PER_NAMESPACE = 1000

NORMAL, WARNING = "Normal", "Warning"


class EventRecorder:
    def __init__(self, store: Store, clock) -> None:
        self.store = store
        self.clock = clock
        # namespace -> {correlation key: event name}, oldest first
        self._by_ns: dict[str, OrderedDict[tuple, str]] = {}
        for ev in sorted(store.list("Event"), key=lambda e: int(e["metadata"].get("resourceVersion", "0") or 0)):
            self._index(ev)  # a restored lab keeps correlating with (and capping) what it had

    @staticmethod
    def _key(ev: dict) -> tuple:
        inv = ev.get("involvedObject") or {}
        src = ev.get("source") or {}
        return (inv.get("kind"), inv.get("name"), inv.get("uid"), inv.get("fieldPath"), ev.get("type"),
                ev.get("reason"), ev.get("message"), src.get("component"), src.get("host"))

    def _index(self, ev: dict) -> None:
        ns = ev["metadata"].get("namespace", "default")
        self._by_ns.setdefault(ns, OrderedDict())[self._key(ev)] = ev["metadata"]["name"]

    def record(self, obj: dict, reason: str, message: str, *, component: str, host: str | None = None,
               field_path: str | None = None, type: str = NORMAL) -> dict:
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default"
        ts = rfc3339(self.clock.now())
        involved = {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj["kind"], "name": meta["name"],
                    "namespace": ns, "resourceVersion": meta.get("resourceVersion"), "uid": meta.get("uid")}
        if not meta.get("namespace"):
            involved.pop("namespace")  # cluster-scoped objects' events live in "default"
        if field_path:
            involved["fieldPath"] = field_path
        source = {"component": component, **({"host": host} if host else {})}
        ev = {"apiVersion": "v1", "kind": "Event", "involvedObject": involved, "reason": reason,
              "message": message, "source": source, "type": type}
        key = self._key(ev)
        events = self._by_ns.setdefault(ns, OrderedDict())
        name = events.get(key)
        existing = self.store.get("Event", ns, name) if name else None
        if existing is not None:
            updated = {**existing, "count": int(existing.get("count") or 1) + 1, "lastTimestamp": ts,
                       "involvedObject": involved}
            events.move_to_end(key)
            return self.store.update(updated)
        nanos = int(self.clock.now() * 1e9)
        name = f"{meta['name']}.{nanos:x}"
        while self.store.get("Event", ns, name) is not None:
            nanos += 1
            name = f"{meta['name']}.{nanos:x}"
        ev["metadata"] = {"name": name, "namespace": ns}
        ev.update({"firstTimestamp": ts, "lastTimestamp": ts, "count": 1, "eventTime": None,
                   "reportingComponent": component, "reportingInstance": host or ""})
        stored = self.store.create(ev)
        events[key] = name
        while len(events) > MAX_PER_NAMESPACE:
            _, oldest = events.popitem(last=False)
            self.store.delete("Event", ns, oldest)
        return stored


def recorder(store: Store, ctx) -> EventRecorder:
    """The context's recorder (made on first use: one per store)."""
    rec = getattr(ctx, "events", None)
    if rec is None or rec.store is not store:
        rec = EventRecorder(store, ctx.clock)
        ctx.events = rec
    return rec


def container_field_path(pod: dict, container: str) -> str:
    """`spec.containers{name}` / `spec.initContainers{name}`, as the kubelet references a container."""
    inits = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []}
    return f"spec.initContainers{{{container}}}" if container in inits else f"spec.containers{{{container}}}"
