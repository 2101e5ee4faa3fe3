"""The lab's Prometheus setup, built from the Kubernetes objects a real cluster would use.

Sources (all optional):

* the `prometheus` ConfigMap in `cilium-monitoring` (Cilium's `monitoring-example.yaml`):
  its `prometheus.yaml` is used as written — global settings, jobs, `relabel_configs` verbatim;
* every ServiceMonitor (`servicemonitor.py`: the jobs prometheus-operator would generate);
* every PrometheusRule (`rules.py`: one rule file each).

That gives the configuration a Prometheus *in the cluster* would run (`cluster_config`). A
real Prometheus on this host cannot run it: Kubernetes SD needs an API server at the pod's
service account, and the pod IPs it finds do not exist here. `build_prometheus` lowers it:

1. every `kubernetes_sd_configs` entry becomes a `file_sd_configs` file (`sd/*.json`) holding
   the targets and `__meta_kubernetes_*` labels Prometheus 2.42's Kubernetes SD would produce
   (`k8s_sd.py`), so the user's relabelings see exactly what they would see in the cluster;
2. `rule_files` (the user's globs) become the directory of PrometheusRule files, `<files_dir>/rules/*.yaml`;
3. the in-cluster service-account CA and token paths become the lab API server's;
4. rules appended to every job's `relabel_configs` make the result look like the
   cluster while Prometheus really connects to loopback:

       __address__ without a port gets the scheme's default port (as Prometheus 2.42 does
           after relabeling);
       instance    = __address__ unless a label already set it (the node role's node name
           stays, as in the cluster) - the real address, e.g. 192.168.10.101:9962;
       __address__ = the loopback address, one `replace` rule per known real address
           (`regex: 192\\.168\\.10\\.101:9962` → `127.0.0.1:19962`; Prometheus anchors
           relabel regexes, so the rule matches that exact address only).

   Why one rule per address rather than a per-target meta label: the user's relabelings
   decide the final address (the `prometheus.io/port` annotation rewrites the port,
   cadvisor's job replaces the whole address with `kubernetes.default.svc:443`), so the
   mapping has to apply to the *final* address, which a label attached at discovery cannot
   know. The lab asks `address_for(ip, port)` for every cluster IP (pods, nodes, endpoints,
   services) x every port the cluster mentions (container, service, endpoint and kubelet
   ports, `prometheus.io/port` annotations, ports written in the jobs' relabel replacements)
   and writes a rule for each mapped pair; the API server's in-cluster names
   (`kubernetes.default.svc:443`, the `kubernetes` Service and its endpoints) map to
   `api_address`. A final address without a mapping is left alone: the target is scraped
   at its cluster address and shows as down, honestly. The mapped pairs change only when
   a mapped endpoint appears or goes, so pod churn rewrites the SD files, not the config.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import k8s_sd
from .rules import RULES_DIR, rule_files
from .servicemonitor import ServiceMonitorError, servicemonitor_jobs

MONITORING_NAMESPACE = "cilium-monitoring"
CONFIGMAP_NAME = "prometheus"
CONFIGMAP_KEYS = ("prometheus.yaml", "prometheus.yml")
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
SA_CA_FILE = f"{SA_DIR}/ca.crt"
SA_TOKEN_FILE = f"{SA_DIR}/token"
API_NAMES = ("kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "kubernetes.default", "kubernetes")
SD_DIR = "sd"
OPERATOR_GLOBAL = {"scrape_interval": "30s", "evaluation_interval": "30s"}  # prometheus-operator's defaults

Objects = Callable[[str], list[dict]]
AddressFor = Callable[[str, int], "str | None"]


@dataclass
class PrometheusFiles:
    config: str  # prometheus.yml text
    files: dict[str, str]  # path relative to files_dir -> content (file_sd target JSON files, rule files)
    warnings: list[str] = field(default_factory=list)  # what was left out, and why
    files_dir: Path | None = None  # where `config` expects `files` (build_prometheus's files_dir)


def _cached(objects: Objects) -> Objects:
    cache: dict[str, list[dict]] = {}

    def get(kind: str) -> list[dict]:
        if kind not in cache:
            try:
                cache[kind] = list(objects(kind) or [])
            except (KeyError, LookupError, ValueError):
                cache[kind] = []  # a kind the store does not know: none of them
        return cache[kind]

    return get


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


# -- the configuration a Prometheus in the cluster would run --------------------------------------

def configmap_config(objects: Objects) -> tuple[dict | None, list[str]]:
    """The `prometheus.yaml` of the `prometheus` ConfigMap in cilium-monitoring (None if absent)."""
    for cm in objects("ConfigMap"):
        meta = _meta(cm)
        if meta.get("namespace") != MONITORING_NAMESPACE or meta.get("name") != CONFIGMAP_NAME:
            continue
        data = cm.get("data") or {}
        key = next((k for k in CONFIGMAP_KEYS if k in data), None)
        if key is None:
            return None, [f"ConfigMap {MONITORING_NAMESPACE}/{CONFIGMAP_NAME} has no prometheus.yaml key"]
        try:
            config = yaml.safe_load(data[key]) or {}
        except yaml.YAMLError as exc:
            return None, [f"ConfigMap {MONITORING_NAMESPACE}/{CONFIGMAP_NAME}: {key} is not YAML: {exc}"]
        if not isinstance(config, dict):
            return None, [f"ConfigMap {MONITORING_NAMESPACE}/{CONFIGMAP_NAME}: {key} is not a mapping"]
        return config, []
    return None, []


def cluster_config(objects: Objects) -> tuple[dict, list[str]]:
    """(configuration, warnings): the ConfigMap's configuration (or prometheus-operator's
    defaults) plus one job per ServiceMonitor endpoint, still with `kubernetes_sd_configs`."""
    objects = _cached(objects)
    config, warnings = configmap_config(objects)
    if config is None:
        config = {"global": dict(OPERATOR_GLOBAL)}
    else:
        config = copy.deepcopy(config)
    jobs = [j for j in config.get("scrape_configs") or [] if isinstance(j, dict)]
    names = set()
    kept = []
    for job in jobs:
        name = job.get("job_name")
        if not name or name in names:
            warnings.append(f"scrape job {name!r} left out: " + ("no job_name" if not name else "repeated job_name"))
            continue
        names.add(name)
        kept.append(job)
    global_timeout = _seconds(((config.get("global") or {}).get("scrape_timeout")) or "10s")
    for sm in sorted(objects("ServiceMonitor"), key=lambda o: (_meta(o).get("namespace") or "", _meta(o).get("name") or "")):
        try:
            sm_jobs = servicemonitor_jobs(sm)
        except ServiceMonitorError as exc:
            warnings.append(f"{exc} (ServiceMonitor left out)")
            continue
        for job in sm_jobs:
            if job["job_name"] in names:
                warnings.append(f"scrape job {job['job_name']!r} left out: repeated job_name")
                continue
            interval = _seconds(job.get("scrape_interval"))
            if interval is not None and "scrape_timeout" not in job and global_timeout and interval < global_timeout:
                job["scrape_timeout"] = job["scrape_interval"]  # Prometheus refuses timeout > interval
            names.add(job["job_name"])
            kept.append(job)
    config["scrape_configs"] = kept
    return config, warnings


_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


def _seconds(text) -> float | None:
    m = _DURATION.match(str(text or ""))
    if not text or m is None:
        return None
    y, w, d, h, mi, s, ms = (int(x or 0) for x in m.groups())
    return ((((y * 365 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) + ms / 1000


# -- loopback mapping -------------------------------------------------------------------------------

def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _port(value) -> int | None:
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def cluster_addresses(objects: Objects) -> tuple[set[str], set[int]]:
    """Every IP the cluster's objects mention and every port they mention."""
    ips: set[str] = set()
    ports: set[int] = set()

    def add_port(value) -> None:
        port = _port(value)
        if port is not None:
            ports.add(port)

    def annotations(obj: dict) -> None:
        for key, value in (_meta(obj).get("annotations") or {}).items():
            if key.endswith("/port") or key.endswith("_port"):
                add_port(value)

    for pod in objects("Pod"):
        status = pod.get("status") or {}
        ips.update(ip for ip in [status.get("podIP"), status.get("hostIP"),
                                 *((x or {}).get("ip") for x in status.get("podIPs") or [])] if ip)
        spec = pod.get("spec") or {}
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            for p in c.get("ports") or []:
                add_port(p.get("containerPort"))
                add_port(p.get("hostPort"))
        annotations(pod)
    for node in objects("Node"):
        status = node.get("status") or {}
        ips.update(a.get("address") for a in status.get("addresses") or []
                   if a.get("type") in ("InternalIP", "ExternalIP") and a.get("address"))
        add_port(((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port"))
    for svc in objects("Service"):
        spec = svc.get("spec") or {}
        ips.update(ip for ip in [spec.get("clusterIP"), *(spec.get("clusterIPs") or []), *(spec.get("externalIPs") or [])]
                   if ip and ip != "None")
        for p in spec.get("ports") or []:
            add_port(p.get("port"))
            add_port(p.get("targetPort"))
            add_port(p.get("nodePort"))
        annotations(svc)
    for eps in objects("Endpoints"):
        for subset in eps.get("subsets") or []:
            for addr in (subset.get("addresses") or []) + (subset.get("notReadyAddresses") or []):
                if addr.get("ip"):
                    ips.add(addr["ip"])
            for p in subset.get("ports") or []:
                add_port(p.get("port"))
    return ips, ports


def _replacement_ports(config: dict) -> set[int]:
    """Ports written literally in relabel replacements (`replacement: $1:9537`)."""
    ports: set[int] = set()
    for job in _all_jobs(config):
        for rc in job.get("relabel_configs") or []:
            for m in re.finditer(r":(\d{1,5})(?!\d)", str(rc.get("replacement", ""))):
                port = _port(m.group(1))
                if port is not None:
                    ports.add(port)
    return ports


def address_map(objects: Objects, config: dict, address_for: AddressFor, api_address: str) -> dict[str, str]:
    """Real address (`ip:port`, `kubernetes.default.svc:443`) -> loopback address."""
    objects = _cached(objects)
    ips, ports = cluster_addresses(objects)
    ports |= _replacement_ports(config)
    mapping: dict[str, str] = {}
    for ip in sorted(ips):
        if ip.startswith("127."):
            continue
        for port in sorted(ports):
            loop = address_for(ip, port)
            if loop and loop != _join(ip, port):
                mapping[_join(ip, port)] = loop
    api: list[str] = [f"{name}:443" for name in API_NAMES]
    for svc in objects("Service"):
        if _meta(svc).get("namespace") == "default" and _meta(svc).get("name") == "kubernetes":
            cip = (svc.get("spec") or {}).get("clusterIP")
            if cip and cip != "None":
                api += [_join(cip, _port(p.get("port")) or 443) for p in (svc.get("spec") or {}).get("ports") or []]
    for eps in objects("Endpoints"):
        if _meta(eps).get("namespace") == "default" and _meta(eps).get("name") == "kubernetes":
            for subset in eps.get("subsets") or []:
                for addr in subset.get("addresses") or []:
                    api += [_join(addr["ip"], _port(p.get("port")) or 6443) for p in subset.get("ports") or []
                            if addr.get("ip")]
    for real in api:
        mapping.setdefault(real, api_address)
    return mapping


def lab_relabelings(mapping: dict[str, str]) -> list[dict]:
    """What the lab appends to every job's relabel_configs (see the module docstring)."""
    rules: list[dict] = [
        {"source_labels": ["__scheme__", "__address__"], "regex": "http;([^:]+)",
         "target_label": "__address__", "replacement": "${1}:80"},
        {"source_labels": ["__scheme__", "__address__"], "regex": "https;([^:]+)",
         "target_label": "__address__", "replacement": "${1}:443"},
        {"source_labels": ["instance", "__address__"], "regex": ";(.+)",
         "target_label": "instance", "replacement": "${1}"},
    ]
    for real, loop in sorted(mapping.items()):
        rules.append({"source_labels": ["__address__"], "regex": re.escape(real),
                      "target_label": "__address__", "replacement": loop.replace("$", "$$")})
    return rules


# -- lowering ----------------------------------------------------------------------------------------

def _all_jobs(config: dict) -> list[dict]:
    jobs = [j for j in config.get("scrape_configs") or [] if isinstance(j, dict)]
    for am in ((config.get("alerting") or {}).get("alertmanagers") or []):
        if isinstance(am, dict):
            jobs.append(am)
    return jobs


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "job"


def _lab_credentials(job: dict, api_ca_file: str, api_token_file: str) -> None:
    tls = job.get("tls_config")
    if isinstance(tls, dict) and tls.get("ca_file") == SA_CA_FILE:
        tls["ca_file"] = api_ca_file
    if job.get("bearer_token_file") == SA_TOKEN_FILE:
        job["bearer_token_file"] = api_token_file
    auth = job.get("authorization")
    if isinstance(auth, dict) and auth.get("credentials_file") == SA_TOKEN_FILE:
        auth["credentials_file"] = api_token_file


def _lower_job(job: dict, prefix: str, objects: Objects, files_dir: Path, files: dict[str, str],
               relabel_tail: list[dict], own_namespace: str | None, warnings: list[str],
               api_ca_file: str, api_token_file: str) -> None:
    sds = job.pop("kubernetes_sd_configs", None) or []
    if sds:
        file_sd = job.setdefault("file_sd_configs", [])
        for k, sd in enumerate(sds):
            rel = f"{SD_DIR}/{prefix}-{k}.json"
            try:
                targets = k8s_sd.discover(sd or {}, objects, own_namespace=own_namespace)
            except ValueError as exc:
                warnings.append(f"{job.get('job_name', prefix)}: {exc}; it discovers nothing")
                targets = []
            files[rel] = json.dumps(k8s_sd.file_sd_groups(targets), indent=1, sort_keys=True) + "\n"
            file_sd.append({"files": [str(files_dir / rel)]})
    _lab_credentials(job, api_ca_file, api_token_file)
    job["relabel_configs"] = list(job.get("relabel_configs") or []) + copy.deepcopy(relabel_tail)


def build_prometheus(objects: Objects, *, files_dir: Path, address_for: AddressFor, api_ca_file: str,
                     api_token_file: str, api_address: str) -> PrometheusFiles:
    """The whole Prometheus setup for the lab: prometheus.yml text and the files it refers to
    (relative to `files_dir`, which the config names by absolute path)."""
    files_dir = Path(files_dir).absolute()
    objects = _cached(objects)
    config, warnings = cluster_config(objects)
    own_namespace = MONITORING_NAMESPACE
    mapping = address_map(objects, config, address_for, api_address)
    tail = lab_relabelings(mapping)

    files: dict[str, str] = {}
    prom_rules, rule_warnings = rule_files(objects("PrometheusRule"))
    warnings += rule_warnings
    files.update(prom_rules)

    for j, job in enumerate(config.get("scrape_configs") or []):
        _lower_job(job, f"{j:02d}-{_slug(str(job.get('job_name')))}", objects, files_dir, files, tail,
                   own_namespace, warnings, api_ca_file, api_token_file)
    for a, am in enumerate((config.get("alerting") or {}).get("alertmanagers") or []):
        if isinstance(am, dict):
            _lower_job(am, f"alertmanagers-{a:02d}", objects, files_dir, files, tail, own_namespace, warnings,
                       api_ca_file, api_token_file)

    if config.get("rule_files") or prom_rules:
        config["rule_files"] = [str(files_dir / RULES_DIR / "*.yaml")]
    else:
        config.pop("rule_files", None)
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=1000)
    return PrometheusFiles(config=text, files=files, warnings=warnings, files_dir=files_dir)
