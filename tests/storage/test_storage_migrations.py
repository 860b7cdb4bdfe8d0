"""Migrations: an empty database reaches head, matches the models, and can go back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service.storage import current_revision, downgrade, head_revision, make_engine, upgrade
from service.storage.schema import all_metadata

#: Tables of the first revision; later revisions may add more, never remove these.
TABLES = {
    "sites",
    "api_keys",
    "checks",
    "feedback",
    "daily_counts",
    "usage",
    "reputation",
    "registry_state",
}


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that has never been migrated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'sluice.db'}"
    url: str = request.getfixturevalue("postgres_server").create_database()
    return url


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_reaches_head_and_matches_models(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    engine = make_engine(empty_url)
    try:
        metadata = all_metadata()
        assert TABLES <= _tables(engine) == set(metadata.tables)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_then_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    engine = make_engine(empty_url)
    try:
        assert _tables(engine) == set()
        upgrade(engine)
        assert _tables(engine) == set(all_metadata().tables)
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'sluice.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
    finally:
        engine.dispose()
    assert (tmp_path / "nested" / "dir" / "sluice.db").exists()


def test_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    engine = make_engine("postgresql://user@127.0.0.1:5432/db")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
    finally:
        engine.dispose()
