"""traefik/whoami prints what app.go prints (github.com/traefik/whoami)."""

import json

from ciliumlab.workloads.images.registry import behaviour_for
from ciliumlab.workloads.images.whoami import data_content, link_local_from_mac, parse_go_duration
from ciliumlab.workloads.net import HttpRequest, Interface, ServerContext

NOW = 1_764_144_000.0
CURL = [("Host", "webpod"), ("User-Agent", "curl/8.14.1"), ("Accept", "*/*")]


def whoami(container: dict | None = None):
    container = container if container is not None else {"name": "webpod", "image": "traefik/whoami"}
    return behaviour_for(container.get("image", "traefik/whoami"), container, now=lambda: NOW)


def ctx(interfaces=None) -> ServerContext:
    return ServerContext("webpod-697b545f57-hwftr", "default", "webpod-697b545f57-hwftr", ["10.0.1.144"],
                         "10.0.0.187", 45578, 80, interfaces or [])


def test_root_prints_host_ips_remote_and_request():
    ifaces = [Interface("lo", 1, "00:00:00:00:00:00", ["127.0.0.1/8"], 65536),
              Interface("eth0", 12, "8e:d0:03:30:2b:9c", ["10.0.1.144/32"], 1500, peer_index=13)]
    resp = whoami().serve_http(HttpRequest("GET", "/", "webpod", list(CURL)), ctx(ifaces))
    assert resp.status == 200
    assert resp.body == (
        b"Hostname: webpod-697b545f57-hwftr\n"
        b"IP: 127.0.0.1\n"
        b"IP: ::1\n"
        b"IP: 10.0.1.144\n"
        b"IP: fe80::8cd0:3ff:fe30:2b9c\n"
        b"RemoteAddr: 10.0.0.187:45578\n"
        b"GET / HTTP/1.1\r\n"
        b"Host: webpod\r\n"
        b"User-Agent: curl/8.14.1\r\n"
        b"Accept: */*\r\n"
        b"\r\n"
    )
    assert resp.headers == [("Date", "Wed, 26 Nov 2025 08:00:00 GMT"), ("Content-Length", str(len(resp.body))),
                            ("Content-Type", "text/plain; charset=utf-8")]


def test_without_interfaces_link_local_is_stable_per_pod():
    a = whoami().serve_http(HttpRequest("GET", "/", "webpod", list(CURL)), ctx()).body.decode().splitlines()
    b = whoami().serve_http(HttpRequest("GET", "/", "webpod", list(CURL)), ctx()).body.decode().splitlines()
    assert a[1:4] == ["IP: 127.0.0.1", "IP: ::1", "IP: 10.0.1.144"]
    assert a[4].startswith("IP: fe80::") and a[4] == b[4]


def test_request_echo_sorts_other_headers_and_adds_go_defaults():
    req = HttpRequest("POST", "/x?y=1", "webpod:8080",
                      [("Host", "webpod:8080"), ("x-b", "2"), ("accept", "*/*"), ("X-A", "1")], body=b"hi")
    body = whoami().serve_http(req, ctx()).body
    tail = body.split(b"RemoteAddr: 10.0.0.187:45578\n", 1)[1]
    assert tail == (b"POST /x?y=1 HTTP/1.1\r\nHost: webpod:8080\r\nUser-Agent: Go-http-client/1.1\r\n"
                    b"Content-Length: 2\r\nAccept: */*\r\nX-A: 1\r\nX-B: 2\r\n\r\nhi")


def test_name_flag_and_port_from_args_or_env():
    w = whoami({"image": "traefik/whoami:v1.10", "args": ["--port=2001", "--name", "iamfoo"]})
    assert w.listens("TCP", 2001) and not w.listens("TCP", 80)
    assert w.serve_http(HttpRequest("GET", "/", "w", []), ctx()).body.startswith(b"Name: iamfoo\nHostname: ")
    env = whoami({"image": "docker.io/traefik/whoami", "env": [{"name": "WHOAMI_PORT_NUMBER", "value": "8080"}]})
    assert env.listens("TCP", 8080) and not env.listens("TCP", 80)
    assert whoami().listens("TCP", 80)


def test_api_is_go_json():
    resp = whoami().serve_http(HttpRequest("GET", "/api", "webpod", list(CURL)), ctx())
    assert resp.header("Content-Type") == "application/json"
    assert resp.header("Access-Control-Allow-Origin") == "*"
    assert resp.body.endswith(b"}\n") and b": " not in resp.body
    data = json.loads(resp.body)
    assert data["hostname"] == "webpod-697b545f57-hwftr"
    assert data["headers"] == {"Accept": ["*/*"], "User-Agent": ["curl/8.14.1"]}
    assert (data["url"], data["host"], data["method"], data["remoteAddr"]) == ("/api", "webpod", "GET",
                                                                                "10.0.0.187:45578")
    assert list(data) == ["hostname", "ip", "headers", "url", "host", "method", "remoteAddr"]


def test_health_is_settable():
    w = whoami()
    ok = w.serve_http(HttpRequest("GET", "/health", "webpod", []), ctx())
    assert (ok.status, ok.body, ok.header("Content-Length")) == (200, b"", "0")
    assert ok.header("Content-Type") is None
    w.serve_http(HttpRequest("POST", "/health", "webpod", [], body=b"500"), ctx())
    bad = w.serve_http(HttpRequest("GET", "/health", "webpod", []), ctx())
    assert (bad.status, bad.reason) == (500, "Internal Server Error")


def test_bench_echo_and_data():
    w = whoami()
    assert w.serve_http(HttpRequest("GET", "/bench", "w", []), ctx()).body == b"1"
    echo = w.serve_http(HttpRequest("GET", "/echo", "w", []), ctx())
    assert (echo.status, echo.body) == (400, b"Bad Request\n")
    assert w.serve_http(HttpRequest("GET", "/data?size=10", "w", []), ctx()).body == b"|ABCDEFGH|"
    assert data_content(1) == b"" and data_content(2) == b"||"
    assert len(data_content(2048)) == 2048


def test_wait_and_helpers():
    w = whoami()
    assert w.delay(HttpRequest("GET", "/?wait=1.5s", "w", [])) == 1.5
    assert w.delay(HttpRequest("GET", "/", "w", [])) == 0.0
    assert parse_go_duration("1m30s") == 90.0 and parse_go_duration("soon") is None
    assert link_local_from_mac("02:42:ac:11:00:02") == "fe80::42:acff:fe11:2"
