"""A phone's first message, through the real webhook: its conversation starts, the phone
becomes a patient without a name in the language it wrote in, the message is kept and
answered; in one short transaction, and never twice for two first messages at once."""

import json
import threading

from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from store.models import Conversation, InboundMessage, Patient
from tests.support import Chat, add_patient


def statements_while(db: Engine, chat: Chat, text: str) -> list[str]:
    """The SQL statements run while `chat` writes `text`."""
    seen: list[str] = []

    def keep(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(db, "before_cursor_execute", keep)
    try:
        chat.says(text)
    finally:
        event.remove(db, "before_cursor_execute", keep)
    return seen


def people_on(db: Engine, phone: str) -> list[Patient]:
    with Session(db) as s:
        return list(s.exec(select(Patient).where(Patient.phone == phone)).all())


def test_a_first_message_starts_the_conversation_without_the_full_path(chat: Chat, db: Engine):
    ran = statements_while(db, chat, "Hello, I'd like an appointment")
    assert chat.asked("booking.ask_service") and "Which service" in chat.last
    # the full path locks the conversation and reads the people on the phone apart
    assert not any(s.startswith("SELECT id, state, needs_staff") for s in ran), ran
    [person] = people_on(db, chat.phone)
    assert person.name is None and person.language == "en" and person.first_seen_at
    with Session(db) as s:
        conversation = s.exec(select(Conversation)).one()
        assert json.loads(conversation.state)["state"] == "service"
        assert conversation.last_inbound_at is not None and not conversation.needs_staff
        [kept] = s.exec(select(InboundMessage)).all()
        assert kept.handled_by_bot and kept.body == "Hello, I'd like an appointment"
    assert len(chat.messages()) == 1
    chat.says("1")  # the conversation goes on from there
    assert chat.asked("booking.ask_professional") and "First available" in chat.last


def test_a_first_message_in_guarani_keeps_its_language(chat: Chat, db: Engine):
    chat.says("Mba'éichapa")
    [person] = people_on(db, chat.phone)
    assert person.language == "gn"


def test_a_patient_staff_registered_is_greeted_by_name_and_not_made_twice(
    chat: Chat, db: Engine, clinic
):
    add_patient(db, clinic.id, chat.phone, "Rosa Giménez")  # no conversation yet
    reply = chat.says("hola")
    assert chat.said[0] == "booking.greeting_known" and "Rosa Giménez" in reply
    assert [p.name for p in people_on(db, chat.phone)] == ["Rosa Giménez"]


def test_a_repeated_first_message_is_kept_and_answered_once(chat: Chat, db: Engine):
    form = chat.form("hola")
    assert chat.post(form).status_code == 200
    assert chat.post(form).status_code == 200
    assert len(chat.messages()) == 1 and len(people_on(db, chat.phone)) == 1
    with Session(db) as s:
        assert len(s.exec(select(Conversation)).all()) == 1


def test_two_first_messages_at_once_start_one_conversation(app, on_postgres: Engine):
    """Both are kept and answered, one after the other; the phone is one patient."""
    phone = "+595981444555"
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def send(text: str) -> None:
        writer = Chat(app.test_client(), on_postgres, phone=phone)
        barrier.wait()
        codes.append(writer.post(writer.form(text)).status_code)

    threads = [threading.Thread(target=send, args=(text,)) for text in ("hola", "buenas")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200, 200]
    assert len(people_on(on_postgres, phone)) == 1
    with Session(on_postgres) as s:
        [conversation] = s.exec(select(Conversation)).all()
        kept = s.exec(select(InboundMessage).where(col(InboundMessage.handled_by_bot))).all()
    assert len(kept) == 2
    assert json.loads(conversation.state)["state"] == "service"
    assert len(Chat(app.test_client(), on_postgres, phone=phone).messages()) == 2


def test_on_postgresql_a_first_message_is_kept_in_one_statement(chat: Chat, on_postgres: Engine):
    """Each statement is a round trip there: the phone's start is written in one."""
    ran = statements_while(on_postgres, chat, "hola")
    writes = [s for s in ran if not s.startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith("WITH started AS"), writes
    [person] = people_on(on_postgres, chat.phone)
    assert person.name is None and person.language == "es"
    assert chat.asked("booking.ask_service") and len(chat.messages()) == 1


def test_a_first_message_kept_already_starts_nothing(chat: Chat, db: Engine, clinic):
    """A message kept before (for staff, when the bot failed on it) is not answered again,
    and its phone's start is undone whole: no conversation, no patient."""
    form = chat.form("hola")
    with Session(db) as s:
        s.add(
            InboundMessage(
                message_sid=form["MessageSid"],
                clinic_id=clinic.id,
                from_phone=chat.phone,
                to_phone=form["To"].removeprefix("whatsapp:"),
                body="hola",
                fields="{}",
                handled_by_bot=False,
            )
        )
        s.commit()
    assert chat.post(form).status_code == 200
    assert chat.messages() == [] and people_on(db, chat.phone) == []
    with Session(db) as s:
        assert s.exec(select(Conversation)).all() == []
