"""The dynamic exporter's config file (`flowlogs.yaml`, ConfigMap `cilium-flowlog-config`).

    flowLogs:
      - name: all-drops                                # required, unique
        filePath: /var/run/cilium/hubble/drops.log     # required, unique ("stdout" allowed)
        fieldMask: [time, source, destination, verdict]
        includeFilters: [{verdict: [DROPPED]}]
        excludeFilters: [{source_pod: ["kube-system/"]}]
        end: "2024-12-31T23:59:59Z"                    # optional RFC3339; inactive afterwards
        fileMaxSizeMb: 10                              # 0/absent = 10
        fileMaxBackups: 5                              # 0/absent = 5
        fileCompress: false

Parsed like `sigs.k8s.io/yaml` into Go structs: YAML -> JSON -> encoding/json (field names
matched case-insensitively, unknown fields ignored, filters decoded with protojson rules), then
validated (`name is required`, `duplicated flowlog name X`, `filePath is required`,
`duplicated flowlog path P`, all reported, one per line).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

import yaml

from .errors import ExporterConfigError
from .options import json_kind, normalize_yaml_filters

DEFAULT_FILE_MAX_SIZE_MB = 10
DEFAULT_FILE_MAX_BACKUPS = 5


class _Loader(yaml.SafeLoader):
    """YAML 1.1 like goyaml, but timestamps stay strings (sigs.k8s.io/yaml hands them to
    encoding/json as strings; `time.Time` then insists on RFC 3339)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})")


def parse_rfc3339(text: str) -> float:
    """Unix seconds of an RFC 3339 time, as `time.Time.UnmarshalJSON` accepts it."""
    m = _RFC3339.fullmatch(text)
    if not m:
        raise ExporterConfigError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse '
                                  f'"{text}" as RFC 3339')
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac, zone = m.group(7) or "", m.group(8)
    offset = 0
    if zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 23 or zm > 59:
            raise ExporterConfigError(f'parsing time "{text}": time zone offset out of range')
        offset = (zh * 3600 + zm * 60) * (1 if zone[0] == "+" else -1)
    try:
        base = datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp()
    except ValueError as err:
        raise ExporterConfigError(f'parsing time "{text}": {err}') from None
    return base - offset + (int(frac.ljust(9, "0")) / 1e9 if frac else 0.0)


def config_hash(content: bytes) -> int:
    """`binary.LittleEndian.Uint64(md5.Sum(content)[0:16])`: the first 8 bytes, little endian."""
    return struct.unpack("<Q", hashlib.md5(content).digest()[:8])[0]


@dataclass(frozen=True)
class FlowLogConfig:
    name: str = ""
    file_path: str = ""
    field_mask: tuple[str, ...] = ()
    include_filters: tuple[dict, ...] = ()
    exclude_filters: tuple[dict, ...] = ()
    file_max_size_mb: int = 0
    file_max_backups: int = 0
    file_compress: bool = False
    end: float | None = None
    end_text: str = field(default="", compare=False)

    @property
    def max_size_mb(self) -> int:
        return self.file_max_size_mb or DEFAULT_FILE_MAX_SIZE_MB

    @property
    def max_backups(self) -> int:
        return self.file_max_backups or DEFAULT_FILE_MAX_BACKUPS

    def is_active(self, now: float) -> bool:
        return self.end is None or self.end > now

    def equals(self, other: FlowLogConfig) -> bool:
        """FlowLogConfig.equals: masks compared as sorted lists, filters as sets; name ignored."""
        return (self.file_path == other.file_path
                and sorted(self.field_mask) == sorted(other.field_mask)
                and _filter_set(self.include_filters) == _filter_set(other.include_filters)
                and _filter_set(self.exclude_filters) == _filter_set(other.exclude_filters)
                and self.file_max_size_mb == other.file_max_size_mb
                and self.file_max_backups == other.file_max_backups
                and self.file_compress == other.file_compress
                and self.end == other.end)


def _filter_set(filters) -> set[str]:
    return {json.dumps(f, sort_keys=True) for f in filters}


# json tag -> (attribute, Go type name)
_FIELDS = {
    "name": ("name", "string"),
    "filePath": ("file_path", "string"),
    "fieldMask": ("field_mask", "exporter.FieldMask"),
    "includeFilters": ("include_filters", "exporter.FlowFilters"),
    "excludeFilters": ("exclude_filters", "exporter.FlowFilters"),
    "fileMaxSizeMb": ("file_max_size_mb", "int"),
    "fileMaxBackups": ("file_max_backups", "int"),
    "fileCompress": ("file_compress", "bool"),
    "end": ("end", "time.Time"),
}
_FOLDED = {k.lower(): k for k in _FIELDS}


