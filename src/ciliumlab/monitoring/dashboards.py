"""Grafana dashboards from the `cilium-monitoring` ConfigMaps of `monitoring-example.yaml`.

Each data value of `grafana-cilium-dashboard`, `grafana-cilium-operator-dashboard` and
`grafana-hubble-dashboard` (and any other ConfigMap in the namespace labelled `app: grafana`
whose values are dashboard JSON) is one dashboard.
"""

from __future__ import annotations

import json
import re

NAMESPACE = "cilium-monitoring"
DASHBOARD_CONFIGMAPS = ("grafana-cilium-dashboard", "grafana-cilium-operator-dashboard", "grafana-hubble-dashboard")


def panel_count(dashboard: dict) -> int:
    """Panels that show something: rows are containers, not panels (collapsed rows nest theirs;
    pre-5.0 dashboards keep them under `rows[].panels`)."""
    def count(panels) -> int:
        n = 0
        for p in panels or []:
            if not isinstance(p, dict):
                continue
            if p.get("type") == "row":
                n += count(p.get("panels"))
            else:
                n += 1 + count(p.get("panels"))
        return n

    return count(dashboard.get("panels")) + sum(count(r.get("panels")) for r in dashboard.get("rows") or []
                                                 if isinstance(r, dict))


def _uid(dashboard: dict, key: str) -> str:
    uid = dashboard.get("uid")
    if uid:
        return str(uid)
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key.removesuffix(".json")).strip("-") or "dashboard"


def dashboards_from_configmaps(configmaps: list[dict]) -> list[dict]:
    """One entry per dashboard: `uid`, `title`, `configmap` (`namespace/name`), `key`, `panels`
    (count) and `dashboard` (the parsed JSON), ordered by ConfigMap then key. Values that are
    not dashboard JSON are skipped."""
    out: list[dict] = []
    seen: set[str] = set()
    for cm in sorted(configmaps, key=lambda c: ((c.get("metadata") or {}).get("namespace") or "",
                                                (c.get("metadata") or {}).get("name") or "")):
        meta = cm.get("metadata") or {}
        if meta.get("namespace") != NAMESPACE:
            continue
        name = meta.get("name") or ""
        if name not in DASHBOARD_CONFIGMAPS and (meta.get("labels") or {}).get("app") != "grafana":
            continue
        for key in sorted(cm.get("data") or {}):
            if not key.endswith(".json"):
                continue
            try:
                dashboard = json.loads(cm["data"][key])
            except (TypeError, ValueError):
                continue
            if not isinstance(dashboard, dict) or not ("panels" in dashboard or "rows" in dashboard):
                continue
            uid = _uid(dashboard, key)
            if uid in seen:
                continue
            seen.add(uid)
            out.append({"uid": uid, "title": str(dashboard.get("title") or key), "configmap": f"{NAMESPACE}/{name}",
                        "key": key, "panels": panel_count(dashboard), "dashboard": dashboard})
    return out
