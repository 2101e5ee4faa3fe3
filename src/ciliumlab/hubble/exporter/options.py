"""Exporter options shared by the static and dynamic exporters: filters and field masks.

* Allow/deny lists (`hubble-export-allowlist`/`-denylist`) are a string of JSON FlowFilter
  objects (proto or json field names, protojson rules). Objects may be separated by whitespace
  (what the Cilium 1.19 chart writes: `join " "`) or by commas (what older charts and the docs'
  `--hubble-export-denylist='{...},{...}'` examples use).
* A field mask is a list of `flow.Flow` paths validated like `fieldmaskpb.New(&flowpb.Flow{}, ...)`;
  `hubble-export-fieldmask` holds them separated by spaces (or commas).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

from ciliumlab.hubble.filters import FilterError, compile_filters, normalize_filter, parse_filter_json
from ciliumlab.hubble.grpc.convert import compile_field_mask, validate_field_mask

from .errors import ExporterConfigError

_WS = " \t\r\n"


def split_json_objects(text: str) -> list[str]:
    """Top-level `{...}` objects of `text`, separated by whitespace and/or commas (like Cilium's
    `nextJSONObject`, which tracks braces and strings). Raises ValueError with Go's wording."""
    objects: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and (text[i] in _WS or text[i] == ","):
            i += 1
        if i == n:
            return objects
        if text[i] != "{":
            raise ValueError(f"unexpected character {_go_char(text[i])} looking for beginning of object")
        start, depth, in_string = i, 0, False
        while i < n:
            c = text[i]
            if in_string:
                if c == "\\":
                    i += 1
                    if i >= n:
                        raise ValueError("unexpected EOF in string")
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        else:
            raise ValueError("unexpected EOF")
        i += 1
        objects.append(text[start:i])


def _go_char(c: str) -> str:
    """Go's %q of a byte: a quoted character literal."""
    return "'\\''" if c == "'" else "'" + json.dumps(c)[1:-1] + "'"


def parse_flow_filters(text: str, what: str = "allowlist") -> list[dict]:
    """`hubble.ParseFlowFilters` for the allow or deny list, errors as the agent reports them."""
    if not text or not text.strip():
        return []
    try:
        return [f for obj in split_json_objects(text) for f in parse_filter_json(obj)]
    except (ValueError, FilterError) as err:
        raise ExporterConfigError(
            f"failed to parse {what}: failed to decode flow filters {json.dumps(text)}: {err}") from None


def normalize_yaml_filters(items, field: str) -> list[dict]:
    """includeFilters/excludeFilters of a dynamic flow log: a list of FlowFilter mappings."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ExporterConfigError(f"json: cannot unmarshal {json_kind(items)} into Go struct field "
                                  f"FlowLogConfig.flowLogs.{field} of type exporter.FlowFilters")
    out = []
    for item in items:
        if item is None:
            out.append({})
            continue
        if not isinstance(item, dict):
            raise ExporterConfigError(f"proto: syntax error: unexpected token {json.dumps(item, default=str)}")
        try:
            out.append(normalize_filter(item))
        except FilterError as err:
            raise ExporterConfigError(str(err)) from None
    return out


def json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "value"


def split_field_mask(text: str) -> list[str]:
    return [p for p in re.split(r"[\s,]+", text or "") if p]


def check_field_mask(paths: Iterable[str]) -> list[str]:
    """The paths if every one names a Flow field, else the `fieldmaskpb.New` error."""
    paths = [p for p in paths if p]
    for path in paths:
        try:
            validate_field_mask([path])
        except FilterError:
            raise ExporterConfigError(f'proto: invalid path "{path}" for message "flow.Flow"') from None
    return paths


def build_filter(allow: list[dict], deny: list[dict]) -> Callable[[dict], bool] | None:
    """The flow predicate, or None when there are no filters (everything passes)."""
    if not allow and not deny:
        return None
    try:
        return compile_filters(allow, deny)
    except FilterError as err:
        raise ExporterConfigError(str(err)) from None


def build_mask(paths: list[str]) -> Callable[[dict], dict] | None:
    return compile_field_mask(paths) if paths else None
