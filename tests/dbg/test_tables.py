"""`cilium-dbg` tables (spec/hubble/metrics-export.md e.2): layouts per Go's tabwriter
(width = longest cell + 3, at least 5), contents checked against what the cluster says
(CiliumEndpoints, Pods, Services)."""

from __future__ import annotations

import io
import re

from ciliumlab.cilium.dbg import run_dbg
from ciliumlab.cilium.dbg.tabwriter import render
from tests.dbg.conftest import L3_L4, L7, dbg

# -- layout: spec examples verbatim ------------------------------------------------------------
SPEC_SERVICE_LIST = """\
ID   Frontend            Service Type   Backend
1    10.96.0.1:443/TCP   ClusterIP      1 => 172.18.0.3:6443/TCP (active)
2    10.96.0.10:53/UDP   ClusterIP      1 => 10.0.1.11:53/UDP (active)
                                        2 => 10.0.1.12:53/UDP (active)
"""
SPEC_BPF_LB = """\
SERVICE ADDRESS     BACKEND ADDRESS (REVNAT_ID) (SLOT)
10.96.0.1:443/TCP   172.18.0.3:6443/TCP (1) (1)
                    0.0.0.0:0 (1) (0) [ClusterIP, non-routable]
"""


def _rstrip_lines(text: str) -> str:
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def test_tabwriter_reproduces_the_spec_layouts() -> None:
    svc = render(["ID\tFrontend\tService Type\tBackend\t",
                  "1\t10.96.0.1:443/TCP\tClusterIP\t1 => 172.18.0.3:6443/TCP (active)\t",
                  "2\t10.96.0.10:53/UDP\tClusterIP\t1 => 10.0.1.11:53/UDP (active)\t",
                  "\t\t\t2 => 10.0.1.12:53/UDP (active)\t"])
    assert _rstrip_lines(svc) == SPEC_SERVICE_LIST
    lb = render(["SERVICE ADDRESS\tBACKEND ADDRESS (REVNAT_ID) (SLOT)",
                 "10.96.0.1:443/TCP\t172.18.0.3:6443/TCP (1) (1)",
                 "\t0.0.0.0:0 (1) (0) [ClusterIP, non-routable]"])
    assert lb == SPEC_BPF_LB
    # min width 5 and the padding of 3
    assert render(["a\tb", "cc\td"]) == "a    b\ncc   d\n"
    assert render(["a\tb", "cccc\td"]) == "a      b\ncccc   d\n"


# -- endpoint list ------------------------------------------------------------------------------
HEADER = ["ENDPOINT", "POLICY (ingress)", "POLICY (egress)", "IDENTITY", "LABELS (source:key[=value])", "IPv6",
          "IPv4", "STATUS"]


def _columns(header: str) -> list[int]:
    return [header.index(title) for title in HEADER]


def _parse_endpoints(text: str) -> tuple[list[int], dict[int, dict]]:
    lines = text.splitlines()
    cols = _columns(lines[0])
    assert re.split(r"\s{2,}", lines[0].strip()) == HEADER
    assert lines[1].strip().split() == ["ENFORCEMENT", "ENFORCEMENT"]
    assert [m.start() for m in re.finditer("ENFORCEMENT", lines[1])] == cols[1:3]
    rows: dict[int, dict] = {}
    current = None
    for line in lines[2:]:
        if line[:cols[1]].strip():
            cells = [line[a:b].strip() for a, b in zip(cols, [*cols[1:], None], strict=True)]
            current = {"ingress": cells[1], "egress": cells[2], "identity": int(cells[3]), "labels": [cells[4]],
                       "ipv6": cells[5], "ipv4": cells[6], "status": cells[7]}
            rows[int(cells[0])] = current
        else:
            assert line[:cols[4]].strip() == "" and line[cols[5]:].strip() == ""  # continuation: the label only
            current["labels"].append(line[cols[4]:cols[5]].strip())
    return cols, rows


def _ceps(lab, node: str) -> dict[str, dict]:
    return {c["metadata"]["name"]: c for c in lab.list("cep", "default")
            if lab.get("pod", c["metadata"]["name"])["spec"]["nodeName"] == node}


