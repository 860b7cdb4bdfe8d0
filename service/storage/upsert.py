"""``INSERT ... ON CONFLICT DO UPDATE`` for SQLite and PostgreSQL.

Both dialects spell it the same way in SQLAlchemy, but through different ``insert``
constructs; counters use it so concurrent increments never lose an update and never
need a read first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def upsert(
    dialect: str,
    table: Table,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    add: Sequence[str] = (),
    replace: Sequence[str] = (),
) -> Insert:
    """Insert ``values``; on a clash on ``keys``, add the ``add`` columns, overwrite ``replace``."""
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = builder(table).values(values if isinstance(values, Sequence) else [values])
    changes: dict[str, Any] = {name: table.c[name] + stmt.excluded[name] for name in add}
    changes.update({name: stmt.excluded[name] for name in replace})
    return stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=changes)
