"""Word expansion: parameters, command substitution, arithmetic, field splitting, quote removal.

POSIX splits only the *results* of unquoted expansions on IFS; literal text and quoted parts
stay glued to their neighbours. We build each field from (text, splittable) pieces to get
``"$a"b``, ``$empty``, ``""`` and ``x$(echo 1 2)y`` right. Pathname globbing is not done
(nothing in a lab pod's filesystem worth globbing): a ``*`` stays literal, as in a shell
whose pattern matched nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .arith import evaluate
from .lexer import parse_double_quoted
from .tokens import Arith, CmdSub, Lit, Param, Word

if TYPE_CHECKING:
    from .interpreter import Interpreter


class ExpansionError(Exception):
    """``${X?}``-style fatal expansion errors and arithmetic errors: the command fails."""


def expand_words(interp: Interpreter, words: list[Word]) -> list[str]:
    out: list[str] = []
    for w in words:
        out.extend(expand_word(interp, w))
    return out


def expand_word(interp: Interpreter, word: Word) -> list[str]:
    """A word → zero or more fields."""
    fields: list[str] = []
    cur: list[str] = []
    cur_has = False  # the current field exists even if empty ("" or a quoted part)
    ifs = interp.get_var("IFS", " \t\n")

    for part in word.parts:
        if isinstance(part, Lit):
            cur.append(part.text)
            cur_has = True
            continue
        if isinstance(part, Param) and part.name in ("@", "*") and part.op is None:
            params = list(interp.positional)
            if part.quoted and part.name == "@":
                for k, p in enumerate(params):
                    if k > 0:
                        fields.append("".join(cur))
                        cur = []
                    cur.append(p)
                    cur_has = True
                continue
            value = (ifs[:1] if part.quoted else " ").join(params)
        else:
            value = expand_part(interp, part)
        if part.quoted:
            cur.append(value)
            cur_has = True
            continue
        # unquoted expansion result: split on IFS
        pieces = _split_ifs(value, ifs)
        if not pieces:
            continue
        leading_sep = bool(value) and value[0] in ifs
        trailing_sep = bool(value) and value[-1] in ifs
        for k, piece in enumerate(pieces):
            if k == 0 and not leading_sep:
                cur.append(piece)
                cur_has = True
            else:
                if cur_has:
                    fields.append("".join(cur))
                cur = [piece]
                cur_has = True
        if trailing_sep:
            fields.append("".join(cur))
            cur, cur_has = [], False
    if cur_has:
        fields.append("".join(cur))
    return fields


def expand_word_str(interp: Interpreter, word: Word) -> str:
    """Expansion without field splitting (assignments, redirection targets, case words)."""
    return "".join(p.text if isinstance(p, Lit) else expand_part(interp, p) for p in word.parts)


def expand_heredoc(interp: Interpreter, body: str) -> str:
    parts = parse_double_quoted(body.replace('"', '\\"'))
    return "".join(p.text if isinstance(p, Lit) else expand_part(interp, p) for p in parts)


def expand_part(interp: Interpreter, part: Param | CmdSub | Arith | Lit) -> str:
    if isinstance(part, Lit):
        return part.text
    if isinstance(part, CmdSub):
        return interp.command_substitution(part.source)
    if isinstance(part, Arith):
        src = expand_heredoc(interp, part.source)
        try:
            return str(evaluate(src, lambda n: interp.get_var(n, ""), interp.set_var))
        except Exception as exc:  # ArithError and friends
            raise ExpansionError(str(exc)) from exc
    return _param(interp, part)


def _param(interp: Interpreter, p: Param) -> str:
    value = interp.get_var(p.name)
    if p.op is None:
        if value is None and interp.nounset and p.name not in ("@", "*"):
            raise ExpansionError(f"{p.name}: parameter not set")
        return value or ""
    if p.op == "#len":
        return str(len(value or ""))
    unset_or_null = value is None or (p.op.startswith(":") and value == "")
    op = p.op.lstrip(":")
    arg = expand_word_str(interp, p.arg) if p.arg is not None else ""
    if op == "-":
        return arg if unset_or_null else (value or "")
    if op == "=":
        if unset_or_null:
            interp.set_var(p.name, arg)
            return arg
        return value or ""
    if op == "+":
        return "" if unset_or_null else arg
    return value or ""


def _split_ifs(value: str, ifs: str) -> list[str]:
    if not ifs:
        return [value] if value else []
    out: list[str] = []
    cur: list[str] = []
    for c in value:
        if c in ifs:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out
