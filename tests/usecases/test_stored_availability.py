"""The store's availability keeps what it worked out for the rest of the message: a day's
free times asked for twice (a question asked again in the same turn) are read and worked
out once, and each caller gets a list of its own."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

import usecases.stored_availability as stored
from bot.types import ServiceInfo
from store.models import Clinic
from tests.support import make_clinic

NOW = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # a Monday, 08:00 in Asunción
TUESDAY = date(2026, 12, 8)


def test_a_day_s_free_times_are_worked_out_once_per_message(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = make_clinic(db)
    general = ServiceInfo(clinic.services["general"], "Consulta general", timedelta(minutes=30))
    both = list(clinic.professionals.values())
    worked_out: list[object] = []
    statements: list[str] = []
    slots_for_day = stored.slots_for_day

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        worked_out.append(args)
        return slots_for_day(*args, **kwargs)

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    monkeypatch.setattr(stored, "slots_for_day", counted)
    event.listen(db, "before_cursor_execute", seen)
    try:
        with Session(db) as session:
            found = session.get(Clinic, clinic.id)
            assert found is not None
            availability = stored.StoreAvailability(session, found, NOW)
            first = availability.slots(general, both, TUESDAY)
            read = len(statements)
            first.clear()  # the caller's own list
            again = availability.slots(general, both, TUESDAY)
            assert len(worked_out) == 1 and len(statements) == read  # nothing read or worked out
            afresh = stored.StoreAvailability(session, found, NOW).slots(general, both, TUESDAY)
    finally:
        event.remove(db, "before_cursor_execute", seen)
    assert again and len(worked_out) == 2 and len(statements) > read
    assert again == afresh  # the kept answer is the answer
