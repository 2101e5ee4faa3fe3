"""`ciliumlab cilium …`: cilium-cli's role, a client of the served lab's Kubernetes API.

`status [--wait]`, `config view|set|delete`, `hubble enable [--ui]|disable|port-forward` and
`upgrade [--reuse-values] [--set k=v] [-f values.yaml]` (Helm values mapped onto cilium-config
as the 1.17 chart renders them). Output follows cilium-cli's wording.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import sys
import time
from pathlib import Path

import click
import yaml

from ..tabwriter import TabWriter
from . import helmvalues
from .kubeclient import KubeClient, KubeError, kubeconfig_path

CONFIG_MAP = "cilium-config"
CILIUM_POD_SELECTOR = "k8s-app=cilium"
NS_OPTION = click.option("-n", "--namespace", default="kube-system", show_default=True,
                         help="Namespace Cilium is running in")
KUBECONFIG_OPTION = click.option("--kubeconfig", "kubeconfig", default=None, help="Path to the kubeconfig file")

# (kind, name, pod selector) of the components `cilium status` looks at
DAEMONSETS = (("cilium", "k8s-app=cilium"), ("cilium-envoy", "k8s-app=cilium-envoy"))
DEPLOYMENTS = (("cilium-operator", "io.cilium/app=operator"), ("clustermesh-apiserver", "k8s-app=clustermesh-apiserver"),
               ("hubble-relay", "k8s-app=hubble-relay"), ("hubble-ui", "k8s-app=hubble-ui"))


def _client(kubeconfig: str | None) -> KubeClient:
    try:
        return KubeClient(kubeconfig)
    except KubeError as exc:
        raise click.ClickException(str(exc)) from None


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@click.group("cilium")
def cilium() -> None:
    """Cilium CLI (cilium-cli) against the served lab."""


# -- status ----------------------------------------------------------------------------------------
def _pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def collect_status(kc: KubeClient, namespace: str) -> dict:
    """What cilium-cli's status collector gathers, as plain data."""
    state: dict[str, dict] = {}
    present: dict[str, bool] = {}
    for name, _sel in DAEMONSETS:
        ds = kc.get_or_none("apps/v1", "daemonsets", namespace, name)
        present[name] = ds is not None
        if ds is not None:
            st = ds.get("status") or {}
            state[name] = {"type": "DaemonSet", "desired": st.get("desiredNumberScheduled", 0),
                           "ready": st.get("numberReady", 0), "available": st.get("numberAvailable", 0),
                           "unavailable": st.get("numberUnavailable", 0),
                           "updated": st.get("updatedNumberScheduled", 0)}
    for name, _sel in DEPLOYMENTS:
        dep = kc.get_or_none("apps/v1", "deployments", namespace, name)
        present[name] = dep is not None
        if dep is not None:
            st = dep.get("status") or {}
            state[name] = {"type": "Deployment", "desired": (dep.get("spec") or {}).get("replicas", 1),
                           "ready": st.get("readyReplicas", 0), "available": st.get("availableReplicas", 0),
                           "unavailable": st.get("unavailableReplicas", 0),
                           "updated": st.get("updatedReplicas", 0)}
    phases: dict[str, dict[str, int]] = {}
    images: dict[str, dict[str, int]] = {}
    for name, sel in DAEMONSETS + DEPLOYMENTS:
        phases[name] = {}
        if not present[name]:
            continue
        for pod in kc.list("v1", "pods", namespace, sel):
            if (pod["metadata"].get("deletionTimestamp")):
                continue
            phase = (pod.get("status") or {}).get("phase") or "Unknown"
            phases[name][phase] = phases[name].get(phase, 0) + 1
            for c in (pod.get("spec") or {}).get("containers") or []:
                images.setdefault(name, {})
                images[name][c["image"]] = images[name].get(c["image"], 0) + 1
    ceps = {(c["metadata"]["namespace"], c["metadata"]["name"])
            for c in kc.list("cilium.io/v2", "ciliumendpoints")}
    all_pods = by_cilium = 0
    for pod in kc.list("v1", "pods"):
        if (pod.get("spec") or {}).get("hostNetwork"):
            continue
        all_pods += 1
        if (pod["metadata"]["namespace"], pod["metadata"]["name"]) in ceps:
            by_cilium += 1
    version = ""
    for image in images.get("cilium", {}):
        m = re.search(r":v?(\d+\.\d+\.\d+)", image)
        if m:
            version = m.group(1)
    return {"state": state, "present": present, "phases": phases, "images": images,
            "pods": {"all": all_pods, "byCilium": by_cilium}, "chartVersion": version}


