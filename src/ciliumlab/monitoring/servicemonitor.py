"""prometheus-operator's translation of a ServiceMonitor into Prometheus scrape jobs.

One job per `spec.endpoints[i]`, named `serviceMonitor/<namespace>/<name>/<i>`, discovering
role `endpoints` in the selected namespaces (`namespaceSelector.matchNames`, every namespace
for `any: true`, else the ServiceMonitor's own), with the operator's relabelings in its order
(pkg/prometheus/promcfg.go, as its golden files show them):

    keep on the Service labels of `selector` (matchLabels, then matchExpressions)
    keep on the endpoint port name (`port`) or the container port (`targetPort`)
    node / pod from the endpoint address's target, namespace, service, pod, container
    drop Failed/Succeeded pods, `targetLabels` / `podTargetLabels`
    job = the Service name (or the `jobLabel` Service label), endpoint = the port
    the endpoint's own `relabelings`, then the shard hashmod (one shard: 0)

Endpoint settings carried over: interval, scrapeTimeout, path, scheme, params, honorLabels,
honorTimestamps, tlsConfig (file and insecureSkipVerify/serverName parts), bearerTokenFile,
metricRelabelings. The jobs still use `kubernetes_sd_configs`; `promconfig` lowers them.
"""

from __future__ import annotations

import copy
import re

from .k8s_sd import sanitize


class ServiceMonitorError(ValueError):
    """A ServiceMonitor the operator would reject (its message says why)."""


_RELABEL_KEYS = {"sourceLabels": "source_labels", "separator": "separator", "targetLabel": "target_label",
                 "regex": "regex", "modulus": "modulus", "replacement": "replacement", "action": "action"}


def relabel_config(rc: dict) -> dict:
    """A ServiceMonitor RelabelConfig (camelCase) as Prometheus configuration (snake_case)."""
    out: dict = {}
    for key, value in rc.items():
        name = _RELABEL_KEYS.get(key) or (key if key in _RELABEL_KEYS.values() else None)
        if name is None:
            raise ServiceMonitorError(f"unknown relabeling field {key!r}")
        if name == "action":
            value = str(value).lower()
        out[name] = value
    return out


def _selector_relabelings(selector: dict) -> list[dict]:
    out: list[dict] = []
    for key in sorted(selector.get("matchLabels") or {}):
        value = selector["matchLabels"][key]
        ln = sanitize(key)
        out.append({"action": "keep",
                    "source_labels": [f"__meta_kubernetes_service_label_{ln}",
                                      f"__meta_kubernetes_service_labelpresent_{ln}"],
                    "regex": f"({value});true"})
    for expr in selector.get("matchExpressions") or []:
        ln = sanitize(str(expr.get("key") or ""))
        op = expr.get("operator")
        values = "|".join(str(v) for v in expr.get("values") or [])
        if op in ("In", "NotIn"):
            out.append({"action": "keep" if op == "In" else "drop",
                        "source_labels": [f"__meta_kubernetes_service_label_{ln}",
                                          f"__meta_kubernetes_service_labelpresent_{ln}"],
                        "regex": f"({values});true"})
        elif op in ("Exists", "DoesNotExist"):
            out.append({"action": "keep" if op == "Exists" else "drop",
                        "source_labels": [f"__meta_kubernetes_service_labelpresent_{ln}"],
                        "regex": "true"})
        else:
            raise ServiceMonitorError(f"selector operator {op!r} is not In, NotIn, Exists or DoesNotExist")
    return out


def _namespaces(sm: dict) -> list[str] | None:
    sel = (sm.get("spec") or {}).get("namespaceSelector") or {}
    if sel.get("any"):
        return None
    names = [str(n) for n in sel.get("matchNames") or []]
    return names or [(sm.get("metadata") or {}).get("namespace") or "default"]


