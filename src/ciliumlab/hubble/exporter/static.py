"""The static exporter: `hubble-export-*` keys of cilium-config (Cilium's exporter cell).

    hubble-export-file-path          ""  disables; "stdout" writes lines to the agent's stdout
    hubble-export-file-max-size-mb   10  rotate before a write would exceed N MiB
    hubble-export-file-max-backups    5  rotated files kept
    hubble-export-file-compress   false  gzip rotated files
    hubble-export-allowlist          ""  JSON FlowFilters; exported if any matches
    hubble-export-denylist           ""  JSON FlowFilters; dropped if any matches
    hubble-export-fieldmask          ""  space-separated Flow paths to keep

The file is created on the first exported event (lumberjack opens lazily), under `root`, the
node's filesystem on the host.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ExporterConfigError
from .exporter import FlowLogExporter, StdoutWriter
from .line import encode_line, export_event
from .options import build_mask, check_field_mask, parse_flow_filters, split_field_mask
from .paths import host_path
from .rotate import RotatingFile

DEFAULT_FILE_MAX_SIZE_MB = 10
DEFAULT_FILE_MAX_BACKUPS = 5
STDOUT = "stdout"

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def config_int(data: dict, key: str, default: int) -> int:
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ExporterConfigError(f'invalid value "{raw}" for {key}: expected an integer') from None


def config_bool(data: dict, key: str, default: bool = False) -> bool:
    raw = data.get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ExporterConfigError(f'invalid value "{raw}" for {key}: strconv.ParseBool: parsing "{text}": '
                              "invalid syntax")


class StaticExporter:
    """The agent's static flow log (`static-exporter`)."""

    name = "static-exporter"

    def __init__(self, exporter: FlowLogExporter, *, file_path: str, file: Path | None) -> None:
        self.exporter = exporter
        self.file_path = file_path  # as configured (node path or "stdout")
        self.file = file            # on the host; None for stdout

    @classmethod
    def from_config(cls, data: dict[str, str], *, root: Path, node_name: str, clock,
                    stdout=None) -> StaticExporter | None:
        """The exporter cilium-config describes, None when `hubble-export-file-path` is empty.

        Raises ExporterConfigError for what makes the agent refuse the configuration."""
        file_path = data.get("hubble-export-file-path") or ""
        if not file_path:
            return None
        paths = split_field_mask(data.get("hubble-export-fieldmask") or "")
        try:
            check_field_mask(paths)
        except ExporterConfigError as err:
            raise ExporterConfigError(
                f"hubble-exporter configuration error: hubble-export-fieldmask contains invalid "
                f"fieldmask '[{' '.join(paths)}]': {err}") from None
        allow = parse_flow_filters(data.get("hubble-export-allowlist") or "", "allowlist")
        deny = parse_flow_filters(data.get("hubble-export-denylist") or "", "denylist")
        max_size = config_int(data, "hubble-export-file-max-size-mb", DEFAULT_FILE_MAX_SIZE_MB)
        max_backups = config_int(data, "hubble-export-file-max-backups", DEFAULT_FILE_MAX_BACKUPS)
        compress = config_bool(data, "hubble-export-file-compress")
        if file_path == STDOUT:
            writer, file = StdoutWriter(stdout), None
        else:
            file = host_path(root, file_path)
            writer = RotatingFile(file, clock=clock, max_size_mb=max_size, max_backups=max_backups,
                                  compress=compress)
            # lumberjack creates the file on the first line; a real node has flows at once (health
            # checks, kube-system), a fresh lab node may not, and `tail -f` must find the file
            writer.touch()
        exporter = FlowLogExporter.build(writer, allow=allow, deny=deny, mask=build_mask(paths),
                                         node_name=node_name, name=cls.name)
        return cls(exporter, file_path=file_path, file=file)

    def export(self, response: dict, full=None) -> None:
        """Filter, mask and write one event as one complete line (see FlowLogExporter.export)."""
        self.exporter.export(response, full)

    def close(self) -> None:
        self.exporter.close()

    # -- introspection -----------------------------------------------------------------------
    @property
    def exported(self) -> int:
        return self.exporter.exported

    @property
    def failed(self) -> int:
        return self.exporter.failed

    def line(self, response: dict) -> bytes | None:
        """The line `export` would write for `response` (None if filtered out)."""
        if not self.exporter.accepts(response):
            return None
        event = export_event(response, self.exporter.mask, self.exporter.node_name)
        return None if event is None else encode_line(event)
