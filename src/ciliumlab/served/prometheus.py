"""A real Prometheus, run on what `ciliumlab.monitoring.build_prometheus` writes.

The lab never fakes Prometheus: `find_prometheus` finds the binary (`$CILIUMLAB_PROMETHEUS`,
else `prometheus` on PATH) or raises a `MonitoringError` saying how to install it.

    proc = PrometheusProcess(workdir, "127.0.0.1:9090")
    files = build_prometheus(objects, files_dir=proc.files_dir, ...)
    proc.start(files)        # writes everything, starts, waits for /-/ready
    proc.update(new_files)   # rewrites changed files only; reloads when config/rules changed
    proc.stop()

Target files (file_sd) are re-read by Prometheus on change, so a pod coming or going only
rewrites a JSON file; a changed prometheus.yml or rule file is applied with `POST /-/reload`
(the process runs with `--web.enable-lifecycle`). Files are replaced atomically (write, then
rename), as file_sd wants. Everything the process prints goes to `<workdir>/prometheus.log`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..monitoring import MonitoringError, PrometheusFiles
from ..monitoring.promconfig import SD_DIR
from ..monitoring.rules import RULES_DIR

ENV_BINARY = "CILIUMLAB_PROMETHEUS"
ENV_PROMTOOL = "CILIUMLAB_PROMTOOL"
CONFIG_NAME = "prometheus.yml"
RETENTION = "2h"
_INSTALL = ("install it: `apt-get install prometheus` on Debian/Ubuntu, or download it from "
            "https://prometheus.io/download/ and put the `{name}` binary on PATH or set ${env} to its path")


def _find(name: str, env: str) -> str:
    override = os.environ.get(env)
    if override:
        path = shutil.which(override) if os.sep not in override else override
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        raise MonitoringError(f"${env} is {override!r}, which is not an executable {name} binary; "
                              + _INSTALL.format(name=name, env=env))
    path = shutil.which(name)
    if path is None:
        raise MonitoringError(f"the {name} binary is missing (not on PATH, ${env} not set); "
                              + _INSTALL.format(name=name, env=env))
    return path


def find_prometheus() -> str:
    """Path of the Prometheus server binary; MonitoringError when there is none."""
    return _find("prometheus", ENV_BINARY)


def find_promtool() -> str:
    """Path of promtool (shipped with Prometheus); MonitoringError when there is none."""
    return _find("promtool", ENV_PROMTOOL)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class PrometheusProcess:
    def __init__(self, workdir: Path, listen: str) -> None:
        self.workdir = Path(workdir).absolute()
        self.listen = listen
        self.proc: subprocess.Popen | None = None
        self._config: str | None = None
        self._files: dict[str, str] = {}
        self._files_dir: Path = self.files_dir

    # -- where things are ---------------------------------------------------------------------
    @property
    def files_dir(self) -> Path:
        """Pass this as build_prometheus's `files_dir` (the default place for the files)."""
        return self.workdir

    @property
    def config_path(self) -> Path:
        return self.workdir / CONFIG_NAME

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    @property
    def url(self) -> str:
        host, _, port = self.listen.rpartition(":")
        if host in ("", "0.0.0.0", "[::]", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    def command(self, binary: str) -> list[str]:
        return [binary, f"--config.file={self.config_path}", f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address={self.listen}",
                "--web.enable-lifecycle"]

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, files: PrometheusFiles, timeout: float = 20.0) -> None:
        """Write the files, start Prometheus and wait until it is ready (MonitoringError with the
        end of its log if it exits or does not get ready within `timeout` seconds)."""
        if self.running:
            raise MonitoringError(f"Prometheus is already running (pid {self.proc.pid})")  # type: ignore[union-attr]
        binary = find_prometheus()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._remove_stale(files)
        self._write(files)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.proc = subprocess.Popen(self.command(binary), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                self.proc = None
                raise MonitoringError(f"Prometheus exited with status {code} at start-up:\n{self.log_tail()}")
            if self._get("/-/ready") == 200:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise MonitoringError(f"Prometheus did not get ready in {timeout:g}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def update(self, files: PrometheusFiles) -> bool:
        """Rewrite the files that changed (and remove those that went); reload Prometheus when
        the config or a rule file changed. Returns whether it reloaded. MonitoringError when
        Prometheus refuses the new configuration (it keeps running the previous one)."""
        if not self.running:
            raise MonitoringError("Prometheus is not running")
        if not self._write(files):
            return False
        status, body = self._post("/-/reload")
        if status != 200:
            self._config = None  # Prometheus still runs the previous one: try again on the next update
            raise MonitoringError(f"Prometheus refused the new configuration (HTTP {status}): {body.strip()}")
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- internals ----------------------------------------------------------------------------
    def _remove_stale(self, files: PrometheusFiles) -> None:
        """Target and rule files an earlier run left behind (a rules glob would load them)."""
        files_dir = Path(files.files_dir or self.files_dir).absolute()
        for sub, pattern in ((SD_DIR, "*.json"), (RULES_DIR, "*.yaml")):
            for path in (files_dir / sub).glob(pattern):
                if f"{sub}/{path.name}" not in files.files:
                    path.unlink(missing_ok=True)

    def _write(self, files: PrometheusFiles) -> bool:
        """Write what changed; True when Prometheus must reload (config or rules changed)."""
        files_dir = Path(files.files_dir or self.files_dir).absolute()
        reload = files.config != self._config
        if files_dir != self._files_dir:
            old, self._files = self._files, {}
            for rel in old:
                (self._files_dir / rel).unlink(missing_ok=True)
            self._files_dir = files_dir
        for rel, text in files.files.items():
            if self._files.get(rel) != text:
                _write_atomic(files_dir / rel, text)
                reload = reload or not rel.endswith(".json")  # file_sd files reload themselves
        for rel in set(self._files) - set(files.files):
            (files_dir / rel).unlink(missing_ok=True)
            reload = reload or not rel.endswith(".json")
        self._files = dict(files.files)
        if files.config != self._config:
            _write_atomic(self.config_path, files.config)
            self._config = files.config
        return reload

    def _get(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def _post(self, path: str) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError as exc:
            return 0, str(exc)
