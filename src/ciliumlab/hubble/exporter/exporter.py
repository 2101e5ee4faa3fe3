"""One flow log: filters, field mask, line encoding and a writer (Cilium's `exporter.exporter`).

`export(response)` applies the allow/deny filters to the event (non-flow events never match an
allowlist), masks the flow, and writes the whole line with one call to the writer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from .line import encode_line, export_event
from .options import build_filter
from .rotate import RotatingFile


class StdoutWriter:
    """`hubble-export-file-path: stdout`: each complete line (with its newline) goes to `emit`."""

    def __init__(self, emit: Callable[[str], object] | None = None) -> None:
        self.emit = emit or sys.stdout.write
        self._lock = threading.Lock()

    def write(self, data: bytes) -> int:
        with self._lock:
            self.emit(data.decode())
        return len(data)

    def close(self) -> None:  # the agent's stdout stays open
        return None


class FlowLogExporter:
    """Filters + mask + writer. Counts what it wrote and the writes that failed."""

    def __init__(self, writer, *, match: Callable[[dict], bool] | None = None,
                 mask: Callable[[dict], dict] | None = None, non_flow_passes: bool = True,
                 node_name: str = "", name: str = "") -> None:
        self.writer = writer
        self.match = match
        self.mask = mask
        # Filters look at ev.GetFlow(): for a lost/agent/debug event that is nil, which only an
        # empty FlowFilter matches, so such events pass unless an allowlist is set.
        self.non_flow_passes = non_flow_passes
        self.node_name = node_name
        self.name = name
        self.needs_full = False  # a filter on `uuid` or `time` cannot be judged on a light flow
        self.exported = 0
        self.failed = 0
        self.last_error: str | None = None
        self.closed = False
        self._lock = threading.Lock()

    @classmethod
    def build(cls, writer, *, allow: list[dict], deny: list[dict], mask: Callable[[dict], dict] | None,
              node_name: str = "", name: str = "") -> FlowLogExporter:
        non_flow = (not allow or {} in allow) and {} not in deny
        exporter = cls(writer, match=build_filter(allow, deny), mask=mask, non_flow_passes=non_flow,
                       node_name=node_name, name=name)
        exporter.needs_full = any("uuid" in f for f in (*allow, *deny))
        return exporter

    def accepts(self, response: dict) -> bool:
        flow = response.get("flow")
        if flow is None:
            return self.non_flow_passes
        return self.match is None or self.match(flow)

    def export(self, response: dict, full: Callable[[], dict] | None = None) -> bool:
        """Write the event's line if it passes the filters; returns whether a line was written.
        With `full`, `response` holds a light flow (no uuid, no time) good enough to filter on, and
        `full()` the complete response, built only for the events that are written."""
        if full is not None and self.needs_full:
            response, full = full(), None
        if self.closed or not self.accepts(response):
            return False
        if full is not None:
            response = full()
        event = export_event(response, self.mask, self.node_name)
        if event is None:
            return False
        line = encode_line(event)
        with self._lock:
            if self.closed:
                return False
            try:
                self.writer.write(line)
            except OSError as err:
                self.failed += 1
                self.last_error = str(err)
                return False
            self.exported += 1
        return True

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                self.writer.close()

    @property
    def path(self):
        return self.writer.path if isinstance(self.writer, RotatingFile) else None
