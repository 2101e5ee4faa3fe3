"""A tiny JSON reader that remembers where every key and value starts.

Why not `json.loads`: protojson reports errors as `(line L:C)` pointing at the offending key or
value, and `--allowlist`/`--denylist` strings may hold several whitespace-separated objects.
This reader parses one value at a time and records 1-based line/column positions (relative to
the start of each top-level object, as protojson sees each object on its own).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ciliumlab.hubble.types import FilterError

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')


class PosDict(dict):
    """dict + `key_pos`/`val_pos`: key -> (line, column)."""

    key_pos: dict[str, tuple[int, int]]
    val_pos: dict[str, tuple[int, int]]


class PosList(list):
    """list + `val_pos`: index -> (line, column)."""

    val_pos: dict[int, tuple[int, int]]


class _Reader:
    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.start = start
        self.i = start

    def pos(self, i: int | None = None) -> tuple[int, int]:
        i = self.i if i is None else i
        chunk = self.text[self.start : i]
        line = chunk.count("\n") + 1
        col = i - (chunk.rfind("\n") + 1 + self.start if "\n" in chunk else self.start) + 1
        return line, col

    def fail(self, msg: str) -> FilterError:
        line, col = self.pos()
        return FilterError(f"proto: syntax error (line {line}:{col}): {msg}")

    def ws(self) -> None:
        self.i = _WS.match(self.text, self.i).end()

    def value(self) -> Any:
        self.ws()
        text, i = self.text, self.i
        if i >= len(text):
            raise self.fail("unexpected token")
        ch = text[i]
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.arr()
        if ch == '"':
            return self.string()
        for word, val in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i):
                self.i += len(word)
                return val
        m = _NUMBER.match(text, i)
        if m:
            self.i = m.end()
            lit = m.group()
            return int(lit) if re.fullmatch(r"-?\d+", lit) else float(lit)
        bad = re.match(r"[^\s,:\]\}\[\{\"]+", text[i:])
        raise self.fail(f"invalid value {bad.group() if bad else ch}")

    def string(self) -> str:
        m = _STRING.match(self.text, self.i)
        if not m:
            raise self.fail("invalid string")
        self.i = m.end()
        return json.loads(m.group())

    def obj(self) -> PosDict:
        out = PosDict()
        out.key_pos, out.val_pos = {}, {}
        self.i += 1
        self.ws()
        if self.text.startswith("}", self.i):
            self.i += 1
            return out
        while True:
            self.ws()
            if not self.text.startswith('"', self.i):
                raise self.fail(f"unexpected token {self.text[self.i : self.i + 1] or 'EOF'}")
            kpos = self.pos()
            key = self.string()
            self.ws()
            if not self.text.startswith(":", self.i):
                raise self.fail("unexpected token, expected ':'")
            self.i += 1
            self.ws()
            vpos = self.pos()
            value = self.value()
            if key not in out:
                out.key_pos[key], out.val_pos[key] = kpos, vpos
                out[key] = value
            else:  # keep the duplicate visible: protojson rejects it
                raise FilterError(f"proto: (line {kpos[0]}:{kpos[1]}): duplicate field {json.dumps(key)}")
            self.ws()
            if self.text.startswith(",", self.i):
                self.i += 1
                continue
            if self.text.startswith("}", self.i):
                self.i += 1
                return out
            raise self.fail(f"unexpected token {self.text[self.i : self.i + 1] or 'EOF'}")

    def arr(self) -> PosList:
        out = PosList()
        out.val_pos = {}
        self.i += 1
        self.ws()
        if self.text.startswith("]", self.i):
            self.i += 1
            return out
        while True:
            self.ws()
            out.val_pos[len(out)] = self.pos()
            out.append(self.value())
            self.ws()
            if self.text.startswith(",", self.i):
                self.i += 1
                continue
            if self.text.startswith("]", self.i):
                self.i += 1
                return out
            raise self.fail(f"unexpected token {self.text[self.i : self.i + 1] or 'EOF'}")


def read_objects(text: str) -> list[Any]:
    """All whitespace-separated top-level JSON values in `text`, with positions."""
    values: list[Any] = []
    i = _WS.match(text, 0).end()
    while i < len(text):
        reader = _Reader(text, i)
        values.append(reader.value())
        i = _WS.match(text, reader.i).end()
    return values
