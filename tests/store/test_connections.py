"""Pooled connections. PostgreSQL: one closed by the server while it rested in the pool is
replaced before anyone uses it; one returned a moment ago is used without a check; the
hot path's statements reuse the connection's cursor from one message to the next.
A SQLite file: the connection returned last is the next one handed out."""

import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from store.db import make_engine
from store.driver import Sql, first, raw, rows


def _backend_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(engine: Engine, backend: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    time.sleep(0.1)


def _pooled(url_of: Engine, rest: float) -> Engine:
    return make_engine(url_of.url.render_as_string(hide_password=False), ping_after_rest=rest)


def test_a_connection_closed_while_it_rested_is_replaced(on_postgres: Engine):
    engine = _pooled(on_postgres, rest=0.0)
    try:
        first = _backend_of(engine)
        _terminate(on_postgres, first)
        assert _backend_of(engine) != first
    finally:
        engine.dispose()


def test_a_connection_returned_a_moment_ago_is_not_checked(on_postgres: Engine):
    engine = _pooled(on_postgres, rest=60.0)
    try:
        first = _backend_of(engine)
        _terminate(on_postgres, first)
        with pytest.raises(OperationalError):  # no check: the closed connection is used
            _backend_of(engine)
        assert _backend_of(engine) != first  # and then replaced
    finally:
        engine.dispose()


def test_a_sqlite_file_hands_out_the_connection_returned_last(tmp_path):
    """Its page cache is the one still valid; the others' were made stale by its writes."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    try:
        earlier, later = engine.raw_connection(), engine.raw_connection()
        returned_last = later.dbapi_connection
        earlier.close()
        later.close()
        again = engine.raw_connection()
        assert again.dbapi_connection is returned_last
        again.close()
    finally:
        engine.dispose()


_NUMBERS = Sql("SELECT n FROM (VALUES (1), (2), (3)) AS t (n) ORDER BY n")


def test_a_pooled_postgres_connection_keeps_its_cursor_from_message_to_message(
    on_postgres: Engine,
):
    engine = _pooled(on_postgres, rest=60.0)
    try:
        with raw(engine) as db:
            assert first(db, _NUMBERS) == (1,)  # the rest of its rows are left unread
            kept = db.cursor()
            assert [n for (n,) in rows(db, _NUMBERS)] == [1, 2, 3]
        with raw(engine) as db:  # the same pooled connection, the next message
            assert db.cursor() is kept
            kept.close()  # whoever closes it, the next statement gets a new one
            assert first(db, _NUMBERS) == (1,)
            assert db.cursor() is not kept
    finally:
        engine.dispose()