def _summary(st: dict, name: str) -> str:
    if not st["present"].get(name):
        return "disabled"
    s = st["state"][name]
    problems = []
    not_ready = s["desired"] - s["ready"]
    if s["unavailable"] or not_ready > 0:
        problems.append(f"{max(s['unavailable'], not_ready)} errors")
    if s["updated"] < s["desired"]:
        problems.append(f"{s['desired'] - s['updated']} warnings")
    return ", ".join(problems) or "OK"


def _healthy(st: dict) -> bool:
    return all(_summary(st, n) in ("OK", "disabled") for n in ("cilium", "cilium-operator", "cilium-envoy",
                                                                "hubble-relay"))


def _format_state(s: dict) -> str:
    items = []
    if s["desired"] > 0:
        items.append(f"Desired: {s['desired']}")
    if s["ready"] > 0:
        items.append(f"Ready: {s['ready']}/{s['desired']}")
    if s["available"] > 0:
        items.append(f"Available: {s['available']}/{s['desired']}")
    if s["unavailable"] > 0:
        items.append(f"Unavailable: {s['unavailable']}/{s['desired']}")
    return ", ".join(items)


def format_status(st: dict) -> str:
    """cilium-cli's summary (status.Format, v0.16+ layout, without colours)."""
    w = TabWriter(minwidth=0, padding=4)
    w.write("    /¯¯\\\n")
    w.write(f" /¯¯\\__/¯¯\\\tCilium:\t{_summary(st, 'cilium')}\n")
    w.write(f" \\__/¯¯\\__/\tOperator:\t{_summary(st, 'cilium-operator')}\n")
    w.write(f" /¯¯\\__/¯¯\\\tEnvoy DaemonSet:\t{_summary(st, 'cilium-envoy')}\n")
    w.write(f" \\__/¯¯\\__/\tHubble Relay:\t{_summary(st, 'hubble-relay')}\n")
    w.write(f"    \\__/\tClusterMesh:\t{_summary(st, 'clustermesh-apiserver')}\n")
    w.write("\n")
    for name in sorted(st["state"]):
        s = st["state"][name]
        w.write(f"{s['type']}\t{name}\t{_format_state(s)}\n")
    header = "Containers:"
    for name in sorted(st["phases"]):
        counts = ", ".join(f"{phase}: {n}" for phase, n in sorted(st["phases"][name].items()))
        w.write(f"{header}\t{name}\t{counts}\n")
        header = ""
    w.write(f"Cluster Pods:\t{st['pods']['byCilium']}/{st['pods']['all']} managed by Cilium\n")
    w.write(f"Helm chart version:\t{st['chartVersion']}\n")
    header = "Image versions"
    for name in sorted(st["images"]):
        for image, n in sorted(st["images"][name].items()):
            w.write(f"{header}\t{name}\t{image}: {n}\n")
            header = ""
    return w.flush()


