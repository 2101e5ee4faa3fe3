"""A lab as a monitored cluster looks: Cilium's monitoring-example.yaml, the chart's
`prometheus.enabled` bits (the agents' scrape annotations, the headless `cilium-agent`
Service) and the seed's ServiceMonitor + PrometheusRule."""

from __future__ import annotations

import copy
import shutil

import pytest

from ciliumlab import Lab
from tests.conftest import FIXTURES

MONITORING_EXAMPLE = FIXTURES / "cilium" / "monitoring-example.yaml"
SERVICEMONITOR = FIXTURES / "seed" / "servicemonitor.yaml"
PROMETHEUSRULE = FIXTURES / "seed" / "prometheusrule.yaml"
NODE_IPS = {"k8s-ctr": "192.168.10.100", "k8s-w1": "192.168.10.101", "k8s-w2": "192.168.10.102"}

# The Service cilium's chart renders with prometheus.enabled=true (templates/cilium-agent/service.yaml)
CILIUM_AGENT_SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: cilium-agent
  namespace: kube-system
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: "9962"
  labels:
    k8s-app: cilium
    app.kubernetes.io/name: cilium-agent
    app.kubernetes.io/part-of: cilium
spec:
  clusterIP: None
  type: ClusterIP
  selector:
    k8s-app: cilium
  ports:
  - name: metrics
    port: 9962
    protocol: TCP
    targetPort: prometheus
"""

MONITORING_NAMESPACE = """
apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
"""


def build_monitored_lab() -> Lab:
    lab = Lab()
    lab.apply(MONITORING_EXAMPLE)
    lab.apply(MONITORING_NAMESPACE)
    lab.apply(SERVICEMONITOR)
    lab.apply(PROMETHEUSRULE)
    lab.apply(CILIUM_AGENT_SERVICE)
    # prometheus.enabled=true also annotates the agent pod template (prometheus.io/scrape, port)
    ds = copy.deepcopy(lab.store.get("DaemonSet", "kube-system", "cilium"))
    ds["spec"]["template"]["metadata"].setdefault("annotations", {}).update(
        {"prometheus.io/scrape": "true", "prometheus.io/port": "9962"})
    lab.update(ds)
    lab.reconcile()
    return lab


@pytest.fixture(scope="session")
def mlab() -> Lab:
    """Shared: tests only read it."""
    return build_monitored_lab()


@pytest.fixture(scope="session")
def objects(mlab):
    return lambda kind: mlab.store.list(kind)


def agent_pods(lab: Lab) -> dict[str, dict]:
    """node name -> the cilium agent pod on it."""
    out = {}
    for pod in lab.store.list("Pod", "kube-system"):
        if (pod["metadata"].get("labels") or {}).get("k8s-app") == "cilium":
            out[pod["spec"]["nodeName"]] = pod
    return out


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install prometheus)")
    return path


@pytest.fixture
def promtool() -> str:
    return _binary("promtool")


@pytest.fixture
def prometheus_bin() -> str:
    return _binary("prometheus")
