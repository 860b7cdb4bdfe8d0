"""One app per module and database backend (loading the model is the slow part); every test
gets its own site and key, so tests never see each other's counters.

The site's URL differs per test, but Akismet clients may send any ``blog``: the key decides
the site, so tests keep sending ``https://blog.example``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.settings import Settings
from service.storage import Site

_numbers = itertools.count(1)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def shared_client(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    database_url = None
    if request.param == "postgres":
        engine: Engine = request.getfixturevalue("postgres_engine")
        database_url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        models_dir=models_dir,
        data_dir=tmp_path_factory.mktemp("akismet-data"),
        database_url=database_url,
        secret_key="test-secret",
        admin_token="test-admin-token",
        model_reload_seconds=0,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def anonymous_client(shared_client: TestClient) -> TestClient:
    return shared_client


@pytest.fixture
def site(shared_client: TestClient) -> Site:
    storage = shared_client.app.state.moderation.storage
    return storage.create_site(url=f"https://blog{next(_numbers)}.example", name="Test blog")


@pytest.fixture
def api_key(shared_client: TestClient, site: Site) -> str:
    _, key = shared_client.app.state.moderation.storage.create_key(site_id=site.id)
    return key
