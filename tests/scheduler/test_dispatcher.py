"""The outbox dispatcher and the store's side of sending, against the real `twilio`
client talking to the fake Twilio server (nothing of ours is mocked)."""

import itertools
import logging
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import col, select

from channel.base import SendError, SendResult
from channel.sandbox import SandboxChannel
from channel.twilio import TwilioChannel, make_channel
from scheduler.dispatcher import MAX_ATTEMPTS, backoff, dispatch_due, jittered_backoff
from scheduler.worker import run_worker
from store.db import transaction
from store.dispatch import (
    apply_status_callback,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
)
from store.models import MessageStatusEvent, OutboxMessage
from store.outbox import enqueue
from tests.window_support import add_clinic
from turnero.fake_twilio import FakeTwilio

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CLINIC_NUMBER = "+595981000000"
PATIENT = "+595981000001"


@pytest.fixture
def clinic_id(db: Engine) -> int:
    return add_clinic(db, CLINIC_NUMBER)


def queue(db: Engine, clinic_id: int, key: str, *, to: str = PATIENT, body: str = "hola") -> None:
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic_id,
            idempotency_key=key,
            from_phone=CLINIC_NUMBER,
            to_phone=to,
            body=body,
            now=NOW,
        )


def row(db: Engine, key: str) -> OutboxMessage:
    with transaction(db) as session:
        found = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.idempotency_key) == key)
        ).one()
        session.expunge(found)
        return found


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- sending -------------------------------------------------------------------------------


