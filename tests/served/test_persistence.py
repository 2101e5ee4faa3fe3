"""Every acknowledged write survives `down`/`up` and `kill -9`; pod IPs, endpoint ids and
identities come back the same (SQLite store + the agents adopting what the store says)."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import sqlite3
import time
from pathlib import Path

from ciliumlab import Lab
from ciliumlab.served.persist import CommitLock, Persister, load
from tests.conftest import shared_fixture
from tests.served.conftest import needs_kubectl
from tests.served.served import ANY_PORTS, ServedLab

SW_APP = shared_fixture("cilium", "http-sw-app.yaml")
L7_POLICY = shared_fixture("cilium", "sw_l3_l4_l7_policy.yaml")
POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec: {{containers: [{{name: c, image: nginx}}]}}
"""
PINNED_POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec: {{nodeName: k8s-w1, containers: [{{name: c, image: nginx}}]}}
"""


def _index(objs) -> dict:
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objs}


def _without_rv(obj: dict) -> dict:
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}


def _fingerprint(lab: Lab) -> dict:
    """What must not change across a restart."""
    pods = {p["metadata"]["name"]: (p["metadata"]["uid"], p["status"].get("podIP"), p["spec"].get("nodeName"))
            for p in lab.list("Pod", "default")}
    ceps = {c["metadata"]["name"]: (c["status"]["id"], c["status"]["identity"]["id"])
            for c in lab.list("CiliumEndpoint", "default")}
    endpoints = {(e.namespace, e.pod_name): (e.id, e.identity.id, e.ip) for e in lab.cilium.endpoints.values()}
    identities = sorted(i["metadata"]["name"] for i in lab.list("CiliumIdentity"))
    services = {s["metadata"]["name"]: s["spec"].get("clusterIP") for s in lab.list("Service", "default")}
    return {"pods": pods, "ceps": ceps, "endpoints": endpoints, "identities": identities, "services": services}


# -- in-process: the store, the lock, restore -----------------------------------------------------------

def _persisted_lab(tmp_path: Path) -> tuple[Lab, Persister, CommitLock]:
    lab = Lab(clock="wall")
    persister = Persister(tmp_path / "store.db", lab.store)
    persister.snapshot()
    return lab, persister, CommitLock(persister.flush)


def _restored(tmp_path: Path) -> Lab:
    objects, rv = load(tmp_path / "store.db")
    return Lab(clock="wall", restore=objects, restore_version=rv)


def test_database_is_wal_with_full_sync(tmp_path: Path) -> None:
    _, persister, _ = _persisted_lab(tmp_path)
    assert persister.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert persister.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_commit_lock_flushes_when_the_outermost_holder_releases(tmp_path: Path) -> None:
    lab, persister, lock = _persisted_lab(tmp_path)
    reader = sqlite3.connect(tmp_path / "store.db")

    def stored(name: str) -> bool:
        return reader.execute("SELECT 1 FROM objects WHERE kind = 'Pod' AND name = ?", (name,)).fetchone() is not None

    with lock:
        with lock:
            lab.apply(POD.format(name="one"))
        assert persister.dirty and not stored("one")  # still held: nothing acknowledged yet
    assert not persister.dirty and stored("one")
    with lock:
        lab.delete_object("pod", "one")
    assert not stored("one")
    assert int(reader.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()[0]) == \
        lab.store.resource_version


def test_restore_brings_back_objects_ips_endpoint_ids_and_identities(tmp_path: Path) -> None:
    lab, persister, lock = _persisted_lab(tmp_path)
    with lock:
        lab.apply(SW_APP)
        lab.apply(L7_POLICY)
    with lock:  # churn on one node, so allocating afresh would hand out different ids and IPs
        for n in range(4):
            lab.apply(PINNED_POD.format(name=f"churn{n}"))
        lab.delete_object("pod", "churn0")
        lab.delete_object("pod", "churn2")
    persister.close()
    before = _fingerprint(lab)
    again = _restored(tmp_path)
    assert _fingerprint(again) == before
    # objects are as stored (the agents only re-stamp what they own: CiliumNodes, policy-refreshed CEPs)
    old, new = _index(lab.store), _index(again.store)
    assert old.keys() == new.keys()
    for key, obj in old.items():
        assert _without_rv(new[key]) == _without_rv(obj), key
    assert again.store.resource_version >= lab.store.resource_version
    # and the datapath works: the policy still lets the tiefighter land, the xwing is still dropped
    assert again.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing").stdout \
        == "Ship landed\n"
    assert again.exec("xwing", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing "
                               "--connect-timeout 1").exit_code == 28


def test_new_pods_after_restore_do_not_reuse_ips_or_ids(tmp_path: Path) -> None:
    lab, persister, lock = _persisted_lab(tmp_path)
    with lock:
        lab.apply(SW_APP)
    persister.close()
    again = _restored(tmp_path)
    for n in range(6):
        again.apply(POD.format(name=f"extra{n}"))
    ips = [p["status"]["podIP"] for p in again.list("Pod") if not p["spec"].get("hostNetwork")]
    assert len(ips) == len(set(ips))
    for node, agent in again.cilium.nodes.items():
        ids = [e.id for e in again.cilium.endpoints.values() if e.node == node]
        ids += [agent.host_endpoint_id, agent.health_endpoint_id]
        assert len(ids) == len(set(ids)), node
        ipam = agent.ipam.used()
        mine = [ip for ip in ips if ipaddress.ip_address(ip) in ipaddress.ip_network(agent.pod_cidr)]
        assert mine and all(ip in ipam for ip in mine), node


def test_deletes_persist(tmp_path: Path) -> None:
    lab, persister, lock = _persisted_lab(tmp_path)
    with lock:
        lab.apply(SW_APP)
    with lock:
        lab.delete(SW_APP)
        lab.delete_object("deployment", "coredns", "kube-system")
    persister.close()
    again = _restored(tmp_path)
    assert [p["metadata"]["name"] for p in again.list("Pod", "default")] == []
    assert again.list("CiliumEndpoint", "default") == []
    assert again.store.get("Deployment", "kube-system", "coredns") is None  # bootstrap does not bring it back


# -- the real thing: `ciliumlab down/up` and `kill -9` ------------------------------------------------------

def _served_fingerprint(served: ServedLab) -> dict:
    pods = {p["metadata"]["name"]: (p["metadata"]["uid"], p["status"].get("podIP"), p["spec"].get("nodeName"))
            for p in served.get_json("pods", "-n", "default")["items"]}
    ceps = {c["metadata"]["name"]: (c["status"]["id"], c["status"]["identity"]["id"])
            for c in served.get_json("ciliumendpoints", "-n", "default")["items"]}
    identities = sorted(i["metadata"]["name"] for i in served.get_json("ciliumidentities")["items"])
    objects = {(o["kind"], o["metadata"]["name"]): o["metadata"]["uid"]
               for o in served.get_json("deployments,replicasets,services,ciliumnetworkpolicies", "-n", "default")["items"]}
    return {"pods": pods, "ceps": ceps, "identities": identities, "objects": objects}


@needs_kubectl
def test_down_up_keeps_objects_ips_endpoint_ids_and_identities(served: ServedLab) -> None:
    served.kubectl_ok("apply", "-f", str(SW_APP))
    served.kubectl_ok("apply", "-f", str(L7_POLICY))
    before = _served_fingerprint(served)
    assert len(before["pods"]) == 4 and len(before["ceps"]) == 4
    pid = served.pid()
    down = served.down()
    assert down.rc == 0 and f"stopped (pid {pid})" in down.out
    assert served.status()["state"] == "stopped"
    up = served.up()  # the ports recorded by the first `up` (0 = any free port)
    assert up.rc == 0, up.err
    assert served.info()["restored"] is True
    assert _served_fingerprint(served) == before
    apply = served.kubectl_ok("apply", "-f", str(SW_APP))
    assert all(line.endswith("unchanged") for line in apply.splitlines())


@needs_kubectl
def test_kill_9_right_after_an_acknowledged_apply(served: ServedLab) -> None:
    served.ensure_up()
    pid = served.pid()
    served.kubectl_ok("apply", "-f", "-", stdin=POD.format(name="survivor"))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while served.pid() is not None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert (served.state / "server.json").exists()  # a crash leaves the runtime files behind …
    up = served.up(*ANY_PORTS)  # … which do not fool the next `up`
    assert up.rc == 0, up.err
    assert served.pid() != pid
    pod = served.get_json("pod", "survivor")
    assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"]
    cep = served.get_json("ciliumendpoint", "survivor")
    assert cep["status"]["networking"]["addressing"] == [{"ipv4": pod["status"]["podIP"]}]
    served.kubectl_ok("delete", "pod", "survivor")
    assert served.kubectl("get", "pod", "survivor").rc == 1


def test_server_json_records_the_restore(served: ServedLab) -> None:
    served.ensure_up()
    info = json.loads((served.state / "server.json").read_text())
    assert info["pid"] == served.pid()
