"""What this API server serves: every kind in `k8s.kinds` plus the CRD objects themselves.

Routing, discovery and OpenAPI all read this one table, so a kind added to `kinds.py` shows up
everywhere at once (URL, `kubectl api-resources`, `kubectl explain`, validation hooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import kinds
from ..kinds import KindInfo

CRD_INFO = KindInfo("CustomResourceDefinition", "apiextensions.k8s.io", "v1", "customresourcedefinitions", False,
                    ("crd", "crds"), "customresourcedefinition", ("api-extensions",))

# Served so `kubectl get all` and `kubectl cluster-info dump` find them; the lab has none.
RC_INFO = KindInfo("ReplicationController", "", "v1", "replicationcontrollers", True, ("rc",),
                   "replicationcontroller", ("all",))

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")

# Subresources a real cluster advertises for these kinds (CiliumEndpoint has no status marker).
_SUBRESOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "Namespace": {"status": STATUS_VERBS, "finalize": ("update",)},
    "Node": {"status": STATUS_VERBS, "proxy": ("create", "delete", "get", "patch", "update")},
    "Pod": {"status": STATUS_VERBS, "log": ("get",), "exec": ("create", "get"), "portforward": ("create", "get"),
            "attach": ("create", "get"), "eviction": ("create",), "binding": ("create",)},
    "Service": {"status": STATUS_VERBS, "proxy": ("create", "delete", "get", "patch", "update")},
    "Deployment": {"status": STATUS_VERBS, "scale": STATUS_VERBS},
    "ReplicaSet": {"status": STATUS_VERBS, "scale": STATUS_VERBS},
    "StatefulSet": {"status": STATUS_VERBS, "scale": STATUS_VERBS},
    "DaemonSet": {"status": STATUS_VERBS},
    "CiliumNetworkPolicy": {"status": STATUS_VERBS},
    "CiliumClusterwideNetworkPolicy": {"status": STATUS_VERBS},
    "CiliumIdentity": {"status": STATUS_VERBS},
    "CiliumNode": {"status": STATUS_VERBS},
    "CustomResourceDefinition": {"status": STATUS_VERBS},
}


@dataclass(frozen=True)
class Resource:
    info: KindInfo
    subresources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    synthetic: bool = False  # not in the store: CRDs come from `crds.py`, the rest is empty (read-only)

    @property
    def custom(self) -> bool:
        """A CustomResource: merge/json/apply patches only, CRD printer columns, kind in list items."""
        return self.info.group in kinds.CUSTOM_GROUPS

    @property
    def group_version(self) -> str:
        return self.info.api_version

    @property
    def verbs(self) -> tuple[str, ...]:
        return ("get", "list", "watch") if self.synthetic else VERBS


RESOURCES: tuple[Resource, ...] = tuple(
    Resource(info, _SUBRESOURCES.get(info.kind, {})) for info in kinds.KINDS
) + (
    Resource(RC_INFO, {"status": STATUS_VERBS, "scale": STATUS_VERBS}, synthetic=True),
    Resource(CRD_INFO, _SUBRESOURCES["CustomResourceDefinition"], synthetic=True),
)

_BY_PATH: dict[tuple[str, str, str], Resource] = {(r.info.group, r.info.version, r.info.plural): r for r in RESOURCES}
_BY_KIND: dict[str, Resource] = {r.info.kind: r for r in RESOURCES}


def by_path(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def by_kind(kind: str) -> Resource | None:
    return _BY_KIND.get(kind)


def group_versions() -> list[tuple[str, str]]:
    """(group, version) in preference order, core first; groups keep their first-seen order."""
    seen: list[tuple[str, str]] = []
    for r in RESOURCES:
        gv = (r.info.group, r.info.version)
        if gv not in seen:
            seen.append(gv)
    return seen


def resources_in(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if r.info.group == group and r.info.version == version]
