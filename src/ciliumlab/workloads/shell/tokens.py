"""Token and word-part types shared by the lexer, parser and expander.

A shell word is not a string: ``"$HOST":80`` is a quoted parameter followed by a literal.
Keeping the parts (with whether each was quoted) lets expansion do field splitting exactly
where POSIX does — on unquoted expansion results only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Lit:
    text: str
    quoted: bool = False


@dataclass
class Param:
    """``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${#NAME}``, ``$?``, ``$1`` …"""

    name: str
    quoted: bool = False
    op: str | None = None  # ":-", "-", ":=", "=", ":+", "+", "#len"
    arg: Word | None = None


@dataclass
class CmdSub:
    """``$(…)`` or backticks; ``source`` is parsed when expanded."""

    source: str
    quoted: bool = False


@dataclass
class Arith:
    source: str
    quoted: bool = False


Part = Lit | Param | CmdSub | Arith


@dataclass
class Word:
    parts: list[Part] = field(default_factory=list)
    raw: str = ""

    def literal(self) -> str | None:
        """The word's text if it is one unquoted literal (reserved words, assignments)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        if not self.parts:
            return None
        return None

    @property
    def has_quotes(self) -> bool:
        return any(getattr(p, "quoted", False) for p in self.parts)


@dataclass
class Op:
    """An operator token: ``|``, ``&&``, ``;``, ``(``, ``>``, ``2>&1`` is IO number + ``>&`` …"""

    value: str
    fd: int | None = None  # IO number before a redirection operator


@dataclass
class Newline:
    pass


@dataclass
class Heredoc:
    """Body of a ``<<`` here-document (attached to the following redirection)."""

    body: str
    quoted: bool


@dataclass
class EOF:
    pass


Token = Word | Op | Newline | EOF
