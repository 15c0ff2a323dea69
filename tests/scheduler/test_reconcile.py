"""Sends cut off by a crash, or that Twilio answered only after the client's timeout, are
settled against Twilio's word (its message list, its status callbacks) before anything is
retried, so no message goes out twice; and two workers on PostgreSQL share the work
without doubles."""

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from channel.base import Channel
from channel.sandbox import SandboxChannel
from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due, reconcile_stale
from scheduler.notifications import notifications_job
from scheduler.sent_lookup import AMBIGUOUS
from scheduler.worker import dispatch_job
from store.db import transaction
from store.dispatch import claim_due
from store.outbox import enqueue
from tests.notification_support import (
    BASE_URL,
    CHAT,
    SECRET,
    STAFF,
    book_at,
    channel_for,
    fake_twilio,
    notifications,
    outbox,
    set_reminders,
    writes,
)
from tests.support import Clock, make_clinic
from tests.window_support import REMINDER_SID, add_clinic, approve, live, queue_message, row
from turnero.fake_twilio import FakeTwilio

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CLINIC_NUMBER = "+595981000000"
PHONE = "+595981000001"
CLIENT_TIMEOUT = 0.3  # Twilio's answer comes later than this (the app's is 10 s)
LATE = 30.0
TAGS = {"patient_name": "Rosa", "date": "martes 3 de marzo", "time": "10:00", "professional": "Ana"}


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTwilio]:
    yield from fake_twilio(clock)


@pytest.fixture
def clinic_id(db: Engine) -> int:
    return add_clinic(db, CLINIC_NUMBER)


def queue_messages(db: Engine, clinic_id: int, count: int) -> None:
    with transaction(db) as session:
        for n in range(count):
            enqueue(
                session,
                clinic_id=clinic_id,
                idempotency_key=f"m{n}",
                from_phone=CLINIC_NUMBER,
                to_phone=f"+59598100{n:04d}",
                body=f"mensaje {n}",
                now=NOW,
            )


def test_a_restart_mid_batch_sends_each_message_exactly_once(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    channel = channel_for(fake)
    queue_messages(db, clinic_id, 4)
    claimed = claim_due(db, clock())
    assert len(claimed) == 4
    # the dying dispatcher got two messages to Twilio, then crashed before marking any
    accepted = {
        m.id: channel.send(from_phone=m.from_phone, to_phone=m.to_phone, body=m.body).sid
        for m in claimed[:2]
    }
    clock.advance(seconds=30)
    # a new worker starts: the claim is not stale yet, so nothing is touched
    assert dispatch_job(db, channel, clock).total == 0
    assert reconcile_stale(db, channel, clock()).total == 0
    assert {m.status for m in outbox(db)} == {"sending"}

    clock.advance(minutes=2)
    report = dispatch_job(db, channel, clock)

    assert report.sent == 2  # only the two Twilio never had
    rows = {m.id: m for m in outbox(db)}
    for message_id, sid in accepted.items():
        assert (rows[message_id].twilio_sid, rows[message_id].status) == (sid, "queued")
        assert rows[message_id].attempts == 1
        # cut off: started and accepted at its claim, as near as is known
        assert rows[message_id].attempted_at == rows[message_id].sent_at == NOW
    for message in claimed[2:]:
        assert rows[message.id].status == "queued"
        assert rows[message.id].attempts == 2
    assert Counter(m["body"] for m in fake.messages) == {f"mensaje {n}": 1 for n in range(4)}
    assert len(fake.messages) == 4


def test_when_twilio_cannot_tell_the_message_waits_for_staff(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    queue_messages(db, clinic_id, 2)
    claim_due(db, clock())
    clock.advance(minutes=3)
    unreachable = TwilioChannel(
        fake.account_sid, "wrong-token", api_url=fake.url, timeout=5
    )  # Twilio answers 401 to the list

    report = dispatch_job(db, unreachable, clock)

    assert report.total == 0
    assert [(m.status, m.attempts) for m in outbox(db)] == [("unconfirmed", 1)] * 2
    assert "could not tell" in (outbox(db)[0].error_message or "")
    clock.advance(days=1)
    assert dispatch_job(db, channel_for(fake), clock).total == 0
    assert fake.messages == []


def test_the_sandbox_remembers_what_it_accepted(clock: Clock) -> None:
    sandbox = SandboxChannel()
    sent = sandbox.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="hola")
    since = datetime.now(UTC) - timedelta(minutes=1)
    [found] = sandbox.sent_since(
        from_phone=CLINIC_NUMBER, to_phone="+595981000001", sent_after=since
    )
    assert (found.result, found.body) == (sent, "hola")
    assert (
        sandbox.sent_since(from_phone=CLINIC_NUMBER, to_phone="+595981000002", sent_after=since)
        == []
    )


def test_twilio_is_asked_only_about_messages_sent_since_the_claim(
    clock: Clock, fake: FakeTwilio
) -> None:
    channel = channel_for(fake)
    old = channel.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="hola")
    clock.advance(hours=1)
    for _ in range(120):  # more than one page of the list
        channel.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="otro")
    found = channel.sent_since(
        from_phone=CLINIC_NUMBER, to_phone="+595981000001", sent_after=NOW - timedelta(minutes=1)
    )
    assert found[0].sid == old.sid and found[0].body == "hola"
    assert len(found) == 121
    assert "hola" not in {
        m.body
        for m in channel.sent_since(
            from_phone=CLINIC_NUMBER,
            to_phone="+595981000001",
            sent_after=clock() - timedelta(minutes=1),
        )
    }


