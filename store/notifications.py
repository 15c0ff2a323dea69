"""The store side of due notifications: claiming pending rows whose time has come, deciding
whether each still applies, and recording what became of it, all in the caller's
transaction. Rendering the text is the scheduler's job (`scheduler.notifications`).

The claim reads only pending rows through the partial index `ix_notification_due`, so its
cost grows with the due work, not with the table. On PostgreSQL it skips rows another
worker has locked (`FOR UPDATE SKIP LOCKED`); on SQLite every transaction holds the write
lock from its start (see store.db)."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, SQLModel, col, select

from store import after_visit
from store.appointments import ACTIVE
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Notification,
    NotificationStatus,
    OutboxMessage,
    Patient,
    Professional,
    Service,
)
from store.notification_plan import REMINDER, AppointmentFacts, RuleFilter, wanted
from store.outbox import enqueue
from store.rules import rules_for

# Written as a literal, not a bound parameter, so PostgreSQL can prove the query stays
# inside the partial index's predicate even with a generic prepared plan.
IS_PENDING = text("notification.status = 'pending'")

# Why a due notification was not sent (kept in `Notification.reason`).
GONE = "appointment no longer stands"
TOO_LATE = "too late"
PAUSED = "patient paused"
OPTED_OUT = "patient opted out"
RULES_SAY_NO = "rules say no"
REMINDERS_OFF = "reminders off for the professional"
FAILED_TO_RENDER = "could not be written"


def claim_due(session: Session, now: datetime, limit: int = 500) -> list[Notification]:
    """Up to `limit` pending notifications due at `now`, soonest first, locked for this
    transaction; their appointments, patients, professionals, services and clinics are
    loaded with them (five statements per batch, not per row)."""
    query = (
        select(Notification)
        .where(IS_PENDING, col(Notification.due_at) <= now)
        .order_by(col(Notification.due_at))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Notification)
    rows = list(session.exec(query))
    _load_related(session, rows)
    return rows


def _load_related(session: Session, rows: Sequence[Notification]) -> None:
    """Fill the session's identity map, so `session.get` answers without a query. The
    map holds objects weakly: the session keeps them alive in `session.info`."""
    appointment_ids = {n.appointment_id for n in rows}
    if not appointment_ids:
        return
    appointments = list(
        session.exec(select(Appointment).where(col(Appointment.id).in_(appointment_ids)))
    )
    kept: list[SQLModel] = list(appointments)
    for model, ids in (
        (Patient, {a.patient_id for a in appointments}),
        (Professional, {a.professional_id for a in appointments}),
        (Service, {a.service_id for a in appointments}),
        (Clinic, {a.clinic_id for a in appointments}),
    ):
        kept.extend(session.exec(select(model).where(col(model.id).in_(ids))))
    session.info.setdefault("due_notifications", []).extend(kept)


class Rules:
    """The clinic's notification rules, read once per clinic and batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_clinic: dict[int, list[RuleFilter]] = {}

    def of(self, clinic_id: int) -> list[RuleFilter]:
        if clinic_id not in self._by_clinic:
            self._by_clinic[clinic_id] = rules_for(self.session, clinic_id)
        return self._by_clinic[clinic_id]


def reason_to_skip(
    session: Session, notification: Notification, now: datetime, rules: Rules
) -> str | None:
    """Why this notification must not go out now, or None if it still applies."""
    if notification.kind in after_visit.KINDS:  # about a past appointment's outcome
        return after_visit.reason_to_skip(session, notification, now)
    appointment = session.get(Appointment, notification.appointment_id)
    if notification.kind == MessageKind.waitlist_offer:
        return _offer_skip(session, appointment, now)
    if (
        appointment is None
        or appointment.status not in ACTIVE
        or appointment.starts_at != notification.starts_at
    ):
        return GONE
    if now >= appointment.starts_at:
        return TOO_LATE
    patient = session.get(Patient, appointment.patient_id)
    professional = session.get(Professional, appointment.professional_id)
    if patient is None or professional is None:
        return GONE
    if patient.opted_out:
        return OPTED_OUT
    if patient.bot_paused:
        return PAUSED
    facts = AppointmentFacts(
        branch_id=professional.branch_id,
        professional_id=appointment.professional_id,
        service_id=appointment.service_id,
        insurance=patient.insurance,
        plan=patient.plan,
    )
    if not wanted(rules.of(appointment.clinic_id), facts, notification.kind):
        return RULES_SAY_NO
    if notification.kind == REMINDER and not professional.reminders_enabled:
        return REMINDERS_OFF
    return None


