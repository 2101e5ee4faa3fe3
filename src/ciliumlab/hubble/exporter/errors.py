"""The exporter's configuration error."""

from __future__ import annotations


class ExporterConfigError(ValueError):
    """A static or dynamic exporter configuration the agent would reject.

    The message reads like the agent's log line: the bad allowlist with the filter error, the
    invalid fieldmask path, or the dynamic config's validation errors (one per line, like Go's
    `errors.Join`)."""
