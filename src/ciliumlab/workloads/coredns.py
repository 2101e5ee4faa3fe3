"""What the kube-dns pods answer: CoreDNS with the kubeadm Corefile.

    .:53 {
        errors
        health { lameduck 5s }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        prometheus :9153
        forward . /etc/resolv.conf
        cache 30
        loop
        reload
        loadbalance
    }

Modelled on CoreDNS's kubernetes plugin (plugin/kubernetes: parse.go, kubernetes.go,
reverse.go, plugin/backend_lookup.go):

* ``<svc>.<ns>.svc.<zone>`` A: the ClusterIP (TTL 30). Headless (clusterIP None): one A per
  ready endpoint address. ExternalName: a CNAME to the external name, followed by the
  target's A records when the world knows it.
* ``<endpoint>.<svc>.<ns>.svc.<zone>``: the endpoint's address; an endpoint's name is its
  `hostname`, else its IP with dashes (``10-0-1-5``).
* ``_<port>._<proto>.<svc>.<ns>.svc.<zone>`` SRV: ``0 <100/n> <port> <target>`` per matching
  port (target the service name, or each endpoint's name for headless services).
* ``<a-b-c-d>.<ns>.pod.<zone>`` A: a.b.c.d whenever the namespace exists (`pods insecure`).
* PTR: a ClusterIP -> ``<svc>.<ns>.svc.<zone>.``; an endpoint address ->
  ``<endpoint>.<svc>.<ns>.svc.<zone>.``. Other addresses fall through to the upstream.
* Names under the zone that do not exist, or are malformed: NXDOMAIN with the zone's SOA
  (``ns.dns.<zone>. hostmaster.<zone>. <serial> 7200 1800 86400 30``) as authority. Names
  that exist without records of the asked type (AAAA on a single-stack cluster, A on the zone
  apex): NOERROR, no answers, the same SOA.
* Every other name is forwarded upstream (`world.dns_answer`); `cache 30` caps TTLs at 30 s.

Names compare case-insensitively; answers carry the name as the client spelled it, with a
trailing dot. `client_namespace` is accepted for parity with autopath setups but unused: the
kubeadm Corefile does not enable autopath, so the answer never depends on who asks.
"""

from __future__ import annotations

import ipaddress

from ..clock import VIRTUAL_EPOCH
from .net import DnsAnswer, DnsRecord
from .world import MAX_FORWARDED_TTL, WORLD, World, ip_from_reverse

#: kubeadm's Corefile sets `ttl 30` on the kubernetes plugin
TTL = 30
DNS_SCHEMA_VERSION = "1.1.0"
WILDCARDS = ("*", "any")


def _split(fqdn: str) -> list[str]:
    return [label for label in fqdn.rstrip(".").split(".") if label]


def _dashed(ip: str) -> str:
    return ip.replace(".", "-").replace(":", "-")


def _match(a: str, b: str) -> bool:
    return a in WILDCARDS or b in WILDCARDS or a.lower() == b.lower()


def _strip_underscore(label: str) -> str:
    return label[1:] if label.startswith("_") else label


class _Endpoint:
    __slots__ = ("ip", "hostname", "ports")

    def __init__(self, ip: str, hostname: str, ports: list[tuple[str, str, int]]) -> None:
        self.ip = ip
        self.hostname = hostname
        self.ports = ports  # (name, protocol, port)

    @property
    def name(self) -> str:
        return self.hostname or _dashed(self.ip)


def _service_endpoints(store, namespace: str, service: str) -> list[_Endpoint]:
    """Ready endpoint addresses of a Service, from EndpointSlices (what CoreDNS watches) or,
    when a lab only has v1 Endpoints, from those."""
    out: list[_Endpoint] = []
    found_slice = False
    for eps in store.list("EndpointSlice", namespace):
        labels = (eps.get("metadata") or {}).get("labels") or {}
        if labels.get("kubernetes.io/service-name") != service:
            continue
        found_slice = True
        ports = [(str(p.get("name") or ""), str(p.get("protocol") or "TCP"), int(p.get("port") or 0))
                 for p in eps.get("ports") or []]
        for ep in eps.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is False:
                continue
            for addr in ep.get("addresses") or []:
                out.append(_Endpoint(addr, str(ep.get("hostname") or ""), ports))
    if found_slice:
        return out
    endpoints = store.get("Endpoints", namespace, service)
    for subset in (endpoints or {}).get("subsets") or []:
        ports = [(str(p.get("name") or ""), str(p.get("protocol") or "TCP"), int(p.get("port") or 0))
                 for p in subset.get("ports") or []]
        for addr in subset.get("addresses") or []:
            out.append(_Endpoint(addr.get("ip", ""), str(addr.get("hostname") or ""), ports))
    return out