def _offer_skip(session: Session, appointment: Appointment | None, now: datetime) -> str | None:
    """A waitlist offer goes out while its slot is still held and the patient reachable
    (the notification rules are about appointments, not offers)."""
    if (
        appointment is None
        or appointment.status != AppointmentStatus.held
        or appointment.hold_expires_at is None
    ):
        return GONE
    if now >= appointment.hold_expires_at:
        return TOO_LATE
    patient = session.get(Patient, appointment.patient_id)
    if patient is None:
        return GONE
    if patient.opted_out:
        return OPTED_OUT
    if patient.bot_paused:
        return PAUSED
    return None


def idempotency_key(notification: Notification) -> str:
    """At most one message per appointment, kind, step and appointment time."""
    epoch = int(notification.starts_at.timestamp())
    return (
        f"appointment:{notification.appointment_id}:{notification.kind}:{notification.step}:{epoch}"
    )


def skip(notification: Notification, reason: str, now: datetime) -> None:
    notification.status = NotificationStatus.skipped
    notification.reason = reason
    notification.updated_at = now


def queue(
    session: Session,
    notification: Notification,
    *,
    template: str,
    body: str,
    now: datetime,
    language: str | None = None,
    options: str | None = None,
    variables: Mapping[str, str] | None = None,
    kind: str | None = None,
    not_after: datetime | None = None,
) -> None:
    """Hand the rendered message to the outbox (useless once the appointment starts),
    with its language and tags for a template sent in its place outside the 24-hour
    window, and mark the notification queued; `link_outbox` then records which row it
    became. `kind` (the outbox row's, default the notification's) names the approved
    template; `not_after` defaults to the appointment's start.
    Queuing the same notification twice yields one outbox row: the idempotency key
    decides."""
    appointment = session.get(Appointment, notification.appointment_id)
    assert appointment is not None
    clinic = session.get(Clinic, appointment.clinic_id)
    patient = session.get(Patient, appointment.patient_id)
    assert clinic is not None and patient is not None
    enqueue(
        session,
        clinic_id=appointment.clinic_id,
        idempotency_key=idempotency_key(notification),
        from_phone=clinic.whatsapp_number,
        to_phone=patient.phone,
        body=body,
        now=now,
        kind=kind or notification.kind,
        template=template,
        appointment_id=appointment.id,
        not_after=not_after
        or (
            appointment.hold_expires_at
            if notification.kind == MessageKind.waitlist_offer
            else notification.starts_at
        ),
        language=language,
        options=options,
        variables=variables,
    )
    notification.status = NotificationStatus.queued
    notification.reason = None
    notification.updated_at = now


def link_outbox(session: Session, queued: Sequence[Notification]) -> None:
    """Record the outbox row (the first piece, if split) of each queued notification,
    reading them all in one statement."""
    if not queued:
        return
    keys = {idempotency_key(n): n for n in queued}
    wanted_keys = [*keys, *(f"{key}#1" for key in keys)]
    with session.no_autoflush:
        rows = session.execute(
            select(col(OutboxMessage.id), col(OutboxMessage.idempotency_key)).where(
                col(OutboxMessage.idempotency_key).in_(wanted_keys)
            )
        ).all()
    for message_id, key in rows:
        keys[key.removesuffix("#1")].outbox_message_id = message_id
