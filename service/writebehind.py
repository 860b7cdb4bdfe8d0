"""Write-behind for checks: answer first, store in batches a few milliseconds later.

Storing each check in its own transaction cost most of a check's time (issue #5). A check
is not a promise to anyone (feedback is, and it stays synchronous and durable), so checks
wait in a bounded in-memory queue that one background thread per process stores in
batches: one transaction and one multi-row ``INSERT`` per batch.

What it guarantees:

- **Recent checks are readable.** ``flush`` stores everything pending before returning;
  ``Storage`` calls it before any read of checks, counters or usage (``before_reads``), and
  ``Moderation`` before feedback, so feedback on a check id just returned, the dashboard
  and the Akismet stats see every check this process answered. Another process or replica
  sees a check once it is stored: normally within ``interval`` plus one batch write.
- **Nothing is dropped silently.** A batch the database refuses as unavailable goes to
  ``on_unavailable`` (the spool, as before); if that fails too, the batch goes back to the
  front of the queue and is retried. When the queue holds ``max_pending`` checks, or
  ``max_pending_size`` as ``size_of`` measures them (comment text can be 64 KiB each),
  ``submit`` returns False and the caller stores that check itself, synchronously: the
  queue applies back-pressure instead of growing or losing checks.
- **Shutdown stores the rest.** ``close`` (the app's lifespan, after the last request)
  stops the thread and flushes what is left. A process killed outright loses the checks it
  held: normally those of the last ``interval``, but up to ``max_pending`` while the database
  is slow or locked (the answers were given; usage and counters miss them).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Defaults: a batch every 50 ms at most, up to 500 checks each; a few seconds of peak load
#: may wait in memory before ``submit`` pushes back.
FLUSH_INTERVAL_SECONDS = 0.05
BATCH_SIZE = 500
MAX_PENDING = 5_000
MAX_PENDING_SIZE = 64 * 1024 * 1024


class WriteBehind(Generic[T]):
    """A bounded queue of items that a daemon thread hands to ``store`` in batches.

    ``store(batch)`` writes one batch or raises; when it raises, ``on_unavailable(batch,
    error)`` gets the batch (to keep it somewhere durable); if that raises too, the batch
    is put back and retried at the next flush. The thread starts with the first item, so it
    runs in the process that serves requests (after a fork), never at import.
    """

    def __init__(
        self,
        store: Callable[[Sequence[T]], object],
        *,
        on_unavailable: Callable[[Sequence[T], Exception], object],
        interval: float = FLUSH_INTERVAL_SECONDS,
        batch_size: int = BATCH_SIZE,
        max_pending: int = MAX_PENDING,
        size_of: Callable[[T], int] = lambda item: 0,
        max_pending_size: int = MAX_PENDING_SIZE,
        name: str = "write-behind",
    ) -> None:
        self._store = store
        self._on_unavailable = on_unavailable
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.max_pending_size = max_pending_size
        self._size_of = size_of
        self._pending_size = 0
        self._name = name
        self._pending: deque[T] = deque()
        self._wake = threading.Condition()
        self._flushing = threading.RLock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._pending)

    def submit(self, item: T) -> bool:
        """Queue ``item``; False when the queue is full or closed (store it yourself then)."""
        size = self._size_of(item)
        with self._wake:
            full = len(self._pending) >= self.max_pending
            if self._closed or full or self._pending_size + size > self.max_pending_size:
                return False
            self._pending.append(item)
            self._pending_size += size
            if len(self._pending) == 1 or len(self._pending) >= self.batch_size:
                self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return True

    def flush(self) -> bool:
        """Store (or hand to ``on_unavailable``) everything queued; True when nothing is left."""
        with self._flushing:
            while True:
                with self._wake:
                    count = min(len(self._pending), self.batch_size)
                    batch = [self._pending.popleft() for _ in range(count)]
                    self._pending_size -= sum(map(self._size_of, batch))
                if not batch:
                    return True
                if not self._write(batch):
                    return False

    def _write(self, batch: list[T]) -> bool:
        try:
            self._store(batch)
            return True
        except Exception as exc:  # the database failed: keep the batch elsewhere
            store_error = exc
        try:
            self._on_unavailable(batch, store_error)
            return True
        except Exception:
            log.exception(
                "%d checks neither stored (%s) nor spooled; kept in memory to retry",
                len(batch),
                type(store_error).__name__,
            )
        with self._wake:
            self._pending.extendleft(reversed(batch))
            self._pending_size += sum(map(self._size_of, batch))
        return False

    def close(self) -> bool:
        """Stop the thread and flush what is left; True when nothing is left."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        return self.flush()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                # Gather a batch for ``interval`` unless it fills first.
                self._wake.wait_for(
                    lambda: len(self._pending) >= self.batch_size or self._closed,
                    timeout=self.interval,
                )
            if not self.flush():
                with self._wake:  # the database and the spool both failed: pause, then retry
                    self._wake.wait_for(lambda: self._closed, timeout=max(1.0, self.interval))
