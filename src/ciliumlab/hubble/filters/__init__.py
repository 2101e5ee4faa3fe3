"""FlowFilter dicts compiled into predicates, the way Cilium's `pkg/hubble/filters` does it.

Each filter kind is a small builder (one module per family: `event`, `ip`, `k8s`, `fqdn`,
`labels`, `l4`, `http`, `tracing`, `cel`) turning the FlowFilter's values for that kind into a
predicate, compiled once; all per-call work is dict lookups. A FlowFilter is the AND of its
kinds, a whitelist is an OR of FlowFilters, a blacklist excludes a flow if any filter matches.

Public API:
    compile_filter(flow_filter) -> Predicate
    compile_filters(whitelist, blacklist) -> Predicate
    parse_filter_json(text) -> list[dict]      (`--allowlist`/`--denylist`/exporter allowList)
    normalize_filter(flow_filter) -> dict      (canonical protojson form, e.g. for printing)
    FilterError                                (re-exported from ciliumlab.hubble.types)

`experimental.cel_expression` is supported for a documented subset of CEL (see `cel`).
"""

from __future__ import annotations

from ciliumlab.hubble.types import FilterError, Predicate

from .compile import compile_filter, compile_filters
from .jsonpos import read_objects
from .schema import normalize_filter


def parse_filter_json(text: str) -> list[dict]:
    """One or more whitespace-separated FlowFilter JSON objects -> canonical FlowFilter dicts.

    Accepts proto names and camelCase json names, enums by name or number, like protojson;
    unknown fields, wrong types and malformed JSON raise FilterError with protojson-like text
    (`proto: (line 1:2): unknown field "foo"`).
    """
    return [normalize_filter(obj) for obj in read_objects(text)]


__all__ = [
    "FilterError",
    "Predicate",
    "compile_filter",
    "compile_filters",
    "normalize_filter",
    "parse_filter_json",
]
