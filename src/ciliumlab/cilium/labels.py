"""Cilium labels: `source:key=value` triples, and the sets of them that make an identity.

A pod's identity is the filtered set of its labels plus the namespace, service-account and
cluster labels Cilium adds (spec/policy.md §2). Selectors in policies match these sets, with
the wildcard source `any` matching every source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

ANY = "any"


@dataclass(frozen=True, slots=True, order=True)
class Label:
    source: str
    key: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.key}={self.value}" if self.value or self.source != "reserved" else f"{self.source}:{self.key}"

    @staticmethod
    def parse(text: str, default_source: str = "unspec") -> Label:
        """Parse `source:key=value`, `key=value` or `reserved:host`."""
        key, _, value = text.partition("=")
        source, sep, rest = key.partition(":")
        if sep:
            return Label(source, rest, value)
        return Label(default_source, key, value)


class LabelSet:
    """An immutable, hashable, sorted set of labels with lookup by key."""

    __slots__ = ("_labels", "_by_key", "_hash", "__dict__")

    def __init__(self, labels) -> None:
        self._labels: tuple[Label, ...] = tuple(sorted(set(labels)))
        by_key: dict[str, list[Label]] = {}
        for label in self._labels:
            by_key.setdefault(label.key, []).append(label)
        self._by_key = by_key
        self._hash = hash(self._labels)

    @classmethod
    def of(cls, *texts: str) -> LabelSet:
        return cls(Label.parse(t) for t in texts)

    def __iter__(self):
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSet) and self._labels == other._labels

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"LabelSet({', '.join(map(str, self._labels))})"

    def lookup(self, source: str, key: str) -> Label | None:
        """The label with this key and source; source `any` matches every source."""
        for label in self._by_key.get(key, ()):
            if source == ANY or label.source == source:
                return label
        return None

    def has_source(self, source: str) -> bool:
        return any(label.source == source for label in self._labels)

    def keys(self) -> set[str]:
        return set(self._by_key)

    @cached_property
    def strings(self) -> list[str]:
        """Sorted `source:key=value` strings, the form cilium-dbg and Hubble print."""
        return sorted(str(label) for label in self._labels)

    def union(self, other: LabelSet) -> LabelSet:
        return LabelSet((*self._labels, *other._labels))


# --------------------------------------------------------------------------------------------
# Reserved identities' label sets (spec/policy.md §3)
def reserved(*names: str) -> LabelSet:
    return LabelSet(Label("reserved", n, "") for n in names)


# --------------------------------------------------------------------------------------------
# The default identity-relevant label filter (pkg/labelsfilter)
_INCLUDE = [re.compile(p) for p in (
    r"reserved:.*", r"io\.kubernetes\.pod\.namespace", r"io\.cilium\.k8s\.namespace\.labels",
    r"app\.kubernetes\.io", r"io\.cilium\.k8s\.policy\.cluster",
)]
_EXCLUDE = [re.compile(p) for p in (
    r"io\.kubernetes", r"kubernetes\.io", r"statefulset\.kubernetes\.io/pod-name",
    r"apps\.kubernetes\.io/pod-index", r"batch\.kubernetes\.io/job-completion-index",
    r".*beta\.kubernetes\.io", r"k8s\.io", r"pod-template-generation", r"pod-template-hash",
    r"controller-revision-hash", r"annotation.*", r"etcd_node",
)]


def _prefix_len(patterns, key: str, shortest: bool) -> int | None:
    lengths = [m.end() for p in patterns if (m := p.match(key))]
    if not lengths:
        return None
    return min(lengths) if shortest else max(lengths)


def identity_relevant(key: str) -> bool:
    """Cilium's default filter: keep unless excluded, or if a longer inclusion wins."""
    excluded = _prefix_len(_EXCLUDE, key, shortest=True)
    if excluded is None:
        return True
    included = _prefix_len(_INCLUDE, key, shortest=False)
    return included is not None and included > excluded


NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
SERVICE_ACCOUNT_LABEL = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_LABEL = "io.cilium.k8s.policy.cluster"
NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."


def pod_identity_labels(
    pod_labels: dict[str, str],
    namespace: str,
    namespace_labels: dict[str, str],
    service_account: str = "default",
    cluster: str = "default",
) -> LabelSet:
    """The identity labels of a pod endpoint (spec/policy.md §2.2, filtered per §2.3)."""
    labels = [Label("k8s", k, str(v)) for k, v in pod_labels.items() if identity_relevant(k)]
    labels.append(Label("k8s", NAMESPACE_LABEL, namespace))
    labels.append(Label("k8s", SERVICE_ACCOUNT_LABEL, service_account or "default"))
    labels.append(Label("k8s", CLUSTER_LABEL, cluster))
    labels.extend(Label("k8s", NAMESPACE_LABELS_PREFIX + k, str(v)) for k, v in namespace_labels.items())
    return LabelSet(labels)
