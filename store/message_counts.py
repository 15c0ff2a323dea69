"""What the reports count of the messages the clinic sent: every message decided in the
period by kind and by what became of it, and per professional the booking
confirmations and the reminders with what the patient did after them. Counts only; the
use case groups kinds into the categories people read."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from store.error_codes import FAILED_UNBILLED
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    AppointmentEvent,
    Notification,
    OutboxMessage,
    OutboxStatus,
)
from store.visit_counts import NOT_DELIVERED, Span

BOOKING_CONFIRMATIONS = (MessageKind.booking_confirmation.value, MessageKind.confirmation.value)
REMINDERS = (MessageKind.reminder.value, MessageKind.reminder_confirmed.value)
# What a patient may do after a reminder that counts as answering it.
ANSWERS = ("confirmed", "cancelled", "rescheduled")
NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class MessageCount:
    kind: str
    status: str
    reached_twilio: bool  # Twilio took it (it has a message SID)
    billed_failure: bool  # it failed, and Twilio charges its processing fee all the same
    messages: int


def _sent_in(span: Span) -> list[Any]:
    return [
        col(OutboxMessage.clinic_id) == span.clinic_id,
        col(OutboxMessage.created_at) >= span.start,
        col(OutboxMessage.created_at) < span.end,
    ]


def count_messages(session: Session, span: Span) -> list[MessageCount]:
    """Messages decided in the period, by kind, status, whether Twilio took them and
    whether their failure is billed (`store.error_codes.FAILED_UNBILLED`)."""
    reached = col(OutboxMessage.twilio_sid).is_not(None)
    code = col(OutboxMessage.error_code)
    billed = and_(
        reached,
        col(OutboxMessage.status) == OutboxStatus.failed,
        or_(code.is_(None), code.not_in(FAILED_UNBILLED)),
    )
    rows = session.execute(
        select(col(OutboxMessage.kind), col(OutboxMessage.status), reached, billed, func.count())
        .where(*_sent_in(span))
        .group_by(col(OutboxMessage.kind), col(OutboxMessage.status), reached, billed)
    ).all()
    return [MessageCount(k, s, bool(r), bool(b), n) for k, s, r, b, n in rows]


@dataclass(frozen=True)
class ProfessionalMessages:
    """One professional's booking confirmations, reminders and messages in the period. Outcomes
    are per reminded appointment: the first thing its patient did after its first
    reminder that asked (one sent to an appointment confirmed already asks nothing)."""

    professional_id: int
    booking_confirmations: int
    reminders: int  # messages
    messages: int  # every message about the professional's appointments that Twilio took
    reminded: int  # appointments asked by a reminder
    outcomes: dict[str, int]  # confirmed, cancelled, rescheduled, no_answer → appointments


def professional_messages(session: Session, span: Span) -> list[ProfessionalMessages]:
    kind = col(OutboxMessage.kind)
    sent = session.execute(
        select(
            col(Appointment.professional_id),
            func.sum(case((kind.in_(BOOKING_CONFIRMATIONS), 1), else_=0)),
            func.sum(case((kind.in_(REMINDERS), 1), else_=0)),
            func.count(),
        )
        .select_from(OutboxMessage)
        .join(Appointment, col(Appointment.id) == col(OutboxMessage.appointment_id))
        .where(
            *_sent_in(span),
            col(OutboxMessage.twilio_sid).is_not(None),
        )
        .group_by(col(Appointment.professional_id))
    ).all()
    counts = {p: (int(c or 0), int(r or 0), every) for p, c, r, every in sent}
    outcomes: dict[int, dict[str, int]] = {}
    for professional_id, outcome, appointments in _reminder_outcomes(session, span):
        outcomes.setdefault(professional_id, {})[outcome] = appointments
    return [
        ProfessionalMessages(
            professional_id,
            *counts.get(professional_id, (0, 0, 0)),
            sum(outcomes.get(professional_id, {}).values()),
            outcomes.get(professional_id, {}),
        )
        for professional_id in sorted(counts.keys() | outcomes.keys())
    ]


def _reminded(message: Any) -> list[Any]:
    """The message is a reminder that reached Twilio and did not fail (one that failed
    asked nobody)."""
    return [
        message.kind == MessageKind.reminder.value,
        message.twilio_sid.is_not(None),
        message.status.not_in(NOT_DELIVERED),
    ]


def _reminder_outcomes(session: Session, span: Span) -> list[tuple[int, str, int]]:
    """(professional, outcome, appointments) for the appointments first asked by a
    reminder in the period: one asked before it belongs to the day it was asked, so
    the days of a period add up to the period."""
    earlier = aliased(OutboxMessage)
    asked_before = exists(
        select(literal(1))
        .select_from(Notification)
        .join(earlier, col(earlier.id) == col(Notification.outbox_message_id))
        .where(
            col(Notification.appointment_id) == col(OutboxMessage.appointment_id),
            col(earlier.created_at) < span.start,
            *_reminded(earlier),
        )
    )
    asked = (
        select(
            col(OutboxMessage.appointment_id).label("appointment_id"),
            func.min(col(OutboxMessage.created_at)).label("asked_at"),
        )
        .where(*_sent_in(span), *_reminded(OutboxMessage), ~asked_before)
        .group_by(col(OutboxMessage.appointment_id))
        .subquery()
    )
    answer = (
        select(col(AppointmentEvent.kind))
        .where(
            col(AppointmentEvent.appointment_id) == asked.c.appointment_id,
            col(AppointmentEvent.actor) == "patient",
            col(AppointmentEvent.kind).in_(ANSWERS),
            col(AppointmentEvent.at) >= asked.c.asked_at,
        )
        .order_by(col(AppointmentEvent.at), col(AppointmentEvent.id))
        .limit(1)
        .scalar_subquery()
    )
    outcome = func.coalesce(answer, literal(NO_ANSWER)).label("outcome")
    per_appointment = (
        select(col(Appointment.professional_id).label("professional_id"), outcome)
        .select_from(asked)
        .join(Appointment, col(Appointment.id) == asked.c.appointment_id)
        .subquery()
    )
    rows = session.execute(
        select(per_appointment.c.professional_id, per_appointment.c.outcome, func.count()).group_by(
            per_appointment.c.professional_id, per_appointment.c.outcome
        )
    ).all()
    return [(p, o, n) for p, o, n in rows]
