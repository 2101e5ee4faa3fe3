"""The REAL Prometheus binary on build_prometheus's output: the lab's metrics endpoints (here,
small stand-in servers on loopback) are scraped under their cluster addresses."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from aiohttp import web

from ciliumlab.k8s.apiserver.app import make_app
from ciliumlab.k8s.apiserver.cadvisor import cadvisor
from ciliumlab.monitoring import MonitoringError, build_prometheus
from ciliumlab.monitoring.rules import rule_file_name
from ciliumlab.served import prometheus as served_prometheus
from ciliumlab.served.prometheus import PrometheusProcess, find_prometheus
from ciliumlab.served.tls import ensure_pki

from .conftest import NODE_IPS, PROMETHEUSRULE, agent_pods


def test_missing_binary_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv(served_prometheus.ENV_BINARY, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MonitoringError) as err:
        find_prometheus()
    assert "missing" in str(err.value) and "apt-get install prometheus" in str(err.value)
    assert "prometheus.io" in str(err.value) and "CILIUMLAB_PROMETHEUS" in str(err.value)
    monkeypatch.setenv(served_prometheus.ENV_BINARY, str(tmp_path / "nope"))
    with pytest.raises(MonitoringError) as err:
        find_prometheus()
    assert "CILIUMLAB_PROMETHEUS" in str(err.value) and "apt-get install prometheus" in str(err.value)


def test_env_binary_wins(monkeypatch, tmp_path):
    fake = tmp_path / "my-prometheus"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(served_prometheus.ENV_BINARY, str(fake))
    assert find_prometheus() == str(fake)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Metrics(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path != "/metrics":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def metrics_server(value: int) -> ThreadingHTTPServer:
    body = ("# HELP cilium_drop_count_total Total dropped packets.\n# TYPE cilium_drop_count_total counter\n"
            f'cilium_drop_count_total{{direction="INGRESS",reason="Policy denied"}} {value}\n').encode()
    handler = type("Handler", (_Metrics,), {"body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class ApiServer:
    """The lab's API app over TLS in a thread, with the cadvisor route (as app.py registers it)."""

    def __init__(self, lab, tmp_path) -> None:
        pki = tmp_path / "pki"
        self.ca, key, cert, cert_key = pki / "ca.crt", pki / "ca.key", pki / "apiserver.crt", pki / "apiserver.key"
        ensure_pki(self.ca, key, cert, cert_key)
        self.token = tmp_path / "token"
        self.token.write_text("s3cret")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, cert_key)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        app = make_app(lab, token="s3cret")
        app.router.add_get("/api/v1/nodes/{name}/proxy/metrics/cadvisor", cadvisor)
        self.runner = web.AppRunner(app)

        async def start():
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port, ssl_context=ctx).start()

        self.loop.run_until_complete(start())
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def query(proc: PrometheusProcess, promql: str, n: int, timeout: float = 10) -> list[dict]:
    """The instant query's result once it has `n` series (or whatever it has at the timeout)."""
    url = f"{proc.url}/api/v1/query?query={urllib.parse.quote(promql)}"
    deadline = time.monotonic() + timeout
    while True:
        result = get_json(url)["data"]["result"]
        if len(result) >= n or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def fast(files):
    """Test-only: scrape every second (the product keeps the user's 10s)."""
    config = yaml.safe_load(files.config)
    config["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"})
    for job in config["scrape_configs"]:
        job.pop("scrape_interval", None)
        job.pop("scrape_timeout", None)
    return dataclasses.replace(files, config=yaml.safe_dump(config, sort_keys=False))


