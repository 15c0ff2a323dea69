"""A patient manages their appointments from WhatsApp: "mis turnos", the code, and
replies to a reminder (typed or tapped), through the real webhook."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, update
from sqlmodel import Session, col, select

from bot.links import appointment_id_from
from store.appointments import Actor, booked
from store.booking import book
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentEvent,
    Clinic,
    Notification,
    NotificationStatus,
    Patient,
    Service,
)
from store.outbox import enqueue
from tests.support import (
    PUBLIC_URL,
    Chat,
    add_patient,
)

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday
SECRET = "test-secret"


@pytest.fixture
def patient(app, db: Engine) -> Chat:
    return Chat(app.test_client(), db)


def staff_books(
    db: Engine, clinic, phone: str, name: str, when: datetime, professional: str = "ana"
) -> Appointment:
    """An appointment made at the front desk for a patient on `phone`."""
    patient_id = add_patient(db, clinic.id, phone, name)
    with transaction(db) as s:
        appointment = book(
            s,
            clinic_id=clinic.id,
            patient=s.get(Patient, patient_id),
            service=s.get(Service, clinic.services["general"]),
            professional_id=clinic.professionals[professional],
            starts_at=when.astimezone(UTC),
            source_channel="console",
            now=NOW.astimezone(UTC),
        )
        booked(s, s.get(Clinic, clinic.id), appointment, Actor("staff:ana", "console"), NOW)
        s.flush()
        s.expunge(appointment)
        return appointment


def current(db: Engine, appointment_id: int | None) -> Appointment:
    with Session(db) as s:
        found = s.get(Appointment, appointment_id)
        assert found is not None
        return found


def reminder_goes_out(db: Engine, appointment_id: int | None, at: datetime) -> None:
    """What the scheduler does when it queues a reminder: the notification is queued and
    the message is in the outbox for the patient's phone."""
    with transaction(db) as s:
        s.execute(
            update(Notification)
            .where(col(Notification.appointment_id) == appointment_id)
            .values(status=NotificationStatus.queued, updated_at=at)
        )
        appointment = s.get(Appointment, appointment_id)
        patient = s.get(Patient, appointment.patient_id) if appointment else None
        clinic = s.get(Clinic, appointment.clinic_id) if appointment else None
        assert appointment and patient and clinic
        enqueue(
            s,
            clinic_id=clinic.id or 0,
            idempotency_key=f"appointment:{appointment_id}:reminder:test",
            from_phone=clinic.whatsapp_number,
            to_phone=patient.phone,
            body="Recordatorio de tu turno…",
            now=at,
            kind="reminder",
            appointment_id=appointment_id,
        )


FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=ASU)


def test_mis_turnos_lists_upcoming_appointments_and_confirms_one(patient, db, clinic):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)

    listing = patient.says("mis turnos")
    assert patient.asked("manage.ask_appointment")
    assert "Consulta general" in listing and appointment.code in listing
    assert "viernes 27 de noviembre 10:00" in listing

    actions = patient.says("1")
    assert patient.asked("manage.ask_action")
    assert "Dra. Ana Benítez" in actions and "1. Confirmar asistencia" in actions
    assert "2. Cancelar el turno" in actions and "3. Cambiar día u hora" in actions

    patient.says("1")
    assert patient.said == ["manage.confirmed"]
    assert current(db, appointment.id).status == "confirmed"

    patient.says(appointment.code.lower())  # the code, as a patient may type it
    patient.says("1")
    assert patient.said == ["manage.already_confirmed"]
    with Session(db) as s:
        kinds = s.exec(
            select(AppointmentEvent.kind).where(AppointmentEvent.appointment_id == appointment.id)
        ).all()
    assert kinds == ["booked", "confirmed"]


def test_no_upcoming_appointments_says_so(patient):
    patient.says("mis turnos")
    assert patient.said == ["manage.no_appointments"]
    assert "Clínica Test" in patient.says("hola")  # and the conversation goes on
    assert patient.asked("booking.ask_service")


