"""Checks stored write-behind: nothing lost, nothing missed by a reader, bounded memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.models import ModelHolder
from service.moderation import MAX_CHECK_WAITERS, Moderation, check_id_age, new_check_id
from service.spool import Spool
from service.storage import DatabaseUnavailable, Site, Storage
from service.writebehind import WriteBehind

SECRET = "writer-tests-secret"
COMMENT = {"content": "Thanks, the vacuum settings you suggested fixed our table bloat."}


class Recorder:
    """A store and a fallback that record what reached them, and fail while told to."""

    def __init__(self) -> None:
        self.stored: list[int] = []
        self.spooled: list[int] = []
        self.store_fails = False
        self.spool_fails = False

    def store(self, batch: Sequence[int]) -> None:
        if self.store_fails:
            raise DatabaseUnavailable("down")
        self.stored.extend(batch)

    def spool(self, batch: Sequence[int], error: Exception) -> None:
        assert isinstance(error, DatabaseUnavailable)
        if self.spool_fails:
            raise OSError("disk full")
        self.spooled.extend(batch)


def test_a_full_queue_pushes_back_instead_of_growing_or_dropping() -> None:
    recorder = Recorder()
    writer = WriteBehind(recorder.store, on_unavailable=recorder.spool, max_pending=3, interval=60)
    assert all(writer.submit(n) for n in range(3))
    assert writer.submit(3) is False  # the caller stores this one itself
    assert writer.close()
    assert recorder.stored == [0, 1, 2]
    assert writer.submit(4) is False  # closed: never queued where nothing would store it


def test_the_queue_is_bounded_by_size_too() -> None:
    """Long comments fill memory long before the count bound: size pushes back as well."""
    recorder = Recorder()
    writer = WriteBehind(
        recorder.store,
        on_unavailable=recorder.spool,
        size_of=lambda n: n,
        max_pending_size=10,
        interval=60,
    )
    assert writer.submit(6) and writer.submit(4)
    assert writer.submit(1) is False  # 11 > 10
    assert writer.flush() and recorder.stored == [6, 4]
    assert writer.submit(9)  # the flushed items no longer count
    recorder.store_fails = recorder.spool_fails = True
    assert not writer.flush()  # kept in memory to retry: still counted
    assert writer.submit(2) is False
    recorder.store_fails = recorder.spool_fails = False
    assert writer.close() and recorder.stored == [6, 4, 9]


def test_a_batch_the_database_refuses_is_spooled_and_if_that_fails_kept_in_order() -> None:
    recorder = Recorder()
    writer = WriteBehind(recorder.store, on_unavailable=recorder.spool, batch_size=2, interval=60)
    for n in range(3):
        writer.submit(n)
    recorder.store_fails = True
    assert writer.flush()
    assert recorder.spooled == [0, 1, 2] and recorder.stored == []
    for n in range(3, 6):
        writer.submit(n)
    recorder.spool_fails = True
    assert writer.flush() is False
    assert len(writer) == 3  # neither stored nor spooled: still held, not dropped
    recorder.store_fails = recorder.spool_fails = False
    assert writer.close()
    assert recorder.stored == [3, 4, 5]


def test_the_thread_stores_a_batch_without_being_asked() -> None:
    recorder = Recorder()
    done = threading.Event()

    def store(batch: Sequence[int]) -> None:
        recorder.store(batch)
        done.set()

    writer = WriteBehind(store, on_unavailable=recorder.spool, interval=0.01)
    writer.submit(7)
    assert done.wait(10)
    assert recorder.stored == [7]
    writer.close()


def test_check_ids_carry_their_time() -> None:
    check_id = new_check_id()
    assert len(check_id) == 32 and int(check_id, 16) >= 0
    age = check_id_age(check_id)
    assert age is not None and -1 < age < 5
    assert check_id_age("0" * 32) is not None and check_id_age("0" * 32) > 10**9  # type: ignore[operator]
    assert check_id_age("not-a-check-id") is None


# -- through Moderation ----------------------------------------------------------------------


@pytest.fixture
def two_replicas(
    db_url: str, models_dir: Path, tmp_path: Path
) -> Iterator[tuple[Moderation, Moderation, Site, int]]:
    """Two ``Moderation`` objects on one database, each with its own storage and spool."""
    models = ModelHolder(models_dir)
    models.refresh()
    made = []
    for name in ("a", "b"):
        storage = Storage(db_url, secret=SECRET)
        made.append(Moderation(models=models, storage=storage, spool=Spool(tmp_path / name)))
    first, second = made
    site = first.storage.create_site(url="https://blog.example")
    key_id, _ = first.storage.create_key(site_id=site.id)
    yield first, second, site, key_id
    for moderation in made:
        moderation.shutdown()
        moderation.storage.close()


def test_feedback_on_another_replica_waits_for_a_check_not_stored_yet(
    two_replicas: tuple[Moderation, Moderation, Site, int],
) -> None:
    first, second, site, key_id = two_replicas
    result = first.check(site, COMMENT, key_id=key_id)
    assert result.queued
    # The other replica asks before the first one's batch is stored, which happens meanwhile.
    timer = threading.Timer(0.3, first.settle_checks)
    timer.start()
    try:
        assert second.knows_check(site, result.id) is True
    finally:
        timer.join()
    receipt = second.feedback(site, label="ham", source="api", check_id=result.id)
    assert receipt.record is not None and receipt.record.check_id == result.id
    assert receipt.record.original_verdict is not None
    # An id that is not recent is answered at once: it is unknown, not on its way.
    assert second.knows_check(site, "0" * 32) is False


def test_only_a_few_requests_wait_for_ids_that_merely_look_recent(
    two_replicas: tuple[Moderation, Moderation, Site, int],
) -> None:
    """Anyone can make an id that looks a moment old; each waiter holds a worker thread."""
    _first, second, site, _key_id = two_replicas
    looks: list[str] = []
    get_check = second.storage.get_check

    def counted(check_id: str) -> object:
        looks.append(check_id)
        return get_check(check_id)

    second.storage.get_check = counted  # type: ignore[method-assign]
    taken = [second._check_waiters.acquire(blocking=False) for _ in range(MAX_CHECK_WAITERS)]
    assert all(taken)  # as if that many requests were waiting already
    try:
        assert second.knows_check(site, new_check_id()) is False
        assert len(looks) == 1  # looked once, did not wait
    finally:
        for _ in taken:
            second._check_waiters.release()
    assert second.knows_check(site, new_check_id()) is False
    assert len(looks) > 3  # a free slot: it waited, looking again until the id was too old


def test_shutdown_stores_what_is_held_and_a_full_queue_writes_at_once(
    two_replicas: tuple[Moderation, Moderation, Site, int],
) -> None:
    first, second, site, key_id = two_replicas
    held = first.check(site, COMMENT, key_id=key_id)
    assert held.queued and not held.stored
    first.shutdown()
    assert second.storage.get_check(held.id) is not None
    assert first.check(site, COMMENT, key_id=key_id).stored  # closed writer: written at once
    assert second._pending is not None
    second._pending.max_pending = 0
    assert second.check(site, COMMENT, key_id=key_id).stored
    assert second.storage.site_stats(site_id=site.id).checks == 3


def test_every_reader_sees_a_check_just_answered(client: TestClient) -> None:
    """Feedback, the Akismet stats and the usage count right after a check, in one process."""
    checked = client.post("/v1/comments/check", json=COMMENT).json()
    feedback = client.post(f"/v1/comments/{checked['id']}/feedback", json={"label": "spam"})
    assert feedback.status_code == 201
    assert feedback.json()["original_verdict"] == checked["verdict"]
    storage = client.app.state.moderation.storage
    site = storage.list_sites()[0]
    client.post("/v1/comments/check", json=COMMENT)
    stats = storage.site_stats(site_id=site.id)
    assert stats.checks == 2 and stats.api_calls == 2
    assert len(storage.list_checks(site_id=site.id)) == 2
