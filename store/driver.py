"""The few statements on the hot paths (every inbound message, "first available"), run on
the database driver's own cursor.

SQLAlchemy Core spends about 90 µs of Python on each statement it runs; the driver alone
about 6 µs. A message runs half a dozen small indexed statements, so those are written
once as SQL with `:name` parameters and run here, inside the session's own transaction.
Values keep the tables' types: datetimes go in and come out aware and in UTC (PostgreSQL's
`timestamptz`; on SQLite the same text SQLAlchemy writes, so rows written either way
compare and read alike). SQLAlchemy's `before_cursor_execute` listeners still see every
statement, so logging and statement counts keep working."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time
from functools import cache
from typing import Any, overload

from sqlalchemy import Connection
from sqlmodel import Session

Params = Mapping[str, Any]
_NAME = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One statement, with `:name` parameters; a list parameter written `IN (:ids)` is
    expanded to one placeholder per value."""

    def __init__(self, text: str) -> None:
        self.text = " ".join(text.split())

    def render(self, dialect: str, params: Params) -> tuple[str, dict[str, Any]]:
        lists = tuple(
            (name, len(value)) for name, value in params.items() if isinstance(value, list)
        )
        values = {k: v for k, v in params.items() if not isinstance(v, list)}
        for name, _ in lists:
            values.update({f"{name}_{n}": v for n, v in enumerate(params[name])})
        return _rendered(self.text, dialect, lists), values


@cache
def _rendered(text: str, dialect: str, lists: tuple[tuple[str, int], ...]) -> str:
    for name, count in lists:
        expanded = ", ".join(f":{name}_{n}" for n in range(count)) or "NULL"
        text = text.replace(f":{name})", f"{expanded})")
    if dialect == "postgresql":
        text = _NAME.sub(r"%(\1)s", text.replace("%", "%%"))
    return text


def run(session: Session | Connection, sql: Sql, params: Params | None = None) -> Any:
    """Execute `sql` in the session's transaction; returns the driver's cursor."""
    connection = session.connection() if isinstance(session, Session) else session
    dialect = connection.dialect.name
    statement, values = sql.render(dialect, params or {})
    if dialect == "sqlite":
        values = {k: _sqlite_value(v) for k, v in values.items()}
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    if connection._has_events or connection.engine._has_events:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, statement, values, None, False)
    cursor.execute(statement, values)
    return cursor


def rows(session: Session | Connection, sql: Sql, params: Params | None = None) -> list[Any]:
    return list(run(session, sql, params).fetchall())


def first(session: Session | Connection, sql: Sql, params: Params | None = None) -> Any:
    """The first row, or None."""
    cursor = run(session, sql, params)
    row = cursor.fetchone()
    cursor.close()
    return row


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


@overload
def utc(value: None) -> None: ...
@overload
def utc(value: str | datetime) -> datetime: ...
def utc(value: str | datetime | None) -> datetime | None:
    """A datetime column as read: SQLite's text, or PostgreSQL's aware value, in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def clock_time(value: str | time) -> time:
    """A time-of-day column as read (SQLite keeps it as text)."""
    return time.fromisoformat(value) if isinstance(value, str) else value


def flag(value: Any) -> bool:
    """A boolean column as read (SQLite keeps it as 0 or 1)."""
    return bool(value)
