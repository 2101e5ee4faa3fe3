"""Flow dicts <-> protobuf messages, the way Hubble's protojson does it.

The dict side is the shared contract (see `ciliumlab.hubble`): proto field names as keys, in
.proto *declaration* order, enums by name, 64-bit integers as decimal strings, Timestamps as
RFC 3339 (`Z`, 0/3/6/9 fraction digits), `BoolValue` as a bare bool, zero values omitted.
`google.protobuf.json_format` defines these conversions (and produces all of that except the key
order: it emits fields by number); it is far too slow for streaming flows, so both directions run
through per-descriptor plans (below) and fall back to json_format for shapes they do not cover.
"""

from __future__ import annotations

import base64
import copy
import keyword
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from ..types import FilterError, FlowsRequest
from .gen.flow import flow_pb2
from .gen.observer import observer_pb2
from .gen.peer import peer_pb2

# Messages whose JSON form is not an object of their fields (left as json_format renders them).
_WELL_KNOWN = frozenset(
    "google.protobuf." + name
    for name in ("Any", "Timestamp", "Duration", "FieldMask", "Struct", "Value", "ListValue", "Empty",
                 "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value", "FloatValue",
                 "DoubleValue", "StringValue", "BytesValue")
)


# -- precompiled plans ------------------------------------------------------------------------------
#
# json_format walks descriptors and dispatches on field types for every value of every message,
# which costs ~130 us per flow each way. A plan is that dispatch done once per message descriptor
# (cached), as a closure over per-field tables:
#
#   dict -> message: each key maps to (the value type that passes as is, converter). The result is
#     the message's constructor kwargs (nested dicts/lists for sub-messages), which upb fills in C;
#     it also validates enum names and integer ranges.
#   message -> dict: ListFields() (set fields only: protojson's "zero values omitted"), sorted into
#     declaration order when field numbers are not, each value through its field's converter.
#
# A plan only accepts the canonical shapes it knows how to convert exactly like json_format
# (proto names, exact JSON value types). Anything else -- camelCase keys, unknown keys, null,
# numbers as strings for 32-bit fields, bad enum names, Any/FieldMask/Duration/Struct values,
# out-of-range integers or timestamps -- raises, and the whole message goes through json_format,
# so results and errors are json_format's, byte for byte.

_CPP = FieldDescriptor
_INT32 = (_CPP.CPPTYPE_INT32, _CPP.CPPTYPE_UINT32)
_INT64 = (_CPP.CPPTYPE_INT64, _CPP.CPPTYPE_UINT64)
_IN_PLANS: dict[Descriptor, Callable[[dict], dict]] = {}
_OUT_PLANS: dict[Descriptor, Callable[[Message], dict]] = {}
_CACHE_MAX = 1 << 14


class _Slow(Exception):  # noqa: N818 - control flow, never escapes this module
    """The value is not in a shape the plan converts: use json_format."""


class _Never:
    """A type no JSON value has: `type(v) is _Never` is always false (the value needs its converter)."""


class _EnumNames(dict):
    """number -> name; unknown numbers of open enums stay numbers (as protojson prints them)."""

    def __missing__(self, number: int) -> int:
        return number


def _slow(*_args):
    raise _Slow


def _is_map(fd: FieldDescriptor) -> bool:
    mt = fd.message_type
    return mt is not None and mt.GetOptions().map_entry


# -- Timestamps: RFC 3339, "Z", 0/3/6/9 fraction digits (Timestamp.ToJsonString / FromJsonString).
_EPOCH = datetime(1970, 1, 1)
_TS_MIN, _TS_MAX = -62135596800, 253402300799  # 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z
_TS_TEXT: dict[int, str] = {}  # seconds -> "YYYY-MM-DDTHH:MM:SS"
_TS_SECONDS: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" -> seconds
_TS_BASE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")


def _ts_text(seconds: int) -> str:
    if not _TS_MIN <= seconds <= _TS_MAX:
        raise _Slow
    text = (_EPOCH + timedelta(seconds=seconds)).isoformat()
    if len(_TS_TEXT) >= _CACHE_MAX:
        _TS_TEXT.clear()
    _TS_TEXT[seconds] = text
    return text


