"""Drive `ciliumlab up/down/status` as subprocesses against a temporary state dir, and the real
kubectl at what they serve. Every port is 0 (any free port), so a test never collides with a
lab the user runs on the default ports, nor with another test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
ANY_PORTS = ("--api-port", "0", "--relay-port", "0", "--hubble-ports", "0,0,0", "--metrics-ports", "0",
             "--prometheus-port", "0", "--grafana-port", "0")


@dataclass
class Result:
    rc: int
    out: str
    err: str


def ciliumlab(*args: str, timeout: float = 60, env: dict | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "ciliumlab", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    return Result(proc.returncode, proc.stdout, proc.stderr)


class ServedLab:
    """One state dir; `up()`/`down()` through the CLI, addresses read fresh from server.json."""

    def __init__(self, state: Path, workdir: Path) -> None:
        self.state = state
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.cache = workdir / "kube-cache"

    def up(self, *extra: str) -> Result:
        return ciliumlab("up", "--state-dir", str(self.state), *extra)

    def ensure_up(self) -> None:
        if self.pid() is None:
            res = self.up(*ANY_PORTS)
            assert res.rc == 0, res.err

    def down(self) -> Result:
        return ciliumlab("down", "--state-dir", str(self.state))

    def status(self) -> dict:
        return json.loads(ciliumlab("status", "--state-dir", str(self.state), "-o", "json").out)

    def info(self) -> dict:
        return json.loads((self.state / "server.json").read_text())

    def pid(self) -> int | None:
        """The live server's pid (read in-process: the state dir's flock, like `status` does)."""
        from ciliumlab.served.state import StateDir

        return StateDir(self.state).running_pid()

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> Result:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.workdir)}
        proc = subprocess.run([KUBECTL, "--cache-dir", str(self.cache), *args], input=stdin, capture_output=True,
                              text=True, env=env, cwd=self.workdir, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def kubectl_popen(self, *args: str) -> subprocess.Popen:
        """A kubectl left running (a `monitor`, a `-w`), text pipes; the caller communicates."""
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.workdir)}
        return subprocess.Popen([KUBECTL, "--cache-dir", str(self.cache), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, cwd=self.workdir)

    def kubectl_ok(self, *args: str, stdin: str | None = None) -> str:
        res = self.kubectl(*args, stdin=stdin)
        assert res.rc == 0, f"kubectl {' '.join(args)} failed ({res.rc}): {res.err}"
        return res.out

    def get_json(self, *args: str) -> dict:
        return json.loads(self.kubectl_ok("get", *args, "-o", "json"))

    def teardown(self) -> None:
        """Stop the server whatever state the test left it in (SIGKILL as a last resort)."""
        pid = self.pid()
        if pid is None:
            return
        self.down()
        deadline = time.monotonic() + 10
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = self.pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
