"""Agent/operator sanitisation of CNP/CCNP/NetworkPolicy objects (spec §17.2).

Mirrors `CiliumNetworkPolicy.Parse` + `Rule.Validate` (pkg/policy/api/rule_validation.go) in
order, returning the first error with Cilium's wording. `sanitize()` returns the reason text
(what the spec's scenarios show as the `Valid=False` condition message, e.g. `rule cannot have
NodeSelector`); `agent_error()` returns it wrapped the way `Parse` does for the agent log
(`Invalid CiliumNetworkPolicy spec: <reason>`). `None` means valid.
"""

from __future__ import annotations

import ipaddress

from .entities import AGENT_ONLY_ENTITIES, ENTITIES
from .fqdn import validate_fqdn_selector
from .http import MISMATCH_ACTIONS, validate_http_rule
from .l4 import is_svc_name, parse_go_uint16
from .rule import EGRESS_PEERS
from .types import KIND_CCNP, KIND_CNP, KIND_KNP, PolicyConfig, PolicyError

MAX_PORTS = 40
MAX_ICMP_FIELDS = 40
_PROTOCOLS = ("TCP", "UDP", "SCTP", "ANY", "VRRP", "IGMP", "ICMP", "ICMPV6")
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                    "'my_value',  or '12345', regex used for validation is "
                    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
NODES_FLAG_ERROR = ('FromNodes/ToNodes rules can only be applied when the "enable-node-selector-labels" '
                    "flag is set")
ICMP_WITH_PORTS = "the ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts"
_INGRESS_COMMON = ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups")
_EGRESS_COMMON = tuple(p for p in EGRESS_PEERS)


class _Wrapped(PolicyError):
    """A rule error plus the `Invalid <Kind> spec:` prefix Parse adds."""

    def __init__(self, reason: str, prefix: str) -> None:
        super().__init__(f"{prefix}{reason}")
        self.reason = reason


def _run(obj: dict, config: PolicyConfig | None) -> PolicyError | None:
    config = config or PolicyConfig()
    kind = str(obj.get("kind") or "")
    try:
        if kind == KIND_KNP:
            _sanitize_knp(obj)
        else:
            _sanitize_cilium(obj, config)
    except PolicyError as e:
        return e
    return None


def sanitize(obj: dict, config: PolicyConfig | None = None) -> str | None:
    """The reason Cilium rejects this object (Valid condition message), or None if valid."""
    err = _run(obj, config)
    if err is None:
        return None
    return err.reason if isinstance(err, _Wrapped) else str(err)


def agent_error(obj: dict, config: PolicyConfig | None = None) -> str | None:
    """The full error the agent logs (`Invalid CiliumNetworkPolicy spec: <reason>`), or None."""
    err = _run(obj, config)
    return None if err is None else str(err)


# --------------------------------------------------------------------------------------------
def _sanitize_cilium(obj: dict, config: PolicyConfig) -> None:
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind") or KIND_CNP)
    if kind == KIND_CNP and not meta.get("namespace"):
        kind = KIND_CCNP
    if not meta.get("name"):
        raise PolicyError(f"{kind} must have name")
    spec, specs = obj.get("spec"), obj.get("specs")
    if spec is None and specs is None:
        raise PolicyError(f"Invalid {kind} spec(s): empty policy")
    if spec is not None:
        _rule_or_raise(spec, kind, "spec", config)
    for s in specs or []:
        _rule_or_raise(s, kind, "specs", config)


def _rule_or_raise(spec, kind: str, where: str, config: PolicyConfig) -> None:
    try:
        if not isinstance(spec, dict):
            raise PolicyError("rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny")
        validate_rule(spec, config)
        if kind == KIND_CNP and spec.get("nodeSelector") is not None:
            raise PolicyError("rule cannot have NodeSelector")
    except PolicyError as e:
        raise _Wrapped(str(e), f"Invalid {kind} {where}: ") from None


