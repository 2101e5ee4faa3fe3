"""`/metrics` bodies: Prometheus text format, or OpenMetrics when the scraper asks for it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder


def expose(registry: CollectorRegistry, accept: str = "") -> tuple[bytes, str]:
    """(body, Content-Type) for a scrape with this `Accept` header (promhttp's negotiation:
    `application/openmetrics-text` gets OpenMetrics, anything else text format 0.0.4)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
