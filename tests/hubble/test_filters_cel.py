"""The supported CEL subset for `experimental.cel_expression`."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.filters import FilterError, compile_filter
from tests.hubble.filter_flows import dns_request, drop, flow, http_request


def cel(*exprs: str):
    return compile_filter({"experimental": {"cel_expression": list(exprs)}})


@pytest.mark.parametrize(
    ("expr", "f", "expected"),
    [
        ("_flow.verdict == Verdict.DROPPED", drop(), True),
        ("_flow.verdict == Verdict.DROPPED", flow(), False),
        ("_flow.verdict == flow.Verdict.FORWARDED", flow(), True),
        ("_flow.verdict != Verdict.DROPPED && _flow.l4.TCP.destination_port == 80", flow(), True),
        ("_flow.l4.TCP.destination_port == 443 || _flow.source.pod_name == 'tiefighter'", flow(), True),
        ('!(_flow.source.namespace == "default")', flow(), False),
        ("_flow.source.pod_name.startsWith('tie')", flow(), True),
        ("_flow.destination.pod_name.startsWith('tie')", flow(), False),
        ("_flow.l7.dns.query.endsWith('github.com.')", dns_request(), True),
        ("_flow.l7.http.url.contains('landing')", http_request(), True),
        ("_flow.l7.http.url.matches('^http://deathstar')", http_request(), True),
        ("_flow.l7.http.method in ['PUT', 'DELETE']", http_request("POST"), False),
        ("_flow.l7.http.method in ['PUT', 'POST']", http_request("POST"), True),
        ("has(_flow.l7.dns)", dns_request(), True),
        ("has(_flow.l7.dns)", http_request(), False),
        ("_flow.event_type.sub_type == 0", flow(), True),  # absent = zero value
        ("_flow.destination.namespace == ''", flow(destination=None), True),
        ("_flow.traffic_direction == TrafficDirection.INGRESS", drop(), True),
        ("_flow.IP.ipVersion == IPVersion.IPv6", flow(), False),
        ("_flow.source.identity > 1000u", flow(), True),
        ("true", flow(), True),
    ],
)
def test_cel_subset(expr, f, expected):
    assert cel(expr)(f) is expected


def test_cel_expressions_are_ored():
    pred = cel("_flow.verdict == Verdict.DROPPED", "_flow.l7.dns.query == 'api.github.com.'")
    assert pred(drop())
    assert pred(dns_request())
    assert not pred(flow())


@pytest.mark.parametrize(
    "expr",
    [
        "_flow.verdict ==",
        "flow.Verdict.NOPE == _flow.verdict",
        "size(_flow.source.labels) > 1",
        "_flow.source.labels.exists(l, l == 'x')",
        "'just a string'",
        "1",
    ],
)
def test_cel_errors_are_request_errors(expr):
    with pytest.raises(FilterError, match=r"^error compiling CEL expression: "):
        cel(expr)