def validate_rule(r: dict, config: PolicyConfig) -> None:
    """Rule.Validate."""
    if not any(r.get(s) for s in ("ingress", "ingressDeny", "egress", "egressDeny")):
        raise PolicyError("rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny")
    es, ns = r.get("endpointSelector"), r.get("nodeSelector")
    if es is None and ns is None:
        raise PolicyError("rule must have one of EndpointSelector or NodeSelector")
    if es is not None and ns is not None:
        raise PolicyError("rule cannot have both EndpointSelector and NodeSelector")
    host_policy = ns is not None
    validate_label_selector(es if es is not None else ns)
    for item in r.get("ingress") or []:
        _ingress(item or {}, host_policy, config)
    for item in r.get("ingressDeny") or []:
        _common(item or {}, _INGRESS_COMMON, config)
        _icmp_and_ports(item or {}, config)
        for pr in (item or {}).get("toPorts") or []:
            _deny_port_rule(pr or {})
        _icmps(item or {})
    for item in r.get("egress") or []:
        _egress(item or {}, host_policy, config)
    for item in r.get("egressDeny") or []:
        _common(item or {}, _EGRESS_COMMON, config)
        _icmp_and_ports(item or {}, config)
        for pr in (item or {}).get("toPorts") or []:
            _deny_port_rule(pr or {})
        _icmps(item or {})


def validate_label_selector(sel) -> None:
    """EndpointSelector.Validate (metav1.LabelSelectorAsSelector errors)."""
    sel = sel or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        _label_value(str(v) if v is not None else "", f"values[0][{k}]")
    for i, e in enumerate(sel.get("matchExpressions") or []):
        op = e.get("operator")
        values = e.get("values") or []
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise PolicyError(f'invalid label selector: matchExpressions[{i}].operator: Invalid value: "{op}": '
                              "not a valid selector operator")
        if op in ("In", "NotIn") and not values:
            raise PolicyError("invalid label selector: values: Invalid value: []string(nil): for 'in', "
                              "'notin' operators, values set can't be empty")
        if op in ("Exists", "DoesNotExist") and values:
            vals = ", ".join(f'"{v}"' for v in values)
            raise PolicyError(f"invalid label selector: values: Invalid value: []string{{{vals}}}: values set "
                              "must be empty for exists and does not exist")
        for j, v in enumerate(values):
            _label_value(str(v), f"values[{j}][{e.get('key')}]")


def _label_value(v: str, path: str) -> None:
    import re

    if len(v) > 63:
        raise PolicyError(f'invalid label selector: {path}: Invalid value: "{v}": must be no more than 63 characters')
    if v and not re.fullmatch(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", v):
        raise PolicyError(f'invalid label selector: {path}: Invalid value: "{v}": {_LABEL_VALUE_MSG}')


def _first_two(item: dict, fields) -> tuple[str, str] | None:
    present = [f for f in fields if item.get(f)]
    if len(present) > 1:
        return present[0], present[1]
    return None


def _cap(f: str) -> str:
    """Go field names: fromEndpoints -> FromEndpoints, toFQDNs -> ToFQDNs, fromCIDR -> FromCIDR."""
    return f[0].upper() + f[1:]


def _common(item: dict, fields, config: PolicyConfig) -> None:
    """IngressCommonRule/EgressCommonRule.Validate."""
    pair = _first_two(item, fields)
    if pair:
        raise PolicyError(f"combining {_cap(pair[0])} and {_cap(pair[1])} is not supported yet")
    ret_err = None
    if (item.get("fromNodes") or item.get("toNodes")) and not config.enable_node_selector_labels:
        ret_err = NODES_FLAG_ERROR

    def fail(msg: str):
        raise PolicyError(msg + ("\n" + ret_err if ret_err else ""))

    for key in ("fromEndpoints", "toEndpoints", "fromNodes", "toNodes"):
        for sel in item.get(key) or []:
            try:
                validate_label_selector(sel)
            except PolicyError as e:
                fail(str(e))
    for key in ("fromCIDR", "toCIDR"):
        for c in item.get(key) or []:
            err = _cidr(str(c) if c is not None else "")
            if err:
                fail(err)
    for key in ("fromCIDRSet", "toCIDRSet"):
        for cr in item.get(key) or []:
            err = _cidr_rule(cr or {})
            if err:
                fail(err)
    for key in ("fromEntities", "toEntities"):
        for ent in item.get(key) or []:
            if ent not in ENTITIES and ent not in AGENT_ONLY_ENTITIES:
                fail(f"unsupported entity: {ent}")
    if ret_err:
        raise PolicyError(ret_err)


def _cidr(text: str) -> str | None:
    if text == "":
        return "IP must be specified"
    if "/" in text:
        try:
            ipaddress.ip_network(text, strict=False)
            return None
        except ValueError:
            pass
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        return f'unable to parse CIDR: ParseAddr("{text}"): unable to parse IP'


def _parse_prefix(text: str):
    if "/" not in text:
        raise ValueError(f'netip.ParsePrefix("{text}"): no \'/\'')
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f'netip.ParsePrefix("{text}"): bad prefix') from None


