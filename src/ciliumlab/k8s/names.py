"""Names the API server and controllers make up: pod-template-hash, generateName suffixes, DNS-1123 checks.

- `compute_hash` follows kube-controller-manager's `controller.ComputeHash`: FNV-32a over the pod
  template, then the collision count (uint32, little-endian, written as 8 bytes), then
  `rand.SafeEncodeString` of the decimal sum. Kubernetes hashes the Go struct through a spew
  printer; we hash a canonical JSON dump of the defaulted template instead, so the value is
  stable and shaped like the real one (`8c4c77fb7`, `674b8bbfcf`) without being bit-identical.
- `NameGenerator` is `names.SimpleNameGenerator` with a seeded RNG, so a fresh lab always names
  its pods the same way (`deathstar-8c4c77fb7-knv2j`).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import struct

# k8s.io/apimachinery/pkg/util/rand: no vowels (no words) and no 0/1/3 (look-alikes).
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
MAX_GENERATED_NAME_LENGTH = 63 - 5

DNS1123_LABEL_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + r")*"
DNS1035_LABEL_FMT = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_LABEL_RE = re.compile(f"^{DNS1123_LABEL_FMT}$")
_SUBDOMAIN_RE = re.compile(f"^{DNS1123_SUBDOMAIN_FMT}$")
_DNS1035_RE = re.compile(f"^{DNS1035_LABEL_FMT}$")

DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{DNS1123_LABEL_FMT}')"
)
DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{DNS1123_SUBDOMAIN_FMT}')"
)
DNS1035_LABEL_ERR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    f"validation is '{DNS1035_LABEL_FMT}')"
)


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def is_dns1123_label(value: str) -> list[str]:
    """Error strings (empty = valid), worded like apimachinery's `IsDNS1123Label`."""
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _LABEL_RE.match(value):
        errs.append(DNS1123_LABEL_ERR)
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _SUBDOMAIN_RE.match(value):
        errs.append(DNS1123_SUBDOMAIN_ERR)
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _DNS1035_RE.match(value):
        errs.append(DNS1035_LABEL_ERR)
    return errs


def safe_encode_string(s: str) -> str:
    """apimachinery `rand.SafeEncodeString`: map every character onto the safe alphabet."""
    return "".join(ALPHANUMS[ord(ch) % len(ALPHANUMS)] for ch in s)


def fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    """pod-template-hash of a (defaulted) pod template, as `controller.ComputeHash` shapes it."""
    h = fnv32a(canonical_json(template))
    if collision_count is not None:
        h = fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + b"\0\0\0\0", h)
    return safe_encode_string(str(h))


def fake_digest(text: str) -> str:
    """A deterministic sha256 hex digest standing in for an image or container id."""
    return hashlib.sha256(text.encode()).hexdigest()


class NameGenerator:
    """`generateName` suffixes from a seeded RNG (5 chars of the safe alphabet)."""

    def __init__(self, seed: str | int = "ciliumlab") -> None:
        self._rng = random.Random(f"names/{seed}")

    def suffix(self, n: int = 5) -> str:
        return "".join(self._rng.choice(ALPHANUMS) for _ in range(n))

    def generate(self, base: str, exists=None) -> str:
        """`base` + 5 random chars, base truncated like SimpleNameGenerator; skips names `exists(name)`."""
        base = base[:MAX_GENERATED_NAME_LENGTH]
        while True:
            name = base + self.suffix()
            if exists is None or not exists(name):
                return name

    def randbytes_hex(self, n: int = 32) -> str:
        return "".join(f"{self._rng.randrange(256):02x}" for _ in range(n))
