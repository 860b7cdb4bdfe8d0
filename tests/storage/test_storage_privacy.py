"""Retention and data-subject requests: purge, export and delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from service.storage import CheckRecord, Counts, InvalidValue, Site, Storage

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
ALICE = {"author_email": "Alice@Example.org", "user_ip": "198.51.100.23"}
BOB = {"author_email": "bob@example.net", "user_ip": "2001:db8::5"}


def stored_check(storage: Storage, check_id: str) -> CheckRecord:
    found = storage.get_check(check_id)
    assert found is not None
    return found


@pytest.fixture
def site(storage: Storage) -> Site:
    return storage.create_site(url="https://example.com")


def record(storage: Storage, site: Site, who: dict[str, str], text: str, at: datetime) -> str:
    fields = {"content": text, "author_name": "Someone", **who}
    reasons = [{"feature": "words__comment", "label": "word “comment”", "weight": 0.4}]
    return storage.record_check(
        site_id=site.id,
        fields=fields,
        score=0.8,
        verdict="spam",
        model_version="m",
        at=at,
        reasons=reasons,
    ).id


def test_purge_clears_content_and_fields_after_retention(storage: Storage, site: Site) -> None:
    old = record(storage, site, ALICE, "old comment", NOW - timedelta(days=16))
    recent = record(storage, site, ALICE, "recent comment", NOW - timedelta(days=14))
    short = storage.create_site(url="https://short.example", settings={"retention_days": 1})
    short_old = record(storage, short, BOB, "two days old", NOW - timedelta(days=2))

    assert storage.purge_expired(now=NOW) == 2
    assert storage.purge_expired(now=NOW) == 0

    purged = stored_check(storage, old)
    assert purged.content is None and purged.fields == {} and not purged.reasons
    assert purged.purged_at == NOW
    assert (purged.score, purged.verdict) == (0.8, "spam")
    assert stored_check(storage, short_old).content is None
    kept = stored_check(storage, recent)
    assert kept.content == "recent comment" and kept.fields["author_name"] == "Someone"
    assert kept.reasons[0]["label"] == "word “comment”"

    days = storage.daily_counts(site_id=site.id, since=date(2026, 3, 1))
    assert sum(d.spam for d in days) == 2
    assert storage.export_subject(email="alice@example.org")["checks"][0]["id"] == recent


def test_purge_keeps_feedback_examples_unless_told(db_url: str) -> None:
    secret = "storage-tests-secret-0123456789"
    for keep in (True, False):
        with Storage(db_url, secret=secret, keep_feedback_examples=keep) as storage:
            site = storage.create_site(url=f"https://keep-{keep}.example")
            storage.record_feedback(
                site_id=site.id,
                label="spam",
                source="api",
                fields={"content": "labelled"},
                at=NOW - timedelta(days=40),
            )
            storage.purge_expired(now=NOW)
            [feedback] = storage.list_feedback(site_id=site.id)
            assert (feedback.content == "labelled") is keep


def test_export_subject_finds_hashed_and_clear_rows(storage: Storage, site: Site) -> None:
    clear_site = storage.create_site(url="https://clear.example", settings={"store_pii": "clear"})
    hashed = record(storage, site, ALICE, "hashed one", NOW)
    clear = record(storage, clear_site, ALICE, "clear one", NOW)
    record(storage, site, BOB, "bob's", NOW)
    storage.record_feedback(
        site_id=site.id,
        label="ham",
        source="dashboard",
        fields={"content": "hashed one", **ALICE},
        reputation=[("author_email", ALICE["author_email"]), ("ip_prefix", ALICE["user_ip"])],
        at=NOW,
    )

    by_email = storage.export_subject(email="  ALICE@example.org")
    assert {c["id"] for c in by_email["checks"]} == {hashed, clear}
    clear_row = next(c for c in by_email["checks"] if c["id"] == clear)
    assert clear_row["fields"]["author_email"] == ALICE["author_email"]
    assert clear_row["content"] == "clear one"
    assert [f["content"] for f in by_email["feedback"]] == ["hashed one"]
    assert [(r["kind"], r["ham_count"]) for r in by_email["reputation"]] == [("author_email", 1)]

    by_ip = storage.export_subject(ip="198.51.100.23")
    assert {c["id"] for c in by_ip["checks"]} == {hashed, clear}
    assert [r["kind"] for r in by_ip["reputation"]] == ["ip_prefix"]
    assert storage.export_subject(email="nobody@example.org") == {
        "checks": [],
        "feedback": [],
        "reputation": [],
    }
    with pytest.raises(InvalidValue):
        storage.export_subject()


def test_delete_subject_removes_rows_and_reputation(
    storage: Storage, site: Site, database_text: Callable[[], str]
) -> None:
    alice = record(storage, site, ALICE, "alice text", NOW)
    bob = record(storage, site, BOB, "bob text", NOW)
    storage.record_feedback(
        site_id=site.id,
        label="ham",
        source="api",
        check_id=alice,
        fields={"content": "alice text", **ALICE},
        reputation=[("author_email", ALICE["author_email"]), ("ip_prefix", ALICE["user_ip"])],
        at=NOW,
    )
    storage.record_feedback(
        site_id=site.id,
        label="spam",
        source="api",
        check_id=bob,
        fields={"content": "bob text", **BOB},
        at=NOW,
    )

    assert storage.delete_subject(email="alice@example.org", ip="198.51.100.23") == 4
    assert storage.get_check(alice) is None
    assert storage.get_check(bob) is not None
    assert [f.check_id for f in storage.list_feedback(site_id=site.id)] == [bob]
    assert storage.export_subject(email="alice@example.org", ip="198.51.100.23") == {
        "checks": [],
        "feedback": [],
        "reputation": [],
    }
    assert storage.get_reputation(
        site_id=site.id, entries=[("author_email", "alice@example.org")]
    ) == {("author_email", "alice@example.org"): Counts(0, 0)}
    text = database_text()
    assert "alice text" not in text
    assert storage.hash_pii("alice@example.org") not in text
    assert storage.site_stats(site_id=site.id, month="2026-03").false_positives == 1


def test_hash_pii_is_keyed(db_url: str) -> None:
    with Storage(db_url, secret="one-secret-0123456789") as one:
        first = one.hash_pii("alice@example.org")
    with Storage(db_url, secret="two-secret-0123456789") as two:
        second = two.hash_pii("alice@example.org")
    assert first != second
    assert len(first) == 64
    with pytest.raises(InvalidValue):
        Storage(db_url, secret="")


def test_feedback_tied_to_a_check_is_found_by_the_checks_email(
    storage: Storage, site: Site
) -> None:
    guid = record(storage, site, ALICE, "alice text", NOW)
    bare = storage.record_feedback(
        site_id=site.id, label="spam", source="api", check_id=guid, fields={}, at=NOW
    )
    stored = stored_check(storage, guid)
    passed_on = storage.record_feedback(
        site_id=site.id,
        label="spam",
        source="dashboard",
        fields={**stored.fields, "content": stored.content},
        at=NOW,
    )
    assert passed_on.check_id == guid
    assert passed_on.fields["author_email_hash"] == storage.hash_pii("alice@example.org")
    found = storage.export_subject(email="alice@example.org")["feedback"]
    assert [f["id"] for f in found] == [bare.id, passed_on.id]
    with pytest.raises(InvalidValue, match="author_email_hash"):
        storage.record_feedback(
            site_id=site.id, label="spam", source="api", fields={"author_email_hash": "x"}
        )
