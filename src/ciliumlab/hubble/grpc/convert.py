"""Flow dicts <-> protobuf messages, the way Hubble's protojson does it.

The dict side is the shared contract (see `ciliumlab.hubble`): proto field names as keys, in
.proto *declaration* order, enums by name, 64-bit integers as decimal strings, Timestamps as
RFC 3339 (`Z`, 0/3/6/9 fraction digits), `BoolValue` as a bare bool, zero values omitted.
`google.protobuf.json_format` produces all of that except the key order (it emits fields by
number), so every message -> dict conversion is re-ordered by the descriptor.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
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


# -- generic -----------------------------------------------------------------------------------------

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


def message_to_dict(msg: Message) -> dict:
    """Any message -> Hubble JSON dict (proto names, declaration order, protojson defaults)."""
    raw = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    return _reorder(raw, msg.DESCRIPTOR)


def dict_to_message(d: dict, cls: type[Message], *, strict: bool = True) -> Message:
    """Hubble JSON dict (proto or camelCase names) -> message. `strict=False` ignores unknown keys."""
    msg = cls()
    json_format.ParseDict(d or {}, msg, ignore_unknown_fields=not strict)
    return msg


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


def _apply(value: dict, tree: dict, desc: Descriptor) -> dict:
    out = {}
    for fd in desc.fields:  # declaration order, like the JSON of the masked message
        if fd.name not in tree:
            continue
        sub = tree[fd.name]
        item = value.get(fd.name) if isinstance(value, dict) else None
        if sub is None or fd.message_type is None or fd.message_type.full_name in _WELL_KNOWN:
            if item is not None:
                out[fd.name] = copy.deepcopy(item)
        else:
            # Hubble pre-allocates every message on a masked path: it is present even when empty.
            out[fd.name] = _apply(item or {}, sub, fd.message_type)
    return out


def apply_field_mask(flow: dict, paths: Iterable[str]) -> dict:
    """Copy only the masked paths of a flow dict (`source.pod_name`, `IP`, `l4`, `Summary`, ...),
    as the Hubble server does before sending (empty mask = the flow unchanged)."""
    paths = [p for p in paths if p]
    if not paths:
        return flow
    validate_field_mask(paths)
    return _apply(flow, _mask_tree(paths), flow_pb2.Flow.DESCRIPTOR)
