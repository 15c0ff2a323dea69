"""The database engine and sessions: SQLite in WAL mode by default, PostgreSQL by URL."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeGuard
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Insert, Table, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, SQLModel

from store.catalog_version import watch_catalog_changes
from store.day_loads import watch_day_changes
from store.local_time import register_sqlite_functions
from store.writers import queue_writers

watch_catalog_changes()  # every session bumps a clinic's catalog version when it changes
watch_day_changes()  # and writes again the day loads of the days it changes


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


PING_AFTER_REST = 2.0  # seconds a pooled PostgreSQL connection may rest unchecked


def make_engine(url: str, *, ping_after_rest: float = PING_AFTER_REST, **kwargs: Any) -> Engine:
    """An engine whose write transactions are safe: on SQLite each transaction takes the
    write lock up front (`BEGIN IMMEDIATE`), so two writers queue instead of deadlocking.
    On PostgreSQL a pooled connection that rested longer than `ping_after_rest` seconds
    is checked before it is used (see `_ping_rested_connections`)."""
    url = normalize_url(url)
    kwargs.setdefault("hide_parameters", True)  # an error's text: no patient's number or words
    if url.startswith("sqlite"):
        if _on_disk(make_url(url).database):
            # the connection used last is handed out first: its page cache still holds,
            # while one that another connection's write made stale reads every page again
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _make_sqlite_transactions_immediate(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if url.startswith("postgresql+psycopg"):
        # plan each statement once per connection: planning costs more than running the
        # small indexed queries of availability
        kwargs.setdefault("connect_args", {"prepare_threshold": 1})
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _utc_session)
    _ping_rested_connections(engine, ping_after_rest)
    return engine


def _on_disk(database: str | None) -> TypeGuard[str]:
    """Whether a SQLite URL's database is a file (not one in memory)."""
    return database not in (None, "", ":memory:")


def _ping_rested_connections(engine: Engine, rest: float) -> None:
    """Check a pooled connection before use only if it rested a while: a server restart
    or an idle timeout closes connections that sit in the pool, not one returned a moment
    ago. Under load connections rest milliseconds, and a ping before every use was one
    round trip in five of every message."""

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned <= rest:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the connection closed while it rested") from error


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    """Timestamps come back in UTC whatever the server's own time zone."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()


def translate(text: str | None, source: str, target: str) -> str | None:
    """PostgreSQL's `translate` for SQLite: each character of `source` in `text` becomes
    the one at the same place in `target`, or goes when `target` is shorter."""
    if text is None:
        return None
    table = {ord(c): (target[i] if i < len(target) else None) for i, c in enumerate(source)}
    return text.translate(table)


def _make_sqlite_transactions_immediate(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        if _on_disk(engine.url.database):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("translate", 3, translate, deterministic=True)
        register_sqlite_functions(dbapi_connection)

    database = engine.url.database
    queue = queue_writers(engine, database) if _on_disk(database) else None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READS_ONLY):
            connection.connection.driver_connection.execute("BEGIN")  # a snapshot; no write lock
            return
        if queue:
            queue.enter(connection.connection.dbapi_connection)
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")

    if queue:
        event.listen(engine.pool, "checkin", lambda dbapi, _record: queue.leave(dbapi))
        event.listen(engine.pool, "close", lambda dbapi, _record: queue.forget(dbapi))
        event.listen(engine.pool, "close_detached", queue.forget)


@cache
def insert_or_skip(dialect_name: str, model: type[SQLModel], conflict: tuple[str, ...]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING id`, built once per dialect and table:
    the database, not Python, decides that a row is new. Run it with the row's values as
    parameters; it returns no row when one with the same `conflict` columns exists."""
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    table: Table = model.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c.id)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


READS_ONLY = "turnero_reads_only"
_readers: "WeakKeyDictionary[Engine, Engine]" = WeakKeyDictionary()


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session that only reads: on SQLite its transaction is a snapshot that takes no
    write lock, so it runs beside the one writer. Nothing written in it is kept."""
    reader = _readers.get(engine)
    if reader is None:
        reader = _readers[engine] = engine.execution_options(**{READS_ONLY: True})
    with Session(reader) as session:  # closing it rolls back
        yield session
