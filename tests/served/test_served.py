"""`ciliumlab up/down/status/kubeconfig`: a real background server, the real kubectl over HTTPS."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.served.conftest import needs_kubectl
from tests.served.served import ANY_PORTS, ServedLab, ciliumlab


def _request(url: str, ca: Path, token: str | None = None) -> tuple[int, dict | str]:
    ctx = ssl.create_default_context(cafile=str(ca))
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            status, body = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


# -- up ---------------------------------------------------------------------------------------------

def test_up_prints_kubeconfig_export_and_every_address(served: ServedLab) -> None:
    out = served.up_result.out
    info = served.info()
    assert f"export KUBECONFIG={served.kubeconfig}" in out.splitlines()
    assert all(line.startswith(("#", "export ")) for line in out.splitlines())  # eval "$(ciliumlab up)"
    for address in (info["apiserver"], info["hubble"]["relay"], *info["hubble"]["nodes"].values()):
        assert address in out
    assert info["readySeconds"] <= 2.0


def test_everything_listens_on_loopback_only(served: ServedLab) -> None:
    info = served.info()
    addresses = [info["apiserver"].removeprefix("https://"), info["hubble"]["relay"], *info["hubble"]["nodes"].values()]
    assert all(a.startswith("127.0.0.1:") for a in addresses)
    try:  # the machine's outward-facing address, if it has one
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("192.0.2.1", 9))
        own_ip = probe.getsockname()[0]
        probe.close()
    except OSError:
        own_ip = ""
    if not own_ip or own_ip.startswith("127."):
        pytest.skip("no non-loopback address to probe")
    for address in addresses:
        port = int(address.rpartition(":")[2])
        with pytest.raises(OSError), socket.create_connection((own_ip, port), timeout=1):
            pass


def test_second_up_says_it_is_running_and_exits_0(served: ServedLab) -> None:
    pid = served.pid()
    res = served.up(*ANY_PORTS)
    assert res.rc == 0, res.err
    assert f"already running (pid {pid}" in res.out
    assert f"export KUBECONFIG={served.kubeconfig}" in res.out
    assert served.pid() == pid


def test_port_taken_is_a_clear_error_and_nothing_keeps_running(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        def flags(api="0", relay="0", hubble="0,0,0", metrics="0") -> tuple[str, ...]:
            return ("--api-port", api, "--relay-port", relay, "--hubble-ports", hubble, "--metrics-ports", metrics,
                    "--prometheus-port", "0", "--grafana-port", "0")
        for args, what in ((flags(api=str(port)), "kube-apiserver"), (flags(relay=str(port)), "hubble-relay"),
                           (flags(hubble=f"0,{port},0"), "hubble (k8s-w1)"),
                           (flags(metrics=f"0,0,0,0,0,{port},0"), "hubble (k8s-w1) metrics")):
            res = ciliumlab("up", "--state-dir", str(tmp_path / "state"), *args)
            assert res.rc == 1
            assert res.err.strip() == f"error: port {port} ({what}) is already in use on 127.0.0.1"
            status = ciliumlab("status", "--state-dir", str(tmp_path / "state"), "-o", "json")
            assert status.rc == 3 and json.loads(status.out)["state"] == "stopped"


# -- status / kubeconfig ---------------------------------------------------------------------------------

def test_status_json_shape(served: ServedLab) -> None:
    res = ciliumlab("status", "--state-dir", str(served.state), "-o", "json")
    assert res.rc == 0
    status = json.loads(res.out)
    info = served.info()
    assert set(status) == {"state", "pid", "stateDir", "kubeconfig", "apiserver", "hubble", "metrics", "monitoring",
                           "ui", "startedAt", "version"}
    assert status["state"] == "running"
    assert status["pid"] == info["pid"] and isinstance(status["pid"], int)
    assert status["stateDir"] == str(served.state)
    assert status["kubeconfig"] == str(served.kubeconfig)
    assert status["apiserver"].startswith("https://127.0.0.1:")
    assert status["hubble"]["relay"].startswith("127.0.0.1:")
    assert list(status["hubble"]["nodes"]) == ["k8s-ctr", "k8s-w1", "k8s-w2"]
    assert len(set(status["hubble"]["nodes"].values()) | {status["hubble"]["relay"]}) == 4
    metrics = status["metrics"]
    assert list(metrics["cilium-agent"]) == list(metrics["hubble"]) == ["k8s-ctr", "k8s-w1", "k8s-w2"]
    addresses = [*metrics["cilium-agent"].values(), metrics["cilium-operator"], *metrics["hubble"].values()]
    assert len(set(addresses)) == 7 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert status["ui"] is None
    text = ciliumlab("status", "--state-dir", str(served.state))
    assert text.rc == 0 and text.out.startswith("ciliumlab: running")
    assert status["apiserver"] in text.out and status["hubble"]["relay"] in text.out
    assert f"http://{metrics['cilium-agent']['k8s-w1']}/metrics" in text.out


def test_status_and_down_of_a_stopped_state_dir(tmp_path: Path) -> None:
    res = ciliumlab("status", "--state-dir", str(tmp_path), "-o", "json")
    assert res.rc == 3
    status = json.loads(res.out)
    assert status["state"] == "stopped" and status["pid"] is None and status["apiserver"] is None
    assert status["hubble"] == {"relay": None, "nodes": {}}
    down = ciliumlab("down", "--state-dir", str(tmp_path))
    assert down.rc == 0 and "not running" in down.out


def test_state_dir_from_environment(tmp_path: Path) -> None:
    res = ciliumlab("status", "-o", "json", env={"CILIUMLAB_HOME": str(tmp_path / "home")})
    assert json.loads(res.out)["stateDir"] == str(tmp_path / "home")


def test_kubeconfig_embeds_the_ca_and_token(served: ServedLab) -> None:
    res = ciliumlab("kubeconfig", "--state-dir", str(served.state))
    assert res.rc == 0
    config = yaml.safe_load(res.out)
    assert config["current-context"] == "ciliumlab"
    (cluster,) = config["clusters"]
    assert cluster["name"] == "ciliumlab" and cluster["cluster"]["server"] == served.info()["apiserver"]
    ca = base64.b64decode(cluster["cluster"]["certificate-authority-data"])
    assert ca == (served.state / "pki" / "ca.crt").read_bytes()
    (user,) = config["users"]
    assert user["user"]["token"] == (served.state / "token").read_text().strip()
    assert config["contexts"] == [{"name": "ciliumlab", "context": {"cluster": "ciliumlab", "user": "ciliumlab"}}]
    path = ciliumlab("kubeconfig", "--state-dir", str(served.state), "--path")
    assert path.out.strip() == str(served.kubeconfig)


def test_secrets_are_private(served: ServedLab) -> None:
    for name in ("token", "kubeconfig", "pki/ca.key", "pki/apiserver.key", "store.db"):
        mode = stat.S_IMODE(os.stat(served.state / name).st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"


# -- the API: HTTPS + token ------------------------------------------------------------------------------

def test_request_without_token_gets_401(served: ServedLab) -> None:
    api, ca = served.info()["apiserver"], served.state / "pki" / "ca.crt"
    status, body = _request(f"{api}/api/v1/namespaces", ca)
    assert status == 401
    assert body["reason"] == "Unauthorized" and body["code"] == 401
    assert _request(f"{api}/api/v1/namespaces", ca, token="wrong")[0] == 401
    token = (served.state / "token").read_text().strip()
    status, body = _request(f"{api}/api/v1/namespaces", ca, token=token)
    assert status == 200 and "default" in [ns["metadata"]["name"] for ns in body["items"]]


def test_server_certificate_needs_the_lab_ca(served: ServedLab) -> None:
    api = served.info()["apiserver"]
    with pytest.raises(urllib.error.URLError) as err:
        urllib.request.urlopen(f"{api}/readyz", context=ssl.create_default_context(), timeout=10)
    assert isinstance(err.value.reason, ssl.SSLCertVerificationError)
    localhost = api.replace("127.0.0.1", "localhost")
    assert _request(f"{localhost}/readyz", served.state / "pki" / "ca.crt") == (200, "ok")


@needs_kubectl
def test_kubectl_get_nodes(served: ServedLab) -> None:
    out = served.kubectl_ok("get", "nodes")
    rows = [line.split() for line in out.splitlines()]
    assert rows[0][:2] == ["NAME", "STATUS"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("k8s-ctr", "Ready"), ("k8s-w1", "Ready"), ("k8s-w2", "Ready")]


@needs_kubectl
def test_kubectl_with_a_wrong_token_is_unauthorized(served: ServedLab, tmp_path: Path) -> None:
    config = yaml.safe_load(served.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": "not-the-token"}
    wrong = tmp_path / "kubeconfig"
    wrong.write_text(yaml.safe_dump(config))
    res = served.kubectl("--kubeconfig", str(wrong), "get", "pods")
    assert res.rc == 1
    assert "error: You must be logged in to the server (Unauthorized)" in res.err


# -- Hubble ----------------------------------------------------------------------------------------------

def test_hubble_status_through_the_relay(served: ServedLab) -> None:
    relay = served.info()["hubble"]["relay"]
    res = ciliumlab("hubble", "status", "--server", relay)
    assert res.rc == 0, res.err
    lines = res.out.splitlines()
    assert lines[0] == f"Healthcheck (via {relay}): Ok"
    assert "Connected Nodes: 3/3" in lines
    nodes = ciliumlab("hubble", "list", "nodes", "--server", relay)
    assert nodes.rc == 0, nodes.err
    rows = [line.split() for line in nodes.out.splitlines()[1:]]
    assert [(r[0], r[1]) for r in rows] == [("k8s-ctr", "Connected"), ("k8s-w1", "Connected"), ("k8s-w2", "Connected")]


def test_hubble_per_node_servers_require_mtls(served: ServedLab) -> None:
    """Each agent's Hubble server speaks TLS with `hubble-server-certs` and wants a client certificate
    from `cilium-ca` (what the relay presents): the Secrets' own PEMs open it, nothing less does."""
    pki = served.state / "pki-check"
    pki.mkdir()
    for name, key in (("hubble-server-certs", "ca.crt"), ("hubble-relay-client-certs", "tls.crt"),
                      ("hubble-relay-client-certs", "tls.key")):
        secret = json.loads(served.kubectl_ok("get", "secret", "-n", "kube-system", name, "-o", "json"))
        (pki / f"{name}-{key}").write_bytes(base64.b64decode(secret["data"][key]))
    ca, cert, key = (str(pki / f) for f in ("hubble-server-certs-ca.crt", "hubble-relay-client-certs-tls.crt",
                                            "hubble-relay-client-certs-tls.key"))
    for node, address in served.info()["hubble"]["nodes"].items():
        tls = ("--tls", "--tls-ca-cert-files", ca, "--tls-server-name", f"{node}.default.hubble-grpc.cilium.io")
        res = ciliumlab("hubble", "status", "--server", address, *tls, "--tls-client-cert-file", cert,
                        "--tls-client-key-file", key)
        assert res.rc == 0, (node, res.err)
        assert res.out.splitlines()[0] == f"Healthcheck (via {address}): Ok"
        if node != "k8s-w1":
            continue
        plain = ciliumlab("hubble", "status", "--server", address, "--timeout", "1s")
        assert plain.rc == 1 and "error reading server preface: http2: frame too large" in plain.err
        anonymous = ciliumlab("hubble", "status", "--server", address, "--timeout", "1s", *tls)
        assert anonymous.rc == 1 and "tls: certificate required" in anonymous.err


def test_hubble_observe_answers(served: ServedLab) -> None:
    relay = served.info()["hubble"]["relay"]
    res = ciliumlab("hubble", "observe", "--server", relay, "--last", "5", "-o", "json")
    assert res.rc == 0, res.err


def test_foreground_serves_until_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-m", "ciliumlab", "up", "--foreground", "--state-dir", str(state),
                             *ANY_PORTS], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any(line.startswith("export KUBECONFIG=") for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        status = ciliumlab("status", "--state-dir", str(state), "-o", "json")
        assert json.loads(status.out)["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert not (state / "server.json").exists() and not (state / "ciliumlab.pid").exists()
        assert ciliumlab("status", "--state-dir", str(state)).rc == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
