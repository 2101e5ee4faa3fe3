"""The simulated outside world: the few internet hosts lab scenarios talk to.

FQDN policies (`toFQDNs`), `toEntities: world`, CIDR rules and the DNS demo need names that
resolve and hosts that answer — without the lab touching the real internet. This module is a
fixed, documented table of such hosts. Addresses are realistic (taken from the providers'
published ranges) but frozen; answers are small reconstructions of what the real services
send, enough for `curl -I`, `curl -s`, `ping`, `dig` and Hubble's L7 views.

=====================  ==========================  ============  ====================================
name                   addresses                   TCP / UDP     answers (https = HTTP/2 via ALPN)
=====================  ==========================  ============  ====================================
api.github.com         140.82.112.6, 140.82.121.6  80, 443       / -> 200 JSON root API (`server: github.com`); 404 JSON elsewhere
github.com             140.82.112.3, 140.82.121.3  22, 80, 443   200 HTML; http -> 301 https
gist.github.com        140.82.112.4, 140.82.121.4  80, 443       200 HTML; http -> 301 https
support.github.com     140.82.112.18               80, 443       200 HTML; http -> 301 https
www.google.com         142.250.74.100              80, 443       200 HTML, `server: gws`
google.com             142.250.74.110              80, 443       301 -> www.google.com
example.com            23.192.228.80, 23.192.228.84 80, 443      200 "Example Domain" page
cilium.io              104.198.14.52               80, 443       200 HTML (`server: Netlify`); http -> 301
docs.cilium.io         104.17.32.82                80, 443       / -> 302 /en/stable/; 200 HTML there
httpbin.org            54.166.163.67, 3.223.36.72  80, 443       /get /ip /headers /user-agent /anything /status/N
ifconfig.me            34.160.111.145              80, 443       the client's (SNATed) source IP
api.twitter.com        104.244.42.66               80, 443       404 JSON `Sorry, that page does not exist`
twitter.com            104.244.42.1                80, 443       301 -> https://x.com/
one.one.one.one        1.1.1.1, 1.0.0.1            53u/t,80,443  by IP -> 301 https://one.one.one.one/; by name 200
dns.google             8.8.8.8, 8.8.4.4            53u/t,443,853 by IP -> 302 https://dns.google/; by name 200
(none)                 20.1.1.1, 20.1.1.2          80            200 ``ciliumlab world: <ip>:<port> answered <M> <path>``
(none)                 10.200.0.5, 10.100.0.5      80            same (outside the cluster, inside 10.0.0.0/8)
=====================  ==========================  ============  ====================================

* DNS TTLs: GitHub 60 s, Twitter 1800 s, the rest 300 s (CoreDNS's `cache 30` caps what pods see).
  Reverse (PTR): 1.1.1.1 -> one.one.one.one, 8.8.8.8 -> dns.google, GitHub ->
  lb-140-82-112-6-iad.github.com-style names, the rest none.
* Every host answers ICMP echo; RTT is fixed per host (`rtt_ms`), 4–30 ms.
* Unknown public IPs have no host: `host_for_ip` returns None and connections time out.
* Port 80 speaks HTTP/1.1; 443 speaks HTTP/2 where the real service negotiates h2 (all of the
  named hosts do), HTTP/1.1 for the raw test IPs. Header names are lower-case on HTTP/2.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from .images.httpserver import http_date, query_params, reason, split_target
from .net import DnsAnswer, DnsRecord, HttpRequest, HttpResponse, ServerContext

Responder = Callable[["WorldHost", HttpRequest, ServerContext, bool, float], tuple[int, list[tuple[str, str]], bytes]]


@dataclass(eq=False)
class WorldHost:
    """One simulated external host (possibly several names and addresses)."""

    names: tuple[str, ...]
    ips: tuple[str, ...]
    tcp_ports: frozenset[int]
    udp_ports: frozenset[int] = frozenset()
    site: str = "raw"  # key into SITES: how it answers HTTP
    ttl: int = 300
    h2: bool = True  # negotiates HTTP/2 on TLS
    rtt: float = 20.0
    icmp: bool = True
    ptr: dict[str, str] = field(default_factory=dict)  # ip -> PTR name (no trailing dot)
    clock: Callable[[], float] = time.time

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.ips[0]

    def listens(self, proto: str, port: int) -> bool:
        proto = proto.upper()
        if proto == "TCP":
            return port in self.tcp_ports
        if proto == "UDP":
            return port in self.udp_ports
        return False

    def serve_http(self, request: HttpRequest, ctx: ServerContext) -> HttpResponse:
        tls = request.scheme == "https" or ctx.local_port in (443, 8443)
        status, headers, body = SITES[self.site](self, request, ctx, tls, self.clock())
        version = "HTTP/2" if (tls and self.h2) else "HTTP/1.1"
        if version == "HTTP/2":
            headers = [(k.lower(), v) for k, v in headers]
        if request.method.upper() == "HEAD":
            body = b""
        return HttpResponse(status, reason(status), headers, body, version=version)

    def serve_udp(self, port: int, payload: bytes, ctx: ServerContext) -> bytes | None:
        """DNS on 53 is answered through `World.dns_answer`; nothing else speaks UDP."""
        return None


# ---------------------------------------------------------------------------------------------
# How each site answers HTTP. Each returns (status, headers, body); serve_http sets the version.
def _host_name(request: HttpRequest) -> str:
    return request.host.rsplit(":", 1)[0].lower() if request.host.count(":") == 1 else request.host.lower()


def _redirect(location: str, now: float, server: str, body: bytes = b"") -> tuple[int, list, bytes]:
    return 301, [("Date", http_date(now)), ("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                 ("Location", location), ("Server", server)], body


def _html_page(title: str, text: str) -> bytes:
    return (f"<!DOCTYPE html>\n<html>\n<head>\n<title>{title}</title>\n</head>\n<body>\n"
            f"<h1>{title}</h1>\n<p>{text}</p>\n</body>\n</html>\n").encode()


GITHUB_ROOT = {
    "current_user_url": "https://api.github.com/user",
    "current_user_authorizations_html_url": "https://github.com/settings/connections/applications{/client_id}",
    "authorizations_url": "https://api.github.com/authorizations",
    "code_search_url": "https://api.github.com/search/code?q={query}{&page,per_page,sort,order}",
    "commit_search_url": "https://api.github.com/search/commits?q={query}{&page,per_page,sort,order}",
    "emails_url": "https://api.github.com/user/emails",
    "emojis_url": "https://api.github.com/emojis",
    "events_url": "https://api.github.com/events",
    "feeds_url": "https://api.github.com/feeds",
    "followers_url": "https://api.github.com/user/followers",
    "following_url": "https://api.github.com/user/following{/target}",
    "gists_url": "https://api.github.com/gists{/gist_id}",
    "issue_search_url": "https://api.github.com/search/issues?q={query}{&page,per_page,sort,order}",
    "issues_url": "https://api.github.com/issues",
    "keys_url": "https://api.github.com/user/keys",
    "notifications_url": "https://api.github.com/notifications",
    "organization_url": "https://api.github.com/orgs/{org}",
    "public_gists_url": "https://api.github.com/gists/public",
    "rate_limit_url": "https://api.github.com/rate_limit",
    "repository_url": "https://api.github.com/repos/{owner}/{repo}",
    "repository_search_url": "https://api.github.com/search/repositories?q={query}{&page,per_page,sort,order}",
    "current_user_repositories_url": "https://api.github.com/user/repos{?type,page,per_page,sort}",
    "starred_url": "https://api.github.com/user/starred{/owner}{/repo}",
    "starred_gists_url": "https://api.github.com/gists/starred",
    "user_url": "https://api.github.com/users/{user}",
    "user_organizations_url": "https://api.github.com/user/orgs",
    "user_repositories_url": "https://api.github.com/users/{user}/repos{?type,page,per_page,sort}",
    "user_search_url": "https://api.github.com/search/users?q={query}{&page,per_page,sort,order}",
}


def _github_api(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    if not tls:
        return 301, [("Content-Length", "0"), ("Location", "https://api.github.com" + request.target)], b""
    path, _ = split_target(request.target)
    if path == "/":
        status, body = 200, (json.dumps(GITHUB_ROOT, indent=2) + "\n").encode()
    elif path == "/zen":
        return 200, [("Date", http_date(now)), ("Content-Type", "text/plain;charset=utf-8"),
                     ("Server", "github.com"), ("Content-Length", "26")], b"Keep it logically awesome."
    else:
        status = 404
        body = b'{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}'
    digest = hashlib.sha256(body).hexdigest()
    headers = [
        ("Date", http_date(now)), ("Content-Type", "application/json; charset=utf-8"),
        ("Cache-Control", "public, max-age=60, s-maxage=60"),
        ("Vary", "Accept,Accept-Encoding, Accept, X-Requested-With"),
        ("ETag", f'W/"{digest[:64]}"'), ("X-GitHub-Media-Type", "github.v3; format=json"),
        ("X-GitHub-Api-Version-Selected", "2022-11-28"),
        ("Access-Control-Expose-Headers", "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, "
         "X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, "
         "X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, "
         "Deprecation, Sunset"),
        ("Access-Control-Allow-Origin", "*"),
        ("Strict-Transport-Security", "max-age=31536000; includeSubdomains; preload"),
        ("X-Frame-Options", "deny"), ("X-Content-Type-Options", "nosniff"), ("X-XSS-Protection", "0"),
        ("Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin"),
        ("Content-Security-Policy", "default-src 'none'"), ("Server", "github.com"),
        ("Accept-Ranges", "bytes"), ("X-RateLimit-Limit", "60"), ("X-RateLimit-Remaining", "59"),
        ("X-RateLimit-Reset", str(int(now) + 3600)), ("X-RateLimit-Resource", "core"),
        ("X-RateLimit-Used", "1"), ("Content-Length", str(len(body))),
        ("X-GitHub-Request-Id", f"{digest[:4].upper()}:{digest[4:9].upper()}:{int(now) % 0xFFFFFF:X}"),
    ]
    if status == 404:
        headers = [h for h in headers if h[0] not in ("Cache-Control", "ETag")]
    return status, headers, body


def _github_web(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    name = _host_name(request) if _host_name(request) in host.names else host.name
    if not tls:
        return 301, [("Content-Length", "0"), ("Location", f"https://{name}{request.target}")], b""
    body = _html_page("GitHub", f"{name}: Let's build from here.")
    return 200, [("Server", "github.com"), ("Date", http_date(now)), ("Content-Type", "text/html; charset=utf-8"),
                 ("Vary", "X-PJAX, X-PJAX-Container, Turbo-Visit, Turbo-Frame, Accept-Encoding, Accept, X-Requested-With"),
                 ("Cache-Control", "max-age=0, private, must-revalidate"),
                 ("Strict-Transport-Security", "max-age=31536000; includeSubdomains; preload"),
                 ("X-Frame-Options", "deny"), ("X-Content-Type-Options", "nosniff"),
                 ("Content-Length", str(len(body)))], body


GOOGLE_MOVED = (b'<HTML><HEAD><meta http-equiv="content-type" content="text/html;charset=utf-8">\n'
                b"<TITLE>301 Moved</TITLE></HEAD><BODY>\n<H1>301 Moved</H1>\nThe document has moved\n"
                b'<A HREF="%s">here</A>.\r\n</BODY></HTML>\r\n')


def _google(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    scheme = "https" if tls else "http"
    if _host_name(request) != "www.google.com" and "www.google.com" not in host.names:
        location = f"{scheme}://www.google.com/"
        body = GOOGLE_MOVED % location.encode()
        return 301, [("Location", location), ("Content-Type", "text/html; charset=UTF-8"),
                     ("Date", http_date(now)), ("Expires", http_date(now + 2592000)),
                     ("Cache-Control", "public, max-age=2592000"), ("Server", "gws"),
                     ("Content-Length", str(len(body))), ("X-XSS-Protection", "0"),
                     ("X-Frame-Options", "SAMEORIGIN")], body
    body = (b'<!doctype html><html itemscope="" itemtype="http://schema.org/WebPage" lang="en"><head>'
            b"<title>Google</title></head><body><center>Google Search</center></body></html>")
    return 200, [("Date", http_date(now)), ("Expires", "-1"), ("Cache-Control", "private, max-age=0"),
                 ("Content-Type", "text/html; charset=ISO-8859-1"), ("Server", "gws"),
                 ("X-XSS-Protection", "0"), ("X-Frame-Options", "SAMEORIGIN"),
                 ("Content-Length", str(len(body)))], body


EXAMPLE_PAGE = b"""<!doctype html><html lang="en"><head><title>Example Domain</title><meta name="viewport" content="width=device-width, initial-scale=1"></head><body><div><h1>Example Domain</h1><p>This domain is for use in documentation examples without needing permission. Avoid use in operations.</p><p><a href="https://iana.org/domains/example">Learn more</a></p></div></body></html>
"""


def _example(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    path, _ = split_target(request.target)
    if path not in ("/", "/index.html"):
        body = _html_page("404 - Not Found", "Not Found")
        return 404, [("Content-Type", "text/html"), ("Content-Length", str(len(body))), ("Date", http_date(now)),
                     ("Connection", "keep-alive")], body
    return 200, [("Content-Type", "text/html"), ("ETag", '"bc2473a18e003bdb249eba5ce893033f:1760028122.592274"'),
                 ("Last-Modified", "Thu, 09 Oct 2025 16:42:02 GMT"), ("Cache-Control", "max-age=86000"),
                 ("Date", http_date(now)), ("Content-Length", str(len(EXAMPLE_PAGE))),
                 ("Connection", "keep-alive")], EXAMPLE_PAGE


def _cilium(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    name = _host_name(request) if _host_name(request) in host.names else host.name
    if not tls:
        return _redirect(f"https://{name}{request.target}", now, "Netlify" if name == "cilium.io" else "cloudflare")
    path, _ = split_target(request.target)
    if name == "docs.cilium.io":
        if path == "/":
            return 302, [("Date", http_date(now)), ("Content-Type", "text/html; charset=utf-8"),
                         ("Content-Length", "0"), ("Location", "https://docs.cilium.io/en/stable/"),
                         ("Server", "cloudflare")], b""
        body = _html_page("Cilium Documentation", "Welcome to Cilium's documentation!")
        return 200, [("Date", http_date(now)), ("Content-Type", "text/html"), ("Server", "cloudflare"),
                     ("Content-Length", str(len(body)))], body
    body = _html_page("Cilium - Cloud Native, eBPF-based Networking, Observability, and Security",
                      "Cilium is an open source, cloud native solution for providing, securing, and observing "
                      "network connectivity between workloads, fueled by the revolutionary Kernel technology eBPF")
    return 200, [("Accept-Ranges", "bytes"), ("Age", "0"), ("Cache-Control", "public,max-age=0,must-revalidate"),
                 ("Content-Type", "text/html; charset=UTF-8"), ("Date", http_date(now)), ("Server", "Netlify"),
                 ("Strict-Transport-Security", "max-age=31536000"), ("Content-Length", str(len(body)))], body


def _httpbin(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    path, query = split_target(request.target)
    scheme = "https" if tls else "http"
    hdrs: dict[str, str] = {}
    for k, v in request.headers:
        hdrs["-".join(p.capitalize() for p in k.split("-"))] = v
    hdrs["X-Amzn-Trace-Id"] = f"Root=1-{int(now):08x}-{hashlib.sha1(request.target.encode()).hexdigest()[:24]}"
    hdrs = dict(sorted(hdrs.items()))
    url = f"{scheme}://{_host_name(request) or host.name}{request.target}"
    data: dict | None = None
    status = 200
    if path == "/get":
        data = {"args": query_params(query), "headers": hdrs, "origin": ctx.remote_ip, "url": url}
    elif path == "/ip":
        data = {"origin": ctx.remote_ip}
    elif path == "/headers":
        data = {"headers": hdrs}
    elif path == "/user-agent":
        data = {"user-agent": request.header("User-Agent") or ""}
    elif path == "/anything" or path.startswith("/anything/"):
        data = {"args": query_params(query), "data": request.body.decode(errors="replace"), "files": {},
                "form": {}, "headers": hdrs, "json": None, "method": request.method.upper(),
                "origin": ctx.remote_ip, "url": url}
    elif path.startswith("/status/") and path[8:].isdigit():
        status = int(path[8:])
    else:
        body = (b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n'
                b"<h1>Not Found</h1>\n<p>The requested URL was not found on the server.  If you entered the URL "
                b"manually please check your spelling and try again.</p>\n")
        return 404, [("Date", http_date(now)), ("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                     ("Server", "gunicorn/19.9.0"), ("Access-Control-Allow-Origin", "*"),
                     ("Access-Control-Allow-Credentials", "true")], body
    body = (json.dumps(data, indent=2) + "\n").encode() if data is not None else b""
    ctype = "application/json" if data is not None else "text/html; charset=utf-8"
    return status, [("Date", http_date(now)), ("Content-Type", ctype), ("Content-Length", str(len(body))),
                    ("Server", "gunicorn/19.9.0"), ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Credentials", "true")], body


def _ifconfig(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    body = ctx.remote_ip.encode()
    return 200, [("Date", http_date(now)), ("Content-Type", "text/plain; charset=utf-8"),
                 ("Content-Length", str(len(body))), ("Access-Control-Allow-Origin", "*"),
                 ("Via", "1.1 google")], body


def _twitter(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    if "twitter.com" in host.names:
        return 301, [("Date", http_date(now)), ("Location", "https://x.com" + request.target),
                     ("Content-Length", "0"), ("Server", "tsa_b")], b""
    body = b'{"errors":[{"message":"Sorry, that page does not exist","code":34}]}'
    return 404, [("Date", http_date(now)), ("Content-Type", "application/json;charset=utf-8"),
                 ("Content-Length", str(len(body))), ("Server", "tsa_b")], body


def _resolver_site(canonical: str, server: str, moved: int) -> Responder:
    """1.1.1.1 / 8.8.8.8 web front ends: by IP they redirect to their name, by name 200."""
    def respond(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
        if not tls:
            return _redirect(f"https://{_host_name(request)}{request.target}", now, server)
        if _host_name(request) != canonical:
            return moved, [("Date", http_date(now)), ("Content-Length", "0"),
                           ("Location", f"https://{canonical}/"), ("Server", server)], b""
        body = _html_page(canonical, f"{canonical} — free public DNS resolver")
        return 200, [("Date", http_date(now)), ("Content-Type", "text/html; charset=utf-8"),
                     ("Content-Length", str(len(body))), ("Server", server)], body
    return respond


def _raw(host: WorldHost, request: HttpRequest, ctx: ServerContext, tls: bool, now: float):
    target = ctx.ips[0] if ctx.ips else host.ips[0]
    body = f"ciliumlab world: {target}:{ctx.local_port} answered {request.method} {request.target}\n".encode()
    return 200, [("Server", "ciliumlab-world"), ("Date", http_date(now)),
                 ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))], body


SITES: dict[str, Responder] = {
    "github-api": _github_api, "github-web": _github_web, "google": _google, "example": _example,
    "cilium": _cilium, "httpbin": _httpbin, "ifconfig": _ifconfig, "twitter": _twitter,
    "cloudflare-dns": _resolver_site("one.one.one.one", "cloudflare", 301),
    "google-dns": _resolver_site("dns.google", "scaffolding on HTTPServer2", 302),
    "raw": _raw,
}

WEB = frozenset({80, 443})


def _github_ptr(*ips: str) -> dict[str, str]:
    return {ip: f"lb-{ip.replace('.', '-')}-{'iad' if ip.startswith('140.82.112.') else 'fra'}.github.com"
            for ip in ips}


DEFAULT_HOSTS: tuple[WorldHost, ...] = (
    WorldHost(("api.github.com",), ("140.82.112.6", "140.82.121.6"), WEB, site="github-api", ttl=60, rtt=21.0,
              ptr=_github_ptr("140.82.112.6", "140.82.121.6")),
    WorldHost(("github.com",), ("140.82.112.3", "140.82.121.3"), frozenset({22, 80, 443}), site="github-web",
              ttl=60, rtt=21.0, ptr=_github_ptr("140.82.112.3", "140.82.121.3")),
    WorldHost(("gist.github.com",), ("140.82.112.4", "140.82.121.4"), WEB, site="github-web", ttl=60, rtt=21.0,
              ptr=_github_ptr("140.82.112.4", "140.82.121.4")),
    WorldHost(("support.github.com",), ("140.82.112.18",), WEB, site="github-web", ttl=60, rtt=22.0,
              ptr=_github_ptr("140.82.112.18")),
    WorldHost(("www.google.com",), ("142.250.74.100",), WEB, site="google", rtt=9.0),
    WorldHost(("google.com",), ("142.250.74.110",), WEB, site="google", rtt=9.0),
    WorldHost(("example.com",), ("23.192.228.80", "23.192.228.84"), WEB, site="example", rtt=14.0),
    WorldHost(("cilium.io",), ("104.198.14.52",), WEB, site="cilium", rtt=18.0),
    WorldHost(("docs.cilium.io",), ("104.17.32.82",), WEB, site="cilium", rtt=6.0),
    WorldHost(("httpbin.org",), ("54.166.163.67", "3.223.36.72"), WEB, site="httpbin", rtt=29.0),
    WorldHost(("ifconfig.me",), ("34.160.111.145",), WEB, site="ifconfig", rtt=8.0),
    WorldHost(("api.twitter.com",), ("104.244.42.66",), WEB, site="twitter", ttl=1800, rtt=24.0),
    WorldHost(("twitter.com",), ("104.244.42.1",), WEB, site="twitter", ttl=1800, rtt=24.0),
    WorldHost(("one.one.one.one",), ("1.1.1.1", "1.0.0.1"), frozenset({53, 80, 443}), frozenset({53}),
              site="cloudflare-dns", rtt=4.2, ptr={"1.1.1.1": "one.one.one.one", "1.0.0.1": "one.one.one.one"}),
    WorldHost(("dns.google",), ("8.8.8.8", "8.8.4.4"), frozenset({53, 443, 853}), frozenset({53}),
              site="google-dns", rtt=9.7, ptr={"8.8.8.8": "dns.google", "8.8.4.4": "dns.google"}),
    WorldHost((), ("20.1.1.1",), frozenset({80}), h2=False, rtt=12.0),
    WorldHost((), ("20.1.1.2",), frozenset({80}), h2=False, rtt=12.0),
    WorldHost((), ("10.200.0.5",), frozenset({80}), h2=False, rtt=5.0),
    WorldHost((), ("10.100.0.5",), frozenset({80}), h2=False, rtt=5.0),
)

#: The longest TTL CoreDNS hands out for forwarded answers (kubeadm Corefile: `cache 30`).
MAX_FORWARDED_TTL = 30


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def reverse_name(ip: str) -> str:
    """8.8.8.8 -> 8.8.8.8.in-addr.arpa."""
    return ipaddress.ip_address(ip).reverse_pointer + "."


def ip_from_reverse(qname: str) -> str | None:
    """The IPv4 address a `d.c.b.a.in-addr.arpa.` name stands for, or None."""
    name = _norm(qname)
    if not name.endswith(".in-addr.arpa"):
        return None
    parts = name[: -len(".in-addr.arpa")].split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 and str(int(p)) == p for p in parts):
        return None
    return ".".join(reversed(parts))


class World:
    """Lookup tables over a set of `WorldHost`s."""

    def __init__(self, hosts: Iterable[WorldHost] = DEFAULT_HOSTS, *, now: Callable[[], float] | None = None) -> None:
        # copies: a World's clock and tables never leak into another World (one per lab)
        self.hosts = [replace(h, ptr=dict(h.ptr)) for h in hosts]
        self._by_name: dict[str, WorldHost] = {}
        self._by_ip: dict[str, WorldHost] = {}
        for host in self.hosts:
            for name in host.names:
                self._by_name[_norm(name)] = host
            for ip in host.ips:
                self._by_ip[ip] = host
        if now is not None:
            self.set_clock(now)

    def set_clock(self, now: Callable[[], float]) -> None:
        """Use the lab clock for `Date` headers (default: wall clock)."""
        for host in self.hosts:
            host.clock = now

    # -- DNS -----------------------------------------------------------------------------------
    def resolve(self, name: str) -> list[str]:
        """A records of a name (case-insensitive, trailing dot optional); [] if it does not exist."""
        host = self._by_name.get(_norm(name))
        return list(host.ips) if host is not None else []

    def ttl(self, name: str) -> int:
        host = self._by_name.get(_norm(name))
        return host.ttl if host is not None else 0

    def reverse(self, ip: str) -> str | None:
        """PTR name (without trailing dot) of an address, if the world publishes one."""
        host = self._by_ip.get(ip)
        return host.ptr.get(ip) if host is not None else None

    def dns_answer(self, qname: str, qtype: str = "A", *, max_ttl: int | None = None) -> DnsAnswer:
        """What a public recursive resolver (8.8.8.8, 1.1.1.1, CoreDNS's upstream) answers.

        A: the host's addresses; PTR: `reverse`; other types of a known name: NOERROR and no
        records (the world is IPv4-only); unknown names: NXDOMAIN. `max_ttl` caps TTLs the way a
        cache in front of the resolver does.
        """
        fqdn = _fqdn(qname)
        qtype = qtype.upper()
        if qtype == "PTR":
            ip = ip_from_reverse(fqdn)
            ptr = self.reverse(ip) if ip else None
            if ptr is None:
                return DnsAnswer("NXDOMAIN", fqdn, qtype)
            ttl = self._by_ip[ip].ttl if ip else 0
            ttl = min(ttl, max_ttl) if max_ttl is not None else ttl
            return DnsAnswer("NOERROR", fqdn, qtype, [DnsRecord(fqdn, ttl, "PTR", _fqdn(ptr))])
        host = self._by_name.get(_norm(fqdn))
        if host is None:
            return DnsAnswer("NXDOMAIN", fqdn, qtype)
        if qtype != "A":
            return DnsAnswer("NOERROR", fqdn, qtype)
        ttl = min(host.ttl, max_ttl) if max_ttl is not None else host.ttl
        return DnsAnswer("NOERROR", fqdn, qtype, [DnsRecord(fqdn, ttl, "A", ip) for ip in host.ips])

    # -- hosts -----------------------------------------------------------------------------------
    def host_for_ip(self, ip: str) -> WorldHost | None:
        return self._by_ip.get(ip)

    def host_for_name(self, name: str) -> WorldHost | None:
        return self._by_name.get(_norm(name))

    def answers_icmp(self, ip: str) -> bool:
        host = self._by_ip.get(ip)
        return host is not None and host.icmp

    def rtt_ms(self, ip: str) -> float:
        """Round-trip time to an address: the host's, else a stable 5–30 ms derived from the IP."""
        host = self._by_ip.get(ip)
        if host is not None:
            return host.rtt
        h = int.from_bytes(hashlib.sha1(ip.encode()).digest()[:4], "big")
        return round(5.0 + (h % 2500) / 100.0, 2)


WORLD = World()
