"""A PostgreSQL database whose tables another session holds locked (PostgreSQL waits for a lock
forever by default): with ``lock_timeout`` set from ``SLUICE_DATABASE_LOCK_TIMEOUT_SECONDS``,
checks are still answered, feedback is acknowledged only once spooled, and everything is
stored when the lock is released."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from service.app import create_app
from service.moderation import Moderation
from service.storage.schema import all_metadata
from tests.hardening.conftest import hardening_settings
from tests.hardening.test_database_outage import HAM

pytestmark = pytest.mark.postgres

LOCK_TIMEOUT_SECONDS = 0.3


@pytest.fixture
def postgres_client(
    models_dir: Path, tmp_path: Path, postgres_server: Any
) -> Iterator[tuple[TestClient, str]]:
    url = postgres_server.create_database()
    settings = hardening_settings(
        models_dir,
        tmp_path,
        database_url=url,
        database_lock_timeout_seconds=LOCK_TIMEOUT_SECONDS,
        spool_replay_seconds=3600,  # the test replays when it chooses
        rate_limit_key_per_minute=0,
        rate_limit_ip_per_minute=0,
    )
    with TestClient(create_app(settings)) as client:
        yield client, url


def _stored(moderation: Moderation, check_id: str) -> Any:
    """The stored check, once the spool (and any write held in memory) has reached the database."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if moderation.replay_spool():
            check = moderation.storage.get_check(check_id)
            if check is not None:
                return check
        time.sleep(0.05)
    return None


def test_locked_postgres_tables_answer_checks_and_spool_feedback(
    postgres_client: tuple[TestClient, str],
) -> None:
    client, url = postgres_client
    moderation: Moderation = client.app.state.moderation
    storage = moderation.storage
    site = storage.create_site(url=f"https://locked{time.monotonic_ns()}.example")
    key = storage.create_key(site_id=site.id)[1]
    client.headers["Authorization"] = f"Bearer {key}"
    before = client.post("/v1/comments/check", json=HAM)  # the key is now known in memory
    assert before.status_code == 200
    earlier_check = before.json()["id"]
    assert _stored(moderation, earlier_check) is not None

    locker = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    # If the service waited for the lock, this session ends itself and the test fails on what
    # got stored directly, instead of hanging.
    locker.execute("SET idle_in_transaction_session_timeout = '15s'")
    tables = ", ".join(table.name for table in all_metadata().sorted_tables)
    locker.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        answered = client.post("/v1/comments/check", json=HAM)
        assert answered.status_code == 200
        assert answered.json()["verdict"] == "ham"
        check_id = answered.json()["id"]
        queued = client.post(f"/v1/comments/{check_id}/feedback", json={"label": "spam"})
        assert queued.status_code == 202
        assert queued.json()["queued"] is True
        old = client.post(f"/v1/comments/{earlier_check}/feedback", json={"label": "spam"})
        assert old.status_code == 202
        akismet = client.post(
            "/1.1/comment-check",
            data={"api_key": key, "blog": site.url, "comment_content": HAM["content"]},
        )
        assert akismet.status_code == 200
        assert akismet.text == "false"
        # Each request waited at most a few lock timeouts, far below the locker's 15 s.
        assert time.monotonic() - started < 10
        feedback_kinds = [e["kind"] for e in moderation.spool.entries() if e["kind"] == "feedback"]
        assert feedback_kinds == ["feedback", "feedback"]
        assert not moderation.replay_spool()  # still locked: kept, and it did not hang either
    finally:
        locker.rollback()
        locker.close()

    assert _stored(moderation, check_id) is not None
    feedback = {(f.check_id, f.label.value) for f in storage.list_feedback(site_id=site.id)}
    assert feedback == {(check_id, "spam"), (earlier_check, "spam")}
    assert not moderation.spool.files()


def test_postgres_sessions_get_the_configured_lock_timeout(
    postgres_client: tuple[TestClient, str],
) -> None:
    client, _ = postgres_client
    engine = client.app.state.moderation.storage.engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "300ms"
        connection.rollback()
    with engine.connect() as connection:  # still set once the first transaction rolled back
        assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "300ms"
