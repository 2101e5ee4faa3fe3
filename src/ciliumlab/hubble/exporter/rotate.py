"""A rolling file writer with lumberjack's semantics (natefinch/lumberjack v2, cilium's fork).

* The file is opened (or created, mode 0600, parent directories 0755) on the first write. An
  existing file is appended to, unless that write would bring it to the maximum size, in which
  case it is rotated first.
* A write that would make the current file exceed `max_size_mb` MiB rotates first: the file is
  renamed to `<name>-<UTC time 2006-01-02T15-04-05.000><ext>` in the same directory (time from
  the lab clock; a rotation never reuses an earlier backup's millisecond, see `_next_backup`)
  and a new file with the original name and the old file's mode is opened. Files
  never exceed the maximum; a single write larger than the maximum is refused with lumberjack's
  error (`write length N exceeds maximum file size M`) and nothing is written.
* After a rotation (and when the file is first opened) the "mill" keeps the `max_backups` newest
  backups (by the time in their name; 0 keeps all) and, with `compress`, gzips the kept ones to
  `<backup>.gz` through a `.gz.tmp` file. lumberjack mills in a goroutine; here it runs right
  after the rotation so the files on disk are deterministic.

Each line is written whole by one `write(2)` on an O_APPEND descriptor (never buffered or split
across calls, like the agent's json.Encoder), so no partial line is ever left in a file.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

MEGABYTE = 1024 * 1024
DEFAULT_MAX_SIZE_MB = 100  # lumberjack's default when MaxSize is 0
BACKUP_TIME_FORMAT = "2006-01-02T15-04-05.000"
COMPRESS_SUFFIX = ".gz"
TMP_SUFFIX = ".tmp"
_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})")


class RotateError(OSError):
    """A write lumberjack refuses or cannot perform."""


def go_ext(filename: str) -> str:
    """Go's filepath.Ext: from the last dot of the base name (`.log`; `.bashrc` for `.bashrc`)."""
    i = filename.rfind(".")
    return filename[i:] if i >= 0 else ""


