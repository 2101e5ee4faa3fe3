"""Which metrics a Grafana dashboard queries: `dashboard_metric_names(dashboard_json)`.

Reusable for any dashboard (the Cilium agent/operator ones here, the Hubble ones elsewhere).
It reads every PromQL `expr` (panel targets, annotations) and every templating query
(`label_values(cilium_version, pod)`, `query_result(...)`), and returns the metric names they
select: identifiers that are neither PromQL functions/aggregations/keywords nor label names
(matchers, `by`/`without`/`on`/`ignoring`/`group_*` lists, function string arguments) nor
Grafana variables. Names are returned as queried (`x_bucket`, `x_sum`, `x_count` of a
histogram stay as they are; `histogram_base` maps them to the histogram's name).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cilium"
DASHBOARD_DIR = FIXTURES / "grafana-dashboards"
MONITORING_EXAMPLE = FIXTURES / "monitoring-example.yaml"

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan", "start", "end", "atan2"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
# Grafana templating functions: label_values(metric, label) / label_values(label), etc.
_LABEL_VALUES = re.compile(r"\blabel_values\s*\((.*)\)\s*$", re.S)
_TEMPLATE_FUNCS = re.compile(r"^\s*(?:query_result|metrics|label_names)\s*\((.*)\)\s*$", re.S)


def promql_metric_names(expr: str) -> set[str]:
    """Metric names selected by one PromQL expression."""
    text = _VARIABLE.sub(" ", expr)
    text = _STRING.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


def template_metric_names(query: str) -> set[str]:
    """Metric names of a Grafana Prometheus templating query."""
    m = _LABEL_VALUES.search(query)
    if m:
        args = _split_args(m.group(1))
        return promql_metric_names(args[0]) if len(args) == 2 else set()
    m = _TEMPLATE_FUNCS.match(query)
    if m:
        if query.strip().startswith("query_result"):
            return promql_metric_names(m.group(1))
        return set()  # metrics(regex), label_names(): no selector
    return promql_metric_names(query)


def _split_args(text: str) -> list[str]:
    """Split top-level comma-separated arguments (commas inside {} / () / strings stay)."""
    args, depth, current, quote = [], 0, [], ""
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    args.append("".join(current).strip())
    return args


def _walk(node, exprs: list[str], templates: list[str], in_templating: bool = False) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                exprs.append(value)
            elif in_templating and key in ("query", "definition"):
                if isinstance(value, str):
                    templates.append(value)
                elif isinstance(value, dict) and isinstance(value.get("query"), str):
                    templates.append(value["query"])
            _walk(value, exprs, templates, in_templating or key == "templating")
    elif isinstance(node, list):
        for item in node:
            _walk(item, exprs, templates, in_templating)


def dashboard_queries(dashboard_json) -> tuple[list[str], list[str]]:
    """(PromQL exprs, templating queries) of a dashboard (JSON text, bytes or parsed dict)."""
    if isinstance(dashboard_json, bytes | str):
        dashboard_json = json.loads(dashboard_json)
    exprs: list[str] = []
    templates: list[str] = []
    _walk(dashboard_json, exprs, templates)
    return exprs, templates


def dashboard_metric_names(dashboard_json) -> set[str]:
    """Every metric name a dashboard queries (JSON text, bytes or parsed dict)."""
    exprs, templates = dashboard_queries(dashboard_json)
    names: set[str] = set()
    for expr in exprs:
        names |= promql_metric_names(expr)
    for query in templates:
        names |= template_metric_names(query)
    return names


def histogram_base(name: str) -> str:
    """`x_bucket` / `x_sum` / `x_count` -> `x` (other names unchanged)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def configmap_dashboards(path: Path = MONITORING_EXAMPLE) -> dict[str, dict]:
    """`<ConfigMap>/<key>` -> dashboard, for every dashboard JSON in a manifest's ConfigMaps."""
    out = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc or doc.get("kind") != "ConfigMap":
            continue
        for key, value in (doc.get("data") or {}).items():
            if key.endswith(".json"):
                out[f"{doc['metadata']['name']}/{key}"] = json.loads(value)
    return out


def file_dashboards(directory: Path = DASHBOARD_DIR) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}
