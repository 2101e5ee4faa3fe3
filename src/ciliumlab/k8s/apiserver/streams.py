"""Hooks for the streaming pod subresources (`exec`, `attach`, `portforward`).

They are WebSocket protocols (`v5.channel.k8s.io`, SPDY-in-WebSocket) implemented elsewhere.
`make_app` puts a copy of `DEFAULT_STREAM_HANDLERS` under `app[STREAM_HANDLERS]`; filling a
slot there, before the app starts, is all it takes:

    app[STREAM_HANDLERS]["exec"] = my_exec_handler   # async (request, ctx, namespace, pod) -> response

Until then the API answers 400 BadRequest, which kubectl prints as `Error from server (BadRequest): …`.
Handlers must take `ctx.gate` for every call into the lab, like the rest of the server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .context import ApiContext
from .errors import bad_request

StreamHandler = Callable[[web.Request, ApiContext, str, str], Awaitable[web.StreamResponse]]

STREAM_HANDLERS: web.AppKey[dict[str, StreamHandler]] = web.AppKey("stream_handlers", dict)


def _not_yet(subresource: str) -> StreamHandler:
    async def handler(request: web.Request, ctx: ApiContext, namespace: str, pod: str) -> web.StreamResponse:
        raise bad_request(f"pods/{subresource} is not served by this lab API server yet")

    return handler


DEFAULT_STREAM_HANDLERS: dict[str, StreamHandler] = {name: _not_yet(name) for name in ("exec", "attach", "portforward")}
