"""Recursive-descent parser for the POSIX shell subset (see package docstring).

Grammar (simplified from POSIX XCU 2.10):
    list      := and_or ((';' | '&' | NL) and_or)*
    and_or    := pipeline (('&&' | '||') NL* pipeline)*
    pipeline  := ['!'] command ('|' NL* command)*
    command   := compound redirect* | funcdef | simple
"""

from __future__ import annotations

import functools
import re

from . import ast
from .lexer import Lexer, ShellSyntaxError
from .tokens import EOF, Newline, Op, Token, Word

ASSIGN_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_END = {"then", "elif", "else", "fi", "do", "done", "}", "esac", ";;"}
REDIR_OPS = {">", ">>", "<", ">&", "<&", "&>", "<<", ">|"}


@functools.lru_cache(maxsize=1024)
def parse(src: str) -> ast.Node:
    """Parse a script. Cached: trees are never mutated, and loops re-run the same scripts."""
    return Parser(src).parse_program()


class Parser:
    def __init__(self, src: str) -> None:
        self.lexer = Lexer(src)
        self._peeked: Token | None = None

    # --------------------------------------------------------------------------- token helpers
    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self.lexer.next()
        return self._peeked

    def take(self) -> Token:
        tok = self.peek()
        self._peeked = None
        return tok

    def peek_op(self, *values: str) -> bool:
        tok = self.peek()
        return isinstance(tok, Op) and tok.value in values

    def peek_reserved(self, *values: str) -> bool:
        tok = self.peek()
        return isinstance(tok, Word) and tok.literal() in values

    def expect_reserved(self, value: str) -> None:
        tok = self.take()
        if not (isinstance(tok, Word) and tok.literal() == value):
            raise ShellSyntaxError(f"syntax error: unexpected {_describe(tok)} (expecting \"{value}\")")

    def skip_newlines(self) -> None:
        while isinstance(self.peek(), Newline):
            self.take()

    # --------------------------------------------------------------------------- grammar
    def parse_program(self) -> ast.Node:
        node = self.parse_list()
        tok = self.peek()
        if not isinstance(tok, EOF):
            raise ShellSyntaxError(f"syntax error: unexpected {_describe(tok)}")
        return node

    def parse_list(self) -> ast.Node:
        items: list[ast.Node] = []
        self.skip_newlines()
        while True:
            tok = self.peek()
            if isinstance(tok, EOF) or self.peek_op(")", ";;") or self.peek_reserved(*RESERVED_END):
                break
            node = self.parse_and_or()
            if self.peek_op("&"):
                self.take()
                node = ast.Background(node)
            elif self.peek_op(";"):
                self.take()
            items.append(node)
            self.skip_newlines()
        if len(items) == 1:
            return items[0]
        return ast.Sequence(items)

    def parse_and_or(self) -> ast.Node:
        first = self.parse_pipeline()
        rest: list[tuple[str, ast.Node]] = []
        while self.peek_op("&&", "||"):
            op = self.take()
            assert isinstance(op, Op)
            self.skip_newlines()
            rest.append((op.value, self.parse_pipeline()))
        return ast.AndOr(first, rest) if rest else first

    def parse_pipeline(self) -> ast.Node:
        negate = False
        if self.peek_reserved("!"):
            self.take()
            negate = True
        cmds = [self.parse_command()]
        while self.peek_op("|"):
            self.take()
            self.skip_newlines()
            cmds.append(self.parse_command())
        if len(cmds) == 1 and not negate:
            return cmds[0]
        return ast.Pipeline(cmds, negate)

    def parse_command(self) -> ast.Node:
        tok = self.peek()
        body: ast.Node | None = None
        if self.peek_op("("):
            self.take()
            inner = self.parse_list()
            if not self.peek_op(")"):
                raise ShellSyntaxError(f"syntax error: unexpected {_describe(self.peek())} (expecting \")\")")
            self.take()
            body = ast.Group(inner, subshell=True)
        elif isinstance(tok, Word):
            lit = tok.literal()
            if lit == "{":
                self.take()
                inner = self.parse_list()
                self.expect_reserved("}")
                body = ast.Group(inner)
            elif lit == "if":
                body = self.parse_if()
            elif lit in ("while", "until"):
                body = self.parse_loop()
            elif lit == "for":
                body = self.parse_for()
            elif lit == "case":
                body = self.parse_case()
        elif isinstance(tok, EOF | Newline) or self.peek_op(";", "&", "|", "&&", "||", ")"):
            raise ShellSyntaxError(f"syntax error: unexpected {_describe(tok)}")
        if body is not None:
            redirects = self.parse_redirects()
            return ast.Compound(body, redirects) if redirects else body
        return self.parse_simple()

    def parse_redirects(self) -> list[ast.Redirect]:
        out = []
        while self.peek_op(*REDIR_OPS):
            out.append(self.parse_redirect())
        return out

    def parse_redirect(self) -> ast.Redirect:
        tok = self.take()
        assert isinstance(tok, Op)
        target = self.take()
        if not isinstance(target, Word):
            raise ShellSyntaxError(f"syntax error: unexpected {_describe(target)}")
        fd = tok.fd if tok.fd is not None else (0 if tok.value in ("<", "<&", "<<") else 1)
        redir = ast.Redirect(tok.value, fd, target)
        if tok.value == "<<":
            redir.heredoc = []
            self.lexer.add_heredoc(target, False, redir.heredoc)
        return redir

    def parse_simple(self) -> ast.Node:
        cmd = ast.Simple()
        while True:
            tok = self.peek()
            if self.peek_op(*REDIR_OPS):
                cmd.redirects.append(self.parse_redirect())
                continue
            if not isinstance(tok, Word):
                break
            if not cmd.words:
                m = ASSIGN_RE.match(tok.raw)
                if m and tok.parts and _starts_unquoted_assign(tok, m.group(1)):
                    self.take()
                    cmd.assigns.append((m.group(1), _strip_assign(tok, len(m.group(0)))))
                    continue
            self.take()
            cmd.words.append(tok)
            if len(cmd.words) == 1 and self.peek_op("("):
                name = tok.literal()
                if name and NAME_RE.match(name):
                    return self.parse_funcdef(name)
        if not cmd.words and not cmd.assigns and not cmd.redirects:
            raise ShellSyntaxError(f"syntax error: unexpected {_describe(self.peek())}")
        return cmd

    def parse_funcdef(self, name: str) -> ast.Node:
        self.take()
        if not self.peek_op(")"):
            raise ShellSyntaxError("syntax error: unexpected \"(\"")
        self.take()
        self.skip_newlines()
        return ast.FuncDef(name, self.parse_command())

    def parse_if(self) -> ast.Node:
        self.expect_reserved("if")
        branches = []
        cond = self.parse_list()
        self.expect_reserved("then")
        branches.append((cond, self.parse_list()))
        orelse = None
        while True:
            if self.peek_reserved("elif"):
                self.take()
                cond = self.parse_list()
                self.expect_reserved("then")
                branches.append((cond, self.parse_list()))
            elif self.peek_reserved("else"):
                self.take()
                orelse = self.parse_list()
            else:
                break
        self.expect_reserved("fi")
        return ast.If(branches, orelse)

    def parse_loop(self) -> ast.Node:
        tok = self.take()
        assert isinstance(tok, Word)
        until = tok.literal() == "until"
        cond = self.parse_list()
        self.expect_reserved("do")
        body = self.parse_list()
        self.expect_reserved("done")
        return ast.Loop(cond, body, until)

    def parse_for(self) -> ast.Node:
        self.expect_reserved("for")
        var_tok = self.take()
        if not (isinstance(var_tok, Word) and var_tok.literal() and NAME_RE.match(var_tok.literal() or "")):
            raise ShellSyntaxError("syntax error: bad for loop variable")
        words: list[Word] | None = None
        self.skip_newlines()
        if self.peek_reserved("in"):
            self.take()
            words = []
            while isinstance(self.peek(), Word) and not self.peek_reserved("do"):
                tok = self.take()
                assert isinstance(tok, Word)
                words.append(tok)
        if self.peek_op(";"):
            self.take()
        self.skip_newlines()
        self.expect_reserved("do")
        body = self.parse_list()
        self.expect_reserved("done")
        return ast.For(var_tok.literal() or "", words, body)

    def parse_case(self) -> ast.Node:
        self.expect_reserved("case")
        word = self.take()
        if not isinstance(word, Word):
            raise ShellSyntaxError("syntax error: bad case")
        self.skip_newlines()
        self.expect_reserved("in")
        self.skip_newlines()
        items: list[tuple[list[Word], ast.Node | None]] = []
        while not self.peek_reserved("esac"):
            if self.peek_op("("):
                self.take()
            patterns: list[Word] = []
            while True:
                pat = self.take()
                if not isinstance(pat, Word):
                    raise ShellSyntaxError(f"syntax error: unexpected {_describe(pat)}")
                patterns.append(pat)
                if self.peek_op("|"):
                    self.take()
                    continue
                break
            if not self.peek_op(")"):
                raise ShellSyntaxError(f"syntax error: unexpected {_describe(self.peek())}")
            self.take()
            body = self.parse_list()
            items.append((patterns, body))
            if self.peek_op(";;"):
                self.take()
            self.skip_newlines()
            if isinstance(self.peek(), EOF):
                raise ShellSyntaxError("syntax error: unexpected end of file (expecting \"esac\")")
        self.take()
        return ast.Case(word, items)


def _starts_unquoted_assign(tok: Word, name: str) -> bool:
    first = tok.parts[0]
    from .tokens import Lit

    return isinstance(first, Lit) and not first.quoted and first.text.startswith(name + "=")


def _strip_assign(tok: Word, n: int) -> Word:
    """The value part of ``NAME=value`` (drop the first ``n`` characters of the first literal)."""
    from .tokens import Lit

    first = tok.parts[0]
    assert isinstance(first, Lit)
    rest = first.text[n:]
    parts = ([Lit(rest)] if rest else []) + tok.parts[1:]
    return Word(parts, tok.raw[n:])


def _describe(tok: Token) -> str:
    if isinstance(tok, EOF):
        return "end of file"
    if isinstance(tok, Newline):
        return "newline"
    if isinstance(tok, Op):
        return f'"{tok.value}"'
    return f'"{tok.raw}"'
