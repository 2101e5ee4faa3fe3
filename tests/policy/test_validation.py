"""API-server schema checks and agent sanitisation (VA-*; spec §17)."""


import pytest
import yaml

from ciliumlab.cilium.policy import PolicyConfig, agent_error, sanitize, unknown_fields, validate_crd
from tests.conftest import shared_fixture


def cnp(spec: dict, **meta) -> dict:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "x", "namespace": "default", **meta}, "spec": spec}


SEL = {"matchLabels": {"app": "server"}}


def test_va01_malformed_policy_rejected_by_crd():
    obj = yaml.safe_load(shared_fixture("cilium", "malformed_policy.yaml").read_text())
    errors = validate_crd(obj)
    msgs = [str(e) for e in errors]
    assert 'spec.egress: Invalid value: "object": spec.egress in body must be of type array: "object"' in msgs
    assert any(e.field == "spec" and "oneOf" in e.message for e in errors)
    assert "spec.podSelector" in unknown_fields(obj)


def test_valid_fixtures_pass_crd():
    for name in ("sw_l3_l4_policy.yaml", "sw_l3_l4_l7_policy.yaml", "sw_deny_policy.yaml"):
        obj = yaml.safe_load(shared_fixture("cilium", name).read_text())
        assert validate_crd(obj) == [], name
        assert sanitize(obj) is None


def test_va02_l7_on_udp_and_any():
    def spec(proto):
        pp = {"port": "80"} | ({"protocol": proto} if proto else {})
        return cnp({"endpointSelector": SEL, "ingress": [{"toPorts": [
            {"ports": [pp], "rules": {"http": [{"method": "GET"}]}}]}]})
    assert sanitize(spec("UDP")) == "L7 rules can only apply to TCP (not UDP) except for DNS rules"
    assert agent_error(spec("UDP")) == ("Invalid CiliumNetworkPolicy spec: L7 rules can only apply to TCP "
                                        "(not UDP) except for DNS rules")
    assert sanitize(spec(None)).endswith("(not ANY) except for DNS rules")
    assert sanitize(spec("TCP")) is None


@pytest.mark.parametrize("field", ["path", "method"])
def test_va03_invalid_http_regex(field):
    obj = cnp({"endpointSelector": SEL, "ingress": [{"toPorts": [
        {"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET", field: "*"}]}}]}]})
    assert sanitize(obj).endswith("error parsing regexp: missing argument to repetition operator: `*`")


def test_va05_from_requires_rejected_by_crd():
    obj = cnp({"endpointSelector": SEL, "ingress": [{"fromRequires": [{"matchLabels": {"env": "prod"}}]}]})
    errors = validate_crd(obj)
    assert [str(e) for e in errors] == ["spec.ingress[0].fromRequires: Too many: 1: must have at most 0 items"]


def test_va06_icmps_with_to_ports():
    obj = cnp({"endpointSelector": SEL, "egress": [{"icmps": [{"fields": [{"type": 8}]}],
                                                    "toPorts": [{"ports": [{"port": "80"}]}]}]})
    assert sanitize(obj).endswith("the ICMPs block may only be present without ToPorts. "
                                  "Define a separate rule to use ToPorts")


def test_va07_dns_on_ingress():
    obj = cnp({"endpointSelector": SEL, "ingress": [{"toPorts": [
        {"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchName": "a.com"}]}}]}]})
    assert sanitize(obj).endswith("L7 protocol DNS is not supported on ingress yet")


def test_va08_port_out_of_range_passes_crd_fails_agent():
    obj = cnp({"endpointSelector": SEL, "ingress": [{"toPorts": [
        {"ports": [{"port": "65536", "protocol": "TCP"}]}]}]})
    assert validate_crd(obj) == []
    assert sanitize(obj).endswith('unable to parse port: strconv.ParseUint: parsing "65536": value out of range')


