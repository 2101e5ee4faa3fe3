"""Every metric the Cilium agent and operator dashboards query has a series in the lab's
expositions (the union of the three agents and the operator) after some traffic.

Dashboards: `tests/fixtures/cilium/grafana-dashboards/*.json` and the `grafana-cilium-dashboard`
and `grafana-cilium-operator-dashboard` ConfigMaps of `monitoring-example.yaml`. Names of other
exporters (`hubble_*`, kube-state-metrics' `kube_*`) are someone else's; the agent's legacy
`kvstore_operations_total` (no `cilium_` prefix) is checked too.
"""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES

from .conftest import L7, SW_APP, TIEFIGHTER_EXHAUST, TIEFIGHTER_LANDING, XWING_LANDING
from .dashboards import (
    configmap_dashboards,
    dashboard_metric_names,
    file_dashboards,
    histogram_base,
    promql_metric_names,
    template_metric_names,
)
from .scrape import families, sample_names

AGENT_OPERATOR_CONFIGMAPS = ("grafana-cilium-dashboard/cilium-dashboard.json",
                             "grafana-cilium-operator-dashboard/cilium-operator-dashboard.json")

DNS_VISIBILITY = FIXTURES / "dns-visibility.yaml"  # xwing's lookups through the DNS proxy


def cilium_dashboards() -> dict[str, dict]:
    cms = configmap_dashboards()
    out = {name: cms[name] for name in AGENT_OPERATOR_CONFIGMAPS}
    out.update(file_dashboards())
    return out


def queried_names() -> dict[str, set[str]]:
    """Queried metric name -> dashboards querying it (Cilium agent/operator names only)."""
    out: dict[str, set[str]] = {}
    for dashboard, content in cilium_dashboards().items():
        for name in dashboard_metric_names(content):
            if name.startswith("cilium_") or name == "kvstore_operations_total":
                out.setdefault(name, set()).add(dashboard)
    return out


@pytest.fixture
def exposed(mlab) -> tuple[set[str], dict[str, str]]:
    """(sample names, family types) over every agent and the operator after traffic."""
    lab = mlab.lab
    lab.apply(SW_APP)
    lab.apply(L7)
    lab.apply(DNS_VISIBILITY)
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    assert lab.exec("tiefighter", TIEFIGHTER_EXHAUST).stdout.strip() == "Access denied"
    assert lab.exec("xwing", XWING_LANDING).exit_code == 28
    lab.clock.advance(120)
    names: set[str] = set()
    types: dict[str, str] = {}
    for body in [a.expose()[0] for a in mlab.agents.values()] + [mlab.operator.expose()[0]]:
        names |= sample_names(body)
        types.update(families(body))
    return names, types


def test_the_dashboards_query_what_we_expect():
    names = queried_names()
    assert len(names) >= 60
    for name in ("cilium_drop_count_total", "cilium_forward_bytes_total", "cilium_version", "cilium_policy",
                 "cilium_endpoint_regeneration_time_stats_seconds_bucket", "cilium_operator_ipam_ips",
                 "cilium_operator_process_cpu_seconds_total", "cilium_policy_l7_denied_total",
                 "kvstore_operations_total"):
        assert name in names, name
    assert not any(n in names for n in ("pod", "reason", "direction", "le", "scope", "k8s_app", "by", "rate"))


def test_every_queried_cilium_metric_has_a_series(exposed):
    names, types = exposed
    missing = {}
    for name, dashboards in sorted(queried_names().items()):
        if name in names:
            continue
        missing[name] = sorted(dashboards)
    assert missing == {}


def test_histogram_suffixes_belong_to_histograms(exposed):
    _names, types = exposed
    for name in queried_names():
        base = histogram_base(name)
        if base != name and base in types:
            assert types[base] == "histogram", name


# -- the PromQL name extraction itself ---------------------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ('sum(rate(cilium_drop_count_total{direction="EGRESS", k8s_app="cilium", pod=~"$pod"}[1m])) by (reason)',
     {"cilium_drop_count_total"}),
    ("avg(histogram_quantile(0.90, rate(x_bucket{scope!=\"total\"}[5m]))) by (scope)", {"x_bucket"}),
    ("topk(5, max(rate(a_sum[1m])) by (pod, action) / avg(rate(a_count[1m])) by (pod, action))",
     {"a_sum", "a_count"}),
    ("sum(up) by (pod) / on(pod) group_left(node) kube_pod_info", {"up", "kube_pod_info"}),
    ('label_replace(up, "dst", "$1", "src", "(.*)") * 1e3 + foo offset 5m', {"up", "foo"}),
    ("rate(x_total[$__rate_interval]) * 60 and ignoring(le) y", {"x_total", "y"}),
    ('count_values("version", cilium_version) or vector(0)', {"cilium_version"}),
    ("sum without (instance) (rate(z[5m]))", {"z"}),
    ("{__name__=~\"cilium_.*\"}", set()),
])
def test_promql_metric_names(expr, expected):
    assert promql_metric_names(expr) == expected


@pytest.mark.parametrize("query, expected", [
    ("label_values(cilium_version, pod)", {"cilium_version"}),
    ('label_values(kube_pod_created{pod=~"^cilium-[a-z|A-Z|0-9]+$"},pod)', {"kube_pod_created"}),
    ("label_values(pod)", set()),
    ("query_result(sum(rate(hubble_flows_processed_total[5m])) by (node))", {"hubble_flows_processed_total"}),
    ("metrics(cilium_.*)", set()),
])
def test_template_metric_names(query, expected):
    assert template_metric_names(query) == expected


def test_dashboard_metric_names_reads_targets_rows_and_templating():
    dashboard = {
        "rows": [{"panels": [{"targets": [{"expr": "a_total"}, {"expr": "rate(b_bucket[1m])"}]}]}],
        "panels": [{"targets": [{"expr": "c"}]}],
        "annotations": {"list": [{"expr": "changes(d[5m])"}]},
        "templating": {"list": [{"query": {"query": "label_values(e, pod)"}, "definition": "label_values(e, pod)"},
                                {"query": "label_values(f{x=\"y\"}, node)"}]},
    }
    assert dashboard_metric_names(dashboard) == {"a_total", "b_bucket", "c", "d", "e", "f"}
    assert histogram_base("b_bucket") == "b" and histogram_base("a_total") == "a_total"
