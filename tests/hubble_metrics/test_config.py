"""`hubble-metrics` parsing: the option syntax, which handlers a spec enables with which labels,
and every error Cilium refuses a spec with."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.metrics import HANDLERS, HubbleMetrics, MetricsConfigError
from ciliumlab.hubble.metrics.options import parse_metrics_spec

SEED = ("dns drop tcp flow port-distribution icmp httpV2:exemplars=true;labelsContext=source_ip,source_namespace,"
        "source_workload,destination_ip,destination_namespace,destination_workload,traffic_direction")


def labelnames(m: HubbleMetrics, handler: str) -> list[tuple[str, tuple[str, ...]]]:
    h = m.handler(handler)
    return [(vec.metric.describe()[0].name, vec.labelnames) for vec in h.vecs]


def test_empty_spec_enables_nothing():
    assert HubbleMetrics.from_config("") is None
    assert HubbleMetrics.from_config("   \n ") is None


def test_seed_spec_enables_handlers_in_config_order():
    m = HubbleMetrics.from_config(SEED)
    assert [h.name for h in m.handlers] == ["dns", "drop", "tcp", "flow", "port-distribution", "icmp", "httpV2"]
    http = m.handler("httpV2")
    assert http.exemplars is True
    # labelsContext labels come in Cilium's fixed order, then the handler's own labels
    assert labelnames(m, "httpV2") == [
        ("hubble_http_requests", ("source_ip", "source_namespace", "source_workload", "destination_ip",
                                  "destination_namespace", "destination_workload", "traffic_direction",
                                  "method", "protocol", "status", "reporter")),
        ("hubble_http_request_duration_seconds", ("source_ip", "source_namespace", "source_workload",
                                                  "destination_ip", "destination_namespace",
                                                  "destination_workload", "traffic_direction", "method",
                                                  "reporter")),
    ]
    assert m.handler("httpV2").status() == ("labels=source_ip,source_namespace,source_workload,destination_ip,"
                                            "destination_namespace,destination_workload,traffic_direction,"
                                            "exemplars=true")


def test_spec_is_split_on_any_whitespace_like_a_configmap_value():
    m = HubbleMetrics.from_config(" dns\tdrop \n flow ")
    assert [h.name for h in m.handlers] == ["dns", "drop", "flow"]


def test_option_syntax():
    (c,) = parse_metrics_spec("policy:sourceContext=app|workload-name|pod|reserved-identity;"
                              "destinationContext=app|workload-name|pod|dns|reserved-identity;"
                              "labelsContext=source_namespace,destination_namespace")
    assert c.name == "policy"
    assert c.options == (
        ("sourceContext", ("app", "workload-name", "pod", "reserved-identity")),
        ("destinationContext", ("app", "workload-name", "pod", "dns", "reserved-identity")),
        ("labelsContext", ("source_namespace", "destination_namespace")),
    )
    (dns,) = parse_metrics_spec("dns:query;ignoreAAAA")
    assert dns.options == (("query", ("",)), ("ignoreAAAA", ("",)))  # flags: a key without a value
    (f2w,) = parse_metrics_spec("flows-to-world:any-drop;port;syn-only;;")
    assert [k for k, _ in f2w.options] == ["any-drop", "port", "syn-only"]


def test_label_order_is_fixed_whatever_order_labelscontext_lists_them():
    m = HubbleMetrics.from_config("drop:labelsContext=traffic_direction,destination_app,source_pod,source_ip;"
                                  "sourceContext=namespace;destinationContext=identity")
    assert labelnames(m, "drop") == [("hubble_drop", ("source_ip", "source_pod", "destination_app",
                                                      "traffic_direction", "source", "destination", "reason",
                                                      "protocol"))]


@pytest.mark.parametrize("spec, names", [
    ("dns", [("hubble_dns_queries", ("rcode", "qtypes", "ips_returned")),
             ("hubble_dns_responses", ("rcode", "qtypes", "ips_returned")),
             ("hubble_dns_response_types", ("type", "qtypes"))]),
    ("dns:query;ignoreAAAA", [("hubble_dns_queries", ("rcode", "qtypes", "ips_returned", "query")),
                              ("hubble_dns_responses", ("rcode", "qtypes", "ips_returned", "query")),
                              ("hubble_dns_response_types", ("type", "qtypes", "query"))]),
    ("drop:sourceContext=pod;destinationContext=pod",
     [("hubble_drop", ("source", "destination", "reason", "protocol"))]),
    ("flow:sourceContext=workload-name|reserved-identity;destinationContext=workload-name|reserved-identity",
     [("hubble_flows_processed", ("protocol", "type", "subtype", "verdict", "source", "destination"))]),
    ("flows-to-world", [("hubble_flows_to_world", ("protocol", "verdict"))]),
    ("flows-to-world:any-drop;port;syn-only", [("hubble_flows_to_world", ("protocol", "verdict", "port"))]),
    ("http", [("hubble_http_requests", ("method", "protocol", "reporter")),
              ("hubble_http_responses", ("method", "protocol", "status", "reporter")),
              ("hubble_http_request_duration_seconds", ("method", "reporter"))]),
    ("icmp:sourceContext=namespace", [("hubble_icmp", ("family", "type", "source"))]),
    ("kafka", [("hubble_kafka_requests", ("topic", "api_key", "error_code", "reporter")),
               ("hubble_kafka_request_duration_seconds", ("topic", "api_key", "reporter"))]),
    ("policy:labelsContext=source_namespace,destination_namespace",
     [("hubble_policy_verdicts", ("direction", "match", "action", "source_namespace", "destination_namespace"))]),
    ("port-distribution", [("hubble_port_distribution", ("protocol", "port"))]),
    ("tcp", [("hubble_tcp_flags", ("flag", "family"))]),
    ("sctp", [("hubble_sctp_chunk_types", ("chunk_type", "family"))]),
])
def test_declared_labels(spec, names):
    m = HubbleMetrics.from_config(spec)
    assert labelnames(m, spec.split(":")[0]) == names


def test_every_cilium_handler_is_known():
    assert set(HANDLERS) == {"dns", "drop", "flow", "flows-to-world", "http", "httpV2", "icmp", "kafka", "policy",
                             "port-distribution", "sctp", "tcp"}


def test_context_keys_and_identifiers_are_case_insensitive():
    m = HubbleMetrics.from_config("drop:SOURCECONTEXT=Pod|DNS;destinationcontext=Reserved-Identity")
    assert m.handler("drop").status() == "destination=reserved-identity,source=pod|dns"


def test_statuses():
    m = HubbleMetrics.from_config(
        "dns:query;ignoreAAAA;sourceContext=namespace flows-to-world:port;any-drop kafka:destinationContext=identity "
        "policy:labelsContext=destination_namespace,source_namespace;sourceContext=app tcp")
    assert m.handler("dns").status() == "query,ignoreAAAA,source=namespace"
    assert m.handler("flows-to-world").status() == "any-drop,port,"  # Go joins the empty context status too
    assert m.handler("kafka").status() == "destination=identity"
    assert m.handler("policy").status() == "labels=source_namespace,destination_namespace,source=app"
    assert m.handler("tcp").status() == ""
    assert m.status() == ("dns(query,ignoreAAAA,source=namespace),flows-to-world(any-drop,port,),"
                          "kafka(destination=identity),policy(labels=source_namespace,destination_namespace,"
                          "source=app),tcp")


def test_http_exemplars_needs_exactly_true():
    assert HubbleMetrics.from_config("http").handler("http").status() == ",exemplars=false"
    assert HubbleMetrics.from_config("httpV2:exemplars=TRUE").handler("httpV2").exemplars is False
    assert HubbleMetrics.from_config("httpV2:Exemplars=true").handler("httpV2").exemplars is False
    assert HubbleMetrics.from_config("httpV2:exemplars=true").handler("httpV2").exemplars is True


def test_unknown_option_keys_are_ignored():
    m = HubbleMetrics.from_config("drop:frobnicate=yes;answer")
    assert labelnames(m, "drop") == [("hubble_drop", ("reason", "protocol"))]


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, message, reason", [
    ("dns drop:sourceContext=foo",
     "unable to initialize metric 'drop': unknown context 'foo'", "unknown context 'foo'"),
    ("flow:destinationContext=namespace|Bogus",
     "unable to initialize metric 'flow': unknown context 'Bogus'", "unknown context 'Bogus'"),
    ("tcp:sourceEgressContext=pods",
     "unable to initialize metric 'tcp': unknown context 'pods'", "unknown context 'pods'"),
    ("icmp:sourceContext", "unable to initialize metric 'icmp': unknown context ''", "unknown context ''"),
    ("httpV2:labelsContext=source_ip,x",
     "unable to initialize metric 'httpV2': invalid labelsContext value: x", "invalid labelsContext value: x"),
    ("policy:labelsContext=Source_Namespace",
     "unable to initialize metric 'policy': invalid labelsContext value: Source_Namespace",
     "invalid labelsContext value: Source_Namespace"),
    ("drop:labelsContext", "unable to initialize metric 'drop': invalid labelsContext value: ",
     "invalid labelsContext value: "),
])
def test_bad_context_options(spec, message, reason):
    with pytest.raises(MetricsConfigError) as err:
        HubbleMetrics.from_config(spec)
    assert str(err.value) == message
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


def test_unknown_handler():
    with pytest.raises(MetricsConfigError, match=r"^metric 'dsn' does not exist$") as err:
        HubbleMetrics.from_config("dsn drop")
    assert err.value.metric == "dsn"
    with pytest.raises(MetricsConfigError, match="^metric 'HTTPV2' does not exist$"):
        HubbleMetrics.from_config("HTTPV2")  # handler names are case-sensitive


@pytest.mark.parametrize("spec, message", [
    ("http httpV2", "plugin http conflicts with plugin httpV2"),
    ("drop httpV2:exemplars=true http", "plugin httpV2 conflicts with plugin http"),
])
def test_http_and_httpv2_cannot_both_be_enabled(spec, message):
    with pytest.raises(MetricsConfigError) as err:
        HubbleMetrics.from_config(spec)
    assert str(err.value) == message


def test_same_handler_twice_is_refused():
    with pytest.raises(MetricsConfigError, match="duplicate metrics collector registration attempted"):
        HubbleMetrics.from_config("dns dns:query")


def test_empty_context_value_adds_no_label():
    m = HubbleMetrics.from_config("drop:sourceContext=;labelsContext=")
    assert labelnames(m, "drop") == [("hubble_drop", ("reason", "protocol"))]


def test_two_instances_do_not_share_a_registry():
    a = HubbleMetrics.from_config("drop")
    b = HubbleMetrics.from_config("drop")
    assert a.registry is not b.registry