@cilium.command("status")
@NS_OPTION
@KUBECONFIG_OPTION
@click.option("--wait", is_flag=True, help="Wait for status to report success (no errors and warnings)")
@click.option("--wait-duration", default="5m", show_default=True, help="Maximum time to wait for status")
@click.option("-o", "--output", type=click.Choice(["summary", "json"]), default="summary", show_default=True)
def status_cmd(namespace: str, kubeconfig: str | None, wait: bool, wait_duration: str, output: str) -> None:
    """Display status"""
    kc = _client(kubeconfig)
    deadline = time.monotonic() + _duration(wait_duration)
    while True:
        try:
            st = collect_status(kc, namespace)
        except KubeError as exc:
            _fail(f"Error: Unable to determine status: {exc}")
        if not wait or _healthy(st) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if output == "json":
        click.echo(json.dumps(st, indent=2))
    else:
        click.echo(format_status(st), nl=False)
    if wait and not _healthy(st):
        _fail("Error: Unable to determine status:  timeout while waiting for status to become successful: "
              "context deadline exceeded")


def _duration(text: str) -> float:
    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total or 300.0


# -- config ----------------------------------------------------------------------------------------
@cilium.group("config")
def config() -> None:
    """Manage Configuration"""


@config.command("view")
@NS_OPTION
@KUBECONFIG_OPTION
def config_view(namespace: str, kubeconfig: str | None) -> None:
    """View current configuration"""
    kc = _client(kubeconfig)
    try:
        cm = kc.get("v1", "configmaps", namespace, CONFIG_MAP)
    except KubeError as exc:
        _fail(f'Error: Unable to view configuration: unable get ConfigMap "{CONFIG_MAP}": {exc}')
    w = TabWriter(minwidth=0, padding=4)
    data = cm.get("data") or {}
    for key in sorted(data):
        w.write(f"{key}\t{data[key]}\n")
    click.echo(w.flush(), nl=False)


def _restart_pods(kc: KubeClient, namespace: str, restart: bool) -> None:
    if not restart:
        click.echo("⚠️  Restart Cilium pods for configmap changes to take effect")
        return
    try:
        for pod in kc.list("v1", "pods", namespace, CILIUM_POD_SELECTOR):
            with contextlib.suppress(KubeError):
                kc.delete("v1", "pods", namespace, pod["metadata"]["name"])
    except KubeError as exc:
        _fail(f"Error: ⚠️  unable to restart Cilium pods: {exc}")
    click.echo("♻️  Restarted Cilium pods")


@config.command("set")
@click.argument("key")
@click.argument("value")
@click.option("-r", "--restart", type=bool, default=True, show_default=True,
              help="Restart Cilium pods")
@NS_OPTION
@KUBECONFIG_OPTION
def config_set(key: str, value: str, restart: bool, namespace: str, kubeconfig: str | None) -> None:
    """Set a single key in the configuration"""
    kc = _client(kubeconfig)
    click.echo(f"✨ Patching ConfigMap {CONFIG_MAP} with {key}={value}...")
    patch = {"data": {key: value}}
    try:
        kc.patch("v1", "configmaps", namespace, CONFIG_MAP, patch, "strategic")
    except KubeError as exc:
        _fail(f"Error: Unable to set config:: unable to patch ConfigMap {CONFIG_MAP} with patch "
              f"{json.dumps(patch, separators=(',', ':'))!r}: {exc}")
    _restart_pods(kc, namespace, restart)


@config.command("delete")
@click.argument("key")
@click.option("-r", "--restart", type=bool, default=True, show_default=True, help="Restart Cilium pods")
@NS_OPTION
@KUBECONFIG_OPTION
def config_delete(key: str, restart: bool, namespace: str, kubeconfig: str | None) -> None:
    """Delete a key in the configuration"""
    kc = _client(kubeconfig)
    click.echo(f"✨ Removing key {key} from ConfigMap {CONFIG_MAP}...")
    try:
        kc.patch("v1", "configmaps", namespace, CONFIG_MAP, [{"op": "remove", "path": f"/data/{key}"}], "json")
    except KubeError as exc:
        _fail(f"Error: Unable to delete config: {exc}")
    _restart_pods(kc, namespace, restart)


