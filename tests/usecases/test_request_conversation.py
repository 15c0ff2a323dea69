"""Asking for an appointment where only known patients book, through the real webhook
signed as Twilio signs: a new number leaves a request (name, service, the days that suit,
a comment), every step recovers from a bad answer, a second request replaces the first,
a known patient books as before, and a clinic with the setting off is unchanged."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, update
from sqlmodel import Session, col, select

from store.db import transaction
from store.models import (
    Appointment,
    AppointmentRequest,
    Clinic,
    Patient,
    RequestStatus,
    Service,
)
from tests.support import Chat, Clock, add_patient, catalog_ticks, make_app

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday
PHONE = "+595981222333"


def known_only(db: Engine, clinic_id: int, on: bool = True) -> None:
    with transaction(db) as session:
        session.execute(
            update(Clinic).where(col(Clinic.id) == clinic_id).values(only_known_patients=on)
        )


@pytest.fixture
def patient(db: Engine, clock: Clock, clinic) -> Chat:
    known_only(db, clinic.id)
    return Chat(make_app(db, clock).test_client(), db, phone=PHONE)


def requests_of(db: Engine) -> list[AppointmentRequest]:
    with Session(db) as session:
        return list(session.exec(select(AppointmentRequest).order_by(col(AppointmentRequest.id))))


def test_a_new_number_requests_an_appointment(patient: Chat, db: Engine, clinic):
    offer = patient.says("hola")
    assert "Clínica Test" in offer
    assert patient.asked("requests.offer") and patient.said[-1] == "requests.offer"
    assert "1. Consulta general" not in offer  # no booking for an unknown number

    patient.says("sí")
    assert patient.asked("booking.ask_name") and patient.said == ["booking.ask_name"]
    services = patient.says("Rosa Giménez")
    assert patient.asked("booking.ask_service")
    assert "1. Consulta general" in services and "2. Odontología" in services
    assert "Laboratorio" not in services  # staff-only, as in booking
    patient.says("2")
    assert patient.asked("requests.ask_when") and patient.said == ["requests.ask_when"]
    patient.says("lunes o miércoles a la mañana")
    assert patient.asked("requests.ask_comment") and patient.said == ["requests.ask_comment"]
    review = patient.says("saltar")
    assert patient.asked("requests.review")
    assert "👤 Rosa Giménez" in review and "🩺 Odontología" in review
    assert "📅 lunes o miércoles a la mañana" in review and "(sin comentario)" in review
    saved = patient.says("sí")
    assert patient.said == ["requests.saved"] and "Clínica Test" in saved

    [request] = requests_of(db)
    assert (request.clinic_id, request.phone, request.patient_name) == (
        clinic.id,
        PHONE,
        "Rosa Giménez",
    )
    assert request.service_id == clinic.services["dentistry"]
    assert (request.preferred, request.comment) == ("lunes o miércoles a la mañana", None)
    assert (request.status, request.language) == (RequestStatus.open, "es")
    assert request.created_at == NOW.astimezone(UTC)
    with Session(db) as session:  # nobody is named (known) until staff accept
        assert session.exec(select(Patient.name)).all() == [None]
        assert session.exec(select(Appointment)).all() == []
    patient.says("hola")
    assert patient.asked("requests.offer")  # still not a known patient


def test_a_comment_is_kept_and_a_second_request_replaces_the_first(patient: Chat, db: Engine):
    for answer in ("hola", "sí", "Rosa Giménez", "1", "cualquier día"):
        patient.says(answer)
    review = patient.says("Es por un control, tengo IPS")
    assert "💬 Es por un control, tengo IPS" in review
    patient.says("sí")
    assert patient.said == ["requests.saved"]
    for answer in ("menu", "sí", "Rosa Giménez", "2", "el viernes", "no"):
        patient.says(answer)
    patient.says("sí")
    assert patient.said == ["requests.replaced"]
    first, second = requests_of(db)
    assert (first.status, first.comment) == (
        RequestStatus.withdrawn,
        "Es por un control, tengo IPS",
    )
    assert (second.status, second.preferred, second.comment) == (
        RequestStatus.open,
        "el viernes",
        None,
    )


def test_every_request_step_recovers_from_a_bad_answer(patient: Chat, db: Engine):
    patient.says("hola")
    patient.says("quizás")
    assert patient.said == ["booking.not_understood", "requests.offer"]
    patient.says("sí")
    patient.says("12345")
    assert patient.said == ["booking.name_invalid", "booking.ask_name"]
    patient.says("Rosa Giménez")
    again = patient.says("7")
    assert patient.said == ["booking.not_understood", "booking.ask_service"]
    assert "1. Consulta general" in again
    patient.says("consulta general")  # by name, as in booking
    patient.says("x" * 301)
    assert patient.said == ["booking.not_understood", "requests.ask_when"]
    patient.says("martes de tarde")
    patient.says("y" * 1001)
    assert patient.said == ["booking.not_understood", "requests.ask_comment"]
    patient.says("no")
    patient.says("tal vez")
    assert patient.said == ["booking.not_understood", "requests.review"]
    patient.says("no")  # not as written: start the request over
    assert patient.said == ["booking.review_declined", "booking.ask_name"]
    assert patient.asked("booking.ask_name")
    assert requests_of(db) == []


def test_no_thanks_and_the_usual_commands(patient: Chat, db: Engine):
    patient.says("hola")
    patient.says("no")
    assert patient.said == ["requests.not_requested"]
    patient.says("menu")
    assert patient.asked("requests.offer") and patient.said[-1] == "requests.offer"
    patient.says("sí")
    patient.says("cancelar")
    assert patient.said == ["booking.cancelled"]
    patient.says("hola")
    english = patient.says("English")  # the question again, in the new language
    assert "Would you like to request an appointment? (yes / no)" in english
    assert "What is the patient's full name?" in patient.says("yes")
    assert requests_of(db) == []


def test_a_known_patient_still_books(patient: Chat, db: Engine, clinic):
    add_patient(db, clinic.id, PHONE, "María Pérez")
    greeting = patient.says("hola")
    assert patient.said == ["booking.greeting_known", "booking.ask_service"]
    assert "María Pérez" in greeting and "1. Consulta general" in greeting
    patient.says("1")
    patient.says("1")  # Dra. Ana Benítez
    patient.says("1")  # the first day with space
    who = patient.says("1")  # the first time
    assert patient.asked("booking.ask_who") and "1. María Pérez" in who
    patient.says("1")
    patient.says("sí")
    assert patient.said == ["booking.booked"]
    assert requests_of(db) == []


def test_with_the_setting_off_a_new_number_books_as_always(
    db: Engine, clock: Clock, clinic
) -> None:
    patient = Chat(make_app(db, clock).test_client(), db, phone=PHONE)
    reply = patient.says("hola")
    assert patient.said == ["booking.greeting", "booking.ask_service"]
    assert "1. Consulta general" in reply


def test_a_service_withdrawn_meanwhile_is_asked_again(db: Engine, clock: Clock, clinic):
    known_only(db, clinic.id)
    app = make_app(db, clock)
    ticks = catalog_ticks(app)
    patient = Chat(app.test_client(), db, phone=PHONE)
    for answer in ("hola", "sí", "Rosa Giménez", "2", "cualquier día"):
        patient.says(answer)
    patient.says("saltar")
    with transaction(db) as session:
        session.execute(
            update(Service)
            .where(col(Service.id) == clinic.services["dentistry"])
            .values(active=False)
        )
    ticks.advance(1)  # the bot reads the clinic's catalog version again
    gone = patient.says("sí")
    assert patient.said == ["requests.service_gone", "booking.ask_service"]
    assert "1. Consulta general" in gone
    assert "2. Odontología" not in gone
    assert requests_of(db) == []


def test_the_request_costs_one_insert_and_the_steps_before_it_none(patient: Chat, db: Engine):
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.lower().split()))

    for answer in ("hola", "sí", "Rosa Giménez", "1", "cualquier día"):
        patient.says(answer)
    event.listen(db, "before_cursor_execute", seen)
    try:
        patient.says("saltar")  # a step: nothing about requests is read or written
        steps = [s for s in statements if "appointment_request" in s]
        statements.clear()
        patient.says("sí")
    finally:
        event.remove(db, "before_cursor_execute", seen)
    assert steps == []
    touched = [s.split(" ")[0] for s in statements if "appointment_request" in s]
    assert touched == ["update", "insert"]  # withdraw an open one, then the one insert
