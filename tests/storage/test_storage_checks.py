"""Checks and feedback: what is stored, how feedback finds its check, and the counters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from service.storage import (
    AlreadyExists,
    CheckRecord,
    InvalidValue,
    Label,
    NotFound,
    Site,
    Storage,
    Verdict,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
COMMENT = {
    "content": "Cheap pills at http://pills.example",
    "author_name": "Pill Seller",
    "author_email": "Seller@Example.com",
    "author_url": "http://pills.example",
    "user_ip": "203.0.113.9",
    "user_agent": "Mozilla/5.0",
    "referrer": "http://example.com/post",
    "permalink": "http://example.com/post",
    "comment_type": "comment",
    "lang": "en",
    "created_at": datetime(2026, 3, 10, 11, 59, tzinfo=UTC),
    "post_published_at": datetime(2026, 3, 1, tzinfo=UTC),
    "honeypot": "",
}


def stored_check(storage: Storage, check_id: str) -> CheckRecord:
    found = storage.get_check(check_id)
    assert found is not None
    return found


@pytest.fixture
def site(storage: Storage) -> Site:
    return storage.create_site(url="https://example.com")


def check(
    storage: Storage,
    site: Site,
    *,
    verdict: str = "spam",
    content: str = "Cheap pills",
    at: datetime = NOW,
    **extra: object,
) -> str:
    record = storage.record_check(
        site_id=site.id,
        fields={"content": content, "user_ip": "203.0.113.9"},
        score={"ham": 0.1, "unsure": 0.5, "spam": 0.9, "discard": 0.99}[verdict],
        verdict=verdict,
        model_version="m1",
        at=at,
        **extra,  # type: ignore[arg-type]
    )
    return record.id


def test_record_check_stores_fields_with_pii_hashed(storage: Storage, site: Site) -> None:
    record = storage.record_check(
        site_id=site.id,
        fields=COMMENT,
        score=0.93,
        verdict=Verdict.SPAM,
        reasons=[{"code": "link", "detail": "pills.example"}],
        model_version="2026-03-01",
        at=NOW,
    )
    assert len(record.id) == 32
    stored = storage.get_check(record.id)
    assert stored is not None
    assert stored == record
    assert stored.content == COMMENT["content"]
    assert stored.verdict is Verdict.SPAM
    assert stored.reasons == ({"code": "link", "detail": "pills.example"},)
    assert stored.created_at == NOW
    assert stored.fields["author_name"] == "Pill Seller"
    assert stored.fields["created_at"] == "2026-03-10T11:59:00+00:00"
    assert "content" not in stored.fields
    assert "honeypot" not in stored.fields  # empty values are not stored
    assert "author_email" not in stored.fields and "user_ip" not in stored.fields
    assert stored.fields["author_email_hash"] == storage.hash_pii("seller@example.com")
    assert stored.fields["user_ip_hash"] == storage.hash_pii("203.0.113.9")


def test_store_pii_clear_keeps_email_and_ip(storage: Storage, site: Site) -> None:
    storage.update_site_settings(site_id=site.id, store_pii="clear")
    record = storage.record_check(
        site_id=site.id, fields=COMMENT, score=0.5, verdict="unsure", model_version="m"
    )
    assert record.fields["author_email"] == "Seller@Example.com"
    assert record.fields["user_ip"] == "203.0.113.9"


def test_record_check_refuses_bad_input(storage: Storage, site: Site) -> None:
    good: dict[str, Any] = {"site_id": site.id, "fields": {"content": "x"}, "model_version": "m"}
    with pytest.raises(InvalidValue, match="unknown comment fields"):
        storage.record_check(**good | {"fields": {"email": "a@b.c"}}, score=0.1, verdict="ham")
    with pytest.raises(InvalidValue, match="verdict"):
        storage.record_check(**good, score=0.1, verdict="maybe")
    with pytest.raises(InvalidValue, match="score"):
        storage.record_check(**good, score=1.5, verdict="spam")
    with pytest.raises(InvalidValue, match="check id"):
        storage.record_check(**good, score=0.1, verdict="ham", check_id="has space")
    with pytest.raises(InvalidValue, match="timezone"):
        storage.record_check(**good, score=0.1, verdict="ham", at=datetime(2026, 1, 1))
    with pytest.raises(NotFound):
        storage.record_check(**good | {"site_id": 987_654_321}, score=0.1, verdict="ham")


def test_check_id_from_caller_and_duplicates(storage: Storage, site: Site) -> None:
    guid = check(storage, site, check_id="abc123")
    assert guid == "abc123"
    with pytest.raises(AlreadyExists):
        check(storage, site, check_id="abc123")
    key_id, _ = storage.create_key(site_id=site.id)
    with pytest.raises(NotFound):
        check(storage, site, key_id=key_id + 100)


def test_checks_update_daily_counters(storage: Storage, site: Site) -> None:
    for verdict in ["ham", "ham", "unsure", "spam", "discard"]:
        check(storage, site, verdict=verdict)
    check(storage, site, verdict="spam", at=NOW + timedelta(days=1))
    check(storage, site, verdict="spam", is_test=True)

    days = storage.daily_counts(site_id=site.id, since=date(2026, 3, 1))
    assert [(d.day, d.checks, d.ham, d.unsure, d.spam, d.discard) for d in days] == [
        (date(2026, 3, 10), 5, 2, 1, 1, 1),
        (date(2026, 3, 11), 1, 0, 0, 1, 0),
    ]
    assert storage.daily_counts(site_id=site.id, since=date(2026, 3, 11))[0].checks == 1
    assert storage.daily_counts(site_id=site.id, since=NOW.date(), until=NOW.date())[0].checks == 5

    other = storage.create_site(url="https://other.example")
    check(storage, other, verdict="ham")
    totals = storage.daily_counts(since=date(2026, 3, 10), until=date(2026, 3, 10))
    assert [(d.site_id, d.checks, d.ham) for d in totals] == [(None, 6, 3)]


def test_usage_per_key_per_month_excludes_tests(storage: Storage, site: Site) -> None:
    key_id, _ = storage.create_key(site_id=site.id)
    for _ in range(3):
        check(storage, site, key_id=key_id)
    check(storage, site, key_id=key_id, is_test=True, count_usage=False)
    check(storage, site, key_id=key_id, at=datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC))
    storage.record_usage(key_id=key_id, calls=2, at=NOW)

    assert storage.usage(key_id=key_id, month="2026-03") == 5
    assert storage.usage(key_id=key_id, month="2026-04") == 1
    assert storage.usage(key_id=key_id, month="2026-05") == 0
    with pytest.raises(InvalidValue):
        storage.usage(key_id=key_id, month="2026-13")
    with pytest.raises(NotFound):
        storage.record_usage(key_id=key_id + 1)


def test_feedback_links_by_guid(storage: Storage, site: Site) -> None:
    guid = check(storage, site, verdict="spam")
    feedback = storage.record_feedback(
        site_id=site.id,
        label="ham",
        source="akismet",
        fields={"content": "a different text"},
        check_id=guid,
        reporter="moderator",
        at=NOW + timedelta(hours=1),
    )
    assert feedback.check_id == guid
    assert feedback.original_verdict is Verdict.SPAM
    assert feedback.reporter == "moderator"
    assert stored_check(storage, guid).feedback_label is Label.HAM
    assert storage.list_feedback(site_id=site.id) == [feedback]


def test_feedback_links_by_content_of_a_recent_check(storage: Storage, site: Site) -> None:
    check(storage, site, content="Old copy", at=NOW - timedelta(days=60))
    older = check(storage, site, content="Buy   now\r\nplease", at=NOW - timedelta(hours=2))
    newer = check(storage, site, content="Buy now please", at=NOW - timedelta(hours=1))
    other_site = storage.create_site(url="https://other.example")
    check(storage, other_site, content="Only elsewhere")

    linked = storage.record_feedback(
        site_id=site.id, label="spam", source="api", fields={"content": "Buy now\nplease"}, at=NOW
    )
    assert linked.check_id == newer != older
    unknown_guid = storage.record_feedback(
        site_id=site.id,
        label="spam",
        source="api",
        check_id="nope",
        fields={"content": "Buy now please"},
        at=NOW,
    )
    assert unknown_guid.check_id == newer
    too_old = storage.record_feedback(
        site_id=site.id, label="spam", source="api", fields={"content": "Old copy"}, at=NOW
    )
    assert too_old.check_id is None
    elsewhere = storage.record_feedback(
        site_id=site.id,
        label="spam",
        source="dashboard",
        fields={"content": "Only elsewhere"},
        original_verdict="ham",
        at=NOW,
    )
    assert elsewhere.check_id is None
    assert elsewhere.original_verdict is Verdict.HAM


def test_guid_of_another_site_is_not_linked(storage: Storage, site: Site) -> None:
    other = storage.create_site(url="https://other.example")
    guid = check(storage, other, content="shared")
    feedback = storage.record_feedback(
        site_id=site.id, label="ham", source="api", check_id=guid, fields={}, at=NOW
    )
    assert feedback.check_id is None


def _errors(storage: Storage, site: Site) -> tuple[int, int]:
    stats = storage.site_stats(site_id=site.id, month="2026-03")
    return stats.missed_spam, stats.false_positives


@pytest.mark.parametrize(
    ("verdict", "label", "expected"),
    [
        ("ham", "spam", (1, 0)),
        ("unsure", "spam", (1, 0)),
        ("spam", "spam", (0, 0)),
        ("discard", "spam", (0, 0)),
        ("ham", "ham", (0, 0)),
        ("unsure", "ham", (0, 1)),
        ("spam", "ham", (0, 1)),
        ("discard", "ham", (0, 1)),
    ],
)
def test_feedback_counts_missed_spam_and_false_positives(
    storage: Storage, site: Site, verdict: str, label: str, expected: tuple[int, int]
) -> None:
    guid = check(storage, site, verdict=verdict)
    storage.record_feedback(
        site_id=site.id, label=label, source="akismet", fields={}, check_id=guid, at=NOW
    )
    assert _errors(storage, site) == expected


def test_repeated_and_reversed_feedback(storage: Storage, site: Site) -> None:
    guid = check(storage, site, verdict="ham")
    report: dict[str, Any] = {
        "site_id": site.id,
        "source": "akismet",
        "fields": {},
        "check_id": guid,
    }
    storage.record_feedback(**report, label="spam", at=NOW)
    storage.record_feedback(**report, label="spam", at=NOW)
    assert _errors(storage, site) == (1, 0)
    storage.record_feedback(**report, label="ham", at=NOW)
    assert _errors(storage, site) == (0, 0)
    assert len(storage.list_feedback(site_id=site.id)) == 3


def test_feedback_on_a_test_check_is_not_counted(storage: Storage, site: Site) -> None:
    guid = check(storage, site, verdict="ham", is_test=True)
    storage.record_feedback(
        site_id=site.id, label="spam", source="akismet", fields={}, check_id=guid, at=NOW
    )
    assert _errors(storage, site) == (0, 0)


def test_counters_land_on_the_day_of_the_check(storage: Storage, site: Site) -> None:
    guid = check(storage, site, verdict="spam", at=datetime(2026, 2, 27, tzinfo=UTC))
    storage.record_feedback(
        site_id=site.id, label="ham", source="api", fields={}, check_id=guid, at=NOW
    )
    assert storage.site_stats(site_id=site.id, month="2026-02").false_positives == 1
    assert _errors(storage, site) == (0, 0)


def test_feedback_refuses_bad_input(storage: Storage, site: Site) -> None:
    with pytest.raises(InvalidValue, match="label"):
        storage.record_feedback(site_id=site.id, label="bad", source="api", fields={})
    with pytest.raises(InvalidValue, match="source"):
        storage.record_feedback(site_id=site.id, label="spam", source="email", fields={})
    with pytest.raises(NotFound):
        storage.record_feedback(site_id=987_654_321, label="spam", source="api", fields={})


def test_site_stats_and_key_sites(storage: Storage, site: Site) -> None:
    key_id, _ = storage.create_key(site_id=site.id)
    other_key, _ = storage.create_key(site_id=site.id)
    guid = check(storage, site, verdict="ham", key_id=key_id)
    check(storage, site, verdict="spam", key_id=key_id)
    check(storage, site, verdict="discard", key_id=other_key)
    check(storage, site, verdict="unsure", key_id=key_id, is_test=True, count_usage=False)
    check(storage, site, verdict="spam", key_id=key_id, at=datetime(2026, 4, 2, tzinfo=UTC))
    storage.record_feedback(
        site_id=site.id, label="spam", source="akismet", fields={}, check_id=guid, at=NOW
    )

    stats = storage.site_stats(site_id=site.id, month="2026-03")
    assert (stats.url, stats.month, stats.api_calls, stats.checks) == (
        "https://example.com",
        "2026-03",
        3,
        3,
    )
    assert (stats.ham, stats.spam, stats.discard, stats.unsure) == (1, 1, 1, 0)
    assert (stats.missed_spam, stats.false_positives, stats.is_revoked) == (1, 0, False)

    storage.revoke_key(key_id=key_id)
    [per_key] = storage.key_sites(key_id=key_id, month="2026-03")
    assert (per_key.site_id, per_key.api_calls, per_key.spam, per_key.is_revoked) == (
        site.id,
        2,
        1,
        True,
    )
    assert storage.key_sites(key_id=key_id, month="2026-04")[0].api_calls == 1
    with pytest.raises(NotFound):
        storage.key_sites(key_id=999, month="2026-03")
    with pytest.raises(NotFound):
        storage.site_stats(site_id=987_654_321, month="2026-03")


def test_list_checks_newest_first(storage: Storage, site: Site) -> None:
    ids = [check(storage, site, at=NOW + timedelta(minutes=i)) for i in range(5)]
    assert [c.id for c in storage.list_checks(site_id=site.id, limit=3)] == ids[::-1][:3]
    before = storage.list_checks(site_id=site.id, before=NOW + timedelta(minutes=2))
    assert [c.id for c in before] == [ids[1], ids[0]]