def test_endpoint_list_policy_enforcement_before_and_after_rule1(sw_lab) -> None:
    deathstars = [p for p in sw_lab.list("pod", "default", "class=deathstar")]
    node = deathstars[0]["spec"]["nodeName"]
    name = deathstars[0]["metadata"]["name"]
    before = dbg(sw_lab, node, "cilium-dbg endpoint list")
    assert before.exit_code == 0
    cols, rows = _parse_endpoints(before.stdout)
    cep = _ceps(sw_lab, node)[name]
    row = rows[cep["status"]["id"]]
    assert (row["ingress"], row["egress"]) == ("Disabled", "Disabled")
    assert row["identity"] == cep["status"]["identity"]["id"]
    assert row["labels"] == sorted(cep["status"]["identity"]["labels"])
    assert (row["ipv6"], row["ipv4"], row["status"]) == ("", deathstars[0]["status"]["podIP"], "ready")
    # LABELS column: as wide as the longest label + 3
    longest = max(len(label) for r in rows.values() for label in r["labels"])
    assert cols[5] - cols[4] == max(longest, len(HEADER[4])) + 3

    sw_lab.apply(L3_L4)
    _, rows = _parse_endpoints(dbg(sw_lab, node, "cilium-dbg endpoint list").stdout)
    for pod_name, cep in _ceps(sw_lab, node).items():
        row = rows[cep["status"]["id"]]
        expected = "Enabled" if pod_name.startswith("deathstar") else "Disabled"
        assert (row["ingress"], row["egress"]) == (expected, "Disabled"), pod_name
        assert row["identity"] == cep["status"]["identity"]["id"]
    # the host (ID 1) and health (ID 4) endpoints: Disabled / Disabled (policy-scenarios SW-04)
    host = [r for r in rows.values() if r["identity"] == 1]
    health = [r for r in rows.values() if r["identity"] == 4]
    assert len(host) == 1 and "reserved:host" in host[0]["labels"] and host[0]["ipv4"] == ""
    assert len(health) == 1 and health[0]["labels"] == ["reserved:health"]
    assert health[0]["ipv4"] == sw_lab.cilium.nodes[node].health_ip
    assert all((r["ingress"], r["egress"]) == ("Disabled", "Disabled") for r in host + health)


def test_host_endpoint_carries_the_node_labels(sw_lab) -> None:
    _, rows = _parse_endpoints(dbg(sw_lab, "k8s-ctr", "cilium-dbg endpoint list").stdout)
    host = next(r for r in rows.values() if r["identity"] == 1)
    assert host["labels"] == ["k8s:node-role.kubernetes.io/control-plane",
                              "k8s:node.kubernetes.io/exclude-from-external-load-balancers", "reserved:host"]


def test_endpoint_list_json_and_get(sw_lab) -> None:
    import json

    res = dbg(sw_lab, "k8s-w2", "cilium-dbg endpoint list -o json")
    eps = json.loads(res.stdout)
    xwing = sw_lab.get("cep", "xwing")
    ep = next(e for e in eps if e["id"] == xwing["status"]["id"])
    assert ep["status"]["identity"]["id"] == xwing["status"]["identity"]["id"]
    assert ep["status"]["networking"]["addressing"] == [{"ipv4": sw_lab.get("pod", "xwing")["status"]["podIP"]}]
    assert ep["status"]["policy"]["realized"]["policy-enabled"] == "none"
    assert ep["status"]["external-identifiers"]["pod-name"] == "default/xwing"
    got = json.loads(dbg(sw_lab, "k8s-w2", f"cilium-dbg endpoint get {xwing['status']['id']}").stdout)
    assert isinstance(got, list) and got[0]["id"] == xwing["status"]["id"]
    log = dbg(sw_lab, "k8s-w2", f"cilium-dbg endpoint log {xwing['status']['id']}").stdout
    assert re.split(r"\s{2,}", log.splitlines()[0].strip()) == ["Timestamp", "Status", "State", "Message"]
    assert "Successfully regenerated endpoint program" in log


# -- identities, IPs, services --------------------------------------------------------------------
RESERVED = {1: "reserved:host", 2: "reserved:world", 3: "reserved:unmanaged", 4: "reserved:health",
            5: "reserved:init", 6: "reserved:remote-node", 7: "reserved:kube-apiserver", 8: "reserved:ingress",
            9: "reserved:world-ipv4", 10: "reserved:world-ipv6"}


def _id_table(text: str) -> dict[int, list[str]]:
    lines = text.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip())[:2] == ["ID", "LABELS"]
    out: dict[int, list[str]] = {}
    current = None
    for line in lines[1:]:
        first, rest = line[:lines[0].index("LABELS")].strip(), line[lines[0].index("LABELS"):].split("   ")[0].strip()
        if first:
            current = out.setdefault(int(first), [])
        current.append(rest)
    return out


