"""Create the seed's cluster as a kubeadm + Cilium (Helm) lab shows it right after `vagrant up`.

Nodes k8s-ctr (control plane) / k8s-w1 / k8s-w2 with their kubelet-reported status, the four
namespaces, kubeadm's ConfigMaps and static control-plane pods, CoreDNS, and Cilium 1.17 with
Hubble as the lab's Helm install renders it (DaemonSets cilium + cilium-envoy, Deployments
cilium-operator, hubble-relay, hubble-ui, their Services, ConfigMaps and ServiceAccounts).
kube-proxy is absent (kube-proxy replacement).

Pods of DaemonSets and of hubble-relay / hubble-ui are left to the controllers. CoreDNS and the
cilium-operator are created already bound to k8s-ctr: in the real lab they were scheduled while
the control plane was the only node (workers join after Cilium is installed), so that is where
`kubectl get pod -A -o wide` shows them.
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field

from .controllers.deployment import build_replicaset, resolve_int_or_percent
from .controllers.namespace import default_service_account, fake_ca_pem, root_ca_configmap
from .controllers.services import assign_service_addresses
from .controllers.util import defaulted_template, owner_ref, pod_from_template
from .data import configs
from .names import NameGenerator, compute_hash, fake_digest
from .store import Store
from .validation import apply_defaults

CILIUM_IMAGE = "quay.io/cilium/cilium:v{v}@sha256:544de3d4fed7acba72758413812780a4972d47c39035f2a06d6145d8644a3353"
OPERATOR_IMAGE = "quay.io/cilium/operator-generic:v{v}@sha256:91ac3bf7be7bed30e90218f219d4f3062a63377689ee7246062fa0cc3839d096"
RELAY_IMAGE = "quay.io/cilium/hubble-relay:v{v}@sha256:7d17ec10b3d37341c18ca56165b2f29a715cb8ee81311fd07088d8bf68c01e60"
ENVOY_IMAGE = ("quay.io/cilium/cilium-envoy:v1.33.4-1752151664-7c2edb0b44cf95f326d628b837fcdd845102ba68"
               "@sha256:318eff387835ca2717baab42a84f35a83a5f9e7d519253df87269f80b9ff0171")
UI_IMAGE = "quay.io/cilium/hubble-ui:v0.13.2@sha256:9e37c1296b802830834cc87342a9182ccbb71ffebb711971e849221bd9d59392"
UI_BACKEND_IMAGE = ("quay.io/cilium/hubble-ui-backend:v0.13.2"
                    "@sha256:a034b7e98e6ea796ed26df8f4e71f83fc16465a19d166eff67a03b822c0bfa15")
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.12.0"
ETCD_IMAGE = "registry.k8s.io/etcd:3.5.21-0"

CONTROL_PLANE_TAINT = {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}
PART_OF = {"app.kubernetes.io/part-of": "cilium"}


@dataclass
class NodeSpec:
    name: str
    ip: str  # eth1, the kubelet's --node-ip
    pod_cidr: str  # Cilium cluster-pool CIDR for this node (CiliumNode spec.ipam.podCIDRs)
    control_plane: bool = False
    k8s_pod_cidr: str = ""  # Node spec.podCIDR allocated by kube-controller-manager from kubeadm's podSubnet
    cpu: str = "4"
    memory_ki: int = 2_995_276


@dataclass
class ClusterConfig:
    nodes: list[NodeSpec]
    k8s_version: str = "v1.33.2"
    containerd: str = "containerd://1.7.27"
    os_image: str = "Ubuntu 24.04.2 LTS"
    kernel: str = "6.8.0-53-generic"
    service_cidr: str = "10.96.0.0/16"
    pod_cidr_pool: str = "172.20.0.0/16"
    pod_cidr_mask_size: int = 24
    k8s_pod_subnet: str = "10.244.0.0/16"  # kubeadm networking.podSubnet (kube-controller-manager --cluster-cidr)
    cluster_name: str = "default"
    cilium_version: str = "1.17.6"
    cilium_config: dict[str, str] = field(default_factory=dict)  # overrides merged into cilium-config
    hubble_ui_node_port: int = 31234
    control_plane_endpoint: str = ""
    seed: str = "ciliumlab"

    @property
    def control_plane(self) -> NodeSpec:
        return next(n for n in self.nodes if n.control_plane)


def default_cluster_config() -> ClusterConfig:
    return ClusterConfig(nodes=[
        NodeSpec("k8s-ctr", "192.168.10.100", "172.20.0.0/24", True, "10.244.0.0/24"),
        NodeSpec("k8s-w1", "192.168.10.101", "172.20.1.0/24", False, "10.244.1.0/24", cpu="2", memory_ki=1_989_228),
        NodeSpec("k8s-w2", "192.168.10.102", "172.20.2.0/24", False, "10.244.2.0/24", cpu="2", memory_ki=1_989_228),
    ])


def _nth_ip(cidr: str, n: int) -> str:
    return str(ipaddress.ip_network(cidr).network_address + n)


# ------------------------------------------------------------------------------------------------
class _Builder:
    def __init__(self, store: Store, config: ClusterConfig) -> None:
        self.store = store
        self.c = config
        self.names = NameGenerator(f"bootstrap/{config.cluster_name}/{config.seed}")
        self.ts = None

    def create(self, obj: dict) -> dict:
        obj = apply_defaults(obj)
        if obj["kind"] == "Service":
            obj = assign_service_addresses(self.store, obj, self.c.service_cidr)
        existing = self.store.get(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if existing is not None:
            return existing
        return self.store.create(obj)

    def hubble_secrets(self) -> None:
        """certgen's Hubble TLS Secrets, when cilium-config has Hubble enabled."""
        from . import hubble_tls

        cm = self.store.get("ConfigMap", "kube-system", "cilium-config") or {}
        if (cm.get("data") or {}).get("enable-hubble", "true") == "true":
            for secret in hubble_tls.secrets(self.c.cluster_name):
                self.create(secret)

    # -- cluster-scoped ---------------------------------------------------------------------
    def namespaces(self) -> None:
        for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            self.create(default_service_account(ns))
            self.create(root_ca_configmap(ns, fake_ca_pem()))

    def node(self, n: NodeSpec) -> dict:
        c = self.c
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": n.name,
            "kubernetes.io/os": "linux",
        }
        spec: dict = {}
        if n.k8s_pod_cidr:
            spec["podCIDR"] = n.k8s_pod_cidr
            spec["podCIDRs"] = [n.k8s_pod_cidr]
        if n.control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            spec["taints"] = [dict(CONTROL_PLANE_TAINT)]
        mem_alloc = n.memory_ki - 102_400
        cap = {"cpu": n.cpu, "ephemeral-storage": "60970Mi", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
               "memory": f"{n.memory_ki}Ki", "pods": "110"}
        alloc = dict(cap, **{"ephemeral-storage": "57538510753", "memory": f"{mem_alloc}Ki"})

        def cond(t, status, reason, msg):
            return {"lastHeartbeatTime": ts, "lastTransitionTime": ts, "message": msg, "reason": reason,
                    "status": status, "type": t}

        ts = self._now()
        digest = fake_digest(f"node/{n.name}")
        return self.create({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": n.name, "labels": labels,
                "annotations": {
                    "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": spec,
            "status": {
                "addresses": [{"address": n.ip, "type": "InternalIP"}, {"address": n.name, "type": "Hostname"}],
                "allocatable": alloc,
                "capacity": cap,
                "conditions": [
                    dict(cond("NetworkUnavailable", "False", "CiliumIsUp", "Cilium is running on this node"),
                         lastHeartbeatTime=ts),
                    cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "features": {"supplementalGroupsPolicy": True},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": _uuid(digest, 0),
                    "containerRuntimeVersion": c.containerd,
                    "kernelVersion": c.kernel,
                    "kubeProxyVersion": "",
                    "kubeletVersion": c.k8s_version,
                    "machineID": digest[32:64],
                    "operatingSystem": "linux",
                    "osImage": c.os_image,
                    "systemUUID": _uuid(digest, 16),
                },
                "runtimeHandlers": [
                    {"features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}, "name": "runc"},
                    {"features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}, "name": ""},
                ],
            },
        })

    def _now(self) -> str:
        from .store import rfc3339

        return rfc3339(self.store._clock.now())

    # -- kube-system config ----------------------------------------------------------------
    def configmaps(self) -> None:
        c = self.c
        cp = c.control_plane
        cm = self.create_cm
        cilium_cfg = configs.cilium_config(cluster_name=c.cluster_name, pod_cidr_pool=c.pod_cidr_pool,
                                           mask_size=c.pod_cidr_mask_size, native_cidr=c.pod_cidr_pool)
        cilium_cfg.update({k: str(v) for k, v in c.cilium_config.items()})
        cm("cilium-config", cilium_cfg)
        cm("cilium-envoy-config", {"bootstrap-config.json": configs.envoy_bootstrap_config()})
        cm("hubble-relay-config", {"config.yaml": configs.hubble_relay_config(c.cluster_name)})
        cm("coredns", {"Corefile": configs.COREFILE})
        cm("kubeadm-config", {"ClusterConfiguration": configs.kubeadm_cluster_configuration(
            k8s_version=c.k8s_version, pod_subnet=c.k8s_pod_subnet, service_subnet=c.service_cidr,
            control_plane_endpoint=c.control_plane_endpoint)})
        cm("kubelet-config", {"kubelet": configs.kubelet_configuration(_nth_ip(c.service_cidr, 10))},
           annotations={"kubeadm.kubernetes.io/component-config.hash": "sha256:" + fake_digest("kubelet-config")})
        kubeconfig = (
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
            + fake_ca_pem().encode().hex()[:64]
            + f"\n    server: https://{cp.ip}:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\n"
            "kind: Config\npreferences: {}\nusers: null\n"
        )
        self.create({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "cluster-info", "namespace": "kube-public"},
                     "data": {"kubeconfig": kubeconfig}})

    def create_cm(self, name: str, data: dict, namespace: str = "kube-system", annotations: dict | None = None,
                  labels: dict | None = None) -> dict:
        meta: dict = {"name": name, "namespace": namespace}
        if annotations:
            meta["annotations"] = annotations
        if labels:
            meta["labels"] = labels
        return self.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})

    def service_accounts(self) -> None:
        for sa in ("cilium", "cilium-envoy", "cilium-operator", "coredns", "hubble-relay", "hubble-ui"):
            self.create({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": sa, "namespace": "kube-system"}})

    # -- services -----------------------------------------------------------------------------
    def services(self) -> None:
        c = self.c
        cp = c.control_plane
        self.create({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "kubernetes", "namespace": "default",
                                  "labels": {"component": "apiserver", "provider": "kubernetes"}},
                     "spec": {"clusterIP": _nth_ip(c.service_cidr, 1),
                              "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
        self.create({"apiVersion": "v1", "kind": "Endpoints",
                     "metadata": {"name": "kubernetes", "namespace": "default",
                                  "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                     "subsets": [{"addresses": [{"ip": cp.ip}],
                                  "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]})
        self.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                     "metadata": {"name": "kubernetes", "namespace": "default",
                                  "labels": {"kubernetes.io/service-name": "kubernetes"}},
                     "addressType": "IPv4",
                     "endpoints": [{"addresses": [cp.ip], "conditions": {"ready": True}}],
                     "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})
        self.create({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "kube-dns", "namespace": "kube-system",
                                  "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
                                  "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                             "kubernetes.io/name": "CoreDNS"}},
                     "spec": {"clusterIP": _nth_ip(c.service_cidr, 10), "selector": {"k8s-app": "kube-dns"},
                              "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                                        {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}})
        self.create(_svc("cilium-envoy", {"k8s-app": "cilium-envoy", "app.kubernetes.io/name": "cilium-envoy",
                                          **PART_OF, "io.cilium/app": "proxy"},
                         {"k8s-app": "cilium-envoy"},
                         [{"name": "envoy-metrics", "port": 9964, "protocol": "TCP", "targetPort": "envoy-metrics"}],
                         headless=True, annotations={"prometheus.io/port": "9964", "prometheus.io/scrape": "true"}))
        self.create(_svc("hubble-peer", {"k8s-app": "cilium", **PART_OF, "app.kubernetes.io/name": "hubble-peer"},
                         {"k8s-app": "cilium"},
                         [{"name": "peer-service", "port": 443, "protocol": "TCP", "targetPort": 4244}],
                         extra={"internalTrafficPolicy": "Local"}))
        # what `prometheus.serviceMonitor.enabled=true` renders: the Service a ServiceMonitor for
        # `k8s-app: cilium`, port `metrics` (the seed's) selects the agents through
        self.create(_svc("cilium-agent", {"k8s-app": "cilium", "app.kubernetes.io/name": "cilium-agent", **PART_OF},
                         {"k8s-app": "cilium"},
                         [{"name": "metrics", "port": 9962, "protocol": "TCP", "targetPort": "prometheus"}],
                         headless=True))
        self.create(_svc("hubble-metrics", {"k8s-app": "hubble", "app.kubernetes.io/name": "hubble", **PART_OF},
                         {"k8s-app": "cilium"},
                         [{"name": "hubble-metrics", "port": 9965, "protocol": "TCP", "targetPort": "hubble-metrics"}],
                         headless=True, annotations={"prometheus.io/port": "9965", "prometheus.io/scrape": "true"}))
        self.create(_svc("hubble-relay", {"k8s-app": "hubble-relay", "app.kubernetes.io/name": "hubble-relay", **PART_OF},
                         {"k8s-app": "hubble-relay"}, [{"port": 80, "protocol": "TCP", "targetPort": 4245}]))
        self.create(_svc("hubble-ui", {"k8s-app": "hubble-ui", "app.kubernetes.io/name": "hubble-ui", **PART_OF},
                         {"k8s-app": "hubble-ui"},
                         [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8081,
                           "nodePort": c.hubble_ui_node_port}],
                         extra={"type": "NodePort"}))

    # -- workloads ------------------------------------------------------------------------------
    def workloads(self) -> None:
        v = self.c.cilium_version
        cp = self.c.control_plane
        self.create(cilium_daemonset(v, cp.ip))
        self.create(envoy_daemonset())
        operator = self.create(operator_deployment(v, cp.ip))
        coredns = self.create(coredns_deployment())
        self.create(relay_deployment(v))
        self.create(ui_deployment())
        # Scheduled while k8s-ctr was the only node.
        self.prebind(coredns, cp.name)
        self.prebind(operator, cp.name)

    def prebind(self, d: dict, node: str) -> None:
        ns = d["metadata"]["namespace"]
        template = defaulted_template(d)
        h = compute_hash(template)
        replicas = d["spec"].get("replicas", 1)
        ru = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
        rs = build_replicaset(d, template, h, f"{d['metadata']['name']}-{h}", replicas, surge, 1)
        if self.store.get("ReplicaSet", ns, rs["metadata"]["name"]) is not None:
            return
        rs = self.store.create(rs)
        for _ in range(replicas):
            name = self.names.generate(f"{rs['metadata']['name']}-", lambda n: self.store.get("Pod", ns, n) is not None)
            pod = pod_from_template(rs, rs["spec"]["template"], name)
            pod["spec"]["nodeName"] = node
            self.store.create(pod)

    def static_pods(self) -> None:
        c = self.c
        cp = c.control_plane
        node = self.store.get("Node", None, cp.name)
        pki = "/etc/kubernetes/pki"
        v = c.k8s_version
        specs = {
            "etcd": (ETCD_IMAGE, [
                "etcd", f"--advertise-client-urls=https://{cp.ip}:2379", f"--cert-file={pki}/etcd/server.crt",
                "--client-cert-auth=true", "--data-dir=/var/lib/etcd",
                "--feature-gates=InitialCorruptCheck=true", f"--initial-advertise-peer-urls=https://{cp.ip}:2380",
                f"--initial-cluster={cp.name}=https://{cp.ip}:2380", f"--key-file={pki}/etcd/server.key",
                f"--listen-client-urls=https://127.0.0.1:2379,https://{cp.ip}:2379",
                "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{cp.ip}:2380",
                f"--name={cp.name}", f"--peer-cert-file={pki}/etcd/peer.crt", "--peer-client-cert-auth=true",
                f"--peer-key-file={pki}/etcd/peer.key", f"--peer-trusted-ca-file={pki}/etcd/ca.crt",
                "--snapshot-count=10000", f"--trusted-ca-file={pki}/etcd/ca.crt",
                "--watch-progress-notify-interval=5s"],
                {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{cp.ip}:2379"}),
            "kube-apiserver": (f"registry.k8s.io/kube-apiserver:{v}", [
                "kube-apiserver", f"--advertise-address={cp.ip}", "--allow-privileged=true",
                "--authorization-mode=Node,RBAC", f"--client-ca-file={pki}/ca.crt",
                "--enable-admission-plugins=NodeRestriction", "--enable-bootstrap-token-auth=true",
                f"--etcd-cafile={pki}/etcd/ca.crt", f"--etcd-certfile={pki}/apiserver-etcd-client.crt",
                f"--etcd-keyfile={pki}/apiserver-etcd-client.key", "--etcd-servers=https://127.0.0.1:2379",
                f"--kubelet-client-certificate={pki}/apiserver-kubelet-client.crt",
                f"--kubelet-client-key={pki}/apiserver-kubelet-client.key",
                "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                f"--proxy-client-cert-file={pki}/front-proxy-client.crt",
                f"--proxy-client-key-file={pki}/front-proxy-client.key",
                "--requestheader-allowed-names=front-proxy-client",
                f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-username-headers=X-Remote-User", "--secure-port=6443",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
                f"--service-cluster-ip-range={c.service_cidr}", f"--tls-cert-file={pki}/apiserver.crt",
                f"--tls-private-key-file={pki}/apiserver.key"],
                {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{cp.ip}:6443"}),
            "kube-controller-manager": (f"registry.k8s.io/kube-controller-manager:{v}", [
                "kube-controller-manager", "--allocate-node-cidrs=true",
                "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
                f"--client-ca-file={pki}/ca.crt", f"--cluster-cidr={c.k8s_pod_subnet}", "--cluster-name=kubernetes",
                f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
                "--controllers=*,bootstrapsigner,tokencleaner", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--leader-elect=true", f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt",
                f"--root-ca-file={pki}/ca.crt", f"--service-account-private-key-file={pki}/sa.key",
                f"--service-cluster-ip-range={c.service_cidr}", "--use-service-account-credentials=true"], {}),
            "kube-scheduler": (f"registry.k8s.io/kube-scheduler:{v}", [
                "kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
                "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
                "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"], {}),
        }
        for component, (image, command, extra_ann) in specs.items():
            name = f"{component}-{cp.name}"
            h = fake_digest(f"static/{name}/{v}")[:32]
            ann = {**extra_ann, "kubernetes.io/config.hash": h, "kubernetes.io/config.mirror": h,
                   "kubernetes.io/config.seen": self._now().replace("Z", ".000000000Z"),
                   "kubernetes.io/config.source": "file"}
            pod = {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "kube-system", "annotations": ann,
                             "labels": {"component": component, "tier": "control-plane"},
                             "ownerReferences": [{**owner_ref(node), "blockOwnerDeletion": None}]},
                "spec": {
                    "containers": [{"name": component, "image": image, "command": command,
                                    "resources": {"requests": {"cpu": {"etcd": "100m", "kube-apiserver": "250m",
                                                                       "kube-controller-manager": "200m",
                                                                       "kube-scheduler": "100m"}[component]}}}],
                    "hostNetwork": True, "nodeName": cp.name, "priority": 2000001000,
                    "priorityClassName": "system-node-critical",
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "tolerations": [{"effect": "NoExecute", "operator": "Exists"}],
                },
            }
            del pod["metadata"]["ownerReferences"][0]["blockOwnerDeletion"]
            if component == "etcd":
                pod["spec"]["containers"][0]["resources"]["requests"]["memory"] = "100Mi"
            self.create(pod)


def _uuid(digest: str, off: int) -> str:
    h = digest[off:off + 32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _svc(name: str, labels: dict, selector: dict, ports: list[dict], *, headless: bool = False,
         annotations: dict | None = None, extra: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": "kube-system", "labels": labels}
    if annotations:
        meta["annotations"] = annotations
    spec: dict = {"selector": selector, "ports": ports, "type": "ClusterIP"}
    if headless:
        spec["clusterIP"] = "None"
    spec.update(extra or {})
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def _host_path(name: str, path: str, kind: str = "DirectoryOrCreate") -> dict:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def _field_env(name: str, path: str) -> dict:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def _probe(port: int, path: str = "/healthz", host: str = "127.0.0.1", **kw) -> dict:
    return {"httpGet": {"host": host, "path": path, "port": port, "scheme": "HTTP",
                        "httpHeaders": [{"name": "brief", "value": "true"}]}, **kw}


def cilium_daemonset(version: str, api_host: str) -> dict:
    image = CILIUM_IMAGE.format(v=version)
    labels = {"k8s-app": "cilium", "app.kubernetes.io/name": "cilium-agent", **PART_OF}
    api_env = [{"name": "KUBERNETES_SERVICE_HOST", "value": api_host}, {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"}]
    node_env = [_field_env("K8S_NODE_NAME", "spec.nodeName"), _field_env("CILIUM_K8S_NAMESPACE", "metadata.namespace")]
    caps = ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_MODULE", "SYS_ADMIN", "SYS_RESOURCE",
            "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    init = [
        {"name": "config", "image": image, "command": ["cilium-dbg", "build-config"], "env": node_env + api_env,
         "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}], "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "mount-cgroup", "image": image, "command": ["sh", "-ec", (
            "cp /usr/bin/cilium-mount /hostbin/cilium-mount;\nnsenter --cgroup=/hostproc/1/ns/cgroup "
            "--mount=/hostproc/1/ns/mnt \"${BIN_PATH}/cilium-mount\" $CGROUP_ROOT;\nrm /hostbin/cilium-mount\n")],
         "env": [{"name": "CGROUP_ROOT", "value": "/run/cilium/cgroupv2"}, {"name": "BIN_PATH", "value": "/opt/cni/bin"}],
         "volumeMounts": [{"name": "hostproc", "mountPath": "/hostproc"}, {"name": "cni-path", "mountPath": "/hostbin"}],
         "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "apply-sysctl-overwrites", "image": image, "command": ["sh", "-ec", (
            "cp /usr/bin/cilium-sysctlfix /hostbin/cilium-sysctlfix;\nnsenter --mount=/hostproc/1/ns/mnt "
            "\"${BIN_PATH}/cilium-sysctlfix\";\nrm /hostbin/cilium-sysctlfix\n")],
         "env": [{"name": "BIN_PATH", "value": "/opt/cni/bin"}],
         "volumeMounts": [{"name": "hostproc", "mountPath": "/hostproc"}, {"name": "cni-path", "mountPath": "/hostbin"}],
         "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "mount-bpf-fs", "image": image, "command": ["/bin/bash", "-c", "--"],
         "args": ['mount | grep "/sys/fs/bpf type bpf" || mount -t bpf bpf /sys/fs/bpf'],
         "securityContext": {"privileged": True},
         "volumeMounts": [{"name": "bpf-maps", "mountPath": "/sys/fs/bpf", "mountPropagation": "Bidirectional"}],
         "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "clean-cilium-state", "image": image, "command": ["/init-container.sh"], "env": api_env,
         "volumeMounts": [{"name": "bpf-maps", "mountPath": "/sys/fs/bpf"},
                          {"name": "cilium-cgroup", "mountPath": "/run/cilium/cgroupv2",
                           "mountPropagation": "HostToContainer"},
                          {"name": "cilium-run", "mountPath": "/var/run/cilium"}],
         "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "install-cni-binaries", "image": image, "command": ["/install-plugin.sh"],
         "resources": {"requests": {"cpu": "100m", "memory": "10Mi"}},
         "volumeMounts": [{"name": "cni-path", "mountPath": "/host/opt/cni/bin"}],
         "terminationMessagePolicy": "FallbackToLogsOnError"},
    ]
    agent = {
        "name": "cilium-agent", "image": image, "command": ["cilium-agent"],
        "args": ["--config-dir=/tmp/cilium/config-map"],
        "env": node_env + [{"name": "CILIUM_CLUSTERMESH_CONFIG", "value": "/var/lib/cilium/clustermesh/"},
                           {"name": "GOMEMLIMIT", "valueFrom": {"resourceFieldRef": {"divisor": "1",
                                                                                      "resource": "limits.memory"}}}]
        + api_env,
        "ports": [{"name": "peer-service", "containerPort": 4244, "hostPort": 4244, "protocol": "TCP"},
                  {"name": "prometheus", "containerPort": 9962, "hostPort": 9962, "protocol": "TCP"},
                  {"name": "hubble-metrics", "containerPort": 9965, "hostPort": 9965, "protocol": "TCP"}],
        "startupProbe": _probe(9879, failureThreshold=105, periodSeconds=2, successThreshold=1, initialDelaySeconds=5),
        "livenessProbe": _probe(9879, periodSeconds=30, successThreshold=1, failureThreshold=10, timeoutSeconds=5),
        "readinessProbe": _probe(9879, periodSeconds=30, successThreshold=1, failureThreshold=3, timeoutSeconds=5),
        "lifecycle": {"preStop": {"exec": {"command": ["/cni-uninstall.sh"]}}},
        "securityContext": {"capabilities": {"add": caps, "drop": ["ALL"]},
                            "seLinuxOptions": {"level": "s0", "type": "spc_t"}},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "envoy-sockets", "mountPath": "/var/run/cilium/envoy/sockets"},
            {"name": "host-proc-sys-net", "mountPath": "/host/proc/sys/net"},
            {"name": "host-proc-sys-kernel", "mountPath": "/host/proc/sys/kernel"},
            {"name": "bpf-maps", "mountPath": "/sys/fs/bpf", "mountPropagation": "HostToContainer"},
            {"name": "cilium-run", "mountPath": "/var/run/cilium"},
            {"name": "cilium-netns", "mountPath": "/var/run/cilium/netns", "mountPropagation": "HostToContainer"},
            {"name": "etc-cni-netd", "mountPath": "/host/etc/cni/net.d"},
            {"name": "clustermesh-secrets", "mountPath": "/var/lib/cilium/clustermesh", "readOnly": True},
            {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
            {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
            {"name": "hubble-tls", "mountPath": "/var/lib/cilium/tls/hubble", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    volumes = [
        {"name": "tmp", "emptyDir": {}},
        _host_path("cilium-run", "/var/run/cilium"),
        _host_path("cilium-netns", "/var/run/netns"),
        _host_path("bpf-maps", "/sys/fs/bpf"),
        _host_path("hostproc", "/proc", "Directory"),
        _host_path("cilium-cgroup", "/run/cilium/cgroupv2"),
        _host_path("cni-path", "/opt/cni/bin"),
        _host_path("etc-cni-netd", "/etc/cni/net.d"),
        {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}},
        _host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
        _host_path("envoy-sockets", "/var/run/cilium/envoy/sockets"),
        {"name": "clustermesh-secrets", "projected": {"defaultMode": 256, "sources": [
            {"secret": {"name": "cilium-clustermesh", "optional": True}}]}},
        _host_path("host-proc-sys-net", "/proc/sys/net", "Directory"),
        _host_path("host-proc-sys-kernel", "/proc/sys/kernel", "Directory"),
        {"name": "hubble-tls", "projected": {"defaultMode": 256, "sources": [{"secret": {
            "name": "hubble-server-certs", "optional": True, "items": [
                {"key": "tls.crt", "path": "server.crt"}, {"key": "tls.key", "path": "server.key"},
                {"key": "ca.crt", "path": "client-ca.crt"}]}}]}},
    ]
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "cilium", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "cilium"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}},
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/default-container": "cilium-agent",
                                             # prometheus.enabled: the pod-annotation scrape of monitoring-example
                                             "prometheus.io/port": "9962", "prometheus.io/scrape": "true"},
                             "labels": labels},
                "spec": {
                    "securityContext": {"appArmorProfile": {"type": "Unconfined"},
                                        "seccompProfile": {"type": "Unconfined"}},
                    "containers": [agent], "initContainers": init,
                    "restartPolicy": "Always", "priorityClassName": "system-node-critical",
                    "serviceAccountName": "cilium", "automountServiceAccountToken": True,
                    "terminationGracePeriodSeconds": 1, "hostNetwork": True,
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"k8s-app": "cilium"}}, "topologyKey": "kubernetes.io/hostname"}]}},
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],
                    "volumes": volumes,
                },
            },
        },
    }


def envoy_daemonset() -> dict:
    labels = {"k8s-app": "cilium-envoy", "app.kubernetes.io/part-of": "cilium",
              "app.kubernetes.io/name": "cilium-envoy", "name": "cilium-envoy"}
    container = {
        "name": "cilium-envoy", "image": ENVOY_IMAGE, "command": ["/usr/bin/cilium-envoy-starter"],
        "args": ["--", "-c /var/run/cilium/envoy/bootstrap-config.json", "--base-id 0", "--log-level info"],
        "env": [_field_env("K8S_NODE_NAME", "spec.nodeName"), _field_env("CILIUM_K8S_NAMESPACE", "metadata.namespace")],
        "ports": [{"name": "envoy-metrics", "containerPort": 9964, "hostPort": 9964, "protocol": "TCP"}],
        "startupProbe": _probe(9878, failureThreshold=105, periodSeconds=2, successThreshold=1, initialDelaySeconds=5),
        "livenessProbe": _probe(9878, periodSeconds=30, successThreshold=1, failureThreshold=10, timeoutSeconds=5),
        "readinessProbe": _probe(9878, periodSeconds=30, successThreshold=1, failureThreshold=3, timeoutSeconds=5),
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN"], "drop": ["ALL"]},
                            "seLinuxOptions": {"level": "s0", "type": "spc_t"}},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "envoy-sockets", "mountPath": "/var/run/cilium/envoy/sockets"},
                         {"name": "envoy-artifacts", "mountPath": "/var/run/cilium/envoy/artifacts", "readOnly": True},
                         {"name": "envoy-config", "mountPath": "/var/run/cilium/envoy/", "readOnly": True},
                         {"name": "bpf-maps", "mountPath": "/sys/fs/bpf", "mountPropagation": "HostToContainer"}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "cilium-envoy", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "cilium-envoy"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                    "containers": [container], "restartPolicy": "Always",
                    "priorityClassName": "system-node-critical", "serviceAccountName": "cilium-envoy",
                    "automountServiceAccountToken": True, "terminationGracePeriodSeconds": 1, "hostNetwork": True,
                    "affinity": {
                        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "cilium.io/no-schedule", "operator": "NotIn",
                                                   "values": ["true"]}]}]}},
                        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                            {"labelSelector": {"matchLabels": {"k8s-app": "cilium"}},
                             "topologyKey": "kubernetes.io/hostname"}]},
                        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                            {"labelSelector": {"matchLabels": {"k8s-app": "cilium-envoy"}},
                             "topologyKey": "kubernetes.io/hostname"}]},
                    },
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],
                    "volumes": [
                        _host_path("envoy-sockets", "/var/run/cilium/envoy/sockets"),
                        _host_path("envoy-artifacts", "/var/run/cilium/envoy/artifacts"),
                        {"name": "envoy-config", "configMap": {"name": "cilium-envoy-config", "defaultMode": 256,
                                                               "items": [{"key": "bootstrap-config.json",
                                                                          "path": "bootstrap-config.json"}]}},
                        _host_path("bpf-maps", "/sys/fs/bpf"),
                    ],
                },
            },
        },
    }


