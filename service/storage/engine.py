"""Engines for the two supported databases, configured for a multi-threaded server.

SQLite is the embedded default. Its connections get WAL (readers never wait for
the writer), foreign keys, a busy timeout and ``synchronous=FULL`` (an acknowledged
feedback survives a power cut). SQLAlchemy, not the ``sqlite3`` module, emits
BEGIN, so write transactions can start with ``BEGIN IMMEDIATE``: they take the
write lock up front and wait on the busy timeout instead of failing with
"database is locked" when two deferred transactions both try to upgrade.

PostgreSQL waits for a lock forever by default. ``limit_lock_wait`` bounds the wait on both
databases, so a table someone holds locked makes a request fall back (checks answered and
spooled, feedback spooled) instead of hanging until the client gives up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakSet

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from service.storage.errors import DatabaseUnavailable, InvalidValue

SQLITE_FILENAME = "sluice.db"
BUSY_TIMEOUT_MS = 15_000
#: Execution option read by the BEGIN hook: "IMMEDIATE" for transactions that write,
#: "NONE" for connections that run one read statement (its own snapshot; no BEGIN needed).
BEGIN_OPTION = "sluice_sqlite_begin"

_configured: WeakSet[Engine] = WeakSet()


@contextmanager
def unavailable_as_storage_error() -> Iterator[None]:
    """A connection that fails, times out or waits too long for a lock becomes
    ``DatabaseUnavailable``, the one error callers fall back on (the cause is kept)."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.TimeoutError) as exc:
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise DatabaseUnavailable(f"database unavailable ({cause})") from exc


def sqlite_url(data_dir: str | Path) -> str:
    """URL of the database file inside ``data_dir``."""
    return f"sqlite:///{Path(data_dir).expanduser().resolve() / SQLITE_FILENAME}"


def normalize_database_url(url: str | URL) -> URL:
    """Parse a URL and pick psycopg 3 for PostgreSQL URLs that name no driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError, ValueError...
        raise InvalidValue("database url is not a valid SQLAlchemy URL") from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidValue(f"database must be sqlite or postgresql, got {backend!r}")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``, creating the SQLite file's directory if needed."""
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(parsed.query)
    if in_memory:
        # One shared connection, or every pool checkout would see its own empty database.
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    configure_sqlite(engine)
    return engine


def configure_sqlite(engine: Engine) -> None:
    """Add the pragmas and the BEGIN hook to a SQLite engine made elsewhere (once).

    The pool is then replaced, so connections opened before (say by a migration)
    are not reused without the pragmas.
    """
    if engine.dialect.name != "sqlite" or engine in _configured:
        return
    _configured.add(engine)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take BEGIN away from the sqlite3 module; the "begin" hook below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION)
        if mode != "NONE":
            connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    engine.dispose()


def limit_lock_wait(engine: Engine, seconds: float) -> None:
    """Make every statement of ``engine`` wait at most ``seconds`` for another transaction's
    lock, then fail (``OperationalError``, which storage reports as ``DatabaseUnavailable``).

    SQLite: ``busy_timeout``. PostgreSQL: the session's ``lock_timeout``. No
    ``statement_timeout``: the maintenance and training commands share this engine and may
    legitimately run long queries; requests are already bounded by the request time limit.
    Pooled connections opened before are dropped so none keeps the old wait.
    """
    milliseconds = max(1, round(seconds * 1000))
    backend = engine.dialect.name

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if backend == "sqlite":
                cursor.execute(f"PRAGMA busy_timeout = {milliseconds:d}")
            else:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, false)", (f"{milliseconds}ms",)
                )
        finally:
            cursor.close()
        if backend != "sqlite":
            dbapi_connection.commit()  # a rollback would undo the setting with the transaction

    engine.dispose()
