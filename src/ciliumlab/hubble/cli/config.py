"""Global settings of the `hubble` CLI: server flags, env vars, the config file, `hubble config`.

hubble resolves every global setting through viper: flag > `HUBBLE_<FLAG>` env var > config
file > default. The same resolution feeds the connection (server, timeouts, TLS) and
`hubble config view/get`, so it lives in one place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import HubbleError
from .gotime import format_duration, parse_duration

# key -> (kind, default); kinds: str, bool, duration, strlist, uint16
SETTINGS: dict[str, tuple[str, Any]] = {
    "basic-auth-password": ("str", ""),
    "basic-auth-username": ("str", ""),
    "config": ("str", None),  # filled with the default path
    "debug": ("bool", False),
    "kube-context": ("str", ""),
    "kube-namespace": ("str", "kube-system"),
    "kubeconfig": ("str", ""),
    "port-forward": ("bool", False),
    "port-forward-port": ("uint16", "4245"),
    "request-timeout": ("duration", "12s"),
    "server": ("str", "localhost:4245"),
    "timeout": ("duration", "5s"),
    "tls": ("bool", False),
    "tls-allow-insecure": ("bool", False),
    "tls-ca-cert-files": ("strlist", []),
    "tls-client-cert-file": ("str", ""),
    "tls-client-key-file": ("str", ""),
    "tls-server-name": ("str", ""),
}
# flags every server-talking command accepts (config.ServerFlags) and their shorthands
SERVER_FLAGS = [k for k in SETTINGS if k not in ("config", "debug")]
SERVER_SHORTHANDS = {"P": "port-forward"}
VALUE_LESS = {"debug", "port-forward", "tls", "tls-allow-insecure"}

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_go_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def default_config_path(env: Mapping[str, str]) -> str:
    """`$XDG_CONFIG_HOME/hubble/config.yaml` (i.e. `~/.config/hubble/config.yaml`)."""
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME", str(Path.home())), ".config")
    return os.path.join(xdg, "hubble", "config.yaml")


def find_config_file(explicit: str | None, env: Mapping[str, str]) -> str | None:
    """The config file viper would read: `--config`, else `./config.yaml`, XDG dir, `~/.hubble/`."""
    if explicit:
        return explicit
    home = env.get("HOME", str(Path.home()))
    for candidate in ("config.yaml", default_config_path(env), os.path.join(home, ".hubble", "config.yaml")):
        if os.path.isfile(candidate):
            return candidate
    return None


def load_config_file(path: str | None) -> dict:
    if not path or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise HubbleError(f"While parsing config: yaml: unmarshal errors in {path}")
    return data


@dataclass
class Settings:
    """Resolved global settings (viper's view) plus where the config file is."""

    values: dict[str, Any] = field(default_factory=dict)
    config_file: str | None = None
    file_values: dict = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.values[key]

    @property
    def timeout_ns(self) -> int:
        return parse_duration(str(self.values["timeout"]))

    @property
    def request_timeout_ns(self) -> int:
        return parse_duration(str(self.values["request-timeout"]))


def _coerce(key: str, value: Any) -> Any:
    kind = SETTINGS.get(key, ("str", None))[0]
    if kind == "bool":
        return value if isinstance(value, bool) else parse_go_bool(str(value))
    if kind == "strlist":
        if isinstance(value, list):
            return [str(v) for v in value]
        return [v for v in str(value).split(",") if v] if value != "" else []
    if kind == "duration":
        if isinstance(value, int):
            return format_duration(value)
        parse_duration(str(value))
        return str(value)
    return value if isinstance(value, (list, dict)) else str(value)


def resolve_settings(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Apply viper's precedence to the known keys; unknown config-file keys are kept too."""
    env = os.environ if env is None else env
    config_path = flags.get("config") or env.get("HUBBLE_CONFIG")
    file_path = find_config_file(config_path, env)
    file_values = load_config_file(file_path)
    values: dict[str, Any] = {}
    for key, (_kind, default) in SETTINGS.items():
        env_key = "HUBBLE_" + key.upper().replace("-", "_")
        try:
            if key in flags and flags[key] is not None:
                values[key] = _coerce(key, flags[key])
            elif env_key in env:
                values[key] = _coerce(key, env[env_key])
            elif key in file_values:
                values[key] = _coerce(key, file_values[key])
            else:
                values[key] = default
        except ValueError as err:
            raise HubbleError(f'invalid argument "{flags.get(key, env.get(env_key))}" for "--{key}" flag: {err}') \
                from None
    values["config"] = config_path or default_config_path(env)
    for key, value in file_values.items():
        values.setdefault(str(key), value)
    return Settings(values=values, config_file=file_path, file_values=file_values)


# --- YAML as go.yaml.in/yaml/v3 prints it -------------------------------------------------------

_YAML_SPECIAL = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|0o?[0-7_]+"
    r"|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|<<)$")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def yaml_scalar(text: str) -> str:
    """A string scalar: plain when safe, double-quoted when it would read as another type,
    single-quoted when the emitter refuses a plain scalar (e.g. it starts with `{`)."""
    if text == "" or _YAML_SPECIAL.match(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if any(ord(c) < 0x20 for c in text):
        return yaml.dump(text, default_style='"', width=float("inf")).rstrip("\n")
    plain_ok = (text[0] not in _INDICATORS and text[0] != " " and text[-1] != " " and ": " not in text
                and " #" not in text and not text.endswith(":"))
    if text[0] in "-?:" and len(text) > 1 and text[1] not in " \t":
        plain_ok = plain_ok or (": " not in text and " #" not in text)
    if plain_ok:
        return text
    return "'" + text.replace("'", "''") + "'"


def yaml_value(value: Any, indent: int = 0) -> str:
    """Block YAML of a value (yaml.v3: 4-space indent, sequences indented under their key)."""
    pad = " " * indent
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n" + "\n".join(f"{pad}    - {yaml_value(v, indent + 4).lstrip()}" for v in value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "\n".join(f"{pad}    {yaml_scalar(str(k))}: {yaml_value(v, indent + 4)}"
                                for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    return yaml_scalar(str(value))


def yaml_document(mapping: Mapping[str, Any]) -> str:
    if not mapping:
        return "{}\n"
    lines = [f"{yaml_scalar(k)}: {yaml_value(v)}" for k, v in mapping.items()]
    return "\n".join(lines) + "\n"


def config_view(settings: Settings) -> str:
    return yaml_document({k: settings.values[k] for k in sorted(settings.values)})


def config_get(settings: Settings, key: str) -> str:
    if key not in settings.values:
        raise HubbleError(f"unknown key: {key}")
    value = settings.values[key]
    text = yaml_value(value)
    return (text.lstrip("\n") if text.startswith("\n") else text) + "\n"


def _write_file(settings: Settings, data: dict) -> None:
    path = settings.config_file or str(settings.values["config"])
    os.makedirs(os.path.dirname(path) or ".", mode=0o750, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(yaml_document({k: data[k] for k in sorted(data)}) if data else "")


def config_set(settings: Settings, key: str, value: str | None) -> None:
    """`hubble config set KEY [VALUE]`: write KEY into the file (no VALUE = back to default)."""
    if key not in SETTINGS or key == "config":
        raise HubbleError(f"unknown key: {key}")
    data = dict(settings.file_values)
    if value is None:
        data.pop(key, None)
    else:
        try:
            data[key] = _coerce(key, value)
        except ValueError as err:
            raise HubbleError(str(err)) from None
    _write_file(settings, data)


def config_reset(settings: Settings, key: str | None) -> None:
    """`hubble config reset [KEY]`: drop one key (or all) from the config file."""
    if key is None:
        _write_file(settings, {})
        return
    if key not in SETTINGS or key == "config":
        raise HubbleError(f"unknown key: {key}")
    data = dict(settings.file_values)
    data.pop(key, None)
    _write_file(settings, data)
