"""Answering appointment requests in the store (SQLite, and PostgreSQL when DATABASE_URL
names one): accepting books the time, names the patient and tells them; a time just taken
changes nothing; declining tells the patient; a request is answered once; one open request
per phone is the database's rule."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from store.booking import SlotTaken
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentEvent,
    AppointmentRequest,
    Clinic,
    Notification,
    OutboxMessage,
    Patient,
    RequestStatus,
    Service,
)
from store.requests import AlreadyHandled, NewRequest, count_open, create, get_request
from tests.console_support import NOW, book_at
from tests.support import add_patient
from turnero.fake_twilio import FakeTwilio
from usecases.appointment_requests import accept_request, decline_request

PHONE = "+595981222333"
TOMORROW_10 = NOW + timedelta(days=1, hours=1)  # Wednesday 10:00 in Asunción


def link_for(appointment_id: int) -> str:
    return f"https://turnero.example.org/a/{appointment_id}"


def a_request(db: Engine, clinic_id: int, name: str = "Rosa Giménez", language: str = "es") -> int:
    """A nameless first-contact patient on the phone, and the request they left."""
    with transaction(db) as session:
        session.add(Patient(clinic_id=clinic_id, phone=PHONE, first_seen_at=NOW))
        create(
            session,
            clinic_id,
            NewRequest(PHONE, name, 1, "miércoles a la mañana", "control", language),
            NOW,
        )
        return session.exec(select(func.max(AppointmentRequest.id))).one() or 0


def accept(db: Engine, clinic, request_id: int, at: datetime = TOMORROW_10, who: str = "ana"):
    with transaction(db) as session:
        found = get_request(session, clinic.id, request_id, lock=True)
        assert found is not None
        return accept_request(
            session,
            session.get(Clinic, clinic.id),
            found,
            service=session.get(Service, clinic.services["general"]),
            professional_id=clinic.professionals[who],
            starts_at=at,
            by="staff:ana@clinica.example",
            now=NOW,
            link_for=link_for,
        ).id


def dispatched(db: Engine) -> list[dict]:
    """What the dispatcher sends now, through the real client to a fake Twilio."""
    with FakeTwilio() as fake:
        channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)
        dispatch_due(db, channel, NOW + timedelta(seconds=1))
        return fake.messages


def rows(db: Engine, model):  # type: ignore[no-untyped-def]
    with Session(db) as session:
        return list(session.exec(select(model).order_by(col(model.id))))


def test_accepting_books_the_time_names_the_patient_and_tells_them(db: Engine, clinic):
    request_id = a_request(db, clinic.id)
    appointment_id = accept(db, clinic, request_id)

    [appointment] = rows(db, Appointment)
    assert appointment.id == appointment_id
    assert (appointment.starts_at, appointment.professional_id) == (
        TOMORROW_10,
        clinic.professionals["ana"],
    )
    assert (appointment.status, appointment.new_patient) == ("booked", True)
    [patient] = rows(db, Patient)  # the first-contact row, named now
    assert (patient.id, patient.name, patient.phone) == (
        appointment.patient_id,
        "Rosa Giménez",
        PHONE,
    )
    assert patient.language == "es"
    [request] = rows(db, AppointmentRequest)
    assert (request.status, request.appointment_id) == (RequestStatus.accepted, appointment_id)
    assert (request.handled_by, request.handled_at) == ("staff:ana@clinica.example", NOW)

    [told] = rows(db, OutboxMessage)
    assert (told.kind, told.to_phone, told.appointment_id) == (
        "request_accepted",
        PHONE,
        appointment_id,
    )
    assert told.idempotency_key == f"request:{request_id}:request_accepted"
    assert told.not_after == TOMORROW_10 and told.language == "es"
    assert "aceptó tu pedido de turno" in told.body
    assert "miércoles 2 de diciembre a las 10:00" in told.body
    assert appointment.code in told.body and link_for(appointment_id) in told.body
    assert '"code": "' + appointment.code in (told.variables or "")

    kinds = sorted((n.kind, n.step) for n in rows(db, Notification))
    assert kinds == [("reminder", "hours_before")]  # no second confirmation: the message is it
    [event] = rows(db, AppointmentEvent)
    assert (event.kind, event.actor, event.channel) == (
        "booked",
        "staff:ana@clinica.example",
        "console",
    )
    with Session(db) as session:
        assert count_open(session, clinic.id) == 0


def test_a_patient_of_that_name_on_the_phone_is_reused(db: Engine, clinic):
    known = add_patient(db, clinic.id, PHONE, "ROSA GIMÉNEZ", language="gn")
    request_id = a_request(db, clinic.id)
    accept(db, clinic, request_id)
    [appointment] = rows(db, Appointment)
    assert appointment.patient_id == known
    [told] = rows(db, OutboxMessage)
    assert told.language == "es"  # the language the request was written in


def test_a_time_just_taken_changes_nothing(db: Engine, clinic):
    other = add_patient(db, clinic.id, "+595981444555", "María Pérez")
    book_at(db, clinic, other, TOMORROW_10)
    request_id = a_request(db, clinic.id)
    with pytest.raises(SlotTaken):
        accept(db, clinic, request_id)
    assert len(rows(db, Appointment)) == 1
    [request] = rows(db, AppointmentRequest)
    assert (request.status, request.appointment_id, request.handled_at) == (
        RequestStatus.open,
        None,
        None,
    )
    assert [p.name for p in rows(db, Patient) if p.phone == PHONE] == [None]  # not named
    assert rows(db, OutboxMessage) == [] and rows(db, Notification) == []
    accept(db, clinic, request_id, at=TOMORROW_10 + timedelta(minutes=30))  # another time works
    assert rows(db, AppointmentRequest)[0].status == RequestStatus.accepted


def test_declining_tells_the_patient_with_the_reason(db: Engine, clinic):
    request_id = a_request(db, clinic.id, language="en")
    with transaction(db) as session:
        found = get_request(session, clinic.id, request_id, lock=True)
        assert found is not None
        decline_request(
            session,
            session.get(Clinic, clinic.id),
            found,
            reason="  The doctor is on leave   until March ",
            service_name="Consulta general",
            by="staff:ana@clinica.example",
            now=NOW,
        )
    [request] = rows(db, AppointmentRequest)
    assert (request.status, request.decline_reason) == (
        RequestStatus.declined,
        "The doctor is on leave   until March",
    )
    [told] = rows(db, OutboxMessage)
    assert (told.kind, told.language, told.appointment_id) == ("request_declined", "en", None)
    assert "cannot give you the Consulta general appointment" in told.body
    assert "Reason: The doctor is on leave" in told.body
    assert rows(db, Appointment) == []


def test_a_request_is_answered_once(db: Engine, clinic):
    request_id = a_request(db, clinic.id)
    accept(db, clinic, request_id)
    with pytest.raises(AlreadyHandled) as refused:
        accept(db, clinic, request_id, at=TOMORROW_10 + timedelta(hours=1))
    assert refused.value.status == RequestStatus.accepted
    with transaction(db) as session, pytest.raises(AlreadyHandled):
        found = get_request(session, clinic.id, request_id, lock=True)
        assert found is not None
        decline_request(
            session,
            session.get(Clinic, clinic.id),
            found,
            reason=None,
            service_name="x",
            by="staff:luis",
            now=NOW,
        )
    assert len(rows(db, Appointment)) == 1 and len(rows(db, OutboxMessage)) == 1


def test_a_second_request_replaces_the_open_one_and_two_open_ones_cannot_exist(db: Engine, clinic):
    a_request(db, clinic.id)
    with transaction(db) as session:
        replaced = create(session, clinic.id, NewRequest(PHONE, "Rosa Giménez", 2, "viernes"), NOW)
    assert replaced
    assert [r.status for r in rows(db, AppointmentRequest)] == ["withdrawn", "open"]
    with pytest.raises(IntegrityError), transaction(db) as session:
        session.connection().execute(
            insert(AppointmentRequest).values(
                clinic_id=clinic.id,
                phone=PHONE,
                patient_name="Otra",
                service_id=1,
                preferred="x",
                status="open",
                created_at=datetime.now(UTC),
            )
        )
    with Session(db) as session:
        assert count_open(session, clinic.id) == 1


@pytest.mark.parametrize("held_by", ["bot_paused", "opted_out"])
def test_the_answer_reaches_a_paused_or_opted_out_phone(db: Engine, clinic, held_by: str):
    """The patient asked for it: neither staff handling the conversation nor an opt-out
    from the clinic's own messages holds the desk's answer back."""
    from tests.notification_support import writes

    request_id = a_request(db, clinic.id)
    writes(db, clinic.id, PHONE, NOW - timedelta(minutes=5))  # the window is open
    with transaction(db) as session:
        for patient in session.exec(select(Patient)):
            setattr(patient, held_by, True)
    accept(db, clinic, request_id)
    [sent] = dispatched(db)
    assert sent["to"] == f"whatsapp:{PHONE}" and "aceptó tu pedido" in sent["body"]
    [told] = rows(db, OutboxMessage)
    assert told.status == "queued" and told.twilio_sid == sent["sid"]  # accepted by Twilio


def test_after_the_window_the_answer_goes_as_the_approved_template(db: Engine, clinic):
    import json

    from tests.notification_support import writes
    from tests.window_support import approve

    sid = "HX" + "ab" * 16
    request_id = a_request(db, clinic.id)
    writes(db, clinic.id, PHONE, NOW - timedelta(days=2))  # the request came two days ago
    approve(db, clinic.id, kind="request_accepted", sid=sid, variables={"1": "code"})
    accept(db, clinic, request_id)
    [sent] = dispatched(db)
    [appointment] = rows(db, Appointment)
    assert sent["content_sid"] == sid
    assert json.loads(sent["content_variables"]) == {"1": appointment.code}


def test_the_answers_are_written_in_the_clinics_own_words(db: Engine, clinic):
    from usecases.clinic_texts import save_text

    with transaction(db) as session:
        for key, body in [
            ("console.request_accepted", "Listo {patient_name}: te esperamos el {date}. {code}"),
            ("console.request_declined", "Perdón {patient_name}, no hay lugar.{reason}"),
        ]:
            save_text(session, clinic.id, "es", key, body, "staff:boss", NOW)
    accept(db, clinic, a_request(db, clinic.id))
    declined = a_request(db, clinic.id, name="Ana Ruiz")
    with transaction(db) as session:
        found = get_request(session, clinic.id, declined, lock=True)
        assert found is not None
        decline_request(
            session,
            session.get(Clinic, clinic.id),
            found,
            reason=None,
            service_name="Consulta general",
            by="staff:ana",
            now=NOW,
        )
    bodies = [m.body for m in rows(db, OutboxMessage)]
    assert bodies[0].startswith("Listo Rosa Giménez: te esperamos el miércoles 2 de diciembre.")
    assert bodies[1] == "Perdón Ana Ruiz, no hay lugar."
