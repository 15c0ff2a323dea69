"""The worker's heartbeat: each outbox dispatcher run notes when it ran, so `/readyz`
can tell that some worker is alive."""

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from store.db import is_postgres
from store.models import WorkerHeartbeat

DISPATCHER = "dispatcher"
# A run beats before its first batch and after each one, and a batch sends for at most a
# minute: twice that without a beat means no worker is running the dispatcher.
STALE_AFTER = timedelta(minutes=2)


def beat(engine: Engine, now: datetime, name: str = DISPATCHER) -> None:
    """Note that the job ran now (one upsert, in its own transaction)."""
    insert = pg_insert if is_postgres(engine) else sqlite_insert
    statement = (
        insert(WorkerHeartbeat)
        .values(name=name, beat_at=now)
        .on_conflict_do_update(index_elements=["name"], set_={"beat_at": now})
    )
    with engine.begin() as connection:
        connection.execute(statement)


def last_beat(connection: Connection, name: str = DISPATCHER) -> datetime | None:
    found: datetime | None = connection.scalar(
        select(col(WorkerHeartbeat.beat_at)).where(col(WorkerHeartbeat.name) == name)
    )
    return found
