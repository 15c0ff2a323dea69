"""The operators' probes: `/healthz` answers without a database, `/readyz` only when the
database answers, its schema is this code's newest migration and a worker ran lately."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine, text

from channel.sandbox import SandboxChannel
from scheduler.worker import dispatch_job
from store.migrate import database_revision, newest_revision
from tests.console_support import console_app
from tests.support import Clock


def _probe(app, path: str = "/readyz") -> tuple[int, dict]:
    response = app.test_client().get(path)
    return response.status_code, response.get_json()


def test_alive_says_so_even_without_a_database(tmp_path, clock: Clock):
    gone = create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'turnero.db'}")
    app = console_app(gone, tmp_path, clock)
    alive = app.test_client().get("/healthz")
    assert (alive.status_code, alive.get_data(as_text=True)) == (200, "ok\n")
    status, body = _probe(app)
    assert status == 503
    assert body["checks"] == {
        "database": "unreachable",
        "migrations": "unchecked",
        "worker": "unchecked",
    }


def test_ready_when_the_schema_is_current_and_the_worker_ran_lately(db: Engine, app, clock: Clock):
    dispatch_job(db, SandboxChannel(), clock)
    clock.advance(minutes=2)
    status, body = _probe(app)
    assert status == 200
    assert body["ready"] is True
    assert body["checks"] == {"database": "ok", "migrations": "ok", "worker": "ok"}
    assert body["database_revision"] == body["code_revision"] == newest_revision()


def test_not_ready_before_any_worker_ran(db: Engine, app):
    status, body = _probe(app)
    assert status == 503
    assert body["checks"]["worker"] == "never"


def test_not_ready_when_the_worker_stopped_beating_and_ready_again_once_it_runs(
    db: Engine, app, clock: Clock
):
    dispatch_job(db, SandboxChannel(), clock)
    clock.advance(minutes=2, seconds=1)
    status, body = _probe(app)
    assert (status, body["checks"]["worker"]) == (503, "stale")
    assert body["last_beat"] == (clock() - timedelta(minutes=2, seconds=1)).isoformat()
    dispatch_job(db, SandboxChannel(), clock)
    assert _probe(app)[0] == 200


@pytest.fixture
def older_schema(db: Engine):
    """The database says it stands at an older migration (put back afterwards)."""
    with db.connect() as connection:
        current = database_revision(connection)
    stamp = "UPDATE alembic_version SET version_num = :revision"
    with db.begin() as connection:
        connection.execute(text(stamp), {"revision": "0001_initial_schema"})
    yield db
    with db.begin() as connection:
        connection.execute(text(stamp), {"revision": current})


def test_not_ready_when_the_database_is_behind_the_code(older_schema: Engine, app, clock):
    dispatch_job(older_schema, SandboxChannel(), clock)
    status, body = _probe(app)
    assert status == 503
    assert body["checks"] == {"database": "ok", "migrations": "out_of_date", "worker": "unchecked"}
    assert (body["database_revision"], body["code_revision"]) == (
        "0001_initial_schema",
        newest_revision(),
    )


def test_not_ready_when_the_database_was_never_migrated(tmp_path, clock: Clock):
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    status, body = _probe(console_app(empty, tmp_path, clock))
    assert status == 503
    assert body["checks"]["migrations"] == "not_migrated"
    assert body["database_revision"] is None
