"""The waiting room's queues: numbers said aloud that restart each day, the priority rule
(on time, late, walk-in, priority), a second check-in keeping its number, calling,
recalling, no answer and served with their times recorded, and "your turn is near" (by
the people ahead or by the estimated wait) and "it's your turn" sent once each, in the
patient's language, through the fake Twilio, and neither to a patient who opted out."""

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
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    OutboxMessage,
    QueueTicket,
    WaitingRoom,
)
from store.queue_order import estimated_wait
from tests.notification_support import (
    book_at,
    channel_for,
    fake_twilio,
    outbox,
    patient,
    worker_passes,
    writes,
)
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


def serve(db: Engine, clinic: TestClinic, ticket_id: int, now: datetime) -> None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        ticket = queues.locked_ticket(session, clinic.id, ticket_id)
        assert found and ticket
        assert waiting_room.serve(session, found, ticket, DESK, now)


def walks_in(db: Engine, clinic: TestClinic, now: datetime, phone: str | None = None) -> None:
    """Somebody takes a number in queue A at the kiosk (behind every appointment on time):
    a check-in, so the queue's "near" is looked at again, and nobody ahead moves."""
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found
        queue = queues.queues(session, clinic.id, queues.rules(session, clinic.id))[0]
        waiting_room.walk_in(session, found, queue, phone, "es", now)


def estimate(db: Engine, clinic: TestClinic, ahead: int) -> float:
    """The estimated wait with `ahead` people before, from the day's real service times."""
    with Session(db) as session:
        queue = f"service:{clinic.services['general']}"
        minutes = queues.service_minutes(session, clinic.id, queue, at(9).date())
    return estimated_wait(ahead, minutes, waiting_room.DEFAULT_VISIT_MINUTES)


def test_turn_near_goes_once_when_the_estimated_wait_drops_under_m_minutes(
    db: Engine, clinic: TestClinic, clock: Clock, fake: FakeTwilio
) -> None:
    """N = 1 ahead, M = 20 minutes. C waits with 2 ahead and T with 3 (both above N) while
    the visits called before they came are served, each faster than the last: the
    estimate (ahead × the mean call-to-end time of the day's served visits) falls, and
    each is told once, when theirs drops under 20, never while it is 20 or more."""
    with transaction(db) as session:
        session.add(WaitingRoom(clinic_id=clinic.id, near_ahead=1, near_minutes=20))
    early = [
        booked(db, clinic, at(9) + timedelta(minutes=30 * n), f"+59598100010{n}") for n in range(4)
    ]
    for n, appointment in enumerate(early):
        arrive(db, appointment, at(8, 40 + n))
    phones = {name: f"+59598100020{n}" for n, name in enumerate("ABCT")}
    later = [
        booked(db, clinic, at(11) + timedelta(minutes=30 * n), phone)
        for n, phone in enumerate(phones.values())
    ]
    for phone in [*phones.values(), *(f"+59598100010{n}" for n in range(4))]:
        writes(db, clinic.id, phone, at(8, 30))  # WhatsApp's window is open
    channel = channel_for(fake)
    # the four early visits are called before A, B, C and T arrive: none of them is ahead
    for when in (at(8, 56), at(9, 5), at(9, 9), at(9, 10)):
        call(db, clinic, when)
    for appointment in later:
        arrive(db, appointment, at(9, 10))
    served = [t.id or 0 for t in tickets(db)][:4]

    def told(now: datetime) -> dict[str, list[str]]:
        clock.now = now.astimezone(UTC)
        worker_passes(db, channel, clock)
        sent = [(m["to"].removeprefix("whatsapp:"), m["body"]) for m in fake.messages]
        return {
            name: [body for to, body in sent if to == phone and "tu turno está cerca" in body]
            for name, phone in phones.items()
        }

    # nobody served yet: 15 minutes a visit, C 2 × 15 = 30, T 3 × 15 = 45; A and B by N
    assert (estimate(db, clinic, 2), estimate(db, clinic, 3)) == (30, 45)
    first = told(at(9, 10))
    assert [len(first[name]) for name in "ABCT"] == [1, 1, 0, 0]

    serve(db, clinic, served[0], at(9, 10))  # called 8:56: 14 minutes
    walks_in(db, clinic, at(9, 10))
    assert (estimate(db, clinic, 2), estimate(db, clinic, 3)) == (2 * 14, 3 * 14)  # 28, 42
    assert [len(b) for b in told(at(9, 10)).values()] == [1, 1, 0, 0]

    serve(db, clinic, served[1], at(9, 11))  # called 9:05: 6 minutes
    walks_in(db, clinic, at(9, 11))
    assert estimate(db, clinic, 2) == 2 * (14 + 6) / 2 == 20  # not under 20 yet
    assert [len(b) for b in told(at(9, 11)).values()] == [1, 1, 0, 0]

    serve(db, clinic, served[2], at(9, 12))  # called 9:09: 3 minutes
    walks_in(db, clinic, at(9, 12))
    assert estimate(db, clinic, 2) == pytest.approx(2 * (14 + 6 + 3) / 3)  # 15.3: C, 2 ahead
    assert estimate(db, clinic, 3) == pytest.approx(3 * (14 + 6 + 3) / 3)  # 23: not T yet
    after_c = told(at(9, 12))
    assert [len(b) for b in after_c.values()] == [1, 1, 1, 0]
    assert "Personas antes que vos: 2." in after_c["C"][0]

    serve(db, clinic, served[3], at(9, 13))  # called 9:10: 3 minutes
    walks_in(db, clinic, at(9, 13))
    assert estimate(db, clinic, 3) == pytest.approx(3 * (14 + 6 + 3 + 3) / 4)  # 19.5: T
    after_t = told(at(9, 13))
    assert [len(b) for b in after_t.values()] == [1, 1, 1, 1]
    assert "Personas antes que vos: 3." in after_t["T"][0]

    # calls and check-ins later (C now by N as well) tell nobody twice
    call(db, clinic, at(9, 14))
    walks_in(db, clinic, at(9, 15))
    assert told(at(9, 15)) == after_t
    with Session(db) as session:
        near = session.exec(
            select(OutboxMessage.to_phone).where(OutboxMessage.kind == MessageKind.turn_near)
        ).all()
    assert sorted(p for p in near if p in phones.values()) == sorted(phones.values())
    near_at = {t.phone: t.near_at for t in tickets(db)}
    assert (near_at[phones["C"]], near_at[phones["T"]]) == (
        at(9, 12).astimezone(UTC),  # when each was told, not since
        at(9, 13).astimezone(UTC),
    )


