"""Sending well, through the real twilio client and the fake Twilio, on a fake clock:
per-sender pacing, a 429 burst backing off with jitter until everything is sent once,
a long reply split and sent in order even when a piece has to be retried, and a
timeout on every call to Twilio."""

import random
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from channel.base import SendError
from channel.twilio import TwilioChannel
from config.settings import Settings
from scheduler.dispatcher import dispatch_due
from scheduler.pacing import Pacer, busiest_second
from store.db import transaction
from store.models import Clinic, OutboxMessage, ProfessionalService, Service
from store.outbox import BODY_LIMIT, enqueue, split_body
from tests.support import AUTH_TOKEN, PUBLIC_URL, Chat, make_clinic
from turnero.fake_twilio import FakeTwilio
from webhook import create_app

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class FakeTime:
    """A clock that only moves when something sleeps on it."""

    seconds: float = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += max(seconds, 0.0)

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fake(fake_time: FakeTime) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=fake_time.now) as server:
        yield server


@pytest.fixture
def channel(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)


def add_clinic(db: Engine, number: str, rate: float) -> int:
    with transaction(db) as session:
        clinic = Clinic(name=f"Clínica {number}", whatsapp_number=number, send_rate_per_second=rate)
        session.add(clinic)
        session.flush()
        return clinic.id or 0


def queue(db: Engine, clinic_id: int, number: str, count: int) -> None:
    with transaction(db) as session:
        for n in range(count):
            enqueue(
                session,
                clinic_id=clinic_id,
                idempotency_key=f"{number}:{n}",
                from_phone=number,
                to_phone=f"+5959810{n:05d}",
                body=f"mensaje {n} de {number}",
                now=START,
            )