def _namespace_exists(store, namespace: str) -> bool:
    if store.get("Namespace", None, namespace) is not None:
        return True
    if store.list("Namespace"):
        return False
    # A store without Namespace objects (unit tests, partial labs): infer from contents.
    return namespace in ("default", "kube-system", "kube-public", "kube-node-lease") or bool(
        store.list("Service", namespace) or store.list("Pod", namespace))


def _cluster_ips(svc: dict) -> list[str]:
    spec = svc.get("spec") or {}
    ips = [ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None"]
    if not ips and spec.get("clusterIP") and spec.get("clusterIP") != "None":
        ips = [spec["clusterIP"]]
    return ips


def _is_headless(svc: dict) -> bool:
    return (svc.get("spec") or {}).get("clusterIP") == "None"


class _Zone:
    """One query against the kubernetes zone; collects records, raises nothing."""

    def __init__(self, store, zone: str, serial: int) -> None:
        self.store = store
        self.zone = zone  # "cluster.local" (lower case, no trailing dot)
        self.serial = serial

    def soa(self) -> DnsRecord:
        z = self.zone + "."
        return DnsRecord(z, TTL, "SOA", f"ns.dns.{z} hostmaster.{z} {self.serial} 7200 1800 86400 {TTL}")

    def lookup(self, labels: list[str], qtype: str) -> tuple[str, list[tuple[str, str]]] | None:
        """(rcode, [(rtype, data)]) for labels below the zone; None = NXDOMAIN."""
        if not labels:  # the apex
            if qtype == "SOA":
                return "NOERROR", [("SOA", self.soa().data)]
            if qtype == "NS":
                return "NOERROR", [("NS", f"ns.dns.{self.zone}.")]
            return "NOERROR", []
        if labels == ["dns-version"]:
            return "NOERROR", [("TXT", DNS_SCHEMA_VERSION)] if qtype == "TXT" else []
        if labels == ["ns", "dns"]:
            svc = self.store.get("Service", "kube-system", "kube-dns")
            ips = _cluster_ips(svc) if svc else []
            return "NOERROR", [("A", ip) for ip in ips] if qtype == "A" else []
        kind = labels[-1].lower()
        if kind not in ("svc", "pod"):
            return None
        rest = [label.lower() for label in labels[:-1]]
        if not rest:
            return "NOERROR", []
        namespace = rest[-1]
        if namespace in WILDCARDS or not _namespace_exists(self.store, namespace):
            return None
        rest = rest[:-1]
        if not rest:
            return "NOERROR", []
        if kind == "pod":
            return self._pod(rest, qtype)
        service, port, proto, endpoint = rest[-1], "*", "*", ""
        if len(rest) == 2:
            endpoint = rest[0]
        elif len(rest) == 3:
            port, proto = _strip_underscore(rest[0]), _strip_underscore(rest[1])
        elif len(rest) > 3:
            return None
        return self._service(namespace, service, endpoint, port, proto, qtype)

    def _pod(self, rest: list[str], qtype: str) -> tuple[str, list[tuple[str, str]]] | None:
        if len(rest) != 1:
            return None
        label = rest[0]
        text = label.replace("-", ".") if (label.count("-") == 3 and "--" not in label) else label.replace("-", ":")
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return None
        want = "A" if ip.version == 4 else "AAAA"
        return "NOERROR", [(want, str(ip))] if qtype == want else []

    def _service(self, namespace: str, service: str, endpoint: str, port: str, proto: str,
                 qtype: str) -> tuple[str, list[tuple[str, str]]] | None:
        svc = self.store.get("Service", namespace, service)
        if svc is None:
            return None
        spec = svc.get("spec") or {}
        base = f"{service}.{namespace}.svc.{self.zone}."
        if spec.get("type") == "ExternalName":
            if endpoint:
                return None
            external = str(spec.get("externalName") or "").rstrip(".")
            if not external:
                return None
            return "NOERROR", [("CNAME", external + ".")] if qtype in ("A", "AAAA", "CNAME") else []
        found: list[tuple[str, int, str]] = []  # (ip, port, srv target)
        if _is_headless(svc) or endpoint:
            for ep in _service_endpoints(self.store, namespace, service):
                if endpoint and not _match(endpoint, ep.name):
                    continue
                for p_name, p_proto, p_port in ep.ports or [("", "TCP", 0)]:
                    if _match(port, p_name) and _match(proto, p_proto):
                        found.append((ep.ip, p_port, f"{ep.name}.{base}"))
        else:
            for p in spec.get("ports") or []:
                if _match(port, str(p.get("name") or "")) and _match(proto, str(p.get("protocol") or "TCP")):
                    found.extend((ip, int(p.get("port") or 0), base) for ip in _cluster_ips(svc))
        if not found:
            return None
        if qtype == "SRV":
            n = len(found)
            weight = int(100 / n) if n else 100
            seen: set[tuple[int, str]] = set()
            srv = []
            for _, p_port, target in found:
                if (p_port, target) not in seen:
                    seen.add((p_port, target))
                    srv.append(("SRV", f"0 {weight} {p_port} {target}"))
            return "NOERROR", srv
        records: list[tuple[str, str]] = []
        for ip, _, _ in found:
            rtype = "AAAA" if ":" in ip else "A"
            if rtype == qtype and (rtype, ip) not in records:
                records.append((rtype, ip))
        return "NOERROR", records

    def reverse(self, ip: str) -> list[str]:
        """PTR targets for a cluster address: its Service, else the endpoints that hold it."""
        for svc in self.store.list("Service"):
            if ip in _cluster_ips(svc):
                meta = svc.get("metadata") or {}
                return [f"{meta.get('name')}.{meta.get('namespace', 'default')}.svc.{self.zone}."]
        names: list[str] = []
        sliced: set[tuple[str, str]] = set()
        for eps in self.store.list("EndpointSlice"):
            meta = eps.get("metadata") or {}
            ns = meta.get("namespace", "default")
            service = (meta.get("labels") or {}).get("kubernetes.io/service-name")
            if not service:
                continue
            sliced.add((ns, service))
            for ep in eps.get("endpoints") or []:
                if ip in (ep.get("addresses") or []) and (ep.get("conditions") or {}).get("ready") is not False:
                    names.append(f"{ep.get('hostname') or _dashed(ip)}.{service}.{ns}.svc.{self.zone}.")
        for endpoints in self.store.list("Endpoints"):
            meta = endpoints.get("metadata") or {}
            ns, service = meta.get("namespace", "default"), meta.get("name", "")
            if (ns, service) in sliced:
                continue
            for subset in endpoints.get("subsets") or []:
                for addr in subset.get("addresses") or []:
                    if addr.get("ip") == ip:
                        names.append(f"{addr.get('hostname') or _dashed(ip)}.{service}.{ns}.svc.{self.zone}.")
        return list(dict.fromkeys(names))


def answer(qname: str, qtype: str, *, store, client_namespace: str | None = None,
           cluster_domain: str = "cluster.local", world: World = WORLD, serial: int | None = None) -> DnsAnswer:
    """The response of the cluster DNS service to one query.

    `serial` is the SOA serial (CoreDNS uses the time of the last Service/Endpoints change);
    by default the lab's fixed epoch, so outputs are reproducible.
    """
    fqdn = qname if qname.endswith(".") else qname + "."
    qtype = qtype.upper()
    zone_name = cluster_domain.strip(".").lower()
    zone = _Zone(store, zone_name, int(VIRTUAL_EPOCH) if serial is None else serial)
    labels = _split(fqdn)
    zone_labels = zone_name.split(".")
    lower = [label.lower() for label in labels]

    if lower[-len(zone_labels):] == zone_labels:
        result = zone.lookup(labels[: len(labels) - len(zone_labels)], qtype)
        if result is None:
            return DnsAnswer("NXDOMAIN", fqdn, qtype, authority=[zone.soa()])
        rcode, records = result
        answers = [DnsRecord(fqdn, TTL, rtype, data) for rtype, data in records]
        if answers and answers[0].rtype == "CNAME" and qtype != "CNAME":
            target = answers[0].data
            upstream = world.dns_answer(target, qtype, max_ttl=MAX_FORWARDED_TTL)
            answers.extend(upstream.answers)
        if not answers:
            return DnsAnswer(rcode, fqdn, qtype, authority=[zone.soa()])
        return DnsAnswer(rcode, fqdn, qtype, answers)

    if qtype == "PTR" or lower[-2:] == ["in-addr", "arpa"]:
        ip = ip_from_reverse(fqdn)
        if ip is not None:
            targets = zone.reverse(ip)
            if targets:
                if qtype != "PTR":
                    return DnsAnswer("NOERROR", fqdn, qtype, authority=[zone.soa()])
                return DnsAnswer("NOERROR", fqdn, qtype, [DnsRecord(fqdn, TTL, "PTR", t) for t in targets])
        # `fallthrough in-addr.arpa`: not a cluster address, ask upstream

    upstream = world.dns_answer(fqdn, qtype, max_ttl=MAX_FORWARDED_TTL)
    return DnsAnswer(upstream.rcode, fqdn, qtype, upstream.answers, authority=upstream.authority)
