"""`cilium-dbg status [--brief|--verbose|-o json]`: the agent's health summary (spec e.2)."""

from __future__ import annotations

from datetime import UTC, datetime

from .common import Dbg, endpoints, go_json
from .tabwriter import TabWriter

K8S_APIS = ('["EndpointSliceOrEndpoint", "cilium/v2::CiliumClusterwideNetworkPolicy", "cilium/v2::CiliumEndpoint", '
            '"cilium/v2::CiliumNetworkPolicy", "cilium/v2::CiliumNode", "cilium/v2alpha1::CiliumCIDRGroup", '
            '"core/v1::Namespace", "core/v1::Pods", "core/v1::Service", "networking.k8s.io/v1::NetworkPolicy"]')
CONTROLLERS = 38


def _config(dbg: Dbg) -> dict:
    cm = dbg.lab.store.get("ConfigMap", "kube-system", "cilium-config") or {}
    return cm.get("data") or {}


def run(dbg: Dbg, args: list[str]) -> int:
    if "--brief" in args:
        dbg.write("OK\n")
        return 0
    verbose = "--verbose" in args or "-v" in args
    lab, agent = dbg.lab, dbg.agent
    cfg = _config(dbg)
    version = lab.cluster_config.cilium_version
    k8s = lab.cluster_config.k8s_version
    eps = endpoints(dbg)
    used = agent.ipam.used()
    observer = lab.hubble.observers.get(dbg.node)
    seen = min(getattr(observer, "seen", 0), getattr(observer, "capacity", 4095))
    cap = getattr(observer, "capacity", 4095)
    pct = 100.0 * seen / cap if cap else 0.0
    outputs = lab.hubble.outputs.get(dbg.node)
    hubble_metrics = "Ok" if outputs is not None and outputs.metrics is not None else "Disabled"
    reachable = len(lab.nodes)
    tunnel = cfg.get("tunnel-protocol", "vxlan")
    routing = (f"Network: Tunnel [{tunnel}]   Host: Legacy" if cfg.get("routing-mode", "tunnel") == "tunnel"
               else "Network: Native   Host: Legacy")
    kpr = "True" if cfg.get("kube-proxy-replacement", "true") == "true" else "False"
    host_ip = agent.host.ip
    fields = [
        ("KVStore", "Disabled"),
        ("Kubernetes", f"Ok   {k8s.lstrip('v').rsplit('.', 1)[0]} ({k8s}) [linux/amd64]"),
        ("Kubernetes APIs", K8S_APIS),
        ("KubeProxyReplacement", f"{kpr}   [eth1   {host_ip} (Direct Routing), eth0   {agent.host.ips[-1]}]"),
        ("Host firewall", "Disabled"),
        ("SRv6", "Disabled"),
        ("CNI Chaining", "none"),
        ("CNI Config file", "successfully wrote CNI configuration file to /host/etc/cni/net.d/05-cilium.conflist"),
        ("Cilium", f"Ok   {version} (v{version}-{_commit(version)})"),
        ("NodeMonitor", "Listening for events on 2 CPUs with 64x4096 of shared memory"),
        ("Cilium health daemon", "Ok"),
        ("IPAM", f"IPv4: {len(used)}/254 allocated from {agent.pod_cidr}, "),
    ]
    if verbose:
        fields.append(("Allocated addresses", ""))
    w = TabWriter(dbg.out)
    for label, value in fields:
        w.write(f"{label}:\t{value}\n")
    if verbose:
        for ip, owner in sorted(used.items(), key=lambda t: tuple(int(x) for x in t[0].split("."))):
            w.write(f"  {ip} ({_owner(owner)})\n")
    more = [
        ("IPv4 BIG TCP", "Disabled"),
        ("IPv6 BIG TCP", "Disabled"),
        ("BandwidthManager", "Disabled"),
        ("Routing", routing),
        ("Attach Mode", "TCX"),
        ("Device Mode", "veth"),
        ("Masquerading", "IPTables [IPv4: Enabled, IPv6: Disabled]"),
        ("Controller Status", f"{CONTROLLERS + len(eps)}/{CONTROLLERS + len(eps)} healthy"),
    ]
    for label, value in more:
        w.write(f"{label}:\t{value}\n")
    if verbose:
        w.write("  Name\tLast success\tLast error\tCount\tMessage\n")
        for ep in eps:
            w.write(f"  resolve-identity-{ep.id}\t{_ago(dbg, ep.created)}\tnever\t0\tno error\n")
    redirects = sum(1 for ep in eps if ep.ingress or ep.egress) if verbose else 0
    proxy_port = getattr(lab.fabric.http_proxy, "port", 0)
    w.write(f"Proxy Status:\tOK, ip {agent.router_ip}, {redirects} redirects active on ports 10000-20000, "
            "Envoy: external\n")
    if verbose:
        w.write("  Protocol\tRedirect\tProxy Port\n")
        if proxy_port:
            w.write(f"  http\tingress\t{proxy_port}\n")
    w.write("Global Identity Range:\tmin 256, max 65535\n")
    w.write(f"Hubble:\tOk   Current/Max Flows: {seen}/{cap} ({pct:.2f}%), Flows/s: 0.00   Metrics: {hubble_metrics}\n")
    if verbose:
        w.write("KubeProxyReplacement Details:\n")
        for label, value in (("Status", kpr), ("Socket LB", "Enabled"), ("Socket LB Tracing", "Enabled"),
                             ("Socket LB Coverage", "Full"), ("Devices", f"eth0   {agent.host.ips[-1]}, "
                                                                          f"eth1   {host_ip} (Direct Routing)"),
                             ("Mode", "SNAT"), ("Backend Selection", "Random"), ("Session Affinity", "Enabled"),
                             ("Graceful Termination", "Enabled"), ("NAT46/64 Support", "Disabled"),
                             ("XDP Acceleration", "Disabled")):
            w.write(f"  {label}:\t{value}\n")
        w.write("  Services:\n")
        for line in ("- ClusterIP:      Enabled", "- NodePort:       Enabled (Range: 30000-32767) ",
                     "- LoadBalancer:   Enabled ", "- externalIPs:    Enabled ", "- HostPort:       Enabled"):
            w.write(f"  {line}\n")
        w.write("BPF Maps:\tdynamic sizing: on (ratio: 0.002500)\n")
        w.write("  Name\tSize\n")
        for name, size in (("Auth", 524288), ("Non-TCP connection tracking", 65536), ("TCP connection tracking", 131072),
                           ("Endpoint policy", 65535), ("IP cache", 512000), ("IPv4 masquerading agent", 16384),
                           ("IPv4 fragmentation", 8192), ("IPv4 service", 65536), ("IPv4 service backend", 65536),
                           ("IPv4 service reverse NAT", 65536), ("Metrics", 1024), ("Ratelimit metrics", 64),
                           ("NAT", 131072), ("Neighbor table", 131072), ("Global policy", 16384),
                           ("Session affinity", 65536), ("Sock reverse NAT", 65536)):
            w.write(f"  {name}\t{size}\n")
    w.write("Encryption:\tDisabled\n")
    w.write(f"Cluster health:\t{reachable}/{reachable} reachable   ({_now(dbg)})\n")
    if verbose:
        w.write("  Name\tIP\tNode\tEndpoints\n")
        for name, other in sorted(lab.cilium.nodes.items(), key=lambda t: (t[0] != dbg.node, t[0])):
            label = f"{lab.cluster_config.cluster_name}/{name}" + (" (localhost)" if name == dbg.node else "")
            w.write(f"  {label}\t{other.host.ip}\treachable\treachable\n")
    w.write("Modules Health:\tStopped(0) Degraded(0) OK(63)\n")
    w.flush()
    if verbose:
        dbg.write("Clock Source for BPF:   ktime\n")
    return 0


def status_json(dbg: Dbg) -> str:
    return go_json({"cilium": {"state": "Ok", "msg": ""}, "kvstore": {"state": "Disabled"}})


def _owner(owner: str) -> str:
    if owner in ("router", "health"):
        return owner
    parts = owner.split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else owner


def _ago(dbg: Dbg, when: float) -> str:
    seconds = max(0, int(dbg.lab.clock.now() - when)) if when else 0
    return f"{seconds}s ago"


def _now(dbg: Dbg) -> str:
    return datetime.fromtimestamp(dbg.lab.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _commit(version: str) -> str:
    import hashlib

    return hashlib.sha1(f"cilium/{version}".encode()).hexdigest()[:10]
