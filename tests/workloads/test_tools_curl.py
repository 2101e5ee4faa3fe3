"""curl: request building, output options and every failure path (messages, exit codes)."""

from __future__ import annotations

from ciliumlab.workloads.net import HttpResponse
from ciliumlab.workloads.shell import run_command
from tests.workloads.fakenet import FakeNet


def curl(*args, net=None, **kw):
    net = net or FakeNet()
    kw.setdefault("image", "nicolaka/netshoot")
    kw.setdefault("tty", True)
    return run_command(net, ["curl", *args], **kw), net


def test_get_body_exactly_and_default_headers():
    r, net = curl("-s", "webpod")
    assert r.stdout.startswith("Hostname: webpod-697b545f57-abcde\n") and r.exit_code == 0
    ip, port, req = net.requests[0]
    assert (ip, port, req.method, req.target) == ("10.96.88.194", 80, "GET", "/")
    assert req.headers == [("Host", "webpod"), ("User-Agent", "curl/8.14.1"), ("Accept", "*/*")]


def test_combined_flags_post_and_data():
    _, net = curl("-sXPOST", "deathstar.default.svc.cluster.local/v1/request-landing", "-H", "X-A: 1",
                  net=_with_deathstar())
    req = net.requests[0][2]
    assert (req.method, req.target, req.host, req.body) == ("POST", "/v1/request-landing",
                                                            "deathstar.default.svc.cluster.local", b"")
    _, net = curl("-s", "-d", "a=1", "--data", "b=2", "http://webpod:80/x?q=1")
    req = net.requests[0][2]
    assert (req.method, req.target, req.body) == ("POST", "/x?q=1", b"a=1&b=2")
    assert req.headers[-2:] == [("Content-Length", "7"), ("Content-Type", "application/x-www-form-urlencoded")]


def _with_deathstar() -> FakeNet:
    net = FakeNet()
    net.services[("10.96.7.7", 80)] = lambda req: HttpResponse(200, "OK", [("Content-Length", "12")], b"Ship landed\n")
    return net


def test_write_out_and_output_file():
    r, _ = curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{remote_ip}:%{remote_port} %{size_download}\\n", "webpod")
    assert r.stdout == "200 10.96.88.194:80 90\n"


def test_include_and_head():
    r, _ = curl("-si", "webpod")
    assert r.stdout.startswith("HTTP/1.1 200 OK\r\nContent-Length: 90\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHostname:")
    r, net = curl("-sI", "webpod")
    assert r.stdout.endswith("\r\n\r\n") and "Hostname" not in r.stdout
    assert net.requests[0][2].method == "HEAD"


def test_verbose_trace():
    r, _ = curl("-sv", "webpod")
    assert r.stderr == (
        "* Host webpod:80 was resolved.\n* IPv6: (none)\n* IPv4: 10.96.88.194\n"
        "*   Trying 10.96.88.194:80...\n* Connected to webpod (10.96.88.194) port 80\n* using HTTP/1.x\n"
        "> GET / HTTP/1.1\r\n> Host: webpod\r\n> User-Agent: curl/8.14.1\r\n> Accept: */*\r\n> \r\n"
        "* Request completely sent off\n< HTTP/1.1 200 OK\r\n< Content-Length: 90\r\n"
        "< Content-Type: text/plain; charset=utf-8\r\n< \r\n* Connection #0 to host webpod left intact\n"
    )


def test_progress_meter_only_without_tty_and_without_s():
    r, _ = curl("webpod", tty=False)
    assert r.stderr.startswith("  % Total    % Received % Xferd  Average Speed")
    assert r.stderr.endswith("\n") and "100    90  100    90" in r.stderr
    r, _ = curl("webpod", tty=True)
    assert r.stderr == ""


def test_could_not_resolve():
    r, _ = curl("-sS", "nosuch")
    assert (r.stdout, r.stderr, r.exit_code) == ("", "curl: (6) Could not resolve host: nosuch\n", 6)
    r, _ = curl("-s", "nosuch")
    assert (r.stderr, r.exit_code) == ("", 6)


def test_refused():
    r, _ = curl("-sS", "refused")
    assert r.stderr == "curl: (7) Failed to connect to refused port 80 after 1 ms: Could not connect to server\n"
    assert r.exit_code == 7


def test_connect_timeout_flag():
    r, net = curl("-s", "-XPOST", "dropped/v1/request-landing", "--connect-timeout", "2")
    assert (r.stdout, r.stderr, r.exit_code) == ("", "", 28)
    r, _ = curl("-sS", "--connect-timeout", "2", "dropped")
    assert r.stderr == "curl: (28) Failed to connect to dropped port 80 after 2001 ms: Timeout was reached\n"


def test_max_time_while_connecting_and_after():
    r, _ = curl("-sS", "-m", "3", "dropped")
    assert (r.stderr, r.exit_code) == ("curl: (28) Connection timed out after 3000 milliseconds\n", 28)
    r, _ = curl("-sSm3", "slow")
    assert r.stderr == "curl: (28) Operation timed out after 3000 milliseconds with 0 bytes received\n"


def test_kernel_gives_up_without_timeout_flags():
    net = FakeNet()
    start = net.now()
    r, _ = curl("-sS", "dropped", net=net)
    assert r.stderr == "curl: (28) Failed to connect to dropped port 80 after 130001 ms: Could not connect to server\n"
    assert r.exit_code == 28 and net.now() - start >= 130


def test_deadline_inside_connect_wait_is_not_a_curl_error():
    net = FakeNet()
    r, _ = curl("-sS", "dropped", net=net, deadline=net.now() + 5)
    assert (r.stderr, r.timed_out, r.exit_code) == ("", True, 124)


def test_fail_and_follow_redirects():
    net = FakeNet()
    net.services[("10.96.4.4", 80)] = lambda req: (
        HttpResponse(302, "Found", [("Location", "http://webpod/")]) if req.target == "/" else
        HttpResponse(404, "Not Found", [], b"nope"))
    r, _ = curl("-sSf", "redir/missing", net=net)
    assert (r.stdout, r.stderr, r.exit_code) == ("", "curl: (22) The requested URL returned error: 404\n", 22)
    r, _ = curl("-sL", "redir", net=net)
    assert r.stdout.startswith("Hostname: webpod") and r.exit_code == 0
    r, _ = curl("-s", "-w", "%{http_code}", "redir", net=net)
    assert (r.stdout, r.exit_code) == ("302", 0)


def test_usage_errors():
    r, _ = curl()
    assert (r.stderr, r.exit_code) == (
        "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2)
    r, _ = curl("--bogus", "webpod")
    assert r.stderr.startswith("curl: option --bogus: is unknown\n") and r.exit_code == 2
    r, _ = curl("-sS", "ftp://webpod/")
    assert (r.stderr, r.exit_code) == ('curl: (1) Protocol "ftp" not supported\n', 1)
    r, _ = curl("-sS", "webpod:99999")
    assert r.exit_code == 3
