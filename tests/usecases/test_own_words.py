"""Patients who say what they want in a sentence of their own, not a menu's word: cancel or
change their appointment, a person, another language, a goodbye — through the real webhook,
and never a claim that something was cancelled when it was not."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.appointments import Actor, booked
from store.booking import book
from store.db import transaction
from store.models import Appointment, Clinic, Conversation, Patient, Service
from tests.support import Chat, add_patient

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday


@pytest.fixture
def patient(app, db: Engine) -> Chat:
    return Chat(app.test_client(), db)


def booked_for(db: Engine, clinic, phone: str, when: datetime, professional: str = "ana") -> int:
    """An appointment made for the patient on `phone`; its id."""
    patient_id = add_patient(db, clinic.id, phone, "Juana Pérez")
    with transaction(db) as s:
        appointment = book(
            s,
            clinic_id=clinic.id,
            patient=s.get(Patient, patient_id),
            service=s.get(Service, clinic.services["general"]),
            professional_id=clinic.professionals[professional],
            starts_at=when.astimezone(UTC),
            source_channel="whatsapp",
            now=NOW.astimezone(UTC),
        )
        booked(s, s.get(Clinic, clinic.id), appointment, Actor("patient", "whatsapp"), NOW)
        s.flush()
        assert appointment.id is not None
        return appointment.id


def status(db: Engine, appointment_id: int) -> str:
    with Session(db) as s:
        found = s.get(Appointment, appointment_id)
        assert found is not None
        return found.status


@pytest.mark.parametrize(
    "sentence",
    [
        "hola, quiero cancelar mi turno",
        "Buenas tardes, necesito cancelar el turno del jueves por favor",
        "quiero cancelr mi turno",  # a typo
        "no voy a poder ir mañana, disculpen",
        "I'm sorry, I can't make it",
        "ndaikatúi aha ko'ẽrõ",
    ],
)
def test_cancelling_in_their_own_words_asks_first_then_cancels(
    db: Engine, clinic, patient: Chat, sentence: str
) -> None:
    appointment = booked_for(db, clinic, patient.phone, NOW + timedelta(days=1, hours=1))
    patient.says(sentence)
    assert patient.asked("manage.ask_cancel")
    assert status(db, appointment) == "booked"  # nothing happens before "yes"
    patient.says("sí" if "I" not in sentence else "yes")
    assert status(db, appointment) == "cancelled"


def test_cancel_with_nothing_booked_says_so_and_claims_nothing(patient: Chat) -> None:
    reply = patient.says("quiero cancelar mi turno")
    assert patient.said == ["manage.nothing_to_cancel"]
    assert "cancelé" not in reply and "sin hacer" not in reply


def test_cancelar_after_booking_is_about_the_appointment_not_a_booking_in_progress(
    db: Engine, clinic, patient: Chat
) -> None:
    appointment = booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    patient.says("cancelar")
    assert patient.asked("manage.ask_cancel")
    patient.says("no")
    assert patient.said == ["manage.kept"]
    assert status(db, appointment) == "booked"


def test_cancelar_mid_booking_says_exactly_what_it_stopped(db: Engine, patient: Chat) -> None:
    patient.says("hola")
    assert patient.asked("booking.ask_service")
    reply = patient.says("cancelar")
    assert patient.said == ["booking.cancelled"]
    assert "no se reservó ningún turno" in reply


def test_chau_is_a_goodbye_that_cancels_nothing(db: Engine, clinic, patient: Chat) -> None:
    appointment = booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    patient.says("chau")
    assert patient.said == ["booking.goodbye"]
    assert status(db, appointment) == "booked"


def test_chau_mid_booking_keeps_the_question_for_when_they_come_back(patient: Chat) -> None:
    patient.says("hola")
    patient.says("1")
    assert patient.asked("booking.ask_professional")
    patient.says("bueno chau")
    assert patient.said == ["booking.goodbye_unfinished"]
    assert patient.asked("booking.ask_professional")  # nothing dropped
    patient.says("1")
    assert patient.asked("booking.ask_day")


def test_changing_the_appointment_in_a_sentence_asks_for_the_new_day(
    db: Engine, clinic, patient: Chat
) -> None:
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    patient.says("no quiero cancelar mi turno, quiero cambiar mi turno para otro día")
    assert patient.asked("manage.ask_move_day")


def test_a_negated_cancel_never_cancels(db: Engine, clinic, patient: Chat) -> None:
    appointment = booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    patient.says("no quiero cancelar mi turno")
    assert not patient.asked("manage.ask_cancel")
    assert status(db, appointment) == "booked"


def test_with_several_appointments_it_asks_which(db: Engine, clinic, patient: Chat) -> None:
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=3), professional="luis")
    patient.says("quiero cancelar mi turno")
    assert patient.asked("manage.ask_appointment")
    patient.says("2")
    assert patient.asked("manage.ask_cancel")  # what they wanted, not "what do you want?"


def test_with_several_it_asks_which_then_for_the_new_day(db: Engine, clinic, patient: Chat) -> None:
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=3), professional="luis")
    patient.says("hola, necesito cambiar mi turno")
    assert patient.asked("manage.ask_appointment")
    patient.says("2")
    assert patient.asked("manage.ask_move_day")


@pytest.mark.parametrize(
    "sentence",
    ["hola, necesito cambiar mi turno con el dr ortiz", "quiero cambiar el turno del sábado"],
)
def test_with_several_the_one_the_sentence_names_is_taken(
    db: Engine, clinic, patient: Chat, sentence: str
) -> None:
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))  # Friday, Dra. Benítez
    luis = booked_for(db, clinic, patient.phone, NOW + timedelta(days=3), professional="luis")
    patient.says(sentence)
    assert patient.asked("manage.ask_move_day")
    assert patient.draft()["appointment"] == luis


@pytest.mark.parametrize(
    "sentence",
    [
        "quiero hablar con una persona",
        "hola, me pasas con alguien? necesito hablar con alguien de la clinica",
        "can I talk to a person please",
        "añe'ẽse peteĩ tapicha ndive",
    ],
)
def test_asking_for_a_person_in_a_sentence_pauses_the_bot(
    db: Engine, patient: Chat, sentence: str
) -> None:
    patient.says(sentence)
    assert patient.said == ["booking.human"]
    with Session(db) as s:
        conversation = s.exec(select(Conversation).where(Conversation.phone == patient.phone))
        assert conversation.one().needs_staff


def test_a_name_is_a_name_but_a_person_is_heard_even_there(patient: Chat) -> None:
    for answer in ("hola", "1", "1", "1", "1"):
        patient.says(answer)
    assert patient.asked("booking.ask_name")
    patient.says("prefiero hablar con una persona")
    assert patient.said == ["booking.human"]


def test_a_name_that_sounds_like_a_wish_is_taken_as_the_name(patient: Chat) -> None:
    for answer in ("hola", "1", "1", "1", "1"):
        patient.says(answer)
    patient.says("Mario Chau")  # not a goodbye: the question asked for a name
    assert not patient.asked("booking.ask_name")
    assert "booking.goodbye_unfinished" not in patient.said


def test_english_please_switches_the_language(patient: Chat) -> None:
    patient.says("hola")
    reply = patient.says("English please")
    assert patient.said[0] == "booking.language_changed"
    assert "service" in reply.lower()


def test_a_greeting_with_a_question_mark_is_a_greeting(patient: Chat) -> None:
    patient.says("hola?")
    assert patient.said[0] == "booking.greeting"
    assert patient.asked("booking.ask_service")


def test_my_appointments_name_the_professional(db: Engine, clinic, patient: Chat) -> None:
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=3), professional="luis")
    reply = patient.says("¿cuándo es mi turno?")
    assert patient.asked("manage.ask_appointment")
    assert "Dra. Ana Benítez" in reply and "Dr. Luis Ortiz" in reply


def test_what_time_was_my_appointment(db: Engine, clinic, patient: Chat) -> None:
    booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    reply = patient.says("Buenas, mi turno a qué hora era? no me acuerdo 🙈")
    assert patient.asked("manage.ask_appointment")
    assert "Dra. Ana Benítez" in reply


@pytest.mark.parametrize("thanks", ["gracias", "muchas gracias, muy amables!", "aguyjevete"])
def test_thanks_after_booking_is_answered_and_changes_nothing(
    db: Engine, clinic, patient: Chat, thanks: str
) -> None:
    appointment = booked_for(db, clinic, patient.phone, NOW + timedelta(days=2))
    patient.says(thanks)
    assert patient.said == ["booking.you_are_welcome"]
    assert status(db, appointment) == "booked"


def test_yes_thanks_at_the_review_books(db: Engine, patient: Chat) -> None:
    for answer in ("hola", "1", "1", "1", "1", "Juana Pérez", "saltar", "saltar"):
        patient.says(answer)
    assert patient.asked("booking.review")
    patient.says("sí, gracias")  # a yes with good manners, not a thanks to answer
    assert "booking.you_are_welcome" not in patient.said
    assert patient.said == ["booking.booked"]


def test_a_booking_request_ending_in_thanks_starts_the_booking(patient: Chat) -> None:
    patient.says("Buen día, quisiera un turno de odontología para el sábado, gracias")
    assert patient.said[0] == "booking.greeting"
    assert patient.asked("booking.ask_professional")  # the service was said


def test_stop_messages_in_a_sentence_opts_out(db: Engine, clinic, patient: Chat) -> None:
    add_patient(db, clinic.id, patient.phone, "Juana Pérez")
    patient.says("por favor dejen de mandarme mensajes, gracias")
    with Session(db) as s:
        assert s.exec(select(Patient).where(Patient.phone == patient.phone)).one().opted_out


def test_no_insurance_thanks_is_no_insurance(patient: Chat) -> None:
    for answer in ("hola", "1", "1", "1", "1", "Juana Pérez", "saltar"):
        patient.says(answer)
    assert patient.asked("booking.ask_insurance")
    patient.says("no tengo, gracias")
    assert patient.draft()["insurance"] is None
    assert patient.asked("booking.review")


@pytest.mark.parametrize("sentence", ["hola, confirmo mi turno de mañana", "I'll be there, thanks"])
def test_confirming_in_a_sentence_confirms(
    db: Engine, clinic, patient: Chat, sentence: str
) -> None:
    appointment = booked_for(db, clinic, patient.phone, NOW + timedelta(days=1, hours=1))
    patient.says(sentence)
    assert patient.said == ["manage.confirmed"]
    assert status(db, appointment) == "confirmed"


def test_confirming_with_nothing_booked_says_so(patient: Chat) -> None:
    patient.says("quiero confirmar mi turno")
    assert patient.said == ["manage.nothing_to_confirm"]
