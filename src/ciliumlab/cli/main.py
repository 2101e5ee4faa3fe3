"""The `ciliumlab` command (also `python -m ciliumlab`)."""

from __future__ import annotations

import os

# gRPC's C core logs failed TLS handshakes to stderr; the CLI reports them itself, as hubble does
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

import click  # noqa: E402

from .. import __version__  # noqa: E402
from ..hubble.cli import hubble
from .cilium import cilium
from .cilium_dbg import cilium_dbg
from .demo import demo
from .served import COMMANDS as SERVED_COMMANDS
from .ssh import ssh


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ciliumlab")
def cli() -> None:
    """ciliumlab: a Cilium + Hubble lab as one Python program."""


cli.add_command(cilium)
cli.add_command(cilium_dbg)
cli.add_command(demo)
cli.add_command(hubble)
cli.add_command(ssh)
for _command in SERVED_COMMANDS:
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="ciliumlab")
