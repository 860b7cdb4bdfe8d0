"""The Akismet REST API (``/1.1/...``, ``/1.2/...``), so existing Akismet clients work unchanged.

Thin: each route reads the raw request, lets ``service.akismet`` parse and answer it, and
copies the ``Reply`` onto the wire. Bodies are never parsed by FastAPI (clients send forms
FastAPI would refuse), and no error here is ever JSON: clients read the body, not the status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from service.akismet import AkismetApi, AkismetCall, Reply, parse_form
from service.api.deps import ModerationDep

router = APIRouter(tags=["akismet"])
Endpoint = Callable[..., Any]


def get_and_post(path: str) -> Callable[[Endpoint], Endpoint]:
    """Akismet accepts both methods; one OpenAPI operation each, with distinct ids."""

    def register(endpoint: Endpoint) -> Endpoint:
        for method in ("post", "get"):
            getattr(router, method)(
                path, response_class=Response, operation_id=f"{endpoint.__name__}_{method}"
            )(endpoint)
        return endpoint

    return register


async def _call(request: Request) -> AkismetCall:
    body = await request.body() if request.method == "POST" else b""
    headers = request.headers
    return AkismetCall(
        form=parse_form(
            body, content_type=headers.get("content-type"), query=request.url.query or ""
        ),
        host=headers.get("host", ""),
        forwarded_host=headers.get("x-forwarded-host", ""),
        authorization=headers.get("authorization", ""),
    )


def _response(reply: Reply) -> Response:
    response = Response(reply.body, status_code=reply.status, media_type=reply.media_type)
    # Appended raw so the names keep Akismet's casing (``X-akismet-guid``) where the HTTP
    # server preserves it (h11 does; httptools lowercases, which every client tolerates).
    for name, value in reply.headers:
        response.raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
    return response


async def _answer(request: Request, method: Callable[[AkismetCall], Reply]) -> Response:
    call = await _call(request)
    return _response(await run_in_threadpool(method, call))


@get_and_post("/1.1/verify-key")
async def verify_key(request: Request, moderation: ModerationDep) -> Response:
    """``valid`` or ``invalid``: is this key (``key`` or ``api_key``) live for a full blog URL?"""
    return await _answer(request, AkismetApi(moderation).verify_key)


@get_and_post("/1.1/comment-check")
async def check_comment(request: Request, moderation: ModerationDep) -> Response:
    """``true`` (spam) or ``false`` (ham); ``X-akismet-guid`` names the check."""
    return await _answer(request, AkismetApi(moderation).comment_check)


@get_and_post("/1.1/submit-spam")
async def submit_spam(request: Request, moderation: ModerationDep) -> Response:
    """A moderator says this comment is spam (a missed spam, if it was let through)."""
    api = AkismetApi(moderation)
    return await _answer(request, lambda call: api.submit(call, label="spam"))


@get_and_post("/1.1/submit-ham")
async def submit_ham(request: Request, moderation: ModerationDep) -> Response:
    """A moderator says this comment is legitimate (a false positive, if it was caught)."""
    api = AkismetApi(moderation)
    return await _answer(request, lambda call: api.submit(call, label="ham"))


@get_and_post("/1.1/get-subscription")
async def read_subscription(request: Request, moderation: ModerationDep) -> Response:
    """The account the WordPress settings screen asks for before it stores a key."""
    return await _answer(request, AkismetApi(moderation).get_subscription)


@get_and_post("/1.1/get-stats")
async def read_stats(request: Request, moderation: ModerationDep) -> Response:
    """Spam, ham, missed spam, false positives and accuracy for the WordPress settings screen."""
    return await _answer(request, AkismetApi(moderation).get_stats)


@get_and_post("/1.1/deactivate")
async def deactivate_key(request: Request, moderation: ModerationDep) -> Response:
    """Sent by WordPress when the plugin is switched off: ``deactivated``."""
    return await _answer(request, AkismetApi(moderation).deactivate)


@get_and_post("/1.1/test")
async def read_connectivity() -> Response:
    """WordPress's connectivity probe: ``connected``."""
    return _response(AkismetApi.test())


@get_and_post("/1.2/usage-limit")
async def read_usage_limit(request: Request, moderation: ModerationDep) -> Response:
    """This month's calls for the key, JSON (``limit`` is ``none``)."""
    return await _answer(request, AkismetApi(moderation).usage_limit)


@get_and_post("/1.2/key-sites")
async def read_key_sites(request: Request, moderation: ModerationDep) -> Response:
    """Per-site calls, spam, ham, missed spam and false positives (JSON or ``format=csv``)."""
    return await _answer(request, AkismetApi(moderation).key_sites)
