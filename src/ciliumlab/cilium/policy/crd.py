"""API-server (CRD OpenAPI v3 schema) validation of CNP/CCNP objects (spec §17.1).

A hand-written subset of `ciliumnetworkpolicies.yaml` / `ciliumclusterwidenetworkpolicies.yaml`:
types, enums, patterns, ranges, item limits, and the rule-level `oneOf`
(endpointSelector|nodeSelector) and `anyOf` (ingress|ingressDeny|egress|egressDeny). Messages
follow the apiextensions-apiserver wording (`spec.egress: Invalid value: "object": spec.egress
in body must be of type array: "object"`).

Unknown fields are *not* errors here: a structural CRD prunes them, and only kubectl's strict
field validation turns them into `strict decoding error: unknown field "spec.podSelector"`.
`unknown_fields()` lists them so the API-server emulation can implement either behaviour.
"""

from __future__ import annotations

import ipaddress
import re

from ...errors import FieldError
from .entities import ENTITIES
from .l4 import ICMPV4_TYPES, ICMPV6_TYPES

S = dict  # schema node

_STR: S = {"type": "string"}
_BOOL: S = {"type": "boolean"}
_OBJ_ANY: S = {"type": "object", "x-preserve": True}
_LABEL_VALUE = {"type": "string", "maxLength": 63, "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"}

LABEL_SELECTOR: S = {
    "type": "object",
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": _LABEL_VALUE},
        "matchExpressions": {"type": "array", "items": {
            "type": "object", "required": ["key", "operator"],
            "properties": {
                "key": _STR,
                "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                "values": {"type": "array", "items": _STR},
            }}},
    },
}
_CIDR_FORMAT = {"type": "string", "format": "cidr-or-ip"}
_CIDR_RULE: S = {
    "type": "object",
    "oneOfRequired": ["cidr", "cidrGroupRef", "cidrGroupSelector"],
    "properties": {
        "cidr": {"type": "string", "format": "cidr"},
        "cidrGroupRef": {"type": "string", "maxLength": 253},
        "cidrGroupSelector": LABEL_SELECTOR,
        "except": {"type": "array", "items": {"type": "string", "format": "cidr"}},
    },
}
PORT_PATTERN = (r"^(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
                r"|([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$")
_PORT_PROTOCOL: S = {
    "type": "object",
    "properties": {
        "port": {"type": "string", "pattern": PORT_PATTERN, "unanchored": True},
        "endPort": {"type": "integer", "minimum": 0, "maximum": 65535},
        "protocol": {"type": "string", "enum": ["TCP", "UDP", "SCTP", "VRRP", "IGMP", "ANY"]},
    },
}
_FQDN: S = {
    "type": "object",
    "properties": {
        "matchName": {"type": "string", "maxLength": 255, "pattern": r"^([-a-zA-Z0-9_]+[.]?)+$"},
        "matchPattern": {"type": "string", "maxLength": 255, "pattern": r"^([-a-zA-Z0-9_*]+[.]?)+$"},
    },
}
_HTTP: S = {
    "type": "object",
    "properties": {
        "method": _STR, "path": _STR, "host": {"type": "string", "format": "idn-hostname"},
        "headers": {"type": "array", "items": _STR},
        "headerMatches": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {
                "name": _STR, "value": _STR,
                "mismatch": {"type": "string", "enum": ["LOG", "ADD", "DELETE", "REPLACE"]},
                "secret": {"type": "object", "required": ["name"],
                           "properties": {"name": _STR, "namespace": _STR}},
            }}},
    },
}
_L7_RULES: S = {
    "type": "object",
    "properties": {
        "http": {"type": "array", "items": _HTTP},
        "kafka": {"type": "array", "items": _OBJ_ANY},
        "dns": {"type": "array", "items": _FQDN},
        "l7proto": _STR,
        "l7": {"type": "array", "items": {"type": "object", "additionalProperties": _STR}},
    },
}
_TLS = {"type": "object", "x-preserve": True}
_PORT_RULE: S = {
    "type": "object",
    "properties": {
        "ports": {"type": "array", "maxItems": 40, "items": _PORT_PROTOCOL},
        "rules": _L7_RULES,
        "serverNames": {"type": "array", "items": {"type": "string", "minLength": 1,
                                                   "pattern": r"^(\*?\*\.)?([-a-zA-Z0-9_]+\.?)+$"}},
        "terminatingTLS": _TLS, "originatingTLS": _TLS,
        "listener": {"type": "object", "x-preserve": True},
    },
}
_PORT_DENY_RULE: S = {"type": "object",
                      "properties": {"ports": {"type": "array", "maxItems": 40, "items": _PORT_PROTOCOL}}}
