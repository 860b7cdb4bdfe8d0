"""SIGTERM right after a stream of checks: every check answered is stored, counted once.

Checks are answered before they are stored (write-behind, ``service.writebehind``), so at
any moment some answered checks exist only in a worker's memory. A graceful stop must store
them (or spool them, replayed at the next start). A real server process, with one worker and
with two, posting from several threads until the server stops taking requests. The database
is kept locked (for less than the server's lock wait) across the SIGTERM, so the writer
cannot have stored everything before the server's own shutdown asks it to.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.storage import Storage, upgrade
from tests.hardening.test_crash import HAM, SECRET, Server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, models_dir: Path) -> Iterator[tuple[Server, str, int]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'sluice.db'}"
    upgrade(url)
    with Storage(url, secret=SECRET) as storage:
        site = storage.create_site(url="https://blog.example")
        _, key = storage.create_key(site_id=site.id)
    running = Server(data_dir, models_dir)
    yield running, key, site.id
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stores_every_check_answered(server: tuple[Server, str, int], workers: int) -> None:
    running, key, site_id = server
    running.env["SLUICE_WORKERS"] = str(workers)
    running.env["SLUICE_DATABASE_LOCK_TIMEOUT_SECONDS"] = "10"  # wait for the lock, not spool
    running.start()
    answered: list[str] = []
    enough = threading.Event()

    def post(thread: int) -> None:
        with httpx.Client(
            base_url=running.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            for n in range(10_000):
                try:
                    response = client.post(
                        "/v1/comments/check", json={"content": f"{HAM} ({thread}-{n})"}
                    )
                except httpx.TransportError:
                    return  # the server stopped taking requests
                if response.status_code != 200:  # refused while stopping: not answered
                    return
                answered.append(response.json()["id"])
                if len(answered) >= 60:
                    enough.set()

    posters = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for poster in posters:
        poster.start()
    assert enough.wait(60), "the server did not answer 60 checks"
    locker = sqlite3.connect(running.data_dir / "sluice.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # checks are still answered, and held in memory
    time.sleep(0.5)
    running.signal(signal.SIGTERM)  # while checks are still being posted and answered
    time.sleep(2)  # the server has finished its requests and is stopping
    locker.execute("ROLLBACK")
    locker.close()
    for poster in posters:
        poster.join(60)
    assert running.stopped_gracefully()

    running.start()  # replays anything a worker spooled instead of storing
    deadline = time.monotonic() + 30
    while list((running.data_dir / "spool").glob("spool-*.jsonl")):
        assert time.monotonic() < deadline, "the spool was not replayed"
        time.sleep(0.1)
    running.signal(signal.SIGTERM)
    assert running.stopped_gracefully()

    with Storage(f"sqlite:///{running.data_dir / 'sluice.db'}", secret=SECRET) as storage:
        stored = {check.id for check in storage.list_checks(site_id=site_id, limit=100_000)}
        stats = storage.site_stats(site_id=site_id)
    assert set(answered) <= stored, f"{len(set(answered) - stored)} answered checks lost"
    assert stats.checks == len(stored)  # counted once each, none twice
    assert stats.api_calls == len(stored)