def _type_error(value, tag: str) -> ExporterConfigError:
    gotype = _FIELDS[tag][1]
    what = json_kind(value)
    if what == "number":
        what = f"number {value}"
    return ExporterConfigError(f"json: cannot unmarshal {what} into Go struct field "
                               f"FlowLogConfig.flowLogs.{tag} of type {gotype}")


def _decode_entry(raw: dict) -> FlowLogConfig:
    values: dict = {}
    for key, value in raw.items():
        tag = str(key) if str(key) in _FIELDS else _FOLDED.get(str(key).lower())
        if tag is None:
            continue  # encoding/json ignores unknown fields
        attr, gotype = _FIELDS[tag]
        if value is None:
            values.pop(attr, None)
            if attr == "end":
                values.pop("end_text", None)
            continue
        if gotype == "string":
            if not isinstance(value, str):
                raise _type_error(value, tag)
        elif gotype == "int":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _type_error(value, tag)
            if isinstance(value, float):
                if not value.is_integer():
                    raise _type_error(value, tag)
                value = int(value)
        elif gotype == "bool":
            if not isinstance(value, bool):
                raise _type_error(value, tag)
        elif gotype == "exporter.FieldMask":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _type_error(value if not isinstance(value, list) else
                                  next(v for v in value if not isinstance(v, str)), tag)
            value = tuple(value)
        elif gotype == "exporter.FlowFilters":
            value = tuple(normalize_yaml_filters(value, tag))
        elif gotype == "time.Time":
            if not isinstance(value, str):
                raise _type_error(value, tag)
            values["end_text"] = value
            value = parse_rfc3339(value)
        values[attr] = value
    return FlowLogConfig(**values)


def parse_flowlogs(content: bytes | str) -> dict[str, FlowLogConfig]:
    """Parse and validate a flowlogs.yaml; flow logs by name, in file order."""
    try:
        doc = yaml.load(content, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise ExporterConfigError(f"failed to unmarshal yaml config: {err}") from None
    entries: list = []
    if doc is not None:
        if not isinstance(doc, dict):
            raise ExporterConfigError(f"failed to unmarshal yaml config: json: cannot unmarshal {json_kind(doc)} "
                                      "into Go value of type exporter.DynamicExportersConfig")
        for key, value in doc.items():
            if str(key).lower() == "flowlogs":
                if value is None:
                    entries = []
                elif not isinstance(value, list):
                    raise ExporterConfigError(
                        f"failed to unmarshal yaml config: json: cannot unmarshal {json_kind(value)} into Go "
                        "struct field DynamicExportersConfig.flowLogs of type []*exporter.FlowLogConfig")
                else:
                    entries = value
    configs: list[FlowLogConfig | None] = []
    for raw in entries:
        if raw is None:
            configs.append(None)
            continue
        if not isinstance(raw, dict):
            raise ExporterConfigError(
                f"failed to unmarshal yaml config: json: cannot unmarshal {json_kind(raw)} into Go "
                "struct field DynamicExportersConfig.flowLogs of type exporter.FlowLogConfig")
        try:
            configs.append(_decode_entry(raw))
        except ExporterConfigError as err:
            raise ExporterConfigError(f"failed to unmarshal yaml config: {err}") from None
    errors = validate(configs)
    if errors:
        raise ExporterConfigError("failed to validate config: " + "\n".join(errors))
    return {c.name: c for c in configs if c is not None}


def validate(configs: list[FlowLogConfig | None]) -> list[str]:
    """DynamicExportersConfig.Validate: every problem, in order."""
    errors: list[str] = []
    names: set[str] = set()
    paths: set[str] = set()
    for i, config in enumerate(configs):
        if config is None:
            errors.append(f"invalid flowlog at index {i}")
            continue
        if not config.name:
            errors.append("name is required")
        else:
            if config.name in names:
                errors.append(f"duplicated flowlog name {config.name}")
            names.add(config.name)
        if not config.file_path:
            errors.append("filePath is required")
        else:
            if config.file_path in paths:
                errors.append(f"duplicated flowlog path {config.file_path}")
            paths.add(config.file_path)
    return errors
