"""Durable store for the served lab: every object in SQLite (WAL, `synchronous=FULL`).

`Persister` subscribes to `Store` changes and buffers them; `flush()` writes the buffer in one
transaction and returns only after SQLite has fsynced the commit. The served lab calls it when
the lab lock is released (`CommitLock`), so every write an API request makes is on disk before
the HTTP response that acknowledges it leaves the server. `kill -9` at any moment loses at most
the writes nobody was told about.

Restore is `Lab(restore=load(db)...)`: the objects come back exactly as stored (uid,
resourceVersion, creationTimestamp, status) in their original order, bootstrap is skipped, and
the Cilium agents adopt what the stored pods and CiliumEndpoints say (pod IPs, endpoint ids,
identity numbers).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from ..k8s.store import Key, Store, key_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SCHEMA_VERSION = "1"

_ADDED, _MODIFIED, _DELETED = "ADDED", "MODIFIED", "DELETED"


def connect(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def load(path: str | Path) -> tuple[list[dict], int] | None:
    """(objects in store order, resourceVersion) from a state database; None when it holds no lab."""
    if not Path(path).exists():
        return None
    db = connect(path)
    try:
        rows = db.execute("SELECT body FROM objects ORDER BY rowid").fetchall()
        rv = db.execute("SELECT value FROM meta WHERE key = 'resourceVersion'").fetchone()
    finally:
        db.close()
    if not rows:
        return None
    return [json.loads(body) for (body,) in rows], int(rv[0]) if rv else 0


class Persister:
    """Mirror a Store into SQLite. `snapshot()` writes the whole store (startup); after that
    `flush()` writes what changed since the last flush, atomically."""

    def __init__(self, path: str | Path, store: Store) -> None:
        self.path = Path(path)
        self.store = store
        self.db = connect(self.path)
        self._pending: dict[Key, tuple[str, dict | None]] = {}
        self._guard = threading.Lock()
        self.commits = 0
        store.subscribe(self._on_change)

    def _on_change(self, event: str, obj: dict, old: dict | None) -> None:
        key = key_of(obj)
        with self._guard:
            prev = self._pending.get(key)
            if event == _DELETED:
                self._pending[key] = (_DELETED, None)
            elif event == _ADDED or (prev is not None and prev[0] == _ADDED):
                # a new object (or one re-created after a delete in this batch) goes to the end
                self._pending.pop(key, None)
                self._pending[key] = (_ADDED, obj)
            else:
                self._pending[key] = (_MODIFIED, obj)

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    def snapshot(self) -> None:
        """Replace the database's contents with the whole store, in one transaction."""
        with self._guard:
            self._pending.clear()
            objects = list(self.store)
        rows = [(*key_of(o), _dump(o)) for o in objects]
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM objects")
            db.executemany("INSERT INTO objects (kind, namespace, name, body) VALUES (?, ?, ?, ?)", rows)
            self._write_meta()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.commits += 1

    def flush(self) -> int:
        """Commit the buffered changes (fsynced before returning); the number of objects written."""
        with self._guard:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for (kind, ns, name), (event, obj) in pending.items():
                if event == _DELETED or obj is None:
                    db.execute("DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?", (kind, ns, name))
                elif event == _ADDED:
                    db.execute("DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?", (kind, ns, name))
                    db.execute("INSERT INTO objects (kind, namespace, name, body) VALUES (?, ?, ?, ?)",
                               (kind, ns, name, _dump(obj)))
                else:
                    db.execute("INSERT INTO objects (kind, namespace, name, body) VALUES (?, ?, ?, ?) "
                               "ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body",
                               (kind, ns, name, _dump(obj)))
            self._write_meta()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            with self._guard:  # keep them for the next attempt (newer changes win)
                self._pending = {**pending, **self._pending}
            raise
        self.commits += 1
        return len(pending)

    def _write_meta(self) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [("resourceVersion", str(self.store.resource_version)),
                             ("schema", SCHEMA_VERSION)])

    def close(self) -> None:
        try:
            self.flush()
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self.db.close()


def _dump(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"))


class CommitLock:
    """The lab lock (a re-entrant lock) that runs `on_release` when its outermost holder lets go,
    still holding it: the API server's `LabGate` takes it around every engine call, so the
    persister's flush lands before the handler answers.

    `release_all()` / `restore(depth)` let the holding thread step out of every level it holds and
    come back (the wall clock's waiter, while a datapath timeout runs out); the outermost release
    commits, like any other."""

    def __init__(self, on_release: Callable[[], object] | None = None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None
        self.on_release = on_release

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._depth += 1
            self._owner = threading.get_ident()
        return got

    def release(self) -> None:
        try:
            if self._depth == 1 and self.on_release is not None:
                self.on_release()
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
            self._lock.release()

    def owned(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    def release_all(self) -> int:
        """Release every level the calling thread holds; returns how many, for `restore`."""
        depth = self._depth if self.owned() else 0
        for _ in range(depth):
            self.release()
        return depth

    def restore(self, depth: int) -> None:
        for _ in range(depth):
            self.acquire()

    def __enter__(self) -> CommitLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
