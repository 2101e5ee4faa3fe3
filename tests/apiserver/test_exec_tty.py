"""`kubectl exec -it` on a real pseudo-terminal (stdlib `pty.fork`): kubectl puts it in raw mode
and sends keystrokes; the served pty echoes, completes lines on Enter and turns Ctrl-C into an
interrupt (`^C`, exit code 130 as for SIGINT)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import time

import pytest

from tests.apiserver.conftest import exec_threads, wait_until
from tests.apiserver.kube import KUBECTL, Kubectl

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pty")


class Terminal:
    """kubectl on the slave side of a pty; we type on the master side."""

    def __init__(self, kubectl: Kubectl, *args: str) -> None:
        argv = [KUBECTL, "--cache-dir", str(kubectl.cache), *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.chdir(kubectl.workdir)
            os.execve(KUBECTL, argv, kubectl.env)
        self.out = b""
        self.code: int | None = None

    def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        end = time.monotonic() + timeout
        while needle not in self.out and time.monotonic() < end:
            if not self._read(0.05):
                break
        assert needle in self.out, f"{needle!r} not seen in {self.out!r}"
        return self.out

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if ready:
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                return False
            if not data:
                return False
            self.out += data
        return True

    def type(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 10.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._read(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.01):
                    pass
                self.code = os.waitstatus_to_exitcode(status)
                return self.code
        raise AssertionError(f"kubectl did not exit; output so far {self.out!r}")

    def close(self) -> None:
        if self.code is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def term(skubectl: Kubectl):
    terms: list[Terminal] = []

    def start(*args: str) -> Terminal:
        t = Terminal(skubectl, *args)
        terms.append(t)
        return t

    yield start
    for t in terms:
        t.close()


def test_tty_loop_streams_every_second_until_ctrl_c(term) -> None:
    t = term("exec", "-it", "curl-pod", "--", "sh", "-c",
             "while true; do curl -s webpod | grep Hostname; sleep 1; done")
    t.read_until(b"Hostname: webpod-")
    start = time.monotonic()
    t.read_until(b"\r\nHostname: webpod-", timeout=5)  # the second line, about a second later
    assert 0.5 < time.monotonic() - start < 3
    t.type(b"\x03")
    assert t.wait() == 130
    lines = t.out.split(b"\r\n")
    assert all(line.startswith(b"Hostname: webpod-") for line in lines[:-2])
    assert lines[-2:] == [b"^Ccommand terminated with exit code 130", b""]
    assert wait_until(lambda: not exec_threads(), timeout=5), "Ctrl-C did not stop the exec"


def test_tty_read_gets_the_typed_line_with_echo(term) -> None:
    t = term("exec", "-it", "curl-pod", "--", "sh", "-c", "read x; echo got $x; exit 4")
    time.sleep(0.5)
    t.type(b"hel")
    t.read_until(b"hel")  # echoed before Enter: the pty echoes, nothing has run yet
    assert b"got" not in t.out
    t.type(b"lx\x7fo\r")  # a typo, erased with DEL
    assert t.wait() == 4
    assert t.out == b"hel" + b"lx\b \bo\r\n" + b"got hello\r\ncommand terminated with exit code 4\r\n"


def test_tty_interactive_shell(term) -> None:
    t = term("exec", "-it", "curl-pod", "--", "sh")
    t.read_until(b"/ # ")
    t.type(b"echo hi; hostname\r")
    t.read_until(b"curl-pod\r\n/ # ")
    t.type(b"sleep 100\r")
    time.sleep(0.5)
    t.type(b"\x03")  # interrupts the sleep, not the session
    t.read_until(b"^C\r\n/ # ")
    t.type(b"false\r")
    t.read_until(b"false\r\n/ # ")
    t.type(b"exit 3\r")
    assert t.wait() == 3
    assert t.out.endswith(b"/ # exit 3\r\ncommand terminated with exit code 3\r\n")
