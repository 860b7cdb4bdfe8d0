"""Every dashboard page in one router, plus its static files, for ``create_app`` to mount."""

from __future__ import annotations

from starlette.staticfiles import StaticFiles

from service.dashboard import auth, models, overview, queue, sites, tryit
from service.dashboard.latency import LatencyMiddleware
from service.dashboard.web import PREFIX, STATIC_DIR, make_router

#: The page modules; each has a ``router`` whose paths are relative to ``PREFIX``.
PAGES = (auth, overview, queue, models, sites, tryit)
router = make_router(prefix=PREFIX, tags=["dashboard"])
for page in PAGES:
    router.include_router(page.router)

STATIC_PATH = f"{PREFIX}/static"


def static_files() -> StaticFiles:
    """The dashboard's CSS and JavaScript (mount at ``STATIC_PATH``)."""
    return StaticFiles(directory=STATIC_DIR)


__all__ = ["PAGES", "STATIC_PATH", "LatencyMiddleware", "router", "static_files"]
