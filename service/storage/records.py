"""Plain frozen records returned by ``Storage``.

Callers get these instead of ORM objects so they never hold a session, never
trigger a lazy load from another thread, and can pass results across threads freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from service.storage.site_settings import SiteSettings
from training.features import COMMENT_FIELDS as MODEL_COMMENT_FIELDS
from training.verdicts import Verdict

__all__ = [
    "COMMENT_FIELDS",
    "ApiKey",
    "CheckRecord",
    "Counts",
    "DailyCount",
    "FeedbackRecord",
    "FeedbackSource",
    "KeyMatch",
    "Label",
    "NewCheck",
    "Site",
    "SiteStats",
    "Verdict",
]


class Label(StrEnum):
    """What a moderator says a comment was."""

    SPAM = "spam"
    HAM = "ham"


class FeedbackSource(StrEnum):
    """Which door a piece of feedback came through."""

    AKISMET = "akismet"
    API = "api"
    DASHBOARD = "dashboard"


#: Comment fields a check or a feedback may carry; anything else is refused.
COMMENT_FIELDS: tuple[str, ...] = MODEL_COMMENT_FIELDS


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    url: str
    name: str | None
    created_at: datetime
    settings: SiteSettings


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: only its hash is kept, ``hint`` is its last four characters."""

    id: int
    site_id: int
    hint: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """A key found by its plaintext, with the site it belongs to."""

    key: ApiKey
    site: Site


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """One scored comment. ``content`` and ``fields`` are emptied once purged."""

    id: str
    site_id: int
    key_id: int | None
    created_at: datetime
    content: str | None
    fields: Mapping[str, Any]
    score: float
    verdict: Verdict
    reasons: tuple[Any, ...]
    model_version: str
    is_test: bool
    feedback_label: Label | None = None
    purged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewCheck:
    """A scored comment to store, as ``Storage.record_checks`` takes them in batches.

    The fields mirror ``Storage.record_check``'s arguments; ``at`` is when it was scored.
    """

    check_id: str
    site_id: int
    key_id: int | None
    at: datetime
    fields: Mapping[str, Any]
    score: float
    verdict: Verdict | str
    model_version: str
    reasons: tuple[Any, ...] | list[Any] = ()
    is_test: bool = False
    count_usage: bool = True


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One moderator report; ``check_id`` is set when it could be tied to a check."""

    id: int
    site_id: int
    check_id: str | None
    label: Label
    source: FeedbackSource
    reporter: str | None
    created_at: datetime
    content: str | None
    fields: Mapping[str, Any]
    original_verdict: Verdict | None


class Counts(NamedTuple):
    """How often a reputation value was reported as ham and as spam."""

    ham: int
    spam: int


@dataclass(frozen=True, slots=True)
class DailyCount:
    """Counters of one UTC day, for one site or (``site_id=None``) summed over all sites.

    Feedback errors (``missed_spam``, ``false_positives``) count on the day of the
    check they correct, so a month's figures stay about that month's checks.
    """

    day: date
    site_id: int | None
    checks: int
    ham: int
    unsure: int
    spam: int
    discard: int
    missed_spam: int
    false_positives: int


@dataclass(frozen=True, slots=True)
class SiteStats:
    """A site's totals for one month, the rows of Akismet's key-sites report.

    ``api_calls`` counts billable calls (test calls excluded); ``is_revoked`` tells,
    in ``key_sites``, whether the key asked about is revoked (always false in
    ``site_stats``).
    """

    site_id: int
    url: str
    month: str
    api_calls: int
    checks: int
    ham: int
    unsure: int
    spam: int
    discard: int
    missed_spam: int
    false_positives: int
    is_revoked: bool = False
