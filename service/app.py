"""The app factory: one ``Settings`` in, a ready FastAPI app out (no import-time state)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from service.api.routes import admin, akismet, comments, health
from service.edge import RequestContext
from service.errors import install_error_handlers
from service.limits import BodySizeLimit, TimeLimit
from service.logs import install_record_factory
from service.models import ModelHolder
from service.moderation import Moderation
from service.settings import Settings
from service.storage import Storage, upgrade

log = logging.getLogger(__name__)


async def _watch_registry(holder: ModelHolder, interval: float) -> None:
    """Poll the registry pointer and hot-swap the model when it changes."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(holder.refresh)
        except Exception:  # keep watching; the holder already logged why
            log.exception("model reload check failed")


def open_storage(settings: Settings) -> Storage:
    """Storage for ``settings``, migrated to the current schema when ``migrate_on_start``."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if settings.migrate_on_start:
        upgrade(url)
    return Storage(url, secret=settings.resolved_secret_key())


def create_app(settings: Settings | None = None, *, storage: Storage | None = None) -> FastAPI:
    """Build the app; ``storage`` is injected by tests, otherwise opened from ``settings``."""
    settings = settings or Settings()
    install_record_factory()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(app.state.models.refresh)
        watcher = None
        if settings.model_reload_seconds > 0:
            watcher = asyncio.create_task(
                _watch_registry(app.state.models, settings.model_reload_seconds)
            )
        try:
            yield
        finally:
            if watcher:
                watcher.cancel()
            if owns_storage:
                app.state.moderation.storage.close()

    app = FastAPI(
        title="Sluice",
        summary="Self-hosted comment spam filter with an Akismet-compatible API",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.models = ModelHolder(settings.models_dir)
    owns_storage = storage is None
    app.state.moderation = Moderation(
        models=app.state.models, storage=storage or open_storage(settings)
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(comments.router)
    app.include_router(akismet.router)
    app.include_router(admin.router)
    app.add_middleware(TimeLimit, seconds=settings.request_timeout_seconds)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)
    return app
