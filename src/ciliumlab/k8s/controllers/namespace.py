"""Namespaces: the default ServiceAccount and kube-root-ca.crt ConfigMap in each, and cleanup of
objects left in a namespace that no longer exists (namespace deletion cascades)."""

from __future__ import annotations

import base64
import copy
import hashlib

from .. import kinds
from . import Controller

ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as "
    "the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters."
)


def fake_ca_pem(cluster: str = "kubernetes") -> str:
    """A PEM-shaped stand-in for the cluster CA (deterministic; not a parseable certificate)."""
    body = b"".join(hashlib.sha512(f"ciliumlab-ca/{cluster}/{i}".encode()).digest() for i in range(12))
    b64 = base64.b64encode(b"0\x82\x03\x00" + body).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def root_ca_configmap(namespace: str, pem: str | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": namespace,
                         "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
            "data": {"ca.crt": pem or fake_ca_pem()}}


def default_service_account(namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}}


class NamespaceController(Controller):
    name = "namespace"

    def sync(self) -> None:
        namespaces = {n["metadata"]["name"]: n for n in self.store.list("Namespace")}
        for name, ns in sorted(namespaces.items()):
            if (ns.get("status") or {}).get("phase") != "Active" or \
                    (ns["metadata"].get("labels") or {}).get("kubernetes.io/metadata.name") != name:
                new = copy.deepcopy(ns)
                new.setdefault("status", {})["phase"] = "Active"
                new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
                new.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
                self.store.update(new)
            if self.store.get("ServiceAccount", name, "default") is None:
                self.store.create(default_service_account(name))
            if self.store.get("ConfigMap", name, "kube-root-ca.crt") is None:
                self.store.create(root_ca_configmap(name))
        if not namespaces:
            return
        for obj in self.store:
            info = kinds.for_kind(obj["kind"], obj.get("apiVersion", ""))
            if not info.namespaced:
                continue
            ns = obj["metadata"].get("namespace")
            if ns and ns not in namespaces:
                self.store.delete(obj["kind"], ns, obj["metadata"]["name"])
