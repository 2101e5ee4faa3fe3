"""Event-driven counters and histograms, exposed through a Collector.

prometheus_client's own Counter/Histogram would add `_created` series that client_golang does
not have (and switching them off is process-wide), so the values live here and collectors turn
them into metric families at scrape time. Thread-safe: the served lab scrapes from a server
thread while the lab's thread counts.
"""

from __future__ import annotations

import bisect
import math
import threading

from . import catalog


class CounterVec:
    """A counter with labels; `preset` label tuples are exposed at 0 before any increment
    (Cilium's `NewCounterVecWithLabels`)."""

    def __init__(self, name: str, preset: tuple[tuple[str, ...], ...] = ()) -> None:
        self.name = name
        self.spec = catalog.ALL[name]
        self._values: dict[tuple[str, ...], float] = {tuple(p): 0.0 for p in preset}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        key = tuple(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(tuple(labels), 0.0)

    def family(self):
        fam = catalog.family(self.name)
        with self._lock:
            rows = sorted(self._values.items())
        for labels, value in rows:
            fam.add_metric(list(labels), value)
        return fam


class HistogramVec:
    """A histogram with labels (cumulative buckets are computed at scrape time)."""

    def __init__(self, name: str, preset: tuple[tuple[str, ...], ...] = ()) -> None:
        self.name = name
        self.spec = catalog.ALL[name]
        self.bounds = tuple(self.spec.buckets)
        self._data: dict[tuple[str, ...], list] = {}
        self._lock = threading.Lock()
        for p in preset:
            self._data[tuple(p)] = [[0] * (len(self.bounds) + 1), 0.0]

    def observe(self, *labels: str, value: float, count: int = 1) -> None:
        """`count` identical observations of `value`."""
        if count <= 0:
            return
        key = tuple(labels)
        slot = bisect.bisect_left(self.bounds, value)  # first bucket with value <= bound
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                entry = self._data[key] = [[0] * (len(self.bounds) + 1), 0.0]
            entry[0][slot] += count
            entry[1] += value * count

    def count(self, *labels: str) -> int:
        entry = self._data.get(tuple(labels))
        return sum(entry[0]) if entry else 0

    def family(self):
        fam = catalog.family(self.name)
        with self._lock:
            rows = sorted((k, (list(v[0]), v[1])) for k, v in self._data.items())
        for labels, (counts, total) in rows:
            buckets, running = [], 0
            for bound, n in zip((*self.bounds, math.inf), counts, strict=True):
                running += n
                buckets.append(("+Inf" if bound == math.inf else bucket_label(bound), running))
            fam.add_metric(list(labels), buckets, total)
        return fam


def bucket_label(bound: float) -> str:
    """Bucket bound as Go prints it (`0.005`, `1`, `10`)."""
    return repr(float(bound)).removesuffix(".0") if float(bound).is_integer() else repr(float(bound))


def zero_series(name: str, labels: list[str]):
    """A family with one zero-valued series (a placeholder for what the lab does not run)."""
    fam = catalog.family(name)
    if catalog.ALL[name].type == catalog.HISTOGRAM:
        buckets = [(bucket_label(b), 0) for b in catalog.ALL[name].buckets] + [("+Inf", 0)]
        fam.add_metric(labels, buckets, 0.0)
    else:
        fam.add_metric(labels, 0.0)
    return fam
