"""The kubelets: start scheduled pods and report their status.

Pod IPs come from `ctx.allocate_pod_ip(node, pod)` (Cilium IPAM); hostNetwork pods get the
node's InternalIP. When a pod object is deleted, the Kubelet's store listener calls
`ctx.release_pod_ip(node, pod)` for pods that held a pod-network IP (so build the controllers
once per store).
"""

from __future__ import annotations

import copy

from ..names import fake_digest
from ..validation import qos_class
from . import Controller
from .util import is_active, now, set_condition


def normalize_image(image: str) -> tuple[str, str | None]:
    """`nginx` -> (`docker.io/library/nginx:latest`, None); digests are split off and returned."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    first, _, rest = image.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        image = ("docker.io/library/" + image) if not rest else ("docker.io/" + image)
    last = image.rsplit("/", 1)[-1]
    if ":" not in last and digest is None:
        image += ":latest"
    return image, digest


def image_status(image: str) -> tuple[str, str]:
    """(status.image, status.imageID) as containerd reports them."""
    ref, digest = normalize_image(image)
    repo = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    if digest is None:
        digest = "sha256:" + fake_digest("image/" + ref)
    return ref, f"{repo}@{digest}"


def _started(pod: dict) -> set[tuple[bool, str]]:
    """(is init container, name) of every container that is running or has run."""
    status = pod.get("status") or {}
    return {(init, c.get("name", "")) for init in (False, True)
            for c in status.get("initContainerStatuses" if init else "containerStatuses") or []
            if (c.get("state") or {}).keys() & {"running", "terminated"}}


class Kubelet(Controller):
    name = "kubelet"

    def __init__(self, store, ctx) -> None:
        super().__init__(store, ctx)
        store.subscribe(self._on_event)

    def _on_event(self, event: str, obj: dict, old: dict | None) -> None:
        if event != "DELETED" or obj.get("kind") != "Pod":
            return
        spec = obj.get("spec") or {}
        if spec.get("hostNetwork") or not spec.get("nodeName"):
            return
        if (obj.get("status") or {}).get("podIP") and self.ctx.release_pod_ip is not None:
            self.ctx.release_pod_ip(spec["nodeName"], obj)

    def sync(self) -> None:
        for pod in sorted(self.store.list("Pod"), key=lambda p: (p["metadata"].get("namespace", ""),
                                                                   p["metadata"]["name"])):
            spec = pod.get("spec") or {}
            node_name = spec.get("nodeName")
            if not node_name or not is_active(pod):
                continue
            node = self.store.get("Node", None, node_name)
            if node is None:
                continue
            self.run_pod(pod, node)

    def run_pod(self, pod: dict, node: dict) -> None:
        spec = pod["spec"]
        status = copy.deepcopy(pod.get("status") or {})
        ts = now(self.ctx)
        node_name = node["metadata"]["name"]
        host_ip = self.ctx.node_ip(node_name) if self.ctx.node_ip else ""
        if spec.get("hostNetwork"):
            ip = host_ip
        else:
            ip = status.get("podIP") or self.ctx.allocate_pod_ip(node_name, pod)
        new = copy.deepcopy(pod)
        conds = status.get("conditions") or []
        if not any(c.get("type") == "PodScheduled" for c in conds):
            conds = set_condition(conds, "PodScheduled", "True", ts)
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
        status.setdefault("startTime", ts)
        status["qosClass"] = qos_class(spec)
        if not ip:
            # Sandbox not ready yet (no IP from IPAM): ContainerCreating.
            status["phase"] = "Pending"
            conds = set_condition(conds, "PodReadyToStartContainers", "False", ts)
            conds = set_condition(conds, "Initialized", "True", ts)
            conds = set_condition(conds, "Ready", "False", ts, reason="ContainersNotReady",
                                  message=self._not_ready_msg(spec))
            conds = set_condition(conds, "ContainersReady", "False", ts, reason="ContainersNotReady",
                                  message=self._not_ready_msg(spec))
            status["conditions"] = self._order(conds)
            status["containerStatuses"] = [self._waiting_status(c) for c in self._sorted(spec.get("containers"))]
        else:
            status["phase"] = "Running"
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
            for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"):
                conds = set_condition(conds, t, "True", ts)
            status["conditions"] = self._order(conds)
            old_cs = {c.get("name"): c for c in status.get("containerStatuses") or []}
            status["containerStatuses"] = [self._running_status(pod, c, old_cs.get(c.get("name")), ts)
                                           for c in self._sorted(spec.get("containers"))]
            if spec.get("initContainers"):
                old_ics = {c.get("name"): c for c in status.get("initContainerStatuses") or []}
                status["initContainerStatuses"] = [self._completed_status(pod, c, old_ics.get(c.get("name")), ts)
                                                   for c in spec["initContainers"]]
        new["status"] = {k: status[k] for k in sorted(status)}
        if new != pod:
            stored = self.store.update(new)
            self._container_events(pod, stored, node_name)

    def _container_events(self, old: dict, pod: dict, node_name: str) -> None:
        """Pulled / Created / Started for every container that has just started, as the kubelet
        records them (init containers first, then the others in spec order)."""
        before, after = _started(old), _started(pod)
        if after <= before:
            return
        spec = pod.get("spec") or {}
        for init, containers in ((True, spec.get("initContainers")), (False, spec.get("containers"))):
            for c in containers or []:
                name = c.get("name", "")
                if (init, name) in before or (init, name) not in after:
                    continue
                path = f"spec.{'initContainers' if init else 'containers'}{{{name}}}"
                for reason, message in (
                        ("Pulled", f'Container image "{c.get("image", "")}" already present on machine'),
                        ("Created", f"Created container: {name}"),
                        ("Started", f"Started container {name}")):
                    self.event(pod, reason, message, component="kubelet", host=node_name, field_path=path)

    @staticmethod
    def _sorted(containers) -> list[dict]:
        return sorted(containers or [], key=lambda c: c.get("name", ""))

    @staticmethod
    def _not_ready_msg(spec: dict) -> str:
        return "containers with unready status: [" + " ".join(c.get("name", "") for c in spec.get("containers") or []) + "]"

    @staticmethod
    def _order(conds: list[dict]) -> list[dict]:
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
        return sorted(conds, key=lambda c: order.index(c["type"]) if c.get("type") in order else len(order))

    def _container_id(self, pod: dict, name: str) -> str:
        return "containerd://" + fake_digest(f"container/{pod['metadata'].get('uid')}/{name}")

    def _waiting_status(self, c: dict) -> dict:
        image, _ = image_status(str(c.get("image", "")))
        return {"image": image, "imageID": "", "lastState": {}, "name": c.get("name"), "ready": False,
                "restartCount": 0, "started": False, "state": {"waiting": {"reason": "ContainerCreating"}}}

    def _running_status(self, pod: dict, c: dict, old: dict | None, ts: str) -> dict:
        image, image_id = image_status(str(c.get("image", "")))
        started = ts
        if old and "running" in (old.get("state") or {}) and old.get("image") == image:
            started = old["state"]["running"].get("startedAt", ts)
        cs = {
            "containerID": self._container_id(pod, c.get("name", "")),
            "image": image,
            "imageID": image_id,
            "lastState": {},
            "name": c.get("name"),
            "ready": True,
            "restartCount": (old or {}).get("restartCount", 0),
            "started": True,
            "state": {"running": {"startedAt": started}},
        }
        mounts = [{"mountPath": m.get("mountPath"), "name": m.get("name"),
                   **({"readOnly": True} if m.get("readOnly") else {}),
                   "recursiveReadOnly": "Disabled"} for m in c.get("volumeMounts") or []]
        if mounts:
            cs["volumeMounts"] = mounts
        return cs

    def _completed_status(self, pod: dict, c: dict, old: dict | None, ts: str) -> dict:
        image, image_id = image_status(str(c.get("image", "")))
        term = (old or {}).get("state", {}).get("terminated")
        if not term:
            term = {"containerID": self._container_id(pod, c.get("name", "")), "exitCode": 0, "finishedAt": ts,
                    "reason": "Completed", "startedAt": ts}
        return {"containerID": self._container_id(pod, c.get("name", "")), "image": image, "imageID": image_id,
                "lastState": {}, "name": c.get("name"), "ready": True, "restartCount": 0, "started": False,
                "state": {"terminated": term}}