def _ts_out(ts) -> str:
    seconds, nanos = ts.seconds, ts.nanos
    base = _TS_TEXT.get(seconds) or _ts_text(seconds)
    if not nanos:
        return base + "Z"
    if not 0 < nanos < 1_000_000_000:
        raise _Slow
    if not nanos % 1_000_000:
        return f"{base}.{nanos // 1_000_000:03d}Z"
    if not nanos % 1_000:
        return f"{base}.{nanos // 1_000:06d}Z"
    return f"{base}.{nanos:09d}Z"


def _ts_seconds(base: str) -> int:
    if not _TS_BASE.fullmatch(base):
        raise _Slow
    when = datetime(int(base[0:4]), int(base[5:7]), int(base[8:10]), int(base[11:13]), int(base[14:16]),
                    int(base[17:19]))  # ValueError on a bad date: json_format reports it
    delta = when - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    if len(_TS_SECONDS) >= _CACHE_MAX:
        _TS_SECONDS.clear()
    _TS_SECONDS[base] = seconds
    return seconds


def _ts_in(v) -> dict:
    if type(v) is not str or len(v) < 20 or v[-1] != "Z":
        raise _Slow
    base = v[:19]
    seconds = _TS_SECONDS.get(base)
    if seconds is None:
        seconds = _ts_seconds(base)
    if len(v) == 20:
        return {"seconds": seconds}
    frac = v[20:-1]
    if v[19] != "." or not frac or len(frac) > 9 or not (frac.isascii() and frac.isdigit()):
        raise _Slow
    return {"seconds": seconds, "nanos": int(frac.ljust(9, "0"))}


# -- scalars in (value -> what the constructor takes); the fast "as is" type is in _PASS.

def _int64_in(v) -> int:
    """uint64/int64: decimal strings (protojson) or ints."""
    if type(v) is str and v.isascii() and (v.isdigit() or (v[:1] == "-" and v[1:].isdigit())):
        return int(v)
    raise _Slow


def _double_in(v) -> float:
    if (type(v) is float and math.isfinite(v)) or type(v) is int:
        return float(v)
    raise _Slow


def _int_in(v) -> int:  # open enums take numbers as they are
    if type(v) is int:
        return v
    raise _Slow


_PASS = {  # cpp type -> the JSON type that is passed to the constructor unchanged
    _CPP.CPPTYPE_STRING: str, _CPP.CPPTYPE_BOOL: bool, _CPP.CPPTYPE_INT32: int, _CPP.CPPTYPE_UINT32: int,
    _CPP.CPPTYPE_INT64: int, _CPP.CPPTYPE_UINT64: int, _CPP.CPPTYPE_ENUM: str,
}
_WRAPPERS_IN = {  # wrapper -> (bare JSON type, converter of other JSON types)
    "google.protobuf.BoolValue": (bool, None), "google.protobuf.StringValue": (str, None),
    "google.protobuf.Int32Value": (int, None), "google.protobuf.UInt32Value": (int, None),
    "google.protobuf.Int64Value": (int, _int64_in), "google.protobuf.UInt64Value": (int, _int64_in),
}


def _scalar_in(fd: FieldDescriptor) -> tuple[type, Callable | None] | None:
    cpp = fd.cpp_type
    if cpp == _CPP.CPPTYPE_STRING and fd.type == _CPP.TYPE_BYTES:
        return None
    if cpp == _CPP.CPPTYPE_DOUBLE:
        return _Never, _double_in
    if cpp == _CPP.CPPTYPE_ENUM:
        if fd.enum_type.is_closed or fd.enum_type.full_name == "google.protobuf.NullValue":
            return None
        return str, _int_in
    if cpp in _INT64:
        return int, _int64_in
    if cpp in _PASS:
        return _PASS[cpp], None
    return None  # float, ...


def _wrap(pass_type: type, conv: Callable | None) -> Callable:
    def wrapper_in(v):
        if type(v) is pass_type:
            return {"value": v}
        if conv is None:
            raise _Slow
        return {"value": conv(v)}
    return wrapper_in


