"""The booking conversation through the real webhook, signed as Twilio signs."""

import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from store.models import Conversation, InboundMessage, OutboxMessage, Patient
from tests.support import (
    Chat,
    Clock,
    add_patient,
    appointments,
    block_off,
)

ASU = ZoneInfo("America/Asuncion")
# Wednesday 25 November 2026, 09:00 in Asunción (UTC−3)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)


def test_a_new_patient_books_from_hola_to_confirmation(chat: Chat, db: Engine):
    reply = chat.says("hola")
    assert chat.asked("booking.ask_service")
    assert "Clínica Test" in reply
    assert "1. Consulta general" in reply and "2. Odontología" in reply
    assert "Laboratorio" not in reply  # staff-only service

    reply = chat.says("1")
    assert chat.asked("booking.ask_professional")
    assert "Dra. Ana Benítez" in reply and "Primero disponible" in reply

    reply = chat.says("ana benitez")  # by name, no accent, lower case
    assert chat.asked("booking.ask_day")
    assert "miércoles 25 de noviembre" in reply  # today still has space after 10:00

    reply = chat.says("mañana")
    assert chat.asked("booking.ask_time")
    assert "jueves 26 de noviembre" in reply
    assert "08:00" in reply and "17:30" in reply

    reply = chat.says("10:30")
    assert chat.asked("booking.ask_name") and chat.said == ["booking.ask_name"]
    chat.says("Juana Pérez")
    assert chat.asked("booking.ask_dni") and chat.said == ["booking.ask_dni"]
    chat.says("4.123.456")
    assert chat.asked("booking.ask_insurance") and chat.said == ["booking.ask_insurance"]
    reply = chat.says("saltar")
    assert chat.asked("booking.review") and reply == chat.last
    assert "Juana Pérez" in reply and "10:30" in reply and "Dra. Ana Benítez" in reply

    reply = chat.says("sí")
    assert chat.said == ["booking.booked"]
    booked = appointments(db)
    assert len(booked) == 1
    appointment = booked[0]
    assert appointment.starts_at == datetime(2026, 11, 26, 10, 30, tzinfo=ASU)
    assert appointment.new_patient and appointment.source_channel == "whatsapp"
    assert appointment.code in reply and "10:30" in reply
    confirmation = chat.messages()[-1]
    assert confirmation.kind == "booking_confirmation"
    assert confirmation.appointment_id == appointment.id
    with Session(db) as s:
        juana = s.exec(select(Patient).where(Patient.phone == chat.phone)).one()
        assert (juana.name, juana.dni, juana.insurance) == ("Juana Pérez", "4.123.456", None)


def test_first_available_takes_whoever_is_free(chat: Chat, db: Engine, clinic):
    chat.says("hola")
    chat.says("1")
    chat.says("primero disponible")
    reply = chat.says("mañana")
    assert "08:00" in reply  # Ana starts at 8, Luis at 9
    chat.says("1")
    chat.says("Pedro Gómez")
    chat.says("saltar")
    chat.says("saltar")
    chat.says("si")
    [appointment] = appointments(db)
    assert appointment.professional_id == clinic.professionals["ana"]
    assert appointment.starts_at == datetime(2026, 11, 26, 8, 0, tzinfo=ASU)


def test_a_known_patient_is_greeted_and_skips_details(chat: Chat, db, clinic):
    known = add_patient(db, clinic.id, chat.phone, "Rosa Giménez", dni="1234567")
    reply = chat.says("hola")
    assert chat.said[0] == "booking.greeting_known" and "Rosa Giménez" in reply
    chat.says("2")  # dentistry: only Dr. Ortiz
    chat.says("1")
    chat.says("viernes")
    reply = chat.says("1")
    assert chat.asked("booking.ask_who")
    assert "Rosa Giménez" in reply and "Otra persona" in reply
    chat.says("1")
    assert chat.asked("booking.review")  # no name, document or insurance asked
    chat.says("si")
    [appointment] = appointments(db)
    assert appointment.patient_id == known and appointment.new_patient is not None


