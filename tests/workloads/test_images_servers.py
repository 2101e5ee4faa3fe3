"""nginx, json-mock, the CoreDNS container, client images and the generic fallback."""

import json

import pytest

from ciliumlab.workloads.images.base import Behaviour
from ciliumlab.workloads.images.coredns_server import CorednsBehaviour
from ciliumlab.workloads.images.generic import ClientBehaviour, GenericBehaviour
from ciliumlab.workloads.images.jsonmock import JsonMockBehaviour, express_etag
from ciliumlab.workloads.images.nginx import NginxBehaviour, nginx_version
from ciliumlab.workloads.images.registry import behaviour_for, repository_of
from ciliumlab.workloads.images.starwars import StarwarsBehaviour
from ciliumlab.workloads.images.whoami import WhoamiBehaviour
from ciliumlab.workloads.net import HttpRequest, ServerContext

NOW = 1_764_144_000.0


def ctx(port: int = 80) -> ServerContext:
    return ServerContext("tiefighter", "default", "tiefighter", ["10.0.1.50"], "10.0.2.7", 51234, port)


def get(behaviour, target: str, method: str = "GET", port: int = 80, headers=None):
    return behaviour.serve_http(HttpRequest(method, target, "x", headers or [("Host", "x")]), ctx(port))


# -- registry ------------------------------------------------------------------------------------
@pytest.mark.parametrize("image,repo", [
    ("quay.io/cilium/starwars:v2.1@sha256:833d915ec68f", "cilium/starwars"),
    ("docker.io/traefik/whoami", "traefik/whoami"),
    ("traefik/whoami:v1.10", "traefik/whoami"),
    ("nginx", "nginx"),
    ("docker.io/library/nginx:1.27-alpine", "nginx"),
    ("localhost:5000/team/app:dev", "team/app"),
    ("registry.k8s.io/coredns/coredns:v1.11.3", "coredns/coredns"),
])
def test_repository_ignores_registry_tag_and_digest(image, repo):
    assert repository_of(image) == repo


@pytest.mark.parametrize("image,cls", [
    ("quay.io/cilium/starwars:v2.1", StarwarsBehaviour),
    ("quay.io/cilium/json-mock:v1.3.8@sha256:5aad", JsonMockBehaviour),
    ("traefik/whoami", WhoamiBehaviour),
    ("nginx:1.25.3", NginxBehaviour),
    ("registry.k8s.io/coredns/coredns:v1.11.3", CorednsBehaviour),
    ("nicolaka/netshoot", ClientBehaviour),
    ("curlimages/curl:8.10.1", ClientBehaviour),
    ("busybox:1.36", ClientBehaviour),
    ("ghcr.io/acme/shop:1.0", GenericBehaviour),
])
def test_behaviour_for_picks_the_model(image, cls):
    assert type(behaviour_for(image, {"image": image})) is cls


def test_client_images_listen_on_nothing():
    netshoot = behaviour_for("nicolaka/netshoot", {"ports": [{"containerPort": 80}]})
    assert isinstance(netshoot, Behaviour) and not netshoot.listens("TCP", 80)


# -- nginx -----------------------------------------------------------------------------------------
def test_nginx_welcome_page():
    nginx = behaviour_for("nginx:1.27.5", {}, now=lambda: NOW)
    resp = get(nginx, "/")
    assert resp.status == 200 and len(resp.body) == 615
    assert b"<title>Welcome to nginx!</title>" in resp.body
    assert resp.headers == [
        ("Server", "nginx/1.27.5"), ("Date", "Wed, 26 Nov 2025 08:00:00 GMT"), ("Content-Type", "text/html"),
        ("Content-Length", "615"), ("Last-Modified", "Wed, 16 Apr 2025 12:01:11 GMT"),
        ("Connection", "keep-alive"), ("ETag", '"67ff9c07-267"'), ("Accept-Ranges", "bytes")]
    assert get(nginx, "/", "HEAD").body == b""


def test_nginx_404_and_405():
    nginx = behaviour_for("nginx", {}, now=lambda: NOW)
    missing = get(nginx, "/nope")
    assert (missing.status, missing.header("Content-Length")) == (404, "153")
    assert missing.body == (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                            b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.5</center>\r\n"
                            b"</body>\r\n</html>\r\n")
    put = get(nginx, "/", "PUT")
    assert (put.status, put.reason) == (405, "Not Allowed") and b"405 Not Allowed" in put.body


