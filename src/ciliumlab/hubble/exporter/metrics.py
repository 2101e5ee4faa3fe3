"""`hubble_dynamic_exporter_*` metrics (Cilium's pkg/hubble/exporter/metrics.go).

    hubble_dynamic_exporter_exporters_total{status="active"|"inactive"}  gauge
    hubble_dynamic_exporter_up{name}                                     gauge, 0 once `end` passed
    hubble_dynamic_exporter_reconfigurations_total{op}                   counter: add/update/remove/failure
    hubble_dynamic_exporter_config_hash                                  gauge, md5-derived hash
    hubble_dynamic_exporter_config_last_applied                          gauge, unix time (lab clock)

Like the Go vectors, a reconfiguration series appears once its op happened, and the hash/last
applied gauges once a config was applied. One collector serves them all, so values and
timestamps come from the exporter's state and the lab clock at scrape time.
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

PREFIX = "hubble_dynamic_exporter_"


class DynamicExporterCollector:
    def __init__(self, exporter) -> None:
        self.exporter = exporter

    def describe(self):
        return self._families(with_samples=False)

    def collect(self):
        return self._families(with_samples=True)

    def _families(self, with_samples: bool):
        d = self.exporter
        exporters = GaugeMetricFamily(PREFIX + "exporters_total", "Number of configured exporters",
                                      labels=["status"])
        up = GaugeMetricFamily(PREFIX + "up", "Status of individual exporters", labels=["name"])
        reconf = CounterMetricFamily(PREFIX + "reconfigurations", "Number of dynamic exporters reconfigurations",
                                     labels=["op"])
        hash_ = GaugeMetricFamily(PREFIX + "config_hash", "Hash of last applied config")
        applied = GaugeMetricFamily(PREFIX + "config_last_applied", "Timestamp of last applied config")
        if with_samples:
            states = d.states()
            active = sum(1 for on in states.values() if on)
            for name, on in states.items():
                up.add_metric([name], 1.0 if on else 0.0)
            exporters.add_metric(["active"], float(active))
            exporters.add_metric(["inactive"], float(len(states) - active))
            for op, count in d.reconfigurations.items():
                reconf.add_metric([op], float(count))
            if d.config_hash is not None:
                hash_.add_metric([], float(d.config_hash))
            if d.config_last_applied is not None:
                applied.add_metric([], float(d.config_last_applied))
        return [exporters, up, reconf, hash_, applied]
