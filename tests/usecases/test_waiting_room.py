"""The waiting room's queues: numbers said aloud that restart each day, the priority rule
(on time, late, walk-in, priority), a second check-in keeping its number, calling,
recalling, no answer and served with their times recorded, and "your turn is near" and
"it's your turn" sent once each, in the patient's language, through the fake Twilio."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store import queues
from store.appointments import Actor
from store.db import transaction
from store.models import Appointment, AppointmentStatus, Clinic, QueueTicket, WaitingRoom
from tests.notification_support import book_at, channel_for, fake_twilio, worker_passes, writes
from tests.support import Clock, TestClinic
from turnero.fake_twilio import FakeTwilio
from usecases import waiting_room

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=ASU)  # a Tuesday, before the first appointment
DESK = Actor("staff:ana", "console")


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    yield from fake_twilio(clock)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ASU)


def booked(db: Engine, clinic: TestClinic, start: datetime, phone: str, **fields: object) -> int:
    return book_at(
        db, clinic, start, start - timedelta(days=3), phone=phone, name=phone[-4:], **fields
    )


def arrive(
    db: Engine, appointment_id: int, now: datetime, **kwargs: object
) -> waiting_room.Arrived:
    with transaction(db) as session:
        appointment = session.get(Appointment, appointment_id)
        clinic = session.get(Clinic, appointment.clinic_id if appointment else 0)
        assert appointment and clinic
        return waiting_room.arrive(session, clinic, appointment, "desk", DESK, now, **kwargs)  # type: ignore[arg-type]


def call(db: Engine, clinic: TestClinic, now: datetime, to: str = "Consultorio 3") -> str | None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found
        queue = queues.queues(session, clinic.id, queues.rules(session, clinic.id))[0]
        ticket = waiting_room.call_next(session, found, queue.key, "staff:ana", to, now)
        return queues.ticket_label(ticket) if ticket else None


def tickets(db: Engine) -> list[QueueTicket]:
    with Session(db) as session:
        return list(session.exec(select(QueueTicket).order_by(col(QueueTicket.id))))


def test_numbers_are_said_aloud_per_queue_and_start_again_the_next_day(
    db: Engine, clinic: TestClinic
) -> None:
    first = booked(db, clinic, at(9), "+595981000001")
    second = booked(db, clinic, at(9, 30), "+595981000002")
    dentist = booked(db, clinic, at(10), "+595981000003", professional="luis", service="dentistry")
    tomorrow = booked(db, clinic, at(9, day=2), "+595981000004")

    assert arrive(db, first, at(8, 40)).number == "A-001"
    assert arrive(db, second, at(8, 45)).number == "A-002"
    assert arrive(db, dentist, at(8, 50)).number == "B-001"  # dentistry's own queue
    assert arrive(db, tomorrow, at(8, 40, day=2)).number == "A-001"


def test_a_second_check_in_keeps_the_first_number(db: Engine, clinic: TestClinic) -> None:
    appointment = booked(db, clinic, at(9), "+595981000001")
    first = arrive(db, appointment, at(8, 40))
    again = arrive(db, appointment, at(8, 50))
    assert (first.number, first.new) == ("A-001", True)
    assert (again.number, again.new, again.ahead) == ("A-001", False, 0)
    assert len(tickets(db)) == 1


def test_on_time_appointments_go_first_by_their_time_then_late_ones_then_priority_first(
    db: Engine, clinic: TestClinic
) -> None:
    with transaction(db) as session:
        session.add(WaitingRoom(clinic_id=clinic.id, late_grace_minutes=10))
    late = booked(db, clinic, at(8), "+595981000001")  # 08:00, comes at 08:45: past the grace
    ten = booked(db, clinic, at(10), "+595981000002")
    nine = booked(db, clinic, at(9), "+595981000003")
    elderly = booked(db, clinic, at(11), "+595981000004")

    arrive(db, late, at(8, 45))
    arrive(db, ten, at(8, 46))
    arrive(db, nine, at(8, 50))  # arrived after the 10:00 one, but its time is earlier
    assert arrive(db, elderly, at(8, 55), priority=True).ahead == 0

    order = [call(db, clinic, at(9, n)) for n in range(5)]
    assert order == ["A-004", "A-003", "A-002", "A-001", None]


def test_calling_recalling_no_answer_and_served_record_their_times(
    db: Engine, clinic: TestClinic
) -> None:
    one = booked(db, clinic, at(9), "+595981000001")
    two = booked(db, clinic, at(9, 30), "+595981000002")
    arrive(db, one, at(8, 40))
    arrive(db, two, at(8, 41))

    assert call(db, clinic, at(9)) == "A-001"
    ids = [t.id or 0 for t in tickets(db)]
    with transaction(db) as session:
        clinic_row = session.get(Clinic, clinic.id)
        ticket = queues.locked_ticket(session, clinic.id, ids[0])
        assert clinic_row and ticket
        assert queues.recall(session, ticket, "staff:ana", None, at(9, 2))
        assert waiting_room.no_answer(session, clinic_row, ticket, absent=False, now=at(9, 5))
    assert call(db, clinic, at(9, 6)) == "A-002"  # the one who did not answer is behind
    assert call(db, clinic, at(9, 7)) == "A-001"
    with transaction(db) as session:
        clinic_row = session.get(Clinic, clinic.id)
        assert clinic_row
        for ticket_id in ids:
            ticket = queues.locked_ticket(session, clinic.id, ticket_id)
            assert ticket
            assert waiting_room.serve(session, clinic_row, ticket, DESK, at(9, 20))
            assert not waiting_room.serve(session, clinic_row, ticket, DESK, at(9, 21))

    first, second = tickets(db)
    assert first.arrived_at == at(8, 40).astimezone(UTC)
    assert first.called_at == at(9, 7).astimezone(UTC) and first.calls == 3
    assert first.ended_at == at(9, 20).astimezone(UTC)
    assert (first.called_by, first.called_to, first.status) == (
        "staff:ana",
        "Consultorio 3",
        "served",
    )
    assert second.called_at == at(9, 6).astimezone(UTC) and second.status == "served"
    with Session(db) as session:
        statuses = [session.get(Appointment, a) for a in (one, two)]
    assert [a.status for a in statuses if a] == [
        AppointmentStatus.completed,
        AppointmentStatus.arrived,
    ]


def test_no_answer_twice_can_mark_the_patient_absent(db: Engine, clinic: TestClinic) -> None:
    one = booked(db, clinic, at(9), "+595981000001")
    arrive(db, one, at(8, 40))
    call(db, clinic, at(9))
    [only] = [t.id or 0 for t in tickets(db)]
    with transaction(db) as session:
        clinic_row = session.get(Clinic, clinic.id)
        ticket = queues.locked_ticket(session, clinic.id, only)
        assert clinic_row and ticket
        assert waiting_room.no_answer(session, clinic_row, ticket, absent=True, now=at(9, 5))
        assert not waiting_room.no_answer(session, clinic_row, ticket, absent=True, now=at(9, 6))
    [ticket] = tickets(db)
    assert ticket.status == "absent" and ticket.ended_at == at(9, 5).astimezone(UTC)
    assert call(db, clinic, at(9, 6)) is None


def test_turn_near_and_your_turn_go_once_each_in_the_patients_language(
    db: Engine, clinic: TestClinic, clock: Clock, fake: FakeTwilio
) -> None:
    with transaction(db) as session:
        session.add(WaitingRoom(clinic_id=clinic.id, near_ahead=1))
    phones = [f"+59598100000{n}" for n in range(1, 5)]
    people = [
        booked(db, clinic, at(9) + timedelta(minutes=30 * n), phone, language=lang)
        for n, (phone, lang) in enumerate(zip(phones, ["es", "en", "gn", "es"], strict=True))
    ]
    for n, appointment in enumerate(people):
        writes(db, clinic.id, phones[n], at(8, 30))  # WhatsApp's window is open
        arrive(db, appointment, at(8, 40 + n))
    channel = channel_for(fake)
    clock.now = at(8, 45).astimezone(UTC)
    for desk in ("Consultorio 1", "Consultorio 2"):
        call(db, clinic, clock(), to=desk)
        worker_passes(db, channel, clock)
    first = tickets(db)[0].id or 0
    with transaction(db) as session:  # a recall of the first says nothing again
        ticket = queues.locked_ticket(session, clinic.id, first)
        assert ticket and queues.recall(session, ticket, "staff:ana", None, clock())
    worker_passes(db, channel, clock)

    sent = [(m["to"].removeprefix("whatsapp:"), m["body"]) for m in fake.messages]
    by_phone = {phone: [body for to, body in sent if to == phone] for phone in phones}
    assert len(by_phone[phones[0]]) == 2  # near at check-in (nobody ahead), then its turn
    assert "tu turno está cerca" in by_phone[phones[0]][0]
    assert "¡es tu turno! Pasá a Consultorio 1" in by_phone[phones[0]][1]
    assert [b.split(":")[1].strip() for b in by_phone[phones[1]]] == [
        "your turn is near. People ahead of you",
        "it's your turn! Please go to Consultorio 2.",
    ]
    assert by_phone[phones[2]] == [
        "⏳ A-003: nde turno hi'aguĩma. Oha'arõva nde mboyve: 1. Epyta hi'aguĩ sala de espera-gui."
    ]
    assert [b[:24] for b in by_phone[phones[3]]] == ["⏳ A-004: tu turno está c"]


def waiting_in_a(db: Engine, clinic: TestClinic, count: int) -> None:
    """`count` patients with appointments from 9:00, checked in by 8:30 in that order:
    queue A's A-001 onwards."""
    for n in range(count):
        appointment = booked(db, clinic, at(9) + timedelta(minutes=30 * n), f"+59598100{n:04d}")
        arrive(db, appointment, at(8, 30) + timedelta(seconds=n))


