"""Storage fixtures; ``db_url`` (tests/conftest.py) runs each test on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import MetaData, select

from service.storage import Storage

SECRET = "storage-tests-secret-0123456789"


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
