"""Unknown-field detection and pruning (`fieldValidation=Strict|Warn|Ignore`).

The real apiserver decodes built-in kinds into Go structs (unknown JSON keys are dropped and,
under Strict, reported) and prunes CustomResources against the CRD's structural schema (every
key the schema does not declare is dropped; a map where the schema wants an array loses all
its keys). Either way the stored object never holds unknown fields, and Strict turns the
list into `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error:
unknown field "spec.podSelector", ...` (400). For CRs the schema is Cilium's, as hand-written
in `cilium.policy.crd`; for built-in kinds this module keeps the field names of the parts
users write (object meta, pod/container specs, workload, service and config kinds).
"""

from __future__ import annotations

import copy
from typing import Any

_ANY: dict[str, Any] = {"x-preserve": True}

_META_FIELDS = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
                "ownerReferences", "finalizers", "managedFields")
_META = {"properties": {f: _ANY for f in _META_FIELDS}}

_CONTAINER_FIELDS = ("name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources",
                     "resizePolicy", "restartPolicy", "volumeMounts", "volumeDevices", "livenessProbe",
                     "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath",
                     "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty")
_CONTAINER = {"properties": {f: _ANY for f in _CONTAINER_FIELDS}}
_CONTAINERS = {"items": _CONTAINER}

_POD_SPEC_FIELDS = ("volumes", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds",
                    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount",
                    "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC",
                    "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain",
                    "affinity", "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority",
                    "dnsConfig", "readinessGates", "runtimeClassName", "enableServiceLinks", "preemptionPolicy",
                    "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os", "hostUsers",
                    "schedulingGates", "resourceClaims", "resources")
_POD_SPEC = {"properties": {**{f: _ANY for f in _POD_SPEC_FIELDS},
                            "containers": _CONTAINERS, "initContainers": _CONTAINERS}}
_TEMPLATE = {"properties": {"metadata": _META, "spec": _POD_SPEC}}


def _spec(*fields: str, **typed: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {**{f: _ANY for f in fields}, **typed}}


def _object(spec: dict[str, Any] | None = None, **top: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"apiVersion": _ANY, "kind": _ANY, "metadata": _META, **top}
    if spec is not None:
        props.update(spec=spec, status=_ANY)
    return {"properties": props}


_WORKLOAD = ("replicas", "selector", "minReadySeconds", "revisionHistoryLimit", "paused",
             "progressDeadlineSeconds")
SCHEMAS: dict[str, dict[str, Any]] = {
    "Pod": _object(_POD_SPEC),
    "Deployment": _object(_spec(*_WORKLOAD, "strategy", template=_TEMPLATE)),
    "ReplicaSet": _object(_spec(*_WORKLOAD, template=_TEMPLATE)),
    "DaemonSet": _object(_spec("selector", "updateStrategy", "minReadySeconds", "revisionHistoryLimit",
                               template=_TEMPLATE)),
    "StatefulSet": _object(_spec(*_WORKLOAD, "serviceName", "volumeClaimTemplates", "podManagementPolicy",
                                 "updateStrategy", "persistentVolumeClaimRetentionPolicy", "ordinals",
                                 template=_TEMPLATE)),
    "Service": _object(_spec("ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs",
                             "sessionAffinity", "loadBalancerIP", "loadBalancerSourceRanges", "externalName",
                             "externalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses",
                             "sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy", "allocateLoadBalancerNodePorts",
                             "loadBalancerClass", "internalTrafficPolicy", "trafficDistribution")),
    "ConfigMap": _object(data=_ANY, binaryData=_ANY, immutable=_ANY),
    "Secret": _object(data=_ANY, stringData=_ANY, type=_ANY, immutable=_ANY),
    "Namespace": _object(_spec("finalizers")),
    "ServiceAccount": _object(secrets=_ANY, imagePullSecrets=_ANY, automountServiceAccountToken=_ANY),
    "Endpoints": _object(subsets=_ANY),
    "EndpointSlice": _object(addressType=_ANY, endpoints=_ANY, ports=_ANY),
    "NetworkPolicy": _object(_spec("podSelector", "ingress", "egress", "policyTypes")),
    "Role": _object(rules=_ANY),
    "ClusterRole": _object(rules=_ANY, aggregationRule=_ANY),
    "RoleBinding": _object(subjects=_ANY, roleRef=_ANY),
    "ClusterRoleBinding": _object(subjects=_ANY, roleRef=_ANY),
}


def _cilium_schema(kind: str) -> dict[str, Any] | None:
    if kind not in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        return None
    from ...cilium.policy.crd import POLICY

    return POLICY


def prune(obj: dict[str, Any], kind: str) -> tuple[dict[str, Any], list[str]]:
    """(object without unknown fields, sorted unknown field paths). Kinds without a schema here
    (Node, Event, the Cilium status CRs …) pass through untouched."""
    schema = SCHEMAS.get(kind) or _cilium_schema(kind)
    if schema is None:
        return obj, []
    obj = copy.deepcopy(obj)
    unknown: list[str] = []
    _walk(obj, schema, "", unknown, root=True)
    return obj, sorted(unknown)


def _walk(value: Any, schema: dict[str, Any], path: str, unknown: list[str], *, root: bool = False) -> None:
    if schema.get("x-preserve"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        for key in list(value):
            child = f"{path}.{key}" if path else str(key)
            if root and key in ("apiVersion", "kind", "metadata") and (props is None or key not in props):
                continue
            if props is not None and key in props:
                _walk(value[key], props[key], child, unknown)
            elif isinstance(addl, dict):
                _walk(value[key], addl, child, unknown)
            elif addl is True:
                continue
            else:
                unknown.append(child)
                del value[key]
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _walk(item, items, f"{path}[{i}]", unknown)


def strict_message(kind: str, version: str, unknown: list[str]) -> str:
    fields = ", ".join(f'unknown field "{u}"' for u in unknown)
    return f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {fields}'
