"""Pieces of the served lab that need no server: the state dir, the PKI, the locked Hubble source."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

from cryptography import x509

from ciliumlab.hubble.types import FlowsRequest
from ciliumlab.served.hubble import LockedSource
from ciliumlab.served.persist import CommitLock
from ciliumlab.served.server import ServeError, check_ports
from ciliumlab.served.state import Ports, ServerLock, StateDir
from ciliumlab.served.tls import ensure_pki


def test_pki_is_made_once_and_keys_are_private(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    ensure_pki(state.ca_cert, state.ca_key, state.server_cert, state.server_key)
    ca_before = state.ca_cert.read_bytes()
    for key in (state.ca_key, state.server_key):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(state.server_cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    ca = x509.load_pem_x509_certificate(ca_before)
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    ensure_pki(state.ca_cert, state.ca_key, state.server_cert, state.server_key)
    assert state.ca_cert.read_bytes() == ca_before  # kept: old kubeconfigs stay valid


def test_token_is_kept_and_private(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "s")
    token = state.token()
    assert len(token) >= 32 and StateDir(tmp_path / "s").token() == token
    assert stat.S_IMODE(os.stat(state.token_file).st_mode) == 0o600


def test_ports_are_remembered(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert state.read_ports() == Ports(6443, 4245, [42441, 42442, 42443])
    state.write_ports(Ports(7443, 5245, [1, 2, 3]))
    assert StateDir(tmp_path).read_ports() == Ports(7443, 5245, [1, 2, 3])


def test_check_ports_rejects_duplicates_and_wrong_counts() -> None:
    nodes = ["k8s-ctr", "k8s-w1", "k8s-w2"]
    for ports, message in ((Ports(0, 0, [0, 0]), "3 Hubble node ports are needed"),
                           (Ports(40001, 40001, [0, 0, 0]), "port 40001 is requested for both kube-apiserver and hubble-relay"),
                           (Ports(0, 0, [0, 0, 0], [0] * 6), "7 metrics ports are needed")):
        try:
            check_ports(ports, nodes)
        except ServeError as exc:
            assert message in str(exc)
        else:
            raise AssertionError("no error")
    check_ports(Ports(0, 0, [0, 0, 0], [0] * 7, 0, 0), nodes)


def test_server_lock_decides_liveness(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert state.running_pid() is None
    lock = ServerLock(state)
    assert lock.acquire()
    state.pidfile.write_text("4242\n")
    assert state.running_pid() == 4242
    assert not ServerLock(state).acquire()
    lock.release()
    assert state.running_pid() is None  # a stale pidfile does not make it "running"


def test_commit_lock_supports_acquire_release_and_runs_the_hook_once() -> None:
    calls = []
    lock = CommitLock(lambda: calls.append(1))
    assert lock.acquire()
    assert lock.acquire(blocking=False)
    lock.release()
    assert calls == []
    lock.release()
    assert calls == [1]
    with lock:
        pass
    assert calls == [1, 1]


def test_locked_source_waits_for_the_lab_lock() -> None:
    class Source:
        def server_status(self) -> dict:
            return {"ok": True}

        def get_flows(self, request, stop=None):
            yield {"flow": {"n": 1}}

    lock = CommitLock()
    source = LockedSource(Source(), lock)
    got: list = []
    with lock:
        reader = threading.Thread(target=lambda: got.append(source.server_status()))
        reader.start()
        time.sleep(0.05)
        assert got == []  # blocked while a write holds the lab
    reader.join(5)
    assert got == [{"ok": True}]
    assert list(source.get_flows(FlowsRequest())) == [{"flow": {"n": 1}}]


def test_releasing_wait_lets_go_of_every_level_and_takes_them_back() -> None:
    from ciliumlab.clock import WallClock
    from ciliumlab.k8s.apiserver.worker import releasing_wait

    commits = []
    for lock in (CommitLock(lambda: commits.append(1)), threading.RLock()):
        clock = WallClock(wait=releasing_wait(lock))
        got = threading.Event()

        def other(lock=lock, got=got) -> None:
            with lock:
                got.set()

        with lock, lock:  # held twice, like a handler calling back into the engine
            thread = threading.Thread(target=other)
            thread.start()
            assert not got.wait(0.1)  # blocked while the lock is held
            clock.advance(0.5)  # a dropped SYN's wait
            assert got.is_set(), "the other thread did not get the lock during the wait"
            thread.join(1)
            # both levels are back: another thread still cannot take it
            taken: list[bool] = []
            probe = threading.Thread(target=lambda lock=lock, taken=taken: taken.append(lock.acquire(timeout=0.05)))
            probe.start()
            probe.join()
            assert taken == [False]
            # leaving `with lock, lock` releases twice: it raises unless both levels came back
        assert lock.acquire(timeout=0.05)
        lock.release()
    assert commits  # the CommitLock committed when the waiter stepped out of its outermost level


def test_wall_clock_without_a_waiter_just_sleeps() -> None:
    from ciliumlab.clock import WallClock

    lock = CommitLock()
    clock = WallClock()
    with lock:
        start = time.monotonic()
        clock.advance(0.05)
        assert time.monotonic() - start >= 0.05
        assert lock.owned() and lock._depth == 1