def _message_in(mt: Descriptor) -> Callable | None:
    name = mt.full_name
    if name == "google.protobuf.Timestamp":
        return _ts_in
    if name in _WRAPPERS_IN:
        return _wrap(*_WRAPPERS_IN[name])
    if name in _WELL_KNOWN:
        return None  # Any, FieldMask, Duration, Struct, ...
    return _IN_PLANS.get(mt) or _in_plan(mt)


def _repeated_in(pass_type: type, conv: Callable | None) -> Callable:
    if conv is None:
        ok = frozenset((pass_type,))

        def repeated_in(v):
            if type(v) is list and {*map(type, v)} <= ok:
                return v
            raise _Slow
    else:
        def repeated_in(v):
            if type(v) is not list:
                raise _Slow
            return [x if type(x) is pass_type else conv(x) for x in v]
    return repeated_in


def _field_in(fd: FieldDescriptor) -> tuple[type, Callable] | tuple[type, None] | None:
    if _is_map(fd):
        return None
    if fd.message_type is not None:
        conv = _message_in(fd.message_type)
        if conv is None:
            return None
        return (_Never, _repeated_in(_Never, conv)) if fd.is_repeated else (_Never, conv)
    spec = _scalar_in(fd)
    if spec is None or not fd.is_repeated:
        return spec
    return _Never, _repeated_in(*spec)


def _in_plan(desc: Descriptor) -> Callable[[dict], dict]:
    """dict -> constructor kwargs of `desc` (nested dicts/lists for sub-messages)."""
    fields: dict[str, tuple] = {}  # filled below; the closure is cached first (recursive messages)

    if desc.full_name in _WELL_KNOWN:
        _IN_PLANS[desc] = _slow
        return _slow
    oneofs = [frozenset(f.name for f in o.fields) for o in desc.oneofs if len(o.fields) > 1]

    def plan(d) -> dict:
        if type(d) is not dict:
            raise _Slow
        kw = {}
        for key, value in d.items():
            pass_type, conv = fields[key]  # KeyError: unknown or camelCase key
            if type(value) is pass_type:
                kw[key] = value
            elif conv is None:
                raise _Slow
            else:
                kw[key] = conv(value)
        for group in oneofs:  # json_format rejects two members of a oneof; the constructor would not
            if len(group.intersection(kw)) > 1:
                raise _Slow
        return kw

    _IN_PLANS[desc] = plan
    json_names = {f.json_name for f in desc.fields if f.json_name != f.name}
    for fd in desc.fields:
        spec = _field_in(fd)
        if spec is not None and fd.name not in json_names:  # a proto name that is another's json name: ambiguous
            fields[fd.name] = spec
    return plan


# -- out: message -> dict, as generated code (one function per descriptor, fields unrolled in
# declaration order: no per-field dispatch, no re-sorting of ListFields()).

def _wkt_out(msg: Message):
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def _value_out(v):
    return v.value


def _value64_out(v):
    return str(v.value)


def _double_out(v: float):
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def _bytes_out(v: bytes) -> str:
    return base64.b64encode(v).decode("utf-8")


_WRAPPERS_OUT = {
    "google.protobuf.BoolValue": _value_out, "google.protobuf.StringValue": _value_out,
    "google.protobuf.Int32Value": _value_out, "google.protobuf.UInt32Value": _value_out,
    "google.protobuf.Int64Value": _value64_out, "google.protobuf.UInt64Value": _value64_out,
}


def _field_out(fd: FieldDescriptor) -> Callable | _EnumNames | None:
    """The converter of one value of `fd` (None: the value is already its JSON form)."""
    mt = fd.message_type
    if mt is not None:
        name = mt.full_name
        if name == "google.protobuf.Timestamp":
            return _ts_out
        if name in _WRAPPERS_OUT:
            return _WRAPPERS_OUT[name]
        if name in _WELL_KNOWN:
            return _wkt_out
        return _OUT_PLANS.get(mt) or _out_plan(mt)
    cpp = fd.cpp_type
    if cpp == _CPP.CPPTYPE_ENUM:
        if fd.enum_type.is_closed or fd.enum_type.full_name == "google.protobuf.NullValue":
            raise _Slow
        return _EnumNames((v.number, v.name) for v in fd.enum_type.values)
    if cpp in _INT64:
        return str
    if cpp == _CPP.CPPTYPE_DOUBLE:
        return _double_out
    if cpp == _CPP.CPPTYPE_STRING and fd.type == _CPP.TYPE_BYTES:
        return _bytes_out
    if cpp in (_CPP.CPPTYPE_STRING, _CPP.CPPTYPE_BOOL, *_INT32):
        return None
    raise _Slow  # float: json_format's shortest-repr rounding


