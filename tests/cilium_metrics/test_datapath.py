"""Drop/forward counters of the agents agree with what the datapath reported (and Hubble saw)."""

from __future__ import annotations

from ciliumlab.cilium.datapath import events as ev
from ciliumlab.cilium.metrics import AgentMetrics
from ciliumlab.cilium.metrics.datapath import MetricsMap

from .conftest import L3_L4, SW_APP, TIEFIGHTER_LANDING, XWING_LANDING
from .scrape import series, value

DROP = "cilium_drop_count_total"
DROP_BYTES = "cilium_drop_bytes_total"
FWD = "cilium_forward_count_total"
FWD_BYTES = "cilium_forward_bytes_total"


def hubble_drops(lab, node: str) -> list[dict]:
    """DROP flows (monitor type 1) of the node's Hubble observer."""
    return [e.flow for e in lab.hubble.observers[node].ring
            if e.flow.get("verdict") == "DROPPED" and (e.flow.get("event_type") or {}).get("type") == 1]


def test_policy_drops_match_hubble_per_node(sw_mlab):
    lab = sw_mlab.lab
    dropped_on = []
    for node in lab.nodes:
        flows = hubble_drops(lab, node)
        body = sw_mlab.scrape(node)
        drops = series(body, DROP)
        if not flows:
            assert drops == {}, node
            continue
        dropped_on.append(node)
        assert {f["drop_reason_desc"] for f in flows} == {"POLICY_DENIED"}
        assert {f["traffic_direction"] for f in flows} == {"INGRESS"}
        # the first SYN and its retransmit within --connect-timeout 2
        assert len(flows) == 2
        assert value(body, DROP, direction="INGRESS", reason="Policy denied") == len(flows)
        drop_events = [e for e in lab.events(node) if e.type == ev.DROP]
        assert value(body, DROP_BYTES, direction="INGRESS", reason="Policy denied") == sum(e.length for e in drop_events)
        assert list(drops) == [(("direction", "INGRESS"), ("reason", "Policy denied"))]
    deathstar_nodes = {p["spec"]["nodeName"] for p in lab.list("pod", "default", "class=deathstar")}
    assert len(dropped_on) == 1 and dropped_on[0] in deathstar_nodes


def test_one_more_policy_drop_adds_one(sw_mlab):
    """Another attempt with a 1 s timeout sends one SYN: +1 where it is dropped (the backend the
    socket LB picked may sit on the other deathstar node)."""
    lab = sw_mlab.lab

    def drops(node):
        return value(sw_mlab.scrape(node), DROP, direction="INGRESS", reason="Policy denied") or 0

    before = {n: (drops(n), len(hubble_drops(lab, n))) for n in lab.nodes}
    lab.exec("xwing", XWING_LANDING.replace("--connect-timeout 2", "--connect-timeout 1"))
    added = {n: drops(n) - before[n][0] for n in lab.nodes}
    assert sum(added.values()) == 1
    for n in lab.nodes:
        assert added[n] == len(hubble_drops(lab, n)) - before[n][1]


def test_a_drop_event_on_the_bus_counts_once_with_its_size(mlab):
    lab = mlab.lab
    node = lab.nodes[1]
    peer = ev.Peer("10.0.1.5", 80, 12345, 0)
    event = ev.MonitorEvent(ev.DROP, 133, lab.clock.tick(), node, ev.TCP, peer, peer, tcp_flags=ev.SYN,
                            drop_reason=133, direction=ev.INGRESS, length=74)
    before = value(mlab.scrape(node), DROP, direction="INGRESS", reason="Policy denied") or 0
    lab.fabric.monitors[node].emit(event)
    body = mlab.scrape(node)
    assert value(body, DROP, direction="INGRESS", reason="Policy denied") == before + 1
    assert value(body, DROP_BYTES, direction="INGRESS", reason="Policy denied") == 74
    # the other agents did not see it
    for other in lab.nodes:
        if other != node:
            assert value(mlab.scrape(other), DROP, direction="INGRESS", reason="Policy denied") is None


def test_drop_reasons_and_directions_use_the_monitor_strings():
    m = MetricsMap("n")
    peer = ev.Peer("10.0.0.1", 0, 2, 0)

    def drop(reason, direction, length=100):
        m.record(ev.MonitorEvent(ev.DROP, reason, 0.0, "n", ev.TCP, peer, peer, drop_reason=reason,
                                 direction=direction, length=length))

    drop(151, ev.EGRESS)
    drop(181, ev.INGRESS)
    drop(158, 0)
    drop(250, ev.EGRESS)  # unknown code: the number itself
    from ciliumlab.cilium.metrics.datapath import MetricsMapCollector

    fams = {f.name: f for f in MetricsMapCollector(m).collect()}
    got = {tuple(sorted(s.labels.items())): s.value for s in fams["cilium_drop_count"].samples}
    assert got == {
        (("direction", "EGRESS"), ("reason", "Stale or unroutable IP")): 1,
        (("direction", "INGRESS"), ("reason", "Policy denied by denylist")): 1,
        (("direction", "UNKNOWN"), ("reason", "Service backend not found")): 1,
        (("direction", "EGRESS"), ("reason", "250")): 1,
    }


