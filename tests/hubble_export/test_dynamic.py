"""The dynamic exporter: flowlogs.yaml reloads, validation, `end`, hubble_dynamic_exporter_* metrics."""

from __future__ import annotations

import hashlib
import json
import textwrap

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ciliumlab.hubble.exporter import DynamicExporter, ExporterConfigError, parse_flowlogs

from .conftest import read_lines

DROPS = """\
  - name: all-drops
    filePath: /var/run/cilium/hubble/drops.log
    fieldMask: [time, source.pod_name, destination.pod_name, verdict, drop_reason_desc]
    includeFilters:
      - verdict: [DROPPED]
"""
NO_DNS = """\
  - name: no-kube-system
    filePath: /var/run/cilium/hubble/flows.log
    excludeFilters:
      - source_pod: ["kube-system/"]
      - destination_pod: ["kube-system/"]
"""


def write_config(path, *entries: str) -> bytes:
    content = ("flowLogs:\n" + "".join(entries)).encode()
    path.write_bytes(content)
    return content


def metrics(registry) -> dict[str, float]:
    out = {}
    for line in generate_latest(registry).decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def md5_hash(content: bytes) -> int:
    return int.from_bytes(hashlib.md5(content).digest()[:8], "little")


@pytest.fixture
def setup(tmp_path, clock):
    config = tmp_path / "flowlog-config" / "flowlogs.yaml"
    config.parent.mkdir()
    root = tmp_path / "node"
    registry = CollectorRegistry()

    def make(*entries: str) -> DynamicExporter:
        write_config(config, *entries)
        return DynamicExporter(config, root=root, node_name="k8s-w1", clock=clock, registry=registry)

    make.config, make.root, make.registry = config, root, registry
    return make


def test_flow_logs_are_added_and_filter_independently(setup, responses, clock):
    dyn = setup(DROPS, NO_DNS)
    assert sorted(dyn.exporters) == ["all-drops", "no-kube-system"]
    for response in responses:
        dyn.export(response)
    assert metrics(setup.registry)['hubble_dynamic_exporter_reconfigurations_total{op="add"}'] == 2
    dyn.close()
    drops = read_lines(setup.root / "var/run/cilium/hubble/drops.log")
    flows = read_lines(setup.root / "var/run/cilium/hubble/flows.log")
    assert len(drops) == sum(r["flow"]["verdict"] == "DROPPED" for r in responses) > 0
    assert all(set(d["flow"]) <= {"time", "source", "destination", "verdict", "drop_reason_desc"} for d in drops)
    assert drops[0]["flow"]["source"] == {"pod_name": "xwing"}
    assert len(flows) == sum("kube-system" not in (r["flow"].get("source", {}).get("namespace"),
                                                   r["flow"].get("destination", {}).get("namespace"))
                             for r in responses)
    assert flows[0]["flow"] == next(r["flow"] for r in responses if r["flow"]["source"].get("namespace") != "kube-system"
                                    and r["flow"].get("destination", {}).get("namespace") != "kube-system")


def test_update_remove_and_unchanged_reloads(setup, responses, clock):
    dyn = setup(DROPS, NO_DNS)
    kept = dyn.exporters["no-kube-system"]
    clock.advance(5)
    assert dyn.reload() is False  # same file: nothing to do
    write_config(setup.config, DROPS.replace("[DROPPED]", "[DROPPED, ERROR]"), NO_DNS)
    assert dyn.reload() is True
    assert dyn.exporters["no-kube-system"] is kept  # untouched
    assert dyn.exporters["all-drops"].config.include_filters == ({"verdict": ["DROPPED", "ERROR"]},)
    write_config(setup.config, DROPS.replace("[DROPPED]", "[DROPPED, ERROR]"))
    assert dyn.reload() is True
    assert list(dyn.exporters) == ["all-drops"] and kept.closed
    for response in responses:
        dyn.export(response)
    assert not (setup.root / "var/run/cilium/hubble/flows.log").exists()
    m = metrics(setup.registry)
    assert m['hubble_dynamic_exporter_reconfigurations_total{op="add"}'] == 2
    assert m['hubble_dynamic_exporter_reconfigurations_total{op="update"}'] == 1
    assert m['hubble_dynamic_exporter_reconfigurations_total{op="remove"}'] == 1
    assert 'hubble_dynamic_exporter_reconfigurations_total{op="failure"}' not in m
    assert m['hubble_dynamic_exporter_exporters_total{status="active"}'] == 1
    assert m['hubble_dynamic_exporter_up{name="all-drops"}'] == 1
    assert m["hubble_dynamic_exporter_config_hash"] == float(md5_hash(setup.config.read_bytes()))
    assert m["hubble_dynamic_exporter_config_last_applied"] == clock.now()


def test_reordered_mask_and_filters_are_not_an_update(setup, clock):
    dyn = setup(DROPS, NO_DNS)
    before = dict(dyn.exporters)
    write_config(setup.config, NO_DNS.replace(
        '      - source_pod: ["kube-system/"]\n      - destination_pod: ["kube-system/"]\n',
        '      - destinationPod: ["kube-system/"]\n      - source_pod: ["kube-system/"]\n'),
        DROPS.replace("[time, source.pod_name,", "[source.pod_name, time,"))
    assert dyn.reload() is False
    assert dyn.exporters == before


