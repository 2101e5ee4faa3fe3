"""The static exporter configured from cilium-config (the seed's hubble.export.static values)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ciliumlab.hubble.exporter import ExporterConfigError, StaticExporter

from .conftest import EVENTS_LOG, SEED_DENYLIST, node_file, read_lines, seed_config

SEED_FIELDS = {"time", "source", "destination", "l4", "IP", "node_name", "is_reply", "verdict",
                           "drop_reason_desc"}


def export_all(data, responses, root, clock, **kw):
    exporter = StaticExporter.from_config(data, root=root, node_name="k8s-w1", clock=clock, **kw)
    for response in responses:
        exporter.export(response)
    exporter.close()
    return exporter


def in_kube_system(flow):
    return "kube-system" in (flow.get("source", {}).get("namespace"), flow.get("destination", {}).get("namespace"))


def test_disabled_when_the_path_is_empty(tmp_path, clock):
    assert StaticExporter.from_config(seed_config(**{"hubble-export-file-path": ""}), root=tmp_path,
                                      node_name="k8s-w1", clock=clock) is None
    assert StaticExporter.from_config({}, root=tmp_path, node_name="k8s-w1", clock=clock) is None


def test_seed_config_exports_only_drops_with_the_masked_fields(responses, tmp_path, clock):
    export_all(seed_config(), responses, tmp_path, clock)
    path = node_file(tmp_path)
    assert path == tmp_path / "var/run/cilium/hubble/events.log"
    lines = read_lines(path)
    drops = [r["flow"] for r in responses if r["flow"]["verdict"] in ("DROPPED", "ERROR") and not in_kube_system(r["flow"])]
    assert len(lines) == len(drops) > 0
    for line, flow in zip(lines, drops, strict=True):
        assert set(line["flow"]) <= SEED_FIELDS
        assert line["flow"]["verdict"] == "DROPPED"
        assert line["flow"]["drop_reason_desc"] == "POLICY_DENIED"
        assert line["flow"]["source"] == {"namespace": "default", "pod_name": "xwing"}
        assert set(line["flow"]["destination"]) == {"namespace", "pod_name"}
        assert line["flow"]["IP"] == flow["IP"] and line["flow"]["l4"] == flow["l4"]
        assert "uuid" not in line["flow"] and "Summary" not in line["flow"] and "labels" not in line["flow"]["source"]
        assert line["node_name"] == flow["node_name"] and line["time"] == flow["time"]


def test_seed_denylist_drops_kube_system_traffic(responses, tmp_path, clock):
    data = seed_config(**{"hubble-export-allowlist": "", "hubble-export-fieldmask": ""})
    export_all(data, responses, tmp_path, clock)
    lines = read_lines(node_file(tmp_path))
    expected = [r["flow"] for r in responses if not in_kube_system(r["flow"])]
    assert any(in_kube_system(r["flow"]) for r in responses)  # there was DNS traffic to drop
    assert [line["flow"] for line in lines] == expected


def test_seed_allowlist_alone_keeps_every_drop(responses, tmp_path, clock):
    data = seed_config(**{"hubble-export-denylist": "", "hubble-export-fieldmask": ""})
    export_all(data, responses, tmp_path, clock)
    lines = read_lines(node_file(tmp_path))
    assert [line["flow"]["uuid"] for line in lines] == [
        r["flow"]["uuid"] for r in responses if r["flow"]["verdict"] in ("DROPPED", "ERROR")]


def test_whitespace_separated_lists_as_the_1_19_chart_writes_them(responses, tmp_path, clock):
    data = seed_config(**{"hubble-export-denylist": SEED_DENYLIST.replace("},{", "} {"),
                          "hubble-export-allowlist": "", "hubble-export-fieldmask": ""})
    export_all(data, responses, tmp_path, clock)
    assert not any(in_kube_system(line["flow"]) for line in read_lines(node_file(tmp_path)))


def test_no_filters_no_mask_exports_every_flow_unchanged(responses, tmp_path, clock):
    export_all({"hubble-export-file-path": EVENTS_LOG}, responses, tmp_path, clock)
    lines = read_lines(node_file(tmp_path))
    assert lines == [{"flow": r["flow"], "node_name": r["flow"]["node_name"], "time": r["flow"]["time"]}
                     for r in responses]


def test_file_is_created_empty_at_start_with_mode_0600(responses, tmp_path, clock):
    exporter = StaticExporter.from_config(seed_config(), root=tmp_path, node_name="k8s-w1", clock=clock)
    path = node_file(tmp_path)
    # lumberjack opens it on the first write, which a real node makes at once; the lab creates
    # it at start so `tail -f` finds it on a quiet node
    assert path.exists() and path.stat().st_size == 0
    exporter.export(next(r for r in responses if r["flow"]["verdict"] == "FORWARDED"))
    assert path.stat().st_size == 0  # filtered out: nothing written
    exporter.export(next(r for r in responses if r["flow"]["verdict"] == "DROPPED"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o755
    assert len(read_lines(path)) == 1
    exporter.close()


def test_an_existing_file_is_appended_to_after_a_restart(responses, tmp_path, clock):
    drops = [r for r in responses if r["flow"]["verdict"] == "DROPPED"]
    export_all(seed_config(), drops, tmp_path, clock)
    export_all(seed_config(), drops, tmp_path, clock)
    assert len(read_lines(node_file(tmp_path))) == 2 * len(drops)
    assert list(node_file(tmp_path).parent.iterdir()) == [node_file(tmp_path)]


def test_stdout_target_writes_complete_lines_to_the_callable(responses, tmp_path, clock):
    out: list[str] = []
    exporter = export_all(seed_config(**{"hubble-export-file-path": "stdout"}), responses, tmp_path, clock,
                          stdout=out.append)
    assert exporter.file is None and not any(tmp_path.iterdir())
    assert out and all(chunk.endswith("\n") and chunk.count("\n") == 1 for chunk in out)
    assert {json.loads(chunk)["flow"]["verdict"] for chunk in out} == {"DROPPED"}


def test_seed_fieldmask_list_produces_only_those_fields(responses, tmp_path, clock):
    data = {"hubble-export-file-path": EVENTS_LOG, "hubble-export-fieldmask": seed_config()["hubble-export-fieldmask"]}
    export_all(data, responses, tmp_path, clock)
    lines = read_lines(node_file(tmp_path))
    assert len(lines) == len(responses)
    seen = set()
    for line in lines:
        flow = line["flow"]
        seen |= set(flow)
        assert set(flow) <= SEED_FIELDS
        for side in ("source", "destination"):
            assert set(flow.get(side, {})) <= {"namespace", "pod_name"}
    assert {"time", "verdict", "IP", "l4", "node_name", "source", "destination"} <= seen


@pytest.mark.parametrize(("key", "value", "message"), [
    ("hubble-export-allowlist", '{"verdict":["DROPED"]}',
     'failed to parse allowlist: failed to decode flow filters "{\\"verdict\\":[\\"DROPED\\"]}": '
     'proto: (line 1:13): invalid value for enum field verdict: "DROPED"'),
    ("hubble-export-allowlist", '{"source_pods":["x/"]}', 'unknown field "source_pods"'),
    ("hubble-export-denylist", '{"source_pod":["kube-system/"]', "failed to parse denylist"),
    ("hubble-export-denylist", '["kube-system/"]', "unexpected character '[' looking for beginning of object"),
    ("hubble-export-fieldmask", "time source.pod source.namespace",
     "hubble-exporter configuration error: hubble-export-fieldmask contains invalid fieldmask "
     "'[time source.pod source.namespace]': proto: invalid path \"source.pod\" for message \"flow.Flow\""),
    ("hubble-export-fieldmask", "time Verdict", 'invalid path "Verdict"'),
    ("hubble-export-file-max-size-mb", "ten", "hubble-export-file-max-size-mb"),
    ("hubble-export-file-compress", "yes", "hubble-export-file-compress"),
])
def test_invalid_configuration_is_refused_with_a_clear_error(tmp_path, clock, key, value, message):
    with pytest.raises(ExporterConfigError) as err:
        StaticExporter.from_config(seed_config(**{key: value}), root=tmp_path, node_name="k8s-w1", clock=clock)
    assert message in str(err.value)
    assert not any(tmp_path.iterdir())


def test_lost_events_pass_a_denylist_but_not_an_allowlist(tmp_path, clock):
    lost = {"lost_events": {"source": "HUBBLE_RING_BUFFER", "num_events_lost": "3"}, "time": "2025-11-26T08:00:05Z"}
    export_all(seed_config(), [lost], tmp_path / "a", clock)
    assert node_file(tmp_path / "a").stat().st_size == 0
    export_all(seed_config(**{"hubble-export-allowlist": ""}), [lost], tmp_path / "b", clock)
    assert read_lines(node_file(tmp_path / "b")) == [{**lost, "node_name": "k8s-w1"}]


def test_concurrent_exports_write_whole_lines(responses, tmp_path, clock):
    import threading

    data = {"hubble-export-file-path": EVENTS_LOG, "hubble-export-file-max-size-mb": "1",
            "hubble-export-file-max-backups": "0"}
    exporter = StaticExporter.from_config(data, root=tmp_path, node_name="k8s-w1", clock=clock)

    def run(offset):
        for n in range(400):
            exporter.export(responses[(n + offset) % len(responses)])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exporter.close()
    lines = [line for path in node_file(tmp_path).parent.iterdir() for line in read_lines(path)]
    assert len(lines) == exporter.exported == 1600
    assert len(list(node_file(tmp_path).parent.iterdir())) >= 2
