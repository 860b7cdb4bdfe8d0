"""A real server on a real socket for the unmodified Akismet clients to talk to.

uvicorn serves the app built by ``create_app`` in a background thread on a free port of
127.0.0.1, with the session's trained model and SQLite in a temporary directory. Tests
create their sites and keys through ``LiveServer.storage`` and check what was stored.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings
from service.storage import Storage


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int
    storage: Storage

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def new_key(self, url: str, **settings: Any) -> str:
        """A key for a new site at ``url`` with these site settings."""
        site = self.storage.create_site(url=url, settings=settings or None)
        _, key = self.storage.create_key(site_id=site.id)
        return key

    def key_id(self, key: str) -> int:
        match = self.storage.find_key(plaintext=key)
        assert match is not None
        return match.key.id


@pytest.fixture(scope="module")
def live_server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = Settings(
        models_dir=models_dir,
        data_dir=tmp_path_factory.mktemp("live-data"),
        secret_key="live-test-secret",
        admin_token="live-admin-token",
        model_reload_seconds=0,
    )
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer("127.0.0.1", port, app.state.moderation.storage)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