def test_an_opted_out_patient_hears_neither_turn_near_nor_your_turn(
    db: Engine, clinic: TestClinic, clock: Clock, fake: FakeTwilio
) -> None:
    """With an appointment or as a walk-in on their phone, a patient who opted out is
    queued and called like anybody, but nothing about it reaches their phone: both
    messages are held back as opted out. The patient after them hears both."""
    out, walker, told = "+595981000001", "+595981000002", "+595981000003"
    with transaction(db) as session:
        session.add(WaitingRoom(clinic_id=clinic.id, near_ahead=1))
    first = booked(db, clinic, at(9), out, opted_out=True)
    patient(db, clinic.id, walker, opted_out=True)
    last = booked(db, clinic, at(9, 30), told)
    for phone in (out, walker, told):
        writes(db, clinic.id, phone, at(8, 30))  # WhatsApp's window is open
    arrive(db, first, at(8, 40))
    walks_in(db, clinic, at(8, 41), walker)  # walk-ins go behind appointments on time
    arrive(db, last, at(8, 42))
    channel = channel_for(fake)
    clock.now = at(8, 45).astimezone(UTC)
    for desk in ("Consultorio 1", "Consultorio 2", "Consultorio 3"):
        call(db, clinic, clock(), to=desk)
        worker_passes(db, channel, clock)

    assert [t.status for t in tickets(db)] == ["called", "called", "called"]
    sent = [(m["to"].removeprefix("whatsapp:"), m["body"]) for m in fake.messages]
    assert [to for to, _ in sent if to in (out, walker)] == []
    assert [body[:24] for to, body in sent if to == told] == [
        "⏳ A-003: tu turno está c",
        "🔔 A-003: ¡es tu turno! P",
    ]
    held = {(m.to_phone, m.kind): (m.status, m.error_message) for m in outbox(db)}
    skipped = ("skipped", "patient opted out")
    assert {key: held[key] for key in held if key[0] in (out, walker)} == {
        (out, MessageKind.turn_near): skipped,
        (out, MessageKind.your_turn): skipped,
        (walker, MessageKind.turn_near): skipped,
        (walker, MessageKind.your_turn): skipped,
    }


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
