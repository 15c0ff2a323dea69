"""Day loads: "first available" skipping full days by them gives exactly the days it found
by reading every day, on random calendars changed through every road the app takes; and
each record always equals the one written afresh, concurrent writers included."""

import contextlib
import random
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, delete, insert, update
from sqlmodel import Session, col, select

from bot.types import ServiceInfo
from scheduler.day_loads import day_loads_job
from store import day_loads
from store.agenda import add_block_off, remove_block_off
from store.appointments import Actor, NotChangeable, cancel, reschedule
from store.booking import SlotTaken, book
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentStatus,
    BlockOff,
    Clinic,
    DayLoad,
    Patient,
    Professional,
    Service,
    WorkingHours,
)
from tests.support import make_clinic
from usecases.stored_availability import StoreAvailability

NOW = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # a Monday, 08:00 in Asunción
DESK = Actor("staff:test", "console")
DURATIONS = (15, 30, 45, 60, 120)


def _seed(db: Engine) -> tuple[int, list[int], list[int], int]:
    """The test clinic, a third professional with odd hours, services of every length, and
    a patient: (clinic, professionals, services, patient)."""
    clinic = make_clinic(db, horizon_days=40)
    with transaction(db) as s:
        odd = Professional(clinic_id=clinic.id, name="Dra. Rosa Vera")
        s.add(odd)
        s.flush()
        for weekday, start, end in [(0, time(10, 15), time(11)), (2, time(16), time(20))]:
            s.add(
                WorkingHours(
                    clinic_id=clinic.id,
                    professional_id=odd.id,
                    weekday=weekday,
                    start=start,
                    end=end,
                )
            )
        services = [
            Service(clinic_id=clinic.id, name=f"Servicio {m}", duration_minutes=m)
            for m in DURATIONS
        ]
        patient = Patient(clinic_id=clinic.id, phone="+595981000001", name="Paciente")
        s.add_all([*services, patient])
        s.flush()
        professionals = [*clinic.professionals.values(), odd.id or 0]
        return clinic.id, professionals, [x.id or 0 for x in services], patient.id or 0


def _book(
    s: Session,
    clinic_id: int,
    service_id: int,
    patient_id: int,
    professional_id: int,
    starts_at: datetime,
) -> None:
    """Book as the desk does (SlotTaken when the time is taken)."""
    service, patient = s.get(Service, service_id), s.get(Patient, patient_id)
    assert service is not None and patient is not None
    book(
        s,
        clinic_id=clinic_id,
        patient=patient,
        service=service,
        professional_id=professional_id,
        starts_at=starts_at,
        source_channel="console",
        now=NOW,
    )


def _random_start(chance: random.Random, days: int = 12) -> datetime:
    """A time on the quarter hour within the next days, mostly in working hours."""
    day = NOW + timedelta(days=chance.randint(0, days))
    minutes = chance.randrange(6 * 60, 22 * 60, 15)
    local = datetime.combine(day.date(), time.min) + timedelta(minutes=minutes)
    return (local + timedelta(hours=3)).replace(tzinfo=UTC)  # Asunción is UTC-3


def _change_randomly(
    db: Engine,
    chance: random.Random,
    clinic_id: int,
    professionals: list[int],
    services: list[int],
    patient_id: int,
) -> None:
    """One change, of the kinds the app makes: book (often, to fill days), cancel, move,
    release a hold by statement, add or remove block-offs, change a professional's hours."""
    kind = chance.choices(
        ["book", "cancel", "move", "release", "block", "unblock", "hours", "delete"],
        weights=[14, 3, 3, 1, 1, 1, 1, 1],
    )[0]
    with transaction(db) as s:
        booked = s.exec(
            select(Appointment).where(
                Appointment.clinic_id == clinic_id,
                col(Appointment.status) != AppointmentStatus.cancelled,
                col(Appointment.starts_at) > NOW,
            )
        ).all()
        if kind == "book" or (not booked and kind in {"cancel", "move", "release"}):
            with contextlib.suppress(SlotTaken):
                _book(
                    s,
                    clinic_id,
                    chance.choice(services),
                    patient_id,
                    chance.choice(professionals),
                    _random_start(chance),
                )
        elif kind == "cancel":
            cancel(s, chance.choice(booked), DESK, NOW)
        elif kind == "move":
            with contextlib.suppress(SlotTaken, NotChangeable):
                reschedule(
                    s,
                    chance.choice(booked),
                    starts_at=_random_start(chance),
                    professional_id=chance.choice(professionals),
                    actor=DESK,
                    now=NOW,
                )
        elif kind == "release":  # as a waitlist hold ends: one UPDATE statement
            s.execute(
                update(Appointment)
                .where(col(Appointment.id) == chance.choice(booked).id)
                .values(status=AppointmentStatus.cancelled)
            )
        elif kind == "delete":  # block-offs gone by one DELETE statement
            s.execute(delete(BlockOff).where(col(BlockOff.ends_at) > _random_start(chance)))
        elif kind == "block":
            starts = _random_start(chance)
            add_block_off(
                s,
                clinic_id,
                starts_at=starts,
                ends_at=starts + chance.choice([timedelta(hours=1), timedelta(days=2)]),
                professional_id=chance.choice([None, *professionals]),
                reason=None,
            )
        elif kind == "unblock":
            blocks = s.exec(select(BlockOff).where(BlockOff.clinic_id == clinic_id)).all()
            if blocks:
                remove_block_off(s, clinic_id, chance.choice(blocks).id or 0, NOW)
        else:  # an hour more or less on one interval of someone's week
            hours = s.exec(select(WorkingHours).where(WorkingHours.clinic_id == clinic_id)).all()
            changed = chance.choice(hours)
            end = datetime.combine(date.min, changed.end) + chance.choice(
                [timedelta(hours=1), -timedelta(minutes=30)]
            )
            if end.time() > changed.start and end.date() == date.min:
                changed.end = end.time()
                s.add(changed)


