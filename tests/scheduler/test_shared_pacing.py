"""Sending from many places at once, on the real clock: dispatchers that share the
senders' schedules (in the database or in Redis) never exceed a sender's rate together;
one dispatcher waits for Twilio's answers to several phones at a time, each phone's
messages still in order; and a send whose record was interrupted by a lost connection is
recorded once the connection is back, not taken for a failure."""

import os
import threading
import uuid
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Engine, event, update
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from scheduler.pacing import (
    LONGEST_SEND,
    RECHECK,
    WINDOW_MARGIN,
    LocalPaces,
    Pacer,
    SharedPaces,
    busiest_second,
)
from scheduler.redis_paces import RedisPaces
from store.db import transaction
from store.models import Clinic, OutboxMessage
from store.sender_paces import StorePaces
from tests.window_support import add_clinic, queue_message
from turnero.fake_twilio import FakeTwilio

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def sender() -> str:
    """A sender number of its own, so schedules left by other tests do not count."""
    return "+5959" + str(uuid.uuid4().int)[:8]


def redis_paces() -> RedisPaces:
    paces = RedisPaces.from_url(REDIS_URL)
    try:
        paces.client.ping()
    except Exception as error:
        pytest.skip(f"needs Redis at {REDIS_URL}: {error}")
    return paces


