"""Dashboards from the cilium-monitoring ConfigMaps and the Grafana stand-in page."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer

from ciliumlab.monitoring.dashboards import dashboards_from_configmaps, panel_count
from ciliumlab.served.grafana import make_grafana_app


def test_dashboards_from_configmaps(objects):
    dashboards = dashboards_from_configmaps(objects("ConfigMap"))
    summary = [(d["title"], d["uid"], d["configmap"], d["key"]) for d in dashboards]
    assert summary == [
        ("Cilium Metrics", "vtuWtdumz", "cilium-monitoring/grafana-cilium-dashboard", "cilium-dashboard.json"),
        ("Cilium Operator", "1GC0TT4Wz", "cilium-monitoring/grafana-cilium-operator-dashboard",
         "cilium-operator-dashboard.json"),
        ("Hubble", "5HftnJAWz", "cilium-monitoring/grafana-hubble-dashboard", "hubble-dashboard.json"),
    ]
    for d in dashboards:
        rows = sum(1 for p in d["dashboard"]["panels"] if p.get("type") == "row")
        assert d["panels"] == len(d["dashboard"]["panels"]) - rows > 0


def test_panel_count_nested_rows_and_old_rows():
    dash = {"panels": [{"type": "row", "panels": [{"type": "graph"}, {"type": "stat"}]}, {"type": "graph"}],
            "rows": [{"panels": [{"type": "graph"}]}]}
    assert panel_count(dash) == 4


def test_only_cilium_monitoring_and_json_values():
    cms = [{"metadata": {"name": "grafana-hubble-dashboard", "namespace": "other"},
            "data": {"x.json": json.dumps({"uid": "a", "title": "A", "panels": []})}},
           {"metadata": {"name": "grafana-hubble-dashboard", "namespace": "cilium-monitoring"},
            "data": {"x.json": "{not json", "readme.txt": "hi", "y.json": json.dumps({"title": "Y", "panels": []})}}]
    (d,) = dashboards_from_configmaps(cms)
    assert (d["uid"], d["title"], d["key"]) == ("y", "Y", "y.json")


def test_stand_in_page(objects):
    dashboards = dashboards_from_configmaps(objects("ConfigMap"))

    async def run():
        app = make_grafana_app(lambda: dashboards, prometheus_url="http://127.0.0.1:9090")
        async with TestClient(TestServer(app)) as client:
            page = await (await client.get("/")).text()
            health = await (await client.get("/api/health")).json()
            resp = await client.get("/dashboards/5HftnJAWz.json")
            body = await resp.json()
            missing = await client.get("/dashboards/nope.json")
            return page, health, resp.status, body, missing.status

    page, health, status, body, missing = asyncio.run(run())
    assert "not Grafana" in page and "ciliumlab" in page
    for d in dashboards:
        assert d["title"] in page and d["uid"] in page and d["configmap"] in page
        assert f'href="/dashboards/{d["uid"]}.json"' in page
        assert f"<td>{d['panels']}</td>" in page
    assert "Import" in page and "http://127.0.0.1:9090" in page and "prometheus" in page
    assert health["database"] == "ok" and health["standIn"] is True and health["dashboards"] == 3
    assert status == 200 and body["title"] == "Hubble" and body["uid"] == "5HftnJAWz"
    assert missing == 404


def test_stand_in_page_without_dashboards():
    async def run():
        async with TestClient(TestServer(make_grafana_app(lambda: []))) as client:
            return await (await client.get("/")).text()

    page = asyncio.run(run())
    assert "No dashboards yet" in page and "monitoring-example.yaml" in page