def _cidr_rule(cr: dict) -> str | None:
    cnt = sum(1 for k in ("cidrGroupRef", "cidr") if cr.get(k)) + (cr.get("cidrGroupSelector") is not None)
    if cnt == 0:
        return "one of cidr, cidrGroupRef, or cidrGroupSelector is required"
    if cnt > 1:
        return "more than one of cidr, cidrGroupRef, or cidrGroupSelector may not be set"
    if not cr.get("cidr"):
        return None
    c = str(cr["cidr"])
    try:
        prefix = _parse_prefix(c)
    except ValueError as e:
        return f'unable to parse CIDRRule "{c}": {e}'
    for p in cr.get("except") or []:
        try:
            exc = _parse_prefix(str(p))
        except ValueError as e:
            return str(e)
        if (exc.version != prefix.version or prefix.prefixlen > exc.prefixlen
                or exc.network_address not in prefix):
            return f"allow CIDR prefix {c} does not contain exclude CIDR prefix {p}"
    return None


def _l7_members(to_ports) -> bool:
    return any(_rules_nonempty((pr or {}).get("rules")) for pr in to_ports or [])


def _rules_nonempty(rules) -> bool:
    if not rules:
        return False
    return any(rules.get(k) is not None for k in ("http", "kafka", "dns", "l7")) or bool(rules.get("l7proto"))


def _count(to_ports, key: str) -> int:
    return sum(len(((pr or {}).get("rules") or {}).get(key) or []) for pr in to_ports or [])


def _icmp_and_ports(item: dict, config: PolicyConfig) -> None:
    if item.get("icmps") and not config.enable_icmp_rules:
        raise PolicyError('ICMP rules can only be applied when the "enable-icmp-rules" flag is set')
    if item.get("icmps") and item.get("toPorts"):
        raise PolicyError(ICMP_WITH_PORTS)


def _icmps(item: dict) -> None:
    for ir in item.get("icmps") or []:
        fields = (ir or {}).get("fields") or []
        if len(fields) > MAX_ICMP_FIELDS:
            raise PolicyError(f"too many types, the max is {MAX_ICMP_FIELDS}")
        for f in fields:
            fam = (f or {}).get("family") or ""
            if fam not in ("IPv4", "IPv6", ""):
                raise PolicyError(f"wrong family: {fam}")


def _ingress(item: dict, host_policy: bool, config: PolicyConfig) -> None:
    _common(item, _INGRESS_COMMON, config)
    to_ports = item.get("toPorts")
    l7 = _l7_members(to_ports)
    if host_policy and l7:
        raise PolicyError("L7 policy is not supported on host ingress yet")
    if l7 and not config.enable_l7_proxy:
        raise PolicyError("L7 policy is not supported since L7 proxy is not enabled")
    if _count(to_ports, "dns") > 0:
        raise PolicyError("L7 protocol DNS is not supported on ingress yet")
    _icmp_and_ports(item, config)
    for pr in to_ports or []:
        _port_rule(pr or {}, ingress=True)
    _icmps(item)


def _egress(item: dict, host_policy: bool, config: PolicyConfig) -> None:
    _common(item, _EGRESS_COMMON, config)
    to_ports = item.get("toPorts")
    l7 = _l7_members(to_ports)
    if l7 and not config.enable_l7_proxy:
        raise PolicyError("L7 policy is not supported since L7 proxy is not enabled")
    if host_policy and _count(to_ports, "http") > 0:
        raise PolicyError("L7 protocol HTTP is not supported on host egress yet")
    _icmp_and_ports(item, config)
    for pr in to_ports or []:
        _port_rule(pr or {}, ingress=False)
    _icmps(item)
    for fq in item.get("toFQDNs") or []:
        err = validate_fqdn_selector(fq or {})
        if err:
            raise PolicyError(err)


