"""Rotation with lumberjack semantics, at 10,000 flows/s of (lab) time."""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
from datetime import UTC, datetime

import pytest

from ciliumlab.hubble.exporter import RotateError, RotatingFile, StaticExporter

from .conftest import EVENTS_LOG, node_file, restamp

MIB = 1024 * 1024
BACKUP = re.compile(r"events-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})\.log(\.gz)?")


def stream(responses, clock, count, step=1e-4):
    """`count` flows at 1/step flows per second of lab time, each stamped with the clock."""
    for n in range(count):
        clock.advance(step)
        yield restamp(responses[n % len(responses)], clock.now(), n)


def name_time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%S.%f").replace(tzinfo=UTC)


def flow_time(line: dict) -> datetime:
    return datetime.strptime(line["time"][:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def read_log(path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode()


def files_in_order(directory):
    """Backups by the time in their name (oldest first), then the current file."""
    backups = sorted((BACKUP.fullmatch(p.name).group(1), p) for p in directory.iterdir() if p.name != "events.log")
    return [p for _, p in backups] + [directory / "events.log"]


@pytest.mark.parametrize("compress", [False, True])
def test_rotation_at_10000_flows_per_second_loses_no_line_but_deleted_backups(responses, tmp_path, clock, compress):
    data = {"hubble-export-file-path": EVENTS_LOG, "hubble-export-file-max-size-mb": "1",
            "hubble-export-file-max-backups": "3", "hubble-export-file-compress": str(compress).lower()}
    exporter = StaticExporter.from_config(data, root=tmp_path, node_name="k8s-w1", clock=clock)
    written = []
    for response in stream(responses, clock, 6000):  # ≈ 9 MiB of full flows in 0.6 s of lab time
        exporter.export(response)
        written.append(response["flow"]["uuid"])
    exporter.close()
    assert exporter.failed == 0 and exporter.exported == len(written)

    directory = node_file(tmp_path).parent
    names = sorted(p.name for p in directory.iterdir())
    assert all(BACKUP.fullmatch(n) for n in names if n != "events.log"), names
    assert not any(n.endswith(".tmp") for n in names)
    backups = [n for n in names if n != "events.log"]
    assert len(backups) == 3  # max-backups: the oldest ones were deleted
    assert all(n.endswith(".log.gz") == compress for n in backups)

    files = files_in_order(directory)
    lines_per_file = []
    for path in files:
        text = read_log(path)
        assert text.endswith("\n")  # no partial line anywhere
        if not path.name.endswith(".gz"):
            assert path.stat().st_size <= MIB
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        lines_per_file.append([json.loads(line) for line in text.splitlines()])
        assert len(text.encode()) <= MIB
        assert len(text.encode()) + 2000 > MIB or path.name == "events.log"  # rotated only when full

    kept = [line["flow"]["uuid"] for lines in lines_per_file for line in lines]
    # What is left is exactly the newest flows, in order: current + backups = written - deleted.
    assert kept == written[len(written) - len(kept):]
    deleted = len(written) - len(kept)
    assert 0 < deleted < len(written)

    # Each backup is named after the (UTC, lab clock) time of the rotation: the time of the
    # write that did not fit, i.e. of the first flow of the next file, truncated to the ms.
    for path, following in zip(files[:-1], lines_per_file[1:], strict=True):
        stamp = name_time(BACKUP.fullmatch(path.name).group(1))
        first_next = flow_time(following[0])
        assert stamp == first_next.replace(microsecond=first_next.microsecond // 1000 * 1000)


def test_rotated_gzip_files_read_back_completely(responses, tmp_path, clock):
    data = {"hubble-export-file-path": EVENTS_LOG, "hubble-export-file-max-size-mb": "1",
            "hubble-export-file-max-backups": "5", "hubble-export-file-compress": "true"}
    exporter = StaticExporter.from_config(data, root=tmp_path, node_name="k8s-w1", clock=clock)
    written = []
    for response in stream(responses, clock, 2000):
        exporter.export(response)
        written.append(response["flow"]["uuid"])
    exporter.close()
    files = files_in_order(node_file(tmp_path).parent)
    assert len(files) >= 3 and all(f.name.endswith(".log.gz") for f in files[:-1])
    kept = [json.loads(line)["flow"]["uuid"] for f in files for line in read_log(f).splitlines()]
    assert kept == written  # nothing deleted yet: every flow is in one of the files
    with gzip.open(files[0], "rt") as fh:  # a plain gzip stream, readable by zcat
        assert json.loads(fh.readline())["flow"]["uuid"] == written[0]


def test_a_file_never_exceeds_the_maximum(tmp_path, clock):
    writer = RotatingFile(tmp_path / "events.log", clock=clock, max_size_mb=1, max_backups=0)
    line = b"x" * 999 + b"\n"
    for _ in range(MIB // 1000):  # 1048 lines fit exactly in 1 MiB minus 576 bytes
        writer.write(line)
    assert writer.rotations == 0 and writer.size == (MIB // 1000) * 1000
    writer.write(b"y" * 575 + b"\n")  # fills it to exactly 1 MiB
    assert writer.rotations == 0 and (tmp_path / "events.log").stat().st_size == MIB
    clock.advance(1.5)
    writer.write(b"z\n")
    assert writer.rotations == 1 and (tmp_path / "events.log").read_bytes() == b"z\n"
    backup = tmp_path / f"events-{datetime.fromtimestamp(clock.now(), UTC):%Y-%m-%dT%H-%M-%S}.500.log"
    assert backup.stat().st_size == MIB
    writer.close()


def test_a_line_larger_than_the_maximum_is_refused_like_lumberjack(tmp_path, clock):
    writer = RotatingFile(tmp_path / "events.log", clock=clock, max_size_mb=1)
    with pytest.raises(RotateError, match=f"write length {MIB + 1} exceeds maximum file size {MIB}"):
        writer.write(b"x" * (MIB + 1))
    assert not (tmp_path / "events.log").exists()


def test_an_existing_full_file_is_rotated_when_first_opened(tmp_path, clock):
    path = tmp_path / "events.log"
    path.write_bytes(b"a" * (MIB - 10) + b"\n")
    writer = RotatingFile(path, clock=clock, max_size_mb=1)
    writer.write(b"0123456789\n")  # existing size + write >= max: rotate first
    writer.close()
    assert path.read_bytes() == b"0123456789\n"
    assert len(list(tmp_path.iterdir())) == 2


def test_old_backups_beyond_max_are_removed_on_first_open(tmp_path, clock):
    for stamp in ("2025-01-01T00-00-00.000", "2025-01-02T00-00-00.000", "2025-01-03T00-00-00.000"):
        (tmp_path / f"events-{stamp}.log").write_text("old\n")
    (tmp_path / "events-not-a-backup.log").write_text("keep\n")
    writer = RotatingFile(tmp_path / "events.log", clock=clock, max_size_mb=1, max_backups=1)
    writer.write(b"new\n")
    writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events-2025-01-03T00-00-00.000.log", "events-not-a-backup.log", "events.log"]


def test_rotations_while_the_lab_clock_stands_still_keep_every_backup(tmp_path, clock):
    writer = RotatingFile(tmp_path / "events.log", clock=clock, max_size_mb=1, max_backups=0)
    chunk = b"x" * (MIB // 2 - 1) + b"\n"
    for _ in range(8):  # 3 rotations at the same lab time
        writer.write(chunk)
    writer.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["events-2025-11-26T08-00-00.000.log", "events-2025-11-26T08-00-00.001.log",
                     "events-2025-11-26T08-00-00.002.log", "events.log"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) == 8 * len(chunk)
