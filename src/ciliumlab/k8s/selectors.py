"""Kubernetes label selectors: `matchLabels`/`matchExpressions` dicts and `-l` strings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ..errors import InvalidObject

Predicate = Callable[[Mapping[str, str]], bool]
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def compile_selector(selector: dict | None, *, empty_matches: bool = True) -> Predicate:
    """Compile a LabelSelector dict into a predicate over a label mapping."""
    if not selector:
        return (lambda labels: True) if empty_matches else (lambda labels: False)
    reqs: list[Predicate] = []
    for k, v in (selector.get("matchLabels") or {}).items():
        reqs.append(lambda labels, k=k, v=str(v): labels.get(k) == v)
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        op = expr.get("operator")
        key = expr.get("key")
        values = {str(x) for x in expr.get("values") or []}
        if op not in OPERATORS:
            raise InvalidObject(f'matchExpressions[{i}].operator: Invalid value: "{op}": not a valid selector operator')
        reqs.append(_requirement(key, op, values))
    return lambda labels: all(r(labels) for r in reqs)


def _requirement(key: str, op: str, values: set[str]) -> Predicate:
    if op == "In":
        return lambda labels: key in labels and labels[key] in values
    if op == "NotIn":
        return lambda labels: key not in labels or labels[key] not in values
    if op == "Exists":
        return lambda labels: key in labels
    return lambda labels: key not in labels


def matches(selector: dict | None, labels: Mapping[str, str] | None) -> bool:
    return compile_selector(selector)(labels or {})


_SET_RE = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def parse_label_selector(text: str) -> Predicate:
    """Parse a kubectl `-l` string: `a=b,c!=d,e in (x,y),f notin (z),g,!h`."""
    parts = _split_top(text)
    reqs: list[Predicate] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        m = _SET_RE.match(part)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append(_requirement(key, "In" if op == "in" else "NotIn", vals))
        elif "!=" in part:
            key, val = (s.strip() for s in part.split("!=", 1))
            reqs.append(_requirement(key, "NotIn", {val}))
        elif "==" in part or "=" in part:
            key, val = (s.strip() for s in re.split("==?", part, maxsplit=1))
            reqs.append(_requirement(key, "In", {val}))
        elif part.startswith("!"):
            reqs.append(_requirement(part[1:].strip(), "DoesNotExist", set()))
        else:
            reqs.append(_requirement(part, "Exists", set()))
    return lambda labels: all(r(labels) for r in reqs)


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts
