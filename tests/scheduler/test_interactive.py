"""Choices as WhatsApp buttons and list pickers, and the taps that answer them: patients
write to the real webhook (signed), the dispatcher sends through the official twilio client
to the fake Twilio (Messages and Content APIs), and taps name the message they answer."""

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from channel.base import SendError
from scheduler.dispatcher import dispatch_due
from scheduler.interactive import clip, content_types
from store.appointments import Actor, confirm, reschedule
from store.db import transaction
from store.models import Appointment, Clinic, InteractiveContent, OutboxMessage
from tests.notification_support import SECRET, book_at, channel_for, run_pass
from tests.support import (
    Chat,
    Clock,
    appointments,
    make_app,
    make_clinic,
)
from tests.support import (
    TestClinic as ClinicIds,
)
from tests.window_support import REMINDER_SID, approve
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday
QUICK_REPLY, LIST_PICKER = "twilio/quick-reply", "twilio/list-picker"


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=clock) as fake:
        yield fake


@pytest.fixture
def clinic(db: Engine) -> ClinicIds:
    clinic = make_clinic(db)
    set_interactive(db, clinic.id, True)
    return clinic


def set_interactive(db: Engine, clinic_id: int, on: bool) -> None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic_id)
        assert found is not None
        found.interactive_messages = on


@dataclass
class TwilioChat:
    """One patient's chat: what they write goes to the webhook, what the bot answers goes
    out through the dispatcher to the fake Twilio, and comes back as Twilio has it."""

    patient: Chat
    fake: FakeTwilio
    db: Engine
    clock: Clock

    def says(self, text: str) -> dict[str, Any]:
        self.patient.says(text)
        return self.sent()

    def taps(self, choice: str, on: dict[str, Any] | str | None) -> dict[str, Any]:
        sid = on["sid"] if isinstance(on, dict) else on
        self.patient.taps(choice, replied_to=sid)
        return self.sent()

    def sent(self) -> dict[str, Any]:
        """The bot's answer, as Twilio got it."""
        report = dispatch_due(self.db, channel_for(self.fake), self.clock())
        assert report.failed == 0
        return self.fake.messages[-1]


@pytest.fixture
def chat_with(db: Engine, clock: Clock, fake: FakeTwilio):
    app = make_app(db, clock, SECRET)

    def chat(phone: str = "+595981222333") -> TwilioChat:
        return TwilioChat(Chat(app.test_client(), db, phone=phone), fake, db, clock)

    return chat