def servicemonitor_jobs(sm: dict) -> list[dict]:
    """The scrape jobs prometheus-operator generates for one ServiceMonitor."""
    meta = sm.get("metadata") or {}
    spec = sm.get("spec") or {}
    ns, name = meta.get("namespace") or "default", meta.get("name") or ""
    if "selector" not in spec:
        raise ServiceMonitorError(f"ServiceMonitor {ns}/{name}: spec.selector is required")
    sd: dict = {"role": "endpoints"}
    namespaces = _namespaces(sm)
    if namespaces is not None:
        sd["namespaces"] = {"names": namespaces}
    jobs = []
    for i, ep in enumerate(spec.get("endpoints") or []):
        job: dict = {"job_name": f"serviceMonitor/{ns}/{name}/{i}",
                     "honor_labels": bool(ep.get("honorLabels", False))}
        if "honorTimestamps" in ep:
            job["honor_timestamps"] = bool(ep["honorTimestamps"])
        job["kubernetes_sd_configs"] = [copy.deepcopy(sd)]
        if ep.get("interval"):
            job["scrape_interval"] = str(ep["interval"])
        if ep.get("scrapeTimeout"):
            job["scrape_timeout"] = str(ep["scrapeTimeout"])
        if ep.get("path"):
            job["metrics_path"] = str(ep["path"])
        if ep.get("params"):
            job["params"] = {k: [str(x) for x in v] for k, v in ep["params"].items()}
        if ep.get("scheme"):
            job["scheme"] = str(ep["scheme"])
        tls = _tls_config(ep.get("tlsConfig") or {})
        if tls:
            job["tls_config"] = tls
        if ep.get("bearerTokenFile"):
            job["bearer_token_file"] = str(ep["bearerTokenFile"])
        job["relabel_configs"] = _relabelings(spec, ep)
        if ep.get("metricRelabelings"):
            job["metric_relabel_configs"] = [relabel_config(rc) for rc in ep["metricRelabelings"]]
        jobs.append(job)
    return jobs


def _tls_config(tls: dict) -> dict:
    out = {}
    for src, dst in (("caFile", "ca_file"), ("certFile", "cert_file"), ("keyFile", "key_file"),
                     ("serverName", "server_name"), ("insecureSkipVerify", "insecure_skip_verify")):
        if src in tls:
            out[dst] = tls[src]
    return out


def _relabelings(spec: dict, ep: dict) -> list[dict]:
    rel: list[dict] = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
    rel += _selector_relabelings(spec.get("selector") or {})
    port, target_port = ep.get("port"), ep.get("targetPort")
    if port:
        rel.append({"action": "keep", "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                    "regex": str(port)})
    elif target_port is not None and str(target_port) != "":
        if isinstance(target_port, int) or re.fullmatch(r"\d+", str(target_port)):
            rel.append({"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                        "regex": str(target_port)})
        else:
            rel.append({"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                        "regex": str(target_port)})
    for kind, label in (("Node", "node"), ("Pod", "pod")):
        rel.append({"source_labels": ["__meta_kubernetes_endpoint_address_target_kind",
                                      "__meta_kubernetes_endpoint_address_target_name"],
                    "separator": ";", "regex": f"{kind};(.*)", "replacement": "${1}", "target_label": label})
    rel += [{"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
            {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)"}]
    for label in spec.get("targetLabels") or []:
        rel.append({"source_labels": [f"__meta_kubernetes_service_label_{sanitize(label)}"],
                    "target_label": sanitize(label), "regex": "(.+)", "replacement": "${1}"})
    for label in spec.get("podTargetLabels") or []:
        rel.append({"source_labels": [f"__meta_kubernetes_pod_label_{sanitize(label)}"],
                    "target_label": sanitize(label), "regex": "(.+)", "replacement": "${1}"})
    rel.append({"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job", "replacement": "${1}"})
    if spec.get("jobLabel"):
        rel.append({"source_labels": [f"__meta_kubernetes_service_label_{sanitize(spec['jobLabel'])}"],
                    "target_label": "job", "regex": "(.+)", "replacement": "${1}"})
    if port:
        rel.append({"target_label": "endpoint", "replacement": str(port)})
    elif target_port is not None and str(target_port) != "":
        rel.append({"target_label": "endpoint", "replacement": str(target_port)})
    rel += [relabel_config(rc) for rc in ep.get("relabelings") or []]
    rel += [{"source_labels": ["__address__"], "target_label": "__tmp_hash", "modulus": 1, "action": "hashmod"},
            {"source_labels": ["__tmp_hash"], "regex": "0", "action": "keep"}]
    return rel