def test_two_desks_calling_next_at_once_get_two_different_patients(
    on_postgres: Engine, clinic: TestClinic
) -> None:
    db = on_postgres
    waiting_in_a(db, clinic, 6)
    barrier = threading.Barrier(2)
    called: list[str | None] = []

    def desk(room: str) -> None:
        for _ in range(4):
            barrier.wait(timeout=10)  # both desks press "call next" together
            called.append(call(db, clinic, at(9), to=room))

    threads = [threading.Thread(target=desk, args=(room,)) for room in ("Box 1", "Box 2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    numbers = [c for c in called if c is not None]
    assert sorted(numbers) == [f"A-{n:03d}" for n in range(1, 7)]  # each once, none skipped
    assert called.count(None) == 2
    assert {t.called_to for t in tickets(db)} == {"Box 1", "Box 2"}


def test_a_screen_reading_while_desks_call_and_recall_at_once_misses_no_call(
    on_postgres: Engine, clinic: TestClinic
) -> None:
    db = on_postgres
    waiting_in_a(db, clinic, 24)
    desks_done = threading.Event()
    seen: list[tuple[int, int]] = []  # (ticket, call number) as the screen got them

    def desk(room: str) -> None:
        for _ in range(8):
            call(db, clinic, at(9), to=room)
            with transaction(db) as session:  # and calls its latest again
                [ticket] = session.exec(
                    select(QueueTicket)
                    .where(QueueTicket.called_to == room)
                    .order_by(col(QueueTicket.call_seq).desc())
                    .limit(1)
                ).all()
                queues.recall(session, ticket, "staff:ana", None, at(9))

    def screen() -> None:
        cursor, last_round = 0, False
        while not last_round:
            last_round = desks_done.is_set()
            with Session(db) as session:
                since = queues.calls_since(session, clinic.id, at(9).date(), cursor, 5, None)
            seen.extend((t.id or 0, t.call_seq or 0) for t in since.calls)
            cursor = since.cursor
            last_round = last_round and not since.more

    reader = threading.Thread(target=screen)
    desks = [threading.Thread(target=desk, args=(f"Box {n}",)) for n in range(3)]
    reader.start()
    for thread in desks:
        thread.start()
    for thread in desks:
        thread.join(timeout=60)
    desks_done.set()
    reader.join(timeout=60)
    called = {t.id for t in tickets(db) if t.called_at is not None}
    assert len(called) == 24 and {ticket for ticket, _ in seen} == called  # none missed
    numbers = [number for _, number in seen]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # in order, once
