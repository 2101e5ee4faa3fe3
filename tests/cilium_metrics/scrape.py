"""Reading an exposition the way a Prometheus server would (prometheus_client's text parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(body: bytes | str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample: (sample name, labels, value)."""
    text = body.decode() if isinstance(body, bytes) else body
    return [(s.name, dict(s.labels), s.value) for fam in text_string_to_metric_families(text) for s in fam.samples]


def families(body: bytes | str) -> dict[str, str]:
    """Family name -> type (counters are named without `_total` by the parser)."""
    text = body.decode() if isinstance(body, bytes) else body
    return {fam.name: fam.type for fam in text_string_to_metric_families(text)}


def value(body: bytes | str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` whose labels are exactly `labels`, or None."""
    for sample, sample_labels, v in samples(body):
        if sample == name and sample_labels == labels:
            return v
    return None


def series(body: bytes | str, name: str) -> dict[tuple, float]:
    """All samples of `name`: sorted label items -> value."""
    return {tuple(sorted(lbls.items())): v for sample, lbls, v in samples(body) if sample == name}


def sample_names(body: bytes | str) -> set[str]:
    return {name for name, _labels, _v in samples(body)}
