"""Entities (`fromEntities`/`toEntities`) as lists of selectors (spec/policy.md §7).

An entity is an OR of selectors; `all` is the wildcard selector, `none` selects nothing.
`cluster` depends on the cluster name, so the mapping is built per config.
"""

from __future__ import annotations

from ..labels import CLUSTER_LABEL
from .selector import Selector, eq, make_selector

ENTITIES = ("all", "world", "cluster", "host", "init", "ingress", "unmanaged", "remote-node",
            "health", "none", "kube-apiserver")
# Accepted by the agent's EntitySelectorMapping but not by the CRD enum.
AGENT_ONLY_ENTITIES = ("world-ipv4", "world-ipv6")

WILDCARD = Selector(())


def _reserved(name: str) -> Selector:
    return make_selector([eq("reserved", name, "")])


WORLD_SELECTORS = (_reserved("world"), _reserved("world-ipv4"), _reserved("world-ipv6"))


def entity_selectors(entity: str, cluster_name: str) -> list[Selector]:
    """The selectors an entity stands for; unknown entity -> KeyError."""
    if entity == "all":
        return [WILDCARD]
    if entity == "world":
        return list(WORLD_SELECTORS)
    if entity == "world-ipv4":
        return [_reserved("world"), _reserved("world-ipv4")]
    if entity == "world-ipv6":
        return [_reserved("world"), _reserved("world-ipv6")]
    if entity == "cluster":
        reserved = ["host", "remote-node", "init", "ingress", "health", "unmanaged", "kube-apiserver"]
        return [_reserved(n) for n in reserved] + [make_selector([eq("k8s", CLUSTER_LABEL, cluster_name)])]
    if entity in ("host", "init", "ingress", "unmanaged", "remote-node", "health", "kube-apiserver", "none"):
        return [_reserved(entity)]
    raise KeyError(entity)