def operator_deployment(version: str, api_host: str) -> dict:
    labels = {"io.cilium/app": "operator", "name": "cilium-operator", **PART_OF,
              "app.kubernetes.io/name": "cilium-operator"}
    container = {
        "name": "cilium-operator", "image": OPERATOR_IMAGE.format(v=version), "command": ["cilium-operator-generic"],
        "args": ["--config-dir=/tmp/cilium/config-map", "--debug=$(CILIUM_DEBUG)"],
        "env": [_field_env("K8S_NODE_NAME", "spec.nodeName"), _field_env("CILIUM_K8S_NAMESPACE", "metadata.namespace"),
                {"name": "CILIUM_DEBUG", "valueFrom": {"configMapKeyRef": {"key": "debug", "name": "cilium-config",
                                                                          "optional": True}}},
                {"name": "KUBERNETES_SERVICE_HOST", "value": api_host}, {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"}],
        "ports": [{"name": "prometheus", "containerPort": 9963, "hostPort": 9963, "protocol": "TCP"}],
        "livenessProbe": {"httpGet": {"host": "127.0.0.1", "path": "/healthz", "port": 9234, "scheme": "HTTP"},
                          "initialDelaySeconds": 60, "periodSeconds": 10, "timeoutSeconds": 3},
        "readinessProbe": {"httpGet": {"host": "127.0.0.1", "path": "/healthz", "port": 9234, "scheme": "HTTP"},
                           "initialDelaySeconds": 0, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 5},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "cilium-config-path", "mountPath": "/tmp/cilium/config-map", "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "cilium-operator", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"io.cilium/app": "operator", "name": "cilium-operator"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "50%"}},
            "template": {
                "metadata": {"annotations": {"prometheus.io/port": "9963", "prometheus.io/scrape": "true"},
                             "labels": labels},
                "spec": {
                    "containers": [container], "hostNetwork": True, "restartPolicy": "Always",
                    "priorityClassName": "system-cluster-critical", "serviceAccountName": "cilium-operator",
                    "automountServiceAccountToken": True,
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"io.cilium/app": "operator"}},
                         "topologyKey": "kubernetes.io/hostname"}]}},
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],
                    "volumes": [{"name": "cilium-config-path", "configMap": {"name": "cilium-config"}}],
                },
            },
        },
    }


