"""The parts of each node's file system that live on the host's disk.

Exported flow logs must be real files: they grow, rotate and are read back by `tail -f`,
`ls`, `hubble observe --input-file` and by whoever runs the lab. Each node gets a directory
(`<data_dir>/nodes/<node>/`) standing for its root; only the host paths Cilium writes to are
mapped (`/var/run/cilium/…`, the dynamic exporter's `/flowlog-config/…`), everything else in a
node's file system stays modelled in memory (`workloads/node.py`).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import weakref
from pathlib import Path

#: Host paths backed by the disk (the agent's hostPath mounts and its flowlog-config volume).
DISK_PREFIXES = ("/var/run/cilium/", "/flowlog-config/")


class NodeDisks:
    def __init__(self, data_dir: str | os.PathLike | None = None) -> None:
        self._given = Path(data_dir) if data_dir is not None else None
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """Created on first use: most labs never write a file."""
        if self._root is None:
            if self._given is not None:
                self._root = self._given
                self._root.mkdir(parents=True, exist_ok=True)
            else:
                self._root = Path(tempfile.mkdtemp(prefix="ciliumlab-"))
                weakref.finalize(self, shutil.rmtree, self._root, True)
        return self._root

    def node_root(self, node: str) -> Path:
        return self.root / "nodes" / node

    def host_path(self, node: str, path: str) -> Path | None:
        """Where `path` (absolute, as seen on `node`) lives on the host; None if not disk-backed."""
        norm = posixpath.normpath(path)
        if not any((norm + "/").startswith(prefix) for prefix in DISK_PREFIXES):
            return None
        return self.node_root(node) / norm.lstrip("/")

    def read(self, node: str, path: str) -> str | None:
        host = self.host_path(node, path)
        if host is None or not host.is_file():
            return None
        data = host.read_bytes()
        try:
            return data.decode()
        except UnicodeDecodeError:  # a rotated .gz backup: bytes as they are
            return data.decode("latin-1")

    def listdir(self, node: str, path: str) -> list[str] | None:
        """Entries of a disk-backed directory; None when `path` is not one."""
        norm = posixpath.normpath(path)
        host = self.host_path(node, norm)
        if host is None:
            return None
        if not host.is_dir():
            return [] if norm + "/" in DISK_PREFIXES else None  # a mount point exists even when empty
        return sorted(os.listdir(host))
