"""`/openapi/v3`: just enough OpenAPI for `kubectl apply` (default `--validate=strict`) and
`kubectl explain`.

kubectl skips client-side validation and sends `fieldValidation=Strict` only if, for the
object's group-version, it finds a PATCH operation with the object's
`x-kubernetes-group-version-kind` that declares a `fieldValidation` query parameter; otherwise
it falls back to `/openapi/v2` (404 here, on purpose: kubectl only accepts protobuf there) and
fails. The PATCH operation has no `requestBody`, which keeps kubectl on its compiled-in
strategic-merge metadata for built-ins and on JSON merge patch for CRs (the tested path).
Each document's URL carries a content hash because kubectl caches them by URL.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from ..kinds import CUSTOM_GROUPS
from .discovery import SERVER_VERSION
from .resources import Resource, group_versions, resources_in


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(res: Resource) -> str:
    info = res.info
    if info.group in CUSTOM_GROUPS:  # CRD schemas are named by the reversed group: io.cilium.v2.…
        return ".".join([*reversed(info.group.split(".")), info.version, info.kind])
    group = {"": "core", "apps": "apps", "discovery.k8s.io": "discovery", "networking.k8s.io": "networking",
             "rbac.authorization.k8s.io": "rbac",
             "apiextensions.k8s.io": "apiextensions"}.get(info.group, info.group)
    prefix = "io.k8s.apiextensions-apiserver.pkg.apis" if info.group == "apiextensions.k8s.io" else "io.k8s.api"
    return f"{prefix}.{group}.{info.version}.{info.kind}"


def _openapi_from_crd_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Cilium's hand-written CRD schema (`cilium.policy.crd`) → plain OpenAPI for `explain`."""
    out: dict[str, Any] = {}
    for key in ("type", "enum", "format", "maxLength", "minimum", "maximum", "pattern", "required"):
        if key in schema:
            out[key] = schema[key]
    if "properties" in schema:
        out["properties"] = {k: _openapi_from_crd_schema(v) for k, v in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        out["items"] = _openapi_from_crd_schema(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = _openapi_from_crd_schema(schema["additionalProperties"])
    if schema.get("x-preserve"):
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def _schema(res: Resource) -> dict[str, Any]:
    info = res.info
    props: dict[str, Any] = {
        "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this "
                       "representation of an object."},
        "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this "
                 "object represents."},
        "metadata": {"type": "object", "description": "Standard object's metadata."},
    }
    if info.kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        from ...cilium.policy.crd import POLICY

        converted = _openapi_from_crd_schema(POLICY)
        for key in ("spec", "specs", "status"):
            props[key] = converted["properties"][key]
        props["spec"]["description"] = "Spec is the desired Cilium specific rule specification."
    else:
        props["spec"] = {"type": "object", "description": f"Spec of the {info.kind}."}
        props["status"] = {"type": "object", "description": f"Status of the {info.kind}."}
    return {"type": "object", "description": f"{info.kind} ({info.api_version}) as served by the ciliumlab API server.",
            "x-kubernetes-group-version-kind": [{"group": info.group, "version": info.version, "kind": info.kind}],
            "properties": props}


def _item_path(res: Resource) -> str:
    info = res.info
    base = f"/{gv_path(info.group, info.version)}"
    if info.namespaced:
        return f"{base}/namespaces/{{namespace}}/{info.plural}/{{name}}"
    return f"{base}/{info.plural}/{{name}}"


@cache
def document(group: str, version: str) -> dict[str, Any] | None:
    served = resources_in(group, version)
    if not served:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for res in served:
        info = res.info
        gvk = {"group": info.group, "version": info.version, "kind": info.kind}
        paths[_item_path(res)] = {"patch": {
            "operationId": f"patch{info.kind}", "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [{"name": "fieldValidation", "in": "query",
                            "schema": {"type": "string", "uniqueItems": True}}],
            "responses": {"200": {"description": "OK"}}}}
        schemas[_schema_name(res)] = _schema(res)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": SERVER_VERSION}, "paths": paths,
            "components": {"schemas": schemas}}


@cache
def doc_hash(group: str, version: str) -> str:
    text = json.dumps(document(group, version), sort_keys=True)
    return hashlib.sha512(text.encode()).hexdigest()[:128].upper()


def index() -> dict[str, Any]:
    return {"paths": {gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{gv_path(g, v)}?hash={doc_hash(g, v)}"}
                      for g, v in group_versions()}}
