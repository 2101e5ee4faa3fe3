"""CoreDNS (kubernetes plugin + forward + cache 30) answers for the lab's objects."""

import pytest

from ciliumlab.clock import VirtualClock
from ciliumlab.k8s.store import Store
from ciliumlab.workloads import coredns
from ciliumlab.workloads.net import DnsRecord

SOA = "ns.dns.cluster.local. hostmaster.cluster.local. 1764144000 7200 1800 86400 30"


def svc(name, ns, cluster_ip, ports, **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": cluster_ip, "ports": ports, **spec}}


def slice_(service, ns, endpoints, ports):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{service}-abcde", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4", "endpoints": endpoints, "ports": ports}


@pytest.fixture
def store() -> Store:
    s = Store(VirtualClock())
    for ns in ("default", "kube-system", "ns1"):
        s.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    s.create(svc("kube-dns", "kube-system", "10.96.0.10",
                 [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]))
    s.create(svc("deathstar", "default", "10.96.120.7", [{"port": 80, "protocol": "TCP"}]))
    s.create(svc("webpod", "default", "10.96.33.91", [{"name": "http", "port": 80, "protocol": "TCP"}]))
    s.create(slice_("webpod", "default", [
        {"addresses": ["10.0.1.144"], "conditions": {"ready": True}},
        {"addresses": ["10.0.2.38"], "conditions": {"ready": True}},
    ], [{"name": "http", "port": 80, "protocol": "TCP"}]))
    s.create(svc("db", "ns1", "None", [{"name": "pg", "port": 5432, "protocol": "TCP"}]))
    s.create(slice_("db", "ns1", [
        {"addresses": ["10.0.1.5"], "hostname": "db-0", "conditions": {"ready": True}},
        {"addresses": ["10.0.2.6"], "conditions": {"ready": True}},
        {"addresses": ["10.0.2.9"], "conditions": {"ready": False}},
    ], [{"name": "pg", "port": 5432, "protocol": "TCP"}]))
    s.create(svc("empty", "ns1", "None", []))
    s.create(svc("gh", "default", "", [], type="ExternalName", externalName="api.github.com"))
    return s


def ask(store, name, qtype="A"):
    return coredns.answer(name, qtype, store=store, client_namespace="default")


def test_service_a_record_is_the_cluster_ip(store):
    a = ask(store, "deathstar.default.svc.cluster.local")
    assert a.rcode == "NOERROR" and a.question == "deathstar.default.svc.cluster.local."
    assert a.answers == [DnsRecord("deathstar.default.svc.cluster.local.", 30, "A", "10.96.120.7")]
    assert a.authority == []


def test_case_and_trailing_dot(store):
    a = ask(store, "DeathStar.Default.SVC.Cluster.Local.")
    assert [r.data for r in a.answers] == ["10.96.120.7"]
    assert a.answers[0].name == "DeathStar.Default.SVC.Cluster.Local."


def test_aaaa_on_single_stack_is_nodata_with_soa(store):
    a = ask(store, "deathstar.default.svc.cluster.local", "AAAA")
    assert (a.rcode, a.answers) == ("NOERROR", [])
    assert a.authority == [DnsRecord("cluster.local.", 30, "SOA", SOA)]


def test_missing_names_are_nxdomain_with_soa(store):
    for name in ("nothing.default.svc.cluster.local", "deathstar.nowhere.svc.cluster.local",
                 "api.github.com.default.svc.cluster.local", "deathstar.default.cluster.local",
                 "a.b.c.d.e.svc.cluster.local"):
        a = ask(store, name)
        assert a.rcode == "NXDOMAIN", name
        assert a.authority == [DnsRecord("cluster.local.", 30, "SOA", SOA)], name


def test_headless_returns_ready_endpoints(store):
    a = ask(store, "db.ns1.svc.cluster.local")
    assert [r.data for r in a.answers] == ["10.0.1.5", "10.0.2.6"]
    assert ask(store, "db-0.db.ns1.svc.cluster.local").answers[0].data == "10.0.1.5"
    assert ask(store, "10-0-2-6.db.ns1.svc.cluster.local").answers[0].data == "10.0.2.6"
    assert ask(store, "10-0-2-9.db.ns1.svc.cluster.local").rcode == "NXDOMAIN"  # not ready
    assert ask(store, "empty.ns1.svc.cluster.local").rcode == "NXDOMAIN"  # no endpoints


