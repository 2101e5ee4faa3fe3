"""Hubble flow exporters: flow logs written by the agent (Cilium's pkg/hubble/exporter).

* `StaticExporter.from_config(cilium_config, root=..., node_name=..., clock=...)`: the
  `hubble-export-*` flow log (None when `hubble-export-file-path` is empty).
* `DynamicExporter(flowlogs_yaml, root=..., node_name=..., clock=..., registry=...)`: named flow
  logs from the `cilium-flowlog-config` file, `reload()`/`poll()` to apply changes.

Both take GetFlowsResponse-shaped dicts (`{"flow": ..., "node_name": ..., "time": ...}`) in
`export()` and write one compact JSON line per event (`line`), into lumberjack-style rotated
files (`rotate`) under `root`, the node's filesystem on the host.
"""

from .dynamic import RELOAD_INTERVAL, DynamicExporter
from .errors import ExporterConfigError
from .exporter import FlowLogExporter, StdoutWriter
from .flowlogs import FlowLogConfig, config_hash, parse_flowlogs
from .line import encode_line, export_event, go_json
from .options import parse_flow_filters
from .paths import host_path
from .rotate import RotateError, RotatingFile, backup_name
from .static import StaticExporter

__all__ = [
    "RELOAD_INTERVAL",
    "DynamicExporter",
    "ExporterConfigError",
    "FlowLogConfig",
    "FlowLogExporter",
    "RotateError",
    "RotatingFile",
    "StaticExporter",
    "StdoutWriter",
    "backup_name",
    "config_hash",
    "encode_line",
    "export_event",
    "go_json",
    "host_path",
    "parse_flow_filters",
    "parse_flowlogs",
]
