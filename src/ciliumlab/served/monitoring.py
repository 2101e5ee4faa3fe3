"""The served lab's monitoring stack: a real Prometheus while the cluster asks for one, and the
Grafana stand-in page.

Prometheus runs while the cluster holds what would make one run: the `prometheus` Deployment of
Cilium's `monitoring-example.yaml` (namespace `cilium-monitoring`), or ServiceMonitor /
PrometheusRule objects (kube-prometheus-stack's way). Its configuration is rebuilt from the
objects every few seconds (`ciliumlab.monitoring.build_prometheus`): the lab's metrics
endpoints stand in for the pods' addresses, so Prometheus shows the cluster's instances while it
scrapes loopback. It listens on the Prometheus NodePort (30001 unless `--prometheus-port`); the
Grafana page on 30002 answers while the `grafana` Deployment exists. `kubectl port-forward -n
cilium-monitoring svc/prometheus 9090` reaches the same process.

`ciliumlab up --monitoring` installs the stack the way the seed does: `monitoring-example.yaml`,
its Services patched to NodePort 30001/30002, and the `monitoring` namespace kube-prometheus-stack
would have created for the seed's ServiceMonitor and PrometheusRule.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from aiohttp import web

from ..metricsview import AGENT, HUBBLE, OPERATOR
from ..monitoring import MonitoringError, build_prometheus
from ..monitoring.dashboards import dashboards_from_configmaps
from .state import HOST

log = logging.getLogger("ciliumlab.served.monitoring")

NAMESPACE = "cilium-monitoring"
POLL_SECONDS = 2.0
NODE_PORTS = {"prometheus": 30001, "grafana": 30002}  # what the seed patches the Services to


def install(lab) -> list[str]:
    """`up --monitoring`: apply the bundled monitoring-example.yaml with NodePort Services, and the
    `monitoring` namespace. Objects already there are left as they are."""
    import yaml

    text = resources.files("ciliumlab.data.monitoring").joinpath("monitoring-example.yaml").read_text()
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        if doc.get("kind") == "Service" and doc["metadata"]["name"] in NODE_PORTS:
            doc["spec"]["type"] = "NodePort"
            doc["spec"]["ports"][0]["nodePort"] = NODE_PORTS[doc["metadata"]["name"]]
    docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}})
    created = []
    for doc in docs:
        meta = doc["metadata"]
        if lab.store.get(doc["kind"], meta.get("namespace"), meta["name"]) is None:
            created += lab.apply(copy.deepcopy(doc))
    return created


class MonitoringStack:
    def __init__(self, lab, lock, workdir: Path, *, prometheus_port: int, grafana_port: int,
                 metrics: dict, api_address: str, api_ca_file: str, api_token_file: str,
                 on_change: Callable[[dict | None], None]) -> None:
        from .prometheus import PrometheusProcess

        self.lab = lab
        self.lock = lock
        self.metrics = metrics  # server.json's "metrics": where each endpoint listens on loopback
        self.api = (api_address, api_ca_file, api_token_file)
        self.prometheus = PrometheusProcess(workdir, f"{HOST}:{prometheus_port}")
        self.grafana_port = grafana_port
        self.grafana: web.AppRunner | None = None
        self.grafana_url: str | None = None
        self.error: str | None = None
        self._on_change = on_change
        self._task: asyncio.Task | None = None
        self._announced: dict | None = None

    # -- what the cluster asks for ----------------------------------------------------------------
    def _objects(self, kind: str) -> list[dict]:
        return self.lab.store.list(kind)

    def _wanted(self) -> tuple[bool, bool]:
        """(run Prometheus?, serve the Grafana page?) from the cluster's objects."""
        store = self.lab.store
        prometheus = (store.get("Deployment", NAMESPACE, "prometheus") is not None
                      or bool(store.list("ServiceMonitor")) or bool(store.list("PrometheusRule")))
        return prometheus, store.get("Deployment", NAMESPACE, "grafana") is not None

    def address_for(self, ip: str, port: int) -> str | None:
        """The loopback address serving what listens on `ip:port` in the cluster (agents' node IPs)."""
        node = next((n for n, agent in self.lab.cilium.nodes.items() if agent.host.ip == ip), None)
        if node is None:
            return None
        if port == 9962:
            return self.metrics[AGENT].get(node)
        if port == 9965:
            return self.metrics[HUBBLE].get(node)
        if port == 9963 and node == self.lab.metrics.operator_node():
            return self.metrics[OPERATOR]
        return None

    def _snapshot(self):
        """Under the lab lock: what to run, the Prometheus files and the dashboards."""
        with self.lock:
            wanted = self._wanted()
            files = None
            if wanted[0]:
                address, ca, token = self.api
                files = build_prometheus(self._objects, files_dir=self.prometheus.files_dir,
                                         address_for=self.address_for, api_ca_file=ca, api_token_file=token,
                                         api_address=address)
            return wanted, files

    def dashboards(self) -> list[dict]:
        with self.lock:
            return dashboards_from_configmaps(self.lab.store.list("ConfigMap", NAMESPACE))

    # -- the loop ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.sync(loop)
            except Exception:  # keep the lab serving whatever Prometheus does
                log.exception("monitoring stack update failed")
            await asyncio.sleep(POLL_SECONDS)

    async def sync(self, loop=None) -> None:
        loop = loop or asyncio.get_running_loop()
        (want_prometheus, want_grafana), files = await loop.run_in_executor(None, self._snapshot)
        try:
            if want_prometheus and not self.prometheus.running:
                await loop.run_in_executor(None, self.prometheus.start, files)
                self.error = None
            elif want_prometheus:
                await loop.run_in_executor(None, self.prometheus.update, files)
            elif self.prometheus.running:
                await loop.run_in_executor(None, self.prometheus.stop)
        except MonitoringError as exc:
            if str(exc) != self.error:
                print(f"ciliumlab: monitoring: {exc}", flush=True)
            self.error = str(exc)
        if want_grafana and self.grafana is None:
            await self._start_grafana()
        self._announce()

    async def _start_grafana(self) -> None:
        from .grafana import make_grafana_app

        runner = web.AppRunner(make_grafana_app(self.dashboards, prometheus_url=self.prometheus.url),
                               access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, self.grafana_port, reuse_address=True).start()
        except OSError as exc:
            await runner.cleanup()
            self.error = f"port {self.grafana_port} (grafana) is not available: {exc.strerror}"
            return
        self.grafana = runner
        self.grafana_url = f"http://{HOST}:{runner.addresses[0][1]}"

    def info(self) -> dict | None:
        out = {}
        if self.prometheus.running:
            out["prometheus"] = self.prometheus.url
        if self.grafana_url:
            out["grafana"] = self.grafana_url
        if self.error:
            out["error"] = self.error
        return out or None

    def _announce(self) -> None:
        info = self.info()
        if info != self._announced:
            self._announced = info
            self._on_change(info)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await asyncio.get_running_loop().run_in_executor(None, self.prometheus.stop)
        if self.grafana is not None:
            await self.grafana.cleanup()
            self.grafana = None
