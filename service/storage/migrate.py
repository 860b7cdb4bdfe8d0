"""Alembic, configured in code: no ``alembic.ini`` to keep in step with the package.

``upgrade(url)`` brings a database to the newest schema; the service calls it at
start-up and the tests call it on empty databases. For new revisions::

    python -m service.storage revision -m "add x" --url sqlite:///var/dev.db
    python -m service.storage upgrade --url postgresql+psycopg://host/db
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from service.storage.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration pointing at this package's migrations.

    ``connection`` is handed to ``env.py`` so migrations run on the caller's engine,
    with its SQLite pragmas, inside the caller's transaction.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _connected(bind: str | Engine) -> Iterator[Connection]:
    engine = make_engine(bind) if isinstance(bind, str) else bind
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        if engine is not bind:
            engine.dispose()


def upgrade(bind: str | Engine, revision: str = "head") -> None:
    """Migrate the database at ``bind`` (a URL or an Engine) up to ``revision``."""
    with _connected(bind) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(bind: str | Engine, revision: str) -> None:
    """Migrate the database at ``bind`` down to ``revision`` (``"base"`` empties it)."""
    with _connected(bind) as connection:
        command.downgrade(alembic_config(connection), revision)


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(bind: str | Engine) -> str | None:
    """The revision the database is at, or ``None`` for a database never migrated."""
    with _connected(bind) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def main(argv: list[str] | None = None) -> None:
    """Command line for developers: upgrade, downgrade, current, revision."""
    parser = argparse.ArgumentParser(prog="python -m service.storage")
    parser.add_argument("action", choices=["upgrade", "downgrade", "current", "revision"])
    parser.add_argument("--url", required=True, help="database URL")
    parser.add_argument("--revision", default=None, help="target of upgrade or downgrade")
    parser.add_argument("-m", "--message", default="change", help="message of a new revision")
    args = parser.parse_args(argv)
    if args.action == "upgrade":
        upgrade(args.url, args.revision or "head")
    elif args.action == "downgrade":
        downgrade(args.url, args.revision or "-1")
    elif args.action == "current":
        print(current_revision(args.url))
    else:
        with _connected(args.url) as connection:
            command.revision(alembic_config(connection), message=args.message, autogenerate=True)
