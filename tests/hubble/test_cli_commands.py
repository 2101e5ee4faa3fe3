"""`ciliumlab hubble ...` end to end through click's CliRunner: --input-file, config, errors."""

from __future__ import annotations

import json
import sys
import types

import pytest
from click.testing import CliRunner

from ciliumlab.hubble.cli import hubble


def _flow(t: str, src: str, dst: str, sport: int, verdict: str, event: dict, summary: str, **extra) -> dict:
    f = {"time": t, "verdict": verdict,
         "IP": {"source": "10.0.0.1", "destination": "10.0.0.2", "ipVersion": "IPv4"},
         "l4": {"TCP": {"source_port": sport, "destination_port": 80, "flags": {"SYN": True}}},
         "source": {"identity": 100 + sport % 7, "namespace": "default", "pod_name": src},
         "destination": {"identity": 200, "namespace": "default", "pod_name": dst}, "Type": "L3_L4",
         "node_name": "kind-worker", "event_type": event, "Summary": summary}
    f.update(extra)
    return f


FLOWS = [
    _flow("2024-01-01T00:00:01Z", "tiefighter", "deathstar-1", 1001, "FORWARDED", {"type": 4}, "TCP Flags: SYN",
          is_reply=False),
    _flow("2024-01-01T00:00:02Z", "xwing", "deathstar-1", 1002, "DROPPED", {"type": 1, "sub_type": 133},
          "TCP Flags: SYN", drop_reason_desc="POLICY_DENIED"),
    _flow("2024-01-01T00:00:03Z", "xwing", "tiefighter", 1003, "DROPPED", {"type": 1, "sub_type": 133},
          "TCP Flags: SYN", drop_reason_desc="POLICY_DENIED"),
    _flow("2024-01-01T00:00:04Z", "xwing", "deathstar-1", 1004, "DROPPED", {"type": 1, "sub_type": 133},
          "TCP Flags: SYN", drop_reason_desc="POLICY_DENIED"),
]
DROP2 = ("Jan  1 00:00:02.000: default/xwing:1002 (ID:101) <> default/deathstar-1:80 (ID:200) Policy denied "
         "DROPPED (TCP Flags: SYN)\n")
DROP4 = ("Jan  1 00:00:04.000: default/xwing:1004 (ID:103) <> default/deathstar-1:80 (ID:200) Policy denied "
         "DROPPED (TCP Flags: SYN)\n")
FWD1 = ("Jan  1 00:00:01.000: default/tiefighter:1001 (ID:100) -> default/deathstar-1:80 (ID:200) to-endpoint "
        "FORWARDED (TCP Flags: SYN)\n")


@pytest.fixture(autouse=True)
def _filters_available(monkeypatch):
    """Use the real filter engine when present; otherwise a minimal stand-in (pod + verdict only)."""
    try:
        import ciliumlab.hubble.filters  # noqa: F401
    except ImportError:
        def match_one(ff, flow):
            for key, side in (("source_pod", "source"), ("destination_pod", "destination")):
                if key in ff:
                    ep = flow.get(side, {})
                    ok = False
                    for v in ff[key]:
                        ns, _, pod = v.rpartition("/")
                        ok |= (ep.get("namespace") == (ns or "default")) and ep.get("pod_name", "").startswith(pod)
                    if not ok:
                        return False
            return not ("verdict" in ff and flow.get("verdict") not in ff["verdict"])

        def compile_filters(wl, bl):
            return lambda f: (not wl or any(match_one(x, f) for x in wl)) and not any(match_one(x, f) for x in bl)

        monkeypatch.setitem(sys.modules, "ciliumlab.hubble.filters",
                            types.SimpleNamespace(compile_filters=compile_filters))


@pytest.fixture
def flows_file(tmp_path):
    path = tmp_path / "flows.json"
    lines = [json.dumps({"flow": f, "node_name": f["node_name"], "time": f["time"]}) for f in FLOWS]
    path.write_text("\n".join(lines[:2] + ["not json at all"] + lines[2:]) + "\n")
    return str(path)


def run(*args: str, input: str | None = None, env: dict | None = None):
    return CliRunner().invoke(hubble, list(args), input=input,
                              env={"HOME": "/nonexistent", "HUBBLE_COMPAT": "", **(env or {})})


def test_input_file_pod_and_verdict(flows_file):
    res = run("observe", "--input-file", flows_file, "--pod", "deathstar", "--verdict", "DROPPED")
    assert res.exit_code == 0, res.output
    assert res.stdout == DROP2 + DROP4


def test_input_file_reads_everything_by_default_and_skips_bad_lines(flows_file):
    res = run("observe", "flows", "--input-file", flows_file, "--not", "--from-pod", "xwing")
    assert res.stdout == FWD1
    assert 'msg="Failed to unmarshal json to flow"' in res.stderr


def test_input_file_first_last_since_until(flows_file):
    assert run("observe", "--input-file", flows_file, "--first", "1").stdout == FWD1
    assert run("observe", "--input-file", flows_file, "--last", "1").stdout == DROP4
    res = run("observe", "--input-file", flows_file, "--since", "2024-01-01T00:00:02Z",
              "--until", "2024-01-01T00:00:02Z", "--to-pod", "deathstar")
    assert res.stdout == DROP2


