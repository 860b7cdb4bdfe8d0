"""Database unavailable or locked: checks keep being answered, feedback is acknowledged only
once durable (database or spool), and everything spooled is stored when the database returns."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app, open_storage
from service.moderation import Moderation
from service.spool import Spool, SpoolUnavailable
from service.storage import DatabaseUnavailable, Storage
from tests.hardening.conftest import hardening_settings

HAM = {"content": "Thanks, the vacuum settings you suggested fixed our table bloat on PG 15."}


class SwitchableStorage:
    """The real storage, except that every call fails as an outage while ``down`` is set."""

    def __init__(self, storage: Storage) -> None:
        self.real = storage
        self.down = False

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.real, name)
        if self.down and callable(value) and name not in ("hash_pii", "close"):

            def unavailable(*args: Any, **kwargs: Any) -> Any:
                raise DatabaseUnavailable("database unavailable (OperationalError)")

            return unavailable
        return value


@pytest.fixture(scope="module")
def outage_client(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = hardening_settings(
        models_dir,
        tmp_path_factory.mktemp("outage"),
        database_lock_timeout_seconds=0.2,
        spool_replay_seconds=3600,  # the tests replay when they choose
        rate_limit_key_per_minute=0,
        rate_limit_ip_per_minute=0,
    )
    storage = SwitchableStorage(open_storage(settings))
    with TestClient(create_app(settings, storage=storage)) as client:  # type: ignore[arg-type]
        yield client
    storage.real.close()


@pytest.fixture
def site(outage_client: TestClient) -> Iterator[Any]:
    """A fresh site whose key the service has seen once (so it is known during an outage)."""
    moderation = _moderation(outage_client)
    real = moderation.storage.real
    site = real.create_site(url=f"https://outage{time.monotonic_ns()}.example")
    key = real.create_key(site_id=site.id)[1]
    outage_client.headers["Authorization"] = f"Bearer {key}"
    assert outage_client.post("/v1/comments/check", json=HAM).status_code == 200
    moderation.settle_checks()  # stored now, not by the write-behind thread during the outage
    yield site
    moderation.storage.down = False
    moderation.spool._write = os.write
    assert moderation.replay_spool()


def _moderation(client: TestClient) -> Moderation:
    moderation: Moderation = client.app.state.moderation
    return moderation


def _spool_depth(client: TestClient) -> float | None:
    """The ``sluice_spool_depth`` gauge as Prometheus would scrape it."""
    return client.app.state.metrics.scraped_registry().get_sample_value("sluice_spool_depth")


def test_outage_checks_answered_and_feedback_spooled_then_replayed(
    outage_client: TestClient, site: Any
) -> None:
    moderation = _moderation(outage_client)
    real = moderation.storage.real
    stored = real.list_checks(site_id=site.id)[0]

    moderation.storage.down = True
    answered = outage_client.post("/v1/comments/check", json=HAM)
    assert answered.status_code == 200
    assert answered.json()["verdict"] == "ham"
    check_id = answered.json()["id"]
    spooled_feedback = outage_client.post(
        f"/v1/comments/{check_id}/feedback", json={"label": "spam"}
    )
    assert spooled_feedback.status_code == 202
    assert spooled_feedback.json() == {
        "id": None,
        "check_id": check_id,
        "label": "spam",
        "original_verdict": None,
        "queued": True,
    }
    old = outage_client.post(f"/v1/comments/{stored.id}/feedback", json={"label": "ham"})
    assert old.status_code == 202
    unknown = outage_client.post(
        "/v1/comments/check", json=HAM, headers={"Authorization": "Bearer 0123456789ab"}
    )
    assert unknown.status_code == 503
    assert unknown.headers["retry-after"]
    assert unknown.json()["error"] == "database_unavailable"
    assert [e["kind"] for e in moderation.spool.entries()] == ["check", "feedback", "feedback"]

    assert not moderation.replay_spool()  # still down: nothing lost, nothing stored
    assert len(list(moderation.spool.entries())) == 3
    assert _spool_depth(outage_client) == 3

    moderation.storage.down = False
    assert moderation.replay_spool()
    assert not moderation.spool.files()
    assert _spool_depth(outage_client) == 0
    assert not moderation.spool.active
    check = real.get_check(check_id)
    assert check is not None and check.site_id == site.id and check.content == HAM["content"]
    feedback = {(f.check_id, f.label.value) for f in real.list_feedback(site_id=site.id)}
    assert feedback == {(check_id, "spam"), (stored.id, "ham")}
    assert real.site_stats(site_id=site.id).checks == 2
    assert moderation.replay_spool()  # replaying again stores nothing twice
    assert len(real.list_feedback(site_id=site.id)) == 2


def test_replay_interrupted_by_a_crash_stores_nothing_twice(
    outage_client: TestClient, site: Any
) -> None:
    moderation = _moderation(outage_client)
    moderation.storage.down = True
    check_id = outage_client.post("/v1/comments/check", json=HAM).json()["id"]
    outage_client.post(f"/v1/comments/{check_id}/feedback", json={"label": "spam"})
    moderation.storage.down = False
    entries = list(moderation.spool.entries())
    for entry in entries:  # as if a replay stored them and died before deleting the file
        moderation._replay_entry(entry)
    assert moderation.replay_spool()
    real = moderation.storage.real
    assert len(real.list_feedback(site_id=site.id)) == 1
    assert real.site_stats(site_id=site.id).checks == 2


def test_disk_full_on_the_spool_is_a_clear_503_and_corrupts_nothing(
    outage_client: TestClient, site: Any
) -> None:
    moderation = _moderation(outage_client)
    moderation.storage.down = True
    first = outage_client.post("/v1/comments/check", json=HAM).json()["id"]

    def disk_full(fd: int, data: bytes) -> int:
        os.write(fd, bytes(data[: len(data) // 2]))  # half a line reaches the disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    moderation.spool._write = disk_full
    refused = outage_client.post(f"/v1/comments/{first}/feedback", json={"label": "spam"})
    assert refused.status_code == 503
    assert refused.json()["error"] == "not_durable"
    assert "ENOSPC" in refused.json()["message"]
    answered = outage_client.post("/v1/comments/check", json=HAM)  # still answered
    assert answered.status_code == 200
    for path in moderation.spool.files():  # whole lines only
        assert path.read_bytes().endswith(b"\n")
        assert all(json.loads(line) for line in path.read_bytes().splitlines())
    assert [e["check_id"] for e in moderation.spool.entries()] == [first]

    moderation.spool._write = os.write
    moderation.storage.down = False
    assert moderation.replay_spool()
    real = moderation.storage.real
    assert real.get_check(first) is not None
    assert real.list_feedback(site_id=site.id) == []  # refused, so never acknowledged


def test_locked_sqlite_database_answers_checks_and_spools_feedback(
    outage_client: TestClient, site: Any
) -> None:
    moderation = _moderation(outage_client)
    database = moderation.storage.real.engine.url.database
    locker = sqlite3.connect(database, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.monotonic()
        answered = outage_client.post("/v1/comments/check", json=HAM)
        assert answered.status_code == 200
        assert time.monotonic() - started < 5
        check_id = answered.json()["id"]
        queued = outage_client.post(f"/v1/comments/{check_id}/feedback", json={"label": "spam"})
        assert queued.status_code == 202
        assert not moderation.replay_spool()  # reads work, but the lock is still held
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert moderation.replay_spool()
    real = moderation.storage.real
    assert real.get_check(check_id) is not None
    assert [f.check_id for f in real.list_feedback(site_id=site.id)] == [check_id]


def test_spool_skips_a_torn_last_line_and_files_other_processes_hold(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append({"kind": "feedback", "n": 1})
    spool.seal()
    [written] = spool.files()
    with open(written, "ab") as torn:
        torn.write(b'{"kind": "feedback", "n"')  # killed mid-write: never acknowledged
    spool.append({"kind": "feedback", "n": 2})  # a live writer's file: locked, skipped
    seen: list[int] = []
    spool.seal()
    held = os.open(spool.files()[-1], os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # as a live worker holds the file it writes
    try:
        spool.replay(lambda entry: seen.append(entry["n"]))
    finally:
        os.close(held)
    assert seen == [1]
    spool.replay(lambda entry: seen.append(entry["n"]))
    assert seen == [1, 2]
    assert spool.files() == []


def test_spool_replay_interrupted_by_an_outage_keeps_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(5):
        spool.append({"kind": "feedback", "n": n})
    seen: list[int] = []
    failures = [DatabaseUnavailable("gone again")]

    def flaky(entry: dict[str, Any]) -> None:
        if entry["n"] == 3 and failures:
            raise failures.pop()
        seen.append(entry["n"])

    assert not spool.replay(flaky).complete
    assert [e["n"] for e in spool.entries()] == [3, 4]
    assert spool.replay(flaky).complete
    assert seen == [0, 1, 2, 3, 4]


def test_unwritable_spool_directory_refuses(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(SpoolUnavailable):
        Spool(blocker / "spool").append({"kind": "feedback"})


def test_feedback_spooled_by_one_worker_waits_for_its_check_spooled_by_another(
    db_url: str, models_dir: Path, tmp_path: Path
) -> None:
    """Two workers share one spool directory. The check sits in B's file (locked while B
    writes), the feedback on it in A's: A's replay must not store the feedback unlinked."""
    from service.models import ModelHolder

    models = ModelHolder(models_dir)
    models.refresh()
    storages = [SwitchableStorage(Storage(db_url, secret="two-workers")) for _ in range(2)]
    a, b = (
        Moderation(models=models, storage=s, spool=Spool(tmp_path / "spool"))  # type: ignore[arg-type]
        for s in storages
    )
    site = storages[0].real.create_site(url=f"https://workers{time.monotonic_ns()}.example")
    key_id, _ = storages[0].real.create_key(site_id=site.id)
    try:
        for storage in storages:
            storage.down = True
        check_id = b.check(site, HAM, key_id=key_id).id
        b.settle_checks()  # spooled to B's file, which B keeps open
        assert a.feedback(site, label="spam", source="api", check_id=check_id).spooled
        for storage in storages:
            storage.down = False
        # The database is back, the check still only in B's file: A knows it from there.
        assert a.knows_check(site, check_id) is True
        assert a.feedback(site, label="ham", source="api", check_id=check_id).spooled

        assert not a.replay_spool()  # B's file is locked: A stops at the first feedback
        assert storages[0].real.list_feedback(site_id=site.id) == []
        assert b.replay_spool()  # B stores its check, then A's feedback
        stored = storages[0].real.list_feedback(site_id=site.id)
        assert sorted(f.label.value for f in stored) == ["ham", "spam"]
        assert all(f.check_id == check_id and f.original_verdict is not None for f in stored)
        assert a.replay_spool() and not a.spool.files()
    finally:
        for moderation, storage in zip((a, b), storages, strict=True):
            storage.down = False
            moderation.shutdown()
            storage.real.close()
