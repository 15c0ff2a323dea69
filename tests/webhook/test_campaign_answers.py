"""Answers to a campaign's reschedule request or closure notice, through the signed webhook
after the message went out through the real twilio client to the fake Twilio: "1" moves
the appointment the message was about, "2" or "cancelar" cancels it once confirmed, free
words still do, a clinic that sends buttons gets them on the message and a tap does the
same, and the campaign's results count what the answers did."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from scheduler.worker import dispatch_job
from store.campaigns import Filters, results
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import Appointment, Campaign, Clinic
from tests.campaign_support import LINKS, Person, seat
from tests.notification_support import writes
from tests.support import Chat, Clock, TestClinic
from tests.window_support import live
from usecases.campaigns import Draft, create

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday morning
FRIDAY, MONDAY = date(2026, 11, 27), date(2026, 11, 30)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ASU).astimezone(UTC)


def campaign_goes_out(
    db: Engine, clinic: TestClinic, clock: Clock, kind: MessageKind, day: date
) -> int:
    """The desk sends a campaign about `day`'s appointments; the dispatcher sends it to
    the fake Twilio; a minute later the patient has read it."""
    return send_campaign(db, clinic, clock, kind, day)[0]


def send_campaign(
    db: Engine, clinic: TestClinic, clock: Clock, kind: MessageKind, day: date
) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """The campaign, its message as the fake Twilio got it, and the contents it made."""
    clock.advance(minutes=5)
    made = create(
        db,
        clinic.id,
        Draft(kind, Filters(day, day)),
        token=f"form-{kind.value}-{day}",
        send_at=None,
        by="staff:ana",
        now=clock(),
        links=LINKS,
    )
    assert made.refused is None and made.campaign_id is not None and made.queued == 1
    with live(db, clock) as server:
        dispatch_job(db, server.channel, clock)  # with the chat's replies still queued
        [message] = [m for m in server.fake.messages if "molestia" in str(m["body"])]
        contents = server.fake.contents
    clock.advance(minutes=1)
    return made.campaign_id, message, contents


def appointment(db: Engine, appointment_id: int) -> Appointment:
    with Session(db) as session:
        found = session.get(Appointment, appointment_id)
        assert found is not None
        return found


def counted(db: Engine, campaign_id: int) -> tuple[int, int]:
    """(rescheduled, cancelled) in the campaign's results."""
    with Session(db) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        found = results(session, campaign)
    return found.rescheduled, found.cancelled


@pytest.fixture
def rosa(db: Engine, clinic: TestClinic, chat: Chat, clock: Clock) -> Person:
    """A patient who wrote an hour ago: campaign messages reach her as text."""
    writes(db, clinic.id, chat.phone, clock() - timedelta(hours=1))
    return Person(chat.phone, "Rosa Giménez", "es")


@pytest.mark.parametrize("kind", [MessageKind.campaign_reschedule, MessageKind.campaign_closure])
def test_a_1_moves_the_appointment_the_message_was_about(
    db: Engine, clinic: TestClinic, chat: Chat, clock: Clock, rosa: Person, kind: MessageKind
) -> None:
    friday = seat(db, clinic, rosa, at(FRIDAY, 10))
    campaign_id, message, _ = send_campaign(db, clinic, clock, kind, FRIDAY)
    assert "1️⃣" in message["body"] and "2️⃣" in message["body"]  # the choices, numbered

    days = chat.says("1")
    assert chat.said == ["manage.ask_move_day"] and "Consulta general" in days
    times = chat.says("lunes")
    assert chat.asked("booking.ask_time") and "lunes 30 de noviembre" in times
    review = chat.says("9:00")
    assert "del viernes 27 de noviembre a las 10:00 al lunes 30 de noviembre a las 09:00" in review
    chat.says("sí")
    assert chat.said == ["manage.moved"]
    assert appointment(db, friday).starts_at == at(MONDAY, 9)
    assert counted(db, campaign_id) == (1, 0)


def test_cancelar_asks_first_and_then_cancels(
    db: Engine, clinic: TestClinic, chat: Chat, clock: Clock, rosa: Person
) -> None:
    friday = seat(db, clinic, rosa, at(FRIDAY, 10))
    campaign_id = campaign_goes_out(db, clinic, clock, MessageKind.campaign_reschedule, FRIDAY)
    chat.says("cancelar")
    assert chat.said == ["manage.ask_cancel"]
    assert appointment(db, friday).status == "booked"
    chat.says("sí")
    assert chat.said == ["manage.cancelled"]
    assert appointment(db, friday).status == "cancelled"
    assert counted(db, campaign_id) == (0, 1)


