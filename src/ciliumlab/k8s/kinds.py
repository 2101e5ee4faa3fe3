"""Every kind the lab knows, with the names kubectl accepts for it.

One table answers "what is `cep`?", "is a Service namespaced?" and "what apiVersion does a
Deployment have?" for the store, the validators, the API server and the CLI alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KindInfo:
    kind: str
    group: str  # "" for the core group
    version: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""
    categories: tuple[str, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource_ref(self) -> str:
        """What kubectl prints before the name: `deployment.apps`, `service`, `ciliumnetworkpolicy.cilium.io`."""
        single = self.singular or self.kind.lower()
        return f"{single}.{self.group}" if self.group else single


def _k(kind, group, version, plural, namespaced, shorts=(), cats=("all",)) -> KindInfo:
    return KindInfo(kind, group, version, plural, namespaced, tuple(shorts), kind.lower(), tuple(cats))


KINDS: tuple[KindInfo, ...] = (
    _k("Namespace", "", "v1", "namespaces", False, ("ns",), ()),
    _k("Node", "", "v1", "nodes", False, ("no",), ()),
    _k("Pod", "", "v1", "pods", True, ("po",)),
    _k("Service", "", "v1", "services", True, ("svc",)),
    _k("Endpoints", "", "v1", "endpoints", True, ("ep",), ()),
    _k("ConfigMap", "", "v1", "configmaps", True, ("cm",), ()),
    _k("Secret", "", "v1", "secrets", True, (), ()),
    _k("ServiceAccount", "", "v1", "serviceaccounts", True, ("sa",), ()),
    _k("Event", "", "v1", "events", True, ("ev",), ()),
    _k("Deployment", "apps", "v1", "deployments", True, ("deploy",)),
    _k("ReplicaSet", "apps", "v1", "replicasets", True, ("rs",)),
    _k("DaemonSet", "apps", "v1", "daemonsets", True, ("ds",)),
    _k("StatefulSet", "apps", "v1", "statefulsets", True, ("sts",)),
    _k("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", True, (), ()),
    _k("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies", True, ("netpol",), ()),
    _k("CiliumNetworkPolicy", "cilium.io", "v2", "ciliumnetworkpolicies", True, ("cnp", "ciliumnp"), ("cilium", "ciliumpolicy")),
    _k("CiliumClusterwideNetworkPolicy", "cilium.io", "v2", "ciliumclusterwidenetworkpolicies", False, ("ccnp",), ("cilium", "ciliumpolicy")),
    _k("CiliumEndpoint", "cilium.io", "v2", "ciliumendpoints", True, ("cep", "ciliumep"), ("cilium",)),
    _k("CiliumIdentity", "cilium.io", "v2", "ciliumidentities", False, ("ciliumid",), ("cilium",)),
    _k("CiliumNode", "cilium.io", "v2", "ciliumnodes", False, ("cn", "ciliumn"), ("cilium",)),
    _k("Role", "rbac.authorization.k8s.io", "v1", "roles", True, (), ()),
    _k("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings", True, (), ()),
    _k("ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles", False, (), ()),
    _k("ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", False, (), ()),
    # kube-prometheus-stack's CRDs, installed in the lab so the seed's ServiceMonitor and
    # PrometheusRule apply (the lab's Prometheus honours them, see ciliumlab.monitoring)
    _k("ServiceMonitor", "monitoring.coreos.com", "v1", "servicemonitors", True, ("smon",), ("prometheus-operator",)),
    _k("PrometheusRule", "monitoring.coreos.com", "v1", "prometheusrules", True, ("promrule",),
       ("prometheus-operator",)),
)

#: API groups whose kinds are CustomResources (served from CRDs, merge/json/apply patches only).
CUSTOM_GROUPS = ("cilium.io", "monitoring.coreos.com")

_BY_NAME: dict[str, KindInfo] = {}
for _info in KINDS:
    for _name in (_info.kind, _info.plural, _info.singular, *_info.short_names):
        _BY_NAME.setdefault(_name.lower(), _info)
    if _info.group:
        _BY_NAME.setdefault(f"{_info.plural}.{_info.group}".lower(), _info)
        _BY_NAME.setdefault(f"{_info.singular}.{_info.group}".lower(), _info)

_BY_KIND: dict[str, KindInfo] = {info.kind: info for info in KINDS}
_UNKNOWN: dict[tuple[str, str], KindInfo] = {}


def lookup(name: str) -> KindInfo | None:
    """Resolve what a user typed (`po`, `pods`, `Pod`, `cnp`, `deployments.apps`) to a kind."""
    info = _BY_NAME.get(name.lower())
    if info is None:
        for (_, kind), unknown in _UNKNOWN.items():
            if name.lower() in (kind.lower(), unknown.plural):
                return unknown
    return info


def for_kind(kind: str, api_version: str = "") -> KindInfo:
    """The KindInfo of a manifest's `kind`; unknown kinds (ServiceMonitor …) get a derived entry."""
    info = _BY_KIND.get(kind)
    if info is not None:
        return info
    key = (api_version, kind)
    if key not in _UNKNOWN:
        group, _, version = api_version.rpartition("/")
        plural = kind.lower() + ("es" if kind.lower().endswith("s") else "s")
        _UNKNOWN[key] = KindInfo(kind, group, version or "v1", plural, True, (), kind.lower(), ())
    return _UNKNOWN[key]


def is_known(kind: str) -> bool:
    return kind in _BY_KIND
