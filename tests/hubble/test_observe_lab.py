"""`hubble observe` against the embedded Star Wars lab: the seed's lines, via lab.observe/hubble_observe."""

from __future__ import annotations

import json
import re

import pytest

from ciliumlab import Lab
from tests.conftest import shared_fixture

LANDING = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
EXHAUST = "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"
URL = "http://deathstar.default.svc.cluster.local"
TIME = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{3}"
TIE = r"default/tiefighter:\d+ \(ID:\d+\)"
DS = r"default/deathstar-[a-z0-9]+-[a-z0-9]{5}:80 \(ID:\d+\)"


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    lab.apply(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
    lab.exec("tiefighter", LANDING)
    lab.exec("tiefighter", EXHAUST)
    lab.exec("xwing", LANDING + " --connect-timeout 2")
    return lab


def test_http_flows_of_deathstar(lab: Lab) -> None:
    lines = lab.hubble_observe("--pod", "deathstar", "--protocol", "http").splitlines()
    assert len(lines) == 4
    assert re.fullmatch(rf"{TIME}: {TIE} -> {DS} http-request FORWARDED \(HTTP/1\.1 POST {URL}/v1/request-landing\)",
                        lines[0]), lines[0]
    assert re.fullmatch(rf"{TIME}: {TIE} <- {DS} http-response FORWARDED \(HTTP/1\.1 200 \d+ms \(POST {URL}"
                        r"/v1/request-landing\)\)", lines[1]), lines[1]
    assert re.fullmatch(rf"{TIME}: {TIE} -> {DS} http-request DROPPED \(HTTP/1\.1 PUT {URL}/v1/exhaust-port\)",
                        lines[2]), lines[2]
    assert re.fullmatch(rf"{TIME}: {TIE} <- {DS} http-response FORWARDED \(HTTP/1\.1 403 \d+ms \(PUT {URL}"
                        r"/v1/exhaust-port\)\)", lines[3]), lines[3]


def test_dropped_flows_of_deathstar(lab: Lab) -> None:
    out = lab.hubble_observe("--pod", "deathstar", "--verdict", "DROPPED")
    xwing = r"default/xwing:\d+ \(ID:\d+\)"
    drops = [line for line in out.splitlines() if "Policy denied DROPPED" in line]
    assert drops and all(re.fullmatch(rf"{TIME}: {xwing} <> {DS} Policy denied DROPPED \(TCP Flags: SYN\)", d)
                         for d in drops), drops
    assert any(re.fullmatch(rf"{TIME}: {TIE} -> {DS} http-request DROPPED \(HTTP/1\.1 PUT {URL}/v1/exhaust-port\)",
                            line) for line in out.splitlines())


def test_embedded_observe_returns_json_flows(lab: Lab) -> None:
    flows = lab.observe("--pod", "xwing", "--verdict", "DROPPED", "--type", "drop")
    assert flows and all(f["verdict"] == "DROPPED" and f["drop_reason_desc"] == "POLICY_DENIED" for f in flows)
    assert all(f["source"]["pod_name"] == "xwing" for f in flows)
    raw = lab.hubble_observe("--pod", "xwing", "--verdict", "DROPPED", "--type", "drop", "-o", "json")
    lines = raw.splitlines()
    assert [json.loads(line)["flow"]["uuid"] for line in lines] == [f["uuid"] for f in flows]
    assert all(set(json.loads(line)) == {"flow", "node_name", "time"} for line in lines)


def test_from_identity_and_last(lab: Lab) -> None:
    xwing_id = lab.get("cep", "xwing")["status"]["identity"]["id"]
    flows = lab.observe("--from-identity", str(xwing_id), "--last", "3")
    assert 0 < len(flows) <= 3 * len(lab.nodes)  # --last applies per node through the relay
    assert all(f["source"]["identity"] == xwing_id for f in flows)
    assert [f["time"] for f in flows] == sorted(f["time"] for f in flows)


def test_bad_flags_give_the_cli_error(lab: Lab) -> None:
    with pytest.raises(ValueError, match="invalid --verdict value: FOO"):
        lab.observe("--verdict", "FOO")
    with pytest.raises(ValueError, match="cannot set both --first and --last"):
        lab.observe("--first", "2", "--last", "2")


def test_print_raw_filters(lab: Lab) -> None:
    assert lab.hubble_observe("--pod", "xwing", "-t", "trace:to-endpoint", "--print-raw-filters") == (
        "allowlist:\n"
        "    - '{\"source_pod\":[\"xwing\"],\"event_type\":[{\"type\":4,\"match_sub_type\":true}]}'\n"
        "    - '{\"destination_pod\":[\"xwing\"],\"event_type\":[{\"type\":4,\"match_sub_type\":true}]}'\n")