def _port_protocol(pp: dict, has_dns: bool) -> bool:
    """PortProtocol.Validate; returns whether the port is 0."""
    port = pp.get("port")
    port = "" if port is None else str(port)
    if port == "":
        raise PolicyError("port must be specified")
    is_zero = False
    if not is_svc_name(port):
        try:
            p = parse_go_uint16(port)
        except ValueError as e:
            raise PolicyError(f"unable to parse port: {e}") from None
        is_zero = p == 0
        if has_dns and int(pp.get("endPort") or 0) > p:
            raise PolicyError("DNS rules do not support port ranges")
    proto = str(pp.get("protocol") or "ANY").upper()
    if proto not in _PROTOCOLS:
        raise PolicyError(f'invalid protocol "{pp.get("protocol")}", must be {{ tcp | udp | sctp | any }}')
    return is_zero


def _port_rule(pr: dict, ingress: bool) -> None:
    """PortRule.Validate."""
    rules = pr.get("rules") or {}
    has_dns = bool(rules.get("dns"))
    if ingress and has_dns:
        raise PolicyError("DNS rules are not allowed on ingress")
    nonempty = _rules_nonempty(rules)
    server_names = pr.get("serverNames") or []
    if server_names and nonempty and pr.get("terminatingTLS") is None:
        raise PolicyError("ServerNames are not allowed with L7 rules without TLS termination")
    if "" in server_names:
        raise PolicyError("empty server name is not allowed")
    ports = pr.get("ports") or []
    if len(ports) > MAX_PORTS:
        raise PolicyError(f"too many ports, the max is {MAX_PORTS}")
    have_zero = False
    for pp in ports:
        pp = pp or {}
        if _port_protocol(pp, has_dns):
            have_zero = True
        if nonempty and not has_dns:
            proto = str(pp.get("protocol") or "ANY").upper()
            if proto != "TCP":
                raise PolicyError(f"L7 rules can only apply to TCP (not {proto}) except for DNS rules")
    listener = pr.get("listener")
    if listener is not None:
        lname = (listener or {}).get("name", "")
        if ingress:
            raise PolicyError(f"Listener is not allowed on ingress ({lname})")
        if nonempty:
            raise PolicyError(f"Listener is not allowed with L7 rules ({lname})")
    if nonempty:
        if have_zero:
            raise PolicyError("L7 rules can not be used when a port is 0")
        _l7_rules(rules, ports)


def _l7_rules(rules: dict, ports: list) -> None:
    n_types = 0
    if rules.get("http") is not None:
        n_types += 1
        for h in rules["http"]:
            err = validate_http_rule(h or {})
            if err:
                raise PolicyError(err)
    if rules.get("kafka") is not None:
        n_types += 1
    if rules.get("dns") is not None:
        if not ports:
            raise PolicyError("port 53 must be specified for DNS rules")
        n_types += 1
        for d in rules["dns"]:
            err = validate_fqdn_selector(d or {})
            if err:
                raise PolicyError(err)
    if rules.get("l7") is not None and not rules.get("l7proto"):
        raise PolicyError("'l7' may only be specified when a 'l7proto' is also specified")
    if rules.get("l7proto"):
        n_types += 1
        for kv in rules.get("l7") or []:
            if any(k == "" for k in (kv or {})):
                raise PolicyError("Empty key not allowed")
    if n_types > 1:
        raise PolicyError("multiple L7 protocol rule types specified in single rule")


def _deny_port_rule(pr: dict) -> None:
    ports = pr.get("ports") or []
    if len(ports) > MAX_PORTS:
        raise PolicyError(f"too many ports, the max is {MAX_PORTS}")
    for pp in ports:
        _port_protocol(pp or {}, False)


# --------------------------------------------------------------------------------------------
def _sanitize_knp(obj: dict) -> None:
    """NetworkPolicy parse errors (ipBlock CIDRs, selectors)."""
    spec = obj.get("spec") or {}
    validate_label_selector(spec.get("podSelector"))
    for section, key in (("ingress", "from"), ("egress", "to")):
        for r in spec.get(section) or []:
            for peer in (r or {}).get(key) or []:
                peer = peer or {}
                if peer.get("ipBlock") is not None:
                    block = peer["ipBlock"] or {}
                    err = _cidr_rule({"cidr": block.get("cidr"), "except": block.get("except")})
                    if err:
                        raise PolicyError(err)
                for k in ("podSelector", "namespaceSelector"):
                    if peer.get(k) is not None:
                        validate_label_selector(peer[k])


__all__ = ["agent_error", "sanitize", "validate_rule", "validate_label_selector", "MISMATCH_ACTIONS"]