def send_together(shared: list[SharedPaces], sender: str, rate: float, each: int) -> list[float]:
    """Each of several dispatchers (one Pacer per schedule store given) sends `each`
    messages from `sender` as fast as its pacer lets it; returns when each send began."""
    moments: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(shared))

    def dispatcher(paces: SharedPaces) -> None:
        pacer = Pacer(paces)
        start.wait()
        for _ in range(each):
            token = pacer.wait(sender, rate)
            with lock:
                moments.append(pacer.timer())
            pacer.done(sender, token)

    threads = [threading.Thread(target=dispatcher, args=(paces,)) for paces in shared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return moments


def test_dispatchers_sharing_the_database_schedule_keep_the_rate_together(
    db: Engine, sender: str
) -> None:
    moments = send_together([StorePaces(db), StorePaces(db)], sender, rate=8, each=12)
    assert len(moments) == 24
    assert busiest_second(moments) <= 8


def test_dispatchers_sharing_the_redis_schedule_keep_the_rate_together(sender: str) -> None:
    moments = send_together([redis_paces(), redis_paces()], sender, rate=8, each=12)
    assert len(moments) == 24
    assert busiest_second(moments) <= 8


def test_dispatchers_that_do_not_share_a_schedule_would_exceed_it(sender: str) -> None:
    """What the shared schedule prevents: two dispatchers pacing alone send twice the rate."""
    moments = send_together([LocalPaces(), LocalPaces()], sender, rate=8, each=12)
    assert busiest_second(moments) > 8


class SteppedClock:
    """A clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def test_a_dispatcher_done_with_its_batch_lets_the_others_count_from_its_last_answer(
    sender: str,
) -> None:
    clock, shared = SteppedClock(), LocalPaces()
    first, second = (Pacer(shared, timer=clock.time, sleep=clock.sleep) for _ in range(2))
    token = first.wait(sender, 1)
    clock.sleep(0.3)  # Twilio answers
    first.done(sender, token)
    first.flush()  # the end of its batch
    second.wait(sender, 1)
    assert clock.now == pytest.approx(1.3 + WINDOW_MARGIN)


def test_an_end_never_written_holds_the_sender_until_the_longest_send_has_passed(
    sender: str,
) -> None:
    clock, shared = SteppedClock(), LocalPaces()
    first, second = (Pacer(shared, timer=clock.time, sleep=clock.sleep) for _ in range(2))
    first.wait(sender, 1)  # and its dispatcher dies before writing the send's end
    second.wait(sender, 1)
    assert clock.now == pytest.approx(LONGEST_SEND + 1 + WINDOW_MARGIN, abs=RECHECK)


def set_rate(db: Engine, clinic_id: int, rate: float) -> None:
    with transaction(db) as session:
        session.execute(
            update(Clinic).where(col(Clinic.id) == clinic_id).values(send_rate_per_second=rate)
        )


def received(fake: FakeTwilio, to: str | None = None) -> list[float]:
    """When each message (to `to`, if given) reached the fake Twilio, in seconds."""
    return [
        datetime.fromisoformat(m["received_at"]).timestamp()
        for m in fake.messages
        if to is None or m["to"].endswith(to)
    ]


def test_sends_to_different_phones_wait_for_their_answers_together(
    db: Engine, channel: TwilioChannel, fake: FakeTwilio, sender: str
) -> None:
    clinic_id = add_clinic(db, sender)
    set_rate(db, clinic_id, 20)
    for n in range(6):
        queue_message(db, clinic_id, f"m{n}", f"+59598100001{n}", NOW, from_phone=sender)
    fake.answer_late(6, 1.0)
    report = dispatch_due(db, channel, NOW, pacer=Pacer(StorePaces(db)), sends_at_once=6)
    assert report.sent == 6
    arrivals = received(fake)
    # one after another, each would arrive only after the one before was answered (1 s)
    assert max(arrivals) - min(arrivals) < 1.0


def test_a_phones_messages_go_one_at_a_time_in_order_while_other_phones_go_on(
    db: Engine, channel: TwilioChannel, fake: FakeTwilio, sender: str
) -> None:
    clinic_id = add_clinic(db, sender)
    set_rate(db, clinic_id, 20)
    for n in range(3):
        queue_message(db, clinic_id, f"a{n}", "+595981000021", NOW, body=f"a{n}", from_phone=sender)
        queue_message(db, clinic_id, f"b{n}", "+595981000022", NOW, body=f"b{n}", from_phone=sender)
    fake.answer_late(6, 0.4)
    report = dispatch_due(db, channel, NOW, pacer=Pacer(StorePaces(db)), sends_at_once=4)
    assert report.sent == 6
    for phone, prefix in (("+595981000021", "a"), ("+595981000022", "b")):
        bodies = [m["body"] for m in fake.messages if m["to"].endswith(phone)]
        assert bodies == [f"{prefix}{n}" for n in range(3)]
        arrivals = received(fake, phone)
        assert all(later - earlier >= 0.4 for earlier, later in pairwise(arrivals))


def test_parallel_sends_never_exceed_the_senders_rate(
    db: Engine, channel: TwilioChannel, fake: FakeTwilio, sender: str
) -> None:
    clinic_id = add_clinic(db, sender)
    set_rate(db, clinic_id, 4)
    for n in range(10):
        queue_message(db, clinic_id, f"m{n}", f"+5959810001{n:02d}", NOW, from_phone=sender)
    fake.answer_late(10, 0.3)
    report = dispatch_due(db, channel, NOW, pacer=Pacer(StorePaces(db)), sends_at_once=8)
    assert report.sent == 10
    assert busiest_second(received(fake)) <= 4


def test_a_send_whose_record_lost_the_connection_once_is_recorded_when_it_is_back(
    db: Engine, channel: TwilioChannel, fake: FakeTwilio, sender: str
) -> None:
    clinic_id = add_clinic(db, sender)
    queue_message(db, clinic_id, "m0", "+595981000031", NOW, from_phone=sender)
    dropped: list[str] = []

    def drop_first_record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not dropped and "twilio_sid" in statement and statement.lstrip().startswith("UPDATE"):
            dropped.append(statement)
            raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    event.listen(db, "before_cursor_execute", drop_first_record)
    try:
        report = dispatch_due(db, channel, NOW, pacer=Pacer(LocalPaces()))
    finally:
        event.remove(db, "before_cursor_execute", drop_first_record)
    assert dropped, "the record of the send was never interrupted"
    assert (report.sent, report.failed) == (1, 0)
    assert len(fake.messages) == 1
    with transaction(db) as session:
        row = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.idempotency_key) == "m0")
        ).one()
        assert (row.status, row.twilio_sid) == ("queued", fake.messages[0]["sid"])
