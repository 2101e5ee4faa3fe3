"""`kubectl exec` (no tty) against the served wall-clock lab: WebSocket v5.channel.k8s.io.

Expectations: shared/spec/kubeapi §9 (verified with kubectl 1.32) — stdout/stderr on their
channels, the exit code carried by the channel-3 Status, `error: <message>` for a runtime error.
"""

from __future__ import annotations

import json
import re
import time

from ciliumlab.k8s.apiserver import EXEC_COMMANDS
from ciliumlab.workloads.shell.runner import exec_error
from tests.apiserver.conftest import exec_threads, wait_until
from tests.apiserver.kube import Kubectl, LabServer
from tests.conftest import shared_fixture

L7_POLICY = str(shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml"))
LANDING = "deathstar.default.svc.cluster.local/v1/request-landing"

TWO_CONTAINERS = """apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  containers:
  - name: box
    image: busybox
    command: ["sleep", "infinity"]
    env: [{name: WHO, value: box}]
  - name: tools
    image: nicolaka/netshoot
    command: ["sleep", "infinity"]
    env:
    - {name: WHO, value: tools}
    - name: MY_NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
"""


def test_exec_curl_reaches_the_deathstar(skubectl: Kubectl) -> None:
    res = skubectl("exec", "tiefighter", "--", "curl", "-s", "-XPOST", LANDING)
    assert (res.rc, res.out, res.err) == (0, "Ship landed\n", "")


def test_exec_stdout_stderr_and_exit_code(skubectl: Kubectl) -> None:
    res = skubectl("exec", "xwing", "--", "sh", "-c", "echo out; echo err >&2; exit 28")
    assert res.out == "out\n"
    assert res.err == "err\ncommand terminated with exit code 28\n"
    assert res.rc == 28


def test_exec_curl_connect_timeout_under_policy(skubectl: Kubectl) -> None:
    skubectl.ok("apply", "-f", L7_POLICY)
    try:
        start = time.monotonic()
        res = skubectl("exec", "xwing", "--", "curl", "-s", "--connect-timeout", "2", "-XPOST", LANDING)
        elapsed = time.monotonic() - start
    finally:
        skubectl.ok("delete", "-f", L7_POLICY)
    assert (res.rc, res.out, res.err) == (28, "", "command terminated with exit code 28\n")
    assert 2.0 <= elapsed < 6.0  # the served lab runs on the wall clock: the SYNs really wait


def test_a_dropped_syn_waiting_for_connect_timeout_does_not_block_the_api(skubectl: Kubectl) -> None:
    """The SYN retries run inside the datapath with the lab lock taken; the wall clock's waiter
    lets go of it, so a concurrent `kubectl get pods` is answered meanwhile."""
    skubectl.ok("apply", "-f", L7_POLICY)
    proc = skubectl.popen("exec", "xwing", "--", "curl", "-s", "--connect-timeout", "3", "-XPOST", LANDING)
    try:
        assert wait_until(lambda: exec_threads(), timeout=5)
        time.sleep(0.5)  # xwing's SYNs are being dropped now
        start = time.monotonic()
        out = skubectl.ok("get", "pods", "-o", "name")
        took = time.monotonic() - start
        assert "pod/xwing" in out
        assert proc.poll() is None, "the curl finished before the get was served"
        assert took < 1.0
        out, err = proc.communicate(timeout=10)
        assert (proc.returncode, out) == (28, "")
    finally:
        proc.kill()
        proc.wait()
        skubectl.ok("delete", "-f", L7_POLICY)


def test_exec_stdin_is_delivered_after_the_client_closes_it(skubectl: Kubectl) -> None:
    res = skubectl("exec", "-i", "tiefighter", "--", "cat", stdin="hello\nworld\n")
    assert (res.rc, res.out, res.err) == (0, "hello\nworld\n", "")
    res = skubectl("exec", "-i", "tiefighter", "--", "sh", "-c", 'read a; read b; echo "$b $a"; exit 3',
                   stdin="first\nsecond\n")
    assert (res.rc, res.out) == (3, "second first\n")


def test_exec_unknown_command_is_the_runtime_error(skubectl: Kubectl) -> None:
    res = skubectl("exec", "tiefighter", "--", "nope", "--flag")
    assert res.rc == 1
    assert res.out == ""
    assert res.err == exec_error("nope", ["nope", "--flag"])


def test_exec_container_selection(skubectl: Kubectl) -> None:
    skubectl.ok("apply", "-f", "-", stdin=TWO_CONTAINERS)
    try:
        res = skubectl("exec", "two", "--", "sh", "-c", "echo $WHO")
        assert res.out == "box\n"
        assert res.err == 'Defaulted container "box" out of: box, tools\n'
        res = skubectl("exec", "two", "-c", "tools", "--", "sh", "-c", "echo $WHO on $MY_NODE; which curl")
        node = skubectl.ok("get", "pod", "two", "-o", "jsonpath={.spec.nodeName}")
        assert (res.rc, res.out) == (0, f"tools on {node}\n/usr/bin/curl\n")
        res = skubectl("exec", "two", "-c", "box", "--", "curl", "-s", "webpod")  # busybox has no curl
        assert (res.rc, res.err) == (1, exec_error("curl", ["curl", "-s", "webpod"]))
        res = skubectl("exec", "two", "-c", "nope", "--", "true")
        assert res.rc == 1
        assert res.err == "Error from server (BadRequest): container nope is not valid for pod two\n"
    finally:
        skubectl.ok("delete", "pod", "two", "--wait=false")


def test_exec_cilium_dbg_in_the_agent_goes_to_the_hook(skubectl: Kubectl, stream_server: LabServer) -> None:
    # the agent's cilium-dbg (ciliumlab.cilium.dbg) runs against the agent of the pod's node
    res = skubectl("exec", "-n", "kube-system", "-c", "cilium-agent", "ds/cilium", "--", "cilium-dbg", "endpoint",
                   "list")
    assert (res.rc, res.err) == (0, "")
    lines = res.out.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == [
        "ENDPOINT", "POLICY (ingress)", "POLICY (egress)", "IDENTITY", "LABELS (source:key[=value])", "IPv6", "IPv4",
        "STATUS"]
    assert lines[1].split() == ["ENFORCEMENT", "ENFORCEMENT"]
    lab = stream_server.lab
    health = next(line.split() for line in lines[2:] if "reserved:health" in line)
    node = next(n for n, agent in lab.cilium.nodes.items() if agent.health_ip == health[5])
    assert (int(health[0]), health[1:5]) == (lab.cilium.nodes[node].health_endpoint_id,
                                              ["Disabled", "Disabled", "4", "reserved:health"])
    ceps = {c["status"]["id"]: c for c in json.loads(skubectl.ok("get", "cep", "-A", "-o", "json"))["items"]
            if c["status"]["networking"]["node"] == lab.cilium.nodes[node].host.ip}
    rows = {int(line.split()[0]): line.split() for line in lines[2:] if line[:1].isdigit()}
    assert set(ceps) <= set(rows)
    for eid, cep in ceps.items():
        assert int(rows[eid][3]) == cep["status"]["identity"]["id"]
        assert rows[eid][4] == sorted(cep["status"]["identity"]["labels"])[0]
    res = skubectl("exec", "-n", "kube-system", "-c", "cilium-agent", "ds/cilium", "--", "cilium-dbg", "nope")
    assert res.rc == 1
    assert res.err == ('Error: unknown command "nope" for "cilium-dbg"\nRun \'cilium-dbg --help\' for usage.\n'
                       "command terminated with exit code 1\n")
    # only the agent's image has it
    res = skubectl("exec", "xwing", "--", "cilium-dbg", "status")
    assert (res.rc, res.err) == (1, exec_error("cilium-dbg", ["cilium-dbg", "status"]))

    # the registry is live: the agent-surfaces work plugs its implementation in here
    seen = []

    def factory(lab, pod, container):
        if container["name"] != "cilium-agent":
            return None

        def fake(args, ctx):
            seen.append((pod["spec"]["nodeName"], args))
            ctx.stdout.write(f"KVStore: Disabled ({ctx.name} {' '.join(args)})\n")
            return 0

        return fake

    commands = stream_server.app[EXEC_COMMANDS]
    old = commands["cilium-dbg"]
    commands["cilium-dbg"] = factory
    try:
        res = skubectl("exec", "-n", "kube-system", "ds/cilium", "--", "sh", "-c", "cilium-dbg status --brief")
    finally:
        commands["cilium-dbg"] = old
    assert (res.rc, res.out) == (0, "KVStore: Disabled (cilium-dbg status --brief)\n")
    assert seen and seen[0][1] == ["status", "--brief"]


def test_exec_streams_output_as_it_is_produced(skubectl: Kubectl) -> None:
    proc = skubectl.popen("exec", "curl-pod", "--", "sh", "-c", "for i in 1 2; do echo tick $i; sleep 1; done")
    try:
        start = time.monotonic()
        first = proc.stdout.readline()
        first_at = time.monotonic() - start
        assert first == "tick 1\n"
        assert proc.poll() is None  # still running: the line came before the command finished
        out, err = proc.communicate(timeout=10)
        assert first_at < 0.9 < time.monotonic() - start
        assert (proc.returncode, out, err) == (0, "tick 2\n", "")
    finally:
        proc.kill()
        proc.wait()


def test_exec_sleeping_does_not_block_the_api(skubectl: Kubectl) -> None:
    proc = skubectl.popen("exec", "curl-pod", "--", "sh", "-c", "sleep 2; echo done")
    try:
        assert wait_until(lambda: exec_threads(), timeout=5)
        time.sleep(0.3)
        start = time.monotonic()
        skubectl.ok("get", "pods", "-o", "name")
        assert time.monotonic() - start < 1.5
        assert proc.poll() is None
        assert proc.communicate(timeout=10)[0] == "done\n"
    finally:
        proc.kill()
        proc.wait()


def test_exec_stops_when_the_client_goes_away(skubectl: Kubectl) -> None:
    assert wait_until(lambda: not exec_threads(), timeout=10)
    proc = skubectl.popen("exec", "curl-pod", "--", "sh", "-c", "while true; do echo x; sleep 1; done")
    try:
        assert proc.stdout.readline() == "x\n"
        assert exec_threads()
    finally:
        proc.kill()
        proc.wait()
    assert wait_until(lambda: not exec_threads(), timeout=5), "the exec kept running after kubectl died"
