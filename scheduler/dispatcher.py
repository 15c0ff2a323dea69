"""Sending what the outbox holds: claim due rows, send each through the channel outside
any transaction, then record the outcome. A send whose answer never arrives (a timeout) is
not retried on a guess: Twilio is asked whether it has the message first."""

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from channel.base import Channel, SendError, keeps_window
from scheduler import interactive
from scheduler.pacing import Pacer
from scheduler.sent_lookup import Unsure, look_up
from store.dispatch import (
    Stale,
    claim_batch,
    claim_stale,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_unsent,
    release,
    sender_rates,
    settle_found,
    settle_not_found,
    settle_unknown,
)
from store.error_codes import Action, action_for, rate_limit_delay
from store.models import OutboxMessage, OutboxStatus
from store.window import TEXT, SendPlan, plan_batch

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # tries a message gets at least, however long they take
# A message that errors as Twilio does when it is down (5xx, no connection, 429) is tried
# again for at least this long after it was queued, however many tries that takes: an
# outage of several minutes must not use up its tries (the claim skips what is useless).
RETRY_FOR = timedelta(hours=1)
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
MIN_BACKOFF = timedelta(seconds=1)  # the jittered wait is never shorter than this
DEFAULT_RATE = 80.0  # Twilio's default for one WhatsApp sender, per second
# A message "sending" for longer than this was cut off (its dispatcher died between claim
# and mark): far above one send's timeout (10 s), so a live dispatcher is never second-guessed.
CLAIM_TIMEOUT = timedelta(minutes=2)
# Twilio's clock and ours may differ a little: look that much earlier than the claim.
CLOCK_SKEW = timedelta(minutes=1)
SEND_BUDGET = CLAIM_TIMEOUT / 2  # the longest a batch keeps sending
# A full batch from few senders may hide other senders' messages behind a paced backlog:
# claim again for the others, this many times at most per pass.
MORE_SENDER_CLAIMS = 8
# Sends waiting for Twilio's answer at once (to different phones): at Twilio's ~0.1-0.3 s
# per answer, enough to keep a sender at its default 80 a second.
SENDS_AT_ONCE = 16
# Pauses before recording a send again after the database connection was lost.
RECORD_PAUSES = (0.2, 1.0)

T = TypeVar("T")


