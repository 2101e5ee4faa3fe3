"""`pods/exec` over WebSocket (`v5.channel.k8s.io`, also `v4`): shared/spec/kubeapi §9.

Each binary message starts with a channel byte: 0 stdin (client→server), 1 stdout, 2 stderr,
3 the final `metav1.Status`, 4 terminal resize (client→server), 255 the v5 close signal
(`[255, 0]`: the client's stdin reached EOF).

How a session runs:

- no stdin: the command starts at once; output is streamed as the shell produces it
  (`run_command(..., stream=...)`), then the Status goes on channel 3 and the socket closes.
- `-i` without `-t`: stdin is collected until the client closes it (255/0), then the command runs
  with it (the lab's shell takes its input whole).
- `-t`: a pty (`tty.LineDiscipline`): echo, erase, Enter, Ctrl-C. An interactive shell
  (`sh`, `bash` with no script) gets a prompt and runs one line at a time; another command
  starts at once unless it obviously reads stdin (`read`, bare `cat` …: `_stdin_lines_needed`),
  in which case typed lines are collected first. Ctrl-C stops a running command
  (`^C`, exit code 130, like SIGINT).

The command runs in its own thread holding the lab lock, which `worker.ServedNet` releases while
the shell sleeps; a client that goes away cancels it.

`app[EXEC_COMMANDS]` maps command names to factories `fn(lab, pod, container) -> CommandFn | None`
whose commands are added to the container (`extra_commands`): `cilium-dbg` in the agent
container is one (a placeholder until the agent's surfaces implement it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import posixpath
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ...workloads.shell import run_command
from ...workloads.shell.context import CommandFn, ExecResult
from ...workloads.shell.images import profile
from ...workloads.shell.runner import SHELL_NAMES
from .context import ApiContext
from .errors import bad_request, not_found
from .resources import by_path
from .tty import LineDiscipline, TtyEvent, onlcr
from .worker import GateHold, ServedNet

log = logging.getLogger(__name__)

#: seconds before a served exec's first frame (a runtime's exec start latency; see `_writer`)
EXEC_START_DELAY = 0.05

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
SIGINT_EXIT = 130

ExecCommandFactory = Callable[[Any, dict, dict], CommandFn | None]
EXEC_COMMANDS: web.AppKey[dict[str, ExecCommandFactory]] = web.AppKey("exec_commands", dict)


# -- extra commands -----------------------------------------------------------------------------
def _is_agent(container: dict) -> bool:
    return "/cilium/cilium:" in str(container.get("image", ""))


def cilium_dbg_placeholder(lab: Any, pod: dict, container: dict) -> CommandFn | None:
    """`cilium-dbg` (and its old name `cilium`) in the agent container: `ciliumlab.cilium.dbg`
    run against the agent of the pod's node."""
    if not _is_agent(container):
        return None
    from ...cilium.dbg import cilium_dbg_factory

    return cilium_dbg_factory(lab, pod, container)


def nsenter_in_agent(lab: Any, pod: dict, container: dict) -> CommandFn | None:
    """`nsenter` in the agent container: into the node's namespaces (`ciliumlab ssh` uses it)."""
    if not _is_agent(container):
        return None
    from ...cilium.dbg import nsenter_factory

    return nsenter_factory(lab, pod, container)


def default_exec_commands() -> dict[str, ExecCommandFactory]:
    return {"cilium-dbg": cilium_dbg_placeholder, "cilium": cilium_dbg_placeholder, "nsenter": nsenter_in_agent}


# -- Status on channel 3 ---------------------------------------------------------------------
def success_status() -> dict:
    return {"metadata": {}, "status": "Success"}


def exit_status(argv: list[str], code: int) -> dict:
    """What the kubelet reports for a non-zero exit; kubectl exits with `causes[0].message`."""
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(argv)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def internal_status(message: str) -> dict:
    """Any other failure (the process never started): kubectl prints `error: <message>`, exit 1."""
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError",
            "details": {"causes": [{"message": message.removeprefix("Internal error occurred: ")}]},
            "code": 500}


