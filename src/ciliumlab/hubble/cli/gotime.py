"""Go's `time` behaviour the CLI exposes: duration strings, the `--since/--until` layouts and the
`--time-format` layouts, at nanosecond precision.

Flows carry RFC3339 timestamps with nanoseconds and Python's datetime stops at microseconds, so
timestamps are handled as (unix seconds, nanoseconds) pairs here; `RFC3339Nano` output and
millisecond truncation then come out exactly as Go's `Time.Format` does (Go truncates, never rounds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "µs": MICROSECOND, "μs": MICROSECOND,
          "ms": MILLISECOND, "s": SECOND, "m": MINUTE, "h": HOUR}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")


@dataclass(frozen=True, order=True)
class Timestamp:
    """A protobuf Timestamp: seconds since the epoch plus nanoseconds (0..999,999,999)."""

    seconds: int
    nanos: int = 0

    def to_datetime(self) -> datetime:
        """Aware UTC datetime (microsecond precision: the nanoseconds are truncated)."""
        return _EPOCH + timedelta(seconds=self.seconds, microseconds=self.nanos // 1000)

    @classmethod
    def from_datetime(cls, dt: datetime) -> Timestamp:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        delta = dt - _EPOCH
        total_us = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        seconds, us = divmod(total_us, 1_000_000)
        return cls(seconds, us * 1000)


def parse_duration(text: str) -> int:
    """Go `time.ParseDuration` → nanoseconds; ValueError where Go refuses (e.g. `1h43`)."""
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f'time: invalid duration "{text}"')
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m or (not m.group(1) and not m.group(2)):
            raise ValueError(f'time: invalid duration "{text}"')
        number = Fraction(int(m.group(1) or "0"))
        if m.group(2):
            number += Fraction(int(m.group(2)), 10 ** len(m.group(2)))
        total += number * _UNITS[m.group(3)]
        pos = m.end()
    return sign * int(total)


def _fmt_frac(value: int, prec: int) -> str:
    """Digits after the dot as Go prints them: trailing zeros dropped, no dot if all zero."""
    digits = f"{value:0{prec}d}".rstrip("0")
    return "." + digits if digits else ""


def format_duration(ns: int) -> str:
    """Go `Duration.String()`: `1h2m3.5s`, `1m40s`, `500ms`, `0s`."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u < MICROSECOND:
            out = f"{u}ns"
        elif u < MILLISECOND:
            out = f"{u // MICROSECOND}{_fmt_frac(u % MICROSECOND, 3)}µs"
        else:
            out = f"{u // MILLISECOND}{_fmt_frac(u % MILLISECOND, 6)}ms"
    else:
        secs, frac = divmod(u, SECOND)
        out = f"{secs % 60}{_fmt_frac(frac, 9)}s"
        mins = secs // 60
        if mins:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours:
                out = f"{hours}h" + out
    return "-" + out if neg else out


def round_duration(ns: int, unit: int) -> int:
    """Go `Duration.Round(unit)` (halves away from zero)."""
    if unit <= 0:
        return ns
    r = abs(ns) % unit
    base = abs(ns) - r
    if r + r >= unit:
        base += unit
    return -base if ns < 0 else base


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")


def _zone_seconds(zone: str) -> int:
    if zone in ("Z", "z"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    hh, mm = int(zone[1:3]), int(zone[-2:])
    if hh > 23 or mm > 59:
        raise ValueError("bad zone")
    return sign * (hh * 3600 + mm * 60)


def _build(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
           nanos: int = 0, offset: int = 0) -> Timestamp:
    dt = datetime(year, month, day, hour, minute, second, tzinfo=UTC)  # validates ranges
    delta = dt - _EPOCH
    return Timestamp(delta.days * 86400 + delta.seconds - offset, nanos)


def parse_rfc3339(text: str) -> Timestamp:
    """RFC3339 with optional fraction (protojson Timestamp syntax)."""
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"invalid RFC3339 timestamp: {text!r}")
    frac = m.group(7) or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    return _build(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                  int(m.group(6)), nanos, _zone_seconds(m.group(8)))


_ZONE = r"([Zz]|[+-]\d{2}:\d{2})"
_SINCE_LAYOUTS = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "date"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})" + _ZONE + "$"), "hour"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})" + _ZONE + "$"), "minute"),
]
_RFC1123Z = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (" + "|".join(_MONTHS) + r") (\d{4}) (\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d{1,9}))? ([+-])(\d{2})(\d{2})$")