def _days_with_space(session: Session, clinic_id: int, service: ServiceInfo, ids: list[int]):  # type: ignore[no-untyped-def]
    clinic = session.get(Clinic, clinic_id)
    assert clinic is not None
    return StoreAvailability(session, clinic, NOW).days_with_space(service, ids, NOW.date(), 45)


def _answers(db: Engine, clinic_id: int, professionals: list[int], without_loads: bool):  # type: ignore[no-untyped-def]
    """Every day with space, for every service length and every choice of professionals;
    `without_loads`: read with no day load at all, as before they existed."""
    groups = [[p] for p in professionals] + [professionals]
    with Session(db) as s, s.begin():
        if without_loads:
            s.execute(delete(DayLoad))
        found = {
            (minutes, tuple(ids)): _days_with_space(s, clinic_id, _service(minutes), ids)
            for minutes in DURATIONS
            for ids in groups
        }
        s.rollback()
    return found


def _service(minutes: int) -> ServiceInfo:
    return ServiceInfo(id=0, name="x", duration=timedelta(minutes=minutes))


def _records(db: Engine) -> dict[tuple[int, date], tuple[int, int]]:
    with Session(db) as s:
        return {
            (r.professional_id, r.day): (r.longest_free_minutes, r.week_key)
            for r in s.exec(select(DayLoad)).all()
        }


def _written_afresh(db: Engine, clinic_id: int) -> dict[tuple[int, date], tuple[int, int]]:
    """The records as `fill` writes them from the appointments, over every day kept."""
    with Session(db) as s, s.begin():
        s.execute(delete(DayLoad))
        day_loads.fill(s.connection(), clinic_id, NOW.date() - timedelta(days=2), 60)
        found = {
            (r.professional_id, r.day): (r.longest_free_minutes, r.week_key)
            for r in s.exec(select(DayLoad)).all()
        }
        s.rollback()
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_skipping_full_days_finds_the_days_reading_them_all_finds(db: Engine, seed: int) -> None:
    chance = random.Random(seed)
    clinic_id, professionals, services, patient_id = _seed(db)
    skipped_somewhere = False
    for round_ in range(6):
        for _ in range(60):
            _change_randomly(db, chance, clinic_id, professionals, services, patient_id)
        with_loads = _answers(db, clinic_id, professionals, without_loads=False)
        assert with_loads == _answers(db, clinic_id, professionals, without_loads=True), round_
        kept, afresh = _records(db), _written_afresh(db, clinic_id)
        trusted = {d: r for d, r in kept.items() if d in afresh and r[1] == afresh[d][1]}
        assert trusted == {d: afresh[d] for d in trusted}  # under today's hours: exact
        skipped_somewhere |= any(free < 120 for free, _ in kept.values())
    assert skipped_somewhere  # the calendars did fill up: days were skipped, not all read


