"""The few statements on the hot paths (every inbound message, "first available"), run on
the database driver's own cursor.

SQLAlchemy Core spends about 90 µs of Python on each statement it runs; the driver alone
about 6 µs. A message runs half a dozen small indexed statements, so those are written
once as SQL with `:name` parameters and run here: in the caller's session or connection,
or on a `Raw` connection of the hot path's own.
Values keep the tables' types: datetimes go in and come out aware and in UTC (PostgreSQL's
`timestamptz`; on SQLite the same text SQLAlchemy writes, so rows written either way
compare and read alike). SQLAlchemy's `before_cursor_execute` and `after_cursor_execute`
listeners still see every statement, so logging and statement counts keep working."""

import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from typing import Any, overload

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from store.writers import writer_queue

Params = Mapping[str, Any]
_NAME = re.compile(r"(?<![:\w]):(\w+)")
_LIST = re.compile(r"\bIN \(:(\w+)\)", re.IGNORECASE)


class Sql:
    """One statement, with `:name` parameters; a list parameter written `IN (:ids)` is
    expanded to one placeholder per value."""

    def __init__(self, text: str) -> None:
        self.text = " ".join(text.split())
        self.lists = tuple(dict.fromkeys(_LIST.findall(self.text)))  # the `IN (:name)` ones

    def render(self, dialect: str, params: Params) -> tuple[str, Params]:
        if not self.lists:
            return _rendered(self.text, dialect, ()), params
        sizes = tuple((name, len(params[name])) for name in self.lists)
        values = {k: v for k, v in params.items() if k not in self.lists}
        for name in self.lists:
            values.update({f"{name}_{n}": v for n, v in enumerate(params[name])})
        return _rendered(self.text, dialect, sizes), values


@cache
def _rendered(text: str, dialect: str, lists: tuple[tuple[str, int], ...]) -> str:
    for name, count in lists:
        expanded = ", ".join(f":{name}_{n}" for n in range(count)) or "NULL"
        text = text.replace(f":{name})", f"{expanded})")
    if dialect == "postgresql":
        text = _NAME.sub(r"%(\1)s", text.replace("%", "%%"))
    return text


class Raw:
    """One pooled connection used through its driver alone: reads that each see what is
    committed (no transaction, so on SQLite no write lock), then, when there is something
    to write, one short transaction (`transaction()`). It spares the hot path the ORM
    session's bookkeeping, about 0.2 ms a transaction here. Close it (or use `raw()`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._pooled = engine.raw_connection()
        self.driver: Any = self._pooled.driver_connection
        assert self.driver is not None
        if self.dialect == "postgresql":
            self.driver.autocommit = True  # BEGIN and COMMIT are ours, as on SQLite

    def cursor(self) -> Any:
        """On PostgreSQL the pooled connection's one cursor, kept with it from message to
        message: a new psycopg cursor for each statement cost a fifth of the statement's
        client time (a sqlite3 cursor costs next to nothing: one each, as elsewhere)."""
        if self.dialect != "postgresql":
            return _new_cursor(self.driver, self.dialect)
        kept = self._pooled.info.get(_KEPT_CURSOR)
        if kept is None or kept.closed or kept.connection is not self.driver:
            kept = self._pooled.info[_KEPT_CURSOR] = _new_cursor(self.driver, self.dialect)
        return kept

    @contextmanager
    def transaction(self) -> Iterator["Raw"]:
        """Commits when the block ends, rolls back if it raises. On SQLite it waits its
        turn among the file's writers and takes the write lock at once."""
        writers = writer_queue(self.engine)
        if writers:
            writers.enter(self._pooled.dbapi_connection)
        try:
            self.driver.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
            try:
                yield self
            except BaseException:
                self.driver.execute("ROLLBACK")
                raise
            self.driver.execute("COMMIT")
        finally:
            if writers:
                writers.leave(self._pooled.dbapi_connection)

    def close(self) -> None:
        if self.dialect == "postgresql" and not self.driver.closed:
            self.driver.autocommit = False  # as the pool hands connections out
        self._pooled.close()


_KEPT_CURSOR = "turnero_kept_cursor"


@contextmanager
def raw(engine: Engine) -> Iterator[Raw]:
    connection = Raw(engine)
    try:
        yield connection
    except BaseException:
        connection._pooled.invalidate()  # its state is unknown: the pool opens a new one
        raise
    finally:
        connection.close()


Db = Session | Connection | Raw  # what the statements here run on


def dialect_of(db: Db) -> str:
    if isinstance(db, Raw):
        return db.dialect
    return db.get_bind().dialect.name if isinstance(db, Session) else db.dialect.name


def run(db: Db, sql: Sql, params: Params | None = None) -> Any:
    """Execute `sql` (in the session's transaction, if a session); returns the cursor."""
    if isinstance(db, Raw):
        dialect, cursor, dispatch, connection = db.dialect, db.cursor(), db.engine.dispatch, None
    else:
        connection = db.connection() if isinstance(db, Session) else db
        dialect, dispatch = connection.dialect.name, connection.dispatch
        cursor = _new_cursor(connection.connection.driver_connection, dialect)
    statement, values = sql.render(dialect, params or {})
    for listener in dispatch.before_cursor_execute:  # None as the connection for a Raw
        listener(connection, cursor, statement, values, None, False)
    cursor.execute(statement, values)
    for listener in dispatch.after_cursor_execute:
        listener(connection, cursor, statement, values, None, False)
    return cursor


def _new_cursor(driver: Any, dialect: str) -> Any:
    # PostgreSQL's results in binary: timestamps come as numbers, not text to parse (a
    # sixth less client CPU on a read of 270 busy intervals)
    return driver.cursor(binary=True) if dialect == "postgresql" else driver.cursor()


def rows(db: Db, sql: Sql, params: Params | None = None) -> list[Any]:
    return list(run(db, sql, params).fetchall())


def first(db: Db, sql: Sql, params: Params | None = None) -> Any:
    """The first row, or None."""
    cursor = run(db, sql, params)
    row = cursor.fetchone()
    if not isinstance(db, Raw):  # a Raw's cursor may serve its next statement
        cursor.close()
    return row


@lru_cache(maxsize=1024)  # a message's moment goes in several columns, a day's bounds again
def _sqlite_datetime(value: datetime) -> str:
    """A datetime as SQLite keeps it here: UTC text, as SQLAlchemy writes it."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# sqlite3 turns each datetime and date parameter into text as it binds it (in C, only for
# those values), instead of a pass in Python over every statement's parameters
sqlite3.register_adapter(datetime, _sqlite_datetime)
sqlite3.register_adapter(date, date.isoformat)


@overload
def utc(value: None) -> None: ...
@overload
def utc(value: str | datetime) -> datetime: ...
def utc(value: str | datetime | None) -> datetime | None:
    """A datetime column as read: SQLite's text, or PostgreSQL's aware value, in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        return _read_utc(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@lru_cache(maxsize=4096)  # the same appointments' times are read message after message
def _read_utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def clock_time(value: str | time) -> time:
    """A time-of-day column as read (SQLite keeps it as text)."""
    return time.fromisoformat(value) if isinstance(value, str) else value


def flag(value: Any) -> bool:
    """A boolean column as read (SQLite keeps it as 0 or 1)."""
    return bool(value)
