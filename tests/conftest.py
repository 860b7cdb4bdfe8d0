"""Shared fixtures: one default model trained per test session, apps built by the factory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from training import artifacts
from training.__main__ import main as training_main


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding the default model, trained exactly as ``make run`` trains it.

    Set ``SLUICE_TEST_MODELS_DIR`` to reuse an already trained registry while iterating.
    """
    reuse = os.environ.get("SLUICE_TEST_MODELS_DIR")
    if reuse and artifacts.current_version(Path(reuse)):
        return Path(reuse)
    directory = tmp_path_factory.mktemp("models")
    assert training_main(["-q", "ensure-default", "--models-dir", str(directory)]) == 0
    return directory


@pytest.fixture(scope="session")
def default_model(models_dir: Path) -> artifacts.LoadedModel:
    version = artifacts.current_version(models_dir)
    assert version
    return artifacts.load_model(models_dir / version)


@pytest.fixture
def settings(tmp_path: Path, models_dir: Path) -> Settings:
    return Settings(
        models_dir=models_dir,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        admin_token="test-admin-token",
        model_reload_seconds=0,
    )


@pytest.fixture
def anonymous_client(settings: Settings) -> Iterator[TestClient]:
    """A client of an app on a fresh SQLite database, sending no credentials."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def api_key(anonymous_client: TestClient) -> str:
    storage = anonymous_client.app.state.moderation.storage
    site = storage.create_site(url="https://blog.example", name="Example blog")
    _, key = storage.create_key(site_id=site.id)
    return key


@pytest.fixture
def client(anonymous_client: TestClient, api_key: str) -> TestClient:
    """The same app, with a site's API key sent on every request."""
    anonymous_client.headers["Authorization"] = f"Bearer {api_key}"
    return anonymous_client
