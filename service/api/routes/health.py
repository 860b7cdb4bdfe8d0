"""Liveness and readiness, public (load balancers call them without a key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.storage import Storage

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health() -> dict[str, str]:
    """The process is up (says nothing about the model)."""
    return {"status": "ok"}


@router.get("/readyz")
def read_readiness(request: Request) -> JSONResponse:
    """Ready only when a verified model is loaded and storage answers."""
    holder = request.app.state.models
    model = (
        {"ready": True, "version": holder.scorer.version}
        if holder.ready
        else {"ready": False, "error": holder.last_error}
    )
    if holder.ready and holder.last_error:
        model["last_reload_error"] = holder.last_error
    checks = {"model": model}
    checks["database"] = storage_state(request.app.state.moderation.storage)
    ready = all(part.get("ready") for part in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


def storage_state(storage: Storage) -> dict[str, object]:
    try:
        storage.ping()
    except Exception as exc:  # any driver error means "not ready", with its class for operators
        return {"ready": False, "error": type(exc).__name__}
    return {"ready": True}