def test_a_shared_phone_books_for_someone_else(chat: Chat, db, clinic):
    mother = add_patient(db, clinic.id, chat.phone, "Laura Sosa")
    chat.says("hola")
    chat.says("1")
    chat.says("3")
    chat.says("1")
    chat.says("1")
    chat.says("otra persona")
    assert chat.asked("booking.ask_name") and chat.said == ["booking.ask_name"]
    chat.says("Tomás Sosa")
    chat.says("saltar")
    chat.says("saltar")
    chat.says("si")
    [appointment] = appointments(db)
    assert appointment.patient_id != mother
    with Session(db) as s:
        names = sorted(p.name or "" for p in s.exec(select(Patient)))
    assert names == ["Laura Sosa", "Tomás Sosa"]


@pytest.mark.parametrize(
    ("state_inputs", "bad"),
    [
        ([], "7"),  # service: out of range
        (["1"], "cardiólogo"),  # professional: nobody of that name
        (["1", "1"], "banana"),  # day: not a date
        (["1", "1", "1"], "23:15"),  # time: not offered
        (["1", "1", "1", "1"], "1234"),  # name: digits
        (["1", "1", "1", "1", "Ana Paz", "-", "-"], "quizás"),  # review: not yes/no
    ],
)
def test_every_step_answers_bad_input_and_goes_on(chat: Chat, state_inputs, bad):
    chat.says("hola")
    for answer in state_inputs:
        chat.says(answer)
    before = chat.says("ayuda")
    question = chat.said[-1]
    reply = chat.says(bad)
    assert reply  # something helpful, never silence
    why = {"booking.not_understood", "booking.time_unavailable", "booking.name_invalid"}
    assert len(chat.said) == 2 and chat.said[0] in why
    # the same question is asked again, so the conversation goes on
    assert chat.said[-1] == question and chat.asked(question)
    assert before.split("\n\n")[-1] in reply


def test_emoji_only_and_a_huge_message_get_an_answer(chat: Chat):
    chat.says("hola")
    chat.says("👍🏽🙏")
    assert chat.said == ["booking.not_understood", "booking.ask_service"]
    chat.says("x" * 2000)
    assert chat.said == ["booking.not_understood", "booking.ask_service"]
    assert "Dra. Ana Benítez" in chat.says("1" + " " * 2500)  # read by its start
    assert chat.asked("booking.ask_professional")


def test_a_nul_character_is_dropped_and_the_message_kept(chat: Chat, db):
    """PostgreSQL's text refuses NUL; the message is kept (and answered) without it."""
    chat.says("hola")
    assert "Dra. Ana Benítez" in chat.says("1\x00")
    assert chat.asked("booking.ask_professional")
    assert chat.last_response is not None and chat.last_response.status_code == 200
    with Session(db) as s:
        bodies = s.exec(select(InboundMessage.body).order_by(InboundMessage.id)).all()
    assert bodies == ["hola", "1"]


def test_a_voice_note_is_answered_with_text(chat: Chat, db):
    chat.says("hola")
    reply = chat.sends_voice_note()
    assert chat.said == ["booking.media_unsupported", "booking.ask_service"]
    assert "Consulta general" in reply  # and the question again
    with Session(db) as s:
        assert s.exec(select(InboundMessage).where(InboundMessage.num_media == 1)).one()


def test_back_menu_help_cancel(chat: Chat, db):
    chat.says("hola")
    chat.says("1")
    chat.says("atrás")
    assert chat.asked("booking.ask_service") and chat.said == ["booking.ask_service"]
    chat.says("2")
    reply = chat.says("ayuda")
    assert chat.said == ["booking.help", "booking.ask_professional"]
    assert "Luis Ortiz" in reply  # the question again, for dentistry
    chat.says("menu")
    assert chat.asked("booking.ask_service") and chat.said == ["booking.ask_service"]
    chat.says("1")
    chat.says("cancelar")
    assert chat.said == ["booking.cancelled"]
    chat.says("hola")
    assert chat.asked("booking.ask_service") and chat.said[-1] == "booking.ask_service"
    assert appointments(db) == []


def test_human_pauses_the_bot_and_flags_the_conversation(chat: Chat, db):
    chat.says("hola")
    chat.says("humano")
    assert chat.said == ["booking.human"]
    assert chat.says("¿hay alguien?") == ""  # the bot stays quiet; staff will answer
    with Session(db) as s:
        conversation = s.exec(select(Conversation)).one()
        assert conversation.needs_staff
        assert all(p.bot_paused for p in s.exec(select(Patient)))
        kept = s.exec(select(InboundMessage).where(InboundMessage.body == "¿hay alguien?")).one()
        assert not kept.handled_by_bot


