"""API-server validation and defaulting of the core kinds.

`validate(obj, old=...)` returns FieldErrors worded like kube-apiserver's (field path, then
`Required value` / `Invalid value: …` / `Unsupported value: …`), so `InvalidObject.from_causes`
prints exactly what kubectl prints. `apply_defaults(obj)` returns a new dict with the fields the
API server fills in on create (the defaulting functions of `pkg/apis/*/v1/defaults.go` plus the
DefaultTolerationSeconds admission plugin).
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Iterable

from ..errors import FieldError
from . import names
from .selectors import OPERATORS, matches

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"

SERVICE_CIDR = "10.96.0.0/16"
NODE_PORT_RANGE = (30000, 32767)


# --------------------------------------------------------------------------------------------
# field.Error builders
# --------------------------------------------------------------------------------------------
def go_value(value: object) -> str:
    """Format a value as apimachinery's field.Invalid does (`%q` for strings, `%#v` otherwise)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()):
            inner = ", ".join(f"{_go_quote(str(k))}:{_go_quote(v)}" for k, v in sorted(value.items()))
            return "map[string]string{" + inner + "}"
        inner = ", ".join(f"{_go_quote(str(k))}:{go_value(v)}" for k, v in sorted(value.items()))
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return "[]string{" + ", ".join(_go_quote(v) for v in value) + "}"
        return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
    return str(value)


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(field, "Required value" + (f": {detail}" if detail else ""), REQUIRED)


def invalid(field: str, value: object, detail: str) -> FieldError:
    return FieldError(field, f"Invalid value: {go_value(value)}: {detail}", INVALID)


def not_supported(field: str, value: object, supported: Iterable[str]) -> FieldError:
    sup = ", ".join(_go_quote(s) for s in supported)
    return FieldError(field, f"Unsupported value: {go_value(value)}: supported values: {sup}", NOT_SUPPORTED)


def duplicate(field: str, value: object) -> FieldError:
    return FieldError(field, f"Duplicate value: {go_value(value)}", DUPLICATE)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(field, f"Forbidden: {detail}", FORBIDDEN)


def too_long(field: str, value: object, max_len: int) -> FieldError:
    return FieldError(field, f"Too long: may not be more than {max_len} bytes", TOO_LONG)


# --------------------------------------------------------------------------------------------
# metadata
# --------------------------------------------------------------------------------------------
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_QUALIFIED_NAME_ERR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{_QUALIFIED_NAME_FMT}')"
)
_LABEL_VALUE_FMT = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    f"for validation is '{_LABEL_VALUE_FMT}')"
)
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE = re.compile(f"^{_CONFIG_KEY_FMT}$")
_CONFIG_KEY_ERR = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    f"'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY_FMT}')"
)
_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"


def qualified_name_errors(value: str) -> list[str]:
    """apimachinery `IsQualifiedName`: an optional DNS-subdomain prefix, '/', then a name part."""
    parts = value.split("/")
    if len(parts) == 1:
        prefix, name = "", parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            f"validation is '{_QUALIFIED_NAME_FMT}') with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')"
        ]
    errs = []
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED_NAME_RE.match(name):
        errs.append(_QUALIFIED_NAME_ERR)
    if prefix:
        errs.extend("prefix part " + e for e in names.is_dns1123_subdomain(prefix))
    return errs


def label_value_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(_LABEL_VALUE_ERR)
    return errs