def coredns_deployment() -> dict:
    container = {
        "name": "coredns", "image": COREDNS_IMAGE, "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                  {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
        "livenessProbe": {"failureThreshold": 5, "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                          "initialDelaySeconds": 60, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 5},
        "readinessProbe": {"failureThreshold": 3, "httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
                           "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_BIND_SERVICE"],
                                                                                "drop": ["ALL"]},
                            "readOnlyRootFilesystem": True},
        "volumeMounts": [{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                        {"podAffinityTerm": {"labelSelector": {"matchExpressions": [
                            {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                            "topologyKey": "kubernetes.io/hostname"}, "weight": 100}]}},
                    "containers": [container], "dnsPolicy": "Default",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                    {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}],
                    "volumes": [{"name": "config-volume", "configMap": {
                        "name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}}],
                },
            },
        },
    }


def relay_deployment(version: str) -> dict:
    labels = {"k8s-app": "hubble-relay", "app.kubernetes.io/name": "hubble-relay", **PART_OF}
    container = {
        "name": "hubble-relay", "image": RELAY_IMAGE.format(v=version), "command": ["hubble-relay"], "args": ["serve"],
        "ports": [{"name": "grpc", "containerPort": 4245}],
        "readinessProbe": {"grpc": {"port": 4222}, "timeoutSeconds": 3},
        "livenessProbe": {"grpc": {"port": 4222}, "timeoutSeconds": 10, "initialDelaySeconds": 10,
                          "periodSeconds": 10, "failureThreshold": 12},
        "startupProbe": {"grpc": {"port": 4222}, "initialDelaySeconds": 10, "failureThreshold": 20, "periodSeconds": 3},
        "securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsGroup": 65532, "runAsNonRoot": True,
                            "runAsUser": 65532},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "config", "mountPath": "/etc/hubble-relay", "readOnly": True},
                         {"name": "tls", "mountPath": "/var/lib/hubble-relay/tls", "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "hubble-relay", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"k8s-app": "hubble-relay"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"fsGroup": 65532},
                    "containers": [container], "restartPolicy": "Always", "priorityClassName": "",
                    "serviceAccountName": "hubble-relay", "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 1,
                    "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"k8s-app": "cilium"}},
                         "topologyKey": "kubernetes.io/hostname"}]}},
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "volumes": [
                        {"name": "config", "configMap": {"name": "hubble-relay-config", "items": [
                            {"key": "config.yaml", "path": "config.yaml"}]}},
                        {"name": "tls", "projected": {"defaultMode": 256, "sources": [{"secret": {
                            "name": "hubble-relay-client-certs", "items": [
                                {"key": "tls.crt", "path": "client.crt"}, {"key": "tls.key", "path": "client.key"},
                                {"key": "ca.crt", "path": "hubble-server-ca.crt"}]}}]}},
                    ],
                },
            },
        },
    }