def test_cancelling_asks_first_then_frees_the_slot_and_withdraws_reminders(patient, db, clinic):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.says("mis turnos")
    patient.says("1")
    patient.says("cancelar")
    assert patient.asked("manage.ask_cancel") and patient.said == ["manage.ask_cancel"]
    patient.says("sí")
    assert patient.said == ["manage.cancelled"]

    assert current(db, appointment.id).status == "cancelled"
    with Session(db) as s:
        statuses = set(
            s.exec(select(Notification.status).where(Notification.appointment_id == appointment.id))
        )
    assert statuses == {NotificationStatus.withdrawn}
    # the freed time can be booked by somebody else
    staff_books(db, clinic, "+595981999888", "Otro Paciente", FRIDAY_10)


def test_saying_no_keeps_the_appointment(patient, db, clinic):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.says(appointment.code)
    patient.says("2")
    patient.says("no")
    assert patient.said == ["manage.kept"]
    assert current(db, appointment.id).status == "booked"


def test_rescheduling_moves_the_appointment_and_replans_its_reminders(patient, db, clinic):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.says("mis turnos")
    patient.says("1")
    days = patient.says("3")
    assert patient.asked("manage.ask_move_day") and "Consulta general" in days
    times = patient.says("lunes")
    assert patient.asked("booking.ask_time") and "lunes 30 de noviembre" in times
    review = patient.says("9:00")
    assert patient.asked("manage.review_move")
    assert "del viernes 27 de noviembre a las 10:00 al lunes 30 de noviembre a las 09:00" in review
    moved = patient.says("sí")
    assert patient.said == ["manage.moved"] and "lunes 30 de noviembre a las 09:00" in moved

    after = current(db, appointment.id)
    assert after.starts_at == datetime(2026, 11, 30, 9, 0, tzinfo=ASU)
    assert after.code == appointment.code
    with Session(db) as s:
        planned = s.exec(
            select(Notification.starts_at, Notification.status).where(
                Notification.appointment_id == appointment.id
            )
        ).all()
    assert {(start, status) for start, status in planned} == {
        (FRIDAY_10, NotificationStatus.withdrawn),
        (after.starts_at, NotificationStatus.pending),
    }
    # the old time is free again
    staff_books(db, clinic, "+595981999888", "Otro Paciente", FRIDAY_10)


def test_a_reply_of_1_to_a_reminder_confirms_even_mid_booking(patient, db, clinic, clock):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.says("hola")  # a booking started and left on the service question
    clock.advance(minutes=5)
    reminder_goes_out(db, appointment.id, clock())
    clock.advance(minutes=5)
    confirmed = patient.says("1")
    assert patient.said[-1] == "manage.confirmed"  # after the reminded appointment's actions
    assert "Consulta general" in confirmed and "viernes 27" in confirmed
    assert current(db, appointment.id).status == "confirmed"
    # without a new reminder, "1" is an ordinary answer again
    patient.says("hola")
    assert "Dra. Ana Benítez" in patient.says("1")
    assert patient.asked("booking.ask_professional")


def test_a_reply_of_2_to_a_reminder_asks_before_cancelling(patient, db, clinic, clock):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    reminder_goes_out(db, appointment.id, clock())
    clock.advance(minutes=1)
    patient.says("2")
    assert patient.asked("manage.ask_cancel") and patient.said[-1] == "manage.ask_cancel"
    patient.says("si")
    assert current(db, appointment.id).status == "cancelled"


def test_a_reply_of_3_to_a_reminder_asks_only_for_the_new_day(patient, db, clinic, clock):
    """The reminder listed the actions: answering one does not list them again."""
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    reminder_goes_out(db, appointment.id, clock())
    clock.advance(minutes=1)
    reply = patient.says("3")
    assert patient.said == ["manage.ask_move_day"]
    assert "¿Qué querés hacer?" not in reply and "¿Para qué día" in reply


