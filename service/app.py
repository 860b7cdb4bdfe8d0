"""The app factory: one ``Settings`` in, a ready FastAPI app out (no import-time state)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from service.api.routes import comments, health
from service.errors import install_error_handlers
from service.limits import BodySizeLimit
from service.models import ModelHolder
from service.settings import Settings

log = logging.getLogger(__name__)


async def _watch_registry(holder: ModelHolder, interval: float) -> None:
    """Poll the registry pointer and hot-swap the model when it changes."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(holder.refresh)
        except Exception:  # keep watching; the holder already logged why
            log.exception("model reload check failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

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

    app = FastAPI(
        title="Sluice",
        summary="Self-hosted comment spam filter with an Akismet-compatible API",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.models = ModelHolder(settings.models_dir)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(comments.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
