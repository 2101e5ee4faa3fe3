"""Go behaviours the CLI depends on: durations, time layouts, tabwriter blocks."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.cli.gotime import format_duration, parse_duration, parse_layouts, parse_rfc3339
from ciliumlab.tabwriter import TabWriter


@pytest.mark.parametrize(("text", "ns"), [("3s", 3_000_000_000), ("4m", 240_000_000_000),
                                          ("1h43m", 6_180_000_000_000), ("1.5h", 5_400_000_000_000),
                                          ("250ms", 250_000_000), ("0", 0), ("-2s", -2_000_000_000)])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["1h43", "", "h", "3", "1d"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(("ns", "text"), [(0, "0s"), (100_000_000_000, "1m40s"), (7_985_000_000_000, "2h13m5s"),
                                          (1_500_000_000, "1.5s"), (2_000_000, "2ms"), (1500, "1.5µs")])
def test_format_duration(ns, text):
    assert format_duration(ns) == text


def test_layouts_and_nanos():
    assert parse_rfc3339("2023-10-06T10:42:01.345678901Z").nanos == 345678901
    assert parse_layouts("2024-01-02T03:04Z") == parse_layouts("2024-01-02T03:04:00Z")
    with pytest.raises(ValueError):
        parse_layouts("Jan  2 15:04:05.000")  # StampMilli is printable but not parseable


def test_tabwriter_blocks_and_untabbed_lines_flush():
    tw = TabWriter()
    tw.write("a\tbb\tc\nlonger\tx\ty\n")
    tw.write("no tabs here\n")
    tw.write("z\tq\n")
    assert tw.flush() == "a        bb   c\nlonger   x    y\nno tabs here\nz   q\n"