def content(fake: FakeTwilio, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The type and spec of the content a message was sent with."""
    [found] = [c for c in fake.contents if c["sid"] == message["content_sid"]]
    [(kind, spec)] = found["types"].items()
    return kind, spec


def choice_ids(fake: FakeTwilio, message: dict[str, Any]) -> list[str]:
    kind, spec = content(fake, message)
    return [a["id"] for a in spec["actions" if kind == QUICK_REPLY else "items"]]


def outbox_row(db: Engine, sid: str) -> OutboxMessage:
    with Session(db) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.twilio_sid == sid)).one()


def test_few_choices_go_as_buttons_up_to_ten_as_a_list_and_more_as_text(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    chat = chat_with()
    services = chat.says("hola")
    kind, spec = content(fake, services)
    assert kind == QUICK_REPLY
    general, dentistry = str(clinic.services["general"]), str(clinic.services["dentistry"])
    assert spec["actions"] == [
        {"id": general, "title": "Consulta general"},
        {"id": dentistry, "title": "Odontología"},
    ]
    assert "¿Para qué servicio querés el turno?" in spec["body"]
    assert "Respondé con el número" not in spec["body"] and "1." not in spec["body"]
    assert services["body"] == spec["body"]  # what the patient sees is the content's text
    row = outbox_row(db, services["sid"])
    assert row.content_sid == services["content_sid"] and row.language == "es"
    assert "1. Consulta general" in row.body  # the numbered text stays as the fallback
    assert [c["id"] for c in json.loads(row.options or "")["choices"]] == [general, dentistry]

    professionals = chat.taps(general, on=services)
    kind, spec = content(fake, professionals)
    assert kind == QUICK_REPLY
    titles = [a["title"] for a in spec["actions"]]
    assert titles[:2] == ["Dra. Ana Benítez", "Dr. Luis Ortiz"]
    assert titles[2].startswith("Primero disponible") and titles[2].endswith("…")
    assert all(len(t) <= 20 for t in titles)

    days = chat.taps("first_available", on=professionals)
    kind, spec = content(fake, days)
    assert kind == LIST_PICKER
    assert spec["button"] == "Ver opciones"
    assert len(spec["items"]) == 5 and all(len(i["item"]) <= 24 for i in spec["items"])
    assert spec["items"][0] == {  # cut at a word end; the whole label below it
        "id": "2026-11-25",
        "item": "miércoles 25 de…",
        "description": "miércoles 25 de noviembre",
    }

    times = chat.taps(spec["items"][1]["id"], on=days)  # more than ten: numbered text
    assert times["content_sid"] is None
    assert "1. " in times["body"] and "10. " in times["body"] and "11. " in times["body"]
    assert len(fake.contents) == 3


def test_a_clinic_without_buttons_gets_numbered_text(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    set_interactive(db, clinic.id, False)
    services = chat_with().says("hola")
    assert services["content_sid"] is None
    assert "1. Consulta general\n2. Odontología" in services["body"]
    assert outbox_row(db, services["sid"]).options is None
    assert fake.contents == []


def test_the_same_choices_are_created_once_per_language(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    first = chat_with("+595981000001").says("hola")
    second = chat_with("+595981000002").says("buenas")
    english = chat_with("+595981000003").says("hello")
    assert first["content_sid"] == second["content_sid"]
    assert english["content_sid"] not in (None, first["content_sid"])
    assert "Which service is the appointment for?" in content(fake, english)[1]["body"]
    assert len(fake.contents) == 2
    with Session(db) as session:
        assert len(session.exec(select(InteractiveContent)).all()) == 2


def test_content_that_cannot_be_created_goes_as_text(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    fake.fail_next_content(1, http_status=503)
    failed = chat_with("+595981000001").says("hola")
    assert failed["content_sid"] is None and "1. Consulta general" in failed["body"]
    later = chat_with("+595981000002").says("hola")
    assert later["content_sid"] is not None


def test_a_button_books_like_a_typed_number(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    tapping, typing = chat_with("+595981000001"), chat_with("+595981000002")
    services = tapping.says("hola")
    professionals = tapping.taps(str(clinic.services["general"]), on=services)
    days = tapping.taps("first_available", on=professionals)
    tapping.taps(choice_ids(fake, days)[1], on=days)
    for answer in ("1", "Juana Pérez", "saltar", "saltar"):  # the first time, ...
        tapping.says(answer)
    assert "Tu turno quedó reservado" in tapping.says("sí")["body"]
    # general, first available, the second day, the first time, ...
    for answer in ("hola", "1", "3", "2", "1", "Rosa Giménez", "saltar", "saltar"):
        typing.says(answer)
    assert "Tu turno quedó reservado" in typing.says("sí")["body"]
    tapped, typed = appointments(db)
    assert tapped.service_id == typed.service_id == clinic.services["general"]
    assert tapped.starts_at.astimezone(ASU).date() == date(2026, 11, 26)
    assert typed.starts_at.astimezone(ASU).date() == date(2026, 11, 26)


def test_a_tap_on_an_earlier_question_is_not_applied(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    chat = chat_with()
    services = chat.says("hola")
    professionals = chat.taps(str(clinic.services["general"]), on=services)
    again = chat.taps(str(clinic.services["dentistry"]), on=services)  # the old question
    assert again["body"].startswith("Ese botón es de un mensaje anterior")
    assert "¿Con quién querés atenderte para Consulta general?" in again["body"]
    assert choice_ids(fake, again) == choice_ids(fake, professionals)  # Ana too: not dentistry
    days = chat.taps("first_available", on=again)  # the current question works
    assert content(fake, days)[0] == LIST_PICKER


def test_a_tap_on_another_phones_message_or_an_unknown_one_is_not_applied(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    someone, chat = chat_with("+595981000001"), chat_with("+595981000002")
    theirs = someone.says("hola")
    chat.says("hola")
    general = str(clinic.services["general"])
    for sid in (theirs["sid"], "SM" + "0" * 32):
        answer = chat.taps(general, on=sid)
        assert answer["body"].startswith("Ese botón es de un mensaje anterior")
        assert "¿Para qué servicio querés el turno?" in answer["body"]
    idle = chat_with("+595981000003").taps(general, on=theirs)  # never asked anything
    assert "escribí «menú»" in idle["body"]


def remind(db: Engine, fake: FakeTwilio, clock: Clock, appointment_id: int) -> dict[str, Any]:
    """Move the clock to the appointment's reminder and send it; returns it."""
    return remind_at(db, fake, clock, appointment_id, timedelta(hours=24))


def status_of(db: Engine, appointment_id: int) -> str:
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


def test_a_reminders_confirm_button_confirms(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock, chat_with
) -> None:
    chat = chat_with()
    chat.says("hola")  # the window is open from here for 24 hours
    appointment_id = book_at(db, clinic, NOW + timedelta(hours=26), clock())
    reminder = remind(db, fake, clock, appointment_id)
    kind, spec = content(fake, reminder)
    assert kind == QUICK_REPLY
    assert [a["id"] for a in spec["actions"]] == [
        f"confirm:{appointment_id}",
        f"cancel:{appointment_id}",
        f"reschedule:{appointment_id}",
    ]
    assert [a["title"] for a in spec["actions"]] == [
        "Confirmar asistencia",
        "Cancelar el turno",
        "Cambiar día u hora",
    ]
    assert "Tocá una opción" in spec["body"] and "1️⃣" not in spec["body"]
    answer = chat.taps(f"confirm:{appointment_id}", on=reminder)
    assert "Confirmaste tu turno" in answer["body"]
    assert status_of(db, appointment_id) == "confirmed"


def test_a_confirmed_appointments_reminder_does_not_ask_again(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock, chat_with
) -> None:
    chat = chat_with()
    chat.says("hola")
    appointment_id = book_at(db, clinic, NOW + timedelta(hours=26), clock())
    with transaction(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        confirm(session, appointment, Actor("patient", "whatsapp"), clock())
    reminder = remind(db, fake, clock, appointment_id)
    assert outbox_row(db, reminder["sid"]).kind == "reminder_confirmed"
    kind, spec = content(fake, reminder)
    assert kind == QUICK_REPLY
    assert [a["id"] for a in spec["actions"]] == [
        f"cancel:{appointment_id}",
        f"reschedule:{appointment_id}",
    ]
    assert "¿Venís?" not in spec["body"] and "confirmado" in spec["body"]
    answer = chat.taps(f"cancel:{appointment_id}", on=reminder)
    assert "¿Seguro que querés cancelar" in answer["body"]
    assert "cancelé tu turno" in chat.says("sí")["body"]
    assert status_of(db, appointment_id) == "cancelled"


def test_a_reminder_outside_the_window_goes_as_the_approved_template_not_buttons(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock
) -> None:
    approve(db, clinic.id)
    appointment_id = book_at(db, clinic, NOW + timedelta(days=3), clock())
    reminder = remind(db, fake, clock, appointment_id)  # the patient never wrote
    assert reminder["content_sid"] == REMINDER_SID
    assert REMINDER_SID not in {c["sid"] for c in fake.contents}  # no buttons were made
    assert outbox_row(db, reminder["sid"]).options is not None


def test_a_confirmed_reminder_outside_the_window_goes_as_its_own_template_or_the_reminders(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock
) -> None:
    approve(db, clinic.id)  # only the plain reminder's template is approved
    first = book_at(db, clinic, NOW + timedelta(days=3), clock())
    later = book_at(db, clinic, NOW + timedelta(days=4), clock(), professional="luis")
    with transaction(db) as session:
        for appointment_id in (first, later):
            appointment = session.get(Appointment, appointment_id)
            assert appointment is not None
            confirm(session, appointment, Actor("patient", "whatsapp"), clock())
    assert remind(db, fake, clock, first)["content_sid"] == REMINDER_SID
    own = "HX" + "c" * 32
    approve(db, clinic.id, kind="reminder_confirmed", sid=own)
    assert remind(db, fake, clock, later)["content_sid"] == own


def test_a_tap_naming_another_patients_appointment_is_refused(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock, chat_with
) -> None:
    mine, theirs = chat_with("+595981000001"), chat_with("+595981000002")
    mine.says("hola")
    theirs.says("hola")
    my_id = book_at(db, clinic, NOW + timedelta(hours=26), clock(), phone=mine.patient.phone)
    their_id = book_at(
        db,
        clinic,
        NOW + timedelta(hours=26),
        clock(),
        phone=theirs.patient.phone,
        professional="luis",
    )
    my_reminder = remind(db, fake, clock, my_id)
    their_reminder = remind(db, fake, clock, their_id)
    forged = mine.taps(f"confirm:{their_id}", on=my_reminder)  # my message, their turn
    assert "ya no se puede cambiar por aquí" in forged["body"]
    borrowed = mine.taps(f"confirm:{their_id}", on=their_reminder)  # their message
    assert "ya no se puede cambiar por aquí" in borrowed["body"]
    assert status_of(db, their_id) == status_of(db, my_id) == "booked"


def test_a_reminders_button_after_the_appointment_moved_is_not_applied(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock, chat_with
) -> None:
    chat = chat_with()
    chat.says("hola")
    appointment_id = book_at(db, clinic, NOW + timedelta(hours=26), clock())
    reminder = remind(db, fake, clock, appointment_id)
    with transaction(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        reschedule(
            session,
            appointment,
            starts_at=appointment.starts_at + timedelta(hours=1),
            professional_id=appointment.professional_id,
            actor=Actor("staff:ana", "console"),
            now=clock(),
        )
    answer = chat.taps(f"cancel:{appointment_id}", on=reminder)
    assert "ya no se puede cambiar por aquí" in answer["body"]
    assert status_of(db, appointment_id) == "booked"
    with Session(db) as session:
        assert (
            session.exec(select(col(Appointment.id)).where(Appointment.status == "cancelled")).all()
            == []
        )


def test_content_twilio_no_longer_has_goes_as_text(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, chat_with
) -> None:
    first = chat_with("+595981000001").says("hola")
    assert first["content_sid"] is not None
    channel_for(fake).client.content.v1.contents(first["content_sid"]).delete()
    # the content is gone at Twilio, still remembered here
    second = chat_with("+595981000002").says("hola")
    assert second["content_sid"] is None and "1. Consulta general" in second["body"]
    assert outbox_row(db, second["sid"]).content_sid is None


def test_the_fake_content_api_checks_whatsapps_limits(fake: FakeTwilio) -> None:
    channel = channel_for(fake)
    too_long = {
        "twilio/quick-reply": {"body": "¿Venís?", "actions": [{"id": "a", "title": "x" * 21}]}
    }
    with pytest.raises(SendError, match="20 characters"):
        channel.create_content(friendly_name="t", language="es", types=too_long)
    eleven = [{"id": str(n), "item": str(n)} for n in range(11)]
    with pytest.raises(SendError, match="1 to 10 items"):
        channel.create_content(
            friendly_name="t",
            language="es",
            types={"twilio/list-picker": {"body": "b", "button": "Ver", "items": eleven}},
        )
    sid = channel.create_content(
        friendly_name="t", language="es", types={"twilio/text": {"body": "Hola {{1}}"}}
    )
    fetched = channel.client.content.v1.contents(sid).fetch()
    assert fetched.sid == sid and fetched.types == {"twilio/text": {"body": "Hola {{1}}"}}
    channel.send(
        from_phone="+595981000000",
        to_phone="+595981222333",
        body="",
        content_sid=sid,
        content_variables={"1": "Rosa"},
    )
    assert fake.messages[-1]["body"] == "Hola Rosa"
    channel.client.content.v1.contents(sid).delete()
    with pytest.raises(SendError) as refused:
        channel.send(
            from_phone="+595981000000",
            to_phone="+595981222333",
            body="",
            content_sid=sid,
        )
    assert refused.value.code == "21655" and not refused.value.retryable


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("Amoambue ára térã aravo", 20),
        ("Primero disponible (cualquier profesional)", 20),
        ("ko'ag̃ag̃ag̃ag̃ag̃ag̃ag̃ag̃ag̃a", 9),  # g̃ is a letter and a combining tilde
        ("👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦", 6),  # a family is four people and three joiners
        ("corto", 20),
    ],
)
def test_labels_are_cut_to_the_limit_without_breaking_a_letter(text: str, limit: int) -> None:
    cut = clip(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
        return
    assert cut.endswith("…")
    kept = cut[:-1]
    assert text.startswith(kept)
    after = text[len(kept) : len(kept) + 1]
    assert not unicodedata.combining(after) and after not in ("\u200d", "\ufe0f")
    assert not kept.endswith("\u200d")


def test_choices_that_would_look_alike_as_buttons_go_as_text() -> None:
    alike = {
        "body": "¿Con quién?",
        "choices": [
            {"id": "1", "label": "Dra. Ana Benítez Fernández"},
            {"id": "2", "label": "Dra. Ana Benítez Ferreira"},
        ],
    }
    assert content_types(alike) is None
    too_long = {"body": "x" * 1025, "choices": [{"id": "1", "label": "Uno"}]}
    assert content_types(too_long) is None
    eleven = {
        "body": "b",
        "button": "Ver",
        "choices": [{"id": str(n), "label": str(n)} for n in range(11)],
    }
    assert content_types(eleven) is None


def test_the_days_reminder_has_a_check_in_button_that_checks_in_only_that_day(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock, chat_with
) -> None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found is not None
        found.reminder_hours_before = 2  # the reminder goes out on the appointment's day
    chat = chat_with()
    chat.says("hola")
    first = book_at(db, clinic, NOW + timedelta(hours=3), clock())
    second = book_at(db, clinic, NOW + timedelta(days=1), clock())  # its reminder in the window
    reminder = remind_at(db, fake, clock, first, timedelta(hours=2))
    kind, spec = content(fake, reminder)
    assert kind == LIST_PICKER  # four choices: a list
    assert [item["id"] for item in spec["items"]][-1] == f"check_in:{first}"
    assert spec["items"][-1]["item"] == "Ya llegué"

    answer = chat.taps(f"check_in:{first}", on=reminder)
    assert "Tu número: *A-001*" in answer["body"]
    assert status_of(db, first) == "arrived"
    again = chat.taps(f"check_in:{first}", on=reminder)
    assert "Ya estabas anotado/a" in again["body"] and "*A-001*" in again["body"]

    reminder = remind_at(db, fake, clock, second, timedelta(hours=2))
    clock.now = clock.now + timedelta(days=1)  # tapped the day after: not checked in
    late = chat.taps(f"check_in:{second}", on=reminder)
    assert "No encuentro un turno tuyo para hoy" in late["body"]
    assert status_of(db, second) == "booked"


def test_a_reminder_the_day_before_has_no_check_in_button(
    db: Engine, clinic: ClinicIds, fake: FakeTwilio, clock: Clock, chat_with
) -> None:
    chat_with().says("hola")
    appointment_id = book_at(db, clinic, NOW + timedelta(hours=26), clock())
    reminder = remind(db, fake, clock, appointment_id)
    assert f"check_in:{appointment_id}" not in choice_ids(fake, reminder)


def remind_at(
    db: Engine, fake: FakeTwilio, clock: Clock, appointment_id: int, before: timedelta
) -> dict[str, Any]:
    """Move the clock to `before` the appointment and send its reminder; returns it."""
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        clock.now = appointment.starts_at - before
    run_pass(db, clock())
    dispatch_due(db, channel_for(fake), clock())
    return next(
        m
        for m in reversed(fake.messages)
        if outbox_row(db, m["sid"]).appointment_id == appointment_id
        and outbox_row(db, m["sid"]).kind in ("reminder", "reminder_confirmed")
    )
