"""Check-in by WhatsApp through the real webhook: "llegué", "ya estoy acá", "I'm here",
"aguĩma" (and said inside a sentence) check in today's appointment and answer its queue
number and the people ahead; twice keeps the number; several today are asked about; none
today, or one on another day, is answered with what to do."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.db import transaction
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    AppointmentStatus,
    Branch,
    Clinic,
    Professional,
    QueueTicket,
)
from tests.notification_support import book_at
from tests.support import Chat, TestClinic
from usecases import waiting_room

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=ASU)  # a Tuesday
PHONE = "+595981222333"


def booked(
    db: Engine, clinic: TestClinic, start: datetime, phone: str = PHONE, **fields: object
) -> int:
    fields.setdefault("name", "Rosa Giménez")
    return book_at(db, clinic, start, NOW - timedelta(days=3), phone=phone, **fields)


def status(db: Engine, appointment_id: int) -> str:
    with Session(db) as session:
        found = session.get(Appointment, appointment_id)
        assert found
        return found.status


@pytest.mark.parametrize(
    ("said", "language", "answer"),
    [
        ("llegué", "es", "Tu número: *A-002*\n👥 Personas antes que vos: 1"),
        ("Ya estoy acá", "es", "Tu número: *A-002*"),
        ("hola, ya llegué para mi turno de las 9", "es", "Tu número: *A-002*"),
        ("I'm here", "en", "Your number: *A-002*\n👥 People ahead of you: 1"),
        ("hi, I have arrived", "en", "Your number: *A-002*"),
        ("aguĩma", "gn", "Nde número: *A-002*\n👥 Oha'arõva nde mboyve: 1"),
    ],
)
def test_arriving_by_whatsapp_answers_the_number_and_the_people_ahead(
    db: Engine, clinic: TestClinic, chat: Chat, said: str, language: str, answer: str
) -> None:
    other = Chat(chat.client, db, phone="+595981999888")
    booked(db, clinic, NOW, phone=other.phone, language="es")
    mine = booked(db, clinic, NOW + timedelta(minutes=30), language=language)
    assert "A-001" in other.says("llegué")
    if language != "es":  # a patient who has been writing in their language
        chat.says({"en": "English", "gn": "guaraní"}[language])

    reply = chat.says(said)

    assert answer in reply
    assert status(db, mine) == AppointmentStatus.arrived


def test_at_a_clinic_with_two_branches_the_answer_names_the_one_expected(
    db: Engine, clinic: TestClinic, chat: Chat
) -> None:
    """A patient who went to the other branch learns it from the answer."""
    with transaction(db) as session:
        centro = Branch(clinic_id=clinic.id, name="Centro", address="Palma 123")
        norte = Branch(clinic_id=clinic.id, name="Sede Norte", address="Mcal. López 4500")
        session.add_all([centro, norte])
        session.flush()
        luis = session.get(Professional, clinic.professionals["luis"])
        assert luis is not None
        luis.branch_id = norte.id
    booked(db, clinic, NOW, professional="luis")

    reply = chat.says("llegué")

    assert "*A-001*\n📍 Sede Norte — Mcal. López 4500\n👥" in reply
    assert "Centro" not in reply


def test_a_second_check_in_keeps_the_number(db: Engine, clinic: TestClinic, chat: Chat) -> None:
    booked(db, clinic, NOW + timedelta(minutes=30))
    assert "*A-001*" in chat.says("llegué")
    again = chat.says("ya estoy acá")
    assert "Ya estabas anotado/a" in again and "*A-001*" in again


def test_several_appointments_today_are_asked_about(
    db: Engine, clinic: TestClinic, chat: Chat
) -> None:
    first = booked(db, clinic, NOW + timedelta(minutes=30))
    second = booked(db, clinic, NOW + timedelta(hours=1), professional="luis", service="dentistry")
    assert "Tenés más de un turno hoy" in chat.says("llegué")
    assert "*B-001*" in chat.says("2")  # dentistry's queue
    assert status(db, second) == AppointmentStatus.arrived
    assert status(db, first) == AppointmentStatus.booked
    assert "*A-001*" in chat.says("llegué")  # the one left is checked in straight away


def test_an_appointment_on_another_day_says_when_it_is(
    db: Engine, clinic: TestClinic, chat: Chat
) -> None:
    tomorrow = booked(db, clinic, NOW + timedelta(days=1, minutes=30))
    reply = chat.says("llegué")
    assert "no hoy" in reply and "acercate a la recepción" in reply
    assert status(db, tomorrow) == AppointmentStatus.booked


def test_no_appointment_at_all_sends_the_patient_to_the_desk(chat: Chat) -> None:
    reply = chat.says("llegué")
    assert "No encuentro un turno tuyo para hoy" in reply
    assert "menú" not in reply.lower() or "recepción" in reply


def test_the_turn_messages_go_in_the_language_the_patient_has_now(
    db: Engine, clinic: TestClinic, chat: Chat
) -> None:
    booked(db, clinic, NOW + timedelta(minutes=30))  # no language stored yet
    assert "Tu número: *A-001*" in chat.says("llegué")
    chat.says("English")  # chosen after checking in
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found
        [queue] = [t.queue for t in session.exec(select(QueueTicket))]
        waiting_room.call_next(session, found, queue, "staff:ana", "Room 3", NOW)
    [your_turn] = [m for m in chat.messages() if m.kind == MessageKind.your_turn]
    assert your_turn.language == "en"
    assert your_turn.body == "🔔 A-001: it's your turn! Please go to Room 3."
