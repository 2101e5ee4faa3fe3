"""dig, nslookup, host, ping, nc, wget and ip against the fake world."""

from __future__ import annotations

from ciliumlab.workloads.shell import run_command
from tests.workloads.fakenet import FakeNet


def run(argv, image="nicolaka/netshoot", net=None, **kw):
    return run_command(net or FakeNet(), argv, image=image, **kw)


def test_dig_full_output():
    r = run(["dig", "webpod.default.svc.cluster.local"])
    lines = r.stdout.split("\n")
    assert lines[:3] == ["", "; <<>> DiG 9.20.11 <<>> webpod.default.svc.cluster.local", ";; global options: +cmd"]
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: " in r.stdout
    assert ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n" in r.stdout
    assert ";webpod.default.svc.cluster.local. IN\tA\n" in r.stdout
    assert "\n;; ANSWER SECTION:\nwebpod.default.svc.cluster.local. 30 IN\tA\t10.96.88.194\n" in r.stdout
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)\n;; WHEN: Wed Nov 26 08:00:00 UTC 2025\n" in r.stdout
    assert r.exit_code == 0


def test_dig_short_nxdomain_search_and_timeout():
    assert run(["dig", "+short", "webpod.default.svc.cluster.local"]).stdout == "10.96.88.194\n"
    assert run(["dig", "+short", "webpod"]).stdout == ""  # no search list by default
    assert run(["dig", "+short", "+search", "webpod"]).stdout == "10.96.88.194\n"
    r = run(["dig", "nosuch.default.svc.cluster.local"])
    assert "status: NXDOMAIN" in r.stdout and "\n;; AUTHORITY SECTION:\ncluster.local.\t\t30\tIN\tSOA\t" in r.stdout
    r = run(["dig", "@10.1.1.1", "webpod"])
    assert r.stdout == (";; communications error to 10.1.1.1#53: timed out\n" * 3 +
                        "\n; <<>> DiG 9.20.11 <<>> @10.1.1.1 webpod\n;; global options: +cmd\n"
                        ";; no servers could be reached\n")
    assert r.exit_code == 9


def test_nslookup_bind_and_busybox():
    r = run(["nslookup", "webpod"])
    assert r.stdout == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
                        "Name:\twebpod.default.svc.cluster.local\nAddress: 10.96.88.194\n\n")
    r = run(["nslookup", "nosuch"])
    assert r.stdout.endswith("** server can't find nosuch: NXDOMAIN\n\n") and r.exit_code == 1
    r = run(["nslookup", "webpod"], image="busybox")
    assert r.stdout.startswith("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n")
    net = FakeNet(dns_down=True)
    r = run(["nslookup", "webpod"], net=net)
    assert (r.stdout, r.exit_code) == (";; connection timed out; no servers could be reached\n\n", 1)


def test_host():
    assert run(["host", "webpod"]).stdout == "webpod.default.svc.cluster.local has address 10.96.88.194\n"
    r = run(["host", "nosuch"])
    assert (r.stdout, r.exit_code) == ("Host nosuch not found: 3(NXDOMAIN)\n", 1)


def test_ping_iputils():
    r = run(["ping", "-c", "2", "10.0.1.20"])
    assert r.stdout == (
        "PING 10.0.1.20 (10.0.1.20) 56(84) bytes of data.\n"
        "64 bytes from 10.0.1.20: icmp_seq=1 ttl=63 time=0.123 ms\n"
        "64 bytes from 10.0.1.20: icmp_seq=2 ttl=63 time=0.123 ms\n\n"
        "--- 10.0.1.20 ping statistics ---\n"
        "2 packets transmitted, 2 received, 0% packet loss, time 1000ms\n"
        "rtt min/avg/max/mdev = 0.123/0.123/0.123/0.000 ms\n")
    assert r.exit_code == 0
    r = run(["ping", "-c", "1", "-W", "1", "10.9.9.9"])
    assert "1 packets transmitted, 0 received, 100% packet loss" in r.stdout and r.exit_code == 1
    r = run(["ping", "nosuch"])
    assert (r.stderr, r.exit_code) == ("ping: nosuch: Name or service not known\n", 2)