@dataclass
class DispatchReport:
    """What one dispatch pass did with the messages it claimed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0  # claimed, but handed back unsent: the batch ran out of time
    not_sendable: int = 0  # outside the 24-hour window with no approved template
    unanswered: int = 0  # sent, no answer, not found at Twilio yet: settled after the claim

    @property
    def total(self) -> int:
        return (self.sent + self.retried + self.failed + self.skipped + self.released) + (
            self.not_sendable + self.unanswered
        )


@dataclass
class ReconcileReport:
    """What became of messages left "sending" by a dispatcher that died."""

    found: int = 0
    released: int = 0
    unconfirmed: int = 0

    @property
    def total(self) -> int:
        return self.found + self.released + self.unconfirmed


def worth_another_try(message: OutboxMessage, now: datetime) -> bool:
    """Whether a message that failed in a way that may pass gets another try."""
    return message.attempts < MAX_ATTEMPTS or now - message.created_at < RETRY_FOR


def backoff(attempts: int) -> timedelta:
    """The longest wait before the next try after `attempts` tries: 30 s, 1 min, 2 min,
    ... ≤ 1 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def jittered_backoff(attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """ "Full jitter": a wait drawn evenly between `MIN_BACKOFF` and `backoff(attempts)`,
    so messages refused together (a 429 burst) do not all come back together."""
    ceiling = backoff(attempts)
    return MIN_BACKOFF + (ceiling - MIN_BACKOFF) * min(max(rand(), 0.0), 1.0)


def dispatch_due(
    engine: Engine,
    channel: Channel,
    now: datetime,
    limit: int = 50,
    *,
    timer: Callable[[], float] = time.monotonic,
    pacer: Pacer | None = None,
    rand: Callable[[], float] = random.random,
    sends_at_once: int = SENDS_AT_ONCE,
    clock: Callable[[], datetime] | None = None,
    send_budget: timedelta = SEND_BUDGET,
) -> DispatchReport:
    """Send up to `limit` due messages. Retryable errors (429, 5xx, network) back off
    exponentially with jitter and fail after `MAX_ATTEMPTS` tries, once `RETRY_FOR` has
    passed since the message was queued; other errors fail at
    once with the provider's code; a rate limit (429, 63017, 63018) waits at least its
    back-off. Messages that no longer apply are skipped at the claim (see
    `store.dispatch.skip_reason`), and outside the 24-hour window a business-initiated
    message goes as the clinic's approved template or is recorded not sendable
    (`store.window`; not in the sandbox, which has no window). One message going wrong
    never stops the others.
    Each sender number sends at most its clinic's `send_rate_per_second`, counted across
    every dispatcher that shares the `pacer`'s schedules; the senders of a batch take
    turns. Up to `sends_at_once` sends wait for Twilio's answer at a time, each to a
    different phone: one phone's messages go one after another in the order claimed, and
    after one that was not sent (a retry) its later ones wait for the next pass. A batch
    that has taken `send_budget` (half the claim timeout: a slow provider, a slow rate)
    hands its unsent rest back, so no other dispatcher mistakes them for a crash's
    leftovers. Each send records when it started and when Twilio accepted it, read from
    `clock` (by default `now` moved on by the time passed since)."""
    clock = clock or _since(now)
    messages, skipped = _claim_for_senders(engine, now, limit)
    report = DispatchReport(skipped=skipped)
    plans = plan_batch(engine, messages, now) if keeps_window(channel) else {}
    pacer = pacer or Pacer()
    rates = sender_rates(engine, {m.clinic_id for m in messages})
    queues: dict[str, list[OutboxMessage]] = {}
    rate: dict[str, float] = {}
    for message in messages:
        queues.setdefault(message.from_phone, []).append(message)
        clinic_rate = rates.get(message.clinic_id) or DEFAULT_RATE
        rate[message.from_phone] = min(rate.get(message.from_phone, clinic_rate), clinic_rate)
    busy: set[tuple[str, str]] = set()  # phones with a send waiting for its answer
    held: set[tuple[str, str]] = set()  # phones with a message not sent: the rest wait
    in_flight: dict[Future[str], OutboxMessage] = {}

    def settle(done: Iterable[Future[str]]) -> None:
        for future in done:
            message = in_flight.pop(future)
            busy.discard(_phone(message))
            outcome = future.result()
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome in ("retried", "unanswered"):
                held.add(_phone(message))

    def send(message: OutboxMessage, plan: SendPlan, token: str) -> str:
        try:
            return _dispatch_one(engine, channel, message, now, plan, rand, clock)
        except DBAPIError:  # the database went away: the claim's timeout settles it
            log.exception("outbox %s: the outcome could not be recorded", message.id)
            return "unanswered"
        except Exception:
            log.exception("outbox %s: unexpected error while dispatching", message.id)
            return _fail_after_bug(engine, message, now)
        finally:
            pacer.done(message.from_phone, token)  # Twilio has had it by now, if ever

    started = timer()
    with _flushed(pacer), _senders(sends_at_once) as pool:
        while queues or in_flight:
            settle([f for f in in_flight if f.done()])
            chosen = None if len(in_flight) >= sends_at_once else _next(queues, busy, pacer)
            if chosen is None:
                settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
                continue
            message = chosen
            if timer() - started > send_budget.total_seconds() or _phone(message) in held:
                report.released += release(engine, message.id or 0, message.attempts - 1, now)
                continue
            plan = plans.get(message.id or 0, TEXT)
            if plan.not_sendable or plan.skip:
                _not_sent(engine, message, plan, now, report)
                continue
            token = pacer.wait(message.from_phone, rate[message.from_phone])
            busy.add(_phone(message))
            in_flight[pool.submit(send, message, plan, token)] = message
    return report


def _since(now: datetime) -> Callable[[], datetime]:
    """The time during a pass that started at `now`: `now` moved on by the time passed."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _phone(message: OutboxMessage) -> tuple[str, str]:
    """The conversation a message belongs to: its sender and its recipient."""
    return message.from_phone, message.to_phone


def _next(
    queues: dict[str, list[OutboxMessage]], busy: set[tuple[str, str]], pacer: Pacer
) -> OutboxMessage | None:
    """Take the next message to send: of the sender whose turn comes first, its oldest
    message to a phone with nothing in flight (None: every phone left is waiting)."""
    ready = []
    for sender, queue in queues.items():
        found = next((n for n, m in enumerate(queue) if _phone(m) not in busy), None)
        if found is not None:
            ready.append((pacer.ready_at(sender), sender, found))
    if not ready:
        return None
    _, sender, position = min(ready)
    message = queues[sender].pop(position)
    if not queues[sender]:
        del queues[sender]
    return message


@contextmanager
def _flushed(pacer: Pacer) -> Iterator[None]:
    """On the way out, the batch's last send ends are written to the shared schedules
    (else they count until LONGEST_SEND has passed)."""
    try:
        yield
    finally:
        try:
            pacer.flush()
        except Exception:
            log.exception("pacing: the ends of this batch's sends could not be recorded")


@contextmanager
def _senders(at_once: int) -> Iterator[Executor]:
    """Threads for the sends; with one at a time, the dispatcher's own thread."""
    if at_once <= 1:
        yield _InThisThread()
        return
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="send") as pool:
        yield pool


