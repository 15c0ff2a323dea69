"""Reminders and booking confirmations: when they become due, what the pass checks before
queuing them, and what the dispatcher checks before sending them, on the real store, the
real twilio client and the fake Twilio, with the clock moved by hand."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.links import appointment_id_from
from scheduler.dispatcher import dispatch_due
from store.appointments import cancel, confirm, reschedule
from store.db import transaction
from store.models import Appointment, Notification, NotificationRule, Professional
from store.outbox import enqueue
from tests.notification_support import (
    BASE_URL,
    CHAT,
    SECRET,
    book_at,
    channel_for,
    fake_twilio,
    notifications,
    outbox,
    patient,
    run_pass,
    set_reminders,
    worker_passes,
    writes,
)
from tests.support import Clock, make_clinic
from turnero.fake_twilio import FakeTwilio

NEW_YORK = ZoneInfo("America/New_York")  # clocks go forward on Sunday 8 March 2026, 2:00
BOOKED_AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def local(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(BOOKED_AT)


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    yield from fake_twilio(clock)


@pytest.fixture
def clinic(db: Engine):
    clinic = make_clinic(db, timezone="America/New_York")
    set_reminders(db, clinic.id, 24, None)
    return clinic


def set_status(db: Engine, old: str | None, new: str) -> None:
    """Force notifications back to a status, as a bug or a race might leave them."""
    with transaction(db) as session:
        for row in session.exec(select(Notification)):
            if old is None or row.status == old:
                row.status = new


# -- timing ---------------------------------------------------------------------------------


def test_reminders_across_a_dst_change_keep_elapsed_hours_and_local_evenings(
    db: Engine, clinic
) -> None:
    set_reminders(db, clinic.id, 24, time(18))
    # Sunday 8 March 10:00 EDT; the day before is still on EST
    sunday = book_at(db, clinic, local(8, 10), BOOKED_AT, actor=CHAT)
    hours_before, day_before = local(8, 10) - timedelta(hours=24), local(7, 18)
    assert hours_before.astimezone(NEW_YORK).hour == 9  # 24 elapsed hours, not 10:00 local
    assert hours_before == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)
    assert day_before == datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # 18:00 EST
    # Monday 9 March 10:00 EDT: the evening before is on EDT, still 18:00 local
    monday = book_at(db, clinic, local(9, 10), BOOKED_AT, phone="+595981222444", actor=CHAT)
    assert local(8, 18) == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)

    moments = [
        (hours_before - timedelta(seconds=1), set()),
        (hours_before, {(sunday, "hours_before")}),
        (day_before - timedelta(seconds=1), set()),
        (day_before, {(sunday, "day_before")}),
        (local(9, 10) - timedelta(hours=24), {(monday, "hours_before")}),
        (local(8, 18) - timedelta(seconds=1), set()),
        (local(8, 18), {(monday, "day_before")}),
    ]
    for now, expected in moments:
        before = {m.idempotency_key for m in outbox(db)}
        report = run_pass(db, now)
        new = [m for m in outbox(db) if m.idempotency_key not in before]
        assert report.queued == len(expected), now
        assert {(m.appointment_id, m.idempotency_key.split(":")[3]) for m in new} == expected
        assert all(m.created_at == now for m in new)
    not_after = {m.appointment_id: m.not_after for m in outbox(db)}
    assert not_after == {sunday: local(8, 10), monday: local(9, 10)}


def test_the_pass_queues_each_notification_once_even_when_run_twice(
    db: Engine, clinic, clock: Clock
) -> None:
    appointment = book_at(db, clinic, local(10, 9), BOOKED_AT)
    first = run_pass(db, BOOKED_AT)
    second = run_pass(db, BOOKED_AT)
    assert (first.queued, second.queued, second.claimed) == (1, 0, 0)
    [confirmation] = outbox(db)
    assert confirmation.kind == "confirmation"
    assert confirmation.appointment_id == appointment
    assert confirmation.not_after == local(10, 9)
    assert confirmation.idempotency_key == (
        f"appointment:{appointment}:confirmation:booked:{int(local(10, 9).timestamp())}"
    )
    # even if a notification were somehow pending again, the outbox keeps one message
    set_status(db, None, "pending")
    later = local(10, 9) - timedelta(hours=23)
    assert run_pass(db, later).queued == 2
    assert [m.kind for m in outbox(db)] == ["confirmation", "reminder"]
    [planned_confirmation] = [n for n in notifications(db) if n.kind == "confirmation"]
    assert planned_confirmation.outbox_message_id == confirmation.id


def test_the_message_is_written_in_the_patients_language_with_a_link(db: Engine, clinic) -> None:
    appointment = book_at(db, clinic, local(10, 9), BOOKED_AT, language="en")
    run_pass(db, BOOKED_AT)
    [message] = outbox(db)
    assert message.template == "notification.confirmation"
    assert "Your appointment at Clínica Test is booked" in message.body
    assert "09:00" in message.body and "Dra. Ana Benítez" in message.body
    [link] = [word for word in message.body.split() if word.startswith(BASE_URL)]
    assert link.startswith(BASE_URL + "/a/")
    assert appointment_id_from(SECRET, link.rsplit("/", 1)[-1]) == appointment

    patient(db, clinic.id, "+595981222333", language="gn")
    run_pass(db, local(10, 9) - timedelta(hours=24))
    reminder = outbox(db)[-1]
    assert reminder.template == "notification.reminder"
    assert "Romomandu'a ndéve nde turno" in reminder.body
    assert "1️⃣" in reminder.body and "3️⃣" in reminder.body


def test_a_confirmed_appointments_reminder_says_so_and_asks_nothing(db: Engine, clinic) -> None:
    appointment = book_at(db, clinic, local(10, 9), BOOKED_AT)
    with transaction(db) as session:
        confirm(session, session.get(Appointment, appointment), CHAT, BOOKED_AT)
    run_pass(db, local(10, 9) - timedelta(hours=24))
    reminder = outbox(db)[-1]
    assert (reminder.kind, reminder.template) == (
        "reminder_confirmed",
        "notification.reminder_confirmed",
    )
    assert "confirmado" in reminder.body and "«mis turnos»" in reminder.body
    assert "¿Venís?" not in reminder.body and "1️⃣" not in reminder.body

    with transaction(db) as session:  # cancelled before it went: it does not go
        cancel(session, session.get(Appointment, appointment), CHAT, BOOKED_AT)
    assert outbox(db)[-1].status == "skipped"


# -- what the pass checks -----------------------------------------------------------------


def test_cancelled_and_moved_appointments_get_nothing_for_their_old_time(
    db: Engine, clinic
) -> None:
    cancelled = book_at(db, clinic, local(10, 9), BOOKED_AT, actor=CHAT)
    moved = book_at(db, clinic, local(10, 10), BOOKED_AT, phone="+595981222444", actor=CHAT)
    with transaction(db) as session:
        cancel(session, session.get(Appointment, cancelled), CHAT, BOOKED_AT)
        reschedule(
            session,
            session.get(Appointment, moved),
            starts_at=local(11, 10),
            professional_id=clinic.professionals["ana"],
            actor=CHAT,
            now=BOOKED_AT,
        )
    report = run_pass(db, local(10, 10) - timedelta(hours=24))
    assert report.claimed == 0
    assert [n.status for n in notifications(db, cancelled)] == ["withdrawn"]
    assert [n.status for n in notifications(db, moved)] == ["withdrawn", "pending"]

    # a row that escaped withdrawal is still caught: the appointment no longer stands
    set_status(db, "withdrawn", "pending")
    report = run_pass(db, local(10, 10) - timedelta(hours=24))
    assert dict(report.skipped) == {"appointment no longer stands": 2}
    assert outbox(db) == []
    assert run_pass(db, local(11, 10) - timedelta(hours=24)).queued == 1


def test_paused_and_opted_out_patients_are_skipped(db: Engine, clinic) -> None:
    book_at(db, clinic, local(10, 9), BOOKED_AT, bot_paused=True)
    book_at(db, clinic, local(10, 10), BOOKED_AT, phone="+595981222444", opted_out=True)
    book_at(db, clinic, local(10, 11), BOOKED_AT, phone="+595981222555")
    report = run_pass(db, BOOKED_AT)
    assert report.queued == 1
    assert dict(report.skipped) == {"patient paused": 1, "patient opted out": 1}
    assert [m.to_phone for m in outbox(db)] == ["+595981222555"]


def test_rules_that_say_no_skip_the_message(db: Engine, clinic) -> None:
    with transaction(db) as session:
        for rule in session.exec(select(NotificationRule)):
            rule.mode = "reminders"  # no booking confirmations
        session.add(
            NotificationRule(
                clinic_id=clinic.id,
                mode="confirmations",
                professional_id=clinic.professionals["luis"],
            )
        )
    ana = book_at(db, clinic, local(10, 9), BOOKED_AT)
    luis = book_at(db, clinic, local(10, 9), BOOKED_AT, phone="+595981222444", professional="luis")
    report = run_pass(db, BOOKED_AT)
    assert (report.queued, dict(report.skipped)) == (1, {"rules say no": 1})
    assert [m.appointment_id for m in outbox(db)] == [luis]
    assert [n.reason for n in notifications(db, ana) if n.kind == "confirmation"] == [
        "rules say no"
    ]

    with transaction(db) as session:
        session.get(Professional, clinic.professionals["luis"]).reminders_enabled = False
    report = run_pass(db, local(10, 9) - timedelta(hours=24))
    assert dict(report.skipped) == {"reminders off for the professional": 1}
    assert [m.appointment_id for m in outbox(db)][1:] == [ana]


# -- what the dispatcher checks -------------------------------------------------------------


def test_the_dispatcher_skips_what_stopped_applying_after_it_was_queued(
    db: Engine, clinic, fake: FakeTwilio
) -> None:
    cancelled = book_at(db, clinic, local(10, 9), BOOKED_AT)
    book_at(db, clinic, local(10, 10), BOOKED_AT, phone="+595981222444")
    book_at(db, clinic, local(10, 11), BOOKED_AT, phone="+595981222555")
    book_at(db, clinic, local(10, 12), BOOKED_AT, phone="+595981222666")
    assert run_pass(db, BOOKED_AT).queued == 4
    with transaction(db) as session:
        cancel(session, session.get(Appointment, cancelled), CHAT, BOOKED_AT)
    patient(db, clinic.id, "+595981222444", bot_paused=True)
    patient(db, clinic.id, "+595981222555", opted_out=True)
    for phone in ("+595981222333", "+595981222444", "+595981222555", "+595981222666"):
        writes(db, clinic.id, phone, BOOKED_AT)  # inside the 24-hour window

    report = dispatch_due(db, channel_for(fake), BOOKED_AT)

    assert (report.sent, report.skipped) == (1, 3)
    assert [m["to"] for m in fake.messages] == ["whatsapp:+595981222666"]
    assert {m.to_phone: (m.status, m.error_message) for m in outbox(db)} == {
        "+595981222333": ("skipped", "appointment cancelled or moved"),
        "+595981222444": ("skipped", "patient paused"),
        "+595981222555": ("skipped", "patient opted out"),
        "+595981222666": ("queued", None),
    }


def test_replies_go_out_even_to_a_paused_patient(db: Engine, clinic, fake: FakeTwilio) -> None:
    patient(db, clinic.id, "+595981222333", bot_paused=True, opted_out=True)
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic.id,
            idempotency_key="reply:SM1",
            from_phone="+595981000000",
            to_phone="+595981222333",
            body="hola",
            now=BOOKED_AT,
            not_after=BOOKED_AT,
        )
    assert dispatch_due(db, channel_for(fake), BOOKED_AT).sent == 1


def test_a_worker_down_for_two_days_sends_what_is_still_useful(
    db: Engine, clinic, clock: Clock, fake: FakeTwilio
) -> None:
    set_reminders(db, clinic.id, 24, time(18))
    starts = [local(9, 9), local(9, 16), local(10, 9), local(11, 9)]
    ids = [
        book_at(db, clinic, start, BOOKED_AT, phone=f"+59598122200{n}", actor=CHAT)
        for n, start in enumerate(starts)
    ]
    # queued just before the worker went down, never dispatched
    clock.now = local(8, 9)
    assert run_pass(db, clock()).queued == 1  # the 24 h reminder of the first
    # down until Monday 9 March 12:00 local; the patients wrote that morning
    clock.now = local(9, 12)
    for n in range(4):
        writes(db, clinic.id, f"+59598122200{n}", local(9, 8))
    worker_passes(db, channel_for(fake), clock)

    by_appointment = {i: notifications(db, i) for i in ids}
    # the first has started: its day-before reminder is "too late", its queued one skipped
    assert [(n.step, n.status, n.reason) for n in by_appointment[ids[0]]] == [
        ("hours_before", "queued", None),
        ("day_before", "skipped", "too late"),
    ]
    # the second starts at 16:00 today: both reminders still useful
    assert [n.status for n in by_appointment[ids[1]]] == ["queued", "queued"]
    # the third (tomorrow 9:00): its 24 h reminder is due (since 9:00), the day-before not yet
    assert [(n.step, n.status) for n in by_appointment[ids[2]]] == [
        ("hours_before", "queued"),
        ("day_before", "pending"),
    ]
    assert {n.status for n in by_appointment[ids[3]]} == {"pending"}
    sent_to = sorted(m["to"] for m in fake.messages)
    assert sent_to == ["whatsapp:+595981222001"] * 2 + ["whatsapp:+595981222002"]
    [stale] = [m for m in outbox(db) if m.appointment_id == ids[0]]
    assert (stale.status, stale.error_message) == ("skipped", "too late")