def test_each_message_answers_for_its_own_appointment(
    db: Engine, clinic: TestClinic, chat: Chat, clock: Clock, rosa: Person
) -> None:
    """Two appointments on different days, each with its campaign message: the answer is
    about the one the last message named, never "which one?"."""
    friday = seat(db, clinic, rosa, at(FRIDAY, 10))
    monday = seat(db, clinic, rosa, at(MONDAY, 15))
    sick = campaign_goes_out(db, clinic, clock, MessageKind.campaign_reschedule, FRIDAY)
    chat.says("2")
    assert chat.said == ["manage.ask_cancel"] and "viernes 27" in chat.last
    chat.says("sí")
    assert appointment(db, friday).status == "cancelled"
    assert appointment(db, monday).status == "booked"

    closed = campaign_goes_out(db, clinic, clock, MessageKind.campaign_closure, MONDAY)
    chat.says("1")
    assert chat.said == ["manage.ask_move_day"]
    chat.says("martes")
    chat.says("9:00")
    assert "del lunes 30 de noviembre a las 15:00 al martes 1 de diciembre a las 09:00" in chat.last
    chat.says("sí")
    assert appointment(db, monday).starts_at == at(date(2026, 12, 1), 9)
    assert counted(db, sick) == (0, 1) and counted(db, closed) == (1, 0)

    chat.says("1")  # answered already: an ordinary "1" again (the menu's first service)
    assert chat.said != ["manage.ask_move_day"]


@pytest.mark.parametrize(
    ("words", "asked"),
    [
        ("si quiero cambiar", "manage.ask_move_day"),
        ("cambiar turno", "manage.ask_move_day"),
        ("no puedo ir ese dia", "manage.ask_cancel"),
        ("cancel", "manage.ask_cancel"),
        ("heja", "manage.ask_cancel"),
    ],
)
def test_free_words_answer_it_too(
    db: Engine,
    clinic: TestClinic,
    chat: Chat,
    clock: Clock,
    rosa: Person,
    words: str,
    asked: str,
) -> None:
    seat(db, clinic, rosa, at(FRIDAY, 10))
    seat(db, clinic, rosa, at(MONDAY, 15))  # a second appointment: only the message tells
    campaign_goes_out(db, clinic, clock, MessageKind.campaign_closure, FRIDAY)
    chat.says(words)
    assert chat.said[-1] == asked and "viernes 27" in chat.last


def test_a_message_still_waiting_to_go_is_not_answered(
    db: Engine, clinic: TestClinic, chat: Chat, clock: Clock, rosa: Person
) -> None:
    """A "1" before the campaign's message left the outbox answers what the chat asked."""
    seat(db, clinic, rosa, at(FRIDAY, 10))
    create(
        db,
        clinic.id,
        Draft(MessageKind.campaign_reschedule, Filters(FRIDAY, FRIDAY)),
        token="form-pending",
        send_at=None,
        by="staff:ana",
        now=clock(),
        links=LINKS,
    )
    clock.advance(minutes=1)
    chat.says("1")
    assert "manage.ask_move_day" not in chat.said


@pytest.mark.parametrize(
    ("tapped", "asked"),
    [("reschedule", "manage.ask_move_day"), ("cancel", "manage.ask_cancel")],
)
def test_where_the_clinic_sends_buttons_a_tap_answers_it(
    db: Engine,
    clinic: TestClinic,
    chat: Chat,
    clock: Clock,
    rosa: Person,
    tapped: str,
    asked: str,
) -> None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found is not None
        found.interactive_messages = True
    friday = seat(db, clinic, rosa, at(FRIDAY, 10))
    seat(db, clinic, rosa, at(MONDAY, 15))
    _, message, contents = send_campaign(db, clinic, clock, MessageKind.campaign_reschedule, FRIDAY)
    [content] = [c for c in contents if c["sid"] == message["content_sid"]]
    spec = content["types"]["twilio/quick-reply"]
    assert [(a["id"], a["title"]) for a in spec["actions"]] == [
        (f"reschedule:{friday}", "Cambiar día u hora"),
        (f"cancel:{friday}", "Cancelar el turno"),
    ]
    assert "Tocá una opción" in spec["body"] and "1️⃣" not in spec["body"]
    chat.taps(f"{tapped}:{friday}", replied_to=str(message["sid"]))
    assert chat.said[-1] == asked and "viernes 27" in chat.last


def test_once_the_appointment_has_moved_neither_a_tap_nor_a_1_changes_it(
    db: Engine, clinic: TestClinic, chat: Chat, clock: Clock, rosa: Person
) -> None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found is not None
        found.interactive_messages = True
    friday = seat(db, clinic, rosa, at(FRIDAY, 10))
    _, message, _ = send_campaign(db, clinic, clock, MessageKind.campaign_reschedule, FRIDAY)
    with transaction(db) as session:  # the desk moved it meanwhile
        moved = session.get(Appointment, friday)
        assert moved is not None
        moved.starts_at, moved.ends_at = at(FRIDAY, 16), at(FRIDAY, 16) + timedelta(minutes=30)
    chat.says("1")  # an ordinary "1" (the menu's first service), not about that message
    assert "manage.ask_move_day" not in chat.said
    chat.taps(f"reschedule:{friday}", replied_to=str(message["sid"]))
    assert chat.said[0] == "manage.gone"
    assert appointment(db, friday).starts_at == at(FRIDAY, 16)
