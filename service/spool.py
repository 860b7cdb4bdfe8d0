"""A local append-only journal for what the database could not take, replayed when it returns.

When the database is unavailable or locked, checks are still answered and feedback is still
acknowledged, but only once it is durable: each item becomes one JSON line, written and
``fsync``'d to a spool file under ``<data dir>/spool/`` before the answer goes out. A
background task (``Moderation.replay_spool``, started by the app's lifespan) replays the
files into the database when it answers again, oldest first, and deletes each file once
every line of it is stored.

Files and processes: each process appends to a file of its own
(``spool-<time ns>-<pid>.jsonl``) and holds an exclusive ``flock`` on it while it is open,
so with several workers a replay never reads a file that is still being written; a file
left by a process that died is replayed by whichever process gets to it first.

Failure modes, each tested in ``tests/hardening``:

- a write that fails (disk full, I/O error) is truncated back to the last whole line and
  raises ``SpoolUnavailable``: the caller refuses the item (503) rather than acknowledge it;
- a process killed mid-write leaves at most one partial last line, never acknowledged,
  which replay skips;
- a replay interrupted by the database going away again rewrites the file with the lines
  not yet stored (atomically, by rename); one interrupted by a crash replays some lines
  twice, which ``Moderation`` makes harmless (check ids are unique, feedback is matched).

Spool lines hold comment fields as received (e-mail and IP in clear, as in the request) for
the seconds or minutes of an outage; the files are created mode 0600 and removed once replayed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from service.storage import DatabaseUnavailable

log = logging.getLogger(__name__)

Entry = dict[str, Any]
Writer = Callable[[int, bytes], int]


class SpoolUnavailable(DatabaseUnavailable):
    """The database is unavailable and the spool could not take the item either."""


@dataclass(frozen=True, slots=True)
class ReplayResult:
    replayed: int
    dropped: int
    complete: bool


class Spool:
    """Append-only, fsync'd JSON-lines files under ``directory``; one writer file per process.

    ``write`` is ``os.write`` unless a test injects a failing one. ``active`` is the circuit
    breaker: while it is set, callers skip the database and spool at once, so an outage costs
    one timeout, not one per request; a complete replay clears it.
    """

    def __init__(self, directory: Path, *, write: Writer = os.write) -> None:
        self.directory = directory
        self.active = False
        self._write = write
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._pending_checks: dict[str, int] = {}

    # -- writing ---------------------------------------------------------------------------

    def append(self, entry: Entry) -> None:
        """Make ``entry`` durable (written and fsync'd) or raise ``SpoolUnavailable``."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            try:
                fd = self._open()
            except OSError as exc:
                raise SpoolUnavailable(f"spool unavailable ({_reason(exc)})") from exc
            size = os.lseek(fd, 0, os.SEEK_END)
            try:
                view = memoryview(line)
                while view:
                    view = view[self._write(fd, view) :]
                os.fsync(fd)
            except OSError as exc:
                self._cut(fd, size)
                raise SpoolUnavailable(f"spool write failed ({_reason(exc)})") from exc
            if entry.get("kind") == "check":
                self._pending_checks[str(entry["check_id"])] = int(entry["site_id"])

    def _open(self) -> int:
        if self._fd is not None:
            return self._fd
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"spool-{time.time_ns():020d}-{os.getpid()}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _fsync_dir(self.directory)
        self._fd, self._path = fd, path
        log.warning("spooling to %s until the database is back", path.name)
        return fd

    def _cut(self, fd: int, size: int) -> None:
        """Drop a partly written line so the file ends with a whole one."""
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError:
            log.exception("could not truncate the spool after a failed write")

    def seal(self) -> None:
        """Close the file being written, so it can be replayed (a new one opens on demand)."""
        with self._lock:
            self._seal()

    def _seal(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = self._path = None

    # -- reading ---------------------------------------------------------------------------

    def holds_check(self, check_id: str, site_id: int) -> bool:
        """True while check ``check_id`` of ``site_id`` awaits replay in a spool file of this
        process or of another worker sharing the directory."""
        if self._pending_checks.get(check_id) == site_id:
            return True
        return self.spooled_check_site(check_id) == site_id

    def spooled_check_site(self, check_id: str) -> int | None:
        """The site of check ``check_id`` if a spool file (any process's) still holds it.
        Files are replayed in no fixed order across processes, so feedback can come up
        before its check. Reads the files: only called while some are pending."""
        wanted = f'"check_id":"{check_id}"'.encode()
        for path in self.files():
            with contextlib.suppress(FileNotFoundError):  # replayed meanwhile
                for line in path.read_bytes().splitlines():
                    if wanted in line and line.startswith(b'{"kind":"check"'):
                        return int(json.loads(line)["site_id"])
        return None

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("spool-*.jsonl"))

    def pending(self) -> bool:
        return bool(self.files())

    def depth(self) -> int:
        """Whole records waiting in every process's files (the ``sluice_spool_depth`` gauge)."""
        waiting = 0
        for path in self.files():
            with contextlib.suppress(FileNotFoundError):  # replayed meanwhile
                waiting += path.read_bytes().count(b"\n")
        return waiting

    def entries(self) -> Iterator[Entry]:
        """Every whole line of every file (for tests and operators), oldest first."""
        for path in self.files():
            lines, _torn = _whole_lines(path.read_bytes())
            for line in lines:
                yield json.loads(line)

    def replay(self, apply: Callable[[Entry], None]) -> ReplayResult:
        """Apply every spooled line, oldest first; stop at the first ``DatabaseUnavailable``.

        ``apply`` must be idempotent for an item already stored. Any other exception drops
        that line (logged, and kept in ``rejected.jsonl`` for an operator).
        """
        self.seal()
        replayed = dropped = 0
        for path in self.files():
            claimed = _claim(path)
            if claimed is None:
                continue  # a live process is writing it, or another replay took it
            fd = claimed
            try:
                lines, torn = _whole_lines(_read_all(fd))
                if torn:
                    log.warning("%s: ignoring a partly written last line", path.name)
                for index, line in enumerate(lines):
                    try:
                        entry = json.loads(line)
                        apply(entry)
                    except DatabaseUnavailable:
                        _rewrite(path, lines[index:])
                        return ReplayResult(replayed, dropped, complete=False)
                    except Exception:
                        log.exception(
                            "%s: dropping a spooled line that cannot be stored", path.name
                        )
                        self._reject(line)
                        dropped += 1
                    else:
                        replayed += 1
                        if entry.get("kind") == "check":
                            self._pending_checks.pop(str(entry.get("check_id")), None)
                path.unlink()
                _fsync_dir(self.directory)
            finally:
                os.close(fd)
        if replayed or dropped:
            log.info("spool replayed: %d stored, %d dropped", replayed, dropped)
        return ReplayResult(replayed, dropped, complete=True)

    def purge_rejected(self, *, before: datetime) -> int:
        """Drop set-aside lines made before ``before``: they hold comments and personal data
        in clear, so they follow the retention of what the database keeps (``purge``)."""
        path = self.directory / "rejected.jsonl"
        if not path.exists():
            return 0
        with self._lock:
            lines, _torn = _whole_lines(path.read_bytes())
            kept = [line for line in lines if not _made_before(line, before)]
            if len(kept) < len(lines):
                _rewrite(path, kept)
        return len(lines) - len(kept)

    def _reject(self, line: bytes) -> None:
        try:
            with open(self.directory / "rejected.jsonl", "ab") as rejected:
                rejected.write(line + b"\n")
        except OSError:
            log.exception("could not keep a rejected spool line")


def _made_before(line: bytes, moment: datetime) -> bool:
    """Whether a spooled line was made before ``moment``; one that cannot be read counts as
    old (it can only be looked at by hand, and may hold anything)."""
    try:
        made = datetime.fromisoformat(json.loads(line)["at"])
    except (ValueError, KeyError, TypeError):
        return True
    return made < moment


def _reason(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _claim(path: Path) -> int | None:
    """Open and exclusively lock ``path`` if no one holds it and it is still that file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        same = os.stat(path).st_ino == os.fstat(fd).st_ino
    except (BlockingIOError, FileNotFoundError):
        same = False
    if not same:
        os.close(fd)
        return None
    return fd


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _whole_lines(data: bytes) -> tuple[list[bytes], bool]:
    """The complete lines of ``data``, and whether a partial last line was left out."""
    *lines, tail = data.split(b"\n")
    return [line for line in lines if line.strip()], bool(tail.strip())


def _rewrite(path: Path, lines: list[bytes]) -> None:
    """Replace ``path`` with ``lines`` (the ones not stored yet), atomically."""
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(b"".join(line + b"\n" for line in lines))
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    _fsync_dir(path.parent)