def test_input_file_from_stdin_and_legacy_bare_flows():
    text = "\n".join(json.dumps(f) for f in FLOWS[:2]) + "\n"
    res = run("observe", "--input-file", "-", "--verdict", "FORWARDED", input=text)
    assert res.stdout == FWD1


def test_input_file_json_output_roundtrips_lines(flows_file):
    res = run("observe", "--input-file", flows_file, "-o", "json", "--first", "1")
    assert res.stdout == json.dumps({"flow": FLOWS[0], "node_name": "kind-worker", "time": FLOWS[0]["time"]},
                                    separators=(",", ":")) + "\n"


def test_input_file_missing(tmp_path):
    res = run("observe", "--input-file", str(tmp_path / "nope.json"))
    assert res.exit_code == 1
    assert res.stderr == f"open {tmp_path / 'nope.json'}: no such file or directory\n"


def test_errors_go_to_stderr_with_exit_1():
    res = run("observe", "--first", "1", "--last", "1")
    assert (res.exit_code, res.stderr, res.stdout) == (1, "cannot set both --first and --last\n", "")


def test_print_raw_filters_does_not_contact_server():
    res = run("observe", "--verdict", "DROPPED", "--print-raw-filters")
    assert (res.exit_code, res.stdout) == (0, "allowlist:\n    - '{\"verdict\":[\"DROPPED\"]}'\n")


def test_unreachable_server_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ciliumlab.hubble.grpc.client", None)  # import fails
    res = run("status", "--server", "localhost:4245")
    assert res.exit_code == 1
    assert res.stderr == ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
                          'dialing: dial tcp 127.0.0.1:4245: connect: connection refused"\n')


class FakeRelay:
    def get_flows(self, request):
        yield {"flow": FLOWS[0], "node_name": "kind-worker", "time": FLOWS[0]["time"]}

    def server_status(self):
        return {"num_flows": "4095", "max_flows": "4095", "seen_flows": "5000", "uptime_ns": "100000000000",
                "flows_rate": 3.5, "version": "1.19.4", "num_connected_nodes": 2, "num_unavailable_nodes": 0}

    def get_nodes(self):
        return []

    def get_namespaces(self):
        return [{"namespace": "default"}]


def test_status_and_list_through_injected_source():
    runner = CliRunner()
    res = runner.invoke(hubble, ["status"], obj={"hubble_source": FakeRelay()}, env={"HOME": "/nonexistent"})
    assert res.stdout == ("Healthcheck (via localhost:4245): Ok\nCurrent/Max Flows: 4,095/4,095 (100.00%)\n"
                          "Flows/s: 3.50\nConnected Nodes: 2/2\n")
    res = runner.invoke(hubble, ["list", "namespaces"], obj={"hubble_source": FakeRelay()})
    assert res.stdout == "NAMESPACE\ndefault\n"
    res = runner.invoke(hubble, ["observe", "--last", "1"], obj={"hubble_source": FakeRelay()})
    assert res.stdout == FWD1


def test_config_view_defaults():
    res = run("config", "view", env={"HOME": "/h", "XDG_CONFIG_HOME": ""})
    assert res.stdout == (
        'basic-auth-password: ""\nbasic-auth-username: ""\nconfig: /h/.config/hubble/config.yaml\ndebug: false\n'
        'kube-context: ""\nkube-namespace: kube-system\nkubeconfig: ""\nport-forward: false\n'
        'port-forward-port: "4245"\nrequest-timeout: 12s\nserver: localhost:4245\ntimeout: 5s\ntls: false\n'
        'tls-allow-insecure: false\ntls-ca-cert-files: []\ntls-client-cert-file: ""\ntls-client-key-file: ""\n'
        'tls-server-name: ""\n')


def test_config_set_get_reset(tmp_path):
    cfg = str(tmp_path / "hubble" / "config.yaml")
    assert run("config", "set", "server", "relay:4245", "--config", cfg).exit_code == 0
    assert run("config", "get", "server", "--config", cfg).stdout == "relay:4245\n"
    assert run("config", "get", "server", "--config", cfg, env={"HUBBLE_SERVER": "env:1"}).stdout == "env:1\n"
    assert run("config", "get", "nope", "--config", cfg).stderr == "unknown key: nope\n"
    assert run("config", "reset", "server", "--config", cfg).exit_code == 0
    assert run("config", "get", "server", "--config", cfg).stdout == "localhost:4245\n"


def test_version():
    assert run("version").stdout.startswith("hubble v1.19")


def test_missing_tls_file_is_named_not_a_traceback(tmp_path):
    res = run("status", "--server", "127.0.0.1:1", "--tls", "--tls-ca-cert-files", str(tmp_path / "ca.crt"))
    assert res.exit_code == 1 and not isinstance(res.exception, FileNotFoundError)
    assert f"failed to read TLS material: open {tmp_path / 'ca.crt'}: no such file or directory" in res.output