def test_real_prometheus_scrapes_cilium_agents_under_their_cluster_addresses(mlab, objects, tmp_path, prometheus_bin):
    servers = {node: metrics_server(100 + i) for i, node in enumerate(NODE_IPS)}
    loop = {(NODE_IPS[node], 9962): f"127.0.0.1:{s.server_address[1]}" for node, s in servers.items()}
    api = ApiServer(mlab, tmp_path)
    proc = PrometheusProcess(tmp_path / "prom", f"127.0.0.1:{free_port()}")

    def build(objs):
        return fast(build_prometheus(objs, files_dir=proc.files_dir, address_for=lambda ip, port: loop.get((ip, port)),
                                     api_ca_file=str(api.ca), api_token_file=str(api.token), api_address=api.address))

    files = build(objects)
    pods = {node: p["metadata"]["name"] for node, p in agent_pods(mlab).items()}
    try:
        proc.start(files)
        deadline = time.monotonic() + 20
        while True:
            active = get_json(proc.url + "/api/v1/targets?state=active")["data"]["activeTargets"]
            agents = [t for t in active if t["labels"].get("job") in ("kubernetes-pods", "cilium-agent")
                      and t["labels"].get("instance", "").endswith(":9962")]
            cadvisors = [t for t in active if t["labels"].get("job") == "kubernetes-cadvisor"]
            if len(agents) >= 6 and all(t["health"] == "up" for t in agents + cadvisors):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"targets not up: {json.dumps(agents, indent=1)}\n{proc.log_tail()}")
            time.sleep(0.2)

        for node, ip in NODE_IPS.items():
            # Cilium's kubernetes-pods job: prometheus.io annotations, namespace/pod from its relabelings
            (pod_target,) = [t for t in agents if t["labels"]["job"] == "kubernetes-pods"
                             and t["labels"]["instance"] == f"{ip}:9962"]
            assert pod_target["labels"]["namespace"] == "kube-system"
            assert pod_target["labels"]["pod"] == pods[node]
            assert pod_target["labels"]["k8s_app"] == "cilium"  # labelmap of the pod's labels
            assert pod_target["scrapeUrl"] == f"http://{loop[(ip, 9962)]}/metrics"
            assert pod_target["scrapePool"] == "kubernetes-pods"
            # the seed's ServiceMonitor, through the chart's cilium-agent Service
            (sm_target,) = [t for t in agents if t["labels"]["job"] == "cilium-agent"
                            and t["labels"]["instance"] == f"{ip}:9962"]
            assert sm_target["scrapePool"] == "serviceMonitor/monitoring/cilium-metrics/0"
            assert {k: sm_target["labels"][k] for k in ("namespace", "service", "pod", "container", "endpoint")} == \
                {"namespace": "kube-system", "service": "cilium-agent", "pod": pods[node],
                 "container": "cilium-agent", "endpoint": "metrics"}
        # cadvisor through the lab API server (TLS with the lab CA, bearer token), instance = node name
        assert sorted(t["labels"]["instance"] for t in cadvisors) == sorted(NODE_IPS)
        for t in cadvisors:
            node = t["labels"]["instance"]
            assert t["scrapeUrl"] == f"https://{api.address}/api/v1/nodes/{node}/proxy/metrics/cadvisor"
            assert t["labels"]["kubernetes_io_hostname"] == node
        # an endpoint the lab does not serve keeps its cluster address
        hubble = [t for t in active if t["labels"].get("service") == "hubble-metrics"]
        assert hubble and all(t["scrapeUrl"].startswith("http://192.168.10.") for t in hubble)

        # the samples are each node's own
        result = query(proc, 'cilium_drop_count_total{job="kubernetes-pods"}', 3)
        assert {r["metric"]["instance"]: r["value"][1] for r in result} == \
            {f"{ip}:9962": str(100 + i) for i, ip in enumerate(NODE_IPS.values())}
        cores = query(proc, 'machine_cpu_cores{job="kubernetes-cadvisor"}', 3)
        assert {r["metric"]["instance"] for r in cores} == set(NODE_IPS)

        # nothing changed: nothing rewritten, no reload
        assert proc.update(files) is False
        # a new PrometheusRule: its rule file is written and Prometheus reloads
        extra = yaml.safe_load(PROMETHEUSRULE.read_text())
        extra["metadata"]["name"] = "more-alerts"
        extra["spec"]["groups"][0]["name"] = "more.rules"

        def with_rule(kind):
            return [*objects(kind), copy.deepcopy(extra)] if kind == "PrometheusRule" else objects(kind)

        updated = build(with_rule)
        assert rule_file_name(extra) in updated.files
        assert proc.update(updated) is True
        groups = {g["name"] for g in get_json(proc.url + "/api/v1/rules")["data"]["groups"]}
        assert groups == {"cilium.rules", "more.rules"}
        # it goes again: the file is removed, Prometheus reloads
        assert proc.update(files) is True
        assert not (proc.files_dir / rule_file_name(extra)).exists()
        groups = {g["name"] for g in get_json(proc.url + "/api/v1/rules")["data"]["groups"]}
        assert groups == {"cilium.rules"}
        assert "Server is ready to receive web requests" in proc.log_path.read_text()
    finally:
        proc.stop()
        api.stop()
        for s in servers.values():
            s.shutdown()
            s.server_close()
    assert not proc.running


def test_refused_configuration_is_reported(tmp_path, prometheus_bin):
    proc = PrometheusProcess(tmp_path / "prom", f"127.0.0.1:{free_port()}")
    files = build_prometheus(lambda kind: [], files_dir=proc.files_dir, address_for=lambda ip, port: None,
                             api_ca_file="/dev/null", api_token_file="/dev/null", api_address="127.0.0.1:1")
    try:
        proc.start(files)
        broken = dataclasses.replace(files, config=files.config + "scrape_configs: [{job_name: x, bogus: 1}]\n")
        with pytest.raises(MonitoringError, match="refused"):
            proc.update(broken)
        assert proc.running
        with pytest.raises(MonitoringError, match="refused"):  # not forgotten: tried again
            proc.update(broken)
        assert proc.update(files) is True  # back to a good one
    finally:
        proc.stop()