def status_for(argv: list[str], code: int) -> dict:
    return success_status() if code == 0 else exit_status(argv, code)


# -- resolving the target -------------------------------------------------------------------
@dataclass
class ExecTarget:
    pod: dict
    container: dict
    net: Any
    env: dict[str, str]
    image: str
    extra_commands: dict[str, CommandFn] = field(default_factory=dict)


def _field_ref(pod: dict, path: str) -> str:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    return str({"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
                "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
                "spec.serviceAccountName": spec.get("serviceAccountName"), "status.podIP": status.get("podIP"),
                "status.hostIP": status.get("hostIP")}.get(path) or "")


def resolve_target(lab: Any, namespace: str, name: str, container: str | None,
                   factories: dict[str, ExecCommandFactory]) -> ExecTarget:
    """(Under the lab lock.) The pod, its container and network, or the apiserver's error."""
    pod = lab.store.get("Pod", namespace, name)
    if pod is None:
        res = by_path("", "v1", "pods")
        assert res is not None
        raise not_found(res.info, name)
    containers = (pod.get("spec") or {}).get("containers") or []
    if container is None:
        if len(containers) != 1:
            names = " ".join(str(c.get("name")) for c in containers)
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{names}]")
        chosen = containers[0]
    else:
        chosen = next((c for c in containers if c.get("name") == container), None)
        if chosen is None:
            raise bad_request(f"container {container} is not valid for pod {name}")
    if (pod.get("status") or {}).get("phase") != "Running":
        raise bad_request(f'unable to upgrade connection: container not found ("{chosen.get("name", "")}")')
    net = lab.podnet(pod)
    env: dict[str, str] = {}
    for e in chosen.get("env") or []:
        if "name" not in e:
            continue
        ref = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        env[e["name"]] = _field_ref(pod, ref) if ref else str(e.get("value", ""))
    env.setdefault("HOSTNAME", net.hostname)
    extra = {}
    for cmd, factory in factories.items():
        fn = factory(lab, pod, chosen)
        if fn is not None:
            extra[cmd] = fn
    return ExecTarget(pod, chosen, net, env, str(chosen.get("image", "")), extra)


# -- what a command does with its stdin -------------------------------------------------------
_FILTERS = {"cat", "tee", "wc", "sort", "uniq", "tr", "head", "tail", "md5sum", "sha256sum", "base64", "xargs"}


def interactive_shell(argv: list[str]) -> bool:
    """`sh`, `/bin/bash -l`, `sh -i`: a shell with no script, reading commands from the terminal."""
    if not argv or posixpath.basename(argv[0]) not in SHELL_NAMES:
        return False
    return all(a.startswith("-") and "c" not in a for a in argv[1:])


def _stdin_lines_needed(argv: list[str]) -> int | None:
    """How many typed lines a `-it` command wants before it can run: 0 (runs at once), n (`read`
    n times) or None (reads to end of input: `cat`). A heuristic — the shell takes input whole."""
    name = posixpath.basename(argv[0])
    if name in SHELL_NAMES:
        script = next((argv[i + 1] for i, a in enumerate(argv[1:-1], 1) if a.startswith("-") and "c" in a), "")
        if re.search(r"(^|[;&|(){\s])(cat|tee|wc|sort|head|tail)\s*($|[;&|)])", script):
            return None
        return len(re.findall(r"(^|[;&|(){\s])read\b", script))
    if name in _FILTERS and not [a for a in argv[1:] if not a.startswith("-")]:
        return None
    return 0


def _prompt(argv: list[str]) -> str:
    return "bash-5.2# " if posixpath.basename(argv[0]) == "bash" else "/ # "


