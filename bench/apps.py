"""The two apps the HTTP benchmark serves, as uvicorn factories (``--factory``).

``sluice_app`` is the real service built from ``SLUICE_*`` environment variables. ``bare_app``
is the baseline: one FastAPI JSON endpoint that validates a small body with pydantic and
answers JSON, doing no other work — the ceiling the framework and server allow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI
from pydantic import BaseModel, Field

from service.app import create_app
from service.settings import Settings


class EchoIn(BaseModel):
    content: Annotated[str, Field(min_length=1, max_length=65_536)]
    author_name: str | None = None


class EchoOut(BaseModel):
    length: int
    spam: bool


def sluice_app() -> FastAPI:
    return create_app(Settings())


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def read_health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/echo", response_model=EchoOut)
    async def echo(body: EchoIn) -> EchoOut:
        return EchoOut(length=len(body.content), spam=False)

    return app
