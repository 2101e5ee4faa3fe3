"""Cilium's CustomResourceDefinitions, as `kubectl get crd` and the Table convertor see them.

The printer columns are copied from the CRD yamls generated from Cilium's kubebuilder markers
(`pkg/k8s/apis/cilium.io/client/crds/v2/*.yaml`); the CRD objects are synthesised from
`kinds.py` so they always match what discovery advertises.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..store import rfc3339
from .resources import RESOURCES

PrinterColumn = dict[str, Any]  # {name, type, jsonPath, description, priority}


def _col(name: str, type_: str, path: str, description: str = "", priority: int = 0) -> PrinterColumn:
    return {"name": name, "type": type_, "jsonPath": path, "description": description, "priority": priority}


_POLICY_COLUMNS = [
    _col("Age", "date", ".metadata.creationTimestamp"),
    _col("Valid", "string", ".status.conditions[?(@.type=='Valid')].status"),
]

PRINTER_COLUMNS: dict[str, list[PrinterColumn]] = {
    "CiliumNetworkPolicy": _POLICY_COLUMNS,
    "CiliumClusterwideNetworkPolicy": _POLICY_COLUMNS,
    "CiliumEndpoint": [
        _col("Security Identity", "integer", ".status.identity.id", "Security Identity"),
        _col("Ingress Enforcement", "string", ".status.policy.ingress.state", "Ingress enforcement in the endpoint", 1),
        _col("Egress Enforcement", "string", ".status.policy.egress.state", "Egress enforcement in the endpoint", 1),
        _col("Visibility Policy", "string", ".status.visibility-policy-status",
             "Status of visibility policy in the endpoint", 1),
        _col("Endpoint State", "string", ".status.state", "Endpoint current state"),
        _col("IPv4", "string", ".status.networking.addressing[0].ipv4", "Endpoint IPv4 address"),
        _col("IPv6", "string", ".status.networking.addressing[0].ipv6", "Endpoint IPv6 address"),
    ],
    "CiliumIdentity": [
        _col("Namespace", "string", ".metadata.labels.io\\.kubernetes\\.pod\\.namespace", "The namespace of the entity"),
        _col("Age", "date", ".metadata.creationTimestamp", "The age of the identity"),
    ],
    "CiliumNode": [
        _col("CiliumInternalIP", "string", '.spec.addresses[?(@.type=="CiliumInternalIP")].ip',
             "Cilium internal IP for this node"),
        _col("InternalIP", "string", '.spec.addresses[?(@.type=="InternalIP")].ip', "IP of the node"),
        _col("Age", "date", ".metadata.creationTimestamp", "Time duration since creation of Ciliumnode"),
    ],
}

_UIDS: dict[str, str] = {}


def crd_objects(created: float) -> list[dict[str, Any]]:
    """One CustomResourceDefinition per Cilium kind, created when the lab was installed."""
    out = []
    for res in RESOURCES:
        if not res.custom:
            continue
        info = res.info
        name = f"{info.plural}.{info.group}"
        version: dict[str, Any] = {
            "name": info.version, "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }
        columns = [{k: v for k, v in c.items() if v not in ("", 0)} for c in PRINTER_COLUMNS.get(info.kind, [])]
        if columns:
            version["additionalPrinterColumns"] = columns
        if "status" in res.subresources:
            version["subresources"] = {"status": {}}
        out.append({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name, "uid": _UIDS.setdefault(name, str(uuid.uuid5(uuid.NAMESPACE_DNS, name))),
                         "resourceVersion": "1", "generation": 1, "creationTimestamp": rfc3339(created),
                         **({"labels": {"io.cilium.k8s.crd.schema.version": "1.31.0"}}
                            if info.group == "cilium.io" else {})},
            "spec": {
                "group": info.group,
                "names": {"kind": info.kind, "listKind": f"{info.kind}List", "plural": info.plural,
                          "singular": info.singular, "shortNames": list(info.short_names),
                          "categories": list(info.categories)},
                "scope": "Namespaced" if info.namespaced else "Cluster",
                "versions": [version],
            },
            "status": {
                "acceptedNames": {"kind": info.kind, "listKind": f"{info.kind}List", "plural": info.plural,
                                  "singular": info.singular, "shortNames": list(info.short_names),
                                  "categories": list(info.categories)},
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                     "message": "no conflicts found", "lastTransitionTime": rfc3339(created)},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": rfc3339(created)},
                ],
                "storedVersions": [info.version],
            },
        })
    return out
