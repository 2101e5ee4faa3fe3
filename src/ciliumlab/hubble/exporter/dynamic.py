"""The dynamic exporter: named flow logs from `flowlogs.yaml`, re-read every 5 s.

Cilium's DynamicExporter + configWatcher:
* `reload()` reads the file; a read/parse/validation error counts
  `reconfigurations_total{op="failure"}` and keeps the running flow logs.
* Otherwise, per name: a new entry starts a flow log (`op="add"`), an entry whose config changed
  replaces it (`op="update"`, the old one is closed), an entry missing from the file stops it
  (`op="remove"`); an unchanged entry is left alone. The hash of the file and the time of the
  reload are recorded (`config_hash`, `config_last_applied`) on every successful read.
* A flow log whose config cannot be built (an invalid fieldMask) is skipped with an error in
  `errors`; a previous flow log of that name keeps running.
* A flow log whose `end` has passed is inactive: `up{name}=0`, events are not written.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from .errors import ExporterConfigError
from .exporter import FlowLogExporter, StdoutWriter
from .flowlogs import FlowLogConfig, config_hash, parse_flowlogs
from .metrics import DynamicExporterCollector
from .options import build_mask, check_field_mask
from .paths import host_path
from .rotate import RotatingFile

RELOAD_INTERVAL = 5.0  # seconds between polls of the config file
STDOUT = "stdout"


class ManagedFlowLog(FlowLogExporter):
    """A FlowLogExporter that remembers its FlowLogConfig."""

    config: FlowLogConfig
    file: Path | None


class DynamicExporter:
    def __init__(self, config_path: Path, *, root: Path, node_name: str, clock, registry=None,
                 stdout=None) -> None:
        self.config_path = Path(config_path)
        self.root = Path(root)
        self.node_name = node_name
        self.clock = clock
        self.stdout = stdout
        self.exporters: dict[str, ManagedFlowLog] = {}
        self.reconfigurations: Counter[str] = Counter()
        self.config_hash: int | None = None
        self.config_last_applied: float | None = None
        self.last_error: str | None = None
        self.errors: list[str] = []  # per flow log build errors of the last reload
        self.last_reload: float | None = None
        self._lock = threading.RLock()
        self._registry = registry
        self._collector = None
        if registry is not None:
            self._collector = DynamicExporterCollector(self)
            registry.register(self._collector)
        self.reload()  # the watcher's initial load

    # -- config -----------------------------------------------------------------------------------
    def poll(self) -> bool:
        """Reload if RELOAD_INTERVAL has passed on the lab clock since the last attempt."""
        if self.last_reload is not None and self.clock.now() - self.last_reload < RELOAD_INTERVAL:
            return False
        return self.reload()

    def reload(self) -> bool:
        """Re-read the config file and apply it; returns whether a flow log was added, updated or
        removed. Invalid content keeps the previous flow logs and counts op="failure"."""
        with self._lock:
            self.last_reload = self.clock.now()
            try:
                content = self.config_path.read_bytes()
            except OSError as err:
                return self._fail(f'failed to read config file "{self.config_path}": {err.strerror or err}')
            try:
                configs = parse_flowlogs(content)
            except ExporterConfigError as err:
                return self._fail(f'failed to parse config file "{self.config_path}": {err}')
            self.last_error = None
            self.errors = []
            changed = False
            for name, config in configs.items():
                op = "update" if name in self.exporters else "add"
                if self._apply(name, config):
                    self.reconfigurations[op] += 1
                    changed = True
            for name in [n for n in self.exporters if n not in configs]:
                self.exporters.pop(name).close()
                self.reconfigurations["remove"] += 1
                changed = True
            self.config_hash = config_hash(content)
            self.config_last_applied = self.clock.now()
            return changed

    def _fail(self, message: str) -> bool:
        self.reconfigurations["failure"] += 1
        self.last_error = message
        return False

    def _apply(self, name: str, config: FlowLogConfig) -> bool:
        current = self.exporters.get(name)
        if current is not None and current.config.equals(config):
            return False
        try:
            exporter = self._build(config)
        except ExporterConfigError as err:
            self.errors.append(f"Failed to apply flowlog {name}: {err}")
            return False
        if current is not None:
            current.close()
        self.exporters[name] = exporter
        return True

    def _build(self, config: FlowLogConfig) -> ManagedFlowLog:
        paths = check_field_mask(config.field_mask)
        if config.file_path == STDOUT:
            writer, file = StdoutWriter(self.stdout), None
        else:
            file = host_path(self.root, config.file_path)
            writer = RotatingFile(file, clock=self.clock, max_size_mb=config.max_size_mb,
                                  max_backups=config.max_backups, compress=config.file_compress)
        exporter = ManagedFlowLog.build(writer, allow=list(config.include_filters),
                                        deny=list(config.exclude_filters), mask=build_mask(paths),
                                        node_name=self.node_name, name=config.name)
        exporter.config = config
        exporter.file = file
        return exporter

    # -- events -----------------------------------------------------------------------------------
    def export(self, response: dict, full=None) -> None:
        with self._lock:
            if not self.exporters:
                return
            now = self.clock.now()
            for exporter in self.exporters.values():
                if exporter.config.is_active(now):
                    exporter.export(response, full)

    def states(self) -> dict[str, bool]:
        """name -> active (its `end` not yet passed)."""
        with self._lock:
            now = self.clock.now()
            return {name: e.config.is_active(now) for name, e in self.exporters.items()}

    def close(self) -> None:
        with self._lock:
            for exporter in self.exporters.values():
                exporter.close()
            if self._collector is not None and self._registry is not None:
                try:
                    self._registry.unregister(self._collector)
                except KeyError:
                    pass
                self._collector = None