def parse_layouts(text: str) -> Timestamp:
    """The absolute layouts hubble's `FromString` tries, in its order; ValueError if none fits."""
    for regex, kind in _SINCE_LAYOUTS:
        m = regex.match(text)
        if not m:
            continue
        try:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if kind == "date":
                return _build(y, mo, d)
            if kind == "hour":
                return _build(y, mo, d, int(m.group(4)), offset=_zone_seconds(m.group(5)))
            return _build(y, mo, d, int(m.group(4)), int(m.group(5)), offset=_zone_seconds(m.group(6)))
        except ValueError:
            continue
    try:
        return parse_rfc3339(text)
    except ValueError:
        pass
    m = _RFC1123Z.match(text)
    if m:
        try:
            frac = m.group(8) or ""
            offset = (int(m.group(10)) * 3600 + int(m.group(11)) * 60) * (-1 if m.group(9) == "-" else 1)
            return _build(int(m.group(4)), _MONTHS.index(m.group(3)) + 1, int(m.group(2)), int(m.group(5)),
                          int(m.group(6)), int(m.group(7)), int(frac.ljust(9, "0")) if frac else 0, offset)
        except ValueError:
            pass
    raise ValueError(f"failed to convert {text} to time")


def from_string(text: str, now: datetime) -> Timestamp:
    """hubble `time.FromString`: a Go duration before `now`, else one of the absolute layouts."""
    try:
        d = parse_duration(text)
    except ValueError:
        return parse_layouts(text)
    base = Timestamp.from_datetime(now)
    total = base.seconds * SECOND + base.nanos - d
    secs, nanos = divmod(total, SECOND)
    return Timestamp(secs, nanos)


# --time-format names (case-insensitive; unknown → StampMilli, like FormatNameToLayout)
TIME_FORMATS = ["StampMilli", "YearMonthDay", "YearMonthDayHour", "YearMonthDayHourMinute", "RFC3339",
                "RFC3339Milli", "RFC3339Micro", "RFC3339Nano", "RFC1123Z"]


def normalize_time_format(name: str) -> str:
    for known in TIME_FORMATS:
        if known.lower() == name.lower():
            return known
    return "StampMilli"


def format_timestamp(ts: Timestamp | None, layout: str) -> str:
    """`Time.Format(layout)` of a timestamp in UTC; `N/A` for a missing one."""
    if ts is None:
        return "N/A"
    dt = _EPOCH + timedelta(seconds=ts.seconds)
    date = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    clock = f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if layout == "YearMonthDay":
        return date
    if layout == "YearMonthDayHour":
        return f"{date}T{dt.hour:02d}Z"
    if layout == "YearMonthDayHourMinute":
        return f"{date}T{dt.hour:02d}:{dt.minute:02d}Z"
    if layout == "RFC3339":
        return f"{date}T{clock}Z"
    if layout == "RFC3339Milli":
        return f"{date}T{clock}{_fmt_frac(ts.nanos // 1_000_000, 3)}Z"
    if layout == "RFC3339Micro":
        return f"{date}T{clock}{_fmt_frac(ts.nanos // 1000, 6)}Z"
    if layout == "RFC3339Nano":
        return f"{date}T{clock}{_fmt_frac(ts.nanos, 9)}Z"
    if layout == "RFC1123Z":
        return f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year:04d} {clock} +0000"
    return f"{_MONTHS[dt.month - 1]} {dt.day:>2} {clock}.{ts.nanos // 1_000_000:03d}"


def protojson_timestamp(ts: Timestamp) -> str:
    """protojson Timestamp text: RFC3339 UTC with 0, 3, 6 or 9 fractional digits."""
    dt = _EPOCH + timedelta(seconds=ts.seconds)
    base = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    n = ts.nanos
    if n == 0:
        frac = ""
    elif n % 1_000_000 == 0:
        frac = f".{n // 1_000_000:03d}"
    elif n % 1000 == 0:
        frac = f".{n // 1000:06d}"
    else:
        frac = f".{n:09d}"
    return base + frac + "Z"


def timestamp_of(value: object) -> Timestamp | None:
    """Timestamp of a protojson value (string); None when missing or invalid (printed `N/A`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None