@pytest.mark.parametrize(("entries", "message"), [
    ((DROPS, DROPS.replace("drops.log", "other.log")), "duplicated flowlog name all-drops"),
    ((DROPS, NO_DNS.replace("flows.log", "drops.log")), "duplicated flowlog path /var/run/cilium/hubble/drops.log"),
    ((DROPS.replace("name: all-drops", "name: ''"),), "name is required"),
    ((DROPS.replace("    filePath: /var/run/cilium/hubble/drops.log\n", ""),), "filePath is required"),
    ((DROPS.replace("[DROPPED]", "[DROP]"),), 'invalid value for enum field verdict: "DROP"'),
    ((DROPS + "    end: tomorrow\n",), 'parsing time "tomorrow"'),
    ((DROPS, "  - name: [broken\n"), "failed to unmarshal yaml config"),
])
def test_invalid_config_keeps_the_previous_one_and_counts_a_failure(setup, responses, clock, entries, message):
    dyn = setup(DROPS, NO_DNS)
    before = dict(dyn.exporters)
    applied = metrics(setup.registry)["hubble_dynamic_exporter_config_hash"]
    write_config(setup.config, *entries)
    clock.advance(5)
    assert dyn.reload() is False
    assert message in dyn.last_error
    assert dyn.exporters == before
    m = metrics(setup.registry)
    assert m['hubble_dynamic_exporter_reconfigurations_total{op="failure"}'] == 1
    assert m["hubble_dynamic_exporter_config_hash"] == applied
    dyn.export(next(r for r in responses if r["flow"]["verdict"] == "DROPPED"))
    assert len(read_lines(setup.root / "var/run/cilium/hubble/drops.log")) == 1  # still exporting


def test_all_validation_errors_are_reported():
    content = textwrap.dedent("""\
        flowLogs:
          - filePath: /a.log
          - name: x
          - name: x
            filePath: /a.log
        """)
    with pytest.raises(ExporterConfigError) as err:
        parse_flowlogs(content)
    assert str(err.value).splitlines() == [
        "failed to validate config: name is required", "filePath is required",
        "duplicated flowlog name x", "duplicated flowlog path /a.log"]


def test_missing_file_counts_a_failure(tmp_path, clock):
    registry = CollectorRegistry()
    dyn = DynamicExporter(tmp_path / "nope.yaml", root=tmp_path, node_name="k8s-w1", clock=clock, registry=registry)
    assert dyn.exporters == {} and "failed to read config file" in dyn.last_error
    assert metrics(registry) == {'hubble_dynamic_exporter_exporters_total{status="active"}': 0,
                                 'hubble_dynamic_exporter_exporters_total{status="inactive"}': 0,
                                 'hubble_dynamic_exporter_reconfigurations_total{op="failure"}': 1}


def test_invalid_field_mask_skips_only_that_flow_log(setup, clock):
    dyn = setup(DROPS.replace("source.pod_name", "source.pod"), NO_DNS)
    assert list(dyn.exporters) == ["no-kube-system"]
    assert dyn.last_error is None
    assert any('invalid path "source.pod"' in e and "all-drops" in e for e in dyn.errors)
    assert metrics(setup.registry)['hubble_dynamic_exporter_reconfigurations_total{op="add"}'] == 1


def test_end_in_the_past_makes_a_flow_log_inactive(setup, responses, clock):
    dyn = setup(DROPS + '    end: "2025-11-26T08:00:10Z"\n', NO_DNS + "    end: 2024-12-31T23:59:59Z\n")
    m = metrics(setup.registry)
    assert m['hubble_dynamic_exporter_up{name="all-drops"}'] == 1
    assert m['hubble_dynamic_exporter_up{name="no-kube-system"}'] == 0
    assert m['hubble_dynamic_exporter_exporters_total{status="active"}'] == 1
    assert m['hubble_dynamic_exporter_exporters_total{status="inactive"}'] == 1
    drop = next(r for r in responses if r["flow"]["verdict"] == "DROPPED")
    dyn.export(drop)
    assert not (setup.root / "var/run/cilium/hubble/flows.log").exists()
    assert len(read_lines(setup.root / "var/run/cilium/hubble/drops.log")) == 1
    clock.advance(10)  # 08:00:10 reached: the drops log ends too
    dyn.export(drop)
    assert len(read_lines(setup.root / "var/run/cilium/hubble/drops.log")) == 1
    m = metrics(setup.registry)
    assert m['hubble_dynamic_exporter_up{name="all-drops"}'] == 0
    assert m['hubble_dynamic_exporter_exporters_total{status="inactive"}'] == 2


def test_stdout_flow_log_and_poll_interval(tmp_path, clock, responses):
    config = tmp_path / "flowlogs.yaml"
    config.write_text("flowLogs:\n  - name: out\n    filePath: stdout\n    includeFilters: [{verdict: [DROPPED]}]\n")
    out: list[str] = []
    dyn = DynamicExporter(config, root=tmp_path / "node", node_name="k8s-w1", clock=clock, stdout=out.append)
    for response in responses:
        dyn.export(response)
    assert out and {json.loads(line)["flow"]["verdict"] for line in out} == {"DROPPED"}
    config.write_text("flowLogs: []\n")
    clock.advance(4.9)
    assert dyn.poll() is False and "out" in dyn.exporters  # polled every 5 s
    clock.advance(0.1)
    assert dyn.poll() is True and dyn.exporters == {}


def test_per_flow_log_rotation_settings(tmp_path, clock):
    configs = parse_flowlogs(DROPS.join(["flowLogs:\n", ""]) + "    fileMaxSizeMb: 1\n    fileMaxBackups: 2\n"
                             "    fileCompress: true\n")
    config = configs["all-drops"]
    assert (config.max_size_mb, config.max_backups, config.file_compress) == (1, 2, True)
    defaults = parse_flowlogs("flowLogs:\n" + NO_DNS)["no-kube-system"]
    assert (defaults.max_size_mb, defaults.max_backups, defaults.file_compress) == (10, 5, False)


def test_close_unregisters_metrics(setup):
    dyn = setup(DROPS)
    dyn.close()
    assert metrics(setup.registry) == {}
    setup(DROPS).close()  # a restarted agent can register again
