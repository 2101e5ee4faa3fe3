"""Shell syntax tree: the node types the parser builds and the interpreter walks."""

from __future__ import annotations

from dataclasses import dataclass, field

from .tokens import Word


@dataclass
class Redirect:
    op: str  # ">", ">>", "<", ">&", "<&", "&>", "<<", ">|"
    fd: int  # the redirected descriptor (default 1 for >, 0 for <)
    target: Word
    heredoc: list[str] | None = None  # [body, "q" if the delimiter was quoted]


@dataclass
class Simple:
    assigns: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Pipeline:
    commands: list[Node]
    negate: bool = False


@dataclass
class AndOr:
    """``first (op rest)*`` with op ``&&`` / ``||``, evaluated left to right."""

    first: Node
    rest: list[tuple[str, Node]]


@dataclass
class Sequence:
    items: list[Node]


@dataclass
class If:
    branches: list[tuple[Node, Node]]  # (condition, body)
    orelse: Node | None = None


@dataclass
class Loop:
    cond: Node
    body: Node
    until: bool = False


@dataclass
class For:
    var: str
    words: list[Word] | None  # None: "$@"
    body: Node


@dataclass
class Case:
    word: Word
    items: list[tuple[list[Word], Node | None]]


@dataclass
class Group:
    body: Node
    subshell: bool = False


@dataclass
class Compound:
    """A compound command with redirections attached (``while …; done > f``)."""

    body: Node
    redirects: list[Redirect]


@dataclass
class FuncDef:
    name: str
    body: Node


@dataclass
class Background:
    """``cmd &``: the lab has no job control; it runs to completion in place."""

    body: Node


Node = Simple | Pipeline | AndOr | Sequence | If | Loop | For | Case | Group | Compound | FuncDef | Background
