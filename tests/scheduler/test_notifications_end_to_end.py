"""A booking made in the chat, then the running worker (APScheduler, both jobs) sending its
reminder through the real twilio client to the fake Twilio when the clock gets there."""

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.links import appointment_id_from
from scheduler.worker import Links, run_worker
from tests.notification_support import (
    BASE_URL,
    SECRET,
    book_at,
    channel_for,
    fake_twilio,
    writes,
)
from tests.support import (
    Chat,
    Clock,
    appointments,
    make_app,
    make_clinic,
)
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    yield from fake_twilio(clock)


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait for the worker's threads (real time passes; the clock does not)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        threading.Event().wait(0.02)
    raise AssertionError("the worker did not get there")


def test_a_reminder_of_a_chat_booking_reaches_twilio_at_its_time(
    db: Engine, clock: Clock, fake: FakeTwilio
) -> None:
    make_clinic(db)
    app = make_app(db, clock, SECRET)
    patient = Chat(app.test_client(), db)
    for text in ("hola", "1", "ana benitez", "mañana", "10:30", "Juana Pérez", "saltar", "saltar"):
        patient.says(text)
    assert "Juana Pérez" in patient.says("sí")
    [appointment] = appointments(db)

    scheduler = run_worker(
        db,
        channel_for(fake),
        interval_seconds=0.02,
        block=False,
        clock=clock,
        links=Links(BASE_URL, SECRET),
        notifications_interval_seconds=0.02,
    )
    try:
        wait_until(lambda: len(fake.messages) == len(patient.messages()))  # the chat's answers
        answers = len(fake.messages)
        clock.now = appointment.starts_at - timedelta(hours=24, seconds=1)
        threading.Event().wait(0.2)  # several ticks: nothing is due yet
        assert len(fake.messages) == answers
        clock.advance(seconds=1)
        wait_until(lambda: len(fake.messages) == answers + 1)
    finally:
        scheduler.shutdown()

    reminder = fake.messages[-1]
    assert reminder["to"] == f"whatsapp:{patient.phone}"
    assert "Te recordamos tu turno en Clínica Test" in reminder["body"]
    assert "jueves 26 de noviembre a las 10:30" in reminder["body"]
    assert "1️⃣ para confirmar" in reminder["body"]
    [link] = [word for word in reminder["body"].split() if "/a/" in word]
    token = link.rsplit("/", 1)[-1]
    assert appointment_id_from(SECRET, token) == appointment.id


def test_a_desk_booking_gets_its_confirmation_in_the_patients_language(
    db: Engine, clock: Clock, fake: FakeTwilio
) -> None:
    clinic = make_clinic(db)
    book_at(db, clinic, NOW + timedelta(days=2), clock(), language="gn")
    writes(db, clinic.id, "+595981222333", clock())  # the patient wrote: free-form text
    scheduler = run_worker(
        db,
        channel_for(fake),
        interval_seconds=0.02,
        block=False,
        clock=clock,
        links=Links(BASE_URL, SECRET),
        notifications_interval_seconds=0.02,
    )
    try:
        wait_until(lambda: len(fake.messages) == 1)
    finally:
        scheduler.shutdown()
    [confirmation] = fake.messages
    assert "Nde turno Clínica Test-pe oñeme'ẽma" in confirmation["body"]
    assert "viernes" not in confirmation["body"]  # the day is written in Guarani
