"""/metrics bodies: the text format by default, OpenMetrics with exemplars when enabled and
asked for, lost events always there, and promtool's verdict on the text."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics

from ciliumlab.hubble.metrics import HubbleMetrics

from .flows import dns, drop, http, scrape, trace, value

PROMTOOL = shutil.which("promtool") or ("/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else None)
OM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
             "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")  # what Prometheus sends
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def exemplar_metrics(open_metrics: bool = True) -> HubbleMetrics:
    m = HubbleMetrics.from_config("httpV2:exemplars=true;sourceContext=pod drop", open_metrics=open_metrics)
    m.process(http(response=True, latency_ns=30_000_000, trace_id=TRACE_ID))
    m.process(http(response=True, code=500, latency_ns=30_000_000))  # no trace context: no exemplar
    m.process(drop())
    return m


def test_text_format_by_default():
    m = exemplar_metrics()
    body, content_type = m.expose()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    assert "# HELP hubble_drop_total Number of drops\n# TYPE hubble_drop_total counter\n" in text
    assert 'hubble_drop_total{protocol="TCP",reason="POLICY_DENIED"} 1.0\n' in text
    assert "# HELP hubble_http_request_duration_seconds Quantiles of HTTP request duration in seconds\n" in text
    assert "# TYPE hubble_http_request_duration_seconds histogram\n" in text
    assert "_created" not in text  # client_golang has no created series
    assert "traceID" not in text  # exemplars exist only in OpenMetrics
    assert m.expose("text/plain")[1] == content_type


def test_families_are_sorted_by_name():
    m = HubbleMetrics.from_config("tcp flow drop dns")
    text = m.expose()[0].decode()
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert names == sorted(names)
    assert names == ["hubble_dns_queries_total", "hubble_dns_response_types_total", "hubble_dns_responses_total",
                     "hubble_drop_total", "hubble_flows_processed_total", "hubble_lost_events_total",
                     "hubble_tcp_flags_total"]


def test_lost_events_always_present_and_counted():
    m = HubbleMetrics.from_config("flow")
    assert value(m, "hubble_lost_events_total", source="perf_event_ring_buffer") == 0
    assert value(m, "hubble_lost_events_total", source="observer_events_queue") == 0
    assert value(m, "hubble_lost_events_total", source="hubble_ring_buffer") == 0
    m.lost("observer_events_queue", 12)
    m.lost("observer_events_queue", 3)
    m.lost("hubble_ring_buffer", 1)
    assert value(m, "hubble_lost_events_total", source="observer_events_queue") == 15
    assert value(m, "hubble_lost_events_total", source="hubble_ring_buffer") == 1
    assert "# HELP hubble_lost_events_total Number of lost events" in m.expose()[0].decode()


def test_openmetrics_with_exemplars_when_enabled_and_asked_for():
    m = exemplar_metrics()
    body, content_type = m.expose(OM_ACCEPT)
    assert content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    text = body.decode()
    assert text.endswith("# EOF\n")
    assert "_created" not in text
    exemplars = {}
    for family in parse_openmetrics(text):
        for s in family.samples:
            if s.exemplar:
                exemplars[(s.name, s.labels.get("status"), s.labels.get("le"))] = s.exemplar
    # the counter and the one histogram bucket the observation fell in carry {traceID="..."}
    assert set(exemplars) == {("hubble_http_requests_total", "200", None),
                              ("hubble_http_request_duration_seconds_bucket", None, "0.05")}
    counter = exemplars[("hubble_http_requests_total", "200", None)]
    assert counter.labels == {"traceID": TRACE_ID}
    assert counter.value == 1
    bucket = exemplars[("hubble_http_request_duration_seconds_bucket", None, "0.05")]
    assert bucket.labels == {"traceID": TRACE_ID}
    assert bucket.value == pytest.approx(0.03)
    line = next(ln for ln in text.splitlines() if ln.startswith("hubble_http_requests_total") and '"200"' in ln)
    assert f' # {{traceID="{TRACE_ID}"}} 1.0 ' in line


def test_openmetrics_needs_the_server_option():
    body, content_type = exemplar_metrics(open_metrics=False).expose(OM_ACCEPT)
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"traceID" not in body


@pytest.mark.parametrize("accept, expected", [
    ("", "text/plain; version=0.0.4; charset=utf-8"),
    ("*/*", "text/plain; version=0.0.4; charset=utf-8"),
    ("application/openmetrics-text", "application/openmetrics-text; version=0.0.1; charset=utf-8"),
    ("application/openmetrics-text; version=1.0.0", "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    ("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.8",
     "text/plain; version=0.0.4; charset=utf-8"),
    ("text/plain;q=0.1,application/openmetrics-text;version=1.0.0;q=0.8",
     "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    ("application/openmetrics-text;version=2.0.0", "text/plain; version=0.0.4; charset=utf-8"),
    ("application/openmetrics-text;q=0", "text/plain; version=0.0.4; charset=utf-8"),
])
def test_accept_negotiation(accept, expected):
    m = HubbleMetrics.from_config("flow", open_metrics=True)
    assert m.expose(accept)[1] == expected


def test_exemplars_off_means_no_exemplars():
    m = HubbleMetrics.from_config("httpV2", open_metrics=True)
    m.process(http(response=True, trace_id=TRACE_ID))
    assert b"traceID" not in m.expose(OM_ACCEPT)[0]


def test_http_v1_exemplars_on_requests_and_responses():
    m = HubbleMetrics.from_config("http:exemplars=true", open_metrics=True)
    m.process(http(response=False, trace_id=TRACE_ID))
    m.process(http(response=True, trace_id=TRACE_ID))
    text = m.expose(OM_ACCEPT)[0].decode()
    with_exemplar = [ln.split("{")[0] for ln in text.splitlines() if "traceID" in ln]
    assert sorted(with_exemplar) == ["hubble_http_request_duration_seconds_bucket", "hubble_http_requests_total",
                                     "hubble_http_responses_total"]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
def test_promtool_accepts_the_text_exposition():
    m = HubbleMetrics.from_config(
        "dns:query drop:sourceContext=pod;destinationContext=pod tcp flow port-distribution icmp "
        "httpV2:exemplars=true;labelsContext=source_ip,source_namespace,source_workload,destination_ip,"
        "destination_namespace,destination_workload,traffic_direction policy flows-to-world:port kafka sctp")
    for f in (dns(), dns(response=True, ips=("1.1.1.1",), rrtypes=("A",)), drop(), trace(),
              trace(l4={"ICMPv4": {"type": 8}}), http(response=True, trace_id=TRACE_ID)):
        m.process(f)
    m.lost("perf_event_ring_buffer", 2)
    body, _ = m.expose()
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == ""  # no lint findings either
    assert len(scrape(m)) > 20