def test_ping_busybox_and_deadline_summary():
    r = run(["ping", "-c", "1", "10.0.1.20"], image="busybox")
    assert r.stdout == ("PING 10.0.1.20 (10.0.1.20): 56 data bytes\n64 bytes from 10.0.1.20: seq=0 ttl=63 time=0.123 ms\n\n"
                        "--- 10.0.1.20 ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\n"
                        "round-trip min/avg/max = 0.123/0.123/0.123 ms\n")
    assert run(["ping", "nosuch"], image="busybox").stderr == "ping: bad address 'nosuch'\n"
    net = FakeNet()
    r = run(["ping", "10.0.1.20"], net=net, deadline=net.now() + 2.5)
    assert r.timed_out and "3 packets transmitted, 3 received" in r.stdout


def test_nc():
    r = run(["nc", "-zv", "webpod", "80"])
    assert (r.stderr, r.exit_code) == ("Connection to webpod (10.96.88.194) 80 port [tcp/http] succeeded!\n", 0)
    r = run(["nc", "-zv", "refused", "80"])
    assert (r.stderr, r.exit_code) == ("nc: connect to refused (10.96.6.6) port 80 (tcp) failed: Connection refused\n", 1)
    r = run(["nc", "-zv", "-w", "2", "dropped", "80"])
    assert r.stderr == "nc: connect to dropped (10.96.9.9) port 80 (tcp) timed out: Operation now in progress\n"
    r = run(["nc", "-z", "nosuch", "80"])
    assert r.stderr == 'nc: getaddrinfo for host "nosuch" port 80: Name does not resolve\n'
    r = run(["sh", "-c", "printf 'GET / HTTP/1.0\\r\\nHost: webpod\\r\\n\\r\\n' | nc webpod 80"])
    assert r.stdout.startswith("HTTP/1.1 200 OK\r\n") and "Hostname: webpod" in r.stdout


def test_wget():
    r = run(["wget", "-qO-", "webpod"], image="busybox")
    assert r.stdout.startswith("Hostname: webpod") and (r.stderr, r.exit_code) == ("", 0)
    r = run(["wget", "-O-", "webpod"], image="busybox")
    assert r.stderr.startswith("Connecting to webpod (10.96.88.194:80)\nwriting to stdout\n")
    assert r.stderr.endswith("written to stdout\n")
    assert run(["wget", "-q", "nosuch"], image="busybox").stderr == "wget: bad address 'nosuch'\n"
    r = run(["wget", "-q", "-T", "2", "dropped"], image="busybox")
    assert (r.stderr, r.exit_code) == ("wget: download timed out\n", 1)
    r = run(["wget", "-q", "refused"], image="busybox")
    assert r.stderr == "wget: can't connect to remote host (10.96.6.6): Connection refused\n"


def test_wget_http_error():
    from ciliumlab.workloads.net import HttpResponse

    net = FakeNet()
    net.services[("10.96.7.7", 80)] = lambda req: HttpResponse(403, "Forbidden", [], b"Access denied\n")
    r = run(["wget", "-qO-", "deathstar"], image="busybox", net=net)
    assert (r.stdout, r.stderr, r.exit_code) == ("", "wget: server returned error: HTTP/1.1 403 Forbidden\n", 1)


def test_ip_addr_and_route():
    r = run(["ip", "-4", "a"])
    assert r.stdout == (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
        "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
        "12: eth0@if13: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n"
        "    inet 10.0.0.5/32 scope global eth0\n       valid_lft forever preferred_lft forever\n")
    assert "    link/ether 8a:1c:3e:4f:5a:6b brd ff:ff:ff:ff:ff:ff link-netnsid 0\n" in run(["ip", "addr"]).stdout
    assert run(["ip", "r"]).stdout == "default via 10.0.0.84 dev eth0 \n10.0.0.84 dev eth0 scope link \n"
    r = run(["ip", "a", "show", "eth9"])
    assert (r.stderr, r.exit_code) == ('Device "eth9" does not exist.\n', 1)
