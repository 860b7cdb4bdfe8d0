"""The Akismet REST API (``/1.1/...``, ``/1.2/...``), so existing Akismet clients work unchanged.

Thin: each route reads the raw request, lets ``service.akismet`` parse and answer it, and
copies the ``Reply`` onto the wire. Bodies are never parsed by FastAPI (clients send forms
FastAPI would refuse), and no error here is ever JSON: clients read the body, not the status.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from service.akismet import AkismetApi, AkismetCall, Reply, parse_form
from service.api.deps import ModerationDep

router = APIRouter(tags=["akismet"])
BOTH = ["GET", "POST"]


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


@router.api_route("/1.1/verify-key", methods=BOTH, response_class=Response)
async def verify_key(request: Request, moderation: ModerationDep) -> Response:
    """``valid`` or ``invalid``: is this key (``key`` or ``api_key``) live for a full blog URL?"""
    return await _answer(request, AkismetApi(moderation).verify_key)


@router.api_route("/1.1/comment-check", methods=BOTH, response_class=Response)
async def check_comment(request: Request, moderation: ModerationDep) -> Response:
    """``true`` (spam) or ``false`` (ham); ``X-akismet-guid`` names the check."""
    return await _answer(request, AkismetApi(moderation).comment_check)


@router.api_route("/1.1/submit-spam", methods=BOTH, response_class=Response)
async def submit_spam(request: Request, moderation: ModerationDep) -> Response:
    """A moderator says this comment is spam (a missed spam, if it was let through)."""
    api = AkismetApi(moderation)
    return await _answer(request, lambda call: api.submit(call, label="spam"))


@router.api_route("/1.1/submit-ham", methods=BOTH, response_class=Response)
async def submit_ham(request: Request, moderation: ModerationDep) -> Response:
    """A moderator says this comment is legitimate (a false positive, if it was caught)."""
    api = AkismetApi(moderation)
    return await _answer(request, lambda call: api.submit(call, label="ham"))


@router.api_route("/1.1/get-subscription", methods=BOTH, response_class=Response)
async def read_subscription(request: Request, moderation: ModerationDep) -> Response:
    """The account the WordPress settings screen asks for before it stores a key."""
    return await _answer(request, AkismetApi(moderation).get_subscription)


@router.api_route("/1.1/get-stats", methods=BOTH, response_class=Response)
async def read_stats(request: Request, moderation: ModerationDep) -> Response:
    """Spam, ham, missed spam, false positives and accuracy for the WordPress settings screen."""
    return await _answer(request, AkismetApi(moderation).get_stats)


@router.api_route("/1.1/deactivate", methods=BOTH, response_class=Response)
async def deactivate_key(request: Request, moderation: ModerationDep) -> Response:
    """Sent by WordPress when the plugin is switched off: ``deactivated``."""
    return await _answer(request, AkismetApi(moderation).deactivate)


@router.api_route("/1.1/test", methods=BOTH, response_class=Response)
async def read_connectivity() -> Response:
    """WordPress's connectivity probe: ``connected``."""
    return _response(AkismetApi.test())


@router.api_route("/1.2/usage-limit", methods=BOTH, response_class=Response)
async def read_usage_limit(request: Request, moderation: ModerationDep) -> Response:
    """This month's calls for the key, JSON (``limit`` is ``none``)."""
    return await _answer(request, AkismetApi(moderation).usage_limit)


@router.api_route("/1.2/key-sites", methods=BOTH, response_class=Response)
async def read_key_sites(request: Request, moderation: ModerationDep) -> Response:
    """Per-site calls, spam, ham, missed spam and false positives (JSON or ``format=csv``)."""
    return await _answer(request, AkismetApi(moderation).key_sites)
