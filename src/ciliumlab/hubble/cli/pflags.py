"""A small pflag: GNU-style flag parsing with Go's exact error texts.

click cannot express hubble's ordered filter semantics (`--not` applies to the *next* flag and
repeated flags accumulate in order), so commands take their raw arguments and parse them here
into an ordered list of (flag, value) pairs, failing with the messages cobra/pflag print.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import HubbleError


@dataclass(frozen=True)
class FlagSpec:
    """One flag: its name, optional shorthand and NoOptDefVal (value when given bare)."""

    name: str
    shorthand: str = ""
    no_opt_default: str | None = None  # bool flags: "true"

    @property
    def display(self) -> str:
        return f"-{self.shorthand}, --{self.name}" if self.shorthand else f"--{self.name}"


def go_quote(text: str) -> str:
    """Go `%q` of a string (ASCII-safe subset)."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def invalid_argument(spec: FlagSpec, value: str, err: str) -> HubbleError:
    """pflag's wrapper around a Value.Set failure."""
    return HubbleError(f"invalid argument {go_quote(value)} for {go_quote(spec.display)} flag: {err}")


def parse_args(argv: list[str], specs: list[FlagSpec]) -> tuple[list[tuple[FlagSpec, str]], list[str]]:
    """Parse `argv` → ([(spec, value), ...] in order, positional args). Interspersed args allowed."""
    by_name = {s.name: s for s in specs}
    by_short = {s.shorthand: s for s in specs if s.shorthand}
    out: list[tuple[FlagSpec, str]] = []
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional.extend(argv[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        if arg.startswith("--"):
            body = arg[2:]
            if not body or body[0] in "-=":
                raise HubbleError(f"bad flag syntax: {arg}")
            name, eq, value = body.partition("=")
            spec = by_name.get(name)
            if spec is None:
                raise HubbleError(f"unknown flag: --{name}")
            if eq:
                out.append((spec, value))
            elif spec.no_opt_default is not None:
                out.append((spec, spec.no_opt_default))
            elif i < len(argv):
                out.append((spec, argv[i]))
                i += 1
            else:
                raise HubbleError(f"flag needs an argument: --{name}")
            continue
        shorthands = arg[1:]
        while shorthands:
            c = shorthands[0]
            spec = by_short.get(c)
            if spec is None:
                raise HubbleError(f"unknown shorthand flag: '{c}' in -{shorthands}")
            if len(shorthands) > 2 and shorthands[1] == "=":
                out.append((spec, shorthands[2:]))
                shorthands = ""
            elif spec.no_opt_default is not None:
                out.append((spec, spec.no_opt_default))
                shorthands = shorthands[1:]
            elif len(shorthands) > 1:
                out.append((spec, shorthands[1:]))
                shorthands = ""
            elif i < len(argv):
                out.append((spec, argv[i]))
                i += 1
                shorthands = ""
            else:
                raise HubbleError(f"flag needs an argument: '{c}' in -{shorthands}")
    return out, positional
