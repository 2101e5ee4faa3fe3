"""`ciliumlab up | down | status | kubeconfig`: the lab served for the real kubectl and hubble.

`up` starts `python -m ciliumlab serve` in its own session (pid and log in the state dir), waits
until the API answers `/readyz` over HTTPS, and prints shell lines: `export KUBECONFIG=…` plus
every address as a comment, so `eval "$(ciliumlab up)"` works.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click

from ..served.state import Ports, StateDir

STATUS_NOT_RUNNING = 3  # LSB: "program is not running"

_state_dir = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="State directory (default: $CILIUMLAB_HOME or ~/.ciliumlab).")


def _port_options(fn):
    fn = click.option("--grafana-port", type=click.IntRange(0, 65535), default=None,
                      help="The Grafana stand-in page (default 30002, the seed's NodePort).")(fn)
    fn = click.option("--prometheus-port", type=click.IntRange(0, 65535), default=None,
                      help="Prometheus' web UI and API (default 30001, the seed's NodePort).")(fn)
    fn = click.option("--metrics-ports", metavar="P1,…,P7",
                      help="Prometheus endpoints: cilium-agent on k8s-ctr,k8s-w1,k8s-w2, cilium-operator, hubble on "
                           "k8s-ctr,k8s-w1,k8s-w2 (default 19962,29962,39962,9963,19965,29965,39965; "
                           "a single 0 = any free ports).")(fn)
    fn = click.option("--hubble-ports", metavar="P1,P2,P3",
                      help="Ports of the per-node Hubble servers, in node order k8s-ctr,k8s-w1,k8s-w2 "
                           "(default 42441,42442,42443).")(fn)
    fn = click.option("--relay-port", type=click.IntRange(0, 65535), default=None,
                      help="Hubble Relay port (default 4245).")(fn)
    fn = click.option("--api-port", type=click.IntRange(0, 65535), default=None,
                      help="kube-apiserver port (default 6443; 0 = any free port).")(fn)
    return fn


def _resolve_ports(state: StateDir, api_port: int | None = None, relay_port: int | None = None,
                   hubble_ports: str | None = None, metrics_ports: str | None = None,
                   prometheus_port: int | None = None, grafana_port: int | None = None) -> Ports:
    """The options given, else what the last `up` of this state dir used, else the defaults."""
    ports = state.read_ports()
    for name, value in (("api", api_port), ("relay", relay_port), ("prometheus", prometheus_port),
                        ("grafana", grafana_port)):
        if value is not None:
            setattr(ports, name, value)
    if hubble_ports is not None:
        ports.hubble_nodes = _port_list(hubble_ports, "--hubble-ports")
    if metrics_ports is not None:
        ports.metrics = _port_list(metrics_ports, "--metrics-ports")
        if ports.metrics == [0]:
            ports.metrics = [0] * 7
    return ports


def _port_list(text: str, option: str) -> list[int]:
    try:
        values = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of ports: {text!r}", param_hint=option) from None
    if any(not 0 <= p < 65536 for p in values):
        raise click.BadParameter(f"ports must be 0..65535: {text!r}", param_hint=option)
    return values


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _print_ready(state: StateDir, info: dict, headline: str) -> None:
    lines = [f"# {headline}", f"export KUBECONFIG={info.get('kubeconfig') or state.kubeconfig}"]
    hubble = info.get("hubble") or {}
    rows = [("kube-apiserver", info.get("apiserver")), ("hubble-relay", hubble.get("relay"))]
    rows += [(f"hubble {node}", addr) for node, addr in (hubble.get("nodes") or {}).items()]
    rows += metrics_rows(info.get("metrics"))
    rows += [("hubble-ui", info.get("ui")), ("log", str(state.log))]

    lines += [f"#   {name:<16} {value}" for name, value in rows if value]
    if hubble.get("relay"):
        lines.append(f"#   try: kubectl get nodes; ciliumlab hubble status --server {hubble['relay']}")
    click.echo("\n".join(lines))


def metrics_rows(metrics: dict | None) -> list[tuple[str, str]]:
    """`cilium-agent k8s-ctr   127.0.0.1:19962` …: where each Prometheus endpoint answers."""
    if not metrics:
        return []
    rows = [(f"agent {n}", f"http://{a}/metrics") for n, a in (metrics.get("cilium-agent") or {}).items()]
    if metrics.get("cilium-operator"):
        rows.append(("operator", f"http://{metrics['cilium-operator']}/metrics"))
    rows += [(f"hubble-metrics {n}", f"http://{a}/metrics") for n, a in (metrics.get("hubble") or {}).items()]
    return rows


def _readyz(info: dict, ca_file: Path, timeout: float = 2.0) -> bool:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(f"{info['apiserver']}/readyz", context=ctx, timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


@click.command("up")
@_state_dir
@click.option("--foreground", is_flag=True, help="Serve from this process until Ctrl-C / SIGTERM.")
@_port_options
@click.option("--monitoring", is_flag=True,
              help="Install Cilium's monitoring example (a real Prometheus on :30001, the Grafana page on :30002).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for readiness.")
def up(state_dir: Path | None, foreground: bool, monitoring: bool, timeout: float, **port_options) -> None:
    """Start the served lab (Kubernetes API over HTTPS, Hubble Relay and per-node Hubble servers)."""
    from ..served.server import EXIT_RUNNING, ServeError, check_ports, serve

    state = StateDir(state_dir)
    pid = state.running_pid()
    if pid is not None:
        _already_running(state, pid)
        return
    ports = _resolve_ports(state, **port_options)
    try:
        from ..k8s.bootstrap import default_cluster_config

        check_ports(ports, [n.name for n in default_cluster_config().nodes])
    except ServeError as exc:
        _fail(str(exc))
    state.write_ports(ports)
    if foreground:
        code = serve(state, ports, monitoring=monitoring, on_ready=lambda info: _print_ready(
            state, info, f"ciliumlab is up (pid {info['pid']}, ready in {info['readySeconds']:.2f}s); Ctrl-C stops it"))
        if code == EXIT_RUNNING:
            code = 0
        sys.exit(code)

    t0 = time.monotonic()
    state.ensure()
    with os.fdopen(os.open(state.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log:
        offset = log.tell()
        log.write(f"--- ciliumlab up {datetime.now(UTC).isoformat(timespec='seconds')}\n".encode())
        log.flush()
        proc = subprocess.Popen([sys.executable, "-m", "ciliumlab", "serve", "--state-dir", str(state.path),
                                 *(["--monitoring"] if monitoring else [])],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, cwd="/", env=_server_env())
    deadline = t0 + timeout
    while True:
        code = proc.poll()
        if code is not None:
            output = _log_since(state.log, offset)
            if code == EXIT_RUNNING:
                _already_running(state, state.running_pid() or -1)
                return
            errors = [ln for ln in output.splitlines() if ln.startswith("error:")]
            _fail(errors[-1].removeprefix("error: ") if errors else
                  f"the server exited with code {code}; see {state.log}:\n{_tail(output)}")
        info = state.read_server()
        if info is not None and info.get("pid") == proc.pid and _readyz(info, state.ca_cert):
            break
        if time.monotonic() > deadline:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
            _fail(f"the server was not ready after {timeout:g}s; see {state.log}")
        time.sleep(0.02)
    _print_ready(state, info, f"ciliumlab is up (pid {proc.pid}, ready in {time.monotonic() - t0:.2f}s, "
                              f"state dir {state.path})")


def _server_env() -> dict[str, str]:
    """The environment of the background server: this very ciliumlab first on its path."""
    import ciliumlab

    src = str(Path(ciliumlab.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": f"{src}{os.pathsep}{path}" if path else src}


def _already_running(state: StateDir, pid: int) -> None:
    info = state.read_server() or {}
    _print_ready(state, info, f"ciliumlab is already running (pid {pid}, state dir {state.path})")


def _log_since(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.splitlines()[-lines:])


@click.command("down")
@_state_dir
@click.option("--timeout", type=float, default=15.0, show_default=True,
              help="Seconds to wait after SIGTERM before SIGKILL.")
def down(state_dir: Path | None, timeout: float) -> None:
    """Stop the served lab (its objects stay in the state dir for the next `up`)."""
    state = StateDir(state_dir)
    pid = state.running_pid()
    if pid is None:
        state.clear_runtime()
        click.echo(f"ciliumlab is not running (state dir {state.path})")
        return
    if pid <= 0:
        _fail(f"a server holds {state.lockfile} but {state.pidfile} has no pid")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    if not _wait_stopped(state, timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if not _wait_stopped(state, 5):
            _fail(f"pid {pid} did not stop")
        click.echo(f"ciliumlab killed (pid {pid} ignored SIGTERM for {timeout:g}s)")
    else:
        click.echo(f"ciliumlab stopped (pid {pid})")
    state.clear_runtime()


def _wait_stopped(state: StateDir, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while state.running_pid() is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def status_info(state: StateDir) -> dict:
    """What `status -o json` prints."""
    pid = state.running_pid()
    info = (state.read_server() or {}) if pid is not None else {}
    hubble = info.get("hubble") or {}
    started = info.get("startedAt")
    return {
        "state": "running" if pid is not None else "stopped",
        "pid": pid if pid and pid > 0 else None,
        "stateDir": str(state.path),
        "kubeconfig": str(state.kubeconfig) if state.kubeconfig.exists() else None,
        "apiserver": info.get("apiserver"),
        "hubble": {"relay": hubble.get("relay"), "nodes": dict(hubble.get("nodes") or {})},
        "metrics": info.get("metrics"),
        "monitoring": info.get("monitoring"),
        "ui": info.get("ui"),
        "startedAt": datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if started else None,
        "version": info.get("version"),
    }


@click.command("status")
@_state_dir
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(state_dir: Path | None, output: str) -> None:
    """Whether the served lab runs, and every address it serves (exit code 3 when it is stopped)."""
    info = status_info(StateDir(state_dir))
    if output == "json":
        click.echo(json.dumps(info, indent=2))
    else:
        running = info["state"] == "running"
        head = f"ciliumlab: {info['state']}"
        if running:
            head += f" (pid {info['pid']}, since {info['startedAt']})"
        rows = [("state dir", info["stateDir"]), ("kubeconfig", info["kubeconfig"] or "<none>")]
        if running:
            rows += [("kube-apiserver", info["apiserver"]), ("hubble-relay", info["hubble"]["relay"])]
            rows += [(f"hubble {n}", a) for n, a in info["hubble"]["nodes"].items()]
            rows += metrics_rows(info["metrics"])
            rows += [(name, url) for name, url in (info["monitoring"] or {}).items()]
            rows += [("hubble-ui", info["ui"] or "<none>")]
        click.echo("\n".join([head, *(f"  {k:<16} {v}" for k, v in rows)]))
    if info["state"] != "running":
        sys.exit(STATUS_NOT_RUNNING)


@click.command("kubeconfig")
@_state_dir
@click.option("--path", "path_only", is_flag=True, help="Print the kubeconfig's path instead of its content.")
def kubeconfig(state_dir: Path | None, path_only: bool) -> None:
    """Print the served lab's kubeconfig (cluster and context `ciliumlab`, CA and token embedded)."""
    state = StateDir(state_dir)
    if not state.kubeconfig.exists():
        _fail(f"no kubeconfig in {state.path} yet: run `ciliumlab up` first")
    click.echo(str(state.kubeconfig) if path_only else state.kubeconfig.read_text().rstrip("\n"))


@click.command("serve", hidden=True)
@_state_dir
@_port_options
@click.option("--monitoring", is_flag=True)
def serve_cmd(state_dir: Path | None, monitoring: bool, **port_options) -> None:
    """Run the served lab in this process (what `up` starts in the background)."""
    from ..served.server import serve

    state = StateDir(state_dir)
    sys.exit(serve(state, _resolve_ports(state, **port_options), monitoring=monitoring))


COMMANDS = (up, down, status, kubeconfig, serve_cmd)