def millis(now: float) -> int:
    return int(now * 1000 // 1)


def backup_time(ms: int) -> str:
    """`t.UTC().Format("2006-01-02T15-04-05.000")` for a time in unix milliseconds (Go truncates)."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y-%m-%dT%H-%M-%S}.{ms % 1000:03d}"


def backup_name(path: Path, now: float) -> Path:
    return _backup_name(path, millis(now))


def _backup_name(path: Path, ms: int) -> Path:
    ext = go_ext(path.name)
    prefix = path.name[: len(path.name) - len(ext)]
    return path.with_name(f"{prefix}-{backup_time(ms)}{ext}")


def parse_backup_time(stamp: str) -> datetime | None:
    m = _STAMP.fullmatch(stamp)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, ms * 1000, UTC)
    except ValueError:
        return None


class RotatingFile:
    """lumberjack.Logger: `write(bytes)`, `rotate()`, `close()`."""

    def __init__(self, path: Path | str, *, clock, max_size_mb: int = 10, max_backups: int = 5,
                 compress: bool = False) -> None:
        self.path = Path(path)
        self.clock = clock
        self.max_size_mb = max_size_mb
        self.max_backups = max_backups
        self.compress = compress
        self.max_bytes = (max_size_mb or DEFAULT_MAX_SIZE_MB) * MEGABYTE
        self.size = 0
        self.rotations = 0
        self._last_backup_ms = -1
        self._fd: int | None = None
        self._lock = threading.Lock()

    def touch(self) -> None:
        """Create the file (mode 0600) if it does not exist yet; contents untouched."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o600))

    # -- io.WriteCloser ---------------------------------------------------------------------------
    def write(self, data: bytes) -> int:
        n = len(data)
        if n > self.max_bytes:
            raise RotateError(f"write length {n} exceeds maximum file size {self.max_bytes}")
        with self._lock:
            if self._fd is None:
                self._open_existing_or_new(n)
            if self.size + n > self.max_bytes:
                self._rotate()
            self._write_all(data)
            self.size += n
        return n

    def close(self) -> None:
        with self._lock:
            self._close()

    def rotate(self) -> None:
        """Force a rotation (lumberjack's `Rotate`, e.g. on SIGHUP)."""
        with self._lock:
            self._rotate()

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    # -- internals --------------------------------------------------------------------------------
    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _rotate(self) -> None:
        self._close()
        self._open_new()
        self.rotations += 1
        self._mill()

    def _open_new(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        mode = 0o600
        try:
            st = self.path.stat()
        except FileNotFoundError:
            pass
        else:
            mode = st.st_mode & 0o7777  # keep the old file's mode
            os.replace(self.path, self._next_backup())
        self._fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC, mode)
        self.size = 0

    def _next_backup(self) -> Path:
        """The backup name for a rotation now. lumberjack simply uses the current time, and two
        rotations within one millisecond would overwrite the first backup; a real clock makes that
        practically impossible, but the lab clock can stand still while flows are written. So a
        rotation never reuses (or goes before) the time of an earlier backup: it takes the next
        free millisecond, keeping backups distinct and in order."""
        ms = max(millis(self.clock.now()), self._last_backup_ms + 1)
        name = _backup_name(self.path, ms)
        while name.exists() or name.with_name(name.name + COMPRESS_SUFFIX).exists():
            ms += 1
            name = _backup_name(self.path, ms)
        self._last_backup_ms = ms
        return name

    def _open_existing_or_new(self, write_len: int) -> None:
        self._mill()
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._open_new()
            return
        if st.st_size + write_len >= self.max_bytes:
            self._rotate()
            return
        try:
            self._fd = os.open(self.path, os.O_APPEND | os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            self._open_new()  # "if we fail to open the old log file ... just open a new one"
            return
        self.size = st.st_size

    def backups(self) -> list[tuple[datetime, Path]]:
        """Backup files (plain or .gz) by the time in their name, newest first."""
        prefix_ext = go_ext(self.path.name)
        prefix = self.path.name[: len(self.path.name) - len(prefix_ext)] + "-"
        found: list[tuple[datetime, Path]] = []
        try:
            entries = list(os.scandir(self.path.parent))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.is_dir() or not entry.name.startswith(prefix):
                continue
            for ext in (prefix_ext, prefix_ext + COMPRESS_SUFFIX):
                if entry.name.endswith(ext) and len(entry.name) >= len(prefix) + len(ext):
                    t = parse_backup_time(entry.name[len(prefix): len(entry.name) - len(ext)])
                    if t is not None:
                        found.append((t, Path(entry.path)))
                        break
        found.sort(key=lambda item: item[0], reverse=True)
        return found

    def _mill(self) -> None:
        if self.max_backups <= 0 and not self.compress:
            return
        files = self.backups()
        remove: list[Path] = []
        if 0 < self.max_backups < len(files):
            preserved: set[str] = set()
            remaining = []
            for item in files:
                name = item[1].name
                preserved.add(name[: -len(COMPRESS_SUFFIX)] if name.endswith(COMPRESS_SUFFIX) else name)
                (remove if len(preserved) > self.max_backups else remaining).append(item)
            remove = [p for _, p in remove]
            files = remaining
        for path in remove:
            try:
                path.unlink()
            except OSError:
                pass
        if self.compress:
            for _, path in files:
                if not path.name.endswith(COMPRESS_SUFFIX):
                    try:
                        compress_file(path, path.with_name(path.name + COMPRESS_SUFFIX))
                    except OSError:
                        pass


def compress_file(src: Path, dst: Path) -> None:
    """lumberjack's compressLogFile: gzip to `dst.tmp` (same mode), fsync, rename, remove `src`."""
    mode = src.stat().st_mode & 0o7777
    tmp = dst.with_name(dst.name + TMP_SUFFIX)
    try:
        with open(src, "rb") as fin, open(os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, mode), "wb") as fout:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fout, compresslevel=6, mtime=0) as gz:
                shutil.copyfileobj(fin, gz, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)
    src.unlink()
