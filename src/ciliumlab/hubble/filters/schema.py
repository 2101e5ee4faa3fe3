"""The FlowFilter message schema and its protojson-style normalisation.

Filters reach us as JSON-shaped dicts from several places: the CLI (proto names), `--allowlist`
strings and exporter configs (either proto names or camelCase json names, since protojson's
unmarshaller accepts both), and the gRPC layer. Normalising them once into the canonical form
protojson would *print* (proto names, declaration order, enums by name, uint64 as strings, zero
values in nested messages omitted, empty lists dropped) means every builder sees one shape, and
that shape is also what `--print-raw-filters` would show.

Validation mirrors protojson's: unknown fields, wrong JSON types and unknown enum names are
rejected with protojson-like texts (`proto: (line 1:2): unknown field "foo"`). Line/column
positions are only known when the dict came from `parse_filter_json` (see `jsonpos`).
"""

from __future__ import annotations

from typing import Any

from ciliumlab.hubble.types import FilterError

from .enums import ENUMS, NAMES_BY_NUMBER

# A field: (proto name, kind, repeated). kind is a scalar kind, "enum:<Enum>" or "msg:<Message>".
Field = tuple[str, str, bool]

_TCP_FLAG_NAMES = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS")

MESSAGES: dict[str, list[Field]] = {
    "FlowFilter": [
        ("uuid", "string", True),
        ("source_ip", "string", True),
        ("source_ip_xlated", "string", True),
        ("source_pod", "string", True),
        ("source_fqdn", "string", True),
        ("source_label", "string", True),
        ("source_service", "string", True),
        ("source_workload", "msg:Workload", True),
        ("source_cluster_name", "string", True),
        ("destination_ip", "string", True),
        ("destination_pod", "string", True),
        ("destination_fqdn", "string", True),
        ("destination_label", "string", True),
        ("destination_service", "string", True),
        ("destination_workload", "msg:Workload", True),
        ("destination_cluster_name", "string", True),
        ("traffic_direction", "enum:TrafficDirection", True),
        ("verdict", "enum:Verdict", True),
        ("drop_reason_desc", "enum:DropReason", True),
        ("interface", "msg:NetworkInterface", True),
        ("event_type", "msg:EventTypeFilter", True),
        ("http_status_code", "string", True),
        ("protocol", "string", True),
        ("source_port", "string", True),
        ("destination_port", "string", True),
        ("reply", "bool", True),
        ("dns_query", "string", True),
        ("source_identity", "uint32", True),
        ("destination_identity", "uint32", True),
        ("http_method", "string", True),
        ("http_path", "string", True),
        ("http_url", "string", True),
        ("http_header", "msg:HTTPHeader", True),
        ("tcp_flags", "msg:TCPFlags", True),
        ("node_name", "string", True),
        ("node_labels", "string", True),
        ("ip_version", "enum:IPVersion", True),
        ("trace_id", "string", True),
        ("ip_trace_id", "uint64", True),
        ("encrypted", "bool", True),
        ("experimental", "msg:Experimental", False),
    ],
    "Workload": [("name", "string", False), ("kind", "string", False)],
    "NetworkInterface": [("index", "uint32", False), ("name", "string", False)],
    "EventTypeFilter": [
        ("type", "int32", False),
        ("match_sub_type", "bool", False),
        ("sub_type", "int32", False),
    ],
    "HTTPHeader": [("key", "string", False), ("value", "string", False)],
    "TCPFlags": [(name, "bool", False) for name in _TCP_FLAG_NAMES],
    "Experimental": [("cel_expression", "string", True)],
}

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}


def json_name(proto_name: str) -> str:
    """protoc's default json_name: lowerCamelCase of the proto field name."""
    head, *rest = proto_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# message -> {accepted key (proto or json name): field}
_LOOKUP: dict[str, dict[str, Field]] = {
    msg: {key: f for f in fields for key in (f[0], json_name(f[0]))} for msg, fields in MESSAGES.items()
}


def _go_quote(value: Any) -> str:
    """Raw JSON text of a value, the way protojson quotes the offending token."""
    import json

    return json.dumps(value, ensure_ascii=False)