_ICMP_TYPE_NAMES = sorted(set(ICMPV4_TYPES) | set(ICMPV6_TYPES))
_ICMP_RULE: S = {
    "type": "object",
    "properties": {"fields": {"type": "array", "maxItems": 40, "items": {
        "type": "object", "required": ["type"],
        "properties": {
            "family": {"type": "string", "enum": ["IPv4", "IPv6"]},
            "type": {"type": "int-or-string", "minimum": 0, "maximum": 255,
                     "pattern": r"^([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$|^("
                                + "|".join(_ICMP_TYPE_NAMES) + r")$"},
        }}}},
}
_AUTH = {"type": "object", "required": ["mode"],
         "properties": {"mode": {"type": "string", "enum": ["disabled", "required", "test-always-fail"]}}}
_SELECTORS = {"type": "array", "items": LABEL_SELECTOR}
_REQUIRES = {"type": "array", "maxItems": 0, "items": LABEL_SELECTOR}
_ENTITIES = {"type": "array", "items": {"type": "string", "enum": list(ENTITIES)}}
_CIDRS = {"type": "array", "items": _CIDR_FORMAT}
_CIDRSETS = {"type": "array", "items": _CIDR_RULE}
_GROUPS = {"type": "array", "items": _OBJ_ANY}
_ICMPS = {"type": "array", "items": _ICMP_RULE}
_SERVICES = {"type": "array", "items": {"type": "object", "properties": {
    "k8sService": {"type": "object", "properties": {"serviceName": _STR, "namespace": _STR}},
    "k8sServiceSelector": {"type": "object", "required": ["selector"],
                           "properties": {"selector": LABEL_SELECTOR, "namespace": _STR}},
}}}


def _ingress(deny: bool) -> S:
    props = {"fromEndpoints": _SELECTORS, "fromRequires": _REQUIRES, "fromCIDR": _CIDRS,
             "fromCIDRSet": _CIDRSETS, "fromEntities": _ENTITIES, "fromGroups": _GROUPS,
             "fromNodes": _SELECTORS, "icmps": _ICMPS,
             "toPorts": {"type": "array", "items": _PORT_DENY_RULE if deny else _PORT_RULE}}
    if not deny:
        props["authentication"] = _AUTH
    return {"type": "object", "properties": props}


def _egress(deny: bool) -> S:
    props = {"toEndpoints": _SELECTORS, "toRequires": _REQUIRES, "toCIDR": _CIDRS,
             "toCIDRSet": _CIDRSETS, "toEntities": _ENTITIES, "toServices": _SERVICES,
             "toGroups": _GROUPS, "toNodes": _SELECTORS, "icmps": _ICMPS,
             "toPorts": {"type": "array", "items": _PORT_DENY_RULE if deny else _PORT_RULE}}
    if not deny:
        props["toFQDNs"] = {"type": "array", "items": _FQDN}
        props["authentication"] = _AUTH
    return {"type": "object", "properties": props}


RULE: S = {
    "type": "object",
    "oneOf": ["endpointSelector", "nodeSelector"],
    "anyOf": ["ingress", "ingressDeny", "egress", "egressDeny"],
    "properties": {
        "endpointSelector": LABEL_SELECTOR,
        "nodeSelector": LABEL_SELECTOR,
        "ingress": {"type": "array", "items": _ingress(False)},
        "ingressDeny": {"type": "array", "items": _ingress(True)},
        "egress": {"type": "array", "items": _egress(False)},
        "egressDeny": {"type": "array", "items": _egress(True)},
        "labels": {"type": "array", "items": {"type": "object", "required": ["key"], "properties": {
            "key": _STR, "value": _STR, "source": _STR}}},
        "description": _STR,
        "enableDefaultDeny": {"type": "object", "properties": {"ingress": _BOOL, "egress": _BOOL}},
        "log": {"type": "object", "properties": {"value": {"type": "string", "maxLength": 32,
                                                           "pattern": r"^[\x20-\x7E]{0,32}$"}}},
    },
}
POLICY: S = {
    "type": "object",
    "properties": {
        "apiVersion": _STR, "kind": _STR, "metadata": {"type": "object", "x-preserve": True},
        "spec": RULE,
        "specs": {"type": "array", "items": RULE},
        "status": {"type": "object", "x-preserve": True},
    },
}


