"""The deathstar answers exactly as quay.io/cilium/starwars does (cilium/starwars-docker)."""

from ciliumlab.workloads.images.registry import behaviour_for
from ciliumlab.workloads.images.starwars import BACKTRACE
from ciliumlab.workloads.net import HttpRequest, ServerContext

IMAGE = "quay.io/cilium/starwars:v2.1@sha256:833d915ec68fca3ce83668fc5dae97c455b2134d8f23ef96586f55b894cfb1e8"
NOW = 1_764_144_000.0  # Wed, 26 Nov 2025 08:00:00 GMT


def serve(method: str, target: str):
    deathstar = behaviour_for(IMAGE, {"name": "deathstar", "image": IMAGE}, now=lambda: NOW)
    ctx = ServerContext("deathstar-6c94dcc57b-7l2mq", "default", "deathstar-6c94dcc57b-7l2mq",
                        ["10.0.1.20"], "10.0.1.30", 40512, 80)
    req = HttpRequest(method, target, "deathstar.default.svc.cluster.local",
                      [("Host", "deathstar.default.svc.cluster.local"), ("User-Agent", "curl/8.14.1"),
                       ("Accept", "*/*")])
    return deathstar, deathstar.serve_http(req, ctx)


def test_landing_request_lands():
    _, resp = serve("POST", "/v1/request-landing")
    assert (resp.status, resp.reason, resp.body) == (200, "OK", b"Ship landed\n")
    assert resp.headers == [("Content-Type", "text/plain"), ("Date", "Wed, 26 Nov 2025 08:00:00 GMT"),
                            ("Content-Length", "12")]


def test_exhaust_port_explodes_with_the_demo_backtrace():
    deathstar, resp = serve("PUT", "/v1/exhaust-port")
    assert resp.status == 503 and resp.reason == "Service Unavailable"
    assert resp.body == BACKTRACE
    text = resp.body.decode()
    assert text.startswith("Panic: deathstar exploded\n\ngoroutine 1 [running]:\n")
    assert "main.HandleGarbage(0x2080c3f50, 0x2, 0x4, 0x425c0, 0x5, 0xa)\n" in text
    assert text.endswith("        temp/main.go:5 +0x85\n")
    assert resp.header("Content-Length") == str(len(BACKTRACE))
    # the handler's goroutine panics 2 s later and kills the process
    assert deathstar.crash_after(HttpRequest("PUT", "/v1/exhaust-port", "d"), resp) == 2.0


def test_landing_does_not_crash():
    deathstar, resp = serve("POST", "/v1/request-landing")
    assert deathstar.crash_after(HttpRequest("POST", "/v1/request-landing", "d"), resp) is None


def test_get_v1_lists_the_api_with_the_hostname():
    _, resp = serve("GET", "/v1")
    body = resp.body.decode()
    assert resp.status == 200 and resp.header("Content-Type") == "text/plain"
    assert body.startswith('{\n\t"name": "Death Star",\n\t"hostname": "deathstar-6c94dcc57b-7l2mq",\n')
    assert '\t\t"PUT   /v1/exhaust-port"\n\t]\n}\n' in body
    _, slash = serve("GET", "/v1/")
    assert slash.body == resp.body


def test_router_cleans_paths_and_ignores_query():
    assert serve("POST", "/v1/request-landing/")[1].body == b"Ship landed\n"
    assert serve("POST", "/v1/request-landing?fast=1")[1].body == b"Ship landed\n"


def test_unknown_path_is_a_go_openapi_404():
    _, resp = serve("GET", "/v2/nothing")
    assert resp.status == 404
    assert resp.body == b'{"code":404,"message":"path /v2/nothing was not found"}'
    assert resp.header("Content-Type") == "application/json"


def test_wrong_method_is_405_with_allow():
    _, resp = serve("GET", "/v1/request-landing")
    assert resp.status == 405 and resp.reason == "Method Not Allowed"
    assert resp.body == b'{"code":405,"message":"method GET is not allowed, but [POST] are"}'
    assert resp.header("Allow") == "POST"


def test_head_keeps_length_drops_body():
    _, resp = serve("HEAD", "/v1")
    assert resp.status == 405 and resp.body == b""
    assert resp.header("Content-Length") != "0"


def test_listens_only_on_tcp_80():
    deathstar, _ = serve("GET", "/v1")
    assert deathstar.listens("TCP", 80)
    assert not deathstar.listens("TCP", 8080)
    assert not deathstar.listens("UDP", 80)