class _InThisThread(Executor):
    """Runs each submitted call at once, in the caller's thread."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


def _claim_for_senders(
    engine: Engine, now: datetime, limit: int
) -> tuple[list[OutboxMessage], int]:
    """The oldest due messages; when they fill the batch, up to `limit` more of other
    senders too (again, at most `MORE_SENDER_CLAIMS` times), so that one clinic's paced
    backlog (a campaign) does not hold up another clinic's messages. Returns the messages
    and how many were skipped."""
    claim = claim_batch(engine, now, limit)
    messages, skipped = list(claim.messages), claim.skipped
    senders = {m.from_phone for m in messages}
    full = len(messages) + claim.skipped >= limit
    for _ in range(MORE_SENDER_CLAIMS if full else 0):
        more = claim_batch(engine, now, limit, skip_senders=senders)
        messages += more.messages
        skipped += more.skipped
        senders |= {m.from_phone for m in more.messages}
        if len(more.messages) + more.skipped < limit:
            break
    return messages, skipped


def _not_sent(
    engine: Engine, message: OutboxMessage, plan: SendPlan, now: datetime, report: DispatchReport
) -> None:
    """Record a message the window rules out: not sendable (no template), or skipped
    (another row carries it)."""
    if plan.not_sendable:
        log.warning("outbox %s: not sendable: %s", message.id, plan.not_sendable)
        report.not_sendable += mark_unsent(
            engine, message.id or 0, OutboxStatus.not_sendable, plan.not_sendable, now
        )
    else:
        report.skipped += mark_unsent(
            engine, message.id or 0, OutboxStatus.skipped, plan.skip or "", now
        )


def _dispatch_one(
    engine: Engine,
    channel: Channel,
    message: OutboxMessage,
    now: datetime,
    plan: SendPlan = TEXT,
    rand: Callable[[], float] = random.random,
    clock: Callable[[], datetime] | None = None,
) -> str:
    """Send one claimed message as `plan` says (text, or the approved template) or with
    its choices as buttons, and record the result with when the send started and when
    Twilio accepted it (read from `clock`, `now` without one); returns what happened."""
    assert message.id is not None
    message_id = message.id
    clock = clock or (lambda: now)
    content_sid = (
        None if plan.content_sid else interactive.content_for(engine, channel, message, now)
    )
    attempted_at = clock()
    try:
        if plan.content_sid:  # the window is closed: the clinic's approved template
            content_sid = plan.content_sid
            result = channel.send(
                from_phone=message.from_phone,
                to_phone=message.to_phone,
                body=message.body,
                content_sid=content_sid,
                content_variables=plan.content_variables,
                reference=str(message.id),
            )
        else:
            result, content_sid = interactive.send(channel, message, content_sid)
    except SendError as error:
        if error.unanswered:
            return _settle_unanswered(engine, channel, message, now, content_sid, attempted_at)
        rate_limited = error.http_status == 429 or action_for(error.code) is Action.rate_limited
        if (error.retryable or rate_limited) and worth_another_try(message, now):
            wait = (
                rate_limit_delay(message.attempts, rand)
                if rate_limited
                else jittered_backoff(message.attempts, rand)
            )
            next_attempt_at = now + wait
            log.warning(
                "outbox %s: attempt %s failed (%s), retrying at %s",
                message.id,
                message.attempts,
                error.summary,
                next_attempt_at.isoformat(),
            )
            mark_retry(
                engine,
                message.id,
                error.message,
                next_attempt_at,
                now,
                code=error.code,
                attempted_at=attempted_at,
            )
            return "retried"
        log.warning(
            "outbox %s: failed after %s attempt(s): %s", message.id, message.attempts, error.summary
        )
        mark_failed(engine, message.id, error.code, error.message, now, attempted_at=attempted_at)
        return "failed"
    sent_at = clock()
    _recorded(
        lambda: mark_sent(
            engine,
            message_id,
            result.sid,
            result.status,
            now,
            content_sid=content_sid,
            attempted_at=attempted_at,
            sent_at=sent_at,
        )
    )
    return "sent"


def _recorded(write: Callable[[], T]) -> T:
    """A store write recording a send that has happened, tried again after the database
    connection is lost (the pool reconnects): the send must not be forgotten, nor taken
    for a failure. If the database stays away, the error stands and the row stays
    "sending" until `reconcile_stale` asks Twilio."""
    for pause in RECORD_PAUSES:
        try:
            return write()
        except (OperationalError, InterfaceError):
            log.warning("the database connection was lost; recording again in %s s", pause)
            time.sleep(pause)
    return write()


def _settle_unanswered(
    engine: Engine,
    channel: Channel,
    message: OutboxMessage,
    now: datetime,
    content_sid: str | None,
    attempted_at: datetime,
) -> str:
    """A send that may have reached Twilio without its answer reaching us: found there →
    sent (accepted when it started, as near as is known); otherwise it stays claimed, and
    once the claim times out `reconcile_stale` asks again (by then Twilio has long
    finished), so it is never sent twice on a guess."""
    assert message.id is not None
    message_id = message.id
    try:
        found = look_up(engine, channel, message, now - CLOCK_SKEW)
    except SendError as error:
        log.warning("outbox %s: no answer, and Twilio cannot tell yet: %r", message.id, error)
        found = None
    if found is None or isinstance(found, Unsure):
        log.warning("outbox %s: no answer from Twilio; settled after the claim", message.id)
        return "unanswered"
    _recorded(
        lambda: mark_sent(
            engine,
            message_id,
            found.sid,
            found.status,
            now,
            content_sid=content_sid,
            attempted_at=attempted_at,
            sent_at=attempted_at,
        )
    )
    return "sent"


def _fail_after_bug(engine: Engine, message: OutboxMessage, now: datetime) -> str:
    """Mark a message failed after an unexpected error, so it is not left "sending"."""
    if message.id is None:
        return "failed"
    try:
        mark_failed(engine, message.id, None, "internal error while dispatching", now)
    except Exception:
        log.exception("outbox %s: could not mark failed; it stays 'sending'", message.id)
    return "failed"


def reconcile_stale(
    engine: Engine,
    channel: Channel,
    now: datetime,
    claim_timeout: timedelta = CLAIM_TIMEOUT,
    limit: int = 50,
) -> ReconcileReport:
    """Settle messages left "sending" longer than `claim_timeout` (a dispatcher died, or
    Twilio never answered), asking the channel before anything is retried
    (`scheduler.sent_lookup`): found there → sent, with its SID; not there → pending again
    for a normal retry; the channel cannot tell, or cannot tell it apart from another
    message → "unconfirmed" (staff decide). A message is never sent twice because its
    dispatcher died."""
    report = ReconcileReport()
    while True:
        batch = claim_stale(engine, now, claim_timeout, limit)
        for stale in batch:
            _reconcile_one(engine, channel, stale, now, report)
        if len(batch) < limit:
            return report


def _reconcile_one(
    engine: Engine, channel: Channel, stale: Stale, now: datetime, report: ReconcileReport
) -> None:
    message = stale.message
    try:
        found = look_up(engine, channel, message, stale.claimed_at - CLOCK_SKEW)
    except SendError as error:
        log.warning("outbox %s: cut off, and Twilio cannot tell: %s", message.id, error.summary)
        report.unconfirmed += settle_unknown(engine, stale, error.message, now)
        return
    if isinstance(found, Unsure):
        log.warning("outbox %s: cut off; %s", message.id, found.reason)
        report.unconfirmed += settle_unknown(engine, stale, found.reason, now)
    elif found is None:
        log.info("outbox %s: cut off before Twilio had it; retrying", message.id)
        report.released += settle_not_found(engine, stale, now)
    else:
        log.info("outbox %s: cut off after Twilio had it (%s)", message.id, found.sid)
        report.found += settle_found(engine, stale, found.sid, found.status, now)
