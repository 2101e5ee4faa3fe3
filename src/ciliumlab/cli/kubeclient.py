"""A tiny Kubernetes API client (urllib + ssl): what `ciliumlab cilium` needs of the served lab.

The kubeconfig comes from `--kubeconfig`, `$KUBECONFIG` (first file) or the state dir's
`kubeconfig`; the server's CA and bearer token are taken from it, as client-go does.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from ..served.state import default_state_dir


class KubeError(Exception):
    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


def kubeconfig_path(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("KUBECONFIG")
    if env:
        first = next((p for p in env.split(os.pathsep) if p), "")
        if first:
            return Path(first)
    return default_state_dir() / "kubeconfig"


class KubeClient:
    def __init__(self, kubeconfig: str | Path | None = None, timeout: float = 30) -> None:
        path = kubeconfig_path(kubeconfig)
        try:
            config = yaml.safe_load(path.read_text()) or {}
        except OSError as exc:
            raise KubeError(f"unable to read kubeconfig {path}: {exc.strerror}") from None
        current = config.get("current-context")
        contexts = {c["name"]: c.get("context") or {} for c in config.get("contexts") or []}
        ctx = contexts.get(current) or next(iter(contexts.values()), {})
        clusters = {c["name"]: c.get("cluster") or {} for c in config.get("clusters") or []}
        users = {u["name"]: u.get("user") or {} for u in config.get("users") or []}
        cluster = clusters.get(ctx.get("cluster")) or next(iter(clusters.values()), {})
        user = users.get(ctx.get("user")) or next(iter(users.values()), {})
        self.server = (cluster.get("server") or "").rstrip("/")
        if not self.server:
            raise KubeError(f"kubeconfig {path} names no server")
        self.timeout = timeout
        self.token = user.get("token") or ""
        self.ssl: ssl.SSLContext | None = None
        if self.server.startswith("https"):
            self.ssl = ssl.create_default_context()
            if cluster.get("insecure-skip-tls-verify"):
                self.ssl.check_hostname = False
                self.ssl.verify_mode = ssl.CERT_NONE
            elif cluster.get("certificate-authority-data"):
                self.ssl.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
            elif cluster.get("certificate-authority"):
                self.ssl.load_verify_locations(cafile=cluster["certificate-authority"])
            if user.get("client-certificate-data") and user.get("client-key-data"):
                with tempfile.TemporaryDirectory() as tmp:
                    cert, key = Path(tmp, "c.crt"), Path(tmp, "c.key")
                    cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
                    key.write_bytes(base64.b64decode(user["client-key-data"]))
                    self.ssl.load_cert_chain(str(cert), str(key))

    # -- raw ------------------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, content_type: str = "application/json",
                query: dict | None = None) -> dict:
        url = self.server + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.ssl) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("message") or raw.decode()
            except ValueError:
                message = raw.decode(errors="replace")
            raise KubeError(message, exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise KubeError(f"unable to reach the Kubernetes API server at {self.server}: {reason}") from None
        return json.loads(raw) if raw else {}

    # -- typed helpers --------------------------------------------------------------------------
    @staticmethod
    def _path(api: str, plural: str, namespace: str | None, name: str | None = None) -> str:
        base = "/api/v1" if api == "v1" else f"/apis/{api}"
        if namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{plural}"
        return base + (f"/{name}" if name else "")

    def get(self, api: str, plural: str, namespace: str | None, name: str) -> dict:
        return self.request("GET", self._path(api, plural, namespace, name))

    def get_or_none(self, api: str, plural: str, namespace: str | None, name: str) -> dict | None:
        try:
            return self.get(api, plural, namespace, name)
        except KubeError as exc:
            if exc.code == 404:
                return None
            raise

    def list(self, api: str, plural: str, namespace: str | None = None, label_selector: str | None = None) -> list[dict]:
        query = {"labelSelector": label_selector} if label_selector else None
        return self.request("GET", self._path(api, plural, namespace), query=query).get("items") or []

    def create(self, api: str, plural: str, namespace: str | None, obj: dict) -> dict:
        return self.request("POST", self._path(api, plural, namespace), obj)

    def delete(self, api: str, plural: str, namespace: str | None, name: str) -> dict:
        return self.request("DELETE", self._path(api, plural, namespace, name))

    def patch(self, api: str, plural: str, namespace: str | None, name: str, patch,
              patch_type: str = "strategic") -> dict:
        content_type = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                        "json": "application/json-patch+json"}[patch_type]
        return self.request("PATCH", self._path(api, plural, namespace, name), patch, content_type=content_type)
