"""L7 merging and HTTP fields (L7-*; spec §12)."""

from ciliumlab.cilium.policy import Decision
from ciliumlab.cilium.policy.http import HTTPRule, go_regexp_error

L7_SPLIT = """
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {env: prod}}]
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET, path: /public}]}
"""
L7_COMBINED = """
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {env: prod}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET, path: /public}]}
"""


def test_l7_02_split_items(lab):
    lab.apply(L7_SPLIT)
    assert lab.http("prod1", "server", "PUT", "/private") == "FORWARDED"
    assert lab.verdict("prod1", "server", 8080) == "FORWARDED"
    assert lab.http("dev1", "server", "GET", "/public") == "FORWARDED"
    assert lab.http("dev1", "server", "POST", "/public") == "L7-403"
    assert lab.http("1.1.1.1", "server", "GET", "/public") == "FORWARDED"
    assert lab.verdict("dev1", "server", 8080) == "DROPPED/133"
    _, ing = lab.verdicts("prod1", "server", 80)
    assert ing.decision == Decision.REDIRECT and ing.l7.allow_all  # L3 allow shadows L7


def test_l7_02_combined_item(lab):
    lab.apply(L7_COMBINED)
    assert lab.http("prod1", "server", "GET", "/public") == "FORWARDED"
    assert lab.http("prod1", "server", "PUT", "/private") == "L7-403"
    assert lab.verdict("prod1", "server", 8080) == "DROPPED/133"
    assert lab.http("dev1", "server", "GET", "/public") == "DROPPED/133"


def test_same_selector_with_and_without_l7_allows_all(lab):
    lab.apply(L7_COMBINED)
    lab.apply("""
metadata: {name: plain}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {env: prod}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    assert lab.http("prod1", "server", "DELETE", "/x") == "FORWARDED"
    _, ing = lab.verdicts("prod1", "server", 80)
    assert ing.decision == Decision.REDIRECT  # still proxied
    assert {p.name for p in ing.policies} == {"p", "plain"}


HEADERS = """
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - {method: GET, path: "/path1$"}
        - {method: PUT, path: "/path2$", headers: ['X-My-Header: true']}
"""


def test_l7_04_headers(lab):
    lab.apply(HEADERS)
    assert lab.http("client", "server", "GET", "/path1") == "FORWARDED"
    assert lab.http("client", "server", "GET", "/path1/x") == "L7-403"
    assert lab.http("client", "server", "PUT", "/path2", headers=[("X-My-Header", "true")]) == "FORWARDED"
    assert lab.http("client", "server", "PUT", "/path2", headers=[("x-my-header", "true")]) == "FORWARDED"
    assert lab.http("client", "server", "PUT", "/path2") == "L7-403"
    assert lab.http("client", "server", "PUT", "/path2", headers=[("X-My-Header", "false")]) == "L7-403"
    assert lab.http("client", "server", "PUT", "/path1") == "L7-403"


def test_l7_06_disjoint_selectors(lab):
    lab.apply("""
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: a}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET}]}}]
  - fromEndpoints: [{matchLabels: {app: b}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: POST}]}}]
""")
    assert lab.http("a", "server", "GET", "/") == "FORWARDED"
    assert lab.http("a", "server", "POST", "/") == "L7-403"
    assert lab.http("b", "server", "POST", "/") == "FORWARDED"
    assert lab.http("b", "server", "GET", "/") == "L7-403"
    assert lab.verdict("client", "server", 80) == "DROPPED/133"


def test_l7_07_conflicting_parsers_flag_error(lab):
    lab.apply("""
metadata: {name: http}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET}]}}]}]
""")
    res = lab.apply("""
metadata: {name: lineparser}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {l7proto: test.lineparser}}]}]
""")
    assert res.valid
    assert lab.repo.policy_for(lab.ids["server"]).error is not None


def test_http_host_and_header_matches():
    r = HTTPRule.from_dict({"host": "foo.bar.com", "headerMatches": [{"name": "X-Id", "value": "1"}]})
    assert r.matches("GET", "/", "foo.bar.com", [("x-id", "1")])
    assert r.matches("GET", "/", "fooXbar.com", [("X-Id", "1")])  # unescaped dot
    assert not r.matches("GET", "/", "foo.bar.com", [("X-Id", "2")])
    assert not r.matches("GET", "/", "foo.bar.com:8080", [("X-Id", "1")])
    logged = HTTPRule.from_dict({"headerMatches": [{"name": "X-Id", "value": "1", "mismatch": "LOG"}]})
    assert logged.matches("GET", "/", "h", [])
    assert HTTPRule.from_dict({"method": "GET|HEAD"}).matches("HEAD", "/", "h", [])
    assert not HTTPRule.from_dict({"method": "GET"}).matches("GETS", "/", "h", [])
    assert HTTPRule.from_dict({}).matches("PATCH", "/anything", "h", [])


def test_go_regexp_errors():
    assert go_regexp_error("*") == "error parsing regexp: missing argument to repetition operator: `*`"
    assert go_regexp_error("/a/(b") == "error parsing regexp: missing closing ): `/a/(b`"
    assert go_regexp_error("a**") == "error parsing regexp: invalid nested repetition operator: `**`"
    assert go_regexp_error("[a") == "error parsing regexp: missing closing ]: `[a`"
    assert go_regexp_error("/v1/.*") is None
    assert go_regexp_error("GET|HEAD") is None
