"""A real server process (uvicorn on a free loopback port, SQLite in a temporary directory):
killed with SIGKILL while feedback is being posted, part of it into the spool because the
database is locked, then restarted; every acknowledged item must be stored. A SIGTERM during
a long request lets that request finish first."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.storage import Storage, upgrade

SECRET = "crash-test-secret"
HAM = "Thanks, the vacuum settings you suggested fixed our table bloat on PostgreSQL 15."

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path, models_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SLUICE_DATA_DIR": str(data_dir),
            "SLUICE_MODELS_DIR": str(models_dir),
            "SLUICE_SECRET_KEY": SECRET,
            "SLUICE_PORT": str(self.port),
            "SLUICE_MODEL_RELOAD_SECONDS": "0",
            "SLUICE_DATABASE_LOCK_TIMEOUT_SECONDS": "0.2",
            "SLUICE_SPOOL_REPLAY_SECONDS": "0.2",
            "SLUICE_RATE_LIMIT_KEY_PER_MINUTE": "0",
            "SLUICE_RATE_LIMIT_IP_PER_MINUTE": "0",
            "SLUICE_LOG_LEVEL": "INFO",
            "SLUICE_REQUEST_TIMEOUT_SECONDS": "60",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.data_dir / "server.log"
        with open(log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"],
                env=self.env,
                cwd=Path(__file__).resolve().parents[2],
                stdout=output,
                stderr=output,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not become ready")

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait(timeout=30)

    def stopped_gracefully(self) -> bool:
        """Exited after SIGTERM (uvicorn re-raises the signal once it has shut down)."""
        return (
            self.wait() in (0, -signal.SIGTERM)
            and "Finished server process" in (self.data_dir / "server.log").read_text()
        )


@pytest.fixture
def server(tmp_path: Path, models_dir: Path) -> Iterator[tuple[Server, str]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'sluice.db'}"
    upgrade(url)
    with Storage(url, secret=SECRET) as storage:
        _, key = storage.create_key(site_id=storage.create_site(url="https://blog.example").id)
    running = Server(data_dir, models_dir)
    yield running, key
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_sigkill_loses_nothing_acknowledged_and_sigterm_finishes_requests(
    server: tuple[Server, str],
) -> None:
    running, key = server
    headers = {"Authorization": f"Bearer {key}"}
    running.start()
    with httpx.Client(base_url=running.url, headers=headers, timeout=10) as client:
        check_ids = [
            client.post("/v1/comments/check", json={"content": f"{HAM} ({n})"}).json()["id"]
            for n in range(10)
        ]
        acknowledged: list[tuple[str, str, int]] = []
        locker = None
        killed = threading.Event()

        def kill_soon() -> None:
            time.sleep(0.05)
            running.signal(signal.SIGKILL)
            killed.set()

        for n in range(400):
            if n == 15:  # from here on the database is locked: feedback goes to the spool
                locker = sqlite3.connect(running.data_dir / "sluice.db", isolation_level=None)
                locker.execute("BEGIN IMMEDIATE")
            if n == 30:
                threading.Thread(target=kill_soon).start()
            check_id, label = check_ids[n % 10], ("spam", "ham")[n % 2]
            try:
                response = client.post(
                    f"/v1/comments/{check_id}/feedback",
                    json={"label": label, "reporter": f"r{n}"},
                )
            except httpx.TransportError:
                break
            assert response.status_code in (201, 202), response.text
            acknowledged.append((check_id, label, n))
        assert killed.wait(10)
    assert running.wait() == -signal.SIGKILL
    assert locker is not None
    locker.execute("ROLLBACK")
    locker.close()
    assert any(n >= 15 for *_, n in acknowledged), "nothing was spooled before the kill"
    assert list((running.data_dir / "spool").glob("spool-*.jsonl")), "the spool is empty"

    running.start()  # replays the spool at start
    deadline = time.monotonic() + 20
    while list((running.data_dir / "spool").glob("spool-*.jsonl")):
        assert time.monotonic() < deadline, "the spool was not replayed"
        time.sleep(0.1)

    # Graceful stop: a batch being scored when SIGTERM arrives is answered and stored.
    batch = {"comments": [{"content": f"{HAM} number {n}"} for n in range(200)]}
    answers: list[httpx.Response] = []
    poster = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{running.url}/v1/comments/check-batch", json=batch, headers=headers, timeout=60
            )
        )
    )
    poster.start()
    time.sleep(0.3)
    running.signal(signal.SIGTERM)
    poster.join(60)
    assert running.stopped_gracefully()
    [answer] = answers
    assert answer.status_code == 200

    with Storage(f"sqlite:///{running.data_dir / 'sluice.db'}", secret=SECRET) as storage:
        stored = {
            (f.check_id, f.label.value, int((f.reporter or "r-1")[1:]))
            for f in storage.list_feedback(limit=10_000)
        }
        batch_ids = [result["id"] for result in answer.json()["results"]]
        assert all(storage.get_check(check_id) is not None for check_id in batch_ids)
    assert set(acknowledged) <= stored
    assert len(stored) == len({n for *_, n in stored})  # none stored twice
