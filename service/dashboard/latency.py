"""Service latency for the dashboard: a ring buffer of recent request timings, in process.

A middleware times every HTTP request that is not the dashboard's own and adds
``(when, endpoint group, seconds)`` to a bounded deque, so memory stays constant however
busy the service is. With several workers each process shows its own requests; that is
enough to see whether the filter answers quickly, which is all the overview needs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RING_SIZE = 20_000
DASHBOARD_PREFIX = "/dashboard"

# Endpoint groups shown on the overview; the first prefix that matches wins.
_GROUPS: tuple[tuple[str, str], ...] = (
    ("/v1/comments/check", "check (JSON)"),
    ("/v1/comments", "feedback (JSON)"),
    ("/1.1/comment-check", "check (Akismet)"),
    ("/1.2/comment-check", "check (Akismet)"),
    ("/1.1/submit", "feedback (Akismet)"),
    ("/1.2/submit", "feedback (Akismet)"),
    ("/1.1/", "other (Akismet)"),
    ("/1.2/", "other (Akismet)"),
    ("/admin", "admin"),
    ("/health", "health"),
)


def endpoint_group(path: str) -> str:
    for prefix, group in _GROUPS:
        if path.startswith(prefix):
            return group
    return "other"


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Milliseconds over some requests."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True, slots=True)
class LatencyBucket:
    """One time bucket of the latency chart; ``stats`` is ``None`` when nothing was served."""

    start: float  # Unix time
    stats: LatencyStats | None


def _stats(seconds: Iterable[float]) -> LatencyStats | None:
    values = sorted(s * 1000.0 for s in seconds)
    if not values:
        return None
    return LatencyStats(
        count=len(values),
        p50=percentile(values, 0.50),
        p95=percentile(values, 0.95),
        p99=percentile(values, 0.99),
        max=values[-1],
    )


class LatencyRecorder:
    """Thread-safe ring buffer of ``(unix time, group, seconds)``; ``clock`` for tests."""

    def __init__(self, size: int = RING_SIZE, *, clock: Callable[[], float] = time.time) -> None:
        self._samples: deque[tuple[float, str, float]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._clock = clock

    def record(self, path: str, seconds: float) -> None:
        """Add one request; paths outside the service's endpoints (``other``) are ignored."""
        group = endpoint_group(path)
        if group == "other":
            return
        with self._lock:
            self._samples.append((self._clock(), group, seconds))

    def _recent(self, window: float) -> list[tuple[float, str, float]]:
        since = self._clock() - window
        with self._lock:
            return [s for s in self._samples if s[0] >= since]

    def summary(self, *, window: float = 3600.0) -> dict[str, LatencyStats]:
        """Stats per endpoint group over the last ``window`` seconds, plus ``"all"``."""
        samples = self._recent(window)
        groups: dict[str, list[float]] = {}
        for _, group, seconds in samples:
            groups.setdefault(group, []).append(seconds)
        result = {g: s for g, v in sorted(groups.items()) if (s := _stats(v)) is not None}
        overall = _stats(s for _, _, s in samples)
        if overall is not None:
            result["all"] = overall
        return result

    def buckets(self, *, window: float = 3600.0, step: float = 300.0) -> list[LatencyBucket]:
        """Stats per ``step`` seconds over the last ``window``, oldest first, for a chart."""
        count = max(1, round(window / step))
        end = math.floor(self._clock() / step) * step + step  # the current bucket's end
        first = end - count * step
        per: list[list[float]] = [[] for _ in range(count)]
        for when, _, seconds in self._recent(window + step):
            index = int((when - first) // step)
            if 0 <= index < count:
                per[index].append(seconds)
        return [LatencyBucket(first + i * step, _stats(values)) for i, values in enumerate(per)]


class LatencyMiddleware:
    """Times each HTTP request outside ``/dashboard`` into the app's ``LatencyRecorder``.

    The recorder lives on ``app.state.dashboard_latency`` (created on first use), so the
    dashboard reads the same buffer this middleware writes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path.startswith(DASHBOARD_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        finished: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal finished
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished = time.perf_counter()

        try:
            await self.app(scope, receive, timed_send)
        finally:
            elapsed = (finished or time.perf_counter()) - started
            recorder_for(scope["app"]).record(path, elapsed)


_create_lock = threading.Lock()


def recorder_for(app: object) -> LatencyRecorder:
    """The ``LatencyRecorder`` of a Starlette app, made on first use."""
    state = app.state  # type: ignore[attr-defined]
    recorder = getattr(state, "dashboard_latency", None)
    if recorder is None:
        with _create_lock:
            recorder = getattr(state, "dashboard_latency", None)
            if recorder is None:
                recorder = LatencyRecorder()
                state.dashboard_latency = recorder
    return recorder  # type: ignore[no-any-return]