# -- the session ----------------------------------------------------------------------------
class ExecSession:
    def __init__(self, ctx: ApiContext, ws: web.WebSocketResponse, target: ExecTarget, argv: list[str], *,
                 tty: bool, stdin: bool) -> None:
        self.ctx = ctx
        self.ws = ws
        self.target = target
        self.argv = argv
        self.tty = tty
        self.want_stdin = stdin
        self.loop = asyncio.get_running_loop()
        self.hold = GateHold(ctx.gate.lock, self.loop)
        self.out: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.cancel = threading.Event()  # the running command's; replaced per run
        self.interrupted = False
        self.gone = False  # the client went away
        self.stdin = bytearray()
        self.stdin_closed = asyncio.Event()
        self.ld = LineDiscipline()
        self.events: asyncio.Queue[TtyEvent] = asyncio.Queue()
        self.running = False
        self.size: tuple[int, int] | None = None

    # wire
    def send(self, channel: int, data: bytes) -> None:
        if data and not self.gone:
            self.out.put_nowait(bytes([channel]) + data)

    async def _writer(self) -> None:
        # A container runtime takes tens of ms to start an exec'd process; client-go's WebSocket
        # executor depends on it: frames that arrive before it has registered its streams are
        # dropped ("Unknown stream id 1, discarding message"), which a loaded client can hit.
        await asyncio.sleep(EXEC_START_DELAY)
        while (item := await self.out.get()) is not None:
            try:
                await self.ws.send_bytes(item)
            except Exception:  # noqa: BLE001 - the client is gone
                self._client_gone()

    async def _reader(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.BINARY and msg.data:
                    self._incoming(msg.data[0], bytes(msg.data[1:]))
        finally:
            self._client_gone()

    def _client_gone(self) -> None:
        if not self.gone:
            self.gone = True
            self.cancel.set()
            self.stdin_closed.set()
            self.events.put_nowait(TtyEvent("gone"))

    def _incoming(self, channel: int, data: bytes) -> None:
        if channel == STDIN:
            if not self.tty:
                self.stdin += data
                return
            echo, events = self.ld.feed(data)
            self.send(STDOUT, echo)
            for ev in events:
                if ev.kind == "intr" and self.running:
                    self.interrupted = True
                    self.cancel.set()
                else:
                    self.events.put_nowait(ev)
        elif channel == RESIZE:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                size = json.loads(data)
                self.size = (int(size.get("Width", 0)), int(size.get("Height", 0)))
        elif channel == CLOSE and data[:1] == bytes([STDIN]):
            self.stdin_closed.set()
            if self.tty:
                self.events.put_nowait(TtyEvent("eof"))

    # running
    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        reader = asyncio.create_task(self._reader())
        try:
            status = await self._main()
            if status is not None:
                self.send(ERROR, json.dumps(status).encode())
        except Exception as exc:  # noqa: BLE001 - report it to kubectl like a runtime error
            log.exception("ciliumlab apiserver: exec %s failed", self.argv)
            self.send(ERROR, json.dumps(internal_status(f"Internal error occurred: {exc}")).encode())
        finally:
            self.cancel.set()
            self.out.put_nowait(None)
            await writer
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def _main(self) -> dict | None:
        if self.tty and self.want_stdin and interactive_shell(self.argv) \
                and posixpath.basename(self.argv[0]) in profile(self.target.image).shells:
            return await self._repl()
        stdin: str | None = None
        if self.tty and self.want_stdin:
            need = _stdin_lines_needed(self.argv)
            lines: list[str] = []
            while need is None or len(lines) < need:
                ev = await self.events.get()
                if ev.kind == "gone":
                    return None
                if ev.kind == "intr":
                    return status_for(self.argv, SIGINT_EXIT)
                if ev.kind == "eof":
                    break
                lines.append(ev.text)
            stdin = "".join(line + "\n" for line in lines) + (self.ld.pending if need is None else "")
        elif self.want_stdin:
            await self.stdin_closed.wait()
            if self.gone:
                return None
            stdin = self.stdin.decode("utf-8", "replace")
        result = await self._run(self.argv, stdin)
        if result is None:
            return None
        if isinstance(result, str):
            return internal_status(result)
        return status_for(self.argv, result)

    async def _repl(self) -> dict | None:
        prompt = _prompt(self.argv).encode()
        last = 0
        self.send(STDOUT, prompt)
        while True:
            ev = await self.events.get()
            if ev.kind == "gone":
                return None
            if ev.kind == "eof":
                self.send(STDOUT, b"\r\n")
                return status_for(self.argv, last)
            if ev.kind == "intr":
                self.send(STDOUT, b"\r\n" + prompt)
                continue
            line = ev.text.strip()
            if line:
                m = re.fullmatch(r"exit(?:\s+(\d+))?\s*;?", line)
                if m:
                    return status_for(self.argv, int(m.group(1)) & 255 if m.group(1) else last)
                result = await self._run(line, "")
                if result is None:
                    return None
                last = result if isinstance(result, int) else 127
                if self.interrupted:
                    self.interrupted = False
                    self.send(STDOUT, b"\r\n")
            self.send(STDOUT, prompt)

    async def _run(self, command: str | list[str], stdin: str | None) -> int | str | None:
        """Run one command; its exit code, the runtime's error message if it never started, or
        None if the client went away."""
        if self.gone:
            return None
        self.cancel = cancel = threading.Event()
        fut: asyncio.Future[ExecResult] = self.loop.create_future()

        def emit(stream: str, text: str) -> None:
            if cancel.is_set():
                return
            channel = STDOUT if self.tty or stream == "stdout" else STDERR
            data = (onlcr(text) if self.tty else text).encode()
            self.loop.call_soon_threadsafe(self.send, channel, data)

        def work() -> None:
            try:
                with self.hold:
                    net = ServedNet(self.target.net, self.hold, cancel, self.ctx.lab.clock)
                    result = run_command(net, command, stdin=stdin, env=dict(self.target.env), deadline=net.deadline,
                                         image=self.target.image, extra_commands=self.target.extra_commands,
                                         tty=self.tty, stream=emit)
                self.loop.call_soon_threadsafe(_settle, fut, result, None)
            except BaseException as exc:  # noqa: BLE001 - handed to the loop
                self.loop.call_soon_threadsafe(_settle, fut, None, exc)

        self.running = True
        threading.Thread(target=work, name=f"exec {self.argv[0]}", daemon=True).start()
        try:
            result = await fut
        finally:
            self.running = False
        if self.gone:
            return None
        if self.interrupted:
            return SIGINT_EXIT
        if result.exec_failed:
            return result.stderr.strip().removeprefix("error: ")
        return result.exit_code


def _settle(fut: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


async def handle_exec(request: web.Request, ctx: ApiContext, namespace: str, pod: str) -> web.StreamResponse:
    """`GET /api/v1/namespaces/{ns}/pods/{pod}/exec?command=…&container=…&stdin=…&tty=…` (WebSocket)."""
    argv = request.query.getall("command", [])
    if not argv:
        raise bad_request("you must specify at least one command for the container")
    factories = request.app.get(EXEC_COMMANDS)
    if factories is None:
        factories = default_exec_commands()
    target = await ctx.gate.run(resolve_target, ctx.lab, namespace, pod, request.query.get("container"), factories)
    ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0, timeout=2.0)
    ready = ws.can_prepare(request)
    if not ready.ok or ready.protocol not in PROTOCOLS:
        raise bad_request("Upgrade request required: pods/exec is served over WebSocket "
                          f"(Sec-WebSocket-Protocol: {PROTOCOLS[0]})")
    await ws.prepare(request)
    await ExecSession(ctx, ws, target, argv, tty=_flag(request, "tty"), stdin=_flag(request, "stdin")).run()
    return ws
