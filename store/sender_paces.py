"""The senders' send schedules in the database, so that every dispatcher of every worker
paces one sender number together (`scheduler.pacing` says what the schedule means; here
it is only text, changed under the row's lock)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from store.db import is_postgres, transaction
from store.models import SenderPace

Result = TypeVar("Result")


@dataclass(frozen=True)
class StorePaces:
    """`scheduler.pacing.SharedPaces` kept in the `sender_pace` table: one short
    transaction per change, holding the sender's row (PostgreSQL: `FOR UPDATE`; SQLite:
    the write lock every transaction takes)."""

    engine: Engine

    def update(self, sender: str, change: Callable[[str | None], tuple[str, Result]]) -> Result:
        locked = (
            select(col(SenderPace.state))
            .where(col(SenderPace.from_phone) == sender)
            .with_for_update()
        )
        with transaction(self.engine) as session:
            text: str | None = session.scalar(locked)
            if text is None:  # a new sender: create its row, then hold it like any other
                insert = pg_insert if is_postgres(self.engine) else sqlite_insert
                session.execute(
                    insert(SenderPace).values(from_phone=sender, state="").on_conflict_do_nothing()
                )
                text = session.scalar(locked)
            new_text, result = change(text or None)
            session.execute(
                update(SenderPace)
                .where(col(SenderPace.from_phone) == sender)
                .values(state=new_text)
            )
            return result
