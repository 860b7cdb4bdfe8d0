"""The check path's shortcuts: the key cache and its bounds, batches of checks, read barriers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service.storage import Site, Storage
from service.storage.records import NewCheck
from tests.storage.conftest import SECRET

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def replicas(db_url: str, clock: Clock) -> Iterator[tuple[Storage, Storage]]:
    """Two ``Storage`` objects on one database, as two replicas of the service have."""
    first = Storage(db_url, secret=SECRET, clock=clock, key_cache_seconds=5)
    second = Storage(db_url, secret=SECRET, clock=clock, key_cache_seconds=5)
    yield first, second
    first.close()
    second.close()


def new_check(site: Site, check_id: str, verdict: str = "spam", **extra: object) -> NewCheck:
    values: dict[str, object] = {
        "check_id": check_id,
        "site_id": site.id,
        "key_id": None,
        "at": NOW,
        "fields": {"content": f"comment {check_id}", "author_email": "a@example.com"},
        "score": 0.9 if verdict == "spam" else 0.1,
        "verdict": verdict,
        "model_version": "v1",
        "reasons": [],
    }
    values.update(extra)
    return NewCheck(**values)  # type: ignore[arg-type]


def test_a_key_revoked_on_another_replica_stops_working_within_the_cache_bound(
    replicas: tuple[Storage, Storage], clock: Clock
) -> None:
    here, there = replicas
    site = here.create_site(url="https://example.com")
    key_id, key = here.create_key(site_id=site.id)
    assert here.find_key(plaintext=key) is not None  # remembered here from now on
    there.revoke_key(key_id=key_id)
    clock.now += timedelta(seconds=4.9)
    assert here.find_key(plaintext=key) is not None  # still within the stated bound
    clock.now += timedelta(seconds=0.2)
    assert here.find_key(plaintext=key) is None
    assert there.find_key(plaintext=key) is None


def test_a_key_revoked_or_a_site_changed_through_the_same_object_applies_at_once(
    replicas: tuple[Storage, Storage],
) -> None:
    here, _ = replicas
    site = here.create_site(url="https://example.com")
    key_id, key = here.create_key(site_id=site.id)
    found = here.find_key(plaintext=key)
    assert found is not None and found.site.settings.unsure_is_spam is False
    here.update_site_settings(site_id=site.id, unsure_is_spam=True)
    found = here.find_key(plaintext=key)
    assert found is not None and found.site.settings.unsure_is_spam is True
    assert here.cached_key(plaintext=key) == found
    here.revoke_key(key_id=key_id)
    assert here.cached_key(plaintext=key) is None
    assert here.find_key(plaintext=key) is None


def test_unknown_keys_are_not_remembered_so_a_new_key_works_everywhere_at_once(
    replicas: tuple[Storage, Storage],
) -> None:
    here, there = replicas
    site = there.create_site(url="https://example.com")
    assert here.find_key(plaintext="0123456789ab") is None
    there.create_key(site_id=site.id, plaintext="0123456789ab")
    assert here.find_key(plaintext="0123456789ab") is not None


def test_a_batch_stores_the_same_rows_and_counters_as_one_check_at_a_time(
    db_url: str,
) -> None:
    one, batch = (Storage(db_url, secret=SECRET) for _ in range(2))
    try:
        site_a = one.create_site(url="https://a.example")
        site_b = one.create_site(url="https://b.example")
        key_a, _ = one.create_key(site_id=site_a.id)
        checks = [
            new_check(site_a, "a1", "spam", key_id=key_a),
            new_check(site_a, "a2", "ham", key_id=key_a),
            new_check(site_a, "a3", "ham", key_id=key_a, is_test=True, count_usage=False),
            new_check(site_b, "b1", "unsure"),
        ]
        assert batch.record_checks(checks) == 4
        stored = batch.get_check("a1")
        assert stored is not None and stored.content == "comment a1" and stored.key_id == key_a
        assert "author_email" not in stored.fields  # hashed, as the site's settings say
        stats_a = batch.site_stats(site_id=site_a.id, month="2026-03")
        assert (stats_a.checks, stats_a.spam, stats_a.ham, stats_a.api_calls) == (2, 1, 1, 2)
        stats_b = batch.site_stats(site_id=site_b.id, month="2026-03")
        assert (stats_b.checks, stats_b.unsure, stats_b.api_calls) == (1, 1, 0)
        # The same checks one at a time give the same counters.
        for site in (site_a, site_b):
            one.delete_site(site_id=site.id)
        site_a = one.create_site(url="https://a.example")
        key_a, _ = one.create_key(site_id=site_a.id)
        one.record_check(
            site_id=site_a.id,
            fields={"content": "x"},
            score=0.9,
            verdict="spam",
            model_version="v1",
            key_id=key_a,
            at=NOW,
        )
        one.record_check(
            site_id=site_a.id,
            fields={"content": "y"},
            score=0.1,
            verdict="ham",
            model_version="v1",
            key_id=key_a,
            at=NOW,
        )
        single = one.site_stats(site_id=site_a.id, month="2026-03")
        assert (single.checks, single.spam, single.ham, single.api_calls) == (2, 1, 1, 2)
    finally:
        one.close()
        batch.close()


def test_a_batch_that_clashes_stores_every_check_it_can(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    gone = storage.create_site(url="https://gone.example")
    assert storage.record_checks([new_check(site, "first")]) == 1
    batch = [new_check(site, "first"), new_check(site, "second"), new_check(gone, "orphan")]
    storage.delete_site(site_id=gone.id)
    assert storage.record_checks(batch) == 1  # "first" is stored already, "gone" was deleted
    assert storage.get_check("second") is not None
    assert storage.get_check("orphan") is None
    assert storage.site_stats(site_id=site.id, month="2026-03").checks == 2


def test_reads_of_checks_and_counters_first_store_what_a_writer_holds(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    held = [new_check(site, "held")]

    def flush() -> None:
        storage.record_checks(held)
        held.clear()

    storage.add_before_reads(flush)
    try:
        assert storage.get_check("held") is not None
        assert storage.site_stats(site_id=site.id, month="2026-03").checks == 1
    finally:
        storage.remove_before_reads(flush)
