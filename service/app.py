"""The app factory: one ``Settings`` in, a ready FastAPI app out (no import-time state)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service.api.routes import admin, akismet, comments, health
from service.dashboard import routes as dashboard
from service.edge import RequestContext
from service.errors import install_error_handlers
from service.flood import FloodDetector
from service.limits import BodySizeLimit, TimeLimit
from service.logs import install_record_factory
from service.models import ModelHolder
from service.moderation import Moderation
from service.observability import Metrics, MetricsMiddleware, metrics_endpoint, serve_metrics
from service.ratelimit import MemoryCounter, RateLimit, RedisCounter
from service.settings import Settings
from service.spool import Spool
from service.storage import Storage, upgrade
from service.storage.engine import limit_lock_wait

log = logging.getLogger(__name__)


async def _watch_registry(holder: ModelHolder, interval: float) -> None:
    """Poll the registry pointer and hot-swap the model when it changes."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(holder.refresh)
        except Exception:  # keep watching; the holder already logged why
            log.exception("model reload check failed")


async def _replay_spool(moderation: Moderation, interval: float) -> None:
    """Store spooled checks and feedback whenever the database answers again."""
    while True:
        try:
            await asyncio.to_thread(moderation.replay_spool)
        except Exception:  # keep trying; a line that cannot be stored is set aside by the spool
            log.exception("spool replay failed")
        await asyncio.sleep(interval)


def open_storage(settings: Settings) -> Storage:
    """Storage for ``settings``, migrated to the current schema when ``migrate_on_start``."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if settings.migrate_on_start:
        upgrade(url)
    storage = Storage(url, secret=settings.resolved_secret_key())
    # A lock held elsewhere makes a write spool instead of holding the request (both databases).
    limit_lock_wait(storage.engine, settings.database_lock_timeout_seconds)
    return storage


def create_app(settings: Settings | None = None, *, storage: Storage | None = None) -> FastAPI:
    """Build the app; ``storage`` is injected by tests, otherwise opened from ``settings``."""
    settings = settings or Settings()
    install_record_factory()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(app.state.models.refresh)
        metrics_server = None
        if settings.metrics_port:  # one worker; with several, the supervisor serves the port
            registry = app.state.metrics.scraped_registry()
            metrics_server = serve_metrics(registry, settings.metrics_host, settings.metrics_port)
        watcher = None
        if settings.model_reload_seconds > 0:
            watcher = asyncio.create_task(
                _watch_registry(app.state.models, settings.model_reload_seconds)
            )
        replayer = asyncio.create_task(
            _replay_spool(app.state.moderation, settings.spool_replay_seconds)
        )
        try:
            yield
        finally:
            # Reached after the server has finished the requests in flight (graceful stop).
            await asyncio.to_thread(app.state.moderation.shutdown)  # store checks held in memory
            replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replayer
            spool.seal()
            flood.close()
            if isinstance(counter, RedisCounter):
                await counter.close()
            if watcher:
                watcher.cancel()
            if owns_storage:
                app.state.moderation.storage.close()
            if metrics_server:
                metrics_server.shutdown()
                metrics_server.server_close()

    app = FastAPI(
        title="Sluice",
        summary="Self-hosted comment spam filter with an Akismet-compatible API",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics = Metrics()
    app.state.models = ModelHolder(
        settings.models_dir, on_loaded=metrics.model_loaded, on_rejected=metrics.model_rejected
    )
    owns_storage = storage is None
    spool = Spool(settings.data_dir / "spool")
    counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
    app.state.redis_counter = counter if isinstance(counter, RedisCounter) else None
    flood = FloodDetector(
        threshold=settings.flood_threshold,
        window=settings.flood_window_seconds,
        redis_url=settings.redis_url,
    )
    app.state.moderation = Moderation(
        models=app.state.models,
        storage=storage or open_storage(settings),
        metrics=metrics,
        spool=spool,
        flood=flood,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(comments.router)
    app.include_router(akismet.router)
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    if settings.metrics_public:
        app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount(dashboard.STATIC_PATH, dashboard.static_files(), name="dashboard-static")
    app.add_middleware(dashboard.LatencyMiddleware)
    app.add_middleware(TimeLimit, seconds=settings.request_timeout_seconds)
    if settings.rate_limit_key_per_minute or settings.rate_limit_ip_per_minute:
        app.add_middleware(
            RateLimit,
            counter=counter,
            per_key=settings.rate_limit_key_per_minute,
            per_ip=settings.rate_limit_ip_per_minute,
            on_refused=lambda scope: metrics.rate_limited.labels(scope).inc(),
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.cors_origins:  # closed unless origins are named; never with credentials
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(RequestContext)
    return app