def test_a_repeated_message_sid_is_handled_once(chat: Chat, db):
    form = chat.form("hola")
    assert chat.post(form).status_code == 200
    assert chat.post(form).status_code == 200
    assert len(chat.messages()) == 1
    with Session(db) as s:
        assert len(s.exec(select(InboundMessage)).all()) == 1


def test_a_bad_signature_is_refused(chat: Chat, db):
    assert chat.post(chat.form("hola"), signature="bogus").status_code == 403
    assert chat.post(chat.form("hola"), signature="").status_code == 403
    tampered = chat.form("hola")
    signature = chat.post(tampered).request.headers["X-Twilio-Signature"]
    tampered["Body"] = "chau"
    tampered["MessageSid"] = "SM" + "f" * 32
    assert chat.post(tampered, signature=signature).status_code == 403


def test_an_unknown_clinic_number_gets_a_clear_answer(chat: Chat, db):
    chat.clinic_number = "+595991999999"
    response = chat.post(chat.form("hola"))
    assert response.status_code == 200
    assert "<Message>" in response.get_data(as_text=True)
    with Session(db) as s:
        assert s.exec(select(InboundMessage)).one().clinic_id is None
        assert s.exec(select(OutboxMessage)).all() == []


def test_missing_fields_are_a_400(chat: Chat):
    form = chat.form("hola")
    del form["From"]
    assert chat.post(form).status_code == 400


def test_a_holiday_is_said_closed_and_offers_the_nearest_days(chat: Chat, db, clinic):
    friday = datetime(2026, 11, 27, tzinfo=ASU)
    block_off(db, clinic.id, friday, friday + timedelta(days=1))  # the whole clinic
    chat.says("hola")
    chat.says("1")
    chat.says("primero disponible")
    reply = chat.says("el viernes")
    assert chat.said == ["booking.day_closed"]  # the nearest days, and no waitlist
    assert "viernes 27 de noviembre" in reply and "sábado 28 de noviembre" in reply
    assert "lista de espera" not in reply
    reply = chat.says("1")  # the first nearest day
    assert chat.asked("booking.ask_time") and "sábado 28 de noviembre" in reply


def test_past_dates_and_far_dates_are_explained(chat: Chat):
    chat.says("hola")
    chat.says("1")
    chat.says("1")
    chat.says("20/11")
    assert chat.said == ["booking.date_past", "booking.ask_day"]
    assert "30 días" in chat.says("15/03")  # the clinic's horizon
    assert chat.said == ["booking.date_beyond_horizon", "booking.ask_day"]


def test_an_idle_conversation_starts_over(chat: Chat, clock: Clock):
    chat.says("hola")
    chat.says("1")
    clock.advance(hours=2)
    chat.says("2")
    assert chat.said == ["booking.timed_out", "booking.ask_service"]
    assert chat.asked("booking.ask_service")


def test_the_loser_of_a_race_hears_the_time_was_taken(app, db, clinic):
    first = Chat(app.test_client(), db, phone="+595981000111")
    second = Chat(app.test_client(), db, phone="+595981000222")
    for who, name in [(first, "Ana Uno"), (second, "Ana Dos")]:
        for answer in ["hola", "1", "1", "mañana", "10:30", name, "-", "-"]:
            who.says(answer)
    first.says("si")
    reply = second.says("si")
    assert second.said == ["booking.slot_taken", "booking.ask_time"]
    assert ". 10:30\n" not in reply and ". 11:00\n" in reply
    assert len(appointments(db)) == 1


