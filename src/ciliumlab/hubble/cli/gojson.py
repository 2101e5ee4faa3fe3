"""JSON exactly as the Go CLI writes it.

hubble marshals messages with protojson (proto names, declaration order) and writes them through
`encoding/json`, which compacts them and escapes `<`, `>`, `&`, U+2028 and U+2029. Flow dicts
already follow protojson's conventions, so only the Go encoder's final pass is reproduced here.
"""

from __future__ import annotations

import json
from typing import Any

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _escape_html(text: str) -> str:
    for raw, esc in _HTML_ESCAPES.items():
        if raw in text:
            text = text.replace(raw, esc)
    return text


def _go_numbers(value: Any) -> Any:
    """protojson prints integral doubles without a fraction (`5`, not `5.0`)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def compact(value: Any) -> str:
    """`json.Encoder.Encode` output without the trailing newline."""
    return _escape_html(json.dumps(_go_numbers(value), ensure_ascii=False, separators=(",", ":")))


def indent(value: Any) -> str:
    """`json.MarshalIndent(v, "", "  ")`."""
    if value is None:
        return "null"
    return _escape_html(json.dumps(_go_numbers(value), ensure_ascii=False, indent=2, separators=(",", ": ")))
