"""Which programs an image ships, and where they live.

The lab's images differ in ways users notice: ``curlimages/curl`` has curl but no dig,
``busybox`` has wget/nslookup/ping/nc but no curl, ``nicolaka/netshoot`` has everything
(and bash), ``traefik/whoami`` is a scratch image with no shell at all. Unknown images are
treated as busybox-based (the common case for small lab images).
"""

from __future__ import annotations

from dataclasses import dataclass

from .builtins import COREUTILS

BUSYBOX_NET = frozenset({"wget", "nslookup", "ping", "nc", "ip", "ifconfig"})
NETSHOOT_EXTRA = frozenset({"curl", "dig", "host"})
NODE_TOOLS = frozenset({"ifconfig", "iptables", "iptables-save", "ss"})  # a host-network shell's extras


@dataclass(frozen=True)
class ImageProfile:
    shells: frozenset[str]
    programs: frozenset[str]
    flavour: str  # "netshoot" (iputils ping, bind nslookup/dig, OpenBSD nc) or "busybox"


_BUSYBOX = frozenset(COREUTILS) | BUSYBOX_NET
PROFILES: list[tuple[str, ImageProfile]] = [
    ("netshoot", ImageProfile(frozenset({"sh", "ash", "bash"}), _BUSYBOX | NETSHOOT_EXTRA, "netshoot")),
    ("curlimages/curl", ImageProfile(frozenset({"sh", "ash"}), _BUSYBOX | {"curl"}, "busybox")),
    ("busybox", ImageProfile(frozenset({"sh", "ash"}), _BUSYBOX, "busybox")),
    ("starwars", ImageProfile(frozenset({"sh", "ash"}), _BUSYBOX | {"curl"}, "busybox")),
    ("json-mock", ImageProfile(frozenset({"sh", "ash"}), _BUSYBOX | {"curl"}, "busybox")),
    ("whoami", ImageProfile(frozenset(), frozenset(), "scratch")),
    # a node's own shell (Ubuntu 24.04 in the seed's VMs): bash, curl, dig, iputils ping
    ("ubuntu", ImageProfile(frozenset({"sh", "bash"}), _BUSYBOX | NETSHOOT_EXTRA | NODE_TOOLS, "netshoot")),
    ("cilium/cilium", ImageProfile(frozenset({"sh", "bash"}), frozenset(COREUTILS) | {"ip"} | NODE_TOOLS, "netshoot")),
]
DEFAULT = ImageProfile(frozenset({"sh", "ash"}), _BUSYBOX, "busybox")

PATHS = {
    "sh": "/bin/sh", "ash": "/bin/ash", "bash": "/bin/bash", "curl": "/usr/bin/curl", "dig": "/usr/bin/dig",
    "host": "/usr/bin/host", "nslookup": "/usr/bin/nslookup", "wget": "/usr/bin/wget", "nc": "/usr/bin/nc",
    "ping": "/bin/ping", "ip": "/sbin/ip", "ifconfig": "/sbin/ifconfig", "[": "/usr/bin/[",
    "test": "/usr/bin/test", "env": "/usr/bin/env", "awk": "/usr/bin/awk", "seq": "/usr/bin/seq",
    "tr": "/usr/bin/tr", "cut": "/usr/bin/cut", "sort": "/usr/bin/sort", "uniq": "/usr/bin/uniq",
    "wc": "/usr/bin/wc", "head": "/usr/bin/head", "tail": "/usr/bin/tail", "tee": "/usr/bin/tee",
    "printf": "/usr/bin/printf", "id": "/usr/bin/id", "whoami": "/usr/bin/whoami", "which": "/usr/bin/which",
    "iptables": "/usr/sbin/iptables", "iptables-save": "/usr/sbin/iptables-save", "ss": "/usr/bin/ss",
    "basename": "/usr/bin/basename", "dirname": "/usr/bin/dirname", "printenv": "/usr/bin/printenv",
    "timeout": "/usr/bin/timeout",
}


def profile(image: str) -> ImageProfile:
    name = image.lower()
    for key, prof in PROFILES:
        if key in name:
            return prof
    return DEFAULT


def program_path(name: str) -> str:
    return PATHS.get(name, f"/bin/{name}")