def test_a_record_made_under_other_hours_is_not_trusted(db: Engine) -> None:
    """A day full under the old hours has space once the hours grow: the old record (its
    week key) no longer counts, without anything rewriting it."""
    clinic_id, professionals, services, patient_id = _seed(db)
    rosa = professionals[2]  # Mondays 10:15-11:00
    with transaction(db) as s:
        monday = datetime(2026, 12, 14, 13, 15, tzinfo=UTC)
        _book(s, clinic_id, services[DURATIONS.index(45)], patient_id, rosa, monday)
    assert _records(db)[(rosa, date(2026, 12, 14))][0] == 0
    thirty = _service(30)
    with Session(db) as s:
        assert date(2026, 12, 14) not in _days_with_space(s, clinic_id, thirty, [rosa])
    with transaction(db) as s:
        s.execute(
            update(WorkingHours)
            .where(col(WorkingHours.professional_id) == rosa, col(WorkingHours.weekday) == 0)
            .values(end=time(12))
        )
    with Session(db) as s:
        assert date(2026, 12, 14) in _days_with_space(s, clinic_id, thirty, [rosa])


def test_concurrent_changes_to_one_day_leave_its_record_right(db: Engine) -> None:
    """Many writers booking and cancelling on the same professional's day at once (on
    PostgreSQL truly at once): the record is the one the day's appointments give."""
    clinic_id, professionals, services, patient_id = _seed(db)
    ana = professionals[0]
    day = datetime(2026, 12, 8, 11, 0, tzinfo=UTC)  # Tuesday 08:00 local
    starts = [day + timedelta(minutes=30 * n) for n in range(8)]
    with transaction(db) as s:
        afternoon = day + timedelta(hours=6)
        add_block_off(
            s,
            clinic_id,
            starts_at=afternoon,
            ends_at=afternoon + timedelta(hours=4),
            professional_id=ana,
            reason=None,
        )
        for start in starts[::2]:
            _book(s, clinic_id, services[DURATIONS.index(30)], patient_id, ana, start)
    key = (ana, date(2026, 12, 8))
    for round_ in range(6):  # each round, every time booked is cancelled, every free one booked
        errors = _flip_at_once(db, clinic_id, ana, services, patient_id, starts)
        assert not errors
        assert _records(db)[key] == _written_afresh(db, clinic_id)[key], round_
    assert _records(db)[key][0] == 30  # 08:00-12:00 holds four of the eight half hours


def _flip_at_once(  # type: ignore[no-untyped-def]
    db: Engine, clinic_id: int, professional: int, services: list[int], patient_id: int, starts
) -> list[BaseException]:
    barrier = threading.Barrier(len(starts))
    errors: list[BaseException] = []

    def flip(start: datetime) -> None:
        try:
            barrier.wait()
            with transaction(db) as s:
                booked = s.exec(
                    select(Appointment).where(
                        Appointment.starts_at == start,
                        col(Appointment.status) != AppointmentStatus.cancelled,
                    )
                ).first()
                if booked is not None:
                    cancel(s, booked, DESK, NOW)
                    return
                _book(s, clinic_id, services[DURATIONS.index(30)], patient_id, professional, start)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=flip, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_worker_writes_the_days_nobody_changed(db: Engine) -> None:
    """Appointments written behind the listeners' back (plain inserts) leave no record;
    the worker's pass writes one for every working day of the horizon, and removes those
    of days gone."""
    clinic_id, professionals, services, patient_id = _seed(db)
    monday = datetime(2026, 12, 14, 13, 15, tzinfo=UTC)  # Rosa's 10:15-11:00, all of it
    with transaction(db) as s:
        s.execute(
            insert(Appointment).values(
                clinic_id=clinic_id,
                professional_id=professionals[2],
                service_id=services[DURATIONS.index(45)],
                patient_id=patient_id,
                starts_at=monday,
                ends_at=monday + timedelta(minutes=45),
                code="PLAIN1",
            )
        )
    assert _records(db) == {}
    _book_in_the_past(db, clinic_id, services, patient_id, professionals[0])
    assert len(_records(db)) == 1
    assert day_loads_job(db, lambda: NOW) == 1
    kept = _records(db)
    assert kept[(professionals[2], date(2026, 12, 14))][0] == 0
    horizon = [NOW.date() + timedelta(days=n) for n in range(41)]
    weekdays = {0: 3, 1: 2, 2: 3, 3: 2, 4: 2, 5: 1, 6: 0}  # who works each weekday
    assert len(kept) == sum(weekdays[d.weekday()] for d in horizon)


def _book_in_the_past(
    db: Engine, clinic_id: int, services: list[int], patient_id: int, professional: int
) -> None:
    """An appointment of last week, as the desk records one after the fact."""
    with transaction(db) as s:
        last_week = NOW - timedelta(days=7)
        _book(s, clinic_id, services[DURATIONS.index(30)], patient_id, professional, last_week)
