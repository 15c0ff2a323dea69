"""Questions a patient asks in the middle of anything — the price, where the clinic is, its
hours, the insurances it takes, what to bring — answered from the clinic's own facts through
the signed webhook; the question that was pending is asked again, and a fact the clinic
never gave is answered with the front desk, not a blank."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.render import render
from bot.types import Reply
from store.clinic_templates import set_text
from store.db import transaction
from store.models import Clinic, Service
from tests.support import Chat

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/Asuncion"))  # a Wednesday


def unknown() -> str:
    return render(Reply("faq.unknown"), "es")


@pytest.fixture
def patient(app, db: Engine) -> Chat:
    return Chat(app.test_client(), db)


def priced(db: Engine, clinic, **prices: str) -> None:
    with transaction(db) as s:
        for name, price in prices.items():
            service = s.get(Service, clinic.services[name])
            assert service is not None
            service.price = price


def insures(db: Engine, clinic, insurances: str | None) -> None:
    with transaction(db) as s:
        found = s.get(Clinic, clinic.id)
        assert found is not None
        found.insurances = insurances


def test_the_price_is_the_services_own(db: Engine, clinic, patient: Chat) -> None:
    priced(db, clinic, general="150.000 Gs", dentistry="200.000 Gs")
    reply = patient.says("Hola buenas, cuanto sale la consulta?")
    assert patient.said == ["faq.price"]
    assert "• Consulta general: 150.000 Gs" in reply
    assert "• Odontología: 200.000 Gs" in reply
    assert "Laboratorio" not in reply  # only what patients may book themselves


def test_no_price_given_sends_the_patient_to_the_front_desk(patient: Chat) -> None:
    reply = patient.says("cuánto cuesta?")
    assert reply == unknown()
    assert "💲" not in reply


def test_a_question_mid_booking_is_answered_and_the_booking_goes_on(patient: Chat) -> None:
    patient.says("hola")
    patient.says("1")
    patient.says("1")
    assert patient.asked("booking.ask_day")
    reply = patient.says("perdón, ¿dónde queda la clínica?")
    assert patient.said == ["faq.address", "booking.ask_day"]
    assert "Av. España 100" in reply
    assert patient.asked("booking.ask_day")  # nothing dropped
    patient.says("1")
    assert patient.asked("booking.ask_time")


def test_opening_hours_come_from_the_professionals_weeks(patient: Chat) -> None:
    # Ana works Mon–Fri 8–12 and 14–18, Luis Mon–Sat 9–13 (tests.support.make_clinic)
    reply = patient.says("a que hora abren los sabados?")
    assert patient.said == ["faq.opening_hours"]
    assert "• lunes a viernes: 08:00–13:00, 14:00–18:00" in reply
    assert "• sábado: 09:00–13:00" in reply
    assert "domingo" not in reply


def test_opening_hours_in_guarani_use_cldrs_weekday_names(patient: Chat) -> None:
    patient.says("mba'éichapa")  # a Guarani greeting: the chat goes on in Guarani
    reply = patient.says("mba'e orape peñepyrũ?")
    assert patient.said[0] == "faq.opening_hours"
    # CLDR (gn): Arakõi is Monday, Arapoteĩ Friday, Arapokõi Saturday
    assert "• Arakõi guive Arapoteĩ peve: 08:00–13:00, 14:00–18:00" in reply
    assert "• Arapokõi: 09:00–13:00" in reply


def test_insurances_as_the_clinic_wrote_them(db: Engine, clinic, patient: Chat) -> None:
    insures(db, clinic, "IPS, Asismed, Santa Clara")
    reply = patient.says("¿Qué seguros aceptan?")
    assert "IPS, Asismed, Santa Clara" in reply


def test_insurances_never_given_send_the_patient_to_the_front_desk(patient: Chat) -> None:
    assert patient.says("trabajan con IPS?") == unknown()


def test_the_clinics_own_answer_wins_even_without_the_fact(
    db: Engine, clinic, patient: Chat
) -> None:
    own = "Atendemos IPS y todas las prepagas."
    with transaction(db) as s:
        set_text(s, clinic.id, "es", "faq.insurances", own, "admin", datetime.now(UTC))
    assert patient.says("aceptan mi seguro medico?") == own


def test_what_to_bring_in_english(patient: Chat) -> None:
    patient.says("hello")
    reply = patient.says("What should I bring to the appointment?")
    assert patient.said[0] == "faq.what_to_bring"
    assert "ID" in reply


def test_a_name_with_a_question_word_is_still_a_name(patient: Chat) -> None:
    """While the patient types their name, only a call for a person interrupts."""
    patient.says("hola")
    for answer in ("1", "1", "1", "1"):
        patient.says(answer)
    assert patient.asked("booking.ask_name")
    patient.says("Rosa Direccion")
    assert not patient.asked("booking.ask_name")


def test_a_question_and_an_answer_in_one_message_get_both(patient: Chat) -> None:
    patient.says("hola")
    patient.says("1")
    patient.says("1")
    assert patient.asked("booking.ask_day")
    patient.says("el lunes a la mañana, si atienden")
    assert patient.said[0] == "faq.opening_hours"
    assert patient.asked("booking.ask_time")  # Monday was taken, not asked again
    assert patient.draft()["day"] == "2026-11-30"
