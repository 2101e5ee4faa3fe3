"""Egress `toServices` (spec §10.1) through real traffic: socket-LB first, then policy on the backend."""

from __future__ import annotations

from ciliumlab import Lab
from tests.e2e.kit import http, pod_ip

EXTERNAL_SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: external, namespace: default, labels: {external: "yes"}}
spec:
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: external-1
  namespace: default
  labels: {kubernetes.io/service-name: external}
addressType: IPv4
endpoints: [{addresses: ["20.1.1.1"], conditions: {ready: true}}]
ports: [{name: http, port: 80, protocol: TCP}]
"""


def reached(outcome: str) -> bool:
    return outcome in ("FORWARDED", "REFUSED")


def test_to_services_selector_and_selectorless(gen: Lab) -> None:
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-services}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toServices: [{k8sService: {serviceName: server, namespace: default}}]
  - toServices: [{k8sServiceSelector: {selector: {matchLabels: {external: "yes"}}}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
""")
    server = pod_ip(gen, "server")
    cluster_ip = gen.get("service", "server")["spec"]["clusterIP"]
    assert http(gen, "client", f"{server}:80") == "FORWARDED"
    assert http(gen, "client", f"{cluster_ip}:80") == "FORWARDED"  # policy sees the backend pod
    assert http(gen, "client", f"{pod_ip(gen, 'other')}:80") == "DROPPED/133"
    # No selectorless Service yet: the selector item allows nothing.
    assert http(gen, "client", "20.1.1.1:80") == "DROPPED/133"

    gen.apply(EXTERNAL_SERVICE)
    assert reached(http(gen, "client", "20.1.1.1:80"))
    assert http(gen, "client", "20.1.1.1:443") == "DROPPED/133"  # toPorts of that item
    assert http(gen, "client", "20.1.1.2:80") == "DROPPED/133"
    external_ip = gen.get("service", "external")["spec"]["clusterIP"]
    assert reached(http(gen, "client", f"{external_ip}:80"))

    # The backend moves: the generated CIDR follows the EndpointSlice.
    gen.apply(EXTERNAL_SERVICE.replace('addresses: ["20.1.1.1"]', 'addresses: ["20.1.1.2"]'))
    assert reached(http(gen, "client", "20.1.1.2:80"))
    assert http(gen, "client", "20.1.1.1:80") == "DROPPED/133"


def test_to_services_kubernetes_needs_kube_apiserver_entity(gen: Lab) -> None:
    # default/kubernetes is selectorless; its endpoint is a node IP, which CIDR peers never match.
    apiserver = gen.get("service", "kubernetes")["spec"]["clusterIP"]
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-kubernetes}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toServices: [{k8sService: {serviceName: kubernetes, namespace: default}}]}]
""")
    assert http(gen, "client", f"{apiserver}:443") == "DROPPED/133"
    gen.apply("""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-apiserver}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toEntities: [kube-apiserver]}]
""")
    assert http(gen, "client", f"{apiserver}:443") == "FORWARDED"