def test_nginx_version_from_tag():
    assert nginx_version("nginx:1.25.3-alpine") == "1.25.3"
    assert nginx_version("nginx:1.26") == "1.26.3"
    assert nginx_version("nginx:latest") == "1.27.5"
    assert nginx_version("docker.io/library/nginx@sha256:abc") == "1.27.5"


# -- json-mock -------------------------------------------------------------------------------------
def test_json_mock_collections_and_items():
    mock = behaviour_for("quay.io/cilium/json-mock:v1.3.8", {}, now=lambda: NOW)
    public = get(mock, "/public")
    assert public.status == 200
    assert public.body == b'[\n  {\n    "id": 1,\n    "body": "public information"\n  }\n]'
    assert public.header("Content-Type") == "application/json; charset=utf-8"
    assert public.header("X-Powered-By") == "Express"
    assert public.header("ETag") == express_etag(public.body) and public.header("ETag").startswith('W/"39-')
    assert json.loads(get(mock, "/private/1").body) == {"id": 1, "body": "secret information"}
    assert set(json.loads(get(mock, "/db").body)) == {"private", "public"}


def test_json_mock_middleware_and_404():
    mock = behaviour_for("quay.io/cilium/json-mock", {}, now=lambda: NOW)
    assert json.loads(get(mock, "/client-ip").body) == {"client-ip": "10.0.2.7"}
    assert json.loads(get(mock, "/hostname").body) == {"hostname": "tiefighter"}
    missing = get(mock, "/public/2")
    assert (missing.status, missing.body) == (404, b"{}")
    denied = get(mock, "/auth-header-required/x")
    assert denied.status == 401 and b"Bearer 123456" in denied.body
    ok = get(mock, "/auth-header-required", headers=[("Authorization", "Bearer 123456")])
    assert ok.status == 404  # past the middleware: no such resource
    home = get(mock, "/")
    assert home.status == 200 and b"You're successfully running JSON Server" in home.body


def test_json_mock_port_from_env():
    mock = behaviour_for("quay.io/cilium/json-mock", {"env": [{"name": "PORT", "value": "8080"}]})
    assert mock.listens("TCP", 8080) and not mock.listens("TCP", 80)


# -- coredns container -----------------------------------------------------------------------------
def test_coredns_container_ports_and_probes():
    dns = behaviour_for("registry.k8s.io/coredns/coredns:v1.12.0", {}, now=lambda: NOW)
    assert dns.listens("UDP", 53) and dns.listens("TCP", 53) and dns.listens("TCP", 9153)
    assert not dns.listens("UDP", 9153) and not dns.listens("TCP", 80)
    health = get(dns, "/health", port=8080)
    assert (health.status, health.body, health.header("Content-Type")) == (200, b"OK", "text/plain; charset=utf-8")
    assert get(dns, "/ready", port=8181).body == b"OK"
    metrics = get(dns, "/metrics", port=9153)
    assert metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    assert b'coredns_build_info{goversion="go1.21.11",revision="a6338e9",version="1.12.0"} 1' in metrics.body
    nf = get(dns, "/ready", port=8080)
    assert (nf.status, nf.body) == (404, b"404 page not found\n")
    assert dns.serve_udp(53, b"\x00", ctx(53)) is None


# -- generic -----------------------------------------------------------------------------------------
def test_generic_answers_declared_ports_only():
    c = {"image": "ghcr.io/acme/shop:1.0",
         "ports": [{"containerPort": 8080}, {"containerPort": 5353, "protocol": "UDP"}, {"name": "x"}]}
    app = behaviour_for(c["image"], c, now=lambda: NOW)
    assert app.listens("TCP", 8080) and app.listens("UDP", 5353)
    assert not app.listens("TCP", 80) and not app.listens("TCP", 5353)
    resp = get(app, "/path?q=1", port=8080)
    assert resp.status == 200
    assert resp.body == b"ciliumlab: ghcr.io/acme/shop:1.0 on tiefighter:8080 answered GET /path?q=1\n"
    assert app.serve_udp(5353, b"ping", ctx(5353)) == b"ciliumlab: ghcr.io/acme/shop:1.0 on tiefighter:5353 answered UDP\n"
    assert app.serve_udp(9999, b"ping", ctx(9999)) is None