def validate_labels(labels: object, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if labels is None:
        return errs
    if not isinstance(labels, dict):
        return [invalid(field, labels, "must be a map of string keys to string values")]
    for k, v in labels.items():
        for msg in qualified_name_errors(str(k)):
            errs.append(invalid(field, k, msg))
        if not isinstance(v, str):
            errs.append(invalid(field, v, "label values must be strings"))
            continue
        for msg in label_value_errors(v):
            errs.append(invalid(field, v, msg))
    return errs


def validate_annotations(annotations: object, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if annotations is None:
        return errs
    if not isinstance(annotations, dict):
        return [invalid(field, annotations, "must be a map of string keys to string values")]
    total = 0
    for k, v in annotations.items():
        for msg in qualified_name_errors(str(k)):
            errs.append(invalid(field, k, msg))
        total += len(str(k)) + len(str(v))
    if total > 256 * 1024:
        errs.append(too_long(field, "", 256 * 1024))
    return errs


# Which name rule each kind's metadata.name follows.
_NAME_RULES = {
    "Namespace": "label",
    "Service": "dns1035",
    "Pod": "subdomain",
}


def validate_metadata(obj: dict, kind: str) -> list[FieldError]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    errs: list[FieldError] = []
    name = meta.get("name")
    if not name:
        if not meta.get("generateName"):
            errs.append(required("metadata.name", "name or generateName is required"))
    else:
        rule = _NAME_RULES.get(kind, "subdomain")
        checker = {
            "label": names.is_dns1123_label,
            "dns1035": names.is_dns1035_label,
            "subdomain": names.is_dns1123_subdomain,
        }[rule]
        for msg in checker(str(name)):
            errs.append(invalid("metadata.name", name, msg))
    ns = meta.get("namespace")
    if ns and kind not in ("Namespace", "Node", "CiliumClusterwideNetworkPolicy", "CiliumNode", "CiliumIdentity"):
        for msg in names.is_dns1123_label(str(ns)):
            errs.append(invalid("metadata.namespace", ns, msg))
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    return errs


# --------------------------------------------------------------------------------------------
# label selectors
# --------------------------------------------------------------------------------------------
def validate_label_selector(sel: object, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if sel is None:
        return errs
    if not isinstance(sel, dict):
        return [invalid(field, sel, "must be a label selector")]
    errs += validate_labels(sel.get("matchLabels"), f"{field}.matchLabels")
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        path = f"{field}.matchExpressions[{i}]"
        op = expr.get("operator")
        if op not in OPERATORS:
            errs.append(invalid(f"{path}.operator", op, "not a valid selector operator"))
            continue
        values = expr.get("values") or []
        if op in ("In", "NotIn") and not values:
            errs.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        if op in ("Exists", "DoesNotExist") and values:
            errs.append(forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        for msg in qualified_name_errors(str(expr.get("key", ""))):
            errs.append(invalid(f"{path}.key", expr.get("key", ""), msg))
    return errs


def _go_label_selector(sel: dict) -> str:
    ml = sel.get("matchLabels")
    ml_s = go_value(ml) if ml else "map[string]string(nil)"
    me = sel.get("matchExpressions")
    if me:
        parts = []
        for e in me:
            vals = e.get("values")
            vals_s = go_value(list(vals)) if vals else "[]string(nil)"
            parts.append(
                f'v1.LabelSelectorRequirement{{Key:{_go_quote(str(e.get("key", "")))}, '
                f'Operator:{_go_quote(str(e.get("operator", "")))}, Values:{vals_s}}}'
            )
        me_s = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        me_s = "[]v1.LabelSelectorRequirement(nil)"
    return f"v1.LabelSelector{{MatchLabels:{ml_s}, MatchExpressions:{me_s}}}"


# --------------------------------------------------------------------------------------------
# Pod
# --------------------------------------------------------------------------------------------
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_TOLERATION_OPS = ("Equal", "Exists")
_TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")


def _port_in_range(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def validate_container(c: object, path: str, names_seen: set[str], *, init: bool = False) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(c, dict):
        return [invalid(path, c, "must be an object")]
    name = c.get("name")
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        for msg in names.is_dns1123_label(str(name)):
            errs.append(invalid(f"{path}.name", name, msg))
        if name in names_seen:
            errs.append(duplicate(f"{path}.name", name))
        names_seen.add(name)
    if not c.get("image"):
        errs.append(required(f"{path}.image"))
    ipp = c.get("imagePullPolicy")
    if ipp is not None and ipp not in _PULL_POLICIES:
        errs.append(not_supported(f"{path}.imagePullPolicy", ipp, _PULL_POLICIES))
    port_names: set[str] = set()
    for i, p in enumerate(c.get("ports") or []):
        pp = f"{path}.ports[{i}]"
        if not isinstance(p, dict):
            errs.append(invalid(pp, p, "must be an object"))
            continue
        cp = p.get("containerPort")
        if cp is None:
            errs.append(required(f"{pp}.containerPort"))
        elif not _port_in_range(cp):
            errs.append(invalid(f"{pp}.containerPort", cp, "must be between 1 and 65535, inclusive"))
        hp = p.get("hostPort")
        if hp not in (None, 0) and not _port_in_range(hp):
            errs.append(invalid(f"{pp}.hostPort", hp, "must be between 1 and 65535, inclusive"))
        proto = p.get("protocol")
        if proto is not None and proto not in _PROTOCOLS:
            errs.append(not_supported(f"{pp}.protocol", proto, _PROTOCOLS))
        pname = p.get("name")
        if pname:
            for msg in _port_name_errors(str(pname)):
                errs.append(invalid(f"{pp}.name", pname, msg))
            if pname in port_names:
                errs.append(duplicate(f"{pp}.name", pname))
            port_names.add(pname)
    env_names = []
    for i, e in enumerate(c.get("env") or []):
        if not isinstance(e, dict) or not e.get("name"):
            errs.append(required(f"{path}.env[{i}].name"))
        else:
            env_names.append(e["name"])
    for i, vm in enumerate(c.get("volumeMounts") or []):
        if not vm.get("name"):
            errs.append(required(f"{path}.volumeMounts[{i}].name"))
        if not vm.get("mountPath"):
            errs.append(required(f"{path}.volumeMounts[{i}].mountPath"))
    return errs


_PORT_NAME_ERR_CHARS = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"


def _port_name_errors(name: str) -> list[str]:
    """apimachinery `IsValidPortName` (IANA_SVC_NAME)."""
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not re.match(r"^[-a-z0-9]+$", name):
        errs.append(_PORT_NAME_ERR_CHARS)
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if not re.search(r"[a-z]", name):
        errs.append("must contain at least one letter (a-z)")
    if name.startswith("-") or name.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def validate_pod_spec(spec: object, path: str, *, template: bool = False) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(spec, dict):
        return [required(f"{path}.containers")]
    containers = spec.get("containers")
    seen: set[str] = set()
    if not containers:
        errs.append(required(f"{path}.containers"))
    else:
        for i, c in enumerate(containers):
            errs += validate_container(c, f"{path}.containers[{i}]", seen)
    for i, c in enumerate(spec.get("initContainers") or []):
        errs += validate_container(c, f"{path}.initContainers[{i}]", seen, init=True)
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in _RESTART_POLICIES:
        errs.append(not_supported(f"{path}.restartPolicy", rp, _RESTART_POLICIES))
    dp = spec.get("dnsPolicy")
    if dp is not None and dp not in _DNS_POLICIES:
        errs.append(not_supported(f"{path}.dnsPolicy", dp, _DNS_POLICIES))
    tgps = spec.get("terminationGracePeriodSeconds")
    if tgps is not None and (not isinstance(tgps, int) or tgps < 0):
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", tgps, "must be greater than or equal to 0"))
    node_name = spec.get("nodeName")
    if node_name:
        for msg in names.is_dns1123_subdomain(str(node_name)):
            errs.append(invalid(f"{path}.nodeName", node_name, msg))
    errs += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    for i, t in enumerate(spec.get("tolerations") or []):
        tp = f"{path}.tolerations[{i}]"
        op = t.get("operator")
        if op is not None and op not in _TOLERATION_OPS:
            errs.append(not_supported(f"{tp}.operator", op, _TOLERATION_OPS))
        if op == "Exists" and t.get("value"):
            errs.append(invalid(f"{tp}.operator", t.get("value"), "value must be empty when `operator` is 'Exists'"))
        if not t.get("key") and op != "Exists":
            errs.append(invalid(f"{tp}.operator", op or "", "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
        eff = t.get("effect")
        if eff and eff not in _TAINT_EFFECTS:
            errs.append(not_supported(f"{tp}.effect", eff, _TAINT_EFFECTS))
    vol_names: set[str] = set()
    for i, v in enumerate(spec.get("volumes") or []):
        vn = v.get("name")
        if not vn:
            errs.append(required(f"{path}.volumes[{i}].name"))
        else:
            for msg in names.is_dns1123_label(str(vn)):
                errs.append(invalid(f"{path}.volumes[{i}].name", vn, msg))
            if vn in vol_names:
                errs.append(duplicate(f"{path}.volumes[{i}].name", vn))
            vol_names.add(vn)
    aff = spec.get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = (aff.get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []
        for i, term in enumerate(terms):
            tp = f"{path}.affinity.{kind}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"
            if not term.get("topologyKey"):
                errs.append(required(f"{tp}.topologyKey", "can not be empty"))
            errs += validate_label_selector(term.get("labelSelector"), f"{tp}.labelSelector")
    if spec.get("hostNetwork"):
        for i, c in enumerate(spec.get("containers") or []):
            for j, p in enumerate(c.get("ports") or []):
                hp = p.get("hostPort")
                if hp not in (None, 0) and hp != p.get("containerPort"):
                    errs.append(invalid(f"{path}.containers[{i}].ports[{j}].containerPort", p.get("containerPort"),
                                        "must match `hostPort` when `hostNetwork` is true"))
    return errs


def validate_pod(obj: dict) -> list[FieldError]:
    return validate_pod_spec(obj.get("spec"), "spec")


_POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def validate_pod_update(obj: dict, old: dict) -> list[FieldError]:
    new_spec = copy.deepcopy(obj.get("spec") or {})
    old_spec = copy.deepcopy(old.get("spec") or {})
    # Mutable: images, activeDeadlineSeconds, additional tolerations; nodeName set once by binding.
    for key in ("containers", "initContainers"):
        for a, b in zip(new_spec.get(key) or [], old_spec.get(key) or [], strict=False):
            a.pop("image", None)
            b.pop("image", None)
    for s in (new_spec, old_spec):
        s.pop("activeDeadlineSeconds", None)
    old_tols = old_spec.pop("tolerations", None) or []
    new_tols = new_spec.pop("tolerations", None) or []
    if not old_spec.get("nodeName"):
        new_spec.pop("nodeName", None)
    errs = []
    if any(t not in new_tols for t in old_tols):
        errs.append(forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
    if new_spec != old_spec:
        errs.append(forbidden("spec", _POD_UPDATE_FORBIDDEN))
    return errs


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------
def _validate_template_selector(spec: dict, kind_word: str, *, restart_always: bool = True) -> list[FieldError]:
    errs: list[FieldError] = []
    sel = spec.get("selector")
    template = spec.get("template")
    if sel is None:
        errs.append(required("spec.selector"))
    else:
        errs += validate_label_selector(sel, "spec.selector")
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            errs.append(FieldError("spec.selector",
                                   f"Invalid value: {_go_label_selector(sel)}: empty selector is invalid for {kind_word}",
                                   INVALID))
    if not isinstance(template, dict):
        errs.append(required("spec.template"))
        return errs
    tmeta = template.get("metadata") or {}
    tlabels = tmeta.get("labels") or {}
    errs += validate_labels(tmeta.get("labels"), "spec.template.metadata.labels")
    errs += validate_annotations(tmeta.get("annotations"), "spec.template.metadata.annotations")
    if isinstance(sel, dict) and (sel.get("matchLabels") or sel.get("matchExpressions")):
        try:
            ok = matches(sel, tlabels)
        except Exception:  # invalid operator already reported
            ok = True
        if not ok:
            errs.append(invalid("spec.template.metadata.labels", tlabels, "`selector` does not match template `labels`"))
    errs += validate_pod_spec(template.get("spec"), "spec.template.spec", template=True)
    if restart_always:
        rp = (template.get("spec") or {}).get("restartPolicy")
        if rp is not None and rp != "Always" and rp in _RESTART_POLICIES:
            errs.append(not_supported("spec.template.spec.restartPolicy", rp, ["Always"]))
    return errs


def _non_negative(spec: dict, key: str, path: str) -> list[FieldError]:
    v = spec.get(key)
    if v is None:
        return []
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        return [invalid(path, v, "must be greater than or equal to 0")]
    return []


def validate_deployment(obj: dict) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _non_negative(spec, "replicas", "spec.replicas")
    errs += _validate_template_selector(spec, "deployment")
    strategy = spec.get("strategy") or {}
    st = strategy.get("type")
    if st is not None and st not in ("Recreate", "RollingUpdate"):
        errs.append(not_supported("spec.strategy.type", st, ["Recreate", "RollingUpdate"]))
    if st == "Recreate" and strategy.get("rollingUpdate"):
        errs.append(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    ru = strategy.get("rollingUpdate") or {}
    if _is_zero(ru.get("maxSurge")) and _is_zero(ru.get("maxUnavailable")) and ru:
        errs.append(invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.get("maxUnavailable"),
                            "may not be 0 when `maxSurge` is 0"))
    errs += _non_negative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit")
    errs += _non_negative(spec, "minReadySeconds", "spec.minReadySeconds")
    return errs


def _is_zero(v: object) -> bool:
    return v in (0, "0", "0%")


def validate_replicaset(obj: dict) -> list[FieldError]:
    spec = obj.get("spec") or {}
    return _non_negative(spec, "replicas", "spec.replicas") + _validate_template_selector(spec, "deployment")


def validate_daemonset(obj: dict) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _validate_template_selector(spec, "daemonset")
    us = (spec.get("updateStrategy") or {}).get("type")
    if us is not None and us not in ("OnDelete", "RollingUpdate"):
        errs.append(not_supported("spec.updateStrategy.type", us, ["OnDelete", "RollingUpdate"]))
    return errs


def validate_statefulset(obj: dict) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _non_negative(spec, "replicas", "spec.replicas")
    errs += _validate_template_selector(spec, "statefulset")
    pmp = spec.get("podManagementPolicy")
    if pmp is not None and pmp not in ("OrderedReady", "Parallel"):
        errs.append(not_supported("spec.podManagementPolicy", pmp, ["OrderedReady", "Parallel"]))
    return errs


def _selector_immutable(obj: dict, old: dict) -> list[FieldError]:
    new_sel = (obj.get("spec") or {}).get("selector")
    old_sel = (old.get("spec") or {}).get("selector")
    if old_sel is not None and new_sel != old_sel:
        return [FieldError("spec.selector", f"Invalid value: {_go_label_selector(new_sel or {})}: field is immutable", INVALID)]
    return []


# --------------------------------------------------------------------------------------------
# Service
# --------------------------------------------------------------------------------------------
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_AFFINITIES = ("ClientIP", "None")
_TRAFFIC_POLICIES = ("Cluster", "Local")


def validate_service(obj: dict, *, service_cidr: str = SERVICE_CIDR) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    stype = spec.get("type", "ClusterIP")
    if stype not in _SERVICE_TYPES:
        errs.append(not_supported("spec.type", stype, _SERVICE_TYPES))
    cluster_ip = spec.get("clusterIP")
    headless = cluster_ip == "None"
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and not headless:
        errs.append(required("spec.ports"))
    if stype == "ExternalName":
        ext = spec.get("externalName")
        if not ext:
            errs.append(required("spec.externalName"))
        if cluster_ip and cluster_ip != "":
            errs.append(forbidden("spec.clusterIP", "may not be set for ExternalName services"))
    seen_names: set[str] = set()
    seen_ports: set[tuple] = set()
    for i, p in enumerate(ports):
        pp = f"spec.ports[{i}]"
        if not isinstance(p, dict):
            errs.append(invalid(pp, p, "must be an object"))
            continue
        pname = p.get("name")
        if len(ports) > 1 and not pname:
            errs.append(required(f"{pp}.name"))
        elif pname:
            for msg in names.is_dns1123_label(str(pname)):
                errs.append(invalid(f"{pp}.name", pname, msg))
            if pname in seen_names:
                errs.append(duplicate(f"{pp}.name", pname))
            seen_names.add(pname)
        port = p.get("port")
        if port is None:
            errs.append(required(f"{pp}.port"))
        elif not _port_in_range(port):
            errs.append(invalid(f"{pp}.port", port, "must be between 1 and 65535, inclusive"))
        proto = p.get("protocol", "TCP")
        if proto not in _PROTOCOLS:
            errs.append(not_supported(f"{pp}.protocol", proto, _PROTOCOLS))
        key = (port, proto)
        if key in seen_ports:
            errs.append(FieldError(pp, f"Duplicate value: core.ServicePort{{Name:\"\", Protocol:\"{proto}\", "
                                       f"Port:{port}}}", DUPLICATE))
        seen_ports.add(key)
        tp = p.get("targetPort")
        if tp is not None:
            if isinstance(tp, int) and not isinstance(tp, bool):
                if not _port_in_range(tp):
                    errs.append(invalid(f"{pp}.targetPort", tp, "must be between 1 and 65535, inclusive"))
            elif isinstance(tp, str):
                for msg in _port_name_errors(tp):
                    errs.append(invalid(f"{pp}.targetPort", tp, msg))
        np_ = p.get("nodePort")
        if np_ not in (None, 0):
            if stype not in ("NodePort", "LoadBalancer"):
                errs.append(forbidden(f"{pp}.nodePort", "may not be used when `type` is 'ClusterIP'"))
            elif not isinstance(np_, int) or not NODE_PORT_RANGE[0] <= np_ <= NODE_PORT_RANGE[1]:
                errs.append(invalid(f"{pp}.nodePort", np_,
                                    f"provided port is not in the valid range. The range of valid ports is "
                                    f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}"))
    if cluster_ip and not headless and stype != "ExternalName":
        try:
            ip = ipaddress.ip_address(cluster_ip)
        except ValueError:
            errs.append(invalid("spec.clusterIPs[0]", cluster_ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        else:
            net = ipaddress.ip_network(service_cidr)
            if ip not in net or ip in (net.network_address, net.broadcast_address):
                errs.append(invalid("spec.clusterIPs", [cluster_ip],
                                    f"failed to allocate IP {cluster_ip}: the provided IP ({cluster_ip}) is not in "
                                    f"the valid range. The range of valid IPs is {service_cidr}"))
    ips = spec.get("clusterIPs")
    if ips and cluster_ip and ips[0] != cluster_ip:
        errs.append(invalid("spec.clusterIPs[0]", ips[0], "must match `clusterIP` when both are specified"))
    sa = spec.get("sessionAffinity")
    if sa is not None and sa not in _AFFINITIES:
        errs.append(not_supported("spec.sessionAffinity", sa, _AFFINITIES))
    for key in ("internalTrafficPolicy", "externalTrafficPolicy"):
        v = spec.get(key)
        if v is not None and v not in _TRAFFIC_POLICIES:
            errs.append(not_supported(f"spec.{key}", v, _TRAFFIC_POLICIES))
    if spec.get("externalTrafficPolicy") and stype not in ("NodePort", "LoadBalancer"):
        errs.append(invalid("spec.externalTrafficPolicy", spec["externalTrafficPolicy"],
                            "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
    sel = spec.get("selector")
    if sel is not None:
        errs += validate_labels(sel, "spec.selector")
    return errs


def validate_service_update(obj: dict, old: dict) -> list[FieldError]:
    errs = []
    new_spec, old_spec = obj.get("spec") or {}, old.get("spec") or {}
    old_ip = old_spec.get("clusterIP")
    new_ip = new_spec.get("clusterIP")
    if old_ip and old_ip != "None" and new_ip not in (None, "", old_ip) and new_spec.get("type") != "ExternalName":
        errs.append(invalid("spec.clusterIPs[0]", [new_ip], "may not change once set"))
    if old_ip == "None" and new_ip not in (None, "None"):
        errs.append(invalid("spec.clusterIPs[0]", [new_ip], "may not change once set"))
    return errs


# --------------------------------------------------------------------------------------------
# ConfigMap / Secret / Namespace / NetworkPolicy / Endpoints
# --------------------------------------------------------------------------------------------
def _validate_keys(obj: dict, fields: Iterable[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for f in fields:
        for k in (obj.get(f) or {}):
            path = f"{f}[{k}]"
            if len(k) > 253:
                errs.append(invalid(path, k, "must be no more than 253 characters"))
            if not _CONFIG_KEY_RE.match(k):
                errs.append(invalid(path, k, _CONFIG_KEY_ERR))
            if k in (".", ".."):
                errs.append(invalid(path, k, "must not be '.'" if k == "." else "must not be '..'"))
            if k in seen:
                errs.append(invalid(path, k, "duplicate of key present in " + ("binaryData" if f == "data" else "data")))
            seen.add(k)
    return errs


def validate_configmap(obj: dict) -> list[FieldError]:
    errs = _validate_keys(obj, ("data", "binaryData"))
    for k, v in (obj.get("data") or {}).items():
        if not isinstance(v, str):
            errs.append(invalid(f"data[{k}]", v, "must be a string"))
    return errs


def validate_secret(obj: dict) -> list[FieldError]:
    errs = _validate_keys(obj, ("data", "stringData"))
    stype = obj.get("type", "Opaque")
    data = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
    if stype == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                errs.append(required(f"data[{key}]"))
    return errs


def validate_namespace(obj: dict) -> list[FieldError]:
    return []


_POLICY_TYPES = ("Ingress", "Egress")


def _validate_np_ports(ports: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, p in enumerate(ports or []):
        pp = f"{path}[{i}]"
        proto = p.get("protocol")
        if proto is not None and proto not in _PROTOCOLS:
            errs.append(not_supported(f"{pp}.protocol", proto, _PROTOCOLS))
        port = p.get("port")
        if isinstance(port, int) and not isinstance(port, bool):
            if not _port_in_range(port):
                errs.append(invalid(f"{pp}.port", port, "must be between 1 and 65535, inclusive"))
            end = p.get("endPort")
            if end is not None and (not isinstance(end, int) or end < port):
                errs.append(invalid(f"{pp}.endPort", end, "must be greater than or equal to `port`"))
        elif isinstance(port, str):
            for msg in _port_name_errors(port):
                errs.append(invalid(f"{pp}.port", port, msg))
            if p.get("endPort") is not None:
                errs.append(invalid(f"{pp}.endPort", p["endPort"], "may not be specified when `port` is non-numeric"))
    return errs


def _validate_np_peers(peers: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, peer in enumerate(peers or []):
        pp = f"{path}[{i}]"
        n = sum(1 for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None)
        if n == 0:
            errs.append(required(pp, "must specify a peer"))
        ipb = peer.get("ipBlock")
        if ipb is not None:
            if n > 1:
                errs.append(forbidden(pp, "may not specify both ipBlock and another peer"))
            cidr = ipb.get("cidr")
            if not cidr:
                errs.append(required(f"{pp}.ipBlock.cidr"))
            else:
                try:
                    net = ipaddress.ip_network(cidr, strict=False)
                except ValueError:
                    errs.append(invalid(f"{pp}.ipBlock.cidr", cidr,
                                        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
                    net = None
                for j, ex in enumerate(ipb.get("except") or []):
                    try:
                        exn = ipaddress.ip_network(ex, strict=False)
                    except ValueError:
                        errs.append(invalid(f"{pp}.ipBlock.except[{j}]", ex,
                                            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
                        continue
                    if net is not None and (exn.version != net.version or not exn.subnet_of(net) or exn == net):
                        errs.append(invalid(f"{pp}.ipBlock.except[{j}]", ex, "must be a strict subset of `cidr`"))
        errs += validate_label_selector(peer.get("podSelector"), f"{pp}.podSelector")
        errs += validate_label_selector(peer.get("namespaceSelector"), f"{pp}.namespaceSelector")
    return errs


def validate_networkpolicy(obj: dict) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs = validate_label_selector(spec.get("podSelector"), "spec.podSelector")
    for i, rule in enumerate(spec.get("ingress") or []):
        errs += _validate_np_ports(rule.get("ports"), f"spec.ingress[{i}].ports")
        errs += _validate_np_peers(rule.get("from"), f"spec.ingress[{i}].from")
    for i, rule in enumerate(spec.get("egress") or []):
        errs += _validate_np_ports(rule.get("ports"), f"spec.egress[{i}].ports")
        errs += _validate_np_peers(rule.get("to"), f"spec.egress[{i}].to")
    pts = spec.get("policyTypes") or []
    for i, pt in enumerate(pts):
        if pt not in _POLICY_TYPES:
            errs.append(not_supported(f"spec.policyTypes[{i}]", pt, _POLICY_TYPES))
    if len(pts) > 2:
        errs.append(invalid("spec.policyTypes", pts, "may not specify more than two policyTypes"))
    return errs


def validate_endpoints(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, ss in enumerate(obj.get("subsets") or []):
        for j, a in enumerate(ss.get("addresses") or []):
            try:
                ipaddress.ip_address(a.get("ip", ""))
            except ValueError:
                errs.append(invalid(f"subsets[{i}].addresses[{j}].ip", a.get("ip", ""),
                                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        for j, p in enumerate(ss.get("ports") or []):
            if not _port_in_range(p.get("port")):
                errs.append(invalid(f"subsets[{i}].ports[{j}].port", p.get("port"), "must be between 1 and 65535, inclusive"))
    return errs


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
_VALIDATORS = {
    "Pod": validate_pod,
    "Deployment": validate_deployment,
    "ReplicaSet": validate_replicaset,
    "DaemonSet": validate_daemonset,
    "StatefulSet": validate_statefulset,
    "Service": validate_service,
    "ConfigMap": validate_configmap,
    "Secret": validate_secret,
    "Namespace": validate_namespace,
    "NetworkPolicy": validate_networkpolicy,
    "Endpoints": validate_endpoints,
}


def validate(obj: dict, *, old: dict | None = None) -> list[FieldError]:
    """All FieldErrors the API server would report for a create (`old=None`) or an update."""
    if not isinstance(obj, dict):
        return [invalid("", obj, "must be an object")]
    kind = obj.get("kind", "")
    if kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        errs = validate_metadata(obj, kind)
        try:
            from ..cilium.policy import validate_crd  # noqa: PLC0415 - written by another engineer
        except ImportError:
            return errs
        return errs + list(validate_crd(obj) or [])
    errs = validate_metadata(obj, kind)
    fn = _VALIDATORS.get(kind)
    if fn is not None:
        errs += fn(obj)
    if old is not None:
        errs += validate_update(obj, old)
    return errs


def validate_update(obj: dict, old: dict) -> list[FieldError]:
    kind = obj.get("kind", "")
    errs: list[FieldError] = []
    new_meta, old_meta = obj.get("metadata") or {}, old.get("metadata") or {}
    if new_meta.get("name") != old_meta.get("name") and new_meta.get("name"):
        errs.append(invalid("metadata.name", new_meta.get("name"), "field is immutable"))
    if kind == "Pod":
        errs += validate_pod_update(obj, old)
    elif kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"):
        errs += _selector_immutable(obj, old)
    elif kind == "Service":
        errs += validate_service_update(obj, old)
    elif kind in ("ConfigMap", "Secret") and old.get("immutable"):
        if obj.get("data") != old.get("data") or obj.get("binaryData") != old.get("binaryData"):
            errs.append(forbidden("data", "field is immutable when `immutable` is set"))
    return errs


# --------------------------------------------------------------------------------------------
# defaulting
# --------------------------------------------------------------------------------------------
def _image_pull_policy(image: str) -> str:
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if "@" in image:
        return "IfNotPresent"
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _default_container(c: dict) -> None:
    if c.get("image"):
        c.setdefault("imagePullPolicy", _image_pull_policy(str(c["image"])))
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
    for e in c.get("env") or []:
        vf = (e.get("valueFrom") or {}).get("fieldRef")
        if vf is not None:
            vf.setdefault("apiVersion", "v1")


def default_pod_spec(spec: dict) -> dict:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = sa
    spec["serviceAccount"] = sa
    if spec.get("hostNetwork"):
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            for p in c.get("ports") or []:
                if isinstance(p, dict) and p.get("containerPort") and not p.get("hostPort"):
                    p["hostPort"] = p["containerPort"]
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            _default_container(c)
    for v in spec.get("volumes") or []:
        if "configMap" in v:
            v["configMap"].setdefault("defaultMode", 420)
        if "secret" in v:
            v["secret"].setdefault("defaultMode", 420)
        if "hostPath" in v:
            v["hostPath"].setdefault("type", "")
    return spec


def _default_tolerations(spec: dict) -> None:
    """The DefaultTolerationSeconds admission plugin (pods only, not templates)."""
    tols = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any((t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
                   and t.get("effect") in (None, "", "NoExecute") for t in tols):
            tols.append({"effect": "NoExecute", "key": key, "operator": "Exists", "tolerationSeconds": 300})
    if not tols:
        spec.pop("tolerations")


def _default_template(spec: dict) -> None:
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    tspec = template.setdefault("spec", {})
    if isinstance(tspec, dict):
        default_pod_spec(tspec)


def apply_defaults(obj: dict) -> dict:
    """API-server defaulting for a create; returns a new dict (the input is untouched)."""
    obj = copy.deepcopy(obj)
    kind = obj.get("kind")
    spec = obj.get("spec")
    if kind == "Pod" and isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        _default_tolerations(spec)
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", qos_class(spec))
    elif kind == "Deployment" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxUnavailable", "25%")
            ru.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        _default_template(spec)
    elif kind == "ReplicaSet" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _default_template(spec)
    elif kind == "DaemonSet" and isinstance(spec, dict):
        us = spec.setdefault("updateStrategy", {})
        us.setdefault("type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            ru = us.setdefault("rollingUpdate", {})
            ru.setdefault("maxUnavailable", 1)
            ru.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        _default_template(spec)
    elif kind == "StatefulSet" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        us = spec.setdefault("updateStrategy", {})
        us.setdefault("type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
        _default_template(spec)
    elif kind == "Service" and isinstance(spec, dict):
        _default_service(spec)
        obj.setdefault("status", {"loadBalancer": {}})
    elif kind == "NetworkPolicy" and isinstance(spec, dict):
        spec.setdefault("podSelector", {})
        if not spec.get("policyTypes"):
            types = ["Ingress"]
            if spec.get("egress"):
                types.append("Egress")
            spec["policyTypes"] = types
    elif kind == "Namespace":
        meta = obj.setdefault("metadata", {})
        if meta.get("name"):
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if string_data:
            import base64

            data = obj.setdefault("data", {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
    return obj


def _default_service(spec: dict) -> None:
    stype = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            if stype != "ExternalName" and p.get("port") is not None:
                p.setdefault("targetPort", p["port"])
    if stype == "ExternalName":
        return
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if spec.get("sessionAffinity") == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})


def qos_class(spec: dict) -> str:
    """Guaranteed / Burstable / BestEffort from the containers' requests and limits."""
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and str(req[r]) != str(lim[r])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
