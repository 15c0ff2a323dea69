"""Opting out of business-initiated messages and back in, over the real webhook; and a
reminder falling due while opted out (nothing sent) and after opting back in (sent)."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.models import Patient
from tests.notification_support import (
    CHAT,
    book_at,
    channel_for,
    fake_twilio,
    notifications,
    set_reminders,
    worker_passes,
)
from tests.support import Chat, Clock, add_patient
from tests.support import TestClinic as ClinicIds
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday
PHONE = "+595981222333"


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    yield from fake_twilio(clock)


def people(db: Engine, phone: str = PHONE) -> list[Patient]:
    with Session(db) as session:
        return list(
            session.exec(select(Patient).where(Patient.phone == phone).order_by(col(Patient.id)))
        )


@pytest.mark.parametrize(
    ("said", "comes_back_with"),
    [
        ("STOP", "START"),
        ("Baja", "ALTA"),
        ("no quiero más mensajes", "ALTA"),
        ("No me manden más mensajes!", "ALTA"),
        ("unsubscribe", "START"),
        ("stop messages", "START"),
        ("Ani emondo mensaje", "EMONDO JEY MENSAJE"),
        ("ndaipotavéi mensaje", "EMONDO JEY MENSAJE"),
    ],
)
def test_every_patient_on_the_phone_is_opted_out_with_one_confirmation(
    db: Engine, clinic: ClinicIds, app: Flask, clock: Clock, said: str, comes_back_with: str
) -> None:
    add_patient(db, clinic.id, PHONE, "Rosa Giménez")
    add_patient(db, clinic.id, PHONE, "Tomás Giménez")
    other = add_patient(db, clinic.id, "+595981999999", "Otra Persona")
    patient = Chat(app.test_client(), db)
    language = {"EMONDO JEY MENSAJE": "gn", "START": "en"}.get(comes_back_with, "es")
    if language != "es":
        patient.says({"gn": "mba'éichapa", "en": "hello"}[language])

    answer = patient.says(said)

    assert len(patient.messages()[patient.seen - 1 :]) == 1  # exactly one message
    assert comes_back_with in answer
    assert "Clínica Test" in answer
    assert [(p.opted_out, p.opted_out_at) for p in people(db)] == [(True, clock())] * 2
    with Session(db) as session:
        untouched = session.get(Patient, other)
        assert untouched is not None and not untouched.opted_out


def test_stop_wins_over_a_question_that_timed_out_and_a_reminder_reply(
    db: Engine, clinic: ClinicIds, app: Flask, clock: Clock
) -> None:
    patient = Chat(app.test_client(), db)
    patient.says("hola")
    clock.advance(hours=5)  # the pending question has timed out
    assert "ALTA" in patient.says("BAJA")
    assert all(p.opted_out for p in people(db))


def test_an_opted_out_patient_is_still_answered_and_start_brings_them_back(
    db: Engine, clinic: ClinicIds, app: Flask, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "Rosa Giménez", opted_out=True, opted_out_at=clock())
    patient = Chat(app.test_client(), db)

    assert "Rosa" in patient.says("hola")  # a reply is not business-initiated

    answer = patient.says("ALTA")
    assert "BAJA" in answer
    assert len(patient.messages()[patient.seen - 1 :]) == 1
    assert [(p.opted_out, p.opted_out_at) for p in people(db)] == [(False, None)]


def test_start_from_a_patient_who_never_left_is_the_menu(
    db: Engine, clinic: ClinicIds, app: Flask
) -> None:
    patient = Chat(app.test_client(), db)
    patient.says("hello")
    answer = patient.says("start")
    assert "Consulta general" in answer
    assert "START" not in answer
    assert not any(p.opted_out for p in people(db))


def test_opting_out_works_while_staff_have_paused_the_bot(
    db: Engine, clinic: ClinicIds, app: Flask
) -> None:
    add_patient(db, clinic.id, PHONE, "Rosa Giménez", bot_paused=True)
    patient = Chat(app.test_client(), db)

    assert patient.says("hola") == ""  # left to staff
    assert "ALTA" in patient.says("STOP")
    [rosa] = people(db)
    assert rosa.opted_out and rosa.bot_paused


def test_stop_then_a_reminder_due_sends_nothing_then_start_lets_the_next_one_go(
    db: Engine, clinic: ClinicIds, app: Flask, clock: Clock, fake: FakeTwilio
) -> None:
    set_reminders(db, clinic.id, hours_before=2, day_before_at=time(18, 0))
    starts_at = datetime(2026, 11, 27, 10, 0, tzinfo=ASU)  # Friday
    appointment = book_at(db, clinic, starts_at, clock(), phone=PHONE, actor=CHAT)
    channel = channel_for(fake)
    patient = Chat(app.test_client(), db)

    assert "ALTA" in patient.says("STOP")
    worker_passes(db, channel, clock)
    assert [m["body"] for m in fake.messages] == [patient.messages()[-1].body]  # the confirmation

    clock.now = datetime(2026, 11, 26, 18, 0, tzinfo=ASU).astimezone(UTC)  # the day before
    worker_passes(db, channel, clock)
    assert len(fake.messages) == 1  # nothing for an opted-out patient
    day_before = notifications(db, appointment)[0]
    assert day_before.status != "sent" and day_before.reason == "patient opted out"

    assert "BAJA" in patient.says("START")
    worker_passes(db, channel, clock)
    assert len(fake.messages) == 2  # only the confirmation of START
    clock.now = (starts_at - timedelta(hours=2)).astimezone(UTC)
    worker_passes(db, channel, clock)
    assert len(fake.messages) == 3
    reminder = fake.messages[-1]
    assert reminder["to"] == f"whatsapp:{PHONE}"
    assert "Te recordamos tu turno" in reminder["body"]