def ui_deployment() -> dict:
    labels = {"k8s-app": "hubble-ui", "app.kubernetes.io/name": "hubble-ui", **PART_OF}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "hubble-ui", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"k8s-app": "hubble-ui"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"fsGroup": 1001, "runAsGroup": 1001, "runAsUser": 1001},
                    "priorityClassName": "", "serviceAccountName": "hubble-ui",
                    "automountServiceAccountToken": True,
                    "containers": [
                        {"name": "frontend", "image": UI_IMAGE, "ports": [{"name": "http", "containerPort": 8081}],
                         "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8081}},
                         "readinessProbe": {"httpGet": {"path": "/", "port": 8081}},
                         "terminationMessagePolicy": "FallbackToLogsOnError",
                         "volumeMounts": [{"name": "hubble-ui-nginx-conf", "mountPath": "/etc/nginx/conf.d/default.conf",
                                           "subPath": "nginx.conf"},
                                          {"name": "tmp-dir", "mountPath": "/tmp"}]},
                        {"name": "backend", "image": UI_BACKEND_IMAGE,
                         "env": [{"name": "EVENTS_SERVER_PORT", "value": "8090"},
                                 {"name": "FLOWS_API_ADDR", "value": "hubble-relay:80"}],
                         "ports": [{"name": "grpc", "containerPort": 8090}],
                         "terminationMessagePolicy": "FallbackToLogsOnError"},
                    ],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "volumes": [{"name": "hubble-ui-nginx-conf", "configMap": {"name": "hubble-ui-nginx",
                                                                                "defaultMode": 420}},
                                {"name": "tmp-dir", "emptyDir": {}}],
                },
            },
        },
    }