def test_va09_node_selector_in_cnp():
    obj = cnp({"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]})
    assert validate_crd(obj) == []
    assert sanitize(obj) == "rule cannot have NodeSelector"
    assert agent_error(obj) == "Invalid CiliumNetworkPolicy spec: rule cannot have NodeSelector"
    ccnp = dict(obj, kind="CiliumClusterwideNetworkPolicy", metadata={"name": "x"})
    assert sanitize(ccnp) is None


def test_va11_except_outside_cidr():
    obj = cnp({"endpointSelector": SEL, "egress": [{"toCIDRSet": [{"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}]}]})
    assert sanitize(obj).endswith("allow CIDR prefix 10.0.0.0/16 does not contain exclude CIDR prefix 10.1.0.0/24")


def test_va12_missing_sections():
    obj = cnp({"endpointSelector": SEL})
    assert any("anyOf" in e.message for e in validate_crd(obj))
    assert sanitize(obj).endswith("rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny")
    empty = {"kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": "default"}}
    assert sanitize(empty) == "Invalid CiliumNetworkPolicy spec(s): empty policy"
    ccnp = {"kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "x"}}
    assert sanitize(ccnp) == "Invalid CiliumClusterwideNetworkPolicy spec(s): empty policy"


def test_specs_error_prefix():
    obj = {"kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": "d"},
           "specs": [{"endpointSelector": SEL, "ingress": [{"fromEntities": ["nope"]}]}]}
    assert sanitize(obj) == "unsupported entity: nope"
    assert agent_error(obj) == "Invalid CiliumNetworkPolicy specs: unsupported entity: nope"


def test_combining_peers():
    obj = cnp({"endpointSelector": SEL, "ingress": [{"fromEndpoints": [{}], "fromEntities": ["world"]}]})
    assert sanitize(obj).endswith("combining FromEndpoints and FromEntities is not supported yet")
    obj = cnp({"endpointSelector": SEL, "egress": [{"toFQDNs": [{"matchName": "a.com"}], "toCIDR": ["1.1.1.1"]}]})
    assert sanitize(obj).endswith("combining ToCIDR and ToFQDNs is not supported yet")


def test_misc_agent_errors():
    def port_rule(pr, direction="egress"):
        return sanitize(cnp({"endpointSelector": SEL, direction: [{"toPorts": [pr]}]}))
    assert port_rule({"ports": [{"port": "0", "protocol": "TCP"}], "rules": {"http": [{}]}}).endswith(
        "L7 rules can not be used when a port is 0")
    assert port_rule({"ports": [{"port": "53", "endPort": 60, "protocol": "UDP"}],
                      "rules": {"dns": [{"matchName": "a.com"}]}}).endswith("DNS rules do not support port ranges")
    assert port_rule({"rules": {"dns": [{"matchName": "a.com"}]}}).endswith("port 53 must be specified for DNS rules")
    assert port_rule({"ports": [{"port": "80", "protocol": "TCP"}],
                      "rules": {"http": [{}], "dns": [{"matchName": "a"}]}}).endswith(
        "multiple L7 protocol rule types specified in single rule")
    assert port_rule({"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"l7": [{"a": "b"}]}}).endswith(
        "'l7' may only be specified when a 'l7proto' is also specified")
    assert port_rule({"ports": [{"port": str(p)} for p in range(1, 42)]}).endswith("too many ports, the max is 40")
    assert port_rule({"ports": [{"port": "80", "protocol": "TCP"}],
                      "rules": {"http": [{"headerMatches": [{"value": "x"}]}]}}).endswith("Header name missing")
    assert port_rule({"ports": [{"port": "53"}], "rules": {"dns": [{"matchName": "a", "matchPattern": "*"}]}}).endswith(
        "only one of MatchName or MatchPattern is allowed in an FQDNSelector")
    no_proxy = cnp({"endpointSelector": SEL, "ingress": [{"toPorts": [
        {"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}]}]})
    assert sanitize(no_proxy, PolicyConfig(enable_l7_proxy=False)).endswith(
        "L7 policy is not supported since L7 proxy is not enabled")
    bad_op = cnp({"endpointSelector": {"matchExpressions": [{"key": "a", "operator": "Foo"}]},
                  "ingress": [{}]})
    assert sanitize(bad_op).endswith(
        'invalid label selector: matchExpressions[0].operator: Invalid value: "Foo": not a valid selector operator')
    nodes = cnp({"endpointSelector": SEL, "ingress": [{"fromNodes": [{}]}]})
    assert sanitize(nodes).endswith('FromNodes/ToNodes rules can only be applied when the '
                                    '"enable-node-selector-labels" flag is set')
    bad_cidr = cnp({"endpointSelector": SEL, "egress": [{"toCIDR": ["300.1.1.1"]}]})
    assert "unable to parse CIDR" in sanitize(bad_cidr)


def test_crd_schema_errors():
    def errs(spec):
        return [str(e) for e in validate_crd(cnp(spec))]
    assert errs({"endpointSelector": SEL, "ingress": [{"toPorts": [{"ports": [{"port": 80}]}]}]}) == [
        'spec.ingress[0].toPorts[0].ports[0].port: Invalid value: "integer": spec.ingress[0].toPorts[0].ports[0].port '
        'in body must be of type string: "integer"']
    assert errs({"endpointSelector": SEL, "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "ICMP"}]}]}]}) == [
        'spec.ingress[0].toPorts[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
        '"TCP", "UDP", "SCTP", "VRRP", "IGMP", "ANY"']
    assert len(errs({"endpointSelector": SEL, "ingress": [{"fromEntities": ["galaxy"]}]})) == 1
    assert "less than or equal to 65535" in errs({"endpointSelector": SEL, "ingress": [{"toPorts": [
        {"ports": [{"port": "80", "endPort": 70000}]}]}]})[0]
    assert "Too long" in errs({"endpointSelector": SEL, "ingress": [{}], "log": {"value": "x" * 33}})[0]
    assert "should match" in errs({"endpointSelector": SEL, "egress": [{"toFQDNs": [{"matchName": "a b"}]}]})[0]
    assert errs({"endpointSelector": SEL, "nodeSelector": SEL, "ingress": [{}]})[0].startswith("spec: ")
    assert errs({"endpointSelector": SEL, "egress": [{"toCIDR": ["10.0.0.0/33"]}]})
    assert errs({"endpointSelector": SEL, "egress": [{"icmps": [{"fields": [{"type": "Bogus"}]}]}]})
    assert errs({"endpointSelector": SEL, "egress": [{"icmps": [{"fields": [{"type": 8, "family": "IPv5"}]}]}]})
    assert errs({"endpointSelector": SEL, "ingress": [{"authentication": {"mode": "maybe"}}]})
    assert errs({"endpointSelector": SEL, "ingress": [{"fromCIDRSet": [{"cidr": "1.0.0.0/8", "cidrGroupRef": "g"}]}]})
    assert errs({"endpointSelector": SEL, "ingress": [{"toPorts": [{"ports": [{"port": "80"}], "rules": {
        "http": [{"headerMatches": [{"name": "a", "mismatch": "EXPLODE"}]}]}}]}]})
    assert errs({"endpointSelector": SEL, "ingress": [{}],
                 "enableDefaultDeny": {"ingress": "yes"}})


def test_knp_sanitize():
    np = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "n", "namespace": "d"},
          "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/16",
                                                                          "except": ["10.1.0.0/24"]}}]}]}}
    assert sanitize(np) == "allow CIDR prefix 10.0.0.0/16 does not contain exclude CIDR prefix 10.1.0.0/24"
