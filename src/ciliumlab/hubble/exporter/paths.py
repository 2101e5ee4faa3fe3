"""Where a path inside a node's filesystem lives on the host."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def host_path(root: Path, node_path: str) -> Path:
    """`/var/run/cilium/hubble/events.log` -> `root/var/run/cilium/hubble/events.log`.

    Relative paths are taken from the node's `/` as well; `..` cannot climb out of `root`."""
    parts = [p for p in PurePosixPath(node_path).parts if p not in ("/", ".")]
    kept: list[str] = []
    for part in parts:
        if part == "..":
            if kept:
                kept.pop()
        else:
            kept.append(part)
    return Path(root).joinpath(*kept)