# -- upgrade (Helm values) -------------------------------------------------------------------------
def _load_values(files: tuple[str, ...], sets: tuple[str, ...]) -> dict:
    values: dict = {}
    for f in files:
        try:
            loaded = yaml.safe_load(Path(f).read_text()) or {}
        except OSError as exc:
            _fail(f"Error: Unable to upgrade Cilium: open {f}: {exc.strerror.lower()}")
        values = helmvalues.merge(values, loaded)
    for s in sets:
        try:
            values = helmvalues.merge(values, helmvalues.parse_set(s))
        except ValueError as exc:
            _fail(f"Error: Unable to upgrade Cilium: failed parsing --set data: {exc}")
    return values


def apply_values(kc: KubeClient, namespace: str, values: dict) -> None:
    """Write what the chart renders for `values`: cilium-config keys, Hubble Relay / UI objects."""
    from ..k8s import bootstrap

    put, drop = helmvalues.config_changes(values)
    cm = kc.get("v1", "configmaps", namespace, CONFIG_MAP)
    data = dict(cm.get("data") or {})
    new = {**{k: v for k, v in data.items() if k not in drop}, **put}
    if new != data:
        ops = [{"op": "remove", "path": f"/data/{k}"} for k in sorted(drop) if k in data]
        ops += [{"op": "add", "path": f"/data/{k.replace('~', '~0').replace('/', '~1')}", "value": v}
                for k, v in put.items() if data.get(k) != v]
        kc.patch("v1", "configmaps", namespace, CONFIG_MAP, ops, "json")
    flowlogs = helmvalues.flowlogs_config(values)
    if flowlogs is not None:
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cilium-flowlog-config", "namespace": namespace},
                "data": {"flowlogs.yaml": flowlogs}}
        if kc.get_or_none("v1", "configmaps", namespace, "cilium-flowlog-config") is None:
            kc.create("v1", "configmaps", namespace, body)
        else:
            kc.patch("v1", "configmaps", namespace, "cilium-flowlog-config", body, "merge")
    hubble = values.get("hubble") if isinstance(values.get("hubble"), dict) else {}
    version = _cilium_version(kc, namespace)
    hubble_off = "enabled" in hubble and not _truthy(hubble["enabled"])
    relay = hubble.get("relay") if isinstance(hubble.get("relay"), dict) else {}
    ui = hubble.get("ui") if isinstance(hubble.get("ui"), dict) else {}
    if _truthy(hubble.get("enabled")):
        _ensure_hubble_secrets(kc, namespace)
    if hubble_off or ("enabled" in relay and not _truthy(relay["enabled"])):
        _remove(kc, namespace, "hubble-relay")
    elif _truthy(relay.get("enabled")):
        _ensure(kc, namespace, bootstrap.relay_deployment(version), _relay_service())
    if hubble_off or ("enabled" in ui and not _truthy(ui["enabled"])):
        _remove(kc, namespace, "hubble-ui")
    elif _truthy(ui.get("enabled")) or ui.get("service"):
        service = _ui_service(ui.get("service") or {})
        if _truthy(ui.get("enabled")):
            _ensure(kc, namespace, bootstrap.ui_deployment(), service)
        elif kc.get_or_none("v1", "services", namespace, "hubble-ui") is not None:
            _ensure(kc, namespace, None, service)


def _ensure_hubble_secrets(kc: KubeClient, namespace: str) -> None:
    """certgen's Hubble TLS Secrets (cilium-ca, hubble-server-certs, hubble-relay-client-certs), if missing."""
    from ..k8s import hubble_tls

    cm = kc.get("v1", "configmaps", namespace, CONFIG_MAP)
    cluster = (cm.get("data") or {}).get("cluster-name", "default")
    ca_secret = kc.get_or_none("v1", "secrets", namespace, "cilium-ca")
    ca_data = (ca_secret or {}).get("data") or {}
    ca = None
    if "ca.crt" in ca_data and "ca.key" in ca_data:  # sign with the kept CA, as certgen does
        ca = (base64.b64decode(ca_data["ca.crt"]), base64.b64decode(ca_data["ca.key"]))
    for secret in hubble_tls.secrets(cluster, namespace, ca):
        if kc.get_or_none("v1", "secrets", namespace, secret["metadata"]["name"]) is None:
            kc.create("v1", "secrets", namespace, secret)


