"""Request dependencies as ``Annotated`` aliases: the moderation service and the caller's key.

They are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, and two
thread hops per check cost more than the cached key lookup they wrap. ``require_key``
answers from ``Storage``'s key cache in the event loop and goes to a thread only when
the database must be asked.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from service.errors import Unauthorized
from service.moderation import Moderation
from service.storage import KeyMatch

_bearer = HTTPBearer(auto_error=False, description="an API key (12 hexadecimal characters)")
_admin_bearer = HTTPBearer(auto_error=False, description="the admin token (SLUICE_ADMIN_TOKEN)")


async def get_moderation(request: Request) -> Moderation:
    moderation: Moderation = request.app.state.moderation
    return moderation


async def require_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> KeyMatch:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    moderation: Moderation = request.app.state.moderation
    plaintext = credentials.credentials.strip()
    match = moderation.remembered_key(plaintext)
    if match is None:
        match = await run_in_threadpool(moderation.find_key, plaintext)
    if match is None:
        raise Unauthorized("unknown or revoked API key")
    return match


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> None:
    expected = request.app.state.settings.admin_token
    if not expected:
        raise Unauthorized("the admin API is disabled: set SLUICE_ADMIN_TOKEN")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("missing or wrong admin token")


ModerationDep = Annotated[Moderation, Depends(get_moderation)]
KeyDep = Annotated[KeyMatch, Depends(require_key)]
AdminDep = Annotated[None, Depends(require_admin)]
