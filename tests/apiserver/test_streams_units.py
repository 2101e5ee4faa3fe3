"""Units of the exec / port-forward streams: SPDY framing, the pty line discipline, HTTP on the
wire, the Status shapes, lock-releasing sleep, and both protocols spoken by a raw aiohttp client."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time

import aiohttp
import pytest

from ciliumlab import Lab
from ciliumlab.k8s.apiserver import spdy
from ciliumlab.k8s.apiserver.exec_stream import (
    _stdin_lines_needed,
    exit_status,
    interactive_shell,
    internal_status,
    status_for,
)
from ciliumlab.k8s.apiserver.httpwire import HttpParseError, RequestParser, render_response
from ciliumlab.k8s.apiserver.tty import LineDiscipline, onlcr
from ciliumlab.k8s.apiserver.worker import GateHold, ServedNet
from ciliumlab.workloads.net import HttpRequest, HttpResponse
from tests.apiserver.kube import LabServer
from tests.conftest import shared_fixture


# -- SPDY -----------------------------------------------------------------------------------
def test_spdy_dictionary_is_the_spdy3_one() -> None:
    assert len(spdy.DICTIONARY) == 1423
    assert hashlib.sha256(spdy.DICTIONARY).hexdigest() == \
        "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"


def test_spdy_frames_survive_any_split_and_share_one_zlib_context() -> None:
    client, server = spdy.HeaderCodec(), spdy.HeaderCodec()
    wire = (spdy.syn_stream(client, 1, {"streamtype": "error", "port": "80", "requestid": "0"})
            + spdy.data_frame(1, b"", fin=True)
            + spdy.syn_stream(client, 3, {"streamtype": "data", "port": "80", "requestid": "0"})
            + spdy.data_frame(3, b"GET / HTTP/1.1\r\n\r\n")
            + spdy.rst_stream(3, spdy.RST_CANCEL) + spdy.ping(7))
    reader = spdy.FrameReader(server)
    frames = [f for i in range(len(wire)) for f in reader.feed(wire[i:i + 1])]  # one byte at a time
    assert [(f.ctype, f.stream_id, f.fin) for f in frames] == [
        (spdy.SYN_STREAM, 1, False), (None, 1, True), (spdy.SYN_STREAM, 3, False), (None, 3, False),
        (spdy.RST_STREAM, 3, False), (spdy.PING, 0, False)]
    assert frames[0].headers == {"streamtype": "error", "port": "80", "requestid": "0"}
    assert frames[2].headers["streamtype"] == "data"  # decoded with the context the first block primed
    assert frames[3].payload == b"GET / HTTP/1.1\r\n\r\n"
    assert (frames[4].status, frames[5].status) == (spdy.RST_CANCEL, 7)
    # and the other direction
    reply = spdy.FrameReader(spdy.HeaderCodec()).feed(spdy.syn_reply(server, 3, {"a": "b"}))[0]
    assert (reply.ctype, reply.stream_id, reply.headers) == (spdy.SYN_REPLY, 3, {"a": "b"})


def test_spdy_rejects_other_versions() -> None:
    bad = b"\x80\x02\x00\x01\x00\x00\x00\x00"
    with pytest.raises(spdy.SpdyError):
        spdy.FrameReader(spdy.HeaderCodec()).feed(bad)


# -- tty --------------------------------------------------------------------------------------
def test_line_discipline() -> None:
    ld = LineDiscipline()
    echo, events = ld.feed(b"ls -l\x7f\x7fa\x1b[A\r")
    assert echo == b"ls -l\b \b\b \ba\r\n"  # the arrow key is swallowed, not echoed
    assert [(e.kind, e.text) for e in events] == [("line", "ls a")]
    echo, events = ld.feed(b"abc def\x17\x15x\x03\x04")
    assert echo.startswith(b"abc def\b \b\b \b\b \b")
    assert echo.endswith(b"x^C")
    assert [e.kind for e in events] == ["intr", "eof"]
    echo, events = ld.feed("é\x7f\n".encode())  # DEL erases the whole UTF-8 character
    assert (echo, [(e.kind, e.text) for e in events]) == (b"\xc3\xa9\b \b\r\n", [("line", "")])
    assert onlcr("a\nb\r\n") == "a\r\nb\r\n"


# -- HTTP on the wire ---------------------------------------------------------------------------
def test_request_parser_pipelining_bodies_and_errors() -> None:
    p = RequestParser()
    p.feed(b"POST /v1/request-landing HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 5\r\n\r\nab")
    assert p.next_request() is None  # the body is not complete yet
    p.feed(b"cdePUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    first = p.next_request()
    assert (first.method, first.target, first.host, first.body) == ("POST", "/v1/request-landing",
                                                                    "127.0.0.1:8080", b"abcde")
    second = p.next_request()
    assert (second.method, second.body, p.next_request()) == ("PUT", b"abcde", None)
    assert not RequestParser.wants_close(first)
    assert RequestParser.wants_close(HttpRequest("GET", "/", "", [("Connection", "close")]))
    assert RequestParser.wants_close(HttpRequest("GET", "/", "", [], version="HTTP/1.0"))
    for garbage in (b"\x16\x03\x01\x02\x00", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
        p = RequestParser()
        p.feed(garbage)
        with pytest.raises(HttpParseError):
            p.next_request()


def test_render_response() -> None:
    get = HttpRequest("GET", "/", "h")
    raw = render_response(HttpResponse(200, "OK", [("Content-Type", "text/plain")], b"hi"), get, close=True)
    assert raw == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
    chunked = render_response(HttpResponse(200, "OK", [("Transfer-Encoding", "chunked")], b"x" * 20), get)
    assert chunked.endswith(b"\r\n\r\n14\r\n" + b"x" * 20 + b"\r\n0\r\n\r\n")
    head = render_response(HttpResponse(200, "OK", [("Content-Length", "2")], b"hi"), HttpRequest("HEAD", "/", "h"))
    assert head.endswith(b"Content-Length: 2\r\n\r\n")


# -- exec details -------------------------------------------------------------------------------
def test_status_shapes() -> None:
    assert status_for(["true"], 0) == {"metadata": {}, "status": "Success"}
    assert exit_status(["sh", "-c", "exit 28"], 28) == {
        "metadata": {}, "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command [sh -c exit 28], exit code 28",
        "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "28"}]}}
    err = internal_status("Internal error occurred: error executing command in container: boom")
    assert (err["reason"], err["code"], err["details"]["causes"][0]["message"]) == (
        "InternalError", 500, "error executing command in container: boom")


@pytest.mark.parametrize("argv,needed", [
    (["sh", "-c", "while true; do curl -s webpod | grep Hostname; sleep 1; done"], 0),
    (["sh", "-c", "read x; echo got $x; read y"], 2),
    (["sh", "-c", "cat | wc -l"], None),
    (["cat"], None),
    (["cat", "/etc/hosts"], 0),
    (["curl", "-s", "webpod"], 0),
])
def test_stdin_lines_needed(argv, needed) -> None:
    assert _stdin_lines_needed(argv) == needed


def test_interactive_shell() -> None:
    assert interactive_shell(["sh"]) and interactive_shell(["/bin/bash", "-l"]) and interactive_shell(["sh", "-i"])
    assert not interactive_shell(["sh", "-c", "true"]) and not interactive_shell(["curl"])
    assert not interactive_shell(["sh", "script.sh"])


class _FakeNet:
    hostname = "pod"

    def __init__(self) -> None:
        self.slept = 0.0

    def now(self) -> float:
        return 100.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds


def test_served_net_sleep_releases_the_lock_and_cancel_ends_it() -> None:
    from ciliumlab.clock import VirtualClock, WallClock

    lock = threading.RLock()
    cancel = threading.Event()
    hold = GateHold(lock, asyncio.new_event_loop())
    done: list[float] = []

    def worker() -> None:
        with hold:
            net = ServedNet(_FakeNet(), hold, cancel, WallClock())
            start = time.monotonic()
            net.sleep(30)  # ended early by cancel
            done.append(time.monotonic() - start)
            done.append(net.now() - net.deadline)

    t = threading.Thread(target=worker)
    t.start()
    time.sleep(0.2)
    assert lock.acquire(timeout=1), "the sleeping exec kept the lab lock"
    lock.release()
    cancel.set()
    t.join(5)
    assert done[0] < 5 and done[1] == 0  # after cancel, now() is the deadline: the shell unwinds

    fake = _FakeNet()
    virtual = ServedNet(fake, hold, threading.Event(), VirtualClock())
    virtual.sleep(3)
    assert fake.slept == 3 and virtual.hostname == "pod"


# -- both protocols from a raw client ---------------------------------------------------------
@pytest.fixture(scope="module")
def raw_server():
    lab = Lab()
    lab.apply(shared_fixture("cilium", "http-sw-app.yaml"))
    srv = LabServer(lab)
    yield srv
    srv.close()


def _run(srv: LabServer, coro):
    return asyncio.run_coroutine_threadsafe(coro, srv.loop).result(30)


def test_raw_exec_protocol(raw_server: LabServer) -> None:
    base = raw_server.url.replace("http", "ws") + "/api/v1/namespaces/default/pods"

    async def go():
        async with aiohttp.ClientSession() as s:
            # v4 is accepted too; channel-3 Status ends it
            async with s.ws_connect(f"{base}/xwing/exec?command=sh&command=-c&command=echo+hi%3B+exit+3"
                                    "&container=spaceship&stdout=true&stderr=true",
                                    protocols=("v4.channel.k8s.io",)) as ws:
                assert ws.protocol == "v4.channel.k8s.io"
                msgs = [m.data async for m in ws if m.type == aiohttp.WSMsgType.BINARY]
            # a missing pod and a plain GET are refused before any upgrade
            async with s.get(f"{raw_server.url}/api/v1/namespaces/default/pods/nope/exec?command=true") as r:
                missing = (r.status, (await r.json())["message"])
            async with s.get(f"{raw_server.url}/api/v1/namespaces/default/pods/xwing/exec?command=true") as r:
                plain = r.status
            return msgs, missing, plain

    msgs, missing, plain = _run(raw_server, go())
    assert msgs[0] == b"\x01hi\n"
    assert msgs[-1][:1] == b"\x03" and json.loads(msgs[-1][1:])["details"]["causes"][0]["message"] == "3"
    assert missing == (404, 'pods "nope" not found')
    assert plain == 400


def test_raw_portforward_protocol(raw_server: LabServer) -> None:
    pod = next(p["metadata"]["name"] for p in raw_server.lab.store.list("Pod", "default")
               if p["metadata"]["name"].startswith("deathstar"))
    url = raw_server.url.replace("http", "ws") + f"/api/v1/namespaces/default/pods/{pod}/portforward"

    async def go():
        codec = spdy.HeaderCodec()
        reader = spdy.FrameReader(codec)
        frames: list[spdy.Frame] = []

        async def until(pred):
            while not any(pred(f) for f in frames):
                msg = await ws.receive(timeout=10)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                frames.extend(reader.feed(msg.data))

        async with aiohttp.ClientSession() as s, s.ws_connect(url, protocols=("SPDY/3.1+portforward.k8s.io",)) as ws:
            out = spdy.HeaderCodec()
            for req, port in (("0", "80"), ("1", "81")):
                base = 1 + 4 * int(req)
                await ws.send_bytes(spdy.syn_stream(out, base, {"streamtype": "error", "port": port, "requestid": req}))
                await ws.send_bytes(spdy.data_frame(base, b"", fin=True))
                await ws.send_bytes(spdy.syn_stream(out, base + 2, {"streamtype": "data", "port": port,
                                                                    "requestid": req}))
            await ws.send_bytes(spdy.ping(9))
            # the request split across two WebSocket messages, the frame itself too
            data = spdy.data_frame(3, b"POST /v1/request-landing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await ws.send_bytes(data[:20])
            await ws.send_bytes(data[20:])
            await until(lambda f: f.ctype is None and f.stream_id == 1 and f.fin)
            await until(lambda f: f.ctype is None and f.stream_id == 5 and f.fin)
            await until(lambda f: f.ctype == spdy.PING)
        return frames

    frames = _run(raw_server, go())
    replies = sorted(f.stream_id for f in frames if f.ctype == spdy.SYN_REPLY)
    assert replies == [1, 3, 5, 7]
    data = b"".join(f.payload for f in frames if f.ctype is None and f.stream_id == 3)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nShip landed\n")
    assert b"".join(f.payload for f in frames if f.ctype is None and f.stream_id == 1) == b""  # success
    refused = b"".join(f.payload for f in frames if f.ctype is None and f.stream_id == 5).decode()
    assert refused.startswith("error forwarding port 81 to pod ") and "connect: connection refused" in refused
    assert next(f.status for f in frames if f.ctype == spdy.PING) == 9
