"""Liveness and readiness, public (load balancers call them without a key)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.ratelimit import RedisCounter
from service.storage import Storage

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health() -> dict[str, str]:
    """The process is up (says nothing about the model)."""
    return {"status": "ok"}


@router.get("/readyz")
async def read_readiness(request: Request) -> JSONResponse:
    """Ready only when a verified model is loaded and storage answers.

    Redis, when configured, is reported too but does not decide readiness: without it rate
    limits and flood counters fall back to each process's memory.
    """
    holder = request.app.state.models
    model = (
        {"ready": True, "version": holder.scorer.version}
        if holder.ready
        else {"ready": False, "error": holder.last_error}
    )
    if holder.ready and holder.last_error:
        model["last_reload_error"] = holder.last_error
    checks = {"model": model}
    checks["database"] = await asyncio.to_thread(
        storage_state, request.app.state.moderation.storage
    )
    ready = all(part.get("ready") for part in checks.values())
    redis = getattr(request.app.state, "redis_counter", None)
    if redis is not None:
        checks["redis"] = await redis_state(redis)
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


async def redis_state(counter: RedisCounter) -> dict[str, object]:
    try:
        await counter.ping()
    except Exception as exc:  # unreachable, refused, timed out: degraded, counting in memory
        return {"ready": False, "error": type(exc).__name__, "fallback": "per-process memory"}
    return {"ready": True}


def storage_state(storage: Storage) -> dict[str, object]:
    try:
        storage.ping()
    except Exception as exc:  # any driver error means "not ready", with its class for operators
        return {"ready": False, "error": type(exc).__name__}
    return {"ready": True}
