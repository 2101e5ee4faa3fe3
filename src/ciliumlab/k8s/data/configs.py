"""Config files as kubeadm v1.33 and the Cilium 1.17 Helm chart render them for the seed lab."""

from __future__ import annotations

import json

HUBBLE_METRICS = (
    "dns drop tcp flow port-distribution icmp httpV2:exemplars=true;labelsContext=source_ip,source_namespace,"
    "source_workload,destination_ip,destination_namespace,destination_workload,traffic_direction"
)


def cilium_config(*, cluster_name: str, pod_cidr_pool: str, mask_size: int, native_cidr: str) -> dict[str, str]:
    """`cilium-config` data of a 1.17 chart install with the seed's Helm values.

    The lab's install: `--set k8sServiceHost=192.168.10.100 k8sServicePort=6443 ipam.mode=cluster-pool
    clusterPoolIPv4PodCIDRList=172.20.0.0/16 ipv4NativeRoutingCIDR=172.20.0.0/16 routingMode=native
    autoDirectNodeRoutes=true endpointRoutes.enabled=true kubeProxyReplacement=true bpf.masquerade=true
    installNoConntrackIptablesRules=true endpointHealthChecking.enabled=false healthChecking=false
    operator.replicas=1 debug.enabled=true` plus Hubble (relay, UI NodePort 31234, static export,
    metrics with OpenMetrics) and Prometheus for agent and operator. Keys the chart only renders when
    set (policy-audit-mode, hubble-event-buffer-capacity, allow-localhost) are absent: the agent's
    defaults apply (false, 4095, auto).
    """
    return {
        "identity-allocation-mode": "crd",
        "identity-heartbeat-timeout": "30m0s",
        "identity-gc-interval": "15m0s",
        "cilium-endpoint-gc-interval": "5m0s",
        "nodes-gc-interval": "5m0s",
        "debug": "true",
        "enable-policy": "default",
        "policy-cidr-match-mode": "",
        "prometheus-serve-addr": ":9962",
        "controller-group-metrics": "write-cni-file sync-host-ips sync-lb-maps-with-k8s-services",
        "operator-prometheus-serve-addr": ":9963",
        "enable-metrics": "true",
        "enable-ipv4": "true",
        "enable-ipv6": "false",
        "custom-cni-conf": "false",
        "enable-bpf-clock-probe": "false",
        "monitor-aggregation": "medium",
        "monitor-aggregation-interval": "5s",
        "monitor-aggregation-flags": "all",
        "bpf-map-dynamic-size-ratio": "0.0025",
        "bpf-policy-map-max": "16384",
        "bpf-lb-map-max": "65536",
        "bpf-lb-external-clusterip": "false",
        "bpf-lb-source-range-all-types": "false",
        "bpf-lb-algorithm-annotation": "false",
        "bpf-lb-mode-annotation": "false",
        "bpf-distributed-lru": "false",
        "bpf-events-drop-enabled": "true",
        "bpf-events-policy-verdict-enabled": "true",
        "bpf-events-trace-enabled": "true",
        "preallocate-bpf-maps": "false",
        "cluster-name": cluster_name,
        "cluster-id": "0",
        "routing-mode": "native",
        "tunnel-protocol": "vxlan",
        "tunnel-source-port-range": "0-0",
        "service-no-backend-response": "reject",
        "enable-l7-proxy": "true",
        "enable-ipv4-masquerade": "true",
        "enable-ipv4-big-tcp": "false",
        "enable-ipv6-big-tcp": "false",
        "enable-ipv6-masquerade": "true",
        "enable-tcx": "true",
        "datapath-mode": "veth",
        "enable-bpf-masquerade": "true",
        "enable-masquerade-to-route-source": "false",
        "enable-xt-socket-fallback": "true",
        "install-no-conntrack-iptables-rules": "true",
        "iptables-random-fully": "false",
        "auto-direct-node-routes": "true",
        "direct-routing-skip-unreachable": "false",
        "enable-endpoint-routes": "true",
        "ipv4-native-routing-cidr": native_cidr,
        "enable-local-redirect-policy": "false",
        "enable-runtime-device-detection": "true",
        "kube-proxy-replacement": "true",
        "kube-proxy-replacement-healthz-bind-address": "",
        "bpf-lb-sock": "false",
        "bpf-lb-sock-terminate-pod-connections": "false",
        "nodeport-addresses": "",
        "enable-health-check-nodeport": "true",
        "enable-health-check-loadbalancer-ip": "false",
        "node-port-bind-protection": "true",
        "enable-auto-protect-node-port-range": "true",
        "bpf-lb-acceleration": "disabled",
        "enable-svc-source-range-check": "true",
        "enable-l2-neigh-discovery": "true",
        "arping-refresh-period": "30s",
        "k8s-require-ipv4-pod-cidr": "false",
        "k8s-require-ipv6-pod-cidr": "false",
        "enable-k8s-networkpolicy": "true",
        "enable-endpoint-lockdown-on-policy-overflow": "false",
        "write-cni-conf-when-ready": "/host/etc/cni/net.d/05-cilium.conflist",
        "cni-exclusive": "true",
        "cni-log-file": "/var/run/cilium/cilium-cni.log",
        "enable-endpoint-health-checking": "false",
        "enable-health-checking": "false",
        "health-check-icmp-failure-threshold": "3",
        "enable-well-known-identities": "false",
        "enable-node-selector-labels": "false",
        "synchronize-k8s-nodes": "true",
        "operator-api-serve-addr": "127.0.0.1:9234",
        "enable-hubble": "true",
        "hubble-socket-path": "/var/run/cilium/hubble.sock",
        "hubble-metrics-server": ":9965",
        "hubble-metrics-server-enable-tls": "false",
        "enable-hubble-open-metrics": "true",
        "hubble-metrics": HUBBLE_METRICS,
        "hubble-listen-address": ":4244",
        "hubble-disable-tls": "false",
        "hubble-tls-cert-file": "/var/lib/cilium/tls/hubble/server.crt",
        "hubble-tls-key-file": "/var/lib/cilium/tls/hubble/server.key",
        "hubble-tls-client-ca-files": "/var/lib/cilium/tls/hubble/client-ca.crt",
        "ipam": "cluster-pool",
        "ipam-cilium-node-update-rate": "15s",
        "cluster-pool-ipv4-cidr": pod_cidr_pool,
        "cluster-pool-ipv4-mask-size": str(mask_size),
        "default-lb-service-ipam": "lbipam",
        "egress-gateway-reconciliation-trigger-interval": "1s",
        "enable-vtep": "false",
        "vtep-endpoint": "",
        "vtep-cidr": "",
        "vtep-mask": "",
        "vtep-mac": "",
        "procfs": "/host/proc",
        "bpf-root": "/sys/fs/bpf",
        "cgroup-root": "/run/cilium/cgroupv2",
        "enable-k8s-terminating-endpoint": "true",
        "enable-sctp": "false",
        "k8s-client-qps": "10",
        "k8s-client-burst": "20",
        "remove-cilium-node-taints": "true",
        "set-cilium-node-taints": "true",
        "set-cilium-is-up-condition": "true",
        "unmanaged-pod-watcher-interval": "15",
        "dnsproxy-enable-transparent-mode": "true",
        "dnsproxy-socket-linger-timeout": "10",
        "tofqdns-dns-reject-response-code": "refused",
        "tofqdns-enable-dns-compression": "true",
        "tofqdns-endpoint-max-ip-per-hostname": "1000",
        "tofqdns-idle-connection-grace-period": "0s",
        "tofqdns-max-deferred-connection-deletes": "10000",
        "tofqdns-proxy-response-max-delay": "100ms",
        "agent-not-ready-taint-key": "node.cilium.io/agent-not-ready",
        "mesh-auth-enabled": "true",
        "mesh-auth-queue-size": "1024",
        "mesh-auth-rotated-identities-queue-size": "1024",
        "mesh-auth-gc-interval": "5m0s",
        "proxy-xff-num-trusted-hops-ingress": "0",
        "proxy-xff-num-trusted-hops-egress": "0",
        "proxy-connect-timeout": "2",
        "proxy-initial-fetch-timeout": "30",
        "proxy-max-requests-per-connection": "0",
        "proxy-max-connection-duration-seconds": "0",
        "proxy-idle-timeout-seconds": "60",
        "proxy-max-concurrent-retries": "128",
        "http-retry-count": "3",
        "external-envoy-proxy": "true",
        "envoy-base-id": "0",
        "envoy-access-log-buffer-size": "4096",
        "envoy-keep-cap-netbindservice": "false",
        "max-connected-clusters": "255",
        "clustermesh-enable-endpoint-sync": "false",
        "clustermesh-enable-mcs-api": "false",
        "nat-map-stats-entries": "32",
        "nat-map-stats-interval": "30s",
        "enable-internal-traffic-policy": "true",
        "enable-lb-ipam": "true",
        "enable-non-default-deny-policies": "true",
        "enable-source-ip-verification": "true",
    }


