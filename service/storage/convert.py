"""Rows to frozen records, and rows to the JSON of a GDPR export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.storage.records import (
    ApiKey,
    CheckRecord,
    FeedbackRecord,
    FeedbackSource,
    Label,
    Site,
    Verdict,
)
from service.storage.schema import ApiKeyRow, CheckRow, FeedbackRow, ReputationRow, SiteRow
from service.storage.site_settings import SiteSettings


def site(row: SiteRow) -> Site:
    return Site(
        id=row.id,
        url=row.url,
        name=row.name,
        created_at=row.created_at,
        settings=SiteSettings.from_json(row.settings),
    )


def api_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        site_id=row.site_id,
        hint=row.hint,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def check(row: CheckRow) -> CheckRecord:
    return CheckRecord(
        id=row.id,
        site_id=row.site_id,
        key_id=row.key_id,
        created_at=row.created_at,
        content=row.content,
        fields=dict(row.fields),
        score=row.score,
        verdict=Verdict(row.verdict),
        reasons=tuple(row.reasons),
        model_version=row.model_version,
        is_test=row.is_test,
        feedback_label=Label(row.feedback_label) if row.feedback_label else None,
        purged_at=row.purged_at,
    )


def feedback(row: FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord(
        id=row.id,
        site_id=row.site_id,
        check_id=row.check_id,
        label=Label(row.label),
        source=FeedbackSource(row.source),
        reporter=row.reporter,
        created_at=row.created_at,
        content=row.content,
        fields=dict(row.fields),
        original_verdict=Verdict(row.original_verdict) if row.original_verdict else None,
    )


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def check_json(row: CheckRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "created_at": _when(row.created_at),
        "content": row.content,
        "fields": dict(row.fields),
        "score": row.score,
        "verdict": row.verdict,
        "reasons": list(row.reasons),
        "model_version": row.model_version,
        "is_test": row.is_test,
        "feedback_label": row.feedback_label,
        "purged_at": _when(row.purged_at),
    }


def feedback_json(row: FeedbackRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "check_id": row.check_id,
        "label": row.label,
        "source": row.source,
        "reporter": row.reporter,
        "created_at": _when(row.created_at),
        "content": row.content,
        "fields": dict(row.fields),
        "original_verdict": row.original_verdict,
    }


def reputation_json(row: ReputationRow) -> dict[str, Any]:
    return {
        "site_id": row.site_id,
        "kind": row.kind,
        "ham_count": row.ham_count,
        "spam_count": row.spam_count,
        "last_seen": _when(row.last_seen),
    }
