"""Storage fixtures: every test runs on SQLite and on a real PostgreSQL.

PostgreSQL is expected on 127.0.0.1:5432 with trust authentication (CI starts it);
``SLUICE_TEST_POSTGRES_URL`` points elsewhere. When it cannot be reached the
PostgreSQL tests fail rather than skip, so a broken server is never a green run.
One throw-away database is created per test session and dropped at the end; tables
are emptied before each test (ids keep growing: tests never assume them).
SQLite tests copy a migrated template file.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from service.storage import Storage, make_engine, sqlite_url, upgrade
from service.storage.schema import all_metadata

SECRET = "storage-tests-secret-0123456789"
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


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    store = Storage(db_url, secret=SECRET)
    yield store
    store.close()


@pytest.fixture
def database_text(storage: Storage) -> Callable[[], str]:
    """Every row of every table as one string, to prove a value is stored nowhere."""

    def dump() -> str:
        metadata = MetaData()
        metadata.reflect(storage.engine)
        with storage.engine.connect() as connection:
            return "\n".join(
                repr(tuple(row))
                for table in metadata.sorted_tables
                for row in connection.execute(select(table))
            )

    return dump
