"""One exported event as one line: what Go's `json.Encoder.Encode(*observerpb.ExportEvent)` writes.

The generated `MarshalJSON` of ExportEvent is protojson with proto field names; json.Encoder then
compacts it, HTML-escapes `<`, `>`, `&` (as `\\u003c`, `\\u003e`, `\\u0026`) plus U+2028/U+2029,
and appends a newline. Flow dicts are already in protojson form (proto names, declaration
order, enum names, 64-bit integers as strings), so only the envelope and the encoder's final pass
are produced here:

    {"flow":{...},"node_name":"k8s-w1","time":"2025-11-26T08:00:00.006154496Z"}\\n

For a flow the envelope's `node_name` and `time` are the (masked) flow's own fields
(`ev.GetNodeName()`, `ev.GetTime()`), so a mask without `time` leaves the envelope without one.
Lost/agent/debug events carry the agent's node name and the event's timestamp. Node status
events are relay-only and never exported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

# ExportEvent's oneof, in declaration order (node_status = 2 exists but agents never export it).
EVENT_KINDS = ("flow", "lost_events", "agent_event", "debug_event")

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
_HTML = re.compile("[<>&\u2028\u2029]")
_HTML_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                               "\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_json(value) -> str:
    """Compact JSON with Go's json.Encoder escaping (no trailing newline)."""
    text = _encode(value)
    if _HTML.search(text) is not None:
        text = text.translate(_HTML_ESCAPES)
    return text


def export_event(response: dict, mask: Callable[[dict], dict] | None = None,
                 node_name: str = "") -> dict | None:
    """The ExportEvent dict for a GetFlowsResponse-shaped dict, or None if it is not exportable.

    `mask` (a compiled field mask) applies to flows only; `node_name` is the agent's name, used
    for non-flow events that carry none."""
    flow = response.get("flow")
    if flow is not None:
        if mask is not None:
            flow = mask(flow)
        event = {"flow": flow}
        node, ts = flow.get("node_name"), flow.get("time")
    else:
        for kind in EVENT_KINDS[1:]:
            payload = response.get(kind)
            if payload is not None:
                event = {kind: payload}
                node, ts = response.get("node_name") or node_name, response.get("time")
                break
        else:
            return None
    if node:
        event["node_name"] = node
    if ts:
        event["time"] = ts
    return event


def encode_line(event: dict) -> bytes:
    """The complete line (UTF-8, newline-terminated) for an ExportEvent dict."""
    return (go_json(event) + "\n").encode()