def test_two_workers_on_postgres_send_every_message_exactly_once(
    on_postgres: Engine, clock: Clock, fake: FakeTwilio
) -> None:
    db = on_postgres
    clinic = make_clinic(db, timezone="America/New_York")
    set_reminders(db, clinic.id, 24, None)
    start = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
    count = 0
    for day in range(2):
        for slot in range(20):
            for professional in ("ana", "luis"):
                starts_at = start + timedelta(days=day, minutes=30 * slot)
                book_at(
                    db,
                    clinic,
                    starts_at,
                    NOW,
                    phone=f"+5959812{count:05d}",
                    professional=professional,
                    actor=CHAT if count % 2 else STAFF,  # staff bookings get a confirmation
                )
                count += 1
    # the first day is over (too late for anything), the second day's reminders are due
    clock.now = start + timedelta(days=1, minutes=-1)
    for n in range(count):  # they all wrote lately: free-form text inside the 24-hour window
        writes(db, clinic.id, f"+5959812{n:05d}", clock.now - timedelta(hours=1))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        channel = channel_for(fake)
        try:
            barrier.wait()
            for _ in range(3):
                notifications_job(db, clock, base_url=BASE_URL, secret=SECRET, limit=7)
                dispatch_job(db, channel, clock, limit=5)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    planned = notifications(db)
    assert Counter((n.status, n.reason) for n in planned) == {
        ("skipped", "too late"): 40 + 20,
        ("queued", None): 40 + 20,
    }
    messages = outbox(db)
    assert len(messages) == 60
    assert {m.status for m in messages} == {"queued"}
    assert sorted(m.twilio_sid for m in messages) == sorted(m["sid"] for m in fake.messages)
    assert set(Counter((m["to"], m["body"]) for m in fake.messages).values()) == {1}