def _field_out_code(fd: FieldDescriptor, conv, c: str) -> list[str]:
    """Source lines that copy `fd` of message `m` into `out` when it is set (`c`: its converter)."""
    key = repr(fd.name)
    get = f"m.{fd.name}" if fd.name.isidentifier() and not keyword.iskeyword(fd.name) else f"getattr(m, {key})"
    if isinstance(conv, _EnumNames):
        one, each = f"{c}[v]", f"[{c}[x] for x in v]"
    elif conv is None:
        one, each = "v", "list(v)"
    else:
        one, each = f"{c}(v)", f"[{c}(x) for x in v]"
    if fd.is_repeated:  # set = non-empty
        return [f"    v = {get}", "    if v:", f"        out[{key}] = {each}"]
    if fd.message_type is not None or fd.has_presence:  # messages, oneof members, proto3 optional
        return [f"    if m.HasField({key}):", f"        v = {get}", f"        out[{key}] = {one}"]
    nonzero = "v or copysign(1.0, v) < 0" if fd.cpp_type == _CPP.CPPTYPE_DOUBLE else "v"  # -0.0 is set
    return [f"    v = {get}", f"    if {nonzero}:", f"        out[{key}] = {one}"]


def _out_plan(desc: Descriptor) -> Callable[[Message], dict]:
    """message -> dict of its set fields (ListFields() semantics), in declaration order."""
    if desc.full_name in _WELL_KNOWN or desc.extension_ranges or any(_is_map(fd) for fd in desc.fields):
        _OUT_PLANS[desc] = _slow_to_dict
        return _slow_to_dict
    compiled: list[Callable] = []

    def forward(msg: Message) -> dict:  # what recursive references see while `desc` compiles
        return compiled[0](msg)

    _OUT_PLANS[desc] = forward
    namespace: dict = {"copysign": math.copysign}
    lines = ["def plan(m):", "    out = {}"]
    try:
        for i, fd in enumerate(desc.fields):
            namespace[f"c{i}"] = conv = _field_out(fd)
            lines += _field_out_code(fd, conv, f"c{i}")
    except _Slow:
        _OUT_PLANS[desc] = _slow_to_dict
        compiled.append(_slow_to_dict)
        return _slow_to_dict
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<plan {desc.full_name} -> dict>", "exec"), namespace)  # noqa: S102
    plan = namespace["plan"]
    compiled.append(plan)
    _OUT_PLANS[desc] = plan
    return plan


# -- generic (json_format: the reference, and the fallback) -----------------------------------------

def _reorder(value: dict, desc: Descriptor) -> dict:
    if desc.full_name in _WELL_KNOWN or not isinstance(value, dict):
        return value
    out = {}
    for fd in desc.fields:
        if fd.name not in value:
            continue
        item = value[fd.name]
        sub = fd.message_type
        if sub is not None and sub.full_name not in _WELL_KNOWN:
            if fd.is_repeated:
                item = [_reorder(x, sub) for x in item]
            else:
                item = _reorder(item, sub)
        out[fd.name] = item
    for key, item in value.items():  # unknown keys (e.g. "@type") keep their place at the end
        if key not in out:
            out[key] = item
    return out


def _slow_to_dict(msg: Message) -> dict:
    raw = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    return _reorder(raw, msg.DESCRIPTOR)


def _slow_to_message(d: dict, cls: type[Message], strict: bool) -> Message:
    msg = cls()
    json_format.ParseDict(d or {}, msg, ignore_unknown_fields=not strict)
    return msg


def decoder(desc: Descriptor) -> Callable[[Message], dict]:
    """The message -> dict conversion of one message type, plan looked up once (hot loops)."""
    plan = _OUT_PLANS.get(desc) or _out_plan(desc)

    def to_dict(msg: Message) -> dict:
        try:
            return plan(msg)
        except Exception:  # noqa: BLE001 - a shape the plan does not cover: json_format decides
            return _slow_to_dict(msg)
    return to_dict


