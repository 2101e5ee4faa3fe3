"""/metrics bodies: content negotiation as promhttp does it, and the registry rendered the way
client_golang shows it (families sorted by name, series sorted by labels, no `_created` series,
exemplars only in OpenMetrics)."""

from __future__ import annotations

from prometheus_client import exposition as text_format
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as om_format

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text"


def _parse_accept(header: str) -> list[tuple[str, dict[str, str]]]:
    """Media ranges with their parameters, highest q first (ties keep header order)."""
    ranges = []
    for i, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        params = {}
        for f in fields[1:]:
            k, _, v = f.partition("=")
            params[k.strip().lower()] = v.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        if q > 0:
            ranges.append((-q, i, fields[0].lower(), params))
    ranges.sort(key=lambda r: (r[0], r[1]))
    return [(media, params) for _, _, media, params in ranges]


def negotiate(accept: str, open_metrics: bool) -> str | None:
    """The OpenMetrics version to serve ("1.0.0"/"0.0.1"), or None for the text format
    (expfmt.NegotiateIncludingOpenMetrics; OpenMetrics only when the server enables it)."""
    if not open_metrics or not accept:
        return None
    for media, params in _parse_accept(accept):
        version = params.get("version", "")
        if media == "text/plain" and version in ("", "0.0.4"):
            return None
        if media == OPENMETRICS_TYPE and version in ("", "0.0.1", "1.0.0"):
            return "1.0.0" if version == "1.0.0" else "0.0.1"
    return None


class GoOrderedView:
    """Collector view over a registry: what client_golang's Gather would produce."""

    def __init__(self, registry) -> None:
        self.registry = registry

    def collect(self):
        families = sorted(self.registry.collect(), key=lambda m: m.name)
        for m in families:
            created = m.name + "_created"
            groups: dict[tuple, list] = {}
            for s in m.samples:
                if s.name == created:
                    continue
                series = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                groups.setdefault(series, []).append(s)
            out = Metric(m.name, m.documentation, m.type, m.unit)
            out.samples = [s for series in sorted(groups) for s in groups[series]]
            yield out


def render(registry, open_metrics_version: str | None) -> tuple[bytes, str]:
    view = GoOrderedView(registry)
    if open_metrics_version is None:
        return text_format.generate_latest(view), TEXT_CONTENT_TYPE
    body = om_format.generate_latest(view)
    return body, f"{OPENMETRICS_TYPE}; version={open_metrics_version}; charset=utf-8"
