"""The database keeps one professional from being booked twice, even under a race."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.booking import NewPatient, SlotTaken, book, resolve_patient
from store.db import transaction
from store.models import Appointment, AppointmentStatus, Service
from tests.support import make_clinic

START = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


def _book(engine: Engine, clinic, phone: str, start: datetime, professional: str = "ana"):
    with transaction(engine) as session:
        service = session.get(Service, clinic.services["general"])
        patient = resolve_patient(session, clinic.id, phone, None, NewPatient(f"Paciente {phone}"))
        return book(
            session,
            clinic_id=clinic.id,
            patient=patient,
            service=service,
            professional_id=clinic.professionals[professional],
            starts_at=start,
            source_channel="whatsapp",
            now=START - timedelta(days=1),
        )


def test_an_overlapping_appointment_is_refused_by_the_database(db: Engine):
    clinic = make_clinic(db)
    first = _book(db, clinic, "+595981000001", START)
    assert len(first.code) == 6
    with pytest.raises(SlotTaken):
        _book(db, clinic, "+595981000002", START + timedelta(minutes=15))
    # another professional at the same time, or the next half hour, is fine
    _book(db, clinic, "+595981000003", START, professional="luis")
    _book(db, clinic, "+595981000004", START + timedelta(minutes=30))


def test_a_cancelled_appointment_frees_its_time(db: Engine):
    clinic = make_clinic(db)
    first = _book(db, clinic, "+595981000001", START)
    with transaction(db) as session:
        session.get(Appointment, first.id).status = AppointmentStatus.cancelled
    _book(db, clinic, "+595981000002", START)


def test_moving_an_appointment_onto_another_is_refused(db: Engine):
    clinic = make_clinic(db)
    _book(db, clinic, "+595981000001", START)
    later = _book(db, clinic, "+595981000002", START + timedelta(hours=1))
    with pytest.raises(Exception, match="overlap"), transaction(db) as session:
        moved = session.get(Appointment, later.id)
        moved.starts_at, moved.ends_at = START, START + timedelta(minutes=30)


def _twenty_at_once(engine: Engine) -> list[str]:
    """Twenty patients book the same slot at the same moment; what each one got."""
    clinic = make_clinic(engine)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            _book(engine, clinic, f"+5959810001{n:02d}", START)
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")
        except Exception as error:  # recorded, so a failure says what happened
            outcomes.append(repr(error))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_twenty_threads_booking_one_slot_make_one_appointment(on_postgres: Engine):
    assert _twenty_at_once(on_postgres) == ["booked"] + ["taken"] * 19
    with Session(on_postgres) as session:
        assert len(session.exec(select(Appointment)).all()) == 1


def test_twenty_threads_on_sqlite_also_make_one_appointment(db: Engine):
    assert _twenty_at_once(db) == ["booked"] + ["taken"] * 19


def test_the_outbox_takes_one_row_per_idempotency_key(db: Engine):
    from store.outbox import enqueue

    clinic = make_clinic(db)
    now = START
    for expected in (1, 0):
        with transaction(db) as session:
            added = enqueue(
                session,
                clinic_id=clinic.id,
                idempotency_key="appointment:1:x",
                from_phone="+595981000000",
                to_phone="+595981000001",
                body="hola",
                now=now,
            )
        assert added == expected
    with transaction(db) as session:
        assert (
            enqueue(
                session,
                clinic_id=clinic.id,
                idempotency_key="long",
                from_phone="+595981000000",
                to_phone="+595981000001",
                body="palabra " * 500,
                now=now,
            )
            == 3
        )


def test_the_catalog_cache_serves_a_clinic_until_its_version_is_read_again(db: Engine):
    from usecases.clinic_view import CatalogCache

    clinic = make_clinic(db)
    fresh, kept = CatalogCache(seconds=0), CatalogCache(seconds=60, clock=lambda: 0.0)
    with Session(db) as session:
        assert [s.name for s in kept.get(session, "+595981000000").services] == [
            "Consulta general",
            "Odontología",
        ]
        assert kept.get(session, "+595991111111") is None
    with transaction(db) as session:
        session.get(Service, clinic.services["dentistry"]).self_bookable = False
    with Session(db) as session:
        assert len(kept.get(session, "+595981000000").services) == 2  # still the cached one
        assert len(fresh.get(session, "+595981000000").services) == 1