def test_identity_list_has_reserved_and_pod_identities(sw_lab) -> None:
    res = dbg(sw_lab, "k8s-w1", "cilium-dbg identity list")
    table = _id_table(res.stdout)
    for ident, label in RESERVED.items():
        assert table[ident][0] == label
    assert list(table) == sorted(table)
    for cep in sw_lab.list("cep", "default"):
        ident = cep["status"]["identity"]
        assert table[ident["id"]] == sorted(ident["labels"])
    local = _id_table(dbg(sw_lab, "k8s-w1", "cilium-dbg identity list --endpoints").stdout)
    on_w1 = {c["status"]["identity"]["id"] for c in _ceps(sw_lab, "k8s-w1").values()}
    assert on_w1 | {1, 4} <= set(local)
    assert sw_lab.get("cep", "xwing")["status"]["identity"]["id"] not in local  # xwing runs on k8s-w2


def test_ip_list_shows_pod_identities(sw_lab) -> None:
    xwing = sw_lab.get("pod", "xwing")
    cep = sw_lab.get("cep", "xwing")
    text = dbg(sw_lab, "k8s-w1", "cilium-dbg ip list -n").stdout
    assert re.split(r"\s{2,}", text.splitlines()[0].strip()) == ["IP", "IDENTITY", "SOURCE"]
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[1:]}
    assert rows[f"{xwing['status']['podIP']}/32"][0] == str(cep["status"]["identity"]["id"])
    assert rows["0.0.0.0/0"] == ["2"]
    named = dbg(sw_lab, "k8s-w1", "cilium-dbg ip list").stdout
    assert re.search(rf"^{re.escape(xwing['status']['podIP'])}/32\s+k8s:app.kubernetes.io/name=xwing\s+", named, re.M)


def test_service_list_shows_deathstar_with_both_backends(sw_lab) -> None:
    svc = sw_lab.get("svc", "deathstar")
    ips = sorted(p["status"]["podIP"] for p in sw_lab.list("pod", "default", "class=deathstar"))
    text = dbg(sw_lab, "k8s-w2", "cilium-dbg service list").stdout
    lines = text.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["ID", "Frontend", "Service Type", "Backend"]
    start = next(i for i, line in enumerate(lines) if f" {svc['spec']['clusterIP']}:80/TCP " in line)
    row = re.split(r"\s{2,}", lines[start].strip())
    assert row[1:] == [f"{svc['spec']['clusterIP']}:80/TCP", "ClusterIP", f"1 => {ips[0]}:80/TCP (active)"]
    backend_col = lines[0].index("Backend")
    assert lines[start + 1][:backend_col].strip() == ""
    assert lines[start + 1][backend_col:].rstrip() == f"2 => {ips[1]}:80/TCP (active)"
    lb = dbg(sw_lab, "k8s-w2", "cilium-dbg bpf lb list").stdout
    # one row per service-map key (frontend + slot), every value cell tab-terminated (padded)
    cip = re.escape(svc['spec']['clusterIP'])
    assert re.search(rf"^{cip}:80/TCP \(1\)\s+{re.escape(ips[0])}:80/TCP \(\d+\) \(1\) +$", lb, re.M)
    assert re.search(rf"^{cip}:80/TCP \(0\)\s+0\.0\.0\.0:0 \(\d+\) \(0\) \[ClusterIP, non-routable\] +$", lb, re.M)


