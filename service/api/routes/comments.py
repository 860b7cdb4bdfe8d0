"""JSON API for blog platforms: score comments, fetch the served model's card."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from service.api.schemas import BatchIn, BatchOut, CheckOut, CommentIn, ErrorOut
from service.errors import BadRequest, NotReady
from service.scoring import Score, Scorer

router = APIRouter(prefix="/v1", tags=["comments"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    413: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


def current_scorer(request: Request) -> Scorer:
    scorer: Scorer | None = request.app.state.models.scorer
    if scorer is None:
        raise NotReady(request.app.state.models.last_error or "no model loaded")
    return scorer


def _out(score: Score) -> CheckOut:
    return CheckOut(
        id=uuid.uuid4().hex,
        spam=score.verdict.is_spam,
        score=round(score.score, 6),
        verdict=score.verdict.value,
        reasons=[r.as_dict() for r in score.reasons],
        model_version=score.model_version,
    )


@router.post("/comments/check", response_model=CheckOut, responses=ERRORS)
def check_comment(comment: CommentIn, request: Request) -> CheckOut:
    """Score one comment before it reaches moderation."""
    scorer = current_scorer(request)
    return _out(scorer.score(comment.record()))


@router.post("/comments/check-batch", response_model=BatchOut, responses=ERRORS)
def check_comments(batch: BatchIn, request: Request) -> BatchOut:
    """Score up to ``SLUICE_MAX_BATCH`` comments at once (re-checking a moderation queue)."""
    limit = request.app.state.settings.max_batch
    if len(batch.comments) > limit:
        raise BadRequest(f"comments: {len(batch.comments)} items, at most {limit} per batch")
    scorer = current_scorer(request)
    scores = scorer.score_many([c.record() for c in batch.comments])
    return BatchOut(results=[_out(s) for s in scores])


@router.get("/model", responses=ERRORS)
def read_model(request: Request) -> dict[str, Any]:
    """The card of the served model: version, data, cut-offs, held-out metrics."""
    return current_scorer(request).model.card
