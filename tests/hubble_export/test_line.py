"""The line format of exported events (Go json.Encoder of observerpb.ExportEvent)."""

from __future__ import annotations

import json

from ciliumlab.hubble.exporter import StaticExporter, encode_line, export_event, go_json

from .conftest import node_file


def test_line_is_compact_json_with_envelope_order_and_newline(responses):
    response = responses[0]
    line = encode_line(export_event(response))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    text = line.decode()
    assert ": " not in text and ", " not in text.replace('", "', "")  # compact
    event = json.loads(text)
    assert list(event) == ["flow", "node_name", "time"]
    assert event["flow"] == response["flow"]
    assert list(event["flow"]) == list(response["flow"])  # the flow keeps its field order
    assert event["node_name"] == response["flow"]["node_name"]
    assert event["time"] == response["flow"]["time"]
    assert text.startswith('{"flow":{"time":"')


def test_html_characters_and_line_separators_are_escaped_like_go():
    flow = {"time": "2025-11-26T08:00:00Z", "verdict": "FORWARDED", "node_name": "k8s-w1",
            "l7": {"type": "REQUEST", "http": {"method": "GET", "url": "http://a/?x=1&y=<b>\u2028\u2029"}},
            "Summary": "é ✓"}
    line = encode_line(export_event({"flow": flow}))
    assert (b'"url":"http://a/?x=1\\u0026y=\\u003cb\\u003e\\u2028\\u2029"') in line
    assert "é ✓".encode() in line  # non-ASCII stays UTF-8, as Go writes it
    assert json.loads(line)["flow"] == flow
    assert go_json({"a": 'q"\\\n\t\x01'}) == '{"a":"q\\"\\\\\\n\\t\\u0001"}'


def test_envelope_time_and_node_come_from_the_masked_flow(responses, tmp_path, clock):
    data = {"hubble-export-file-path": "/var/run/cilium/hubble/events.log",
            "hubble-export-fieldmask": "verdict source.pod_name"}
    exporter = StaticExporter.from_config(data, root=tmp_path, node_name="k8s-w1", clock=clock)
    exporter.export(responses[0])
    exporter.close()
    (line,) = node_file(tmp_path).read_text().splitlines()
    # Cilium builds the envelope from the masked flow: without time/node_name it has neither.
    assert list(json.loads(line)) == ["flow"]


def test_lost_events_use_the_agent_node_and_event_time():
    response = {"lost_events": {"source": "HUBBLE_RING_BUFFER", "num_events_lost": "12"},
                "time": "2025-11-26T08:00:03Z"}
    line = encode_line(export_event(response, node_name="k8s-w2"))
    assert line == (b'{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"12"},'
                    b'"node_name":"k8s-w2","time":"2025-11-26T08:00:03Z"}\n')
    assert export_event({"node_status": {"state_change": "NODE_CONNECTED"}}) is None
