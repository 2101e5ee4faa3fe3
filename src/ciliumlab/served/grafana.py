"""What answers on Grafana's NodePort (30002): ciliumlab's stand-in, not Grafana.

Grafana cannot be installed with the lab, so this page says so plainly, lists the dashboards
the cilium-monitoring ConfigMaps hold (title, uid, ConfigMap, panel count) with a link to
download each one's JSON, and explains how to import them into a real Grafana pointed at
the lab's Prometheus.

    GET /                      the HTML page
    GET /dashboards/<uid>.json a dashboard's JSON, as Grafana's Import takes it
    GET /api/health            JSON, shaped like Grafana's (`database: ok`) plus `standIn: true`
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Callable

from aiohttp import web

DASHBOARDS: web.AppKey[Callable[[], list[dict]]] = web.AppKey("ciliumlab_grafana_dashboards", object)
PROMETHEUS_URL: web.AppKey[str | None] = web.AppKey("ciliumlab_grafana_prometheus_url", object)


def make_grafana_app(list_dashboards: Callable[[], list[dict]], *, prometheus_url: str | None = None) -> web.Application:
    """`list_dashboards()` returns `monitoring.dashboards.dashboards_from_configmaps(...)` entries
    (uid, title, configmap, key, panels, dashboard); it is called on every request."""
    app = web.Application()
    app[DASHBOARDS] = list_dashboards
    app[PROMETHEUS_URL] = prometheus_url
    app.router.add_get("/", _index)
    app.router.add_get("/api/health", _health)
    app.router.add_get("/dashboards/{uid}.json", _dashboard)
    return app


async def _health(request: web.Request) -> web.Response:
    dashboards = request.app[DASHBOARDS]()
    return web.json_response({"database": "ok", "version": "ciliumlab-stand-in", "commit": "",
                              "standIn": True, "dashboards": len(dashboards)})


async def _dashboard(request: web.Request) -> web.Response:
    uid = request.match_info["uid"]
    for d in request.app[DASHBOARDS]():
        if d.get("uid") == uid:
            return web.Response(text=json.dumps(d["dashboard"], indent=2) + "\n", content_type="application/json",
                                headers={"Content-Disposition": f'attachment; filename="{uid}.json"'})
    raise web.HTTPNotFound(text=f"no dashboard with uid {uid!r}\n")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Grafana (ciliumlab stand-in)</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #ccc; padding: .4em .6em; text-align: left; }}
th {{ background: #f4f4f4; }}
code {{ background: #f4f4f4; padding: 0 .2em; }}
.note {{ border-left: 4px solid #f5a623; padding: .5em 1em; background: #fff8ec; }}
</style>
</head>
<body>
<h1>Grafana &mdash; ciliumlab stand-in</h1>
<p class="note"><strong>This is not Grafana.</strong> Grafana cannot be installed with ciliumlab, so the
<code>grafana</code> Service of <code>cilium-monitoring</code> (NodePort 30002) answers with this page:
the dashboards your ConfigMaps define, ready to import into a real Grafana.</p>
<h2>Dashboards</h2>
{table}
<h2>Import them into a real Grafana</h2>
<ol>
<li>Run Grafana on this machine (e.g. <code>docker run -d --network host grafana/grafana</code>, or a local install)
and open it (<code>http://127.0.0.1:3000</code>).</li>
<li><em>Connections &rarr; Data sources &rarr; Add data source &rarr; Prometheus</em>: name it
<code>prometheus</code> (the Cilium dashboards refer to that name) and set the URL to {prom}. Save &amp; test.</li>
<li><em>Dashboards &rarr; New &rarr; Import</em>: upload a JSON file downloaded above (or paste its contents),
pick the <code>prometheus</code> data source if asked, and Import.</li>
</ol>
<p>Health for scripts: <a href="/api/health"><code>/api/health</code></a>.</p>
</body>
</html>
"""


async def _index(request: web.Request) -> web.Response:
    dashboards = request.app[DASHBOARDS]()
    if dashboards:
        rows = "\n".join(
            "<tr><td>{title}</td><td><code>{uid}</code></td><td><code>{cm}</code> ({key})</td><td>{panels}</td>"
            '<td><a href="/dashboards/{href}.json" download>{quid}.json</a></td></tr>'.format(
                title=html.escape(d["title"]), uid=html.escape(d["uid"]), cm=html.escape(d["configmap"]),
                key=html.escape(d.get("key", "")), panels=int(d.get("panels", 0)),
                quid=html.escape(d["uid"]), href=urllib.parse.quote(d["uid"], safe=""))
            for d in dashboards)
        table = ("<table>\n<tr><th>Title</th><th>UID</th><th>ConfigMap</th><th>Panels</th><th>JSON</th></tr>\n"
                 f"{rows}\n</table>")
    else:
        table = ("<p>No dashboards yet. Apply Cilium's <code>monitoring-example.yaml</code>; its "
                 "<code>grafana-*-dashboard</code> ConfigMaps in <code>cilium-monitoring</code> hold them.</p>")
    url = request.app[PROMETHEUS_URL]
    prom = (f'<a href="{html.escape(url, quote=True)}"><code>{html.escape(url)}</code></a> (the lab\'s Prometheus)'
            if url else "the lab's Prometheus URL (<code>ciliumlab status</code> lists it)")
    return web.Response(text=_PAGE.format(table=table, prom=prom), content_type="text/html")
