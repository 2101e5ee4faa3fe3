"""Builders for Kubernetes-level endpoint attributes: security identity, pod, workload, service
and cluster name (Cilium's identity.go, k8s.go, workload.go, cluster_name.go)."""

from __future__ import annotations

import json
from collections.abc import Callable

from ciliumlab.hubble.types import FilterError, Flow, Predicate

_SIDES = (("source", "source"), ("destination", "destination"))


def build_identity(ff: dict) -> list[Predicate]:
    """`source_identity`/`destination_identity`: numeric equality with Endpoint.identity.
    A flow without that endpoint never matches (not even identity 0)."""
    preds: list[Predicate] = []
    for side, endpoint_key in _SIDES:
        values = ff.get(f"{side}_identity")
        if not values:
            continue
        wanted = frozenset(values)

        def match(flow: Flow, _key: str = endpoint_key, _wanted: frozenset = wanted) -> bool:
            endpoint = flow.get(_key)
            return endpoint is not None and endpoint.get("identity", 0) in _wanted

        preds.append(match)
    return preds


def parse_namespaced_name(value: str) -> tuple[str | None, str]:
    """`ns/prefix` -> (ns, prefix); no slash -> ("default", value).

    An empty namespace before the slash (`/prefix`, `/`) means *any* namespace, returned as None:
    that is what `hubble observe -A` sends. An empty value is a request error.
    """
    if value == "":
        raise FilterError(f"invalid filter, must be [namespace/][<name>], got {json.dumps(value)}")
    if "/" not in value:
        return "default", value
    ns, name = value.split("/", 2)[:2]
    return (ns or None), name


def filter_by_namespaced_name(values: list[str], get_name: Callable[[Flow], tuple[str, str]]) -> Predicate:
    """Namespace must equal (unless any) and the name must start with the prefix (if any).
    Endpoints/services with neither namespace nor name never match."""
    specs = tuple(parse_namespaced_name(v) for v in values)

    def match(flow: Flow) -> bool:
        ns, name = get_name(flow)
        if not ns and not name:
            return False
        for fns, prefix in specs:
            if (fns is None or fns == ns) and name.startswith(prefix):
                return True
        return False

    return match


def _pod_getter(key: str) -> Callable[[Flow], tuple[str, str]]:
    def get(flow: Flow) -> tuple[str, str]:
        ep = flow.get(key)
        if ep is None:
            return "", ""
        return ep.get("namespace", ""), ep.get("pod_name", "")

    return get


def _service_getter(key: str) -> Callable[[Flow], tuple[str, str]]:
    def get(flow: Flow) -> tuple[str, str]:
        svc = flow.get(key)
        if svc is None:
            return "", ""
        return svc.get("namespace", ""), svc.get("name", "")

    return get


def build_pod(ff: dict) -> list[Predicate]:
    """`source_pod`/`destination_pod`: `[ns/]pod-prefix` against Endpoint namespace/pod_name."""
    preds: list[Predicate] = []
    for side, key in _SIDES:
        values = ff.get(f"{side}_pod")
        if values:
            preds.append(filter_by_namespaced_name(values, _pod_getter(key)))
    return preds


def build_service(ff: dict) -> list[Predicate]:
    """`source_service`/`destination_service`: same syntax as pods, against Flow.*_service."""
    preds: list[Predicate] = []
    for side in ("source", "destination"):
        values = ff.get(f"{side}_service")
        if not values:
            continue
        try:
            preds.append(filter_by_namespaced_name(values, _service_getter(f"{side}_service")))
        except FilterError as exc:
            raise FilterError(f"invalid {side} service filter: {exc}") from None
    return preds


def build_workload(ff: dict) -> list[Predicate]:
    """`source_workload`/`destination_workload`: any endpoint workload matching any filter entry,
    where an empty filter name/kind matches everything."""
    preds: list[Predicate] = []
    for side, key in _SIDES:
        entries = ff.get(f"{side}_workload")
        if not entries:
            continue
        specs = tuple((w.get("name", ""), w.get("kind", "")) for w in entries)

        def match(flow: Flow, _key: str = key, _specs: tuple = specs) -> bool:
            for workload in (flow.get(_key) or {}).get("workloads", ()):
                name, kind = workload.get("name", ""), workload.get("kind", "")
                for fname, fkind in _specs:
                    if (not fname or fname == name) and (not fkind or fkind == kind):
                        return True
            return False

        preds.append(match)
    return preds


def build_cluster_name(ff: dict) -> list[Predicate]:
    """`source_cluster_name`/`destination_cluster_name`: exact equality; empty value = error."""
    preds: list[Predicate] = []
    for side, key in _SIDES:
        values = ff.get(f"{side}_cluster_name")
        if not values:
            continue
        if "" in values:
            raise FilterError("invalid filter, name must not be empty")
        wanted = frozenset(values)
        preds.append(lambda flow, _k=key, _w=wanted: (flow.get(_k) or {}).get("cluster_name", "") in _w)
    return preds