HUBBLE_UI_NGINX = """server {
    listen       8081;
    listen       [::]:8081;
    server_name  localhost;
    root /app;
    index index.html;
    client_max_body_size 1G;

    location / {
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;

        location /api {
            proxy_http_version 1.1;
            proxy_pass_request_headers on;
            proxy_pass http://127.0.0.1:8090;
        }
        location / {
            if ($uri !~* "\\.(?:ico|js|css|png|jpg|jpeg|gif|svg|woff|woff2|ttf|eot)$") {
                add_header Cache-Control "no-cache, no-store, must-revalidate";
            }
            try_files $uri $uri/ /index.html =404;
        }
    }
}
"""


def bootstrap(store: Store, config: ClusterConfig | None = None) -> None:
    """Create the seed lab's cluster objects in `store` (idempotent: existing objects are kept)."""
    config = copy.deepcopy(config) if config is not None else default_cluster_config()
    b = _Builder(store, config)
    b.namespaces()
    for n in config.nodes:
        b.node(n)
    b.configmaps()
    b.create_cm("hubble-ui-nginx", {"nginx.conf": HUBBLE_UI_NGINX})
    b.hubble_secrets()
    b.service_accounts()
    b.services()
    b.static_pods()
    b.workloads()


__all__ = ["ClusterConfig", "NodeSpec", "bootstrap", "default_cluster_config"]
