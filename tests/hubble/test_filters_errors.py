"""Invalid filters are rejected with the server's error texts; parse_filter_json/normalize_filter
behave like protojson."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.filters import (
    FilterError,
    compile_filter,
    compile_filters,
    normalize_filter,
    parse_filter_json,
)
from ciliumlab.hubble.types import FilterError as TypesFilterError


def test_filter_error_is_the_shared_type():
    assert FilterError is TypesFilterError


@pytest.mark.parametrize(
    ("ff", "message"),
    [
        ({"source_ip": ["10.0.0.300"]}, 'invalid IP address in filter: "10.0.0.300"'),
        ({"destination_ip": ["10.0.0.0/33"]}, 'invalid CIDR in filter: "10.0.0.0/33"'),
        ({"source_ip_xlated": ["nope/8"]}, 'invalid CIDR in filter: "nope/8"'),
        ({"source_pod": [""]}, 'invalid filter, must be [namespace/][<name>], got ""'),
        ({"destination_pod": ["xwing", ""]}, 'invalid filter, must be [namespace/][<name>], got ""'),
        (
            {"source_service": [""]},
            'invalid source service filter: invalid filter, must be [namespace/][<name>], got ""',
        ),
        (
            {"destination_service": [""]},
            'invalid destination service filter: invalid filter, must be [namespace/][<name>], got ""',
        ),
        ({"protocol": ["foo"]}, 'invalid protocol filter: unknown protocol: "foo"'),
        ({"protocol": ["tcp", "QUIC"]}, 'invalid protocol filter: unknown protocol: "QUIC"'),
        ({"http_status_code": ["99"]}, 'invalid http status code filter: invalid status code prefix: "99"'),
        ({"http_status_code": ["600"]}, 'invalid http status code filter: invalid status code prefix: "600"'),
        ({"http_status_code": ["+"]}, 'invalid http status code filter: invalid status code prefix: "+"'),
        (
            {"http_status_code": ["200"], "event_type": [{"type": 4}]},
            "filtering by http status code requires the event type filter to only match 'l7' events",
        ),
        (
            {"http_method": ["GET"], "event_type": [{"type": 1}]},
            "filtering by http method requires the event type filter to only match 'l7' events",
        ),
        (
            {"http_path": ["/"], "event_type": [{"type": 4}]},
            "filtering by http path requires the event type filter to only match 'l7' events",
        ),
        (
            {"http_url": ["x"], "event_type": [{"type": 4}]},
            "filtering by http url requires the event type filter to only match 'l7' events",
        ),
        (
            {"http_header": [{"key": "a", "value": "b"}], "event_type": [{"type": 4}]},
            "filtering by http headers requires the event type filter to only match 'l7' events",
        ),
        (
            {"destination_port": ["http"]},
            'invalid destination port filter: invalid port "http": strconv.ParseUint: parsing "http": invalid syntax',
        ),
        (
            {"source_port": ["65536"]},
            'invalid source port filter: invalid port "65536": strconv.ParseUint: parsing "65536": value out of range',
        ),
        ({"source_cluster_name": [""]}, "invalid filter, name must not be empty"),
        ({"destination_fqdn": [""]}, "empty pattern"),
        ({"destination_fqdn": ["foo.."]}, "multiple trailing dots in pattern"),
        ({"source_fqdn": ["foo bar"]}, "' ': invalid rune in pattern"),
        ({"node_name": ["a/b/c"]}, "too many slashes in pattern"),
        ({"node_name": [""]}, "empty pattern"),
    ],
)
def test_error_texts(ff, message):
    with pytest.raises(FilterError) as exc:
        compile_filter(ff)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("ff", "prefix"),
    [
        (
            {"dns_query": ["(unclosed"]},
            "invalid DNS query filter: failed to compile regexp: error parsing regexp: ",
        ),
        ({"http_path": ["[a"]}, "invalid http path filter: [a: error parsing regexp: "),
        ({"http_url": ["(x"]}, "invalid http url filter: (x: error parsing regexp: "),
    ],
)
def test_regex_error_prefixes(ff, prefix):
    with pytest.raises(FilterError) as exc:
        compile_filter(ff)
    assert str(exc.value).startswith(prefix)


def test_first_builder_in_cilium_order_reports():
    # protocol is built before IPs in Cilium's DefaultFilters, so its error wins
    with pytest.raises(FilterError, match="unknown protocol"):
        compile_filter({"source_ip": ["bad"], "protocol": ["bad"]})


def test_error_in_any_list_member_fails_the_request():
    with pytest.raises(FilterError):
        compile_filters([{"verdict": ["DROPPED"]}], [{"protocol": ["nope"]}])


def test_unknown_field_in_dict():
    with pytest.raises(FilterError, match=r'^proto: unknown field "source_namespace"$'):
        compile_filter({"source_namespace": ["x"]})


def test_unknown_enum_name_in_dict():
    with pytest.raises(FilterError, match=r'invalid value for enum field verdict: "dropped"'):
        compile_filter({"verdict": ["dropped"]})


def test_parse_filter_json_several_objects_and_json_names():
    text = '{"source_pod":["default/xwing"],"verdict":["DROPPED"]}\n  {"destinationPod":["deathstar"], "verdict":[1]}'
    assert parse_filter_json(text) == [
        {"source_pod": ["default/xwing"], "verdict": ["DROPPED"]},
        {"destination_pod": ["deathstar"], "verdict": ["FORWARDED"]},
    ]


def test_parse_filter_json_canonical_form():
    text = '{"experimental":{"celExpression":["true"]},"ipTraceId":[7],"event_type":[{"type":4,"match_sub_type":true,"sub_type":0}],"tcpFlags":[{"SYN":true,"ACK":false}],"sourcePod":[]}'
    assert parse_filter_json(text) == [
        {
            "event_type": [{"type": 4, "match_sub_type": True}],
            "tcp_flags": [{"SYN": True}],
            "ip_trace_id": ["7"],
            "experimental": {"cel_expression": ["true"]},
        }
    ]


def test_parse_filter_json_empty_text():
    assert parse_filter_json("  \n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"foo":["x"]}', 'proto: (line 1:2): unknown field "foo"'),
        (
            '{"verdict":["DROPPED"]} {"source_pod":["a"], "bogus":1}',
            'proto: (line 1:22): unknown field "bogus"',
        ),
        (
            '{\n  "verdict": ["dropped"]\n}',
            'proto: (line 2:15): invalid value for enum field verdict: "dropped"',
        ),
        ('{"source_pod":"xwing"}', 'proto: syntax error (line 1:15): unexpected token "xwing"'),
        ('{"reply":["true"]}', 'proto: (line 1:11): invalid value for bool field reply: "true"'),
        ('{"source_identity":[-1]}', "proto: (line 1:21): invalid value for uint32 field sourceIdentity: -1"),
        ('{"event_type":[{"type":4,"subtype":1}]}', 'proto: (line 1:26): unknown field "subtype"'),
        ('{"verdict":["DROPPED"],"verdict":["ERROR"]}', 'proto: (line 1:24): duplicate field "verdict"'),
        ('{"source_pod":["a"]', "proto: syntax error (line 1:20): unexpected token EOF"),
    ],
)
def test_parse_filter_json_errors(text, message):
    with pytest.raises(FilterError) as exc:
        parse_filter_json(text)
    assert str(exc.value) == message


def test_normalize_filter_keeps_declaration_order():
    ff = normalize_filter({"destination_port": ["80"], "sourcePod": ["x"], "verdict": [2]})
    assert list(ff) == ["source_pod", "verdict", "destination_port"]
    assert ff["verdict"] == ["DROPPED"]
