"""The `hubble-metrics` option syntax (Cilium's ParseStaticMetricsConfig / parseOptionConfigs).

The cilium-config value is a whitespace-separated list of handler specs, each
`NAME[:OPTS]`; OPTS is `;`-separated `key[=value]` items. A value is split on `|` when it
contains one, otherwise on `,` (labelsContext lists); empty pieces are dropped. A key
without `=` gets the single value `""` (boolean flags such as `dns:query;ignoreAAAA`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MetricsConfigError(ValueError):
    """A `hubble-metrics` spec the agent refuses, worded as Cilium words it.

    `str(err)` is the whole message (e.g. `unable to initialize metric 'dns': unknown context
    'foo'`); `metric` names the handler it concerns and `reason` is the handler's own error
    (`unknown context 'foo'`), empty for errors about the list itself.
    """

    def __init__(self, message: str, *, metric: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.metric = metric
        self.reason = reason or message


@dataclass(frozen=True)
class MetricConfig:
    """One handler spec: its name and its options in the order given."""

    name: str
    options: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    def keys_lower(self) -> set[str]:
        return {key.lower() for key, _ in self.options}

    def value(self, key: str) -> tuple[str, ...] | None:
        """Values of the last option named exactly `key` (None when absent)."""
        found = None
        for k, values in self.options:
            if k == key:
                found = values
        return found


def parse_option_values(s: str) -> tuple[str, ...]:
    sep = "|" if "|" in s else ","
    return tuple(v for v in s.split(sep) if v)


def parse_options(s: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for option in s.split(";"):
        if not option:
            continue
        key, eq, value = option.partition("=")
        out.append((key, parse_option_values(value) if eq else ("",)))
    return tuple(out)


def parse_metrics_spec(spec: str) -> list[MetricConfig]:
    """`dns:query drop flow:sourceContext=pod` -> one MetricConfig per handler, in order."""
    configs = []
    for item in spec.split():
        name, colon, opts = item.partition(":")
        configs.append(MetricConfig(name, parse_options(opts) if colon else ()))
    return configs