def encoder(cls: type[Message], *, strict: bool = False) -> Callable[[dict], Message]:
    """The dict -> message conversion of one message type, plan looked up once (hot loops)."""
    plan = _IN_PLANS.get(cls.DESCRIPTOR) or _in_plan(cls.DESCRIPTOR)

    def to_message(d: dict) -> Message:
        if d:
            try:
                return cls(**plan(d))
            except Exception:  # noqa: BLE001 - camelCase/unknown keys, bad values, ...: json_format decides
                pass
        return _slow_to_message(d, cls, strict)
    return to_message


def message_to_dict(msg: Message) -> dict:
    """Any message -> Hubble JSON dict (proto names, declaration order, protojson defaults)."""
    desc = msg.DESCRIPTOR
    plan = _OUT_PLANS.get(desc) or _out_plan(desc)
    try:
        return plan(msg)
    except Exception:  # noqa: BLE001 - a shape the plan does not cover: json_format decides
        return _slow_to_dict(msg)


def dict_to_message(d: dict, cls: type[Message], *, strict: bool = True) -> Message:
    """Hubble JSON dict (proto or camelCase names) -> message. `strict=False` ignores unknown keys."""
    if d:
        desc = cls.DESCRIPTOR
        plan = _IN_PLANS.get(desc) or _in_plan(desc)
        try:
            return cls(**plan(d))
        except Exception:  # noqa: BLE001 - camelCase/unknown keys, bad values, ...: json_format decides
            pass
    return _slow_to_message(d, cls, strict)


# -- flows ---------------------------------------------------------------------------------------------

def flow_to_proto(d: dict, *, strict: bool = False) -> flow_pb2.Flow:
    return dict_to_message(d, flow_pb2.Flow, strict=strict)


def proto_to_flow(m: flow_pb2.Flow) -> dict:
    return message_to_dict(m)


def filter_to_proto(d: dict) -> flow_pb2.FlowFilter:
    """FlowFilter dict -> message; an unknown key or a bad value is a FilterError."""
    try:
        return dict_to_message(d, flow_pb2.FlowFilter, strict=True)
    except json_format.ParseError as err:
        raise FilterError(str(err)) from None


def proto_to_filter(m: flow_pb2.FlowFilter) -> dict:
    return message_to_dict(m)


def response_to_proto(ev: dict, *, strict: bool = False) -> observer_pb2.GetFlowsResponse:
    """GetFlowsResponse dict ({"flow"|"node_status"|"lost_events": ..., "node_name", "time"})."""
    return dict_to_message(ev, observer_pb2.GetFlowsResponse, strict=strict)


def proto_to_response(m: observer_pb2.GetFlowsResponse) -> dict:
    return message_to_dict(m)


def response_encoder() -> Callable[[dict], observer_pb2.GetFlowsResponse]:
    """`response_to_proto` for a stream of responses (what the server calls per flow)."""
    return encoder(observer_pb2.GetFlowsResponse, strict=False)


def response_decoder() -> Callable[[observer_pb2.GetFlowsResponse], dict]:
    """`proto_to_response` for a stream of responses (what the client calls per flow)."""
    return decoder(observer_pb2.GetFlowsResponse.DESCRIPTOR)


# -- requests --------------------------------------------------------------------------------------

def _to_timestamp(when: datetime, ts) -> None:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ts.FromDatetime(when)


def _from_timestamp(ts) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def request_to_proto(req: FlowsRequest) -> observer_pb2.GetFlowsRequest:
    m = observer_pb2.GetFlowsRequest(number=req.number, first=req.first, follow=req.follow)
    m.whitelist.extend(filter_to_proto(f) for f in req.whitelist)
    m.blacklist.extend(filter_to_proto(f) for f in req.blacklist)
    if req.since is not None:
        _to_timestamp(req.since, m.since)
    if req.until is not None:
        _to_timestamp(req.until, m.until)
    if req.field_mask:
        m.field_mask.paths.extend(req.field_mask)
    return m