# --------------------------------------------------------------------------------------------
def _type_name(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _fmt_value(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    return f'"{_type_name(v)}"'


def _valid_format(fmt: str, v: str) -> bool:
    try:
        if fmt == "cidr":
            if "/" not in v:
                return False
            ipaddress.ip_network(v, strict=False)
            return True
        if fmt == "cidr-or-ip":
            if "/" in v:
                ipaddress.ip_network(v, strict=False)
            else:
                ipaddress.ip_address(v)
            return True
    except ValueError:
        return False
    return True


class _Validator:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.unknown: list[str] = []

    def err(self, path: str, message: str, reason: str = "FieldValueInvalid") -> None:
        self.errors.append(FieldError(path, message, reason))

    def walk(self, schema: S, v, path: str) -> None:
        t = schema.get("type")
        actual = _type_name(v)
        if v is None:
            return  # nullable enough: absent/null values are treated as unset
        if t == "int-or-string":
            if actual not in ("integer", "string"):
                self.err(path, f'Invalid value: "{actual}": {path} in body must be of type int-or-string: "{actual}"')
                return
            if actual == "integer":
                self._range(schema, v, path)
            else:
                self._string(schema, v, path)
            return
        if t == "integer" and actual != "integer" or t == "number" and actual not in ("integer", "number") or \
                t not in ("integer", "number") and t is not None and actual != t:
            self.err(path, f'Invalid value: "{actual}": {path} in body must be of type {t}: "{actual}"')
            return
        if t == "string":
            self._string(schema, v, path)
        elif t in ("integer", "number"):
            self._range(schema, v, path)
        elif t == "array":
            self._array(schema, v, path)
        elif t == "object":
            self._object(schema, v, path)

    def _string(self, schema: S, v: str, path: str) -> None:
        if "enum" in schema and v not in schema["enum"]:
            supported = ", ".join(f'"{e}"' for e in schema["enum"])
            self.err(path, f'Unsupported value: "{v}": supported values: {supported}', "FieldValueNotSupported")
            return
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            self.err(path, f"Too long: may not be more than {schema['maxLength']} bytes", "FieldValueTooLong")
        if "minLength" in schema and len(v) < schema["minLength"]:
            self.err(path, f'Invalid value: "{v}": {path} in body should be at least {schema["minLength"]} chars long')
        pat = schema.get("pattern")
        if pat and not re.search(pat, v):
            self.err(path, f"Invalid value: \"{v}\": {path} in body should match '{pat}'")
        fmt = schema.get("format")
        if fmt and not _valid_format(fmt, v):
            shown = "cidr" if fmt.startswith("cidr") else fmt
            self.err(path, f'Invalid value: "{v}": {path} in body must be of type {shown}: "{v}"')

    def _range(self, schema: S, v, path: str) -> None:
        if "maximum" in schema and v > schema["maximum"]:
            self.err(path, f"Invalid value: {v}: {path} in body should be less than or equal to {schema['maximum']}")
        if "minimum" in schema and v < schema["minimum"]:
            self.err(path, f"Invalid value: {v}: {path} in body should be greater than or equal to {schema['minimum']}")

    def _array(self, schema: S, v: list, path: str) -> None:
        mx = schema.get("maxItems")
        if mx is not None and len(v) > mx:
            self.err(path, f"Too many: {len(v)}: must have at most {mx} items", "FieldValueTooMany")
        items = schema.get("items")
        if items:
            for i, x in enumerate(v):
                self.walk(items, x, f"{path}[{i}]")

    def _object(self, schema: S, v: dict, path: str) -> None:
        if schema.get("x-preserve"):
            return
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        for req in schema.get("required", ()):
            if v.get(req) is None:
                self.err(f"{path}.{req}", "Required value", "FieldValueRequired")
        for k, x in v.items():
            child = f"{path}.{k}" if path else str(k)
            if props is not None and k in props:
                self.walk(props[k], x, child)
            elif addl is not None:
                self.walk(addl, x, child)
            else:
                self.unknown.append(child)
        one_of = schema.get("oneOf")
        if one_of:
            n = sum(1 for k in one_of if k in v)
            if n != 1:
                extra = "Found none valid" if n == 0 else f"Found {n} valid alternatives"
                self.err(path, f'Invalid value: "object": {path} in body must validate one and only one schema '
                               f"(oneOf). {extra}")
        any_of = schema.get("anyOf")
        if any_of and not any(k in v for k in any_of):
            self.err(path, f'Invalid value: "object": {path} in body must validate at least one schema (anyOf)')
        ofr = schema.get("oneOfRequired")
        if ofr:
            n = sum(1 for k in ofr if k in v)
            if n != 1:
                extra = "Found none valid" if n == 0 else f"Found {n} valid alternatives"
                self.err(path, f'Invalid value: "object": {path} in body must validate one and only one schema '
                               f"(oneOf). {extra}")


def validate_crd(obj: dict) -> list[FieldError]:
    """Schema errors the API server would return for this CNP/CCNP (empty list = accepted)."""
    if not isinstance(obj, dict):
        return [FieldError("", f'Invalid value: "{_type_name(obj)}": body must be of type object')]
    v = _Validator()
    v.walk(POLICY, obj, "")
    return v.errors


def unknown_fields(obj: dict) -> list[str]:
    """Field paths the CRD schema does not know (pruned, or rejected by strict validation)."""
    v = _Validator()
    v.walk(POLICY, obj, "")
    return v.unknown