def test_a_queued_message_is_sent_once_and_gets_its_sid(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1", body="Tu turno está confirmado")

    report = dispatch_due(db, channel, NOW)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [sent] = fake.messages
    assert sent["to"] == f"whatsapp:{PATIENT}"
    assert sent["from"] == f"whatsapp:{CLINIC_NUMBER}"
    assert sent["body"] == "Tu turno está confirmado"
    message = row(db, "m1")
    assert message.twilio_sid == sent["sid"]
    assert message.twilio_sid.startswith("SM") and len(message.twilio_sid) == 34
    assert message.status == "queued"
    assert message.attempts == 1
    assert message.updated_at == NOW

    again = dispatch_due(db, channel, NOW + timedelta(hours=1))
    assert again.total == 0
    assert len(fake.messages) == 1


def test_a_message_not_yet_due_waits(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    assert dispatch_due(db, channel, NOW - timedelta(seconds=1)).total == 0
    assert fake.messages == []
    assert dispatch_due(db, channel, NOW).sent == 1


def test_messages_go_out_oldest_first_in_batches(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    for n in range(5):
        queue(db, clinic_id, f"m{n}", body=f"mensaje {n}")
    assert dispatch_due(db, channel, NOW, limit=3).sent == 3
    assert dispatch_due(db, channel, NOW, limit=3).sent == 2
    assert [m["body"] for m in fake.messages] == [f"mensaje {n}" for n in range(5)]


def test_status_callback_url_is_passed_to_twilio_naming_the_row(
    db: Engine, clinic_id: int, fake: FakeTwilio
) -> None:
    callback = "https://turnero.example.org/twilio/status"
    channel = TwilioChannel(
        fake.account_sid, fake.auth_token, api_url=fake.url, status_callback_url=callback
    )
    queue(db, clinic_id, "m1")
    dispatch_due(db, channel, NOW)
    assert fake.messages[0]["status_callback"] == f"{callback}?ref={row(db, 'm1').id}"


# -- retries and failures ------------------------------------------------------------------


def test_429_backs_off_then_a_later_dispatch_sends(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    fake.fail_next(1, http_status=429)

    report = dispatch_due(db, channel, NOW, rand=lambda: 1.0)  # the longest jittered wait

    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    waiting = row(db, "m1")
    assert waiting.status == "pending"
    assert waiting.attempts == 1
    # 30 s and up to half again at random, so a burst held back does not return at once
    delay = waiting.next_attempt_at - NOW
    assert timedelta(seconds=30) <= delay <= timedelta(seconds=45)
    assert waiting.error_code == "20429"
    assert fake.messages == []

    assert dispatch_due(db, channel, NOW + timedelta(seconds=29)).total == 0
    assert dispatch_due(db, channel, NOW + delay).sent == 1
    sent = row(db, "m1")
    assert sent.status == "queued"
    assert sent.attempts == 2
    assert sent.twilio_sid == fake.messages[0]["sid"]
    assert sent.error_code is None and sent.error_message is None


def test_500_is_retried_with_growing_delays(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    fake.fail_next(2, http_status=500)

    assert dispatch_due(db, channel, NOW, rand=lambda: 1.0).retried == 1
    assert row(db, "m1").next_attempt_at == NOW + timedelta(seconds=30)
    later = NOW + timedelta(seconds=30)
    assert dispatch_due(db, channel, later, rand=lambda: 1.0).retried == 1
    assert row(db, "m1").next_attempt_at == later + timedelta(seconds=60)
    assert dispatch_due(db, channel, later + timedelta(seconds=60)).sent == 1
    assert len(fake.messages) == 1
    assert row(db, "m1").attempts == 3


def test_backoff_doubles_and_is_capped_at_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 480, 960]
    assert backoff(20) == timedelta(hours=1)


def test_jittered_backoff_is_drawn_between_a_second_and_the_ceiling() -> None:
    assert jittered_backoff(1, lambda: 0.0) == timedelta(seconds=1)
    assert jittered_backoff(1, lambda: 1.0) == timedelta(seconds=30)
    assert jittered_backoff(3, lambda: 0.5) == timedelta(seconds=1 + 119 / 2)
    assert jittered_backoff(20, lambda: 1.0) == timedelta(hours=1)
    draws = [jittered_backoff(4).total_seconds() for _ in range(200)]
    assert all(1 <= d <= 240 for d in draws)
    assert len(set(draws)) > 150  # spread out, not all the same


def test_400_invalid_number_fails_at_once_and_keeps_the_code(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    fake.fail_next(1, http_status=400, code=21211)

    report = dispatch_due(db, channel, NOW)

    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    failed = row(db, "m1")
    assert failed.status == "failed"
    assert failed.error_code == "21211"
    assert failed.error_message
    assert failed.attempts == 1
    assert dispatch_due(db, channel, NOW + timedelta(days=1)).total == 0
    assert fake.messages == []


def test_twilio_rejecting_the_number_itself_fails_with_21211(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1", to="+12")
    assert dispatch_due(db, channel, NOW).failed == 1
    failed = row(db, "m1")
    assert (failed.status, failed.error_code) == ("failed", "21211")
    assert "+12" in (failed.error_message or "")


def test_network_error_is_retryable(db: Engine, clinic_id: int) -> None:
    channel = TwilioChannel(
        "AC" + "1" * 32, "token", api_url=f"http://127.0.0.1:{closed_port()}", timeout=2
    )
    with pytest.raises(SendError) as raised:
        channel.send(from_phone=CLINIC_NUMBER, to_phone=PATIENT, body="hola")
    assert raised.value.http_status is None
    assert raised.value.retryable
    assert not raised.value.unanswered  # refused: Twilio never had it

    queue(db, clinic_id, "m1")
    assert dispatch_due(db, channel, NOW).retried == 1
    waiting = row(db, "m1")
    assert waiting.status == "pending"
    assert waiting.error_code is None
    assert "ConnectionError" in (waiting.error_message or "")


def test_a_timeout_is_unanswered_rather_than_failed() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        channel = TwilioChannel(
            "AC" + "1" * 32, "token", api_url=f"http://127.0.0.1:{port}", timeout=0.3
        )
        with pytest.raises(SendError) as raised:
            channel.send(from_phone=CLINIC_NUMBER, to_phone=PATIENT, body="hola")
    assert raised.value.http_status is None
    assert raised.value.unanswered  # Twilio may have accepted it
    assert "Timeout" in raised.value.message


@pytest.mark.parametrize(
    ("http_status", "retryable"),
    [(None, True), (429, True), (500, True), (503, True), (400, False), (401, False)],
)
def test_which_send_errors_are_retryable(http_status: int | None, retryable: bool) -> None:
    assert SendError("x", http_status=http_status).retryable is retryable


def test_six_retryable_failures_give_up(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    fake.fail_next(10, http_status=503)
    now = NOW
    reports = []
    for _ in range(MAX_ATTEMPTS):
        reports.append(dispatch_due(db, channel, now))
        now += timedelta(hours=2)

    assert [r.retried for r in reports] == [1, 1, 1, 1, 1, 0]
    assert reports[-1].failed == 1
    failed = row(db, "m1")
    assert failed.status == "failed"
    assert failed.attempts == MAX_ATTEMPTS
    assert failed.error_code == "20503"
    assert dispatch_due(db, channel, now + timedelta(days=1)).total == 0
    assert fake.messages == []


def test_twilio_down_ten_minutes_uses_up_no_message(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    fake.go_down()
    now = NOW
    while now < NOW + timedelta(minutes=10):  # a pass every 20 s, short waits drawn
        dispatch_due(db, channel, now, rand=lambda: 0.0)
        now += timedelta(seconds=20)
    assert row(db, "m1").status == "pending" and row(db, "m1").attempts > MAX_ATTEMPTS
    fake.come_up()
    assert dispatch_due(db, channel, now).sent == 1
    assert [m["body"] for m in fake.messages] == ["hola"]


class BreaksForOnePhone:
    """A channel with a bug for one phone; sends the rest through Twilio."""

    def __init__(self, inner: TwilioChannel, broken_phone: str) -> None:
        self.inner = inner
        self.broken_phone = broken_phone

    def send(self, *, from_phone: str, to_phone: str, body: str, **_: object) -> SendResult:
        if to_phone == self.broken_phone:
            raise RuntimeError("bug")
        return self.inner.send(from_phone=from_phone, to_phone=to_phone, body=body)


def test_a_bug_with_one_message_does_not_stop_the_others(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1", to="+595981000001")
    queue(db, clinic_id, "m2", to="+595981000002")
    queue(db, clinic_id, "m3", to="+595981000003")

    report = dispatch_due(db, BreaksForOnePhone(channel, "+595981000002"), NOW)

    assert (report.sent, report.retried, report.failed) == (2, 0, 1)
    assert row(db, "m2").status == "failed"
    assert {row(db, k).status for k in ("m1", "m3")} == {"queued"}
    assert len(fake.messages) == 2


def test_the_sandbox_sends_nothing_and_reports_delivered(db: Engine, clinic_id: int) -> None:
    queue(db, clinic_id, "m1")
    assert dispatch_due(db, SandboxChannel(), NOW).sent == 1
    message = row(db, "m1")
    assert message.status == "delivered"
    assert message.twilio_sid is not None and message.twilio_sid.startswith("SB")
    assert len(message.twilio_sid) == 34


def test_make_channel_needs_both_credentials() -> None:
    assert isinstance(make_channel("AC" + "1" * 32, "token", None, None), TwilioChannel)
    assert isinstance(make_channel("AC" + "1" * 32, None, None, None), SandboxChannel)
    assert isinstance(make_channel(None, None, None, None), SandboxChannel)


def test_the_background_worker_dispatches(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    scheduler = run_worker(db, channel, interval_seconds=0.05, block=False, clock=lambda: NOW)
    try:
        for _ in range(100):
            if row(db, "m1").status == "queued":
                break
            threading.Event().wait(0.05)
    finally:
        scheduler.shutdown()
    assert row(db, "m1").status == "queued"
    assert len(fake.messages) == 1


def test_late_marks_cannot_undo_a_send(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    dispatch_due(db, channel, NOW)
    message_id = row(db, "m1").id
    assert message_id is not None
    assert mark_failed(db, message_id, "21211", "late", NOW) is False
    assert mark_retry(db, message_id, "late", NOW, NOW) is False
    assert row(db, "m1").status == "queued"


# -- status callbacks ----------------------------------------------------------------------


def sent_message(db: Engine, clinic_id: int, channel: TwilioChannel, key: str = "m1") -> str:
    queue(db, clinic_id, key)
    dispatch_due(db, channel, NOW)
    sid = row(db, key).twilio_sid
    assert sid is not None
    return sid


def callback(db: Engine, sid: str, status: str, error_code: str | None = None) -> bool:
    return apply_status_callback(
        db, message_sid=sid, status=status, error_code=error_code, now=NOW + timedelta(minutes=1)
    )


def test_duplicate_callbacks_are_recorded_once(
    db: Engine, clinic_id: int, channel: TwilioChannel
) -> None:
    sid = sent_message(db, clinic_id, channel)
    assert callback(db, sid, "sent") is True
    assert callback(db, sid, "sent") is False
    assert row(db, "m1").status == "sent"
    with transaction(db) as session:
        events = session.exec(
            select(MessageStatusEvent).where(col(MessageStatusEvent.message_sid) == sid)
        ).all()
        assert [(e.status, e.clinic_id) for e in events] == [("sent", clinic_id)]


def test_callbacks_never_move_a_message_backwards(
    db: Engine, clinic_id: int, channel: TwilioChannel
) -> None:
    sid = sent_message(db, clinic_id, channel)
    assert callback(db, sid, "delivered")
    assert callback(db, sid, "sent")
    assert row(db, "m1").status == "delivered"
    assert callback(db, sid, "read")
    assert callback(db, sid, "queued")
    assert callback(db, sid, "failed", "30008")
    message = row(db, "m1")
    assert message.status == "read"
    assert message.error_code is None


def test_a_failed_callback_stores_the_error_code_and_is_final(
    db: Engine, clinic_id: int, channel: TwilioChannel
) -> None:
    sid = sent_message(db, clinic_id, channel)
    assert callback(db, sid, "sent")
    assert callback(db, sid, "failed", "30008")
    message = row(db, "m1")
    assert (message.status, message.error_code) == ("failed", "30008")
    assert callback(db, sid, "delivered")
    assert callback(db, sid, "undelivered", "63003")
    assert (row(db, "m1").status, row(db, "m1").error_code) == ("failed", "30008")


def test_undelivered_overrides_sent(db: Engine, clinic_id: int, channel: TwilioChannel) -> None:
    sid = sent_message(db, clinic_id, channel)
    assert callback(db, sid, "sent")
    assert callback(db, sid, "undelivered", "63014")
    assert (row(db, "m1").status, row(db, "m1").error_code) == ("undelivered", "63014")


def test_a_callback_for_an_unknown_sid_is_kept_without_touching_the_outbox(
    db: Engine, clinic_id: int, channel: TwilioChannel
) -> None:
    sent_message(db, clinic_id, channel)
    assert callback(db, "SM" + "9" * 32, "delivered")
    assert row(db, "m1").status == "queued"


def test_a_callback_that_beats_mark_sent_is_not_lost(
    db: Engine, clinic_id: int, fake: FakeTwilio
) -> None:
    """Twilio may call back before the dispatcher has stored the SID."""

    class CallbackFirst:
        def send(self, *, from_phone: str, to_phone: str, body: str, **_: object) -> SendResult:
            callback(db, "SM" + "7" * 32, "delivered")
            return SendResult("SM" + "7" * 32, "queued")

    queue(db, clinic_id, "m1")
    assert dispatch_due(db, CallbackFirst(), NOW).sent == 1
    assert row(db, "m1").status == "delivered"


# -- concurrency (PostgreSQL) --------------------------------------------------------------


def test_two_dispatchers_send_each_message_exactly_once(
    on_postgres: Engine, clinic_id: int, fake: FakeTwilio
) -> None:
    db = on_postgres
    for n in range(40):
        queue(db, clinic_id, f"m{n}", body=f"mensaje {n}")
    start = threading.Barrier(2)
    reports = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)
        try:
            start.wait()
            while (report := dispatch_due(db, channel, NOW, limit=3)).total:
                reports.append(report)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    bodies = [m["body"] for m in fake.messages]
    assert len(bodies) == 40
    assert sorted(bodies) == sorted(f"mensaje {n}" for n in range(40))
    assert sum(r.sent for r in reports) == 40
    with transaction(db) as session:
        rows = session.exec(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"queued"}
        assert {r.attempts for r in rows} == {1}
        assert len({r.twilio_sid for r in rows}) == 40


def test_claim_skips_rows_another_transaction_holds(on_postgres: Engine, clinic_id: int) -> None:
    db = on_postgres
    for n in range(4):
        queue(db, clinic_id, f"m{n}", to=f"+59598100000{n}")
    with db.connect() as other:
        held = other.execute(
            text("SELECT id FROM outbox_message ORDER BY id LIMIT 2 FOR UPDATE")
        ).scalars()
        held_ids = set(held)
        claimed = claim_due(db, NOW)
        other.rollback()
    assert len(claimed) == 2
    assert not held_ids & {m.id for m in claimed}
    assert {m.status for m in claimed} == {"sending"}


def test_a_phones_later_messages_wait_while_an_earlier_one_is_with_another_dispatcher(
    db: Engine, clinic_id: int
) -> None:
    for n in range(3):
        queue(db, clinic_id, f"m{n}")
    queue(db, clinic_id, "other", to="+595981000009")
    first = claim_due(db, NOW, limit=1)
    assert [m.idempotency_key for m in first] == ["m0"]
    # m0 is being sent elsewhere: its phone's m1 and m2 wait, the other phone goes on
    assert [m.idempotency_key for m in claim_due(db, NOW)] == ["other"]
    assert {row(db, k).status for k in ("m1", "m2")} == {"pending"}
    mark_sent(db, first[0].id or 0, "SM" + "1" * 32, "queued", NOW)
    assert [m.idempotency_key for m in claim_due(db, NOW)] == ["m1", "m2"]


# -- when each send started and was accepted -------------------------------------------------


def test_a_send_records_when_it_started_and_when_twilio_accepted_it(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    """The times come from the pass's clock (here one second on at each reading)."""
    queue(db, clinic_id, "refused", to="+595981000002")
    queue(db, clinic_id, "accepted", to=PATIENT)
    fake.fail_next(1, http_status=400, code=21211)  # the oldest goes first
    readings = itertools.count(1)
    report = dispatch_due(
        db,
        channel,
        NOW,
        clock=lambda: NOW + timedelta(seconds=next(readings)),
        sends_at_once=1,
    )
    assert (report.sent, report.failed) == (1, 1)
    refused, accepted = row(db, "refused"), row(db, "accepted")
    assert refused.status == "failed" and refused.sent_at is None
    assert refused.attempted_at is not None and refused.attempted_at > NOW
    assert accepted.attempted_at is not None and accepted.sent_at is not None
    assert refused.attempted_at < accepted.attempted_at < accepted.sent_at
    assert accepted.sent_at < NOW + timedelta(minutes=1)


def test_a_retry_records_its_attempt_and_no_acceptance(
    db: Engine, clinic_id: int, fake: FakeTwilio, channel: TwilioChannel
) -> None:
    queue(db, clinic_id, "m1")
    fake.fail_next(1, http_status=500)
    assert dispatch_due(db, channel, NOW).retried == 1
    retried = row(db, "m1")
    assert (retried.status, retried.sent_at) == ("pending", None)
    assert retried.attempted_at is not None and retried.attempted_at >= NOW


def test_a_tick_skipped_while_the_dispatch_still_runs_is_no_warning(
    db: Engine, clinic_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    started, release = threading.Event(), threading.Event()

    class Slow(SandboxChannel):
        def send(self, **kwargs):  # type: ignore[no-untyped-def]
            started.set()
            release.wait(5)
            return super().send(**kwargs)

    queue(db, clinic_id, "m1")
    with caplog.at_level(logging.DEBUG, logger="apscheduler"):
        scheduler = run_worker(db, Slow(), 0.05, block=False, clock=lambda: NOW)
        try:
            assert started.wait(5)
            for _ in range(100):  # ticks come while the first run still sends
                if any("maximum number of running" in r.getMessage() for r in caplog.records):
                    break
                threading.Event().wait(0.05)
        finally:
            release.set()
            scheduler.shutdown(wait=True)
    skipped = [r for r in caplog.records if "maximum number of running" in r.getMessage()]
    assert skipped and all(r.levelno == logging.DEBUG for r in skipped)
