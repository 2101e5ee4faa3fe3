"""The `hubble` click group: observe, status, list, config, version.

Subcommands take their raw arguments and parse them with the pflag emulation (`pflags.py`), so
flag order, `--not`, repeated flags and error texts behave like the Go CLI. The flow source is
`--input-file` if given, else a gRPC client to `--server`; an embedding program can hand in its
own FlowSource as `ctx.obj["hubble_source"]` (e.g. the lab's relay).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from ..types import FlowSource
from .config import SETTINGS, Settings, config_get, config_reset, config_set, config_view, resolve_settings
from .errors import HubbleError
from .gotime import SECOND
from .input_file import InputFileSource
from .observe_args import GLOBAL_SPECS, SERVER_SPECS, ObserveOptions, _bool, parse_observe
from .pflags import FlagSpec, parse_args
from .printer import Printer, color_enabled, format_namespaces, format_nodes, format_server_status

VERSION = "v1.19.4"
GO_VERSION = "go1.24.11"
_RAW = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _fail(err: Exception) -> None:
    click.echo(str(err), err=True)
    sys.exit(1)


def connection_error(server: str, *, tls: bool = False, client_cert: bool = False) -> HubbleError:
    """What hubble reports when it cannot talk to `server` (grpc Unavailable, not `Unknown`): nothing
    listening, a plaintext client at a TLS server, or a TLS client the server's mTLS rejects."""
    target = server.removeprefix("tls://")
    tls = tls or server.startswith("tls://")
    if target.startswith("unix://"):
        path = target.removeprefix("unix://")
        desc = f"transport: Error while dialing: dial unix {path}: connect: no such file or directory"
    else:
        host, _, port = target.rpartition(":")
        host = "127.0.0.1" if host in ("localhost", "") else host
        if not _listening(host, port):
            desc = f"transport: Error while dialing: dial tcp {host}:{port}: connect: connection refused"
        elif not tls:
            desc = "error reading server preface: http2: frame too large"
        elif not client_cert:
            desc = "error reading server preface: remote error: tls: certificate required"
        else:
            desc = "transport: authentication handshake failed: tls: failed to verify certificate"
    return HubbleError(f'rpc error: code = Unavailable desc = connection error: desc = "{desc}"')


def _listening(host: str, port: str) -> bool:
    import socket

    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def connect(settings: Settings) -> FlowSource:
    """A gRPC client FlowSource for `--server` (ciliumlab.hubble.grpc.client, imported lazily)."""
    server = str(settings.values["server"])
    try:
        from ciliumlab.hubble.grpc.client import connect as grpc_connect  # type: ignore[import-not-found]
    except ImportError:
        raise connection_error(server) from None
    values = settings.values
    options: dict[str, Any] = {
        "timeout": settings.timeout_ns / SECOND, "tls": values["tls"], "insecure": values["tls-allow-insecure"],
        "ca_files": tuple(values["tls-ca-cert-files"]), "cert": values["tls-client-cert-file"] or None,
        "key": values["tls-client-key-file"] or None, "server_name": values["tls-server-name"] or None,
    }
    try:
        return grpc_connect(server, **options)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:  # a --tls-* file
        reason = {FileNotFoundError: "no such file or directory", PermissionError: "permission denied",
                  IsADirectoryError: "is a directory"}[type(exc)]
        raise HubbleError(f"failed to read TLS material: open {exc.filename}: {reason}") from None
    except (ConnectionError, OSError):
        raise connection_error(server, tls=bool(options["tls"]), client_cert=bool(options["cert"])) from None


def _source(ctx: click.Context, settings: Settings) -> FlowSource:
    obj = ctx.find_object(dict)
    if obj and obj.get("hubble_source") is not None:
        source = obj["hubble_source"]
        return source(settings) if callable(source) and not hasattr(source, "get_flows") else source
    return connect(settings)


def run_observe(opts: ObserveOptions, source: FlowSource, out: Any = None, err: Any = None) -> None:
    """Stream the request's responses through the printer (table printed at the end)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    printer = Printer(output=opts.output, out=out, err=err, time_format=opts.time_format,
                      node_name=opts.node_name, policy_names=opts.policy_names,
                      ip_translation=opts.ip_translation, color=color_enabled(opts.color, out),
                      legacy_json=opts.legacy_json, silent_errors=opts.silent_errors, debug=opts.debug)
    try:
        for res in source.get_flows(opts.request):
            printer.write_response(res)
    except KeyboardInterrupt:
        pass
    finally:
        printer.close()


@click.group(name="hubble", context_settings={"help_option_names": ["-h", "--help"]},
             invoke_without_command=False)
@click.version_option(VERSION.removeprefix("v"), "--version", message="hubble %(version)s")
def hubble() -> None:
    """Hubble is a utility to observe and inspect recent Cilium routed traffic in a cluster."""


@hubble.command("observe", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def observe(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Observe flows and events of a Hubble server (`hubble observe [flows] [flags]`)."""
    argv = list(args)
    if argv[:1] == ["flows"]:
        argv = argv[1:]
    elif argv[:1] in (["agent-events"], ["debug-events"]):
        _fail(HubbleError(f"hubble observe {argv[0]} is not supported by this emulation"))
    try:
        opts = parse_observe(argv, now=datetime.now(UTC))
        if opts.help:
            click.echo(observe.get_help(ctx))
            return
        if opts.print_raw_filters:
            click.echo(opts.raw_filters_yaml(), nl=False)
            return
        if opts.input_file:
            if opts.settings.values.get("port-forward"):
                raise HubbleError("cannot use --input-file and --auto-port-forward together")
            source: FlowSource = InputFileSource(opts.input_file, stdin=sys.stdin,
                                                 warn=sys.stderr)
        else:
            source = _source(ctx, opts.settings)
        run_observe(opts, source, sys.stdout, sys.stderr)
    except HubbleError as err:
        _fail(err)


