"""`cilium-dbg identity list [--endpoints]` and `identity get <id>`."""

from __future__ import annotations

from .common import Dbg, Fatal, UsageError, endpoints, go_json
from .tabwriter import TabWriter


def run(dbg: Dbg, args: list[str]) -> int:
    if not args:
        raise UsageError(f'missing subcommand for "{dbg.name} identity"', "identity")
    sub, rest = args[0], args[1:]
    if sub in ("list", "ls"):
        return _list(dbg, rest)
    if sub == "get":
        return _get(dbg, rest)
    raise UsageError(f'unknown command "{sub}" for "{dbg.name} identity"', "identity")


def _all(dbg: Dbg) -> list[tuple[int, list[str]]]:
    return sorted((i.id, list(i.labels.strings)) for i in dbg.lab.allocator.all())


def _list(dbg: Dbg, args: list[str]) -> int:
    as_json = any(a in ("-o", "--output", "-ojson", "-o=json", "--output=json") for a in args)
    w = TabWriter(dbg.out)
    if "--endpoints" in args:
        counts: dict[int, int] = {}
        for ep in endpoints(dbg):
            counts[ep.identity] = counts.get(ep.identity, 0) + 1
        rows = [(i, labels, counts[i]) for i, labels in _all(dbg) if i in counts]
        if as_json:
            dbg.write(go_json([{"identity": {"id": i, "labels": labels}, "refCount": n} for i, labels, n in rows]) + "\n")
            return 0
        w.write("ID\tLABELS\tREFCOUNT\n")
        for ident, labels, count in rows:
            for j, label in enumerate(labels):
                # identity_list.go: `%d\t%s\t%d\t\n`, continuation `\t%s\t\n`
                w.write(f"{ident}\t{label}\t{count}\t\n" if j == 0 else f"\t{label}\t\n")
        w.flush()
        return 0
    rows2 = _all(dbg)
    if as_json:
        dbg.write(go_json([{"id": i, "labels": labels} for i, labels in rows2]) + "\n")
        return 0
    w.write("ID\tLABELS\n")
    for ident, labels in rows2:
        for j, label in enumerate(labels):
            w.write(f"{ident}\t{label}\n" if j == 0 else f"\t{label}\n")
    w.flush()
    return 0


def _get(dbg: Dbg, args: list[str]) -> int:
    ids = [a for a in args if not a.startswith("-")]
    if not ids:
        raise UsageError("Usage: cilium identity get <identity>")
    try:
        ident = dbg.lab.allocator.get(int(ids[0]))
    except ValueError:
        ident = None
    if ident is None:
        raise Fatal(f"Cannot get identity for given ID {ids[0]}: [GET /identity/{{id}}][404] getIdentityIdNotFound \n")
    w = TabWriter(dbg.out)
    w.write("ID\tLABELS\n")
    for j, label in enumerate(ident.labels.strings):
        w.write(f"{ident.id}\t{label}\n" if j == 0 else f"\t{label}\n")
    w.flush()
    return 0
