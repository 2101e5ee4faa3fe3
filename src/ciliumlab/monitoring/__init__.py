"""Monitoring from Kubernetes objects: what a Prometheus and a Grafana in the cluster would use.

Pure functions of store objects (no sockets, no processes):

* `k8s_sd`         the `__meta_kubernetes_*` targets of Prometheus 2.42's Kubernetes SD
* `servicemonitor` prometheus-operator's scrape jobs for a ServiceMonitor
* `rules`          PrometheusRule objects as rule files, checked as Prometheus would
* `promconfig`     `build_prometheus`: the whole setup, lowered to run on this host
* `dashboards`     Grafana dashboards from the cilium-monitoring ConfigMaps

`ciliumlab.served.prometheus` runs a real Prometheus on the result.
"""

from __future__ import annotations


class MonitoringError(Exception):
    """A monitoring component cannot run; the message says why and what to do."""


from .promconfig import PrometheusFiles, build_prometheus  # noqa: E402

__all__ = ["MonitoringError", "PrometheusFiles", "build_prometheus"]
