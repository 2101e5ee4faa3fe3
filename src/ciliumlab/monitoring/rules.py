"""PrometheusRule objects → Prometheus rule files.

prometheus-operator writes each PrometheusRule's `spec.groups` as one rule file
(`{"groups": [...]}`). Prometheus refuses to load (or reload) a config whose rule files do not
parse, so every file is checked here against the shape Prometheus 2.42's rulefmt expects
(strict fields, one of record/alert, metric and label names, durations); only the PromQL in
`expr` is left to Prometheus itself (`promtool check rules`).
"""

from __future__ import annotations

import re

import yaml

RULES_DIR = "rules"

_GROUP_KEYS = {"name", "interval", "limit", "rules"}
_RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DURATION = re.compile(r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$")


def _bad_duration(value) -> bool:
    text = str(value)
    return text == "" or (text != "0" and not _DURATION.match(text))


def validate_groups(groups) -> list[str]:
    """Problems Prometheus would report loading `{"groups": groups}` (empty when it loads)."""
    if not isinstance(groups, list):
        return ["groups: must be a list"]
    errs: list[str] = []
    names: set[str] = set()
    for gi, group in enumerate(groups):
        where = f"groups[{gi}]"
        if not isinstance(group, dict):
            errs.append(f"{where}: must be a mapping")
            continue
        for key in sorted(set(group) - _GROUP_KEYS):
            errs.append(f"{where}: field {key} not found in type rulefmt.RuleGroup")
        name = group.get("name")
        if not name:
            errs.append(f"{where}: groupname must not be empty")
        elif name in names:
            errs.append(f"{where}: {name!r}: repeated in the same file")
        else:
            names.add(str(name))
        if "interval" in group and _bad_duration(group["interval"]):
            errs.append(f"{where}: interval: not a valid duration string: {group['interval']!r}")
        if "limit" in group and not isinstance(group["limit"], int):
            errs.append(f"{where}: limit: must be an integer")
        rules = group.get("rules")
        if rules is None:
            rules = []
        if not isinstance(rules, list):
            errs.append(f"{where}: rules: must be a list")
            continue
        for ri, rule in enumerate(rules):
            errs += [f"{where}.rules[{ri}]: {e}" for e in _validate_rule(rule)]
    return errs


def _validate_rule(rule) -> list[str]:
    if not isinstance(rule, dict):
        return ["must be a mapping"]
    errs = [f"field {k} not found in type rulefmt.RuleNode" for k in sorted(set(rule) - _RULE_KEYS)]
    record, alert = rule.get("record"), rule.get("alert")
    if record and alert:
        errs.append("only one of 'record' and 'alert' must be set")
    if not record and not alert:
        errs.append("one of 'record' or 'alert' must be set")
    expr = rule.get("expr")
    if expr is None or str(expr).strip() == "":
        errs.append("field 'expr' must be set in rule")
    if record:
        if "annotations" in rule:
            errs.append("invalid field 'annotations' in recording rule")
        if "for" in rule:
            errs.append("invalid field 'for' in recording rule")
        if "keep_firing_for" in rule:
            errs.append("invalid field 'keep_firing_for' in recording rule")
        if not _METRIC_NAME.match(str(record)):
            errs.append(f"invalid recording rule name: {record}")
    for key in ("for", "keep_firing_for"):
        if key in rule and _bad_duration(rule[key]):
            errs.append(f"{key}: not a valid duration string: {rule[key]!r}")
    for field in ("labels", "annotations"):
        value = rule.get(field)
        if value is None:
            continue
        if not isinstance(value, dict):
            errs.append(f"{field}: must be a mapping")
            continue
        for k, v in value.items():
            if not _LABEL_NAME.match(str(k)):
                errs.append(f"invalid {field[:-1]} name: {k}")
            elif field == "labels" and k == "__name__" and record:
                errs.append("invalid recording rule label: __name__")
            if isinstance(v, (dict, list)):
                errs.append(f"{field}.{k}: must be a string")
    return errs


def _plain(groups: list) -> list:
    """`spec.groups` as rulefmt wants it: durations and label values as strings, Thanos-only
    fields (partial_response_strategy) dropped as the operator drops them for Prometheus."""
    out = []
    for group in groups:
        g = {k: v for k, v in group.items() if k != "partial_response_strategy"}
        if "interval" in g:
            g["interval"] = str(g["interval"])
        rules = []
        for rule in g.get("rules") or []:
            r = dict(rule)
            if "expr" in r:
                r["expr"] = str(r["expr"])
            for key in ("for", "keep_firing_for"):
                if key in r:
                    r[key] = str(r[key])
            for field in ("labels", "annotations"):
                if isinstance(r.get(field), dict):
                    r[field] = {k: ("" if v is None else v if isinstance(v, (dict, list)) else str(v))
                                for k, v in r[field].items()}
            rules.append(r)
        g["rules"] = rules
        out.append(g)
    return out


def rule_file_name(rule: dict) -> str:
    meta = rule.get("metadata") or {}
    return f"{RULES_DIR}/{meta.get('namespace') or 'default'}-{meta.get('name') or ''}.yaml"


def rule_file(rule: dict) -> str:
    """One PrometheusRule as the text of its rule file. Raises ValueError when Prometheus would
    refuse the file."""
    meta = rule.get("metadata") or {}
    groups = (rule.get("spec") or {}).get("groups")
    if groups is None:
        groups = []
    errs = validate_groups(groups)
    if errs:
        raise ValueError(f"PrometheusRule {meta.get('namespace')}/{meta.get('name')}: " + "; ".join(errs))
    return yaml.safe_dump({"groups": _plain(groups)}, sort_keys=False, default_flow_style=False)


def rule_files(prometheus_rules: list[dict]) -> tuple[dict[str, str], list[str]]:
    """(relative path → text) for every PrometheusRule that Prometheus would load, and one
    warning per PrometheusRule left out."""
    files: dict[str, str] = {}
    warnings: list[str] = []
    for rule in sorted(prometheus_rules, key=lambda r: rule_file_name(r)):
        try:
            files[rule_file_name(rule)] = rule_file(rule)
        except ValueError as exc:
            warnings.append(f"{exc} (left out: Prometheus would refuse the whole configuration)")
    return files, warnings
