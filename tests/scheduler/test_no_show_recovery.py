"""No-show recovery on a timeline: up to three messages at the clinic's delays after a
missed appointment, stopped by a new booking, a reply (through the signed webhook) or an
opt-out; the end-of-day pass that marks no-shows; the recovered figure per period."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from scheduler.outcomes import auto_no_show_job
from scheduler.worker import dispatch_job
from store.appointments import NotChangeable, confirm
from store.db import transaction
from store.models import Appointment, AppointmentStatus, NotificationStatus, OutboxStatus
from store.recovery import RecoveryFigure, followup_hours, no_show_times, recovered_no_shows
from tests.after_visit_support import (
    FRONT_DESK,
    after_visit_messages,
    clinic_settings,
    events,
    kinds,
    recovery,
    staff_marks,
    status_of,
)
from tests.notification_support import (
    book_at,
    channel_for,
    notifications,
    patient,
    run_pass,
)
from tests.support import Chat, Clock, make_app, make_clinic
from tests.window_support import approve, variables_sent
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
BOOKED_AT = datetime(2026, 12, 4, 10, 0, tzinfo=ASU)  # a Friday
START = datetime(2026, 12, 7, 9, 0, tzinfo=ASU)  # Monday 09:00–09:30
MARKED = datetime(2026, 12, 7, 9, 45, tzinfo=ASU)
STEP_1 = datetime(2026, 12, 7, 11, 30, tzinfo=ASU)  # 2 h after the end
STEP_2 = datetime(2026, 12, 8, 9, 30, tzinfo=ASU)  # 24 h
STEP_3 = datetime(2026, 12, 10, 9, 30, tzinfo=ASU)  # 72 h
PHONE = "+595981222333"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(BOOKED_AT.astimezone(UTC))


@pytest.fixture
def whatsapp(db: Engine, clock: Clock, clinic) -> Chat:
    return Chat(make_app(db, clock, secret_key="recovery-secret").test_client(), db)


def missed(db: Engine, clinic, **patient_fields: object) -> int:
    """An appointment booked on Friday for Monday 09:00, marked a no-show at 09:45."""
    appointment = book_at(db, clinic, START, BOOKED_AT, **patient_fields)
    staff_marks(db, appointment, "no_show", MARKED)
    return appointment


def no_show_steps(db: Engine, appointment: int) -> list[tuple[str, str, str | None]]:
    return [
        (n.step, n.status, n.reason) for n in notifications(db, appointment) if n.kind == "no_show"
    ]


# -- when the messages are due (pure) -------------------------------------------------------


def test_the_steps_follow_the_missed_appointments_end_and_never_pile_up() -> None:
    end = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)
    hours = (2.0, 24.0, 72.0)
    assert no_show_times(end, end + timedelta(minutes=15), hours) == [
        ("1", end + timedelta(hours=2)),
        ("2", end + timedelta(hours=24)),
        ("3", end + timedelta(hours=72)),
    ]
    late = end + timedelta(hours=30)  # marked the next day: the first goes at once
    assert no_show_times(end, late, hours) == [("1", late), ("3", end + timedelta(hours=72))]


def test_the_delays_setting_is_read_with_care() -> None:
    assert followup_hours("2,24,72") == (2.0, 24.0, 72.0)
    assert followup_hours("1, 48") == (1.0, 48.0)
    assert followup_hours("1,2,3,4") == (1.0, 2.0, 3.0)  # three at most
    assert followup_hours("two") == (2.0, 24.0, 72.0)
    assert followup_hours("0,5") == (2.0, 24.0, 72.0)


# -- the sequence ---------------------------------------------------------------------------


def test_a_no_show_gets_three_messages_at_their_delays(db: Engine, clinic) -> None:
    appointment = missed(db, clinic)
    assert status_of(db, appointment) == AppointmentStatus.no_show
    assert ("no_show", "staff:ana") in events(db, appointment)
    planned = [(n.step, n.due_at) for n in notifications(db, appointment) if n.kind == "no_show"]
    assert planned == [("1", STEP_1), ("2", STEP_2), ("3", STEP_3)]

    run_pass(db, STEP_1 - MINUTE)
    assert kinds(db) == []
    run_pass(db, STEP_1)
    assert kinds(db) == ["no_show_1"]
    run_pass(db, STEP_2 - MINUTE)
    assert kinds(db) == ["no_show_1"]
    run_pass(db, STEP_2)
    run_pass(db, STEP_3 - MINUTE)
    assert kinds(db) == ["no_show_1", "no_show_2"]
    run_pass(db, STEP_3)
    run_pass(db, STEP_3 + timedelta(hours=1))  # again: nothing twice
    first, second, third = after_visit_messages(db)
    assert [first.kind, second.kind, third.kind] == ["no_show_1", "no_show_2", "no_show_3"]
    assert "Rosa Giménez" in first.body and "lunes 7 de diciembre a las 09:00" in first.body
    link = "https://wa.me/595981000000?text=" + quote("Hola, quiero un turno")
    assert link in second.body
    assert link not in first.body and link not in third.body
    assert "BAJA" in third.body
    assert first.idempotency_key.startswith(f"appointment:{appointment}:no_show:1:")
    assert first.to_phone == PHONE and first.language == "es"
    assert first.not_after is not None and first.not_after > STEP_1  # not the past start


def test_the_messages_are_in_the_patients_language(db: Engine, clinic) -> None:
    missed(db, clinic, language="gn")
    run_pass(db, STEP_1)
    run_pass(db, STEP_2)
    bodies = [m.body for m in after_visit_messages(db)]
    assert bodies and all("Mba'éichapa" in body for body in bodies)
    assert (
        "https://wa.me/595981000000?text=" + quote("Mba'éichapa, aipota peteĩ turno") in bodies[-1]
    )


def test_the_clinic_sets_the_delays(db: Engine, clinic) -> None:
    clinic_settings(db, clinic.id, no_show_followup_hours="1,6")
    appointment = missed(db, clinic)
    end = START + timedelta(minutes=30)
    planned = [(n.step, n.due_at) for n in notifications(db, appointment) if n.kind == "no_show"]
    assert planned == [("1", end + timedelta(hours=1)), ("2", end + timedelta(hours=6))]


def test_a_new_booking_stops_the_sequence_and_counts_as_recovered(db: Engine, clinic) -> None:
    appointment = missed(db, clinic)
    run_pass(db, STEP_1)  # step 1 queued, not yet sent
    rebooked_at = STEP_1 + timedelta(minutes=20)
    again = book_at(db, clinic, START + timedelta(days=3), rebooked_at)

    assert no_show_steps(db, appointment) == [
        ("1", NotificationStatus.queued, None),
        ("2", NotificationStatus.withdrawn, None),
        ("3", NotificationStatus.withdrawn, None),
    ]
    [step_1] = after_visit_messages(db)
    assert step_1.status == OutboxStatus.skipped  # queued but unsent: it does not go out
    record = recovery(db, appointment)
    assert record is not None
    assert (record.recovered_appointment_id, record.recovered_at) == (again, rebooked_at)
    run_pass(db, STEP_3)
    assert kinds(db, appointment) == ["no_show_1"]


def test_a_reply_stops_the_sequence(db: Engine, clinic, clock: Clock, whatsapp) -> None:
    appointment = missed(db, clinic)
    run_pass(db, STEP_1)
    clock.now = STEP_1 + timedelta(hours=1)
    whatsapp.says("Perdón, me quedé dormida")
    run_pass(db, STEP_2)
    run_pass(db, STEP_3)
    assert kinds(db, appointment) == ["no_show_1"]
    assert no_show_steps(db, appointment) == [
        ("1", NotificationStatus.queued, None),
        ("2", NotificationStatus.skipped, "patient replied"),
        ("3", NotificationStatus.withdrawn, None),
    ]
    record = recovery(db, appointment)
    assert record is not None and record.recovered_appointment_id is None


def test_a_message_before_the_no_show_does_not_stop_it(
    db: Engine, clinic, clock: Clock, whatsapp
) -> None:
    appointment = book_at(db, clinic, START, BOOKED_AT)
    clock.now = (START - timedelta(days=1)).astimezone(UTC)
    whatsapp.says("hola")
    staff_marks(db, appointment, "no_show", MARKED)
    run_pass(db, STEP_1)
    run_pass(db, STEP_2)
    assert kinds(db, appointment) == ["no_show_1", "no_show_2"]


def test_opting_out_stops_the_sequence(db: Engine, clinic, clock: Clock, whatsapp) -> None:
    appointment = missed(db, clinic)
    run_pass(db, STEP_1)
    clock.now = STEP_1 + timedelta(hours=2)
    assert whatsapp.says("BAJA")
    run_pass(db, STEP_2)
    run_pass(db, STEP_3)
    assert kinds(db, appointment) == ["no_show_1"]
    assert no_show_steps(db, appointment)[1:] == [
        ("2", NotificationStatus.skipped, "patient opted out"),
        ("3", NotificationStatus.withdrawn, None),
    ]


def test_a_paused_patient_is_skipped(db: Engine, clinic) -> None:
    appointment = missed(db, clinic)
    patient(db, clinic.id, PHONE, bot_paused=True)
    run_pass(db, STEP_1)
    assert kinds(db) == []
    assert no_show_steps(db, appointment)[0] == ("1", NotificationStatus.skipped, "patient paused")


def test_staff_correcting_the_outcome_stops_the_messages(db: Engine, clinic) -> None:
    appointment = missed(db, clinic)
    with pytest.raises(NotChangeable):
        staff_marks(db, appointment, "completed", MARKED + MINUTE)  # it has an outcome
    future = book_at(db, clinic, START + timedelta(days=7), BOOKED_AT, phone="+595981999888")
    with pytest.raises(NotChangeable):
        staff_marks(db, future, "no_show", MARKED)  # it has not started


def test_outside_the_window_the_approved_template_of_each_step_is_sent(
    db: Engine, clinic, clock: Clock
) -> None:
    approve(
        db,
        clinic.id,
        kind="no_show_2",
        sid="HX" + "d" * 32,
        variables={"1": "patient_name", "2": "booking_link"},
    )
    missed(db, clinic)  # the patient never wrote: WhatsApp's window is closed
    with FakeTwilio(clock=clock) as fake:
        for moment in (STEP_1, STEP_2):
            clock.now = moment
            run_pass(db, moment)
            dispatch_job(db, channel_for(fake), clock)
        [sent] = fake.messages
    assert sent["content_sid"] == "HX" + "d" * 32
    assert variables_sent(sent) == {
        "1": "Rosa Giménez",
        "2": "https://wa.me/595981000000?text=" + quote("Hola, quiero un turno"),
    }
    first, second = after_visit_messages(db)
    assert first.status == OutboxStatus.not_sendable  # no approved template for step 1
    assert second.content_sid == "HX" + "d" * 32 and second.status != OutboxStatus.not_sendable


# -- the end of the day ----------------------------------------------------------------------


def test_the_end_of_the_day_marks_who_neither_came_nor_was_seen(db: Engine, clinic) -> None:
    clinic_settings(db, clinic.id, auto_no_show_at=time(20, 0))
    waiting = book_at(db, clinic, START, BOOKED_AT)
    seen = book_at(db, clinic, START + timedelta(hours=1), BOOKED_AT, phone="+595981000002")
    confirmed = book_at(db, clinic, START, BOOKED_AT, phone="+595981000003", professional="luis")
    last_week = book_at(
        db, clinic, START - timedelta(days=7), BOOKED_AT - timedelta(days=8), phone="+595981000004"
    )
    with transaction(db) as session:
        appointment = session.get(Appointment, confirmed)
        assert appointment is not None
        confirm(session, appointment, FRONT_DESK, BOOKED_AT)
    staff_marks(db, seen, "completed", START + timedelta(hours=1, minutes=30))
    evening = datetime(2026, 12, 7, 20, 0, tzinfo=ASU)

    assert auto_no_show_job(db, Clock(evening - MINUTE)) == 0
    assert auto_no_show_job(db, Clock(evening)) == 2
    assert auto_no_show_job(db, Clock(evening + MINUTE)) == 0  # idempotent
    assert status_of(db, waiting) == status_of(db, confirmed) == AppointmentStatus.no_show
    assert status_of(db, seen) == AppointmentStatus.completed
    assert status_of(db, last_week) == AppointmentStatus.booked  # too old to mark now
    assert ("no_show", "system") in events(db, waiting)

    run_pass(db, evening)  # their first step is already due: it goes at once
    assert kinds(db, waiting) == kinds(db, confirmed) == ["no_show_1"]


def test_a_worker_that_was_down_marks_yesterday_the_next_morning(db: Engine, clinic) -> None:
    clinic_settings(db, clinic.id, auto_no_show_at=time(20, 0))
    waiting = book_at(db, clinic, START, BOOKED_AT)
    assert auto_no_show_job(db, Clock(datetime(2026, 12, 7, 19, 0, tzinfo=ASU))) == 0
    assert auto_no_show_job(db, Clock(datetime(2026, 12, 8, 8, 0, tzinfo=ASU))) == 1
    assert status_of(db, waiting) == AppointmentStatus.no_show


def test_without_the_setting_nothing_is_marked(db: Engine, clinic) -> None:
    waiting = book_at(db, clinic, START, BOOKED_AT)
    assert auto_no_show_job(db, Clock(datetime(2026, 12, 8, 23, 0, tzinfo=ASU))) == 0
    assert status_of(db, waiting) == AppointmentStatus.booked


# -- the recovered figure ------------------------------------------------------------------------


def test_recovered_no_shows_per_clinic_and_period(db: Engine, clinic) -> None:
    other = make_clinic(db, number="+595981777777")

    def no_show(at_clinic, phone: str, start: datetime) -> int:
        appointment = book_at(db, at_clinic, start, start - timedelta(days=3), phone=phone)
        staff_marks(db, appointment, "no_show", start + timedelta(minutes=45))
        return appointment

    no_show(clinic, "+595981000001", START)
    book_at(db, clinic, START + timedelta(days=5), START + timedelta(days=3), phone="+595981000001")
    no_show(clinic, "+595981000002", START + timedelta(hours=1))  # never came back
    no_show(clinic, "+595981000003", START + timedelta(hours=2))
    late = START + timedelta(days=40)  # back, but after the clinic's 30 days
    book_at(db, clinic, late + timedelta(days=1), late, phone="+595981000003")
    november = datetime(2026, 11, 9, 9, 0, tzinfo=ASU)
    no_show(clinic, "+595981000004", november)
    book_at(
        db,
        clinic,
        november + timedelta(days=2),
        november + timedelta(days=1),
        phone="+595981000004",
    )
    no_show(other, "+595981000005", START)
    book_at(db, other, START + timedelta(days=2), START + timedelta(days=1), phone="+595981000005")

    december = (datetime(2026, 12, 1, tzinfo=ASU), datetime(2027, 1, 1, tzinfo=ASU))
    with Session(db) as session:
        assert recovered_no_shows(session, clinic.id, *december) == RecoveryFigure(3, 1)
        assert recovered_no_shows(
            session, clinic.id, datetime(2026, 11, 1, tzinfo=ASU), december[0]
        ) == RecoveryFigure(1, 1)
        assert recovered_no_shows(session, other.id, *december) == RecoveryFigure(1, 1)
        assert recovered_no_shows(session, clinic.id, *december).rate == pytest.approx(1 / 3)


def test_the_clinic_sets_how_long_a_rebooking_counts(db: Engine, clinic) -> None:
    clinic_settings(db, clinic.id, recovery_days=5)
    appointment = missed(db, clinic)
    book_at(db, clinic, START + timedelta(days=10), MARKED + timedelta(days=6))
    record = recovery(db, appointment)
    assert record is not None and record.recovered_appointment_id is None
    # too late to count, but the patient is back: nothing more is sent
    assert [status for _, status, _ in no_show_steps(db, appointment)] == [
        NotificationStatus.withdrawn
    ] * 3
