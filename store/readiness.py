"""What `/readyz` reports: whether the database answers, whether its schema is the
newest migration of this code, and whether a worker ran the outbox dispatcher lately."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from store.heartbeat import STALE_AFTER, last_beat
from store.migrate import database_revision, newest_revision

OK = "ok"
UNCHECKED = "unchecked"  # the database did not answer, so this could not be looked at


@dataclass(frozen=True)
class Readiness:
    """Each check's word (`ok`, or what is wrong) and what it was decided on."""

    database: str
    migrations: str
    worker: str
    database_revision: str | None = None
    last_beat: datetime | None = None

    @property
    def ready(self) -> bool:
        return self.database == self.migrations == self.worker == OK


def migrations_state(database: str | None, newest: str) -> str:
    """Pure: `ok`, `not_migrated` or `out_of_date` (behind the code, or a revision it
    does not know)."""
    if database is None:
        return "not_migrated"
    return OK if database == newest else "out_of_date"


def worker_state(beat: datetime | None, now: datetime) -> str:
    """Pure: `ok`, `never` (no worker ever ran) or `stale`."""
    if beat is None:
        return "never"
    return OK if now - beat <= STALE_AFTER else "stale"


def readiness(engine: Engine, now: datetime) -> Readiness:
    """The three checks; the worker's is looked at only in a schema as this code knows it."""
    try:
        with engine.connect() as connection:
            revision = database_revision(connection)
            migrations = migrations_state(revision, newest_revision())
            beat = last_beat(connection) if migrations == OK else None
    except SQLAlchemyError:
        return Readiness(database="unreachable", migrations=UNCHECKED, worker=UNCHECKED)
    return Readiness(
        database=OK,
        migrations=migrations,
        worker=worker_state(beat, now) if migrations == OK else UNCHECKED,
        database_revision=revision,
        last_beat=beat,
    )