def outbox(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def moments(fake: FakeTwilio, number: str) -> list[float]:
    """When each send from `number` reached the fake, in seconds of the fake clock."""
    return [
        (datetime.fromisoformat(m["received_at"]) - START).total_seconds()
        for m in fake.messages
        if m["from"] == f"whatsapp:{number}"
    ]


# -- pacing --------------------------------------------------------------------------------


def test_each_sender_keeps_to_its_clinics_rate_and_senders_take_turns(
    db: Engine, fake: FakeTwilio, channel: TwilioChannel, fake_time: FakeTime
) -> None:
    quick, slow = "+595981000001", "+595981000002"
    queue(db, add_clinic(db, quick, rate=5), quick, 20)
    queue(db, add_clinic(db, slow, rate=2), slow, 6)
    pacer = Pacer(timer=fake_time.monotonic, sleep=fake_time.sleep)

    report = dispatch_due(db, channel, START, limit=100, pacer=pacer, sends_at_once=1)

    assert report.sent == 26
    assert busiest_second(moments(fake, quick)) == 5
    assert busiest_second(moments(fake, slow)) == 2
    # the slow sender does not hold the quick one back: both run side by side
    assert max(moments(fake, quick)) < 4.5
    assert max(moments(fake, slow)) < 3.5
    senders = [m["from"] for m in fake.messages[:4]]
    assert len(set(senders)) == 2


def test_pacing_below_one_a_second_and_at_a_fractional_rate() -> None:
    clock = FakeTime()
    pacer = Pacer(timer=clock.monotonic, sleep=clock.sleep)
    sent = []
    for _ in range(4):
        token = pacer.wait("+595981000001", 0.5)
        sent.append(clock.monotonic())
        pacer.done("+595981000001", token)
    assert sent == [0.0, 2.0, 4.0, 6.0]

    burst = Pacer(timer=clock.monotonic, sleep=clock.sleep, margin=0.0)
    start = clock.monotonic()
    times = []
    for _ in range(10):
        token = burst.wait("+595981000002", 2.5)
        times.append(clock.monotonic() - start)
        burst.done("+595981000002", token)
    assert busiest_second(times) == 2
    assert times[:3] == pytest.approx([0.0, 0.4, 1.0])


def test_the_second_is_counted_from_when_a_slow_send_was_answered() -> None:
    clock = FakeTime()
    pacer = Pacer(timer=clock.monotonic, sleep=clock.sleep)
    started, answered = [], []
    for n in range(12):
        token = pacer.wait("+595981000001", 5)
        started.append(clock.monotonic())
        clock.sleep(0.15 if n % 5 == 0 else 0.0)  # Twilio may count it only at the end
        answered.append(clock.monotonic())
        pacer.done("+595981000001", token)
    # however early or late within its request each send was counted, no second has six
    assert all(started[k] - answered[k - 5] >= 1.0 for k in range(5, 12))


def test_busiest_second_counts_a_half_open_window() -> None:
    assert busiest_second([]) == 0
    assert busiest_second([0.0, 0.5, 0.999, 1.0]) == 3
    assert busiest_second([0.0, 1.0, 2.0]) == 1
    assert busiest_second([3.0, 0.1, 0.2]) == 2


def test_a_429_burst_ends_with_everything_sent_once_and_paced(
    db: Engine, fake: FakeTwilio, channel: TwilioChannel, fake_time: FakeTime
) -> None:
    first, second = "+595981000001", "+595981000002"
    queue(db, add_clinic(db, first, rate=5), first, 25)
    queue(db, add_clinic(db, second, rate=3), second, 10)
    fake.fail_next(20, http_status=429, code=20429)
    pacer = Pacer(timer=fake_time.monotonic, sleep=fake_time.sleep)
    draws = random.Random(6).random
    retried, passes = 0, 0
    while any(m.status == "pending" for m in outbox(db)):
        passes += 1
        assert passes < 400, "the burst never drained"
        retried += dispatch_due(
            db, channel, fake_time.now(), pacer=pacer, sends_at_once=1, rand=draws
        ).retried
        fake_time.sleep(1.0)  # the worker's next tick

    assert retried == 20
    rows = outbox(db)
    assert {m.status for m in rows} == {"queued"}
    assert all(m.error_code is None for m in rows)
    bodies = Counter(m["body"] for m in fake.messages)
    assert sorted(bodies) == sorted(m.body for m in rows)
    assert set(bodies.values()) == {1}  # each exactly once
    assert {m.twilio_sid for m in rows} == {m["sid"] for m in fake.messages}
    assert busiest_second(moments(fake, first)) <= 5
    assert busiest_second(moments(fake, second)) <= 3
    # the retries were spread out by the jitter, not sent back together
    attempts_after = sorted({m.attempts for m in rows})
    assert attempts_after[0] == 1 and attempts_after[-1] >= 2


# -- a long reply --------------------------------------------------------------------------


def test_a_3000_character_reply_arrives_in_order_even_when_a_piece_is_retried(
    db: Engine, fake: FakeTwilio, channel: TwilioChannel, fake_time: FakeTime
) -> None:
    clinic = make_clinic(db)
    names = [f"Consulta de especialidad en medicina preventiva número {n}" for n in range(60)]
    with transaction(db) as session:
        for name in names:
            service = Service(clinic_id=clinic.id, name=name, duration_minutes=30)
            session.add(service)
            session.flush()
            session.add(
                ProfessionalService(
                    clinic_id=clinic.id,
                    professional_id=clinic.professionals["ana"],
                    service_id=service.id,
                )
            )
    app = create_app(
        Settings(
            database_url=str(db.url),
            public_base_url=PUBLIC_URL,
            twilio_account_sid="AC" + "1" * 32,
            twilio_auth_token=AUTH_TOKEN,
            secret_key="split-secret",
        ),
        clock=fake_time.now,
        engine=db,
    )
    reply = Chat(app.test_client(), db).says("hola")
    assert len(reply) > 3000
    pieces = [m.body for m in outbox(db)]
    assert len(pieces) == 3 and all(len(p) <= BODY_LIMIT for p in pieces)
    pacer = Pacer(timer=fake_time.monotonic, sleep=fake_time.sleep)
    fake.fail_next(1, http_status=503)

    first = dispatch_due(
        db, channel, fake_time.now(), pacer=pacer, sends_at_once=1, rand=lambda: 1.0
    )
    assert (first.retried, first.released, first.sent) == (1, 2, 0)
    fake_time.sleep(10)
    assert (
        dispatch_due(db, channel, fake_time.now(), pacer=pacer, sends_at_once=1).total == 0
    )  # they wait
    assert fake.messages == []
    fake_time.sleep(20)
    assert dispatch_due(db, channel, fake_time.now(), pacer=pacer, sends_at_once=1).sent == 3

    assert [m["body"] for m in fake.messages] == pieces
    text = "\n".join(m["body"] for m in fake.messages)
    positions = [text.find(name + "\n") for name in names[:-1]] + [text.find(names[-1])]
    assert -1 not in positions and positions == sorted(positions)  # whole words, in order
    assert " ".join(text.split()) == " ".join(reply.split())


# -- timeouts ------------------------------------------------------------------------------


def test_asking_twilio_what_it_has_times_out_too() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        channel = TwilioChannel(
            "AC" + "1" * 32, "token", api_url=f"http://127.0.0.1:{port}", timeout=0.3
        )
        with pytest.raises(SendError) as raised:
            channel.sent_since(
                from_phone="+595981000000", to_phone="+595981000001", sent_after=START
            )
    assert raised.value.http_status is None
    assert "Timeout" in raised.value.message


def test_long_bodies_are_cut_at_line_ends_then_at_spaces() -> None:
    lines = [f"{n}. una línea de la lista de servicios" for n in range(100)]
    pieces = split_body("\n".join(lines), limit=200)
    assert all(len(p) <= 200 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines  # no line is cut
    words = split_body("palabra " * 60, limit=100)
    assert all(len(p) <= 100 for p in words)
    assert all(set(p.split()) == {"palabra"} for p in words)
    assert split_body("x" * 250, limit=100) == ["x" * 100, "x" * 100, "x" * 50]


def test_one_clinics_paced_backlog_does_not_hold_up_another_clinics_messages(
    db: Engine, fake: FakeTwilio, channel: TwilioChannel, fake_time: FakeTime
) -> None:
    campaign, other = "+595981000001", "+595981000002"
    queue(db, add_clinic(db, campaign, rate=10), campaign, 60)  # older, a long backlog
    queue(db, add_clinic(db, other, rate=10), other, 3)
    pacer = Pacer(timer=fake_time.monotonic, sleep=fake_time.sleep)

    report = dispatch_due(db, channel, START, limit=10, pacer=pacer, sends_at_once=1)

    assert report.sent == 13  # a full batch of the backlog, and the other clinic's three
    assert max(moments(fake, other)) < 0.5
    assert busiest_second(moments(fake, campaign)) <= 10


def test_a_late_send_is_made_up_without_breaking_the_second() -> None:
    clock = FakeTime()
    pacer = Pacer(timer=clock.monotonic, sleep=clock.sleep, margin=0.001)
    times = []
    for n in range(30):
        token = pacer.wait("+595981000001", 10)
        times.append(clock.monotonic())
        pacer.done("+595981000001", token)
        if n == 3:
            clock.sleep(0.25)  # busy with another sender: this slot and two more are missed
    assert times[4] == pytest.approx(0.55)
    assert times[5] - times[4] < 0.1  # the lost time (up to 0.1 s) is made up
    assert busiest_second(times) == 10
    assert times[-1] < 3.0  # 30 sends at 10/s: no later than if nothing had been missed
