"""Connection tracking: once a connection was allowed, its packets and replies pass unchecked.

Entries are keyed by the 5-tuple as the originator sent it; a reply is recognised by looking
up the reversed tuple. Policy changes do not cut tracked connections (spec §13.3).
"""

from __future__ import annotations

from dataclasses import dataclass

CTKey = tuple[int, str, int, str, int]  # proto, src ip, src port, dst ip, dst port


@dataclass(slots=True)
class CTEntry:
    created: float
    last_seen: float
    proxy_port: int = 0  # L7 redirect for this connection
    rev_nat: tuple[str, int] | None = None  # service frontend to restore on replies
    packets: int = 0
    bytes: int = 0
    closed: bool = False
    src_identity: int = 0
    ingress: bool = False


class Conntrack:
    TCP_LIFETIME = 21600.0
    NON_TCP_LIFETIME = 60.0

    GC_EVERY = 4096  # creations between garbage collections (the agent's CT GC interval, in work)

    def __init__(self) -> None:
        self._entries: dict[CTKey, CTEntry] = {}
        self._created = 0

    def lookup(self, key: CTKey) -> tuple[CTEntry | None, bool]:
        """(entry, is_reply) for a packet with this 5-tuple."""
        entry = self._entries.get(key)
        if entry is not None:
            return entry, False
        proto, sip, sport, dip, dport = key
        entry = self._entries.get((proto, dip, dport, sip, sport))
        return entry, entry is not None

    def create(self, key: CTKey, now: float, **kw) -> CTEntry:
        self._created += 1
        if self._created % self.GC_EVERY == 0:
            self.gc(now)
        entry = CTEntry(created=now, last_seen=now, **kw)
        self._entries[key] = entry
        return entry

    def delete(self, key: CTKey) -> None:
        self._entries.pop(key, None)

    def gc(self, now: float) -> int:
        """Drop expired entries (closed TCP quickly, others by lifetime)."""
        dead = [k for k, e in self._entries.items()
                if (e.closed and now - e.last_seen > 10)
                or now - e.last_seen > (self.TCP_LIFETIME if k[0] == 6 else self.NON_TCP_LIFETIME)]
        for k in dead:
            del self._entries[k]
        return len(dead)

    def items(self) -> list[tuple[CTKey, CTEntry]]:
        return list(self._entries.items())

    def __len__(self) -> int:
        return len(self._entries)