def _parse_simple(argv: list[str], extra: list[FlagSpec]) -> tuple[dict[str, str], Settings, list[str]]:
    """Flags of status/list/config: a few own flags plus the server and global flags."""
    pairs, positional = parse_args(argv, extra + SERVER_SPECS + GLOBAL_SPECS)
    own: dict[str, str] = {}
    server: dict[str, Any] = {}
    own_names = {s.name for s in extra}
    for spec, value in pairs:
        if spec.name in own_names or spec.name == "help":
            own[spec.name] = value
        elif SETTINGS.get(spec.name, ("str",))[0] == "bool":
            server[spec.name] = _bool(spec, value)
        elif SETTINGS.get(spec.name, ("str",))[0] == "strlist":
            server.setdefault(spec.name, []).extend(v for v in value.split(",") if v)
        else:
            server[spec.name] = value
    return own, resolve_settings(server), positional


@hubble.command("status", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def status(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Display status of Hubble server."""
    try:
        own, settings, _ = _parse_simple(list(args), [FlagSpec("output", "o")])
        output = own.get("output", "compact")
        if output not in ("compact", "dict", "json", "jsonpb", "table", "tab"):
            raise HubbleError(f"invalid output format: {output}")
        source = _source(ctx, settings)
        health: Callable[[], str] | None = getattr(source, "health_check", None)
        state = health() if health is not None else "SERVING"
        via = str(settings.values["server"]).removeprefix("tls://")
        if output == "compact":
            if state != "SERVING":
                click.echo(f"Healthcheck (via {via}): Unavailable: {state}")
                raise HubbleError("not healthy")
            click.echo(f"Healthcheck (via {via}): Ok")
        elif state != "SERVING":
            raise HubbleError("not healthy")
        click.echo(format_server_status(source.server_status(), "table" if output == "tab" else output), nl=False)
    except HubbleError as err:
        _fail(err)


@hubble.group("list")
def list_group() -> None:
    """List Hubble objects."""


def _list(ctx: click.Context, args: tuple[str, ...], what: str) -> None:
    try:
        own, settings, _ = _parse_simple(list(args), [FlagSpec("output", "o")])
        output = own.get("output", "table")
        if output not in ("json", "table", "wide"):
            raise HubbleError(f"unknown output format: {output}")
        source = _source(ctx, settings)
        if what == "nodes":
            click.echo(format_nodes(source.get_nodes(), output), nl=False)
        else:
            click.echo(format_namespaces(source.get_namespaces(), output), nl=False)
    except HubbleError as err:
        _fail(err)


@list_group.command("nodes", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def list_nodes(ctx: click.Context, args: tuple[str, ...]) -> None:
    """List Hubble nodes."""
    _list(ctx, args, "nodes")


@list_group.command("namespaces", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def list_namespaces(ctx: click.Context, args: tuple[str, ...]) -> None:
    """List namespaces with recent flows."""
    _list(ctx, args, "namespaces")


@hubble.group("config")
def config_group() -> None:
    """Modify or view hubble config."""


def _config_settings(args: tuple[str, ...]) -> tuple[Settings, list[str]]:
    _own, settings, positional = _parse_simple(list(args), [])
    return settings, positional


@config_group.command("view", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def config_view_cmd(args: tuple[str, ...]) -> None:
    """Display the current configuration."""
    try:
        settings, _ = _config_settings(args)
        click.echo(config_view(settings), nl=False)
    except HubbleError as err:
        _fail(err)


@config_group.command("get", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def config_get_cmd(args: tuple[str, ...]) -> None:
    """Get an individual value in the hubble config file (all of them without KEY)."""
    try:
        settings, positional = _config_settings(args)
        if not positional:
            click.echo(config_view(settings), nl=False)
        else:
            click.echo(config_get(settings, positional[0]), nl=False)
    except HubbleError as err:
        _fail(err)


@config_group.command("set", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def config_set_cmd(args: tuple[str, ...]) -> None:
    """Set an individual value in the hubble config file."""
    try:
        settings, positional = _config_settings(args)
        if not positional or len(positional) > 2:
            raise HubbleError(f"accepts between 1 and 2 arg(s), received {len(positional)}")
        config_set(settings, positional[0], positional[1] if len(positional) == 2 else None)
    except HubbleError as err:
        _fail(err)


@config_group.command("reset", context_settings=_RAW)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def config_reset_cmd(args: tuple[str, ...]) -> None:
    """Reset all or an individual value in the hubble config file."""
    try:
        settings, positional = _config_settings(args)
        if len(positional) > 1:
            raise HubbleError(f"accepts at most 1 arg(s), received {len(positional)}")
        config_reset(settings, positional[0] if positional else None)
    except HubbleError as err:
        _fail(err)


@hubble.command("version")
def version() -> None:
    """Display detailed version information."""
    click.echo(f"hubble {VERSION} compiled with {GO_VERSION} on linux/amd64")