def proto_to_request(m: observer_pb2.GetFlowsRequest) -> FlowsRequest:
    return FlowsRequest(
        number=m.number,
        first=m.first,
        follow=m.follow,
        since=_from_timestamp(m.since) if m.HasField("since") else None,
        until=_from_timestamp(m.until) if m.HasField("until") else None,
        whitelist=[proto_to_filter(f) for f in m.whitelist],
        blacklist=[proto_to_filter(f) for f in m.blacklist],
        field_mask=list(m.field_mask.paths),
    )


# -- status / nodes / namespaces / peers -------------------------------------------------------------

def server_status_to_proto(d: dict) -> observer_pb2.ServerStatusResponse:
    return dict_to_message(d, observer_pb2.ServerStatusResponse, strict=False)


def nodes_to_proto(nodes: Iterable[dict]) -> observer_pb2.GetNodesResponse:
    return dict_to_message({"nodes": list(nodes)}, observer_pb2.GetNodesResponse, strict=False)


def namespaces_to_proto(namespaces: Iterable[dict]) -> observer_pb2.GetNamespacesResponse:
    return dict_to_message({"namespaces": list(namespaces)}, observer_pb2.GetNamespacesResponse, strict=False)


def peer_to_proto(node: dict, change: str = "PEER_ADDED") -> peer_pb2.ChangeNotification:
    """{"name", "address", "tls": {"server_name"}} -> ChangeNotification of type `change`."""
    d = {k: v for k, v in node.items() if k in ("name", "address", "tls")}
    d["type"] = change
    return dict_to_message(d, peer_pb2.ChangeNotification, strict=False)


# -- field masks (pkg/hubble/parser/fieldmask) ---------------------------------------------------------

def validate_field_mask(paths: Iterable[str], desc: Descriptor = flow_pb2.Flow.DESCRIPTOR) -> None:
    """Like fieldmaskpb.IsValid(&flow.Flow{}): every path names fields, only the last may be repeated."""
    for path in paths:
        md: Descriptor | None = desc
        for part in path.split("."):
            fd = md.fields_by_name.get(part) if md is not None else None
            if fd is None:
                raise FilterError("invalid fieldmask")
            md = None if fd.is_repeated else fd.message_type


def _mask_tree(paths: Iterable[str]) -> dict:
    tree: dict = {}
    for path in sorted(set(paths), key=lambda p: p.count(".")):  # Normalize(): parents win
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            if part in node and node[part] is None:
                break
            node = node.setdefault(part, {})
        else:
            node[parts[-1]] = None
    return tree


def _apply(value: dict, tree: dict, desc: Descriptor, clone: Callable = copy.deepcopy) -> dict:
    out = {}
    for fd in desc.fields:  # declaration order, like the JSON of the masked message
        if fd.name not in tree:
            continue
        sub = tree[fd.name]
        item = value.get(fd.name) if isinstance(value, dict) else None
        if sub is None or fd.message_type is None or fd.message_type.full_name in _WELL_KNOWN:
            if item is not None:
                out[fd.name] = clone(item)
        else:
            # Hubble pre-allocates every message on a masked path: it is present even when empty.
            out[fd.name] = _apply(item or {}, sub, fd.message_type, clone)
    return out


def apply_field_mask(flow: dict, paths: Iterable[str]) -> dict:
    """Copy only the masked paths of a flow dict (`source.pod_name`, `IP`, `l4`, `Summary`, ...),
    as the Hubble server does before sending (empty mask = the flow unchanged)."""
    paths = [p for p in paths if p]
    if not paths:
        return flow
    validate_field_mask(paths)
    return _apply(flow, _mask_tree(paths), flow_pb2.Flow.DESCRIPTOR)


def _same(item):
    return item


def compile_field_mask(paths: Iterable[str]) -> Callable[[dict], dict] | None:
    """`apply_field_mask` with `paths` validated and normalized once, for a stream of flows that are
    converted to messages right away: the masked dict shares the flow's leaves (no deep copies), so
    it must not be modified. None when the mask is empty (flows are sent unchanged)."""
    paths = [p for p in paths if p]
    if not paths:
        return None
    validate_field_mask(paths)
    tree = _mask_tree(paths)
    desc = flow_pb2.Flow.DESCRIPTOR

    def mask(flow: dict) -> dict:
        return _apply(flow, tree, desc, _same)
    return mask
