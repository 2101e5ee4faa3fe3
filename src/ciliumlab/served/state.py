"""The served lab's state directory (default `~/.ciliumlab`, or `$CILIUMLAB_HOME`).

    config.json        the ports `up` was asked for (reused by the next `up` unless overridden)
    token              the API bearer token (0600), kept across restarts
    pki/ca.{crt,key}   the CA; pki/apiserver.{crt,key} the API server's certificate (keys 0600)
    kubeconfig         cluster `ciliumlab` (CA embedded), user with the token, context `ciliumlab`
    store.db           every Kubernetes object (SQLite, WAL, synchronous=FULL)
    ciliumlab.pid      the server's pid
    server.lock        flock()ed by the running server for its whole life (the liveness truth)
    server.json        written once every listener is up: pid, addresses (removed on a clean stop)
    ciliumlab.log      the background server's output
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

DEFAULT_API_PORT = 6443
DEFAULT_RELAY_PORT = 4245
DEFAULT_HUBBLE_NODE_PORTS = (42441, 42442, 42443)  # k8s-ctr, k8s-w1, k8s-w2: "4244" + node number
# Prometheus endpoints: agents' :9962 and Hubble's :9965 as "<node number>9962" / "<node number>9965",
# the operator's single :9963 as it is. Order: agent ×3, operator, hubble ×3 (`--metrics-ports`).
DEFAULT_METRICS_PORTS = (19962, 29962, 39962, 9963, 19965, 29965, 39965)
DEFAULT_PROMETHEUS_PORT = 30001  # the NodePorts the seed gives Prometheus and Grafana
DEFAULT_GRAFANA_PORT = 30002
HOST = "127.0.0.1"
CONTEXT = "ciliumlab"


def default_state_dir() -> Path:
    env = os.environ.get("CILIUMLAB_HOME")
    return Path(env).expanduser() if env else Path.home() / ".ciliumlab"


@dataclass
class Ports:
    """Requested ports; 0 means any free port (the bound one is recorded in server.json)."""

    api: int = DEFAULT_API_PORT
    relay: int = DEFAULT_RELAY_PORT
    hubble_nodes: list[int] = field(default_factory=lambda: list(DEFAULT_HUBBLE_NODE_PORTS))
    metrics: list[int] = field(default_factory=lambda: list(DEFAULT_METRICS_PORTS))
    prometheus: int = DEFAULT_PROMETHEUS_PORT
    grafana: int = DEFAULT_GRAFANA_PORT

    @classmethod
    def from_dict(cls, data: dict) -> Ports:
        ports = cls()
        for name in ("api", "relay", "prometheus", "grafana"):
            if isinstance(data.get(name), int):
                setattr(ports, name, data[name])
        for name in ("hubble_nodes", "metrics"):
            value = data.get(name)
            if isinstance(value, list) and all(isinstance(p, int) for p in value):
                setattr(ports, name, list(value))
        return ports


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class StateDir:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser().resolve() if path is not None else default_state_dir().resolve()

    # -- paths -------------------------------------------------------------------------------------
    config_file = property(lambda self: self.path / "config.json")
    token_file = property(lambda self: self.path / "token")
    pki = property(lambda self: self.path / "pki")
    ca_cert = property(lambda self: self.pki / "ca.crt")
    ca_key = property(lambda self: self.pki / "ca.key")
    server_cert = property(lambda self: self.pki / "apiserver.crt")
    server_key = property(lambda self: self.pki / "apiserver.key")
    kubeconfig = property(lambda self: self.path / "kubeconfig")
    db = property(lambda self: self.path / "store.db")
    pidfile = property(lambda self: self.path / "ciliumlab.pid")
    lockfile = property(lambda self: self.path / "server.lock")
    server_file = property(lambda self: self.path / "server.json")
    log = property(lambda self: self.path / "ciliumlab.log")

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- configuration -----------------------------------------------------------------------------
    def read_ports(self) -> Ports:
        try:
            return Ports.from_dict(json.loads(self.config_file.read_text()).get("ports") or {})
        except (OSError, ValueError, AttributeError):
            return Ports()

    def write_ports(self, ports: Ports) -> None:
        self.ensure()
        _write_atomic(self.config_file, json.dumps({"ports": asdict(ports)}, indent=2) + "\n")

    def token(self) -> str:
        """The bearer token, created on first use."""
        self.ensure()
        try:
            token = self.token_file.read_text().strip()
            if token:
                return token
        except OSError:
            pass
        token = secrets.token_urlsafe(32)
        _write_atomic(self.token_file, token + "\n", 0o600)
        return token

    def write_kubeconfig(self, server: str) -> Path:
        import base64

        ca = base64.b64encode(self.ca_cert.read_bytes()).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": CONTEXT, "cluster": {"server": server, "certificate-authority-data": ca}}],
            "users": [{"name": CONTEXT, "user": {"token": self.token()}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
            "current-context": CONTEXT,
        }
        _write_atomic(self.kubeconfig, yaml.safe_dump(config, sort_keys=False), 0o600)
        return self.kubeconfig

    # -- the running server ------------------------------------------------------------------------
    def running_pid(self) -> int | None:
        """The pid of the live server of this state dir, or None (its flock decides, not the pidfile)."""
        if not self.lockfile.exists():
            return None
        try:
            fd = os.open(self.lockfile, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    return self.read_pid() or -1
                raise
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def read_pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def read_server(self) -> dict | None:
        try:
            data = json.loads(self.server_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_server(self, info: dict) -> None:
        _write_atomic(self.server_file, json.dumps(info, indent=2) + "\n")

    def clear_runtime(self) -> None:
        for path in (self.server_file, self.pidfile):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


class ServerLock:
    """The running server's exclusive flock on server.lock (released by the kernel on any exit)."""

    def __init__(self, state: StateDir) -> None:
        self.state = state
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.state.ensure()
        fd = os.open(self.state.lockfile, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
