"""Request and response shapes shared by the embedded API, the CLI and the gRPC servers.

They mirror `observer.proto`: a `FlowsRequest` is a GetFlowsRequest, a response event is the
JSON form of a GetFlowsResponse (`{"flow": {...}, "node_name": "...", "time": "..."}`, or
`{"node_status": {...}, ...}` / `{"lost_events": {...}, ...}`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

Flow = dict  # the `flow` object of `hubble observe -o json`
ResponseEvent = dict  # a GetFlowsResponse in Hubble's JSON form

UINT64_MAX = 18446744073709551615


@dataclass
class FlowsRequest:
    """GetFlowsRequest: which flows, in what order, for how long."""

    number: int = 0  # 0 with follow = only new flows; UINT64_MAX = all (`--all`)
    first: bool = False  # oldest first (`--first N`); default newest N (`--last N`)
    follow: bool = False
    since: datetime | None = None  # aware UTC datetimes
    until: datetime | None = None
    whitelist: list[dict] = field(default_factory=list)  # FlowFilter dicts (proto names), OR-ed
    blacklist: list[dict] = field(default_factory=list)  # a flow matching any is excluded
    field_mask: list[str] = field(default_factory=list)  # Flow paths, e.g. "source.pod_name"


class FilterError(ValueError):
    """A FlowFilter the server rejects (the real error text, e.g. `unknown protocol: "foo"`)."""


class FlowSource(Protocol):
    """Anything `hubble observe/status/list` can talk to: a node's observer, the relay, a gRPC
    client, or a file of exported flows."""

    def get_flows(self, request: FlowsRequest) -> Iterator[ResponseEvent]:
        """Response events in order. Without follow the iterator ends; with follow it blocks
        for new flows until the caller stops iterating (or `stop` on the iterator, if any)."""

    def server_status(self) -> dict:
        """ServerStatusResponse JSON: num_flows, max_flows, seen_flows, uptime_ns (string),
        flows_rate, version, and for a relay num_connected_nodes / num_unavailable_nodes /
        unavailable_nodes."""

    def get_nodes(self) -> list[dict]:
        """GetNodesResponse `nodes` JSON list (relay only)."""

    def get_namespaces(self) -> list[dict]:
        """GetNamespacesResponse `namespaces` JSON list."""


Predicate = Callable[[Flow], bool]
