"""Security identities: label sets → numbers (spec/policy.md §3).

Cluster identities are allocated in 256..65535. Cilium's CRD allocator picks a free number at
random, which is why the demo shows ids like 16530; we pick pseudo-randomly from a hash of
the labels so a fresh lab is reproducible and the same labels get the same id again after a
restart. CIDR/FQDN-derived identities are node-local and count up from 16777217 (1<<24 | 1).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from .labels import Label, LabelSet, reserved

HOST, WORLD, UNMANAGED, HEALTH, INIT, REMOTE_NODE, KUBE_APISERVER, INGRESS = 1, 2, 3, 4, 5, 6, 7, 8
WORLD_IPV4, WORLD_IPV6 = 9, 10
MIN_CLUSTER_ID, MAX_CLUSTER_ID = 256, 65535
LOCAL_SCOPE = 1 << 24

RESERVED_LABELS: dict[int, LabelSet] = {
    HOST: reserved("host"),
    WORLD: reserved("world"),
    UNMANAGED: reserved("unmanaged"),
    HEALTH: reserved("health"),
    INIT: reserved("init"),
    REMOTE_NODE: reserved("remote-node"),
    KUBE_APISERVER: reserved("kube-apiserver", "remote-node"),
    INGRESS: reserved("ingress"),
    WORLD_IPV4: reserved("world-ipv4"),
    WORLD_IPV6: reserved("world-ipv6"),
}

RESERVED_NAMES: dict[int, str] = {
    0: "unknown", HOST: "host", WORLD: "world", UNMANAGED: "unmanaged", HEALTH: "health", INIT: "init",
    REMOTE_NODE: "remote-node", KUBE_APISERVER: "kube-apiserver", INGRESS: "ingress",
    WORLD_IPV4: "world-ipv4", WORLD_IPV6: "world-ipv6",
}


@dataclass(frozen=True, slots=True)
class Identity:
    id: int
    labels: LabelSet

    @property
    def is_reserved(self) -> bool:
        return self.id < MIN_CLUSTER_ID

    @property
    def is_local(self) -> bool:
        return self.id >= LOCAL_SCOPE


Listener = Callable[[str, Identity], None]  # ("added"|"removed", identity)


class IdentityAllocator:
    """Allocates and reference-counts identities; tells listeners (policy, CRD writer) about changes."""

    def __init__(self) -> None:
        self._by_id: dict[int, Identity] = {}
        self._by_labels: dict[LabelSet, Identity] = {}
        self._refs: dict[int, int] = {}
        self._listeners: list[Listener] = []
        self._next_local = LOCAL_SCOPE + 1
        for ident, labels in RESERVED_LABELS.items():
            identity = Identity(ident, labels)
            self._by_id[ident] = identity
            self._by_labels[labels] = identity

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def get(self, ident: int) -> Identity | None:
        return self._by_id.get(ident)

    def all(self) -> list[Identity]:
        return list(self._by_id.values())

    def lookup(self, labels: LabelSet) -> Identity | None:
        return self._by_labels.get(labels)

    def acquire(self, labels: LabelSet, *, preferred: int | None = None) -> Identity:
        """Get (allocating if needed) the cluster identity of a label set and take a reference."""
        identity = self._by_labels.get(labels)
        if identity is None:
            identity = self._allocate(labels, preferred)
        self._refs[identity.id] = self._refs.get(identity.id, 0) + 1
        return identity

    def release(self, identity: Identity) -> None:
        if identity.is_reserved:
            return
        left = self._refs.get(identity.id, 0) - 1
        if left > 0:
            self._refs[identity.id] = left
            return
        self._refs.pop(identity.id, None)
        self._by_id.pop(identity.id, None)
        self._by_labels.pop(identity.labels, None)
        self._emit("removed", identity)

    def _allocate(self, labels: LabelSet, preferred: int | None) -> Identity:
        candidate = preferred if preferred and preferred not in self._by_id else None
        if candidate is None:
            digest = hashlib.sha256("\n".join(labels.strings).encode()).digest()
            span = MAX_CLUSTER_ID - MIN_CLUSTER_ID + 1
            candidate = MIN_CLUSTER_ID + int.from_bytes(digest[:4], "big") % span
            while candidate in self._by_id:
                candidate = MIN_CLUSTER_ID + (candidate - MIN_CLUSTER_ID + 7919) % span
        identity = Identity(candidate, labels)
        self._by_id[candidate] = identity
        self._by_labels[labels] = identity
        self._emit("added", identity)
        return identity

    # -- local (CIDR / FQDN) identities ----------------------------------------------------
    def local_identity(self, labels: LabelSet) -> Identity:
        """A node-local identity (16777217+) for a CIDR/FQDN label set; allocated once, kept."""
        identity = self._by_labels.get(labels)
        if identity is None:
            identity = Identity(self._next_local, labels)
            self._next_local += 1
            self._by_id[identity.id] = identity
            self._by_labels[labels] = identity
            self._emit("added", identity)
        return identity

    def _emit(self, event: str, identity: Identity) -> None:
        for listener in self._listeners:
            listener(event, identity)


def cidr_labels(prefix: ipaddress.IPv4Network, extra: tuple[Label, ...] = ()) -> LabelSet:
    """Labels of a CIDR identity: the prefix itself plus reserved:world (spec §3)."""
    return LabelSet((Label("cidr", str(prefix), ""), Label("reserved", "world", ""), *extra))
