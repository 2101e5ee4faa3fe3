"""`cilium-dbg monitor` (spec e.1): lines printed as events arrive, filtered by type / endpoint."""

from __future__ import annotations

import io
import re

from ciliumlab.cilium.dbg import start_monitor
from tests.dbg.conftest import L3_L4, L7, dbg

LANDING = "deathstar.default.svc.cluster.local/v1/request-landing"
HEADER = "Listening for events on 2 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n"
DROP = re.compile(r"^xx drop \(Policy denied\) flow 0x[0-9a-f]+ to endpoint (\d+), ifindex \d+, "
                  r"file bpf_lxc\.c:\d+, , identity (\d+)->(\d+): ([\d.]+):\d+ -> ([\d.]+):80 tcp SYN$")


def _monitors(lab, args):
    outs = {n: io.StringIO() for n in lab.nodes}
    sessions = [start_monitor(lab, n, args, outs[n]) for n in lab.nodes]
    return outs, sessions


def test_monitor_type_drop_prints_the_xwing_drop(sw_lab) -> None:
    sw_lab.apply(L3_L4)
    outs, sessions = _monitors(sw_lab, ["--type", "drop"])
    try:
        r = sw_lab.exec("xwing", f"curl -s -m 2 -XPOST {LANDING}")
        assert r.exit_code == 28
    finally:
        for s in sessions:
            s.stop()
    xwing = sw_lab.get("cep", "xwing")["status"]
    pods = {p["status"]["podIP"]: p["spec"]["nodeName"] for p in sw_lab.list("pod", "default", "class=deathstar")}
    deathstars = {sw_lab.get("pod", c["metadata"]["name"])["status"]["podIP"]: c["status"]
                  for c in sw_lab.list("cep", "default") if c["metadata"]["name"].startswith("deathstar")}
    drops = []
    for node, out in outs.items():
        text = out.getvalue()
        assert text.startswith(HEADER)
        for line in text[len(HEADER):].splitlines():
            m = DROP.match(line)
            assert m, line  # --type drop: nothing but drops
            drops.append((node, m))
    assert drops
    for node, m in drops:
        ds = deathstars[m.group(5)]
        assert pods[m.group(5)] == node  # reported by the agent of the deathstar's node (ingress drop)
        assert int(m.group(1)) == ds["id"]
        assert (int(m.group(2)), int(m.group(3))) == (xwing["identity"]["id"], ds["identity"]["id"])
        assert m.group(4) == sw_lab.get("pod", "xwing")["status"]["podIP"]
    # after the session stopped nothing more is printed
    before = {n: o.getvalue() for n, o in outs.items()}
    sw_lab.exec("xwing", f"curl -s -m 1 -XPOST {LANDING}")
    assert {n: o.getvalue() for n, o in outs.items()} == before


def test_monitor_default_prints_traces_and_policy_verdicts(sw_lab) -> None:
    sw_lab.apply(L3_L4)
    outs, sessions = _monitors(sw_lab, [])
    sw_lab.exec("tiefighter", f"curl -s -XPOST {LANDING}")
    sw_lab.exec("xwing", f"curl -s -m 1 -XPOST {LANDING}")
    for s in sessions:
        s.stop()
    text = "".join(o.getvalue() for o in outs.values())
    tie = sw_lab.get("cep", "tiefighter")["status"]
    assert re.search(rf"^-> endpoint {tie['id']} flow 0x[0-9a-f]+ , identity \d+->{tie['identity']['id']} "
                     rf"state reply ifindex lxc\w+ orig-ip 0\.0\.0\.0: [\d.]+:80 -> [\d.]+:\d+ tcp SYN, ACK$",
                     text, re.M)
    assert re.search(r"^Policy verdict log: flow 0x[0-9a-f]+ local EP ID \d+, remote ID \d+, proto 6, ingress, "
                     r"action deny, auth: disabled, match none, [\d.]+:\d+ -> [\d.]+:80 tcp SYN$", text, re.M)
    assert re.search(r"^Policy verdict log: .* ingress, action allow, auth: disabled, match L3-L4, ", text, re.M)


def test_monitor_l7_and_related_to(sw_lab) -> None:
    sw_lab.apply(L7)
    tie = sw_lab.get("cep", "tiefighter")["status"]
    outs, sessions = _monitors(sw_lab, ["--type", "l7"])
    sw_lab.exec("tiefighter", "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port")
    for s in sessions:
        s.stop()
    text = "".join(o.getvalue() for o in outs.values())
    labels = r"\[k8s:app\.kubernetes\.io/name=tiefighter [^\]]*k8s:org=empire\]"
    assert re.search(rf"^<- Request http from \d+ \({labels}\) to \d+ \(\[[^\]]*k8s:class=deathstar[^\]]*\]\), "
                     rf"identity {tie['identity']['id']}->\d+, verdict Denied PUT "
                     r"http://deathstar\.default\.svc\.cluster\.local/v1/exhaust-port => 0$", text, re.M)
    assert re.search(rf"^<- Response http to \d+ \({labels}\) from \d+ .*identity {tie['identity']['id']}->\d+, "
                     r"verdict Forwarded PUT http://\S+ => 403$", text, re.M)
    # --related-to: only the events of that endpoint (on the tiefighter's node)
    node = sw_lab.get("pod", "tiefighter")["spec"]["nodeName"]
    out = io.StringIO()
    with start_monitor(sw_lab, node, [f"--related-to={tie['id']}", "-t", "trace"], out):
        sw_lab.exec("tiefighter", f"curl -s -XPOST {LANDING}")
    lines = out.getvalue().splitlines()[2:]
    assert lines and all(f"endpoint {tie['id']} " in line or "-> stack" in line for line in lines)


def test_monitor_verbose_prints_dashes_and_headers(sw_lab) -> None:
    node = sw_lab.get("pod", "tiefighter")["spec"]["nodeName"]
    out = io.StringIO()
    with start_monitor(sw_lab, node, ["-v", "-v", "--type", "trace"], out):
        sw_lab.exec("tiefighter", f"curl -s -XPOST {LANDING}")
    text = out.getvalue()
    assert "\n" + "-" * 78 + "\n" in text
    assert re.search(r"^CPU \d\d: MARK 0x[0-9a-f]+ FROM \d+ to-endpoint: \d+ bytes \(\d+ captured\), state reply, ",
                     text, re.M)


def test_monitor_in_the_agent_runs_until_the_exec_timeout(sw_lab) -> None:
    start = sw_lab.clock.now()
    res = dbg(sw_lab, "k8s-w1", "cilium-dbg monitor --type drop", timeout=5)
    assert (res.stdout, res.timed_out) == (HEADER, True)
    assert sw_lab.clock.now() - start >= 5
    bad = dbg(sw_lab, "k8s-w1", "cilium-dbg monitor --type bogus")
    assert bad.exit_code == 1 and bad.stderr.startswith('Error: invalid argument "bogus" for "-t, --type" flag')
