"""A send Twilio accepted but answered only after the client's timeout is not sent again:
a timeout means "unknown", so Twilio is asked before anything is retried, through the
real twilio client against the fake Twilio."""

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from scheduler.worker import dispatch_job
from store.db import transaction
from store.models import Clinic
from tests.notification_support import fake_twilio
from tests.support import Clock
from tests.window_support import REMINDER_SID, approve, queue_message, row
from turnero.fake_twilio import FakeTwilio

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CLINIC_NUMBER = "+595981000000"
PHONE = "+595981000001"
TAGS = {"patient_name": "Rosa", "date": "martes 3 de marzo", "time": "10:00", "professional": "Ana"}
CLIENT_TIMEOUT = 0.3  # Twilio's answer comes later than this (the app's is 10 s)
LATE = 30.0


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    yield from fake_twilio(clock)


@pytest.fixture
def clinic_id(db: Engine) -> int:
    with transaction(db) as session:
        clinic = Clinic(name="Clínica de prueba", whatsapp_number=CLINIC_NUMBER)
        session.add(clinic)
        session.flush()
        assert clinic.id is not None
        return clinic.id


def impatient(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(
        fake.account_sid, fake.auth_token, api_url=fake.url, timeout=CLIENT_TIMEOUT
    )


def test_a_reply_twilio_answered_late_reaches_the_patient_once(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    queue_message(db, clinic_id, "reply:1", PHONE, NOW, body="¿Qué día te queda bien?")
    fake.answer_late(1, LATE)

    assert dispatch_due(db, impatient(fake), NOW).sent == 1
    [message] = fake.messages
    reply = row(db, "reply:1")
    assert (reply.status, reply.twilio_sid, reply.attempts) == ("queued", message["sid"], 1)
    clock.advance(hours=1)
    assert dispatch_job(db, impatient(fake), clock).total == 0
    assert len(fake.messages) == 1


def test_a_template_twilio_answered_late_reaches_the_patient_once(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """Outside the 24-hour window the reminder goes as the approved template, whose words
    at Twilio are not ours: it is found as the one message no row of ours holds."""
    approve(db, clinic_id)
    queue_message(db, clinic_id, "reminder:1", PHONE, NOW, kind="reminder", variables=TAGS)
    fake.answer_late(1, LATE)

    assert dispatch_due(db, impatient(fake), NOW).sent == 1
    [message] = fake.messages
    assert message["content_sid"] == REMINDER_SID
    reminder = row(db, "reminder:1")
    assert (reminder.status, reminder.twilio_sid) == ("queued", message["sid"])
    clock.advance(hours=1)
    assert dispatch_job(db, impatient(fake), clock).total == 0
    assert len(fake.messages) == 1


def test_a_send_nobody_answered_waits_for_twilios_word_then_goes_once(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """Twilio neither answers the send nor can be asked: the message stays claimed, not
    retried, until the claim times out and Twilio can tell it never had it."""
    queue_message(db, clinic_id, "reply:1", PHONE, NOW, body="hola")
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        silent = TwilioChannel(
            fake.account_sid,
            fake.auth_token,
            api_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
            timeout=CLIENT_TIMEOUT,
        )
        assert dispatch_due(db, silent, NOW).unanswered == 1
    assert row(db, "reply:1").status == "sending"
    clock.advance(minutes=1)
    assert dispatch_job(db, impatient(fake), clock).total == 0  # not on a guess

    clock.advance(minutes=2)
    assert dispatch_job(db, impatient(fake), clock).sent == 1
    assert [m["body"] for m in fake.messages] == ["hola"]