def _truthy(v) -> bool:
    return v is True or str(v).lower() == "true"


def _cilium_version(kc: KubeClient, namespace: str) -> str:
    ds = kc.get_or_none("apps/v1", "daemonsets", namespace, "cilium") or {}
    for c in ((ds.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
        m = re.search(r":v(\d+\.\d+\.\d+)", c.get("image", ""))
        if m:
            return m.group(1)
    return "1.17.6"


_PART_OF = {"app.kubernetes.io/part-of": "cilium"}


def _relay_service() -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "hubble-relay", "namespace": "kube-system",
                         "labels": {"k8s-app": "hubble-relay", "app.kubernetes.io/name": "hubble-relay", **_PART_OF}},
            "spec": {"type": "ClusterIP", "selector": {"k8s-app": "hubble-relay"},
                     "ports": [{"port": 80, "protocol": "TCP", "targetPort": 4245}]}}


def _ui_service(service: dict) -> dict:
    svc_type = service.get("type") or "ClusterIP"
    port: dict = {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8081}
    if svc_type == "NodePort" and service.get("nodePort"):
        port["nodePort"] = int(service["nodePort"])
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "hubble-ui", "namespace": "kube-system",
                         "labels": {"k8s-app": "hubble-ui", "app.kubernetes.io/name": "hubble-ui", **_PART_OF}},
            "spec": {"type": svc_type, "selector": {"k8s-app": "hubble-ui"}, "ports": [port]}}


def _ensure(kc: KubeClient, namespace: str, deployment: dict | None, service: dict) -> None:
    if deployment is not None and kc.get_or_none("apps/v1", "deployments", namespace,
                                                 deployment["metadata"]["name"]) is None:
        deployment["metadata"]["namespace"] = namespace
        kc.create("apps/v1", "deployments", namespace, deployment)
    name = service["metadata"]["name"]
    service["metadata"]["namespace"] = namespace
    existing = kc.get_or_none("v1", "services", namespace, name)
    if existing is None:
        kc.create("v1", "services", namespace, service)
        return
    spec = existing.get("spec") or {}
    want = service["spec"]
    ports = spec.get("ports") or []
    want_port = want["ports"][0]
    same_port = ports and all(ports[0].get(k) == v for k, v in want_port.items())
    if spec.get("type") != want["type"] or not same_port:
        patch: dict = {"spec": {"type": want["type"], "ports": [{**(ports[0] if ports else {}), **want_port}]}}
        if want["type"] == "ClusterIP":
            patch["spec"]["ports"][0].pop("nodePort", None)
        kc.patch("v1", "services", namespace, name, patch, "merge")


def _remove(kc: KubeClient, namespace: str, name: str) -> None:
    for api, plural in (("apps/v1", "deployments"), ("v1", "services")):
        with contextlib.suppress(KubeError):
            kc.delete(api, plural, namespace, name)


