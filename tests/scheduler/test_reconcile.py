"""Sends cut off by a crash are settled against Twilio's message list before anything is
retried, so no message goes out twice; and two workers on PostgreSQL share the work
without doubles."""

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from channel.sandbox import SandboxChannel
from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due, reconcile_stale
from scheduler.notifications import notifications_job
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
from tests.window_support import add_clinic
from turnero.fake_twilio import FakeTwilio

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CLINIC_NUMBER = "+595981000000"


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
    found = sandbox.find_sent(
        from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="hola", sent_after=since
    )
    assert found == sent
    assert (
        sandbox.find_sent(
            from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="chau", sent_after=since
        )
        is None
    )


def test_twilio_is_asked_only_about_messages_sent_since_the_claim(
    clock: Clock, fake: FakeTwilio
) -> None:
    channel = channel_for(fake)
    old = channel.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="hola")
    clock.advance(hours=1)
    for _ in range(120):  # more than one page of the list
        channel.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="otro")
    found = channel.find_sent(
        from_phone=CLINIC_NUMBER,
        to_phone="+595981000001",
        body="hola",
        sent_after=NOW - timedelta(minutes=1),
    )
    assert found is not None and found.sid == old.sid
    assert (
        channel.find_sent(
            from_phone=CLINIC_NUMBER,
            to_phone="+595981000001",
            body="hola",
            sent_after=clock() - timedelta(minutes=1),
        )
        is None
    )


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


def _queue_one(db: Engine, clinic_id: int, kind: str, body: str) -> None:
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic_id,
            idempotency_key=f"{kind}:1",
            from_phone=CLINIC_NUMBER,
            to_phone="+595981000001",
            body=body,
            now=NOW,
            kind=kind,
        )


def test_a_template_cut_off_after_twilio_took_it_waits_for_staff(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """A reminder sent as the clinic's approved template has other words at Twilio than
    our copy: it is not sent again on a guess."""
    channel = channel_for(fake)
    _queue_one(db, clinic_id, "reminder", "Mañana a las 10:00 tenés turno.")
    [claimed] = claim_due(db, clock())
    channel.send(  # the dying dispatcher got the template to Twilio
        from_phone=claimed.from_phone,
        to_phone=claimed.to_phone,
        body=claimed.body,
        content_sid="HX" + "c" * 32,
        content_variables={"1": "10:00"},
    )
    clock.advance(minutes=3)

    assert dispatch_job(db, channel, clock).total == 0
    [row] = outbox(db)
    assert row.status == "unconfirmed" and "as a template" in (row.error_message or "")
    assert len(fake.messages) == 1


def test_a_plain_answer_is_still_retried_when_another_message_went_meanwhile(
    db: Engine, clinic_id: int, clock: Clock, fake: FakeTwilio
) -> None:
    """A reply goes as text only, so its words identify it: another message to the same
    phone does not hold it back."""
    channel = channel_for(fake)
    _queue_one(db, clinic_id, "reply", "¿Qué día te queda bien?")
    claim_due(db, clock())
    channel.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="otro mensaje")
    clock.advance(minutes=3)

    assert dispatch_job(db, channel, clock).sent == 1
    assert [m["body"] for m in fake.messages] == ["otro mensaje", "¿Qué día te queda bien?"]


def test_the_sandbox_finds_any_message_to_a_phone_when_asked(clock: Clock) -> None:
    sandbox = SandboxChannel()
    sent = sandbox.send(from_phone=CLINIC_NUMBER, to_phone="+595981000001", body="hola")
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert (
        sandbox.find_sent(
            from_phone=CLINIC_NUMBER, to_phone="+595981000001", body=None, sent_after=since
        )
        == sent
    )
    assert (
        sandbox.find_sent(
            from_phone=CLINIC_NUMBER, to_phone="+595981000002", body=None, sent_after=since
        )
        is None
    )
