"""Helm values → `cilium-config` keys, as the Cilium 1.17 chart's `cilium-configmap.yaml` renders them.

Only the values the lab's guide uses are mapped (`hubble.*`, `prometheus.enabled`,
`operator.prometheus.enabled`, `kubeProxyReplacement`, `policyEnforcementMode`,
`policyAuditMode`, `ipam.*`). An upgrade with `--reuse-values` keeps every other key.
"""

from __future__ import annotations

import copy
import re

# chart defaults the templates fall back on
PROMETHEUS_PORT = 9962
OPERATOR_PROMETHEUS_PORT = 9963
HUBBLE_METRICS_PORT = 9965
EXPORT_FILE_MAX_SIZE_MB = 10
EXPORT_FILE_MAX_BACKUPS = 5
FLOWLOGS_CONFIG_PATH = "/flowlog-config/flowlogs.yaml"
STATIC_EXPORT_KEYS = ("hubble-export-file-path", "hubble-export-file-max-size-mb", "hubble-export-file-max-backups",
                      "hubble-export-allowlist", "hubble-export-denylist", "hubble-export-fieldmask")


def _typed(raw: str):
    """Helm's `--set` typing: true/false, integers, null; the rest stays a string."""
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", raw):
        return int(raw)
    return raw


def _split(text: str, sep: str) -> list[str]:
    """Split on `sep` outside `{…}` and honouring `\\` escapes."""
    parts, cur, depth, i = [], "", 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur += text[i + 1]
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts


def parse_set(expr: str) -> dict:
    """`a.b=c,d.e[0]=f` (helm's strvals) → nested values."""
    out: dict = {}
    for item in _split(expr, ","):
        if not item:
            continue
        if "=" not in item:
            raise ValueError(f"key {item!r} has no value")
        key, raw = item.split("=", 1)
        if raw.startswith("{") and raw.endswith("}"):
            value = [_typed(v) for v in _split(raw[1:-1], ",") if v != ""]
        else:
            value = _typed(raw)
        parts = re.findall(r"([^.\[\]]+)(?:\[(\d+)\])?", key)
        node = out
        for n, (name, index) in enumerate(parts):
            last = n == len(parts) - 1
            if index:
                lst = node.setdefault(name, [])
                i = int(index)
                while len(lst) <= i:
                    lst.append({} if not last else None)
                if last:
                    lst[i] = value
                else:
                    if not isinstance(lst[i], dict):
                        lst[i] = {}
                    node = lst[i]
            elif last:
                node[name] = value
            else:
                nxt = node.get(name)
                if not isinstance(nxt, dict):
                    nxt = node[name] = {}
                node = nxt
    return out


