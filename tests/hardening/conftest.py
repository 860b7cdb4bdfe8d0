"""Hardening tests share one app per module (loading the model is the slow part)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from service.storage import Storage

_numbers = itertools.count(1)


def hardening_settings(models_dir: Path, data_dir: Path, **changes: object) -> Settings:
    return Settings(
        models_dir=models_dir,
        data_dir=data_dir,
        secret_key="hardening-secret",
        admin_token="hardening-admin-token",
        model_reload_seconds=0,
        **changes,
    )


@pytest.fixture(scope="module")
def shared_app_client(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One app on its own SQLite database for the whole module; server errors come back as 500s."""
    settings = hardening_settings(models_dir, tmp_path_factory.mktemp("hardening"))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def storage_of(client: TestClient) -> Storage:
    storage: Storage = client.app.state.moderation.storage
    return storage


def new_key(client: TestClient) -> str:
    """A key of a new site, so each test sees only its own rows and counters."""
    storage = storage_of(client)
    site = storage.create_site(url=f"https://blog{next(_numbers)}.example")
    return storage.create_key(site_id=site.id)[1]


@pytest.fixture
def keyed_client(shared_app_client: TestClient) -> Iterator[TestClient]:
    """The module's app, with a fresh site's key on every request."""
    shared_app_client.headers["Authorization"] = f"Bearer {new_key(shared_app_client)}"
    yield shared_app_client
    shared_app_client.headers.pop("Authorization", None)
