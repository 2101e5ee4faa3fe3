"""The simulated outside world: names, addresses, reverse names and what hosts answer."""

import json

import pytest

from ciliumlab.workloads.net import HttpRequest, ServerContext
from ciliumlab.workloads.world import WORLD, World, WorldHost, ip_from_reverse, reverse_name

NOW = 1_764_144_000.0


@pytest.fixture
def world() -> World:
    return World(now=lambda: NOW)


def ctx(ip: str, port: int) -> ServerContext:
    return ServerContext("", "", "", [ip], "192.168.1.1", 40000, port)


def http(world: World, ip: str, port: int, host: str, method: str = "GET", target: str = "/"):
    h = world.host_for_ip(ip)
    req = HttpRequest(method, target, host, [("Host", host), ("User-Agent", "curl/8.14.1"), ("Accept", "*/*")],
                      scheme="https" if port == 443 else "http")
    return h.serve_http(req, ctx(ip, port))


@pytest.mark.parametrize("name", ["api.github.com", "github.com", "support.github.com", "gist.github.com",
                                  "www.google.com", "google.com", "example.com", "cilium.io", "docs.cilium.io",
                                  "httpbin.org", "ifconfig.me", "api.twitter.com", "twitter.com"])
def test_required_names_resolve(name):
    ips = WORLD.resolve(name)
    assert ips and all(WORLD.host_for_ip(ip) is WORLD.host_for_name(name) for ip in ips)


def test_resolve_is_case_insensitive_and_dot_tolerant():
    assert WORLD.resolve("API.GitHub.com.") == ["140.82.112.6", "140.82.121.6"]
    assert all(ip.startswith(("140.82.112.", "140.82.121.")) for n in ("github.com", "gist.github.com",
               "support.github.com") for ip in WORLD.resolve(n))
    assert WORLD.resolve("nosuch.example") == []


def test_raw_ips_from_the_policy_scenarios():
    for ip in ("20.1.1.1", "20.1.1.2", "10.200.0.5", "10.100.0.5"):
        host = WORLD.host_for_ip(ip)
        assert host is not None and host.listens("TCP", 80) and not host.listens("TCP", 443)
    one = WORLD.host_for_ip("1.1.1.1")
    assert one.listens("TCP", 443) and one.listens("TCP", 80) and not one.listens("TCP", 22)
    dns = WORLD.host_for_ip("8.8.8.8")
    assert dns.listens("UDP", 53) and dns.listens("TCP", 53) and WORLD.answers_icmp("8.8.8.8")
    assert WORLD.host_for_ip("203.0.113.9") is None and not WORLD.answers_icmp("203.0.113.9")


def test_reverse_names():
    assert WORLD.reverse("1.1.1.1") == "one.one.one.one"
    assert WORLD.reverse("8.8.8.8") == "dns.google"
    assert WORLD.reverse("20.1.1.1") is None
    assert reverse_name("8.8.4.4") == "4.4.8.8.in-addr.arpa."
    assert ip_from_reverse("4.4.8.8.IN-ADDR.ARPA.") == "8.8.4.4"
    assert ip_from_reverse("4.8.8.in-addr.arpa") is None


def test_dns_answer_like_a_public_resolver():
    a = WORLD.dns_answer("api.github.com", "A")
    assert a.rcode == "NOERROR" and [(r.ttl, r.data) for r in a.answers] == [(60, "140.82.112.6"), (60, "140.82.121.6")]
    assert WORLD.dns_answer("api.github.com", "A", max_ttl=30).answers[0].ttl == 30
    assert WORLD.dns_answer("nosuch.example").rcode == "NXDOMAIN"
    assert WORLD.dns_answer("8.8.8.8.in-addr.arpa", "PTR").answers[0].data == "dns.google."


def test_rtt_is_deterministic():
    assert WORLD.rtt_ms("1.1.1.1") == 4.2
    unknown = WORLD.rtt_ms("198.51.100.7")
    assert unknown == WORLD.rtt_ms("198.51.100.7") and 5.0 <= unknown <= 30.0


def test_api_github_https_is_http2_json(world):
    resp = http(world, "140.82.112.6", 443, "api.github.com", "HEAD")
    assert (resp.version, resp.status, resp.body) == ("HTTP/2", 200, b"")
    assert resp.header("server") == "github.com"
    assert resp.headers[0] == ("date", "Wed, 26 Nov 2025 08:00:00 GMT")
    assert all(k == k.lower() for k, _ in resp.headers)
    full = http(world, "140.82.112.6", 443, "api.github.com")
    assert json.loads(full.body)["current_user_url"] == "https://api.github.com/user"
    assert resp.header("content-length") == str(len(full.body))
    missing = http(world, "140.82.112.6", 443, "api.github.com", target="/nope")
    assert missing.status == 404 and json.loads(missing.body)["message"] == "Not Found"


def test_plain_http_redirects_to_https(world):
    resp = http(world, "140.82.112.6", 80, "api.github.com", target="/zen")
    assert (resp.version, resp.status, resp.header("Location")) == ("HTTP/1.1", 301, "https://api.github.com/zen")
    google = http(world, "142.250.74.110", 443, "google.com")
    assert (google.status, google.header("location")) == (301, "https://www.google.com/")
    assert http(world, "142.250.74.100", 80, "www.google.com").status == 200


def test_resolver_front_ends(world):
    by_ip = http(world, "1.1.1.1", 443, "1.1.1.1")
    assert (by_ip.status, by_ip.header("location"), by_ip.header("server")) == (
        301, "https://one.one.one.one/", "cloudflare")
    assert http(world, "1.1.1.1", 443, "one.one.one.one").status == 200
    assert http(world, "8.8.8.8", 443, "8.8.8.8").status == 302


def test_echo_services(world):
    ip = http(world, "34.160.111.145", 80, "ifconfig.me")
    assert (ip.status, ip.body) == (200, b"192.168.1.1")
    get = json.loads(http(world, "54.166.163.67", 443, "httpbin.org", target="/get?a=1").body)
    assert get["args"] == {"a": "1"} and get["origin"] == "192.168.1.1"
    assert get["url"] == "https://httpbin.org/get?a=1" and get["headers"]["User-Agent"] == "curl/8.14.1"
    assert http(world, "54.166.163.67", 80, "httpbin.org", target="/status/418").status == 418


def test_raw_hosts_answer_generically(world):
    resp = http(world, "20.1.1.1", 80, "20.1.1.1", target="/x")
    assert (resp.version, resp.status) == ("HTTP/1.1", 200)
    assert resp.body == b"ciliumlab world: 20.1.1.1:80 answered GET /x\n"


def test_custom_world():
    w = World([WorldHost(("svc.example",), ("198.51.100.1",), frozenset({8443}), h2=False, rtt=7.0)])
    assert w.resolve("svc.example") == ["198.51.100.1"] and w.rtt_ms("198.51.100.1") == 7.0
    assert w.host_for_ip("198.51.100.1").listens("TCP", 8443) and WORLD.resolve("svc.example") == []


def test_worlds_do_not_share_clocks():
    a = World(now=lambda: 0.0)
    b = World(now=lambda: NOW)
    assert a.host_for_ip("1.1.1.1") is not b.host_for_ip("1.1.1.1")
    assert http(a, "20.1.1.1", 80, "20.1.1.1").header("Date") == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert http(b, "20.1.1.1", 80, "20.1.1.1").header("Date") == "Wed, 26 Nov 2025 08:00:00 GMT"
