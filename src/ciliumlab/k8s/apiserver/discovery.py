"""`/version`, `/api`, `/apis` and the per-group-version resource lists.

kubectl asks for aggregated discovery (`apidiscovery.k8s.io/v2`) and only believes it when the
response carries that exact Content-Type; with plain JSON it parses the body as legacy
discovery instead. Both forms are served, chosen from the Accept header, so older clients and
`curl` work too.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .resources import RESOURCES, Resource, group_versions, resources_in

AGGREGATED_CT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_CT_BETA = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


# What `/version` reports. Not the nodes' kubelet version (v1.33.2): the gcloud kubectl on the lab
# machines is a dispatcher that runs `kubectl.1.<minor>` matching the server's minor version, and
# the wire contract (shared/spec/kubeapi) was verified against kubectl 1.32 — so the server says
# v1.32.x, which also keeps `kubectl version` free of skew warnings.
SERVER_VERSION = "v1.32.4"


def version_info(k8s_version: str = SERVER_VERSION) -> dict[str, str]:
    """The `/version` body (`kubectl version`'s "Server Version")."""
    major, minor = k8s_version.lstrip("v").split(".")[:2]
    commit = hashlib.sha1(k8s_version.encode()).hexdigest()
    return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
            "minEmulationMajor": major, "minEmulationMinor": str(int(minor) - 1),
            "gitVersion": k8s_version, "gitCommit": commit, "gitTreeState": "clean",
            "buildDate": "2025-04-22T16:00:00Z", "goVersion": "go1.23.8", "compiler": "gc",
            "platform": "linux/amd64"}


def wants_aggregated(accept: str) -> bool:
    return "as=APIGroupDiscoveryList" in accept.replace(" ", "")


def _aggregated_resource(res: Resource) -> dict[str, Any]:
    info = res.info
    kind = {"group": info.group, "version": info.version, "kind": info.kind}
    out: dict[str, Any] = {"resource": info.plural, "responseKind": kind,
                           "scope": "Namespaced" if info.namespaced else "Cluster",
                           "singularResource": info.singular, "verbs": list(res.verbs)}
    if info.short_names:
        out["shortNames"] = list(info.short_names)
    if info.categories:
        out["categories"] = list(info.categories)
    if res.subresources:
        subs = []
        for name, verbs in res.subresources.items():
            sub_kind = dict(kind)
            if name == "scale":
                sub_kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
            sub: dict[str, Any] = {"subresource": name, "verbs": list(verbs)}
            if name not in ("log", "exec", "portforward", "attach", "proxy"):
                sub["responseKind"] = sub_kind
            subs.append(sub)
        out["subresources"] = subs
    return out


def aggregated(core: bool) -> dict[str, Any]:
    """The APIGroupDiscoveryList for `/api` (core=True) or `/apis`."""
    items = []
    groups: dict[str, list[str]] = {}
    for group, version in group_versions():
        if (group == "") == core:
            groups.setdefault(group, []).append(version)
    for group, versions in groups.items():
        items.append({
            "metadata": {"name": group, "creationTimestamp": None},
            "versions": [{"version": v, "resources": [_aggregated_resource(r) for r in resources_in(group, v)],
                          "freshness": "Current"} for v in versions],
        })
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def legacy_api(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def legacy_groups() -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}
    for group, version in group_versions():
        if not group:
            continue
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        entry = groups.setdefault(group, {"name": group, "versions": [], "preferredVersion": gv})
        entry["versions"].append(gv)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(groups.values())}


def legacy_group(group: str) -> dict[str, Any] | None:
    for entry in legacy_groups()["groups"]:
        if entry["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **entry}
    return None


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    served = resources_in(group, version)
    if not served:
        return None
    out = []
    for res in served:
        info = res.info
        entry: dict[str, Any] = {"name": info.plural, "singularName": info.singular, "namespaced": info.namespaced,
                                 "kind": info.kind, "verbs": list(res.verbs)}
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.categories:
            entry["categories"] = list(info.categories)
        entry["storageVersionHash"] = hashlib.sha256(info.kind.encode()).hexdigest()[:11] + "="
        out.append(entry)
        for name, verbs in res.subresources.items():
            sub_kind = "Scale" if name == "scale" else info.kind
            sub: dict[str, Any] = {"name": f"{info.plural}/{name}", "singularName": "",
                                   "namespaced": info.namespaced, "kind": sub_kind, "verbs": list(verbs)}
            if name == "scale":
                sub.update(group="autoscaling", version="v1")
            out.append(sub)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


__all__ = ["AGGREGATED_CT", "AGGREGATED_CT_BETA", "RESOURCES", "aggregated", "legacy_api", "legacy_group",
           "legacy_groups", "resource_list", "version_info", "wants_aggregated"]