@cilium.command("upgrade")
@click.option("--reuse-values", is_flag=True, help="Reuse the last release's values and merge in overrides")
@click.option("--set", "sets", multiple=True, help="Set helm values on the command line")
@click.option("-f", "--values", "files", multiple=True, help="Specify helm values in a YAML file")
@click.option("--version", "chart_version", default=None, help="Cilium version to upgrade to")
@click.option("--wait", is_flag=True, help="Wait for the upgrade to complete")
@NS_OPTION
@KUBECONFIG_OPTION
def upgrade(reuse_values: bool, sets: tuple[str, ...], files: tuple[str, ...], chart_version: str | None,
            wait: bool, namespace: str, kubeconfig: str | None) -> None:
    """Upgrade a Cilium installation a Kubernetes cluster"""
    kc = _client(kubeconfig)
    values = _load_values(files, sets)
    try:
        current = _cilium_version(kc, namespace)
        if chart_version and chart_version.lstrip("v") != current:
            _fail(f"Error: Unable to upgrade Cilium: the lab runs Cilium {current}; "
                  f"chart version {chart_version} is not available")
        apply_values(kc, namespace, values)
    except KubeError as exc:
        _fail(f"Error: Unable to upgrade Cilium: {exc}")
    click.echo(f"ℹ️  Using Cilium version {current}")
    if wait:
        _wait_ready(kc, namespace)


def _wait_ready(kc: KubeClient, namespace: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(collect_status(kc, namespace)):
            return
        time.sleep(0.2)


# -- hubble ----------------------------------------------------------------------------------------
@cilium.group("hubble")
def hubble() -> None:
    """Access Hubble Observability"""


@hubble.command("enable")
@click.option("--ui", is_flag=True, help="Enable Hubble UI")
@click.option("--relay", type=bool, default=True, show_default=True, help="Deploy Hubble Relay")
@NS_OPTION
@KUBECONFIG_OPTION
def hubble_enable(ui: bool, relay: bool, namespace: str, kubeconfig: str | None) -> None:
    """Enable Hubble observability"""
    kc = _client(kubeconfig)
    values: dict = {"hubble": {"enabled": True, "relay": {"enabled": relay}}}
    if ui:
        values["hubble"]["ui"] = {"enabled": True}
    try:
        apply_values(kc, namespace, values)
    except KubeError as exc:
        _fail(f"Error: Unable to enable Hubble: {exc}")


@hubble.command("disable")
@NS_OPTION
@KUBECONFIG_OPTION
def hubble_disable(namespace: str, kubeconfig: str | None) -> None:
    """Disable Hubble"""
    kc = _client(kubeconfig)
    try:
        apply_values(kc, namespace, {"hubble": {"enabled": False}})
    except KubeError as exc:
        _fail(f"Error: Unable to disable Hubble: {exc}")


def _relay_address(kubeconfig: str | None) -> str | None:
    """The served relay's address, from server.json next to the kubeconfig."""
    path = kubeconfig_path(kubeconfig).parent / "server.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    relay = (info.get("hubble") or {}).get("relay")
    return relay if isinstance(relay, str) else None


async def _forward(listen_port: int, target_host: str, target_port: int, address: str) -> None:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, address, listen_port)
    async with server:
        await server.serve_forever()


@hubble.command("port-forward")
@click.option("--port-forward", "port", type=int, default=4245, show_default=True, help="Local port to forward to")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on")
@NS_OPTION
@KUBECONFIG_OPTION
def hubble_port_forward(port: int, address: str, namespace: str, kubeconfig: str | None) -> None:
    """Forward the relay port to the local machine"""
    kc = _client(kubeconfig)
    try:
        relay = kc.get_or_none("v1", "services", namespace, "hubble-relay")
    except KubeError as exc:
        _fail(f"Error: Unable to port forward: {exc}")
    if relay is None:
        _fail('Error: Unable to port forward: services "hubble-relay" not found')
    target = _relay_address(kubeconfig) or "127.0.0.1:4245"
    host, _, tport = target.rpartition(":")
    click.echo(f"ℹ️  Hubble Relay is available at {address}:{port}", err=False)
    sys.stdout.flush()
    try:
        if (host, int(tport)) == (address, port):
            while True:  # the served relay already listens there
                time.sleep(3600)
        asyncio.run(_forward(port, host, int(tport), address))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        _fail(f"Error: Unable to port forward: unable to listen on {address}:{port}: {exc.strerror}")