def merge(base: dict, over: dict) -> dict:
    """Helm's coalescing of values: maps merge, everything else is replaced."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _get(values: dict, path: str, default=None):
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _has(values: dict, path: str) -> bool:
    sentinel = object()
    return _get(values, path, sentinel) is not sentinel


def _bool(v) -> str:
    return "true" if v is True or str(v).lower() == "true" else "false"


def _join(v, sep: str) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return sep.join(str(x) for x in v)
    return str(v)


def config_changes(values: dict) -> tuple[dict[str, str], set[str]]:
    """The cilium-config keys the given (user-supplied) values render, and the keys they remove."""
    put: dict[str, str] = {}
    drop: set[str] = set()
    if _has(values, "policyEnforcementMode"):
        put["enable-policy"] = str(values["policyEnforcementMode"]).lower()
    if _has(values, "policyAuditMode"):
        if _bool(values["policyAuditMode"]) == "true":
            put["policy-audit-mode"] = "true"
        else:
            drop.add("policy-audit-mode")
    if _has(values, "kubeProxyReplacement"):
        kpr = values["kubeProxyReplacement"]
        put["kube-proxy-replacement"] = _bool(kpr) if isinstance(kpr, bool) else str(kpr)
    if _has(values, "prometheus.enabled"):
        if _bool(_get(values, "prometheus.enabled")) == "true":
            port = _get(values, "prometheus.port", PROMETHEUS_PORT)
            put["prometheus-serve-addr"] = f":{port}"
            put["controller-group-metrics"] = "write-cni-file sync-host-ips sync-lb-maps-with-k8s-services"
        else:
            drop.update({"prometheus-serve-addr", "controller-group-metrics"})
    if _has(values, "operator.prometheus.enabled"):
        if _bool(_get(values, "operator.prometheus.enabled")) == "true":
            port = _get(values, "operator.prometheus.port", OPERATOR_PROMETHEUS_PORT)
            put["operator-prometheus-serve-addr"] = f":{port}"
        else:
            drop.add("operator-prometheus-serve-addr")
    if _has(values, "ipam.mode"):
        put["ipam"] = str(_get(values, "ipam.mode"))
    if _has(values, "ipam.operator.clusterPoolIPv4PodCIDRList"):
        put["cluster-pool-ipv4-cidr"] = _join(_get(values, "ipam.operator.clusterPoolIPv4PodCIDRList"), " ")
    if _has(values, "ipam.operator.clusterPoolIPv4MaskSize"):
        put["cluster-pool-ipv4-mask-size"] = str(_get(values, "ipam.operator.clusterPoolIPv4MaskSize"))
    if _has(values, "hubble.enabled"):
        put["enable-hubble"] = _bool(_get(values, "hubble.enabled"))
    if _has(values, "hubble.eventBufferCapacity"):
        put["hubble-event-buffer-capacity"] = str(_get(values, "hubble.eventBufferCapacity"))
    if _has(values, "hubble.metrics.enabled"):
        metrics = _get(values, "hubble.metrics.enabled")
        if metrics:
            put["hubble-metrics"] = _join(metrics, " ")
            put["hubble-metrics-server"] = f":{_get(values, 'hubble.metrics.port', HUBBLE_METRICS_PORT)}"
            put["hubble-metrics-server-enable-tls"] = _bool(_get(values, "hubble.metrics.tls.enabled", False))
        else:
            drop.update({"hubble-metrics", "hubble-metrics-server", "hubble-metrics-server-enable-tls"})
    if _has(values, "hubble.metrics.enableOpenMetrics"):
        put["enable-hubble-open-metrics"] = _bool(_get(values, "hubble.metrics.enableOpenMetrics"))
    static = _get(values, "hubble.export.static") or {}
    if isinstance(static, dict) and static:
        enabled = static.get("enabled")
        if enabled is not None and _bool(enabled) == "false":
            drop.update(STATIC_EXPORT_KEYS)
        else:
            # enabled now, or (with --reuse-values) a field of an enabled export changed
            fields = {"filePath": ("hubble-export-file-path", lambda v: str(v)),
                      "allowList": ("hubble-export-allowlist", lambda v: _join(v or [], ",")),
                      "denyList": ("hubble-export-denylist", lambda v: _join(v or [], ",")),
                      "fieldMask": ("hubble-export-fieldmask", lambda v: _join(v or [], " "))}
            if enabled is not None:
                put["hubble-export-file-path"] = "/var/run/cilium/hubble/events.log"
                put["hubble-export-file-max-size-mb"] = str(
                    _get(values, "hubble.export.fileMaxSizeMb", EXPORT_FILE_MAX_SIZE_MB))
                put["hubble-export-file-max-backups"] = str(
                    _get(values, "hubble.export.fileMaxBackups", EXPORT_FILE_MAX_BACKUPS))
                for key, _render in fields.values():
                    put.setdefault(key, "")
            for field, (key, render) in fields.items():
                if field in static:
                    put[key] = render(static[field])
    dynamic = _get(values, "hubble.export.dynamic") or {}
    if isinstance(dynamic, dict) and "enabled" in dynamic:
        if _bool(dynamic["enabled"]) == "true":
            put["hubble-flowlogs-config-path"] = FLOWLOGS_CONFIG_PATH
        else:
            drop.add("hubble-flowlogs-config-path")
    for key in put:
        drop.discard(key)
    return put, drop


def flowlogs_config(values: dict) -> str | None:
    """`cilium-flowlog-config`'s flowlogs.yaml when dynamic export is enabled (else None)."""
    import yaml

    dynamic = _get(values, "hubble.export.dynamic") or {}
    if not (isinstance(dynamic, dict) and _bool(dynamic.get("enabled")) == "true"):
        return None
    content = _get(dynamic, "config.content") or []
    return yaml.safe_dump({"flowLogs": content}, sort_keys=False)