def test_a_slow_batch_hands_back_what_it_could_not_send_in_time(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    queue_messages(db, clinic_id, 3)
    ticks = iter([0.0, 0.0, 30.0, 61.0])  # the provider slows down after the first send

    report = dispatch_due(db, channel_for(fake), clock(), timer=lambda: next(ticks, 61.0))

    assert (report.sent, report.released) == (2, 1)
    assert [(m.status, m.attempts) for m in outbox(db)] == [
        ("queued", 1),
        ("queued", 1),
        ("pending", 0),
    ]
    assert len(fake.messages) == 2


def test_a_shorter_claim_timeout_shortens_a_batch_in_proportion(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """OUTBOX_CLAIM_TIMEOUT_SECONDS of 20 lets a batch send for 10 s, not a minute."""
    queue_messages(db, clinic_id, 3)
    ticks = iter([0.0, 0.0, 5.0, 11.0])

    report = dispatch_due(
        db,
        channel_for(fake),
        clock(),
        timer=lambda: next(ticks, 11.0),
        send_budget=timedelta(seconds=20) / 2,
    )

    assert (report.sent, report.released) == (2, 1)
    assert len(fake.messages) == 2


def _queue_one(db: Engine, clinic_id: int, kind: str, body: str) -> None:
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic_id,
            idempotency_key=f"{kind}:1",
            from_phone=CLINIC_NUMBER,
            to_phone=PHONE,
            body=body,
            now=NOW,
            kind=kind,
        )


class Crash(BaseException):
    """The worker dies: nothing of ours catches it."""


def crash_after_the_create(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next send reaches Twilio, and the worker dies before recording it."""

    def dies(*args: object, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr("scheduler.dispatcher.mark_sent", dies)


def a_reminder_cut_off_as_a_template(
    db: Engine, clinic_id: int, channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply sent and recorded, then, a few seconds later, a reminder outside the
    24-hour window (so it goes as the clinic's approved template) whose worker dies
    between Twilio's create and the mark."""
    approve(db, clinic_id)
    queue_message(db, clinic_id, "reply:1", PHONE, NOW, body="¿Qué día te queda bien?")
    assert dispatch_due(db, channel, NOW).sent == 1
    queue_message(db, clinic_id, "reminder:1", PHONE, NOW, kind="reminder", variables=TAGS)
    with monkeypatch.context() as patched:
        crash_after_the_create(patched)
        with pytest.raises(Crash):
            dispatch_due(db, channel, NOW + timedelta(seconds=20))
    assert row(db, "reminder:1").status == "sending"


def test_a_template_cut_off_after_twilio_took_it_is_found_there_and_sent_once(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its words at Twilio are the template's, not ours: it is the one message to the phone
    that no row of ours holds, even though another message reached the phone just before."""
    channel = channel_for(fake)
    a_reminder_cut_off_as_a_template(db, clinic_id, channel, monkeypatch)
    [_, template] = fake.messages
    assert template["content_sid"] == REMINDER_SID
    clock.advance(minutes=3)

    assert dispatch_job(db, channel, clock).total == 0
    reminder = row(db, "reminder:1")
    assert (reminder.status, reminder.twilio_sid) == ("queued", template["sid"])
    clock.advance(hours=1)
    assert dispatch_job(db, channel, clock).total == 0
    assert len(fake.messages) == 2


def test_a_template_cut_off_before_twilio_took_it_is_sent_once(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """Another message reached the phone in the minute before, and every message there
    is one of ours: this one is not there, so it goes now."""
    channel = channel_for(fake)
    approve(db, clinic_id)
    queue_message(db, clinic_id, "reply:1", PHONE, NOW, body="¿Qué día te queda bien?")
    assert dispatch_due(db, channel, NOW).sent == 1
    queue_message(db, clinic_id, "reminder:1", PHONE, NOW, kind="reminder", variables=TAGS)
    claim_due(db, NOW + timedelta(seconds=20))  # the worker dies before the create
    clock.advance(minutes=3)

    assert dispatch_job(db, channel, clock).sent == 1
    assert row(db, "reminder:1").status == "queued"
    assert [m["content_sid"] for m in fake.messages] == [None, REMINDER_SID]


def test_twilios_callback_names_the_row_of_a_cut_off_send(
    db: Engine, clinic_id: int, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status callback's address carries the row's id, signed by Twilio with the rest
    of the URL: the row takes its SID from Twilio's own word, before anything is asked."""
    with live(db, clock) as server:
        a_reminder_cut_off_as_a_template(db, clinic_id, server.channel, monkeypatch)
        template = server.fake.messages[-1]
        answers = server.fake.emit_statuses(template["sid"], ["sent", "delivered"])
        assert [a["response_status"] for a in answers] == [204, 204]
        reminder = row(db, "reminder:1")
        assert (reminder.status, reminder.twilio_sid) == ("delivered", template["sid"])
        assert template["status_callback"].endswith(f"/whatsapp/status?ref={reminder.id}")
        clock.advance(minutes=3)
        assert dispatch_job(db, server.channel, clock).total == 0
        assert len(server.fake.messages) == 2


def test_a_template_that_cannot_be_told_apart_waits_for_staff(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something else sent to the phone from the clinic's number meanwhile (no row of ours
    holds it): either message may be this one, so it is not sent again on a guess."""
    channel = channel_for(fake)
    a_reminder_cut_off_as_a_template(db, clinic_id, channel, monkeypatch)
    channel.send(from_phone=CLINIC_NUMBER, to_phone=PHONE, body="desde otro sistema")
    clock.advance(minutes=3)

    assert dispatch_job(db, channel, clock).total == 0
    reminder = row(db, "reminder:1")
    assert reminder.status == "unconfirmed" and AMBIGUOUS in (reminder.error_message or "")
    assert len(fake.messages) == 3


def test_a_plain_answer_is_still_retried_when_another_message_went_meanwhile(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """A reply goes as text only, so its words identify it: another message to the same
    phone does not hold it back."""
    channel = channel_for(fake)
    _queue_one(db, clinic_id, "reply", "¿Qué día te queda bien?")
    claim_due(db, clock())
    channel.send(from_phone=CLINIC_NUMBER, to_phone=PHONE, body="otro mensaje")
    clock.advance(minutes=3)

    assert dispatch_job(db, channel, clock).sent == 1
    assert [m["body"] for m in fake.messages] == ["otro mensaje", "¿Qué día te queda bien?"]


# -- sends Twilio answered late, or not at all ----------------------------------------------


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
