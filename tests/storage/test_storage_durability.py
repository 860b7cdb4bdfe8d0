"""Durability across restarts, concurrent writers, and an unreachable database."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from service.storage import DatabaseUnavailable, Storage, upgrade

SECRET = "storage-tests-secret-0123456789"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_feedback_survives_engine_disposal(db_url: str) -> None:
    storage = Storage(db_url, secret=SECRET)
    site = storage.create_site(url="https://example.com")
    feedback = storage.record_feedback(
        site_id=site.id, label="spam", source="akismet", fields={"content": "kept"}, at=NOW
    )
    storage.close()

    with Storage(db_url, secret=SECRET) as reopened:
        assert reopened.list_feedback(site_id=site.id) == [feedback]

    database = make_url(db_url).database
    if make_url(db_url).get_backend_name() == "sqlite" and database:
        with sqlite3.connect(database) as raw:  # a reader that shares nothing with Storage
            assert raw.execute("SELECT content FROM feedback").fetchall() == [("kept",)]
        raw.close()


def test_concurrent_writers_do_not_fail(db_url: str) -> None:
    threads, rounds = 8, 15
    with Storage(db_url, secret=SECRET) as storage:
        site = storage.create_site(url="https://example.com")
        key_id, _ = storage.create_key(site_id=site.id)
        start = threading.Barrier(threads)

        def work(worker: int) -> None:
            start.wait()
            for i in range(rounds):
                text = f"comment {worker}-{i}"
                record = storage.record_check(
                    site_id=site.id,
                    key_id=key_id,
                    fields={"content": text},
                    score=0.2,
                    verdict="ham",
                    model_version="m",
                    at=NOW,
                )
                storage.record_feedback(
                    site_id=site.id,
                    label="spam",
                    source="akismet",
                    check_id=record.id,
                    fields={"content": text},
                    reputation=[("link_domain", "spam.example")],
                    at=NOW,
                )
                storage.set_state("last_worker", str(worker))

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(work, n) for n in range(threads)]:
                future.result()  # re-raises "database is locked" if it happened

        [day] = storage.daily_counts(site_id=site.id, since=date(2026, 3, 1))
        assert (day.checks, day.ham, day.missed_spam) == (threads * rounds,) * 3
        assert storage.usage(key_id=key_id, month="2026-03") == threads * rounds
        counts = storage.get_reputation(site_id=site.id, entries=[("link_domain", "spam.example")])
        assert counts[("link_domain", "spam.example")].spam == threads * rounds


def test_unreachable_postgres_raises_database_unavailable() -> None:
    with Storage("postgresql+psycopg://nobody@127.0.0.1:1/none", secret=SECRET) as storage:
        with pytest.raises(DatabaseUnavailable) as caught:
            storage.ping()
        assert "127.0.0.1" not in str(caught.value)
        with pytest.raises(DatabaseUnavailable):
            storage.list_sites()


def test_unopenable_sqlite_raises_database_unavailable(tmp_path: Path) -> None:
    (tmp_path / "sluice.db").mkdir()  # a directory where the file should be
    url = f"sqlite:///{tmp_path / 'sluice.db'}"
    with Storage(url, secret=SECRET) as storage, pytest.raises(DatabaseUnavailable):
        storage.get_state("x")


def test_storage_on_a_plain_sqlite_engine_gets_the_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    upgrade(engine)
    with Storage(engine, secret=SECRET) as storage:
        storage.set_state("k", "v")
    with engine.connect() as connection:  # close() leaves an engine it did not create open
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