def test_forwards_count_at_the_endpoint_programs():
    """to-endpoint = INGRESS forward; to-host/to-stack/to-overlay = EGRESS; from-overlay /
    from-network = INGRESS (plaintext reason, still a forward); to-proxy, from-endpoint: none."""
    m = MetricsMap("n")
    peer = ev.Peer("10.0.0.1", 0, 2, 0)
    points = {ev.TO_ENDPOINT: 100, ev.TO_HOST: 10, ev.TO_STACK: 20, ev.TO_OVERLAY: 30, ev.FROM_OVERLAY: 7,
              ev.FROM_NETWORK: 3, ev.TO_PROXY: 1000, ev.FROM_ENDPOINT: 2000, ev.FROM_HOST: 3000}
    for point, length in points.items():
        m.record(ev.MonitorEvent(ev.TRACE, point, 0.0, "n", ev.TCP, peer, peer, length=length))
    m.record(ev.MonitorEvent(ev.POLICY_VERDICT, 0, 0.0, "n", ev.TCP, peer, peer, length=5000))
    m.record(ev.MonitorEvent(ev.TRACE_SOCK, ev.SOCK_PRE_XLATE_FWD, 0.0, "n", ev.TCP, peer, peer, length=6000))
    from ciliumlab.cilium.metrics.datapath import MetricsMapCollector

    fams = {f.name: {s.labels["direction"]: s.value for s in f.samples}
            for f in MetricsMapCollector(m).collect() if f.name.startswith("cilium_forward")}
    assert fams["cilium_forward_count"] == {"INGRESS": 3, "EGRESS": 3}
    assert fams["cilium_forward_bytes"] == {"INGRESS": 110, "EGRESS": 60}


def test_local_endpoint_to_endpoint_delivery_also_counts_an_egress_forward():
    m = MetricsMap("n")
    local, remote = ev.Peer("10.0.0.1", 1234, 300, 42), ev.Peer("10.0.1.1", 80, 400, 0)
    m.record(ev.MonitorEvent(ev.TRACE, ev.TO_ENDPOINT, 0.0, "n", ev.TCP, local, local, length=66))
    m.record(ev.MonitorEvent(ev.TRACE, ev.TO_ENDPOINT, 0.0, "n", ev.TCP, remote, local, length=60))
    assert m.entries() == {(0, 1): (2, 126), (0, 2): (1, 66)}


def test_forward_counters_follow_the_trace_events_of_real_traffic(mlab):
    lab = mlab.lab
    lab.apply(SW_APP)
    lab.apply(L3_L4)
    assert lab.exec("tiefighter", TIEFIGHTER_LANDING).stdout.strip() == "Ship landed"
    for node in lab.nodes:
        traces = [e for e in lab.events(node) if e.type == ev.TRACE]
        ingress = [e for e in traces if e.subtype == ev.TO_ENDPOINT]
        egress = [e for e in traces if e.subtype in (ev.TO_HOST, ev.TO_STACK, ev.TO_OVERLAY)]
        egress += [e for e in ingress if e.src.endpoint_id]  # local endpoint-to-endpoint delivery
        body = mlab.scrape(node)
        assert (value(body, FWD, direction="INGRESS") or 0) == len(ingress), node
        assert (value(body, FWD, direction="EGRESS") or 0) == len(egress), node
        assert (value(body, FWD_BYTES, direction="INGRESS") or 0) == sum(e.length for e in ingress), node
        assert (value(body, FWD_BYTES, direction="EGRESS") or 0) == sum(e.length for e in egress), node
    total = sum(value(mlab.scrape(n), FWD, direction="INGRESS") or 0 for n in lab.nodes)
    assert total > 0


def test_metrics_made_after_the_traffic_start_from_the_buffered_events(sw_mlab):
    lab = sw_mlab.lab
    for node in lab.nodes:
        late = AgentMetrics(lab, node)
        try:
            early, later = series(sw_mlab.scrape(node), DROP), series(late.expose()[0], DROP)
            assert later == early
            assert series(late.expose()[0], FWD) == series(sw_mlab.scrape(node), FWD)
        finally:
            late.close()
        fresh = AgentMetrics(lab, node, backfill=False)
        try:
            assert series(fresh.expose()[0], DROP) == {}
        finally:
            fresh.close()


def test_close_stops_counting(sw_mlab):
    lab = sw_mlab.lab
    node = next(n for n in lab.nodes if hubble_drops(lab, n))
    before = sw_mlab.scrape(node)
    sw_mlab.agents[node].close()
    sw_mlab.agents[node].close()  # idempotent
    lab.exec("xwing", XWING_LANDING)
    assert series(sw_mlab.scrape(node), DROP) == series(before, DROP)
