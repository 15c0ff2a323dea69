"""A stored UTC time as the clinic's wall clock, inside SQL: the local day and the hour
of the week a report groups by. PostgreSQL converts with `timezone()`; SQLite has no
time zones, so its connections get the same two functions written in Python."""

from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def epoch_seconds(column: Any) -> Any:
    """A stored time as seconds since the epoch, on either database."""
    return func.extract("epoch", column)


class local_day(FunctionElement[Any]):
    """`local_day(column, zone)`: the date on the clinic's calendar."""

    type = Date()
    inherit_cache = True


class local_hour_of_week(FunctionElement[Any]):
    """`local_hour_of_week(column, zone)`: 0 for Monday 0:00–1:00 … 167 for Sunday 23:00."""

    type = Integer()
    inherit_cache = True


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    column, zone = list(element.clauses)
    return compiler.process(column, **kw), compiler.process(zone, **kw)


@compiles(local_day, "postgresql")
def _day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = _arguments(element, compiler, **kw)
    return f"CAST(timezone({zone}, {column}) AS DATE)"


@compiles(local_hour_of_week, "postgresql")
def _hour_postgresql(element: local_hour_of_week, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = _arguments(element, compiler, **kw)
    local = f"timezone({zone}, {column})"
    return f"CAST((EXTRACT(ISODOW FROM {local}) - 1) * 24 + EXTRACT(HOUR FROM {local}) AS INTEGER)"


@compiles(local_day, "sqlite")
def _day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = _arguments(element, compiler, **kw)
    return f"turnero_local_day({column}, {zone})"


@compiles(local_hour_of_week, "sqlite")
def _hour_sqlite(element: local_hour_of_week, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = _arguments(element, compiler, **kw)
    return f"turnero_local_hour_of_week({column}, {zone})"


def _sqlite_local(text: str | None, zone: str) -> datetime | None:
    """SQLite keeps UTC times as naive ISO text (`store.types.UTCDateTime`)."""
    if text is None:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(_zone(zone))


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _sqlite_local_day(text: str | None, zone: str) -> str | None:
    local = _sqlite_local(text, zone)
    return None if local is None else local.date().isoformat()


def _sqlite_local_hour_of_week(text: str | None, zone: str) -> int | None:
    local = _sqlite_local(text, zone)
    return None if local is None else local.weekday() * 24 + local.hour


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a SQLite connection the local-time functions the reports' SQL calls."""
    dbapi_connection.create_function("turnero_local_day", 2, _sqlite_local_day, deterministic=True)
    dbapi_connection.create_function(
        "turnero_local_hour_of_week", 2, _sqlite_local_hour_of_week, deterministic=True
    )
