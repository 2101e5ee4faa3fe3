"""Hooks for the streaming pod subresources (`exec`, `attach`, `portforward`).

They are WebSocket protocols: `exec_stream` (`v5.channel.k8s.io`) and `portforward`
(SPDY/3.1 in WebSocket). `make_app` puts a copy of `DEFAULT_STREAM_HANDLERS` under
`app[STREAM_HANDLERS]`; replacing a slot there, before the app starts, is all it takes:

    app[STREAM_HANDLERS]["exec"] = my_exec_handler   # async (request, ctx, namespace, pod) -> response

`attach` still answers 400 BadRequest (`Error from server (BadRequest): …`). Handlers must take
`ctx.gate` for every call into the lab, like the rest of the server.

`install_stream_registries(app)` (called by `make_app`) adds the registries the streams read,
which an embedder may fill at any time:

- `app[EXEC_COMMANDS][name] = factory`: `factory(lab, pod, container) -> CommandFn | None`, extra
  programs in a container (`cilium-dbg` in the agent: see `exec_stream`);
- `app[PORT_FORWARD_TARGETS][(namespace, pod_or_service, port)] = ("127.0.0.1", 4245)`: forward
  that pod port to a real local listener as a raw byte pipe (see `portforward`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .context import ApiContext
from .errors import bad_request
from .exec_stream import EXEC_COMMANDS, default_exec_commands, handle_exec
from .portforward import PORT_FORWARD_TARGETS, handle_portforward

StreamHandler = Callable[[web.Request, ApiContext, str, str], Awaitable[web.StreamResponse]]

STREAM_HANDLERS: web.AppKey[dict[str, StreamHandler]] = web.AppKey("stream_handlers", dict)


def _not_yet(subresource: str) -> StreamHandler:
    async def handler(request: web.Request, ctx: ApiContext, namespace: str, pod: str) -> web.StreamResponse:
        raise bad_request(f"pods/{subresource} is not served by this lab API server yet")

    return handler


DEFAULT_STREAM_HANDLERS: dict[str, StreamHandler] = {
    "exec": handle_exec,
    "attach": _not_yet("attach"),
    "portforward": handle_portforward,
}


def install_stream_registries(app: web.Application) -> None:
    app[EXEC_COMMANDS] = default_exec_commands()
    app[PORT_FORWARD_TARGETS] = {}


__all__ = ["DEFAULT_STREAM_HANDLERS", "EXEC_COMMANDS", "PORT_FORWARD_TARGETS", "STREAM_HANDLERS", "StreamHandler",
           "install_stream_registries"]
