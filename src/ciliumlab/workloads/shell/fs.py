"""A tiny per-exec file system.

Files written by redirections (``> /tmp/out``, ``curl -o f``) live only for one exec — like a
scratch file in a pod whose exec ended, close enough for the lab — and reads fall through to
``net.read_file`` so ``cat /etc/resolv.conf`` shows what the pod's resolver really uses.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..net import PodNet

#: Directories that exist in every image (so ``ls /`` and ``cd /tmp`` look normal).
BASE_DIRS = ("/", "/bin", "/dev", "/etc", "/home", "/proc", "/root", "/sys", "/tmp", "/usr", "/var")


class MemFS:
    def __init__(self, net: PodNet, cwd: str = "/") -> None:
        self._net = net
        self._files: dict[str, str] = {}
        self.cwd = cwd

    def abspath(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, path))

    def read(self, path: str) -> str | None:
        p = self.abspath(path)
        if p == "/dev/null":
            return ""
        if p in self._files:
            return self._files[p]
        return self._net.read_file(p)

    def write(self, path: str, text: str, append: bool = False) -> None:
        p = self.abspath(path)
        if p == "/dev/null":
            return
        if append:
            self._files[p] = (self.read(p) or "") + text
        else:
            self._files[p] = text

    def is_dir(self, path: str) -> bool:
        p = self.abspath(path)
        if p in BASE_DIRS:
            return True
        prefix = p.rstrip("/") + "/"
        return any(f.startswith(prefix) for f in self._files) or self._disk_dir(p) is not None

    def _disk_dir(self, p: str) -> list[str] | None:
        list_dir = getattr(self._net, "list_dir", None)
        return list_dir(p) if list_dir is not None else None

    def exists(self, path: str) -> bool:
        return self.is_dir(path) or self.read(path) is not None

    def listdir(self, path: str) -> list[str]:
        p = self.abspath(path)
        prefix = p.rstrip("/") + "/"
        names = {f[len(prefix):].split("/")[0] for f in self._files if f.startswith(prefix)}
        names.update(self._disk_dir(p) or ())
        if p == "/":
            names |= {d.lstrip("/") for d in BASE_DIRS if d != "/"}
        if p == "/etc":
            for name in ("hostname", "hosts", "resolv.conf"):
                if self._net.read_file("/etc/" + name) is not None:
                    names.add(name)
        return sorted(names)
