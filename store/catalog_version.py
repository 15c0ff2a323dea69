"""A clinic's catalog version: every change to what the bot caches of a clinic (the clinic
row, its services, professionals and what each offers, working hours, own texts and
switched-off steps) bumps `clinic.catalog_version` in the same transaction, so each
process's cache (`usecases.clinic_view.CatalogCache`) notices it with one small read.

Session listeners do it, for objects flushed through the ORM and for `insert()`,
`update()` and `delete()` statements run in a session; `watch_catalog_changes()`
registers them once (`store.db` does, on import). Writes to other tables, and to columns
the cache does not read, bump nothing."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.dml import Delete, Insert, Update, UpdateBase
from sqlmodel import SQLModel

from store.models import Clinic

VERSION = "catalog_version"
CLINIC: Table = Clinic.__table__  # type: ignore[attr-defined]

# Each table the cache reads, and the columns of it that it reads (None: all of them;
# the clinic's whole row is cached, every column but the version itself counts).
CATALOG_COLUMNS: dict[str, frozenset[str] | None] = {
    "clinic": None,
    "service": frozenset(
        {"clinic_id", "name", "duration_minutes", "price", "self_bookable", "active"}
    ),
    "professional": frozenset({"clinic_id", "name", "active"}),
    "professional_service": None,
    "working_hours": None,
    "clinic_template": frozenset({"clinic_id", "language", "key", "body"}),
    "clinic_flow": frozenset({"clinic_id", "flow", "skipped"}),
}


def changes_catalog(table: str, columns: Iterable[str] | None) -> bool:
    """Whether a change to `columns` of `table` (None: a row added or removed, or columns
    not known) changes what the cache reads."""
    if table not in CATALOG_COLUMNS:
        return False
    if columns is None:
        return True
    changed = set(columns) - {VERSION} if table == "clinic" else set(columns)
    read = CATALOG_COLUMNS[table]
    return bool(changed) if read is None else bool(changed & read)


def bump(connection: Connection, clinic_ids: Iterable[int]) -> None:
    """Add one to the catalog version of each of `clinic_ids`, in the connection's
    transaction (one statement, the clinics in order: two writers lock them alike)."""
    ids = sorted({i for i in clinic_ids if i is not None})
    if ids:
        connection.execute(_bumped(CLINIC.c.id.in_(ids)))


def _bumped(where: ColumnElement[bool] | None) -> Update:
    statement = update(CLINIC).values({VERSION: CLINIC.c[VERSION] + 1})
    return statement if where is None else statement.where(where)


def _changed_in_flush(session: Session) -> set[int]:
    """The clinics whose cached catalog the objects about to be flushed change."""
    clinics: set[int] = set()
    for obj in (*session.new, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table == "clinic":
            continue  # a new clinic has nothing cached; a removed one is gone
        if table in CATALOG_COLUMNS:
            clinics.update(_clinics_of(obj))
    for obj in session.dirty:
        table = getattr(obj, "__tablename__", None)
        if table in CATALOG_COLUMNS and changes_catalog(table, _changed_columns(obj)):
            clinics.update(_clinics_of(obj))
    return clinics


def _changed_columns(obj: Any) -> list[str]:
    state = inspect(obj)
    return [attr.key for attr in state.attrs if attr.history.has_changes()]


def _clinics_of(obj: Any) -> list[int]:
    """The clinic the row belongs to, and the one it belonged to if that changed."""
    key = "id" if obj.__tablename__ == "clinic" else "clinic_id"
    history = inspect(obj).attrs[key].history
    found = [*history.unchanged, *history.added, *history.deleted]
    return found or [getattr(obj, key)]  # expired since it was read: loaded again


def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    clinics = _changed_in_flush(session)
    if clinics:
        bump(session.connection(), clinics)


def _before_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, UpdateBase) or not isinstance(statement.table, Table):
        return
    table = statement.table.name
    if table not in CATALOG_COLUMNS:
        return
    connection = state.session.connection()
    if isinstance(statement, Insert):
        if table != "clinic":  # a new clinic has nothing cached
            _bump_for_insert(connection, statement, state.parameters)
        return
    if isinstance(statement, Update):
        if not changes_catalog(table, _set_columns(statement, state.parameters)):
            return
        if table == "clinic":  # the same statement bumps the rows it changes
            state.statement = statement.values({VERSION: CLINIC.c[VERSION] + 1})
            return
    # a removed clinic has nothing left to cache
    if isinstance(statement, Update | Delete) and table != "clinic":
        source = SQLModel.metadata.tables[table]
        rows = select(source.c.clinic_id)
        if statement.whereclause is not None:
            rows = rows.where(statement.whereclause)
        # the clinics of the rows it will change, read before they change or go
        connection.execute(_bumped(CLINIC.c.id.in_(rows)))


def _bump_for_insert(connection: Connection, statement: Insert, parameters: Any) -> None:
    """An `insert()` names its rows' clinics in its values; when it does not (an insert
    from a select), every clinic's version is bumped."""
    clinics = _inserted_clinics(statement, parameters)
    if clinics is None:
        connection.execute(_bumped(None))
    else:
        bump(connection, clinics)


def _inserted_clinics(statement: Insert, parameters: Any) -> set[int] | None:
    rows: list[Mapping[str, Any]] = _parameter_rows(parameters)
    values = getattr(statement, "_values", None) or {}
    multi = getattr(statement, "_multi_values", None) or ()
    for value_rows in multi:
        rows.extend({_key(k): v for k, v in row.items()} for row in value_rows)
    if values:
        rows.append({_key(k): v for k, v in values.items()})
    if getattr(statement, "select", None) is not None or not rows:
        return None
    clinics: set[int] = set()
    for row in rows:
        value = row.get("clinic_id")
        value = getattr(value, "value", value)  # a bound parameter's value
        if not isinstance(value, int):
            return None
        clinics.add(value)
    return clinics


def _set_columns(statement: Update, parameters: Any) -> set[str] | None:
    """The columns an update sets, or None when it cannot tell."""
    columns = {_key(k) for k in (getattr(statement, "_values", None) or {})}
    for value_rows in getattr(statement, "_multi_values", None) or ():
        for row in value_rows:
            columns.update(_key(k) for k in row)
    for row in _parameter_rows(parameters):
        columns.update(row)
    return columns or None


def _parameter_rows(parameters: Any) -> list[Mapping[str, Any]]:
    if not parameters:
        return []
    if isinstance(parameters, Mapping):
        return [parameters]
    if isinstance(parameters, Sequence):
        return [p for p in parameters if isinstance(p, Mapping)]
    return []


def _key(column: Any) -> str:
    return column if isinstance(column, str) else str(getattr(column, "key", column))


def watch_catalog_changes() -> None:
    """Register the listeners on every session, once."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    if not event.contains(Session, "do_orm_execute", _before_statement):
        event.listen(Session, "do_orm_execute", _before_statement)
