"""`cilium-dbg policy get`: the rules imported into the agent's repository, then `Revision: N`."""

from __future__ import annotations

import copy

from ..policy.types import KIND_CCNP, KIND_KNP
from .common import Dbg, UsageError, go_json

NAMESPACE_KEY = "k8s:io.kubernetes.pod.namespace"
SELECTOR_FIELDS = ("fromEndpoints", "toEndpoints")


def run(dbg: Dbg, args: list[str]) -> int:
    if args and args[0] in ("selectors", "subject-selectors"):
        from .extra import run_selectors
        return run_selectors(dbg, args[1:], subject=args[0] == "subject-selectors")
    if not args or args[0] != "get":
        raise UsageError(f'unknown command "{args[0] if args else ""}" for "{dbg.name} policy"', "policy")
    repo = dbg.lab.policy
    rules: list[dict] = []
    for (kind, namespace, name), parsed in sorted(repo.objects().items()):
        obj = dbg.lab.store.get(kind, namespace or None, name)
        if obj is None or not parsed:
            continue
        specs = _specs(obj)
        for i, rule in enumerate(parsed):
            spec = specs[i] if i < len(specs) else {}
            rules.append(_rule_json(spec, rule, namespace if kind != KIND_CCNP else ""))
    dbg.write(go_json(rules) + "\n")
    dbg.write(f"Revision: {repo.revision}\n")
    return 0


def _specs(obj: dict) -> list[dict]:
    if obj.get("kind") == KIND_KNP:
        return [{"endpointSelector": (obj.get("spec") or {}).get("podSelector") or {}}]
    out = []
    if isinstance(obj.get("spec"), dict):
        out.append(obj["spec"])
    out.extend(s for s in obj.get("specs") or [] if isinstance(s, dict))
    return out


def _selector(sel: dict, namespace: str) -> dict:
    sel = copy.deepcopy(sel or {})
    labels = {(k if ":" in k else f"any:{k}"): v for k, v in (sel.get("matchLabels") or {}).items()}
    if namespace and not any(k.endswith("io.kubernetes.pod.namespace") for k in labels):
        labels[NAMESPACE_KEY] = namespace
    out: dict = {}
    if labels:
        out["matchLabels"] = dict(sorted(labels.items()))
    if sel.get("matchExpressions"):
        out["matchExpressions"] = [{**e, "key": e["key"] if ":" in e["key"] else f"any:{e['key']}"}
                                   for e in sel["matchExpressions"]]
    return out


def _rule_json(spec: dict, rule, namespace: str) -> dict:
    out: dict = {}
    if "endpointSelector" in spec:
        out["endpointSelector"] = _selector(spec["endpointSelector"], namespace)
    if "nodeSelector" in spec:
        out["nodeSelector"] = _selector(spec["nodeSelector"], "")
    for section in ("ingress", "ingressDeny", "egress", "egressDeny"):
        items = spec.get(section)
        if not items:
            continue
        converted = []
        for item in items:
            item = copy.deepcopy(item)
            for field in SELECTOR_FIELDS:
                if field in item:
                    item[field] = [_selector(s, namespace) for s in item[field] or []]
            for port in item.get("toPorts") or []:
                for p in port.get("ports") or []:
                    p["port"] = str(p.get("port", "0"))
                    p.setdefault("protocol", "ANY")
            converted.append(item)
        out[section] = converted
    out["labels"] = [_label(text) for text in rule.ref.labels]
    out["enableDefaultDeny"] = {"ingress": bool(rule.default_deny_ingress), "egress": bool(rule.default_deny_egress)}
    if spec.get("description"):
        out["description"] = spec["description"]
    return out


def _label(text: str) -> dict:
    source, _, rest = text.partition(":")
    key, _, value = rest.partition("=")
    return {"key": key, "value": value, "source": source}
