"""Sending what the outbox holds: claim due rows, send each through the channel outside
any transaction, then record the outcome. Delivery is at least once: a send whose answer
never arrives (timeout) is retried, and the provider may have accepted the first one."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from channel.base import Channel, SendError
from store.dispatch import claim_due, mark_failed, mark_retry, mark_sent
from store.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class DispatchReport:
    """What one dispatch pass did with the messages it claimed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` tries: 30 s, 1 min, 2 min, ... ≤ 1 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def dispatch_due(
    engine: Engine, channel: Channel, now: datetime, limit: int = 50
) -> DispatchReport:
    """Send up to `limit` due messages. Retryable errors (429, 5xx, network) back off
    exponentially and fail after `MAX_ATTEMPTS` tries; other errors fail at once with
    the provider's code. One message going wrong never stops the others."""
    report = DispatchReport()
    for message in claim_due(engine, now, limit):
        try:
            outcome = _dispatch_one(engine, channel, message, now)
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


def _dispatch_one(engine: Engine, channel: Channel, message: OutboxMessage, now: datetime) -> str:
    """Send one claimed message and record the result; returns what happened."""
    assert message.id is not None
    try:
        result = channel.send(
            from_phone=message.from_phone, to_phone=message.to_phone, body=message.body
        )
    except SendError as error:
        if error.retryable and message.attempts < MAX_ATTEMPTS:
            next_attempt_at = now + backoff(message.attempts)
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
    mark_sent(engine, message.id, result.sid, result.status, now)
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
