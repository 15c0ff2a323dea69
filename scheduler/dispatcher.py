"""Sending what the outbox holds: claim due rows, send each through the channel outside
any transaction, then record the outcome. Delivery is at least once: a send whose answer
never arrives (timeout) is retried, and the provider may have accepted the first one."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from channel.base import Channel, SendError
from scheduler import interactive
from store.dispatch import (
    Stale,
    claim_batch,
    claim_stale,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_unsent,
    release,
    settle_found,
    settle_not_found,
    settle_unknown,
)
from store.error_codes import Action, action_for, rate_limit_delay
from store.models import OutboxMessage, OutboxStatus
from store.window import TEXT, SendPlan, plan_batch

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# A message "sending" for longer than this was cut off (its dispatcher died between claim
# and mark): far above one send's timeout (10 s), so a live dispatcher is never second-guessed.
CLAIM_TIMEOUT = timedelta(minutes=2)
# Twilio's clock and ours may differ a little: look that much earlier than the claim.
CLOCK_SKEW = timedelta(minutes=1)
SEND_BUDGET = CLAIM_TIMEOUT / 2  # the longest a batch keeps sending


@dataclass
class DispatchReport:
    """What one dispatch pass did with the messages it claimed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0  # claimed, but handed back unsent: the batch ran out of time
    not_sendable: int = 0  # outside the 24-hour window with no approved template

    @property
    def total(self) -> int:
        return (
            self.sent + self.retried + self.failed + self.skipped + self.released
        ) + self.not_sendable


@dataclass
class ReconcileReport:
    """What became of messages left "sending" by a dispatcher that died."""

    found: int = 0
    released: int = 0
    unconfirmed: int = 0

    @property
    def total(self) -> int:
        return self.found + self.released + self.unconfirmed


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` tries: 30 s, 1 min, 2 min, ... ≤ 1 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def dispatch_due(
    engine: Engine,
    channel: Channel,
    now: datetime,
    limit: int = 50,
    *,
    timer: Callable[[], float] = time.monotonic,
) -> DispatchReport:
    """Send up to `limit` due messages. Retryable errors (429, 5xx, network) back off
    exponentially and fail after `MAX_ATTEMPTS` tries; other errors fail at once with
    the provider's code. Messages that no longer apply are skipped at the claim (see
    `store.dispatch.skip_reason`). One message going wrong never stops the others.
    A batch that has taken half the claim timeout (a slow provider) hands its unsent
    rest back, so no other dispatcher mistakes them for a crash's leftovers."""
    claim = claim_batch(engine, now, limit)
    report = DispatchReport(skipped=claim.skipped)
    plans = plan_batch(engine, claim.messages, now)
    started = timer()
    for message in claim.messages:
        if timer() - started > SEND_BUDGET.total_seconds():
            report.released += release(engine, message.id or 0, message.attempts - 1, now)
            continue
        plan = plans.get(message.id or 0, TEXT)
        if plan.not_sendable or plan.skip:
            _not_sent(engine, message, plan, now, report)
            continue
        try:
            outcome = _dispatch_one(engine, channel, message, now, plan)
        except Exception:
            log.exception("outbox %s: unexpected error while dispatching", message.id)
            outcome = _fail_after_bug(engine, message, now)
        if outcome == "sent":
            report.sent += 1
        elif outcome == "retried":
            report.retried += 1
        else:
            report.failed += 1
    return report


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
    engine: Engine, channel: Channel, message: OutboxMessage, now: datetime, plan: SendPlan = TEXT
) -> str:
    """Send one claimed message as `plan` says (text or template) and record the result;
    returns what happened."""
    assert message.id is not None
    content_sid = (
        None if plan.content_sid else interactive.content_for(engine, channel, message, now)
    )
    try:
        if plan.content_sid:  # the window is closed: the clinic's approved template
            content_sid = plan.content_sid
            result = channel.send(
                from_phone=message.from_phone,
                to_phone=message.to_phone,
                body=message.body,
                content_sid=content_sid,
                content_variables=plan.content_variables,
            )
        else:
            result, content_sid = interactive.send(channel, message, content_sid)
    except SendError as error:
        rate_limited = error.http_status == 429 or action_for(error.code) is Action.rate_limited
        if (error.retryable or rate_limited) and message.attempts < MAX_ATTEMPTS:
            next_attempt_at = now + (
                rate_limit_delay(message.attempts) if rate_limited else backoff(message.attempts)
            )
            log.warning(
                "outbox %s: attempt %s failed (%r), retrying at %s",
                message.id,
                message.attempts,
                error,
                next_attempt_at.isoformat(),
            )
            mark_retry(engine, message.id, error.message, next_attempt_at, now, code=error.code)
            return "retried"
        log.warning(
            "outbox %s: failed after %s attempt(s): %r", message.id, message.attempts, error
        )
        mark_failed(engine, message.id, error.code, error.message, now)
        return "failed"
    mark_sent(engine, message.id, result.sid, result.status, now, content_sid=content_sid)
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
    """Settle messages left "sending" longer than `claim_timeout`, asking the channel
    before anything is retried: found there → sent, with its SID; not found → pending
    again for a normal retry; the channel cannot tell → "unconfirmed" (staff decide).
    A message is never sent twice because its dispatcher died."""
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
        found = channel.find_sent(
            from_phone=message.from_phone,
            to_phone=message.to_phone,
            body=message.body,
            sent_after=stale.claimed_at - CLOCK_SKEW,
        )
    except SendError as error:
        log.warning("outbox %s: cut off, and Twilio cannot tell: %r", message.id, error)
        report.unconfirmed += settle_unknown(engine, stale, error.message, now)
        return
    if found is None:
        log.info("outbox %s: cut off before Twilio had it; retrying", message.id)
        report.released += settle_not_found(engine, stale, now)
    else:
        log.info("outbox %s: cut off after Twilio had it (%s)", message.id, found.sid)
        report.found += settle_found(engine, stale, found.sid, found.status, now)