def test_one_without_a_reminder_is_an_ordinary_answer(patient, db, clinic):
    staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.says("hola")
    assert "Dra. Ana Benítez" in patient.says("1")  # the first service, not a confirmation
    assert patient.asked("booking.ask_professional")


def test_reminder_buttons_arrive_as_payloads(patient, db, clinic):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.taps(f"confirm:{appointment.id}")
    assert patient.said[-1] == "manage.confirmed"
    assert current(db, appointment.id).status == "confirmed"
    patient.taps(f"reschedule:{appointment.id}")
    assert patient.asked("manage.ask_move_day") and patient.said[-1] == "manage.ask_move_day"


def test_a_tap_on_a_stale_or_foreign_reminder_is_not_applied(patient, db, clinic):
    mine = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    theirs = staff_books(
        db, clinic, "+595981777666", "Otra Persona", FRIDAY_10 + timedelta(hours=1)
    )
    reply = patient.taps(f"cancel:{theirs.id}")
    assert patient.said[0] == "manage.gone"
    assert current(db, theirs.id).status == "booked"
    assert mine.code in reply  # and the patient's own appointments are listed

    patient.taps(f"cancel:{mine.id}")
    patient.says("sí")
    patient.taps(f"confirm:{mine.id}")
    assert patient.said[0] == "manage.gone"
    assert current(db, mine.id).status == "cancelled"


def test_cancelling_after_the_start_is_refused_politely(patient, db, clinic, clock):
    soon = NOW + timedelta(minutes=20)
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", soon)
    patient.says("mis turnos")
    patient.says("1")
    patient.says("2")
    clock.now = (soon + timedelta(minutes=5)).astimezone(UTC)
    patient.says("sí")
    assert patient.said == ["manage.unchangeable"]
    assert current(db, appointment.id).status == "booked"


def test_the_booking_confirmation_carries_the_self_service_link(patient, db):
    patient.says("hola")
    patient.says("1")
    patient.says("1")
    patient.says("lunes")
    patient.says("1")
    patient.says("Rosa Giménez")
    patient.says("saltar")
    patient.says("saltar")
    done = patient.says("sí")
    assert patient.said == ["booking.booked"]
    link = next(word for word in done.split() if word.startswith(PUBLIC_URL + "/a/"))
    token = link.removeprefix(PUBLIC_URL + "/a/")
    with Session(db) as s:
        appointment = s.exec(select(Appointment)).one()
        planned = s.exec(select(Notification.step)).all()
    assert appointment_id_from(SECRET, token) == appointment.id
    assert planned == ["hours_before"]  # its reminder is planned


def test_an_english_speaker_reschedules_in_english(patient, db, clinic):
    appointment = staff_books(db, clinic, patient.phone, "Rosa Giménez", FRIDAY_10)
    patient.says("hello")
    listing = patient.says("my appointments")
    assert "Your upcoming appointments" in listing and "Friday 27 November 10:00" in listing
    assert "3. Change day or time" in patient.says("1")
    assert "Which day would you like to move" in patient.says("change")
    patient.says("Monday")
    assert "from Friday 27 November at 10:00 to Monday 30 November at 11:30" in patient.says(
        "11:30"
    )
    assert "is now on Monday 30 November at 11:30" in patient.says("yes")
    assert current(db, appointment.id).starts_at == datetime(2026, 11, 30, 11, 30, tzinfo=ASU)


def test_a_number_with_no_question_pending_reads_no_reminder_offer_or_survey(patient, db):
    """One read of the phone's outbox tells that nothing was asked since its last message;
    the lookups behind reminders, waitlist offers and surveys do not run."""
    patient.says("hola")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    event.listen(db, "before_cursor_execute", seen)
    try:
        patient.says("1")
    finally:
        event.remove(db, "before_cursor_execute", seen)
    assert any("from outbox_message" in s for s in statements)
    looked_up = [
        s
        for s in statements
        if "from notification" in s or "from waitlist_offer" in s or "from survey" in s
    ]
    assert looked_up == []
