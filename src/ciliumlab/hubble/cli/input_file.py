"""`hubble observe --input-file FILE|-`: a FlowSource over exported / `-o json` lines.

Reproduces hubble's IOReaderObserver: each line is a GetFlowsResponse (`{"flow":..,"node_name":..,
"time":..}`); lines that do not parse are skipped with a warning; `since`/`until` compare the
response time; filters are the server's; `--first N` stops after N, `--last N` keeps the last N
(at most 1,000,000), `--all`/no number returns everything, in file order (never re-sorted).
Bare Flow objects (HUBBLE_COMPAT=legacy-json-output, older exporters) are wrapped as responses.
"""

from __future__ import annotations

import collections
import json
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from ..types import UINT64_MAX, FlowsRequest
from .errors import HubbleError
from .gotime import Timestamp, timestamp_of

_RESPONSE_KEYS = {"flow", "node_status", "lost_events", "agent_event", "debug_event", "node_name", "time"}
MAX_LAST = 1_000_000


def _compile(request: FlowsRequest) -> Callable[[dict], bool]:
    if not request.whitelist and not request.blacklist:
        return lambda _flow: True
    from ciliumlab.hubble.filters import compile_filters  # lazy: written by another module owner
    from ciliumlab.hubble.types import FilterError

    try:
        return compile_filters(request.whitelist, request.blacklist)
    except FilterError as err:
        raise HubbleError(str(err)) from None


def as_response(obj: object) -> dict | None:
    """A parsed line as a GetFlowsResponse dict (None if it is not one)."""
    if not isinstance(obj, dict):
        return None
    if obj.keys() & {"flow", "node_status", "lost_events"} and set(obj) <= _RESPONSE_KEYS | {"agent_event"}:
        return obj
    if "flow" not in obj and obj.keys() & {"verdict", "IP", "l4", "source", "destination", "event_type", "Summary",
                                            "Type", "ethernet", "uuid"}:
        res: dict = {"flow": obj}
        if obj.get("node_name"):
            res["node_name"] = obj["node_name"]
        if obj.get("time"):
            res["time"] = obj["time"]
        return res
    return None


class InputFileSource:
    """FlowSource reading flows from a file path or `-` (stdin)."""

    def __init__(self, path: str, *, stdin: TextIO | None = None, warn: TextIO | None = None) -> None:
        self.path = path
        self._stdin = stdin
        self._warn = warn

    def _lines(self) -> Iterator[str]:
        if self.path == "-":
            yield from (self._stdin or sys.stdin)
            return
        try:
            fh = open(self.path, encoding="utf-8")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise HubbleError(f"open {self.path}: no such file or directory") from None
        except IsADirectoryError:
            raise HubbleError(f"read {self.path}: is a directory") from None
        with fh:
            yield from fh

    def _warn_line(self, err: str, line: str) -> None:
        stream = self._warn if self._warn is not None else sys.stderr
        stream.write(f'level=WARN msg="Failed to unmarshal json to flow" error={json.dumps(err)} '
                     f"line={json.dumps(line)}\n")

    def get_flows(self, request: FlowsRequest) -> Iterator[dict]:
        n = request.number
        last = not request.first and n not in (0, UINT64_MAX)
        if last and n > MAX_LAST:
            raise HubbleError(f"--last must be <= 1_000_000, got {n}")
        match = _compile(request)
        since = Timestamp.from_datetime(request.since) if request.since else None
        until = Timestamp.from_datetime(request.until) if request.until else None
        buffer: collections.deque[dict] = collections.deque(maxlen=n if last else None)
        returned = 0
        for raw in self._lines():
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            try:
                res = as_response(json.loads(line))
            except json.JSONDecodeError as err:
                self._warn_line(f"proto: syntax error: {err.msg}", line)
                continue
            if res is None:
                self._warn_line("proto: unknown field", line)
                continue
            ts = timestamp_of(res.get("time")) or Timestamp(0, 0)
            if since is not None and since > ts:
                continue
            if until is not None and until < ts:
                continue
            if "flow" in res:
                if not match(res["flow"] or {}):
                    continue
            elif request.whitelist:
                continue
            if last:
                buffer.append(res)
                continue
            yield res
            returned += 1
            if request.first and n not in (0, UINT64_MAX) and returned >= n:
                return
        yield from buffer

    def server_status(self) -> dict:
        raise HubbleError("rpc error: code = Unimplemented desc = ServerStatus not implemented")

    def get_nodes(self) -> list[dict]:
        raise HubbleError("rpc error: code = Unimplemented desc = GetNodes not implemented")

    def get_namespaces(self) -> list[dict]:
        raise HubbleError("rpc error: code = Unimplemented desc = GetNamespaces not implemented")
