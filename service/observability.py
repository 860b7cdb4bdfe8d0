"""Prometheus metrics for one app instance, and for all the workers of one server.

Each app gets its own ``CollectorRegistry`` (tests build many apps in one process). With
several workers (``service.workers``), prometheus-client's multiprocess mode is on: the
supervisor points ``PROMETHEUS_MULTIPROC_DIR`` at an emptied directory before it starts the
workers, every worker writes its samples to files there, and a scrape merges the files, so it
sees the whole server rather than one random worker. Counters and histograms are summed over
workers, dead ones included (their counts happened); gauges say how in ``multiprocess_mode``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.metrics_core import Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import REQUEST_FACTS

access = logging.getLogger("sluice.access")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """The service's series; domain code reports events through the small methods below."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "sluice_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "sluice_http_request_duration_seconds",
            "Time to answer, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.verdicts = Counter(
            "sluice_verdicts", "Checks by site and verdict", ["site", "verdict"], registry=r
        )
        self.feedback = Counter(
            "sluice_feedback",
            "Moderator feedback by label and source",
            ["label", "source"],
            registry=r,
        )
        # Several workers: one series per live worker (label ``pid``), so a scrape shows
        # which version each one serves, during a switch too; a dead worker's series go.
        self.model = Gauge(
            "sluice_model_info",
            "The served model (value 1; 0 for one served before)",
            ["version"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.reloads = Counter(
            "sluice_model_reloads", "Model loads by outcome", ["outcome"], registry=r
        )
        self.spool_depth = Gauge(
            "sluice_spool_depth",
            "Records waiting in the local spool for the database",
            registry=r,
            # every worker counts the same directory: the latest count is the replica's depth
            multiprocess_mode="livemostrecent",
        )
        self.rate_limited = Counter(
            "sluice_rate_limited", "Requests refused by a rate limit", ["scope"], registry=r
        )
        self._served: str | None = None

    def check(self, site_id: int, verdict: str) -> None:
        self.verdicts.labels(site=str(site_id), verdict=verdict).inc()

    def feedback_received(self, label: str, source: str) -> None:
        self.feedback.labels(label=label, source=source).inc()

    def model_loaded(self, version: str) -> None:
        if self._served and self._served != version:
            if multiprocess_dir():  # samples live in files there: removing cannot reach them
                self.model.labels(version=self._served).set(0)
            else:
                self.model.remove(self._served)
        self.model.labels(version=version).set(1)
        self._served = version
        self.reloads.labels(outcome="loaded").inc()

    def model_rejected(self) -> None:
        self.reloads.labels(outcome="rejected").inc()

    def scraped_registry(self) -> CollectorRegistry:
        """What a scrape reads: every worker's samples when several serve, else this app's."""
        directory = multiprocess_dir()
        return self.registry if directory is None else merged_registry(directory)

    def exposition(self) -> Response:
        return Response(generate_latest(self.scraped_registry()), media_type=CONTENT_TYPE_LATEST)


def multiprocess_dir() -> str | None:
    """Where the workers' samples are kept, when several processes serve (else ``None``)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _WorkersCollector(prometheus_multiprocess.MultiProcessCollector):
    """Every worker's sample files, except one a worker is creating at that instant: it is
    empty then, and prometheus-client's own collector fails the whole scrape on it (a 500)."""

    def collect(self) -> Iterable[Metric]:
        files = [path for path in Path(self._path).glob("*.db") if _has_header(path)]
        return self.merge([str(path) for path in files], accumulate=True)


def _has_header(path: Path) -> bool:
    try:
        return path.stat().st_size >= 8  # the used-bytes header; then it reads as samples
    except FileNotFoundError:  # a dead worker's live gauge, just removed
        return False


def merged_registry(directory: str) -> CollectorRegistry:
    """A registry that reads every worker's samples from ``directory`` at each scrape."""
    registry = CollectorRegistry()
    _WorkersCollector(registry, path=directory)
    return registry


def reset_multiprocess_dir(directory: Path) -> None:
    """Create ``directory`` or empty it of a previous run's sample files, which would
    otherwise be added to this run's counts."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def worker_gone(pid: int) -> None:
    """Drop the live gauges of a worker that exited; its counters and histograms stay."""
    directory = multiprocess_dir()
    if directory is not None:
        prometheus_multiprocess.mark_process_dead(pid, directory)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/comments/{check_id}/feedback``), never the raw
    path, so label values stay few and carry no ids. The router records the route it matched
    in the scope."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class MetricsMiddleware:
    """Counts every request and times it, by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        facts: dict[str, object] = {}
        token = REQUEST_FACTS.set(facts)

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            REQUEST_FACTS.reset(token)
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.requests.labels(
                route=route, method=scope["method"], status=str(status)
            ).inc()
            self.metrics.latency.labels(route=route).observe(seconds)
            access_log(scope["method"], route, status, seconds, facts)


def access_log(
    method: str, route: str, status: int, seconds: float, facts: dict[str, object]
) -> None:
    """One line per request: route template (no ids), status, duration, site and verdict."""
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        **facts,
    }
    extra = " ".join(f"{k}={v}" for k, v in facts.items())
    access.info(
        "%s %s %d %.1fms%s",
        method,
        route,
        status,
        seconds * 1000,
        f" {extra}" if extra else "",
        extra={"fields": fields},
    )


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return metrics.exposition()


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> WSGIServer:
    """``/metrics`` on ``host:port`` in a thread, apart from the public API. One process
    binds it: the app's with one worker, the supervisor's (``service.workers``) with several."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