def test_srv_records(store):
    a = ask(store, "_http._tcp.webpod.default.svc.cluster.local", "SRV")
    assert a.answers == [DnsRecord("_http._tcp.webpod.default.svc.cluster.local.", 30, "SRV",
                                   "0 100 80 webpod.default.svc.cluster.local.")]
    h = ask(store, "_pg._tcp.db.ns1.svc.cluster.local", "SRV")
    assert [r.data for r in h.answers] == ["0 50 5432 db-0.db.ns1.svc.cluster.local.",
                                           "0 50 5432 10-0-2-6.db.ns1.svc.cluster.local."]
    assert ask(store, "_https._tcp.webpod.default.svc.cluster.local", "SRV").rcode == "NXDOMAIN"
    assert ask(store, "_http._udp.webpod.default.svc.cluster.local", "SRV").rcode == "NXDOMAIN"


def test_pod_records_insecure(store):
    a = ask(store, "10-0-1-23.default.pod.cluster.local")
    assert a.answers == [DnsRecord("10-0-1-23.default.pod.cluster.local.", 30, "A", "10.0.1.23")]
    assert ask(store, "10-0-1-23.nowhere.pod.cluster.local").rcode == "NXDOMAIN"
    assert ask(store, "not-an-ip.default.pod.cluster.local").rcode == "NXDOMAIN"


def test_zone_apex_and_namespaces(store):
    soa = ask(store, "cluster.local", "SOA")
    assert soa.answers == [DnsRecord("cluster.local.", 30, "SOA", SOA)]
    assert ask(store, "cluster.local", "NS").answers[0].data == "ns.dns.cluster.local."
    assert ask(store, "ns.dns.cluster.local").answers[0].data == "10.96.0.10"
    ns = ask(store, "default.svc.cluster.local")
    assert (ns.rcode, ns.answers, len(ns.authority)) == ("NOERROR", [], 1)
    assert ask(store, "dns-version.cluster.local", "TXT").answers[0].data == "1.1.0"


def test_external_name_is_a_cname_followed_upstream(store):
    a = ask(store, "gh.default.svc.cluster.local")
    assert a.answers[0] == DnsRecord("gh.default.svc.cluster.local.", 30, "CNAME", "api.github.com.")
    assert [(r.rtype, r.data, r.ttl) for r in a.answers[1:]] == [("A", "140.82.112.6", 30), ("A", "140.82.121.6", 30)]


def test_ptr_for_services_and_endpoints(store):
    svc_ptr = ask(store, "7.120.96.10.in-addr.arpa", "PTR")
    assert svc_ptr.answers == [DnsRecord("7.120.96.10.in-addr.arpa.", 30, "PTR", "deathstar.default.svc.cluster.local.")]
    ep = ask(store, "144.1.0.10.in-addr.arpa.", "PTR")
    assert [r.data for r in ep.answers] == ["10-0-1-144.webpod.default.svc.cluster.local."]
    named = ask(store, "5.1.0.10.in-addr.arpa", "PTR")
    assert [r.data for r in named.answers] == ["db-0.db.ns1.svc.cluster.local."]
    # not a cluster address: falls through to the upstream
    assert ask(store, "1.1.1.1.in-addr.arpa", "PTR").answers[0].data == "one.one.one.one."
    assert ask(store, "99.99.0.10.in-addr.arpa", "PTR").rcode == "NXDOMAIN"


def test_other_names_are_forwarded_and_ttl_capped(store):
    a = ask(store, "api.github.com")
    assert a.rcode == "NOERROR"
    assert [(r.name, r.ttl, r.data) for r in a.answers] == [("api.github.com.", 30, "140.82.112.6"),
                                                            ("api.github.com.", 30, "140.82.121.6")]
    assert ask(store, "no-such-host.example").rcode == "NXDOMAIN"
    assert ask(store, "webpod").rcode == "NXDOMAIN"  # single label, no search list here
    assert (ask(store, "api.github.com", "AAAA").rcode, ask(store, "api.github.com", "AAAA").answers) == ("NOERROR", [])


def test_endpoints_fallback_without_slices():
    s = Store(VirtualClock())
    s.create(svc("legacy", "default", "None", [{"port": 80}]))
    s.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "legacy", "namespace": "default"},
              "subsets": [{"addresses": [{"ip": "10.0.3.3"}], "notReadyAddresses": [{"ip": "10.0.3.4"}],
                           "ports": [{"port": 80, "protocol": "TCP"}]}]})
    assert [r.data for r in ask(s, "legacy.default.svc.cluster.local").answers] == ["10.0.3.3"]
    assert ask(s, "3.3.0.10.in-addr.arpa", "PTR").answers[0].data == "10-0-3-3.legacy.default.svc.cluster.local."


def test_custom_cluster_domain_and_serial(store):
    a = coredns.answer("x.default.svc.lab.internal", "A", store=store, cluster_domain="lab.internal", serial=7)
    assert a.rcode == "NXDOMAIN"
    assert a.authority[0].data == "ns.dns.lab.internal. hostmaster.lab.internal. 7 7200 1800 86400 30"
    assert ask(store, "deathstar.default.svc.lab.internal").rcode == "NXDOMAIN"  # forwarded: unknown upstream
