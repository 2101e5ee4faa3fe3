"""What a node's Hubble does with each flow besides keeping it: metrics handlers and exporters.

The agent builds these from cilium-config at start; the lab rebuilds them when the keys that
define them change (the agents roll, see `Lab._read_cilium_config`), except the dynamic
exporter, which re-reads its file in place — its whole point is reconfiguration without a
restart. Each flow is built once and handed to every consumer.
"""

from __future__ import annotations

from collections.abc import Callable

from ..cilium.datapath.events import ACCESS_LOG

METRICS_KEYS = ("hubble-metrics", "enable-hubble-open-metrics")
STATIC_EXPORT_KEYS = ("hubble-export-file-path", "hubble-export-file-max-size-mb", "hubble-export-file-max-backups",
                      "hubble-export-file-compress", "hubble-export-allowlist", "hubble-export-denylist",
                      "hubble-export-fieldmask")
FLOWLOGS_KEY = "hubble-flowlogs-config-path"
MAX_PENDING_SHAPES = 4096
POD_SERIES_TTL = 60.0


class NodeOutputs:
    """One node's Hubble metrics registry and flow exporters, fed by its observer."""

    def __init__(self, node: str, observer, clock, disks, log: Callable[[str], None] | None = None) -> None:
        self.node = node
        self.clock = clock
        self._disks = disks  # ciliumlab.nodedisk.NodeDisks: where the node's files live on the host
        self._log = log or (lambda line: None)
        self.metrics = None
        self.static = None
        self.dynamic = None
        self.errors: list[str] = []
        self._keys: dict[str, tuple] = {}
        self._sinks: tuple = ()
        # flows not yet counted: metrics-relevant signature -> [a representative entry, count]
        self._pending: dict[tuple, list] = {}
        self._forget: list[tuple[float, str, str]] = []  # (when, namespace, pod): series to delete
        observer.subscribe(self._on_entry)

    # -- configuration --------------------------------------------------------------------------
    def configure(self, data: dict[str, str], flowlogs: str | None = None) -> None:
        """Apply cilium-config (and the flowlog ConfigMap's `flowlogs.yaml`). A bad value keeps
        that output off and is reported in `errors` (the agent logs it and refuses it)."""
        # keyed like the `errors` they own ("hubble-metrics: ..."), so fixing a value clears its error
        if self._changed("hubble-metrics", data, METRICS_KEYS):
            self.flush()
            self.metrics = self._build("hubble-metrics", self._metrics_from, data)
            if self.dynamic is not None:
                # the restarted agent builds its dynamic exporter again, on the new registry
                # (else its hubble_dynamic_exporter_* series stay on the old one, unserved)
                self.dynamic.close()
                self.dynamic = None
        if self._changed("hubble-export", data, STATIC_EXPORT_KEYS):
            if self.static is not None:
                self.static.close()
            self.static = self._build("hubble-export", self._static_from, data)
        self._configure_dynamic(data.get(FLOWLOGS_KEY, ""), flowlogs)
        self._sinks = tuple(s for s in (self.static, self.dynamic) if s is not None)

    def _changed(self, name: str, data: dict[str, str], keys: tuple[str, ...]) -> bool:
        values = tuple(data.get(k, "") for k in keys)
        if self._keys.get(name) == values:
            return False
        self._keys[name] = values
        self.errors = [e for e in self.errors if not e.startswith(name)]
        return True

    def _build(self, what: str, factory, data: dict[str, str]):
        try:
            return factory(data)
        except ValueError as exc:  # MetricsConfigError / ExporterConfigError
            message = f"{what}: {exc}"
            self.errors.append(message)
            self._log(f'level=error msg="Failed to configure {what}" error="{exc}" subsys=hubble')
            return None

    def _metrics_from(self, data: dict[str, str]):
        from .metrics import HubbleMetrics

        return HubbleMetrics.from_config(data.get("hubble-metrics", ""),
                                         open_metrics=data.get("enable-hubble-open-metrics") == "true")

    def _static_from(self, data: dict[str, str]):
        from .exporter import StaticExporter

        return StaticExporter.from_config(data, root=self._disks.node_root(self.node), node_name=self.node,
                                          clock=self.clock, stdout=self._log)

    def _configure_dynamic(self, config_path: str, flowlogs: str | None) -> None:
        from .exporter import DynamicExporter

        host = self._disks.host_path(self.node, config_path) if config_path else None
        if host is None:
            if self.dynamic is not None:
                self.dynamic.close()
                self.dynamic = None
            return
        # the kubelet projects the ConfigMap into the pod; the agent notices the new content
        host.parent.mkdir(parents=True, exist_ok=True)
        content = flowlogs or ""
        if not host.exists() or host.read_text() != content:
            host.write_text(content)
        if self.dynamic is None:
            self.dynamic = DynamicExporter(host, root=self._disks.node_root(self.node), node_name=self.node,
                                           clock=self.clock, registry=self.metrics.registry if self.metrics else None)
        try:
            self.dynamic.reload()
        except ValueError as exc:
            self._log(f'level=error msg="Failed to reload flowlogs config" error="{exc}" subsys=hubble')

    # -- the hot path ---------------------------------------------------------------------------
    def _on_entry(self, entry) -> None:
        metrics, sinks = self.metrics, self._sinks
        if metrics is None and not sinks:
            return
        e = entry.event
        flow = None
        if metrics is not None:
            if e.type == ACCESS_LOG:  # per-flow latency and exemplars: counted one by one
                flow = entry.builder.build(e, entry.enrichment, light=True)
                metrics.process(flow)
            else:
                self._defer(entry, e)
        if sinks:
            # filters make do with a light flow (no uuid, no time: the costly fields); the whole
            # flow is built once, and only for the events an exporter writes
            if flow is None:
                flow = entry.builder.build(e, entry.enrichment, light=True)
            built: list[dict] = []

            def full() -> dict:
                if not built:
                    whole = entry.flow
                    built.append({"flow": whole, "node_name": self.node, "time": whole.get("time")})
                return built[0]
            light = {"flow": flow, "node_name": self.node, "time": None}
            for sink in sinks:
                sink.export(light, full)

    def _defer(self, entry, e) -> None:
        """Most packets repeat a few shapes (same endpoints, verdict, flags, port): count them by
        shape and let the handlers account each shape once per scrape, weighted. The signature
        holds every event field a metrics flow reads (the interned enrichment stands for the two
        addresses and who they were); the source port, times and lengths, which no handler reads,
        are left out."""
        key = (id(entry.enrichment), e.type, e.subtype, e.proto, e.dst.port, e.orig_src_ip, e.tcp_flags,
               e.icmp_type, e.ct_reason, e.is_reply, e.drop_reason, e.direction, e.verdict, e.match_type, e.audited)
        slot = self._pending.get(key)
        if slot is None:
            self._pending[key] = [entry, 1]
            if len(self._pending) > MAX_PENDING_SHAPES:
                self.flush()
        else:
            slot[1] += 1

    def flush(self) -> None:
        """Account the deferred flows (before any read of the metrics)."""
        pending, self._pending = self._pending, {}
        metrics = self.metrics
        if metrics is None:
            return
        for entry, count in pending.values():
            metrics.process(entry.builder.build(entry.event, entry.enrichment, light=True), count)

    def pod_deleted(self, namespace: str, pod: str) -> None:
        """Cilium drops the series naming a deleted pod one minute later (cardinality clean-up)."""
        self._forget.append((self.clock.now() + POD_SERIES_TTL, namespace, pod))

    def expose(self, accept: str = "") -> tuple[bytes, str] | None:
        """The Hubble metrics endpoint's answer, None when no handler is enabled."""
        self.flush()
        now = self.clock.now()
        due = [item for item in self._forget if item[0] <= now]
        if due:
            self._forget = [item for item in self._forget if item[0] > now]
            for _, namespace, pod in due:
                if self.metrics is not None:
                    self.metrics.delete_pod(namespace, pod)
        return self.metrics.expose(accept) if self.metrics is not None else None

    def close(self) -> None:
        for sink in self._sinks:
            sink.close()
        self._sinks = ()
