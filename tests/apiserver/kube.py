"""Serve a Lab on 127.0.0.1 from a background event loop and drive the real kubectl at it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ciliumlab.k8s.apiserver import make_app

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


@dataclass
class Result:
    rc: int
    out: str
    err: str


class LabServer:
    """`make_app(lab)` on a random port, in a daemon thread with its own loop."""

    def __init__(self, lab, *, token: str | None = None) -> None:
        self.lab = lab
        self.app = make_app(lab, token=token)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self.runner = web.AppRunner(self.app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return self.runner.addresses[0][1]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Kubectl:
    """The real kubectl with a kubeconfig (plain http, optional token) and its own cache dir."""

    def __init__(self, server: LabServer, workdir: Path, *, token: str | None = None) -> None:
        self.server = server
        self.workdir = workdir
        user = f"{{token: {token}}}" if token else "{}"
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {{server: "{server.url}"}}
contexts:
- name: lab
  context: {{cluster: lab, user: lab}}
current-context: lab
users:
- name: lab
  user: {user}
""")
        self.env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(workdir)}
        self.cache = workdir / "cache"

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 60) -> Result:
        proc = subprocess.run([KUBECTL, "--cache-dir", str(self.cache), *args], input=stdin, capture_output=True,
                              text=True, env=self.env, cwd=self.workdir, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        res = self(*args, stdin=stdin)
        assert res.rc == 0, f"kubectl {' '.join(args)} failed ({res.rc}): {res.err}"
        return res.out

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([KUBECTL, "--cache-dir", str(self.cache), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, cwd=self.workdir)


def table(text: str) -> list[list[str]]:
    """kubectl's human output split into cells (columns are separated by 2+ spaces, or 3 for
    cells that may hold single spaces, like `NOMINATED NODE`)."""
    return [re.split(r"\s{2,}", line.rstrip()) for line in text.splitlines() if line.strip()]