def _http_options() -> dict:
    return {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "commonHttpProtocolOptions": {"idleTimeout": "60s", "maxConnectionDuration": "0s", "maxRequestsPerConnection": 0},
        "useDownstreamProtocolConfig": {}}}


def envoy_bootstrap_config() -> str:
    """`cilium-envoy-config` bootstrap-config.json (the chart's structure, compact)."""
    def orig_dst(name: str, tls: bool) -> dict:
        c = {"circuitBreakers": {"thresholds": [{"maxRetries": 128}]}, "cleanupInterval": "2.500s",
             "connectTimeout": "2s", "lbPolicy": "CLUSTER_PROVIDED", "name": name, "type": "ORIGINAL_DST",
             "typedExtensionProtocolOptions": _http_options()}
        if tls:
            c["transportSocket"] = {"name": "cilium.tls_wrapper",
                                    "typedConfig": {"@type": "type.googleapis.com/cilium.UpstreamTlsWrapperContext"}}
        return c

    def pipe_cluster(name: str, path: str) -> dict:
        return {"connectTimeout": "2s", "name": name, "type": "STATIC",
                "loadAssignment": {"clusterName": name, "endpoints": [{"lbEndpoints": [
                    {"endpoint": {"address": {"pipe": {"path": path}}}}]}]}}

    xds = pipe_cluster("xds-grpc-cilium", "/var/run/cilium/envoy/sockets/xds.sock")
    xds["typedExtensionProtocolOptions"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicitHttpConfig": {"http2ProtocolOptions": {}}}}
    api = {"apiConfigSource": {"apiType": "GRPC", "grpcServices": [{"envoyGrpc": {"clusterName": "xds-grpc-cilium"}}],
                               "setNodeOnFirstMessageOnly": True, "transportApiVersion": "V3"},
           "initialFetchTimeout": "30s", "resourceApiVersion": "V3"}

    def listener(name: str, addr: str, port: int, prefix: str, rewrite: str) -> dict:
        return {"name": name, "address": {"socketAddress": {"address": addr, "portValue": port}}, "filterChains": [{
            "filters": [{"name": "envoy.filters.network.http_connection_manager", "typedConfig": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "httpFilters": [{"name": "envoy.filters.http.router", "typedConfig": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
                "routeConfig": {"virtualHosts": [{"domains": ["*"], "name": name, "routes": [
                    {"match": {"prefix": prefix}, "name": name,
                     "route": {"cluster": "/envoy-admin", "prefixRewrite": rewrite}}]}]},
                "statPrefix": name, "streamIdleTimeout": "0s"}}]}]}

    doc = {
        "admin": {"address": {"pipe": {"path": "/var/run/cilium/envoy/sockets/admin.sock"}}},
        "applicationLogConfig": {"logFormat": {"textFormat": "[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v"}},
        "bootstrapExtensions": [{"name": "envoy.bootstrap.internal_listener", "typedConfig": {
            "@type": "type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener"}}],
        "dynamicResources": {"cdsConfig": api, "ldsConfig": api},
        "node": {"cluster": "ingress-cluster", "id": "host~127.0.0.1~no-id~localdomain"},
        "staticResources": {
            "clusters": [orig_dst("ingress-cluster", False), orig_dst("egress-cluster-tls", True),
                         orig_dst("egress-cluster", False), orig_dst("ingress-cluster-tls", True), xds,
                         pipe_cluster("/envoy-admin", "/var/run/cilium/envoy/sockets/admin.sock")],
            "listeners": [listener("envoy-prometheus-metrics-listener", "0.0.0.0", 9964, "/metrics", "/stats/prometheus"),
                          listener("envoy-health-listener", "127.0.0.1", 9878, "/healthz", "/ready")],
        },
    }
    return json.dumps(doc, separators=(",", ":"))


def hubble_relay_config(cluster_name: str) -> str:
    return (
        f"cluster-name: {cluster_name}\n"
        'peer-service: "hubble-peer.kube-system.svc.cluster.local.:443"\n'
        "listen-address: :4245\n"
        "gops: true\n"
        'gops-port: "9893"\n'
        "retry-timeout: \n"
        "sort-buffer-len-max: \n"
        "sort-buffer-drain-timeout: \n"
        "tls-hubble-client-cert-file: /var/lib/hubble-relay/tls/client.crt\n"
        "tls-hubble-client-key-file: /var/lib/hubble-relay/tls/client.key\n"
        "tls-hubble-server-ca-files: /var/lib/hubble-relay/tls/hubble-server-ca.crt\n"
        "\n"
        "disable-server-tls: true\n"
    )


COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""


def kubeadm_cluster_configuration(*, k8s_version: str, pod_subnet: str, service_subnet: str,
                                  control_plane_endpoint: str = "") -> str:
    cpe = f"controlPlaneEndpoint: {control_plane_endpoint}\n" if control_plane_endpoint else ""
    return (
        "apiServer: {}\n"
        "apiVersion: kubeadm.k8s.io/v1beta4\n"
        "caCertificateValidityPeriod: 87600h0m0s\n"
        "certificateValidityPeriod: 8760h0m0s\n"
        "certificatesDir: /etc/kubernetes/pki\n"
        "clusterName: kubernetes\n"
        f"{cpe}"
        "controllerManager: {}\n"
        "dns: {}\n"
        "encryptionAlgorithm: RSA-2048\n"
        "etcd:\n"
        "  local:\n"
        "    dataDir: /var/lib/etcd\n"
        "imageRepository: registry.k8s.io\n"
        "kind: ClusterConfiguration\n"
        f"kubernetesVersion: {k8s_version}\n"
        "networking:\n"
        "  dnsDomain: cluster.local\n"
        f"  podSubnet: {pod_subnet}\n"
        f"  serviceSubnet: {service_subnet}\n"
        "proxy: {}\n"
        "scheduler: {}\n"
    )


def kubelet_configuration(cluster_dns: str) -> str:
    return (
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "authentication:\n"
        "  anonymous:\n"
        "    enabled: false\n"
        "  webhook:\n"
        "    cacheTTL: 0s\n"
        "    enabled: true\n"
        "  x509:\n"
        "    clientCAFile: /etc/kubernetes/pki/ca.crt\n"
        "authorization:\n"
        "  mode: Webhook\n"
        "  webhook:\n"
        "    cacheAuthorizedTTL: 0s\n"
        "    cacheUnauthorizedTTL: 0s\n"
        "cgroupDriver: systemd\n"
        "clusterDNS:\n"
        f"- {cluster_dns}\n"
        "clusterDomain: cluster.local\n"
        'containerRuntimeEndpoint: ""\n'
        "cpuManagerReconcilePeriod: 0s\n"
        "crashLoopBackOff: {}\n"
        "evictionPressureTransitionPeriod: 0s\n"
        "fileCheckFrequency: 0s\n"
        "healthzBindAddress: 127.0.0.1\n"
        "healthzPort: 10248\n"
        "httpCheckFrequency: 0s\n"
        "imageMaximumGCAge: 0s\n"
        "imageMinimumGCAge: 0s\n"
        "kind: KubeletConfiguration\n"
        "logging:\n"
        "  flushFrequency: 0\n"
        "  options:\n"
        "    json:\n"
        '      infoBufferSize: "0"\n'
        "    text:\n"
        '      infoBufferSize: "0"\n'
        "  verbosity: 0\n"
        "memorySwap: {}\n"
        "nodeStatusReportFrequency: 0s\n"
        "nodeStatusUpdateFrequency: 0s\n"
        "rotateCertificates: true\n"
        "runtimeRequestTimeout: 0s\n"
        "shutdownGracePeriod: 0s\n"
        "shutdownGracePeriodCriticalPods: 0s\n"
        "staticPodPath: /etc/kubernetes/manifests\n"
        "streamingConnectionIdleTimeout: 0s\n"
        "syncFrequency: 0s\n"
        "volumeStatsAggPeriod: 0s\n"
    )
