"""Exported files read back with `hubble observe --input-file`: nothing lost, nothing changed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ciliumlab.hubble.cli import hubble
from ciliumlab.hubble.exporter import DynamicExporter, StaticExporter

from .conftest import EVENTS_LOG, node_file, restamp, seed_config


def observe(*args: str, input: str | None = None):
    res = CliRunner().invoke(hubble, ["observe", *args], input=input,
                             env={"HOME": "/nonexistent", "HUBBLE_COMPAT": ""})
    assert res.exit_code == 0, res.output
    return res


def test_rotated_files_read_back_with_nothing_lost(responses, tmp_path, clock):
    data = {"hubble-export-file-path": EVENTS_LOG, "hubble-export-file-max-size-mb": "1",
            "hubble-export-file-max-backups": "10"}
    exporter = StaticExporter.from_config(data, root=tmp_path, node_name="k8s-w1", clock=clock)
    written = []
    for n in range(1500):
        clock.advance(1e-4)
        response = restamp(responses[n % len(responses)], clock.now(), n)
        exporter.export(response)
        written.append(response)
    exporter.close()
    files = sorted(node_file(tmp_path).parent.iterdir(), key=lambda p: (p.name == "events.log", p.name))
    assert len(files) >= 2  # rotated at least once
    out = []
    for path in files:
        res = observe("--input-file", str(path), "-o", "json")
        assert res.output == path.read_text()  # byte for byte what hubble prints
        out += [json.loads(line) for line in res.output.splitlines()]
    assert [line["flow"] for line in out] == [r["flow"] for r in written]
    assert [line["node_name"] for line in out] == [r["flow"]["node_name"] for r in written]
    # all files at once through stdin, as `cat events-*.log events.log | hubble observe --input-file -`
    res = observe("--input-file", "-", "-o", "json", input="".join(p.read_text() for p in files))
    assert len(res.output.splitlines()) == len(written)


def test_seed_export_reads_back_and_filters_again(responses, tmp_path, clock):
    exporter = StaticExporter.from_config(seed_config(), root=tmp_path, node_name="k8s-w1", clock=clock)
    for response in responses:
        exporter.export(response)
    exporter.close()
    path = node_file(tmp_path)
    res = observe("--input-file", str(path), "-o", "json")
    assert res.output == path.read_text()
    assert len(res.output.splitlines()) == exporter.exported > 0
    res = observe("--input-file", str(path), "--from-pod", "default/xwing", "--verdict", "DROPPED")
    assert len(res.output.splitlines()) == exporter.exported
    assert "default/xwing" in res.output and "DROPPED" in res.output
    assert observe("--input-file", str(path), "--verdict", "FORWARDED").output == ""


def test_dynamic_flow_log_reads_back(responses, tmp_path, clock):
    config = tmp_path / "flowlogs.yaml"
    config.write_text("flowLogs:\n  - name: all\n    filePath: /var/run/cilium/hubble/all.log\n")
    dyn = DynamicExporter(config, root=tmp_path / "node", node_name="k8s-w1", clock=clock)
    for response in responses:
        dyn.export(response)
    dyn.close()
    res = observe("--input-file", str(tmp_path / "node/var/run/cilium/hubble/all.log"), "-o", "json")
    assert [json.loads(line)["flow"] for line in res.output.splitlines()] == [r["flow"] for r in responses]
