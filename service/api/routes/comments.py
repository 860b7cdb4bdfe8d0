"""JSON API for blog platforms: score comments, report mistakes, read the served model's card."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from service.api.deps import KeyDep, ModerationDep
from service.api.jsonbody import StrictJsonRoute
from service.api.schemas import (
    BatchIn,
    BatchOut,
    CheckOut,
    CommentIn,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
)
from service.errors import BadRequest, NotFoundError
from service.moderation import CheckResult

router = APIRouter(prefix="/v1", tags=["comments"], route_class=StrictJsonRoute)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 413, 415, 422, 429, 503)
}


def _out(result: CheckResult) -> CheckOut:
    score = result.score
    return CheckOut(
        id=result.id,
        spam=score.verdict.is_spam,
        score=round(score.score, 6),
        verdict=score.verdict.value,
        reasons=[r.as_dict() for r in score.reasons],
        model_version=score.model_version,
    )


# The checks are ``async`` routes that hand the work to one worker thread themselves: for a
# plain ``def`` route FastAPI also validates the response in the thread pool, a second hop.
@router.post("/comments/check", response_model=CheckOut, responses=ERRORS)
async def check_comment(comment: CommentIn, key: KeyDep, moderation: ModerationDep) -> CheckOut:
    """Score one comment before it reaches moderation."""
    result = await run_in_threadpool(
        moderation.check, key.site, comment.record(), key_id=key.key.id
    )
    return _out(result)


@router.post("/comments/check-batch", response_model=BatchOut, responses=ERRORS)
async def check_comments(
    batch: BatchIn, key: KeyDep, moderation: ModerationDep, request: Request
) -> BatchOut:
    """Score up to ``SLUICE_MAX_BATCH`` comments at once (re-checking a moderation queue)."""
    limit = request.app.state.settings.max_batch
    if len(batch.comments) > limit:
        raise BadRequest(f"comments: {len(batch.comments)} items, at most {limit} per batch")
    results = await run_in_threadpool(
        moderation.check_many, key.site, [c.record() for c in batch.comments], key_id=key.key.id
    )
    return BatchOut(results=[_out(r) for r in results])


@router.post(
    "/comments/{check_id}/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        202: {
            "model": FeedbackOut,
            "description": "Spooled: durable, stored when the database is back",
        },
    },
)
def create_feedback(
    feedback: FeedbackIn,
    key: KeyDep,
    moderation: ModerationDep,
    response: Response,
    check_id: str = Path(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"),
) -> FeedbackOut:
    """Tell the filter it was wrong (or right): ``spam`` or ``ham`` for a checked comment.

    Answered only once the correction is durable: committed (201), or, while the database is
    unavailable, written to the local spool and stored when it returns (202, ``queued``). It
    changes this site's next verdicts for the same author, e-mail, website and links, and is
    used at the next training.
    """
    if moderation.knows_check(key.site, check_id) is False:
        raise NotFoundError(f"no check {check_id!r} for this site")
    receipt = moderation.feedback(
        key.site,
        label=feedback.label,
        source="api",
        check_id=check_id,
        record=feedback.comment.record() if feedback.comment else None,
        reporter=feedback.reporter,
    )
    record = receipt.record
    if record is None:
        response.status_code = status.HTTP_202_ACCEPTED
        return FeedbackOut(
            id=None, check_id=check_id, label=feedback.label, original_verdict=None, queued=True
        )
    return FeedbackOut(
        id=record.id,
        check_id=record.check_id,
        label=record.label.value,
        original_verdict=record.original_verdict.value if record.original_verdict else None,
    )


@router.get("/model", responses=ERRORS)
def read_model(key: KeyDep, moderation: ModerationDep) -> dict[str, Any]:
    """The card of the served model: version, data, cut-offs, held-out metrics."""
    return moderation.scorer().model.card