class _Ctx:
    """Error reporting with optional source positions (from `jsonpos.PosDict`/`PosList`)."""

    @staticmethod
    def error(msg: str, pos: tuple[int, int] | None) -> FilterError:
        if pos is None:
            return FilterError(f"proto: {msg}")
        return FilterError(f"proto: (line {pos[0]}:{pos[1]}): {msg}")

    @staticmethod
    def syntax(msg: str, pos: tuple[int, int] | None) -> FilterError:
        if pos is None:
            return FilterError(f"proto: syntax error: {msg}")
        return FilterError(f"proto: syntax error (line {pos[0]}:{pos[1]}): {msg}")


def _key_pos(obj: Any, key: str) -> tuple[int, int] | None:
    return getattr(obj, "key_pos", {}).get(key)


def _val_pos(obj: Any, key: Any) -> tuple[int, int] | None:
    return getattr(obj, "val_pos", {}).get(key)


def _scalar(value: Any, kind: str, name: str, pos: tuple[int, int] | None) -> Any:
    """One scalar/enum value in its canonical JSON form, or a protojson-like error."""
    if kind == "string":
        if isinstance(value, str):
            return value
    elif kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind in _INT_RANGES:
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip() == value and value:
            try:
                as_float = float(value)
            except ValueError:
                as_float = None
            if as_float is not None and as_float.is_integer():
                number = int(value) if value.lstrip("-").isdigit() else int(as_float)
        lo, hi = _INT_RANGES[kind]
        if number is not None and lo <= number <= hi:
            return str(number) if kind == "uint64" else number
    elif kind.startswith("enum:"):
        enum = kind[5:]
        if isinstance(value, str) and value in ENUMS[enum]:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31:
            return NAMES_BY_NUMBER[enum].get(value, value)
        if isinstance(value, float) and value.is_integer():
            return NAMES_BY_NUMBER[enum].get(int(value), int(value))
        kind = "enum"
    raise _Ctx.error(f"invalid value for {kind} field {json_name(name)}: {_go_quote(value)}", pos)


def _message(obj: Any, msg: str, pos: tuple[int, int] | None) -> dict:
    if not isinstance(obj, dict):
        raise _Ctx.syntax(f"unexpected token {_go_quote(obj)}", pos)
    lookup = _LOOKUP[msg]
    seen: dict[str, Any] = {}
    for key, value in obj.items():
        field = lookup.get(key)
        if field is None:
            raise _Ctx.error(f"unknown field {_go_quote(key)}", _key_pos(obj, key))
        name = field[0]
        if name in seen:
            raise _Ctx.error(f"duplicate field {_go_quote(key)}", _key_pos(obj, key))
        seen[name] = (key, value)
    out: dict[str, Any] = {}
    for name, kind, repeated in MESSAGES[msg]:  # declaration order, like protojson output
        if name not in seen:
            continue
        key, value = seen[name]
        vpos = _val_pos(obj, key)
        if value is None:  # protojson: null leaves the field unset
            continue
        if repeated:
            if not isinstance(value, list):
                raise _Ctx.syntax(f"unexpected token {_go_quote(value)}", vpos)
            items = []
            for i, item in enumerate(value):
                ipos = _val_pos(value, i)
                if kind.startswith("msg:"):
                    items.append(_message(item, kind[4:], ipos))
                else:
                    items.append(_scalar(item, kind, name, ipos))
            if items:
                out[name] = items
        elif kind.startswith("msg:"):
            out[name] = _message(value, kind[4:], vpos)
        else:
            scalar = _scalar(value, kind, name, vpos)
            if scalar not in (0, "", False, "0"):  # proto3 zero values are not printed
                out[name] = scalar
    return out


def normalize_filter(flow_filter: dict) -> dict:
    """A FlowFilter dict (proto or json names, enums as names or numbers) in canonical form.

    Raises FilterError (protojson-like text) for unknown fields or ill-typed values.
    """
    return _message(flow_filter, "FlowFilter", None)
