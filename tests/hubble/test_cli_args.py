"""`hubble observe` flag parsing → FlowsRequest, checked against cli.md §2 (examples verbatim)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ciliumlab.hubble.cli import HubbleError, parse_observe
from ciliumlab.hubble.types import UINT64_MAX

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def parse(*argv: str, env: dict | None = None):
    return parse_observe(list(argv), now=NOW, env=env or {"HOME": "/nonexistent"})


def raw(*argv: str) -> str:
    return parse(*argv, "--print-raw-filters").raw_filters_yaml()


# --- cli.md §2.4 examples, verbatim --------------------------------------------------------------

def test_print_raw_filters_namespace():
    assert raw("--namespace", "kube-system") == (
        "allowlist:\n"
        "    - '{\"source_pod\":[\"kube-system/\"]}'\n"
        "    - '{\"destination_pod\":[\"kube-system/\"]}'\n")


def test_print_raw_filters_not_namespace():
    assert raw("--not", "--namespace", "kube-system") == (
        "denylist:\n"
        "    - '{\"source_pod\":[\"kube-system/\"]}'\n"
        "    - '{\"destination_pod\":[\"kube-system/\"]}'\n")


def test_print_raw_filters_repeated_verdict():
    assert raw("--verdict", "DROPPED", "--verdict", "ERROR") == (
        "allowlist:\n    - '{\"verdict\":[\"DROPPED\",\"ERROR\"]}'\n")


def test_print_raw_filters_from_pod_to_namespace_port():
    assert raw("--from-pod", "default/xwing", "--to-namespace", "default", "--to-port", "80") == (
        "allowlist:\n"
        "    - '{\"source_pod\":[\"default/xwing\"],\"destination_pod\":[\"default/\"],"
        "\"destination_port\":[\"80\"]}'\n")


def test_print_raw_filters_pod_and_type():
    assert raw("--pod", "xwing", "-t", "trace:to-endpoint") == (
        "allowlist:\n"
        "    - '{\"source_pod\":[\"xwing\"],\"event_type\":[{\"type\":4,\"match_sub_type\":true}]}'\n"
        "    - '{\"destination_pod\":[\"xwing\"],\"event_type\":[{\"type\":4,\"match_sub_type\":true}]}'\n")


def test_print_raw_filters_nothing_is_empty_yaml_mapping():
    assert raw() == "{}\n"


# --- filter model (§2.2/2.3) -----------------------------------------------------------------------

def test_from_pod_to_pod_is_one_filter_pod_is_two():
    assert parse("--from-pod", "a", "--to-pod", "b").request.whitelist == [
        {"source_pod": ["a"], "destination_pod": ["b"]}]
    assert parse("--pod", "a").request.whitelist == [{"source_pod": ["a"]}, {"destination_pod": ["a"]}]


def test_not_applies_only_to_next_flag():
    req = parse("--not", "--http-method", "put", "--protocol", "http").request
    assert req.blacklist == [{"http_method": ["put"]}]
    assert req.whitelist == [{"protocol": ["http"]}]


def test_not_twice_builds_two_blacklist_values_in_one_filter():
    req = parse("--not", "--http-method", "put", "--not", "--to-namespace", "foo").request
    assert req.blacklist == [{"destination_pod": ["foo/"], "http_method": ["put"]}]


def test_all_namespaces_gives_slash():
    assert parse("-A").request.whitelist == [{"source_pod": ["/"]}, {"destination_pod": ["/"]}]


def test_namespace_prefixes_pod_and_service_values():
    req = parse("--to-namespace", "a", "--to-namespace", "b", "--to-service", "svc").request
    assert req.whitelist == [{"destination_service": ["a/svc", "b/svc"]}]


def test_value_flags_map_to_fields():
    req = parse("--ip-version", "none", "-4", "--tcp-flags", "syn,ACK", "--http-header", "k:v:w",
                "--traffic-direction", "Ingress", "--identity", "world",
                "--workload", "Deployment/", "--drop-reason-desc", "POLICY_DENIED", "--interface", "eth0",
                "--encrypted", "--ip-trace-id", "7", "--cel-expression", "_flow.verdict == 2",
                "--cluster", "c1", "--snat-ip", "1.1.1.1").request
    left = req.whitelist[0]
    assert list(left) == ["source_ip_xlated", "source_workload", "source_cluster_name",
                          "traffic_direction", "drop_reason_desc", "interface", "source_identity", "http_header",
                          "tcp_flags", "ip_version", "ip_trace_id", "encrypted", "experimental"]
    assert left["ip_version"] == ["IP_NOT_USED", "IPv4"]
    assert left["tcp_flags"] == [{"SYN": True, "ACK": True}]
    assert left["http_header"] == [{"key": "k", "value": "v:w"}]
    assert left["traffic_direction"] == ["INGRESS"]
    assert left["source_identity"] == [2] and req.whitelist[1]["destination_identity"] == [2]
    assert parse("--to-identity", "0x10").request.whitelist == [{"destination_identity": [16]}]
    assert left["source_workload"] == [{"kind": "Deployment"}]
    assert left["interface"] == [{"name": "eth0"}]
    assert left["ip_trace_id"] == ["7"] and left["encrypted"] == [True]
    assert left["experimental"] == {"cel_expression": ["_flow.verdict == 2"]}
    assert req.whitelist[1]["destination_cluster_name"] == ["c1"]


def test_type_subtypes():
    f = parse("-t", "drop:133", "-t", "agent:policy-updated", "-t", "l7").request.whitelist[0]
    assert f["event_type"] == [{"type": 1, "match_sub_type": True, "sub_type": 133},
                               {"type": 130, "match_sub_type": True, "sub_type": 5}, {"type": 129}]


def test_allowlist_denylist_raw_json_appended():
    req = parse("--verdict", "DROPPED", "--allowlist", '{"sourcePod":["a"]} {"reply":[true]}',
                "--denylist", '{"verdict":[2]}').request
    assert req.whitelist == [{"verdict": ["DROPPED"]}, {"source_pod": ["a"]}, {"reply": [True]}]
    assert req.blacklist == [{"verdict": ["DROPPED"]}]


# --- selectors (§2.1) ------------------------------------------------------------------------------

def test_default_is_last_20_with_default_field_mask():
    req = parse().request
    assert (req.number, req.first, req.follow) == (20, False, False)
    assert req.field_mask[:3] == ["time", "verdict", "ethernet"] and req.field_mask[-1] == "ip_trace_id"


def test_selectors():
    assert parse("--last", "5").request.number == 5
    r = parse("--first", "3").request
    assert (r.number, r.first) == (3, True)
    assert parse("--all").request.number == UINT64_MAX
    r = parse("-f").request
    assert (r.number, r.follow) == (0, True)
    assert parse("--input-file", "x").request.number == 0


def test_json_sends_no_mask_and_field_mask_only_with_json():
    assert parse("-o", "json").request.field_mask == []
    assert parse("-o", "jsonpb", "--field-mask", "time,source.pod_name").request.field_mask == [
        "time", "source.pod_name"]
    assert parse("--use-default-field-masks=false").request.field_mask == []


def test_since_relative_and_absolute_until_dropped_with_follow():
    r = parse("--since", "1h30m", "--until", "2024-05-01T11:59:00Z").request
    assert r.since == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert r.until == datetime(2024, 5, 1, 11, 59, tzinfo=UTC)
    assert r.number == 0
    assert parse("--until", "3s", "-f").request.until is None
    assert parse("--since", "2024-05-01").request.since == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse("--since", "2024-05-01T10+02:00").request.since == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse("--since", "Wed, 01 May 2024 10:00:00 -0700").request.since == datetime(2024, 5, 1, 17,
                                                                                          tzinfo=UTC)


def test_formatting_options():
    o = parse("-o", "tab", "--time-format", "rfc3339nano", "--numeric", "--print-node-name")
    assert (o.output, o.time_format, o.ip_translation, o.node_name) == ("table", "RFC3339Nano", False, True)
    assert parse("--time-format", "bogus").time_format == "StampMilli"
    assert parse("-o", "json", env={"HUBBLE_COMPAT": "legacy-json-output"}).legacy_json


def test_server_flags_env_and_precedence():
    o = parse("--server", "tls://relay:443", env={"HOME": "/nonexistent", "HUBBLE_SERVER": "x:1",
                                                  "HUBBLE_TIMEOUT": "9s"})
    assert o.settings.values["server"] == "tls://relay:443"
    assert o.settings.values["timeout"] == "9s"


# --- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "message"), [
    (["--first", "1", "--last", "2"], "cannot set both --first and --last"),
    (["--first", "1", "--all"], "cannot set both --first and --all"),
    (["--first", "1", "-f"], "cannot set both --first and --follow"),
    (["--last", "1", "--all"], "cannot set both --last and --all"),
    (["--not"], "trailing --not found in the arguments"),
    (["--not", "--not", "--pod", "x"], 'invalid argument "true" for "--not" flag: consecutive --not statements'),
    (["-o", "table", "--follow"], "table output format is not compatible with follow mode"),
    (["-o", "yaml"], "invalid output format: yaml"),
    (["--field-mask", "time"], "compact output format is not compatible with custom field mask"),
    (["--since", "1h43"], "failed to parse the since time: failed to convert 1h43 to time"),
    (["--until", "yesterday"], "failed to parse the until time: failed to convert yesterday to time"),
    (["--verdict", "dropped"], 'invalid argument "dropped" for "--verdict" flag: invalid --verdict value: dropped'),
    (["--to-pod", "x", "-n", "y"],
     'invalid argument "y" for "-n, --namespace" flag: filters --to-pod and --namespace cannot be combined'),
    (["--label", "a", "--from-label", "b"],
     'invalid argument "b" for "--from-label" flag: filters --label and --from-label cannot be combined'),
    (["--namespace", "foo", "--pod", "bar/x"],
     'invalid argument "bar/x" for "--pod" flag: namespace conflict: "foo" does not contain "bar/x"'),
    (["--from-pod", "a/p", "--from-service", "b/s"],
     'invalid argument "b/s" for "--from-service" flag: namespace of service "b/s" conflict with pod "a"'),
    (["--tcp-flags", "syn,foo"], 'invalid argument "syn,foo" for "--tcp-flags" flag: unknown tcp flag: foo'),
    (["--traffic-direction", "Up"],
     'invalid argument "Up" for "--traffic-direction" flag: up: invalid traffic direction, expected ingress or egress'),
    (["--http-header", "nocolon"],
     'invalid argument "nocolon" for "--http-header" flag: invalid http-header value "nocolon", expected name:value'),
    (["-t", "bogus"], "invalid argument \"bogus\" for \"-t, --type\" flag: unable to parse type 'bogus', not a known "
                      "type name and unable to parse as numeric value: strconv.ParseUint: parsing \"bogus\": "
                      "invalid syntax"),
    (["--last", "x"], 'invalid argument "x" for "--last" flag: strconv.ParseUint: parsing "x": invalid syntax'),
    (["--bogus"], "unknown flag: --bogus"),
    (["-z"], "unknown shorthand flag: 'z' in -z"),
    (["--pod"], "flag needs an argument: --pod"),
    (["--drop-reason-desc", ""], 'invalid argument "" for "--drop-reason-desc" flag: empty --drop-reason-desc value'),
    (["-o", "json", "--field-mask", "nope"],
     'failed to construct field mask: proto: invalid path "nope" for message "flow.Flow"'),
])
def test_errors(argv, message):
    with pytest.raises(HubbleError) as exc:
        parse(*argv)
    assert str(exc.value) == message