def test_two_messages_at_once_advance_the_conversation_one_after_the_other(app, on_postgres):
    first = Chat(app.test_client(), on_postgres)
    first.says("hola")
    barrier = threading.Barrier(2)

    def send(text: str) -> None:
        writer = Chat(app.test_client(), on_postgres, phone=first.phone)
        barrier.wait()
        assert writer.post(writer.form(text)).status_code == 200

    threads = [threading.Thread(target=send, args=(text,)) for text in ("1", "2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(on_postgres) as s:
        state = json.loads(s.exec(select(Conversation)).one().state)
    # one message chose the service, the other (after it) a professional
    assert state["state"] == "day"
    assert len(first.messages()) == 3


def test_a_message_of_the_phone_written_meanwhile_is_built_on_not_overwritten(app, db):
    """A message is decided on the conversation as committed, then written on condition
    that it still stands so; when another message of the phone lands in between, the
    first is decided again on top of it. Here the other message lands right after the
    first one has read its conversation."""
    first = Chat(app.test_client(), db)
    first.says("hola")
    other = Chat(app.test_client(), db, phone=first.phone)
    landed: list[int] = []

    def meanwhile(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if landed or "from conversation c" not in statement.lower():
            return
        landed.append(0)
        landed[0] = other.post(other.form("1")).status_code

    event.listen(db, "after_cursor_execute", meanwhile)
    try:
        first.says("2")
    finally:
        event.remove(db, "after_cursor_execute", meanwhile)
    assert landed == [200]
    with Session(db) as s:
        state = json.loads(s.exec(select(Conversation)).one().state)
    # "1" chose the service; "2", decided again after it, a professional
    assert state["state"] == "day"
    assert len(first.messages()) == 3


def test_a_numbered_time_taken_since_it_was_offered_is_said_so_with_fresh_times(app, db, clinic):
    first = Chat(app.test_client(), db, phone="+595981000111")
    second = Chat(app.test_client(), db, phone="+595981000222")
    for answer in ["hola", "1", "1"]:
        first.says(answer)
    assert "\n1. 08:00\n" in first.says("mañana")
    for answer in ["hola", "1", "1", "mañana", "08:00", "Ana Dos", "-", "-", "si"]:
        second.says(answer)
    assert len(appointments(db)) == 1

    reply = first.says("1")
    assert first.said == ["booking.slot_taken", "booking.ask_time"]
    assert ". 08:00\n" not in reply and "\n1. 08:30\n" in reply
    first.says("1")
    assert first.asked("booking.ask_name") and first.said == ["booking.ask_name"]


def test_the_loser_of_a_race_is_offered_only_times_read_after_it_lost(app, on_postgres, clinic):
    """Two patients confirm 10:30 at once; the winner commits after the loser has checked
    the time and before its booking is tried. The times offered with "just taken" are
    read after the loss: 10:30 is not among them."""
    winner = Chat(app.test_client(), on_postgres, phone="+595981000111")
    loser = Chat(app.test_client(), on_postgres, phone="+595981000222")
    for who, name in [(winner, "Ana Uno"), (loser, "Ana Dos")]:
        for answer in ["hola", "1", "1", "mañana", "10:30", name, "-", "-"]:
            who.says(answer)
    won: list[int] = []

    def winner_first(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if won or not statement.lower().startswith("insert into appointment "):
            return
        won.append(0)
        won[0] = winner.post(winner.form("sí")).status_code

    event.listen(on_postgres, "before_cursor_execute", winner_first)
    try:
        reply = loser.says("sí")
    finally:
        event.remove(on_postgres, "before_cursor_execute", winner_first)
    assert won == [200]
    assert len(appointments(on_postgres)) == 1
    assert "se acaba de ocupar" in reply
    assert ". 10:30\n" not in reply and ". 11:00\n" in reply


def test_patients_confirming_one_time_at_once_never_see_it_offered_again(app, db, clinic):
    """Threads confirm 10:30, 11:00 and 11:30 in pairs at once: one of each pair books it;
    the other hears it was taken and is offered only times still free."""
    pairs = {
        "10:30": ("+595981000111", "+595981000222"),
        "11:00": ("+595981000333", "+595981000444"),
        "11:30": ("+595981000555", "+595981000666"),
    }
    chats: dict[str, tuple[str, Chat]] = {}
    for wanted, phones in pairs.items():
        for phone in phones:
            chats[phone] = (wanted, Chat(app.test_client(), db, phone=phone))
            for answer in ["hola", "1", "1", "mañana", wanted, "Ana", "-", "-"]:
                chats[phone][1].says(answer)
    barrier = threading.Barrier(len(chats))
    replies: dict[str, str] = {}

    def confirm(phone: str) -> None:
        barrier.wait()
        replies[phone] = chats[phone][1].says("sí")

    threads = [threading.Thread(target=confirm, args=(phone,)) for phone in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(appointments(db)) == len(pairs)
    losers = {phone: r for phone, r in replies.items() if "se acaba de ocupar" in r}
    assert len(losers) == len(pairs)
    for phone, reply in losers.items():
        assert f". {chats[phone][0]}\n" not in reply, reply