# -- policy ----------------------------------------------------------------------------------------
def test_policy_get_and_bpf_policy(sw_lab) -> None:
    import json

    empty = dbg(sw_lab, "k8s-w1", "cilium-dbg policy get").stdout
    assert empty == "[]\nRevision: 1\n"
    sw_lab.apply(L7)
    text = dbg(sw_lab, "k8s-w1", "cilium-dbg policy get").stdout
    body, _, revision = text.rstrip("\n").rpartition("\n")
    assert re.fullmatch(r"Revision: \d+", revision) and int(revision.split()[1]) > 1
    rules = json.loads(body)
    assert rules[0]["endpointSelector"]["matchLabels"] == {"any:class": "deathstar", "any:org": "empire",
                                                           "k8s:io.kubernetes.pod.namespace": "default"}
    assert {"key": "io.cilium.k8s.policy.name", "value": "rule1", "source": "k8s"} in rules[0]["labels"]
    assert rules[0]["ingress"][0]["toPorts"][0]["rules"]["http"] == [{"method": "POST", "path": "/v1/request-landing"}]

    deathstar = next(p for p in sw_lab.list("pod", "default", "class=deathstar"))
    node = deathstar["spec"]["nodeName"]
    eid = sw_lab.get("cep", deathstar["metadata"]["name"])["status"]["id"]
    tie = sw_lab.get("cep", "tiefighter")["status"]["identity"]["id"]
    table = dbg(sw_lab, node, f"cilium-dbg bpf policy get -n {eid}").stdout
    assert re.split(r"\s{2,}", table.splitlines()[0].strip()) == [
        "POLICY", "DIRECTION", "IDENTITY", "PORT/PROTO", "PROXY PORT", "AUTH TYPE", "BYTES", "PACKETS", "PREFIX",
        "COOKIE"]
    assert re.search(rf"^Allow\s+Ingress\s+{tie}\s+80/TCP\s+\d+\s+disabled\s", table, re.M)  # redirected to the proxy
    assert re.search(r"^Allow\s+Egress\s+0\s+ANY\s+NONE\s", table, re.M)  # egress not enforced


def test_bpf_ct_list_global_lines(sw_lab) -> None:
    r = sw_lab.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
    assert r.stdout == "Ship landed\n"
    node = sw_lab.get("pod", "tiefighter")["spec"]["nodeName"]
    ip = sw_lab.get("pod", "tiefighter")["status"]["podIP"]
    cluster_ip = sw_lab.get("svc", "deathstar")["spec"]["clusterIP"]
    text = dbg(sw_lab, node, "cilium-dbg bpf ct list global").stdout
    shape = (r"^TCP (IN|OUT) {ip}:\d+ -> {dst}:80 (service )?expires=\d+ RxPackets=\d+ RxBytes=\d+ "
             r"RxFlagsSeen=0x[0-9a-f]{{2}} LastRxReport=\d+ TxPackets=\d+ TxBytes=\d+ TxFlagsSeen=0x[0-9a-f]{{2}} "
             r"LastTxReport=\d+ Flags=0x[0-9a-f]{{4}} \[ [A-Za-z ]*\] RevNAT=\d+ SourceSecurityID=\d+ IfIndex=\d+ $")
    assert re.search(shape.format(ip=re.escape(ip), dst=r"[\d.]+"), text, re.M)
    assert re.search(shape.format(ip=re.escape(ip), dst=re.escape(cluster_ip)), text, re.M)


# -- status / errors ---------------------------------------------------------------------------------
def test_status_lines(sw_lab) -> None:
    text = dbg(sw_lab, "k8s-w1", "cilium-dbg status").stdout
    labels = [line.split(":")[0] for line in text.splitlines()]
    for key in ("KVStore", "Kubernetes", "KubeProxyReplacement", "Cilium", "NodeMonitor", "IPAM",
                "Controller Status", "Proxy Status", "Hubble", "Cluster health"):
        assert key in labels
    assert re.search(r"^Cilium:\s+Ok   1\.\d+\.\d+ ", text, re.M)
    assert re.search(r"^Cluster health:\s+3/3 reachable", text, re.M)
    assert dbg(sw_lab, "k8s-w1", "cilium-dbg status --brief").stdout == "OK\n"
    verbose = dbg(sw_lab, "k8s-w1", "cilium-dbg status --verbose").stdout
    health_ip = sw_lab.cilium.nodes["k8s-w1"].health_ip
    assert f"  {health_ip} (health)\n" in verbose and "KubeProxyReplacement Details:" in verbose


def test_unknown_command_is_a_cobra_error(sw_lab) -> None:
    res = dbg(sw_lab, "k8s-w1", "cilium-dbg frobnicate")
    assert (res.exit_code, res.stdout) == (1, "")
    assert res.stderr == 'Error: unknown command "frobnicate" for "cilium-dbg"\nRun \'cilium-dbg --help\' for usage.\n'
    out, err = io.StringIO(), io.StringIO()
    assert run_dbg(sw_lab, "k8s-w1", ["endpoint", "nope"], out, err) == 1
    assert err.getvalue().startswith('Error: unknown command "nope" for "cilium-dbg endpoint"\n')


def test_only_the_agent_image_has_cilium_dbg(sw_lab) -> None:
    res = sw_lab.exec("xwing", "cilium-dbg status")
    assert res.exit_code == 127
