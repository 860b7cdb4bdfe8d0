"""Shared fixtures: one default model per session, apps built by the factory on both databases.

PostgreSQL is expected on 127.0.0.1:5432 with trust authentication (CI starts it);
``SLUICE_TEST_POSTGRES_URL`` points elsewhere. When it cannot be reached the PostgreSQL
tests fail rather than skip, so a broken server is never a green run. One throw-away
database is created per test session and dropped at the end; tables are emptied before
each test. SQLite tests copy a migrated template file.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.settings import Settings
from service.storage import make_engine, sqlite_url, upgrade
from service.storage.schema import all_metadata
from training import artifacts
from training.__main__ import main as training_main

_ADMIN_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


class PostgresServer:
    """Creates and drops throw-away databases through an admin connection."""

    def __init__(self) -> None:
        configured = os.environ.get("SLUICE_TEST_POSTGRES_URL")
        errors: list[str] = []
        for url in (configured,) if configured else _ADMIN_URLS:
            engine = create_engine(url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except Exception as exc:  # any failure to connect means "not reachable"
                engine.dispose()
                errors.append(f"{url}: {type(exc).__name__}: {exc}".splitlines()[0])
                continue
            self.admin: Engine = engine
            self.base_url = make_url(url)
            self.created: list[str] = []
            return
        pytest.fail("PostgreSQL is not reachable for the storage tests: " + "; ".join(errors))

    def create_database(self) -> str:
        name = f"sluice_test_{secrets.token_hex(6)}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_engine(postgres_server: PostgresServer) -> Iterator[Engine]:
    """A migrated PostgreSQL database shared by the session's tests."""
    engine = make_engine(postgres_server.create_database())
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; copying it is much faster than migrating per test."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    upgrade(sqlite_url(directory))
    return directory / "sluice.db"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated database of each backend."""
    if request.param == "sqlite":
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), data_dir / "sluice.db")
        return sqlite_url(data_dir)
    engine: Engine = request.getfixturevalue("postgres_engine")
    with engine.begin() as connection:
        # Children first; DELETE is much faster than TRUNCATE on tables this small.
        for table in reversed(all_metadata().sorted_tables):
            connection.execute(table.delete())
    return engine.url.render_as_string(hide_password=False)


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
def settings(tmp_path: Path, models_dir: Path, db_url: str) -> Settings:
    return Settings(
        models_dir=models_dir,
        data_dir=tmp_path / "data",
        database_url=db_url,
        migrate_on_start=False,
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
