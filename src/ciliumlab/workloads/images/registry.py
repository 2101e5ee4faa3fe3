"""Which behaviour answers for a container image.

Images are matched by repository only — registry host, tag and digest are ignored — so
`quay.io/cilium/starwars:v2.1@sha256:…`, `cilium/starwars` and `docker.io/traefik/whoami`,
`traefik/whoami:v1.10` all find their model. Docker Hub's implicit `library/` is dropped
(`docker.io/library/nginx` is `nginx`).

================================  ==================  ========================================
repository                        behaviour           listens
================================  ==================  ========================================
cilium/starwars                   StarwarsBehaviour   TCP 80
cilium/json-mock                  JsonMockBehaviour   TCP 80 (env PORT)
traefik/whoami, containous/whoami WhoamiBehaviour     TCP 80 (--port / WHOAMI_PORT_NUMBER)
nginx                             NginxBehaviour      TCP 80
coredns/coredns                   CorednsBehaviour    UDP+TCP 53, TCP 8080, 8181, 9153
nicolaka/netshoot, curlimages/    ClientBehaviour     nothing
curl, busybox, alpine, ubuntu …
anything else                     GenericBehaviour    declared containerPorts
================================  ==================  ========================================

`behaviour_for` is called once per container when its endpoint is created; the parse of an
image reference is cached because a lab creates many pods from few images.
"""

from __future__ import annotations

from functools import lru_cache

from .base import Behaviour
from .coredns_server import CorednsBehaviour
from .generic import ClientBehaviour, GenericBehaviour
from .httpserver import Now, ServerBehaviour
from .jsonmock import JsonMockBehaviour
from .nginx import NginxBehaviour
from .starwars import StarwarsBehaviour
from .whoami import WhoamiBehaviour

SERVERS: dict[str, type[ServerBehaviour]] = {
    "cilium/starwars": StarwarsBehaviour,
    "cilium/json-mock": JsonMockBehaviour,
    "traefik/whoami": WhoamiBehaviour,
    "containous/whoami": WhoamiBehaviour,
    "nginx": NginxBehaviour,
    "coredns/coredns": CorednsBehaviour,
}

CLIENTS = frozenset({
    "nicolaka/netshoot", "curlimages/curl", "busybox", "alpine", "ubuntu", "debian",
    "alpine/curl", "praqma/network-multitool", "wbitt/network-multitool", "cilium/alpine-curl",
})


@lru_cache(maxsize=512)
def repository_of(image: str) -> str:
    """`quay.io/cilium/starwars:v2.1@sha256:…` -> `cilium/starwars`; `nginx:1.27` -> `nginx`."""
    ref = image.strip().split("@", 1)[0]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1]
    if ":" in last:
        parts[-1] = last.split(":", 1)[0]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts).lower()


def behaviour_for(image: str, container: dict, *, now: Now | None = None) -> Behaviour:
    """The behaviour of one container. `now` is the lab clock (for `Date` headers); without it
    servers use the wall clock."""
    repo = repository_of(image or "")
    server = SERVERS.get(repo)
    if server is not None:
        return server(image, container, now=now)
    if repo in CLIENTS:
        return ClientBehaviour(image, container)
    return GenericBehaviour(image, container, now=now)
