"""After a completed visit, on a timeline: the care message chosen per service after the
clinic's delay, and the satisfaction survey an hour later, answered through the signed
webhook by a number, a word or a button; a low score flags the conversation for staff."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from scheduler.worker import dispatch_job
from store.appointments import NotChangeable
from store.models import NotificationStatus
from tests.after_visit_support import (
    after_visit_messages,
    care_template,
    clinic_settings,
    kinds,
    needs_staff,
    staff_marks,
    survey,
)
from tests.notification_support import (
    book_at,
    channel_for,
    notifications,
    patient,
    run_pass,
    writes,
)
from tests.support import Chat, Clock, make_app
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
BOOKED_AT = datetime(2026, 12, 4, 10, 0, tzinfo=ASU)
START = datetime(2026, 12, 7, 9, 0, tzinfo=ASU)
DONE = datetime(2026, 12, 7, 9, 40, tzinfo=ASU)  # the front desk marks it completed
PHONE = "+595981222333"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(DONE.astimezone(UTC))


@pytest.fixture
def whatsapp(db: Engine, clock: Clock, clinic) -> Chat:
    return Chat(make_app(db, clock, secret_key="post-visit-secret").test_client(), db)


def visit(db: Engine, clinic, *, service_professional: str = "ana", **patient_fields) -> int:
    appointment = book_at(
        db, clinic, START, BOOKED_AT, professional=service_professional, **patient_fields
    )
    staff_marks(db, appointment, "completed", DONE)
    return appointment


def surveyed(db: Engine, clinic, clock: Clock) -> int:
    """A visit completed with surveys on, and the survey question queued an hour later."""
    clinic_settings(db, clinic.id, survey_enabled=True)
    appointment = visit(db, clinic)
    clock.now = DONE + timedelta(hours=1)
    run_pass(db, clock.now)
    assert kinds(db, appointment) == ["survey"]
    return appointment


def reason(db: Engine, appointment: int, kind: str) -> tuple[str, str | None]:
    [found] = [n for n in notifications(db, appointment) if n.kind == kind]
    return found.status, found.reason


# -- care ------------------------------------------------------------------------------------


def test_the_care_message_follows_the_visit_after_the_clinics_delay(db: Engine, clinic) -> None:
    appointment = visit(db, clinic)
    run_pass(db, DONE + timedelta(minutes=119))
    assert kinds(db) == []
    run_pass(db, DONE + timedelta(minutes=120))
    run_pass(db, DONE + timedelta(minutes=121))
    [care] = after_visit_messages(db)
    assert (care.kind, care.appointment_id, care.template) == (
        "care",
        appointment,
        "automations.care",
    )
    assert "Rosa Giménez" in care.body and "Dra. Ana Benítez" in care.body
    assert "021 555 000" in care.body


def test_each_service_has_its_own_care_message(db: Engine, clinic) -> None:
    care_template(db, clinic.services["dentistry"], "automations.care_dental")
    care_template(db, clinic.services["lab"], "automations.care_missing")
    general = visit(db, clinic)
    dental = book_at(
        db,
        clinic,
        START,
        BOOKED_AT,
        phone="+595981000002",
        professional="luis",
        service="dentistry",
    )
    lab = book_at(
        db, clinic, START + timedelta(hours=2), BOOKED_AT, phone="+595981000003", service="lab"
    )
    staff_marks(db, dental, "completed", DONE)
    staff_marks(db, lab, "completed", DONE + timedelta(hours=2))
    run_pass(db, DONE + timedelta(hours=4))
    by_appointment = {m.appointment_id: m for m in after_visit_messages(db)}
    assert by_appointment[general].template == "automations.care"
    assert by_appointment[dental].template == "automations.care_dental"
    assert "2 horas" in by_appointment[dental].body and "Odontología" in by_appointment[dental].body
    assert by_appointment[lab].template == "automations.care"  # an unknown key: the default


def test_the_clinic_sets_the_care_delay_or_turns_it_off(db: Engine, clinic) -> None:
    clinic_settings(db, clinic.id, care_delay_minutes=30)
    appointment = visit(db, clinic)
    [care] = [n for n in notifications(db, appointment) if n.kind == "care"]
    assert care.due_at == DONE + timedelta(minutes=30)
    clinic_settings(db, clinic.id, care_delay_minutes=None)
    other = book_at(db, clinic, START, BOOKED_AT, phone="+595981000002", professional="luis")
    staff_marks(db, other, "completed", DONE)
    assert [n.kind for n in notifications(db, other) if n.kind in ("care", "survey")] == []


def test_care_is_written_in_the_patients_language(db: Engine, clinic) -> None:
    visit(db, clinic, language="en")
    run_pass(db, DONE + timedelta(hours=2))
    [care] = after_visit_messages(db)
    assert care.body.startswith("Hi, Rosa Giménez") and care.language == "en"


def test_a_paused_patient_gets_no_care_message(db: Engine, clinic) -> None:
    appointment = visit(db, clinic)
    patient(db, clinic.id, PHONE, bot_paused=True)
    run_pass(db, DONE + timedelta(hours=2))
    assert kinds(db) == []
    assert reason(db, appointment, "care") == (NotificationStatus.skipped, "patient paused")


def test_a_visit_is_completed_only_once_it_started(db: Engine, clinic) -> None:
    appointment = book_at(db, clinic, START, BOOKED_AT)
    with pytest.raises(NotChangeable):
        staff_marks(db, appointment, "completed", START - MINUTE)
    staff_marks(db, appointment, "completed", DONE)
    staff_marks(db, appointment, "completed", DONE + MINUTE)  # again: harmless
    with pytest.raises(NotChangeable):
        staff_marks(db, appointment, "no_show", DONE + MINUTE)  # another outcome: refused


# -- the survey ------------------------------------------------------------------------------


def test_the_survey_is_off_unless_the_clinic_turns_it_on(db: Engine, clinic) -> None:
    appointment = visit(db, clinic)
    run_pass(db, DONE + timedelta(hours=3))
    assert kinds(db, appointment) == ["care"]


def test_the_survey_asks_an_hour_later_then_keeps_score_and_comment(
    db: Engine, clinic, clock: Clock, whatsapp: Chat
) -> None:
    clinic_settings(db, clinic.id, survey_enabled=True)
    appointment = visit(db, clinic)
    run_pass(db, DONE + timedelta(minutes=59))
    assert kinds(db) == []
    clock.now = DONE + timedelta(minutes=60)
    run_pass(db, clock.now)
    [question] = after_visit_messages(db)
    assert question.kind == "survey" and "del 1 (muy mala) al 5 (excelente)" in question.body
    whatsapp.seen = len(whatsapp.messages())

    clock.advance(minutes=10)
    answer = whatsapp.says("4")
    assert "¡Gracias por tu respuesta!" in answer and "comentario" in answer
    clock.advance(minutes=2)
    assert "lo tenemos en cuenta" in whatsapp.says("Muy amables todos, gracias")
    kept = survey(db, appointment)
    assert kept is not None
    assert (kept.score, kept.comment) == (4, "Muy amables todos, gracias")
    assert kept.scored_at == DONE + timedelta(minutes=70)
    assert kept.commented_at == DONE + timedelta(minutes=72)
    assert not needs_staff(db, clinic.id, PHONE)
    assert "Hola" in whatsapp.says("hola")  # the conversation is back to normal


def test_a_low_score_in_words_flags_the_conversation_for_staff(
    db: Engine, clinic, clock: Clock, whatsapp: Chat
) -> None:
    appointment = surveyed(db, clinic, clock)
    whatsapp.seen = len(whatsapp.messages())
    clock.advance(minutes=5)
    assert "Lamentamos" in whatsapp.says("Malo")
    assert needs_staff(db, clinic.id, PHONE)
    clock.advance(minutes=1)
    whatsapp.says("no")  # no comment
    kept = survey(db, appointment)
    assert kept is not None
    assert (kept.score, kept.comment) == (2, None)
    assert kept.commented_at is not None


def test_words_are_read_as_scores(db: Engine, clinic, clock: Clock, whatsapp) -> None:
    appointment = surveyed(db, clinic, clock)
    clock.advance(minutes=5)
    whatsapp.says("¡Excelente!")
    kept = survey(db, appointment)
    assert kept is not None and kept.score == 5


def test_a_score_by_button(db: Engine, clinic, clock: Clock, whatsapp: Chat) -> None:
    clinic_settings(db, clinic.id, interactive_messages=True)
    writes(db, clinic.id, PHONE, DONE)  # inside WhatsApp's window: buttons may go
    appointment = surveyed(db, clinic, clock)
    [question] = after_visit_messages(db)
    offered = json.loads(question.options or "{}")
    assert [c["id"] for c in offered["choices"]] == [f"score:{n}" for n in range(1, 6)]
    with FakeTwilio(clock=clock) as fake:
        dispatch_job(db, channel_for(fake), clock)
        [sent] = fake.messages
    [question] = after_visit_messages(db)
    assert question.twilio_sid == sent["sid"]
    whatsapp.seen = len(whatsapp.messages())
    clock.advance(minutes=3)
    assert "comentario" in whatsapp.taps(
        "score:1", replied_to=question.twilio_sid, text="1 · Muy mala"
    )
    kept = survey(db, appointment)
    assert kept is not None and kept.score == 1
    assert needs_staff(db, clinic.id, PHONE)


def test_a_number_is_a_score_only_as_the_answer_to_the_survey(
    db: Engine, clinic, clock: Clock, whatsapp: Chat
) -> None:
    appointment = surveyed(db, clinic, clock)
    clock.advance(minutes=5)
    whatsapp.says("hola")  # the patient wrote something else first
    clock.advance(minutes=1)
    whatsapp.says("1")  # now "1" picks the first service of the booking menu
    kept = survey(db, appointment)
    assert kept is not None and kept.score is None


def test_an_opted_out_patient_gets_no_survey(db: Engine, clinic) -> None:
    clinic_settings(db, clinic.id, survey_enabled=True)
    appointment = visit(db, clinic)
    patient(db, clinic.id, PHONE, opted_out=True)
    run_pass(db, DONE + timedelta(hours=3))
    assert kinds(db) == []
    assert reason(db, appointment, "survey") == (NotificationStatus.skipped, "patient opted out")
    assert reason(db, appointment, "care") == (NotificationStatus.skipped, "patient opted out")
    assert survey(db, appointment) is None
