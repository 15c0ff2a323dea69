"""What a patient (or staff) does to an existing appointment: confirm, cancel, move it.
Each change is recorded as an appointment event and withdraws or re-plans the reminders of
the old time, in the caller's transaction."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from store.booking import SlotTaken, is_overlap, lost_a_race
from store.freed_slots import CANCELLED, RESCHEDULED, record_freed
from store.message_kinds import CAMPAIGN_QUESTIONS, MessageKind
from store.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Clinic,
    Notification,
    NotificationStatus,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Professional,
    Service,
)
from store.notification_plan import BOOKED, CONFIRMATION, REMINDER, ReminderSettings, reminder_times
from store.planning import plan_notification
from store.recovery import rebooked

ACTIVE = (AppointmentStatus.booked, AppointmentStatus.confirmed)


class NotChangeable(Exception):
    """The appointment can no longer be changed this way; `reason` says why
    (cancelled, started, finished), for the patient's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Actor:
    """Who changes an appointment and through what: ("patient", "whatsapp"),
    ("patient", "self_service"), ("staff:ana", "console")."""

    who: str
    channel: str


def own_appointment(
    session: Session, clinic_id: int, phone: str, appointment_id: int | None
) -> Appointment | None:
    """One appointment of somebody on this phone, locked for a change (PostgreSQL); None
    if it is not theirs."""
    if appointment_id is None:
        return None
    return _on_phone(session, clinic_id, phone, Appointment.id == appointment_id)


def by_code(session: Session, clinic_id: int, phone: str, code: str) -> Appointment | None:
    """The appointment of a confirmation code, if somebody on this phone holds it (the
    code alone could be guessed), locked for a change (PostgreSQL)."""
    return _on_phone(session, clinic_id, phone, Appointment.code == code.strip().upper())


def _on_phone(session: Session, clinic_id: int, phone: str, which: Any) -> Appointment | None:
    query = (
        select(Appointment)
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(which, Patient.clinic_id == clinic_id, Patient.phone == phone)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Appointment)
    return session.exec(query).first()


def upcoming_with_names(
    session: Session, clinic_id: int, phone: str, now: datetime, limit: int = 10
) -> list[tuple[Appointment, str, str]]:
    """The active appointments of everybody on a phone that have not started, soonest
    first, with each one's service and professional names."""
    rows = session.exec(
        select(Appointment, Service.name, Professional.name)
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .join(Professional, col(Professional.id) == col(Appointment.professional_id))
        .where(
            Patient.clinic_id == clinic_id,
            Patient.phone == phone,
            col(Appointment.status).in_(ACTIVE),
            col(Appointment.starts_at) > now,
        )
        .order_by(col(Appointment.starts_at))
        .limit(limit)
    )
    return [(appointment, service, professional) for appointment, service, professional in rows]


def last_reminded(
    session: Session, clinic_id: int, phone: str, since: datetime | None, now: datetime
) -> int | None:
    """The upcoming appointment whose reminder was queued for this phone most recently,
    after `since`; a reply to a reminder is about that one."""
    query = (
        select(Notification.appointment_id)
        .join(Appointment, col(Appointment.id) == col(Notification.appointment_id))
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(
            Patient.clinic_id == clinic_id,
            Patient.phone == phone,
            col(Appointment.status).in_(ACTIVE),
            col(Appointment.starts_at) > now,
            Notification.kind == REMINDER,
            Notification.status == NotificationStatus.queued,
        )
        .order_by(col(Notification.updated_at).desc())
        .limit(1)
    )
    if since is not None:
        query = query.where(col(Notification.updated_at) > since)
    return session.exec(query).first()


# What a reply after a campaign's question may answer instead: the newest of these wins.
_ANSWERABLE = (*CAMPAIGN_QUESTIONS, MessageKind.reminder, MessageKind.reminder_confirmed)
_UNSEEN = (OutboxStatus.pending, OutboxStatus.skipped, OutboxStatus.not_sendable)


def last_campaign_question(
    session: Session, clinic_id: int, phone: str, since: datetime | None, now: datetime
) -> int | None:
    """The appointment a campaign's reschedule request or closure notice was about, when
    it is the newest such question (or reminder) that went to this phone after `since`,
    and the appointment still stands, upcoming, where the message said."""
    query = (
        select(
            col(OutboxMessage.kind), col(OutboxMessage.appointment_id), col(OutboxMessage.not_after)
        )
        .where(
            OutboxMessage.clinic_id == clinic_id,
            OutboxMessage.to_phone == phone,
            col(OutboxMessage.kind).in_(_ANSWERABLE),
            col(OutboxMessage.status).not_in(_UNSEEN),
        )
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(1)
    )
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) > since)
    found = session.execute(query).first()
    if found is None or found[0] not in CAMPAIGN_QUESTIONS or found[1] is None:
        return None
    _, appointment_id, not_after = found
    return session.scalar(
        select(col(Appointment.id)).where(
            col(Appointment.id) == appointment_id,
            col(Appointment.status).in_(ACTIVE),
            col(Appointment.starts_at) > now,
            col(Appointment.starts_at) == not_after,
        )
    )


def _check_changeable(appointment: Appointment, now: datetime) -> None:
    if appointment.status == AppointmentStatus.cancelled:
        raise NotChangeable("cancelled")
    if appointment.status not in ACTIVE:
        raise NotChangeable("finished")
    if appointment.starts_at <= now:
        raise NotChangeable("started")


def record_event(
    session: Session,
    appointment: Appointment,
    kind: str,
    actor: Actor,
    now: datetime,
    **detail: object,
) -> None:
    session.add(
        AppointmentEvent(
            clinic_id=appointment.clinic_id,
            appointment_id=appointment.id or 0,
            kind=kind,
            actor=actor.who,
            channel=actor.channel,
            detail=json.dumps(detail, default=str),
            at=now,
        )
    )


def booked(
    session: Session,
    clinic: Clinic,
    appointment: Appointment,
    actor: Actor,
    now: datetime,
    *,
    confirmation: bool | None = None,
) -> None:
    """What follows every new booking, whoever made it: its history starts, its
    reminders are planned, and a no-show recovery of the patient stops. A booking made
    outside the chat (staff, API) also plans the booking confirmation; in the chat, the
    bot's own answer is the confirmation. `confirmation=False` is for a caller whose own
    message confirms the booking (an accepted appointment request)."""
    record_event(session, appointment, "booked", actor, now)
    plan_reminders(session, clinic, appointment, now)
    rebooked(session, clinic, appointment, now)  # a patient who missed one came back
    if confirmation is None:
        confirmation = actor.channel != "whatsapp"
    if confirmation:
        plan_notification(session, appointment, CONFIRMATION, BOOKED, due_at=now, now=now)


def confirm(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """Confirm attendance. False, and nothing changes, if it was confirmed already."""
    _check_changeable(appointment, now)
    if appointment.status == AppointmentStatus.confirmed:
        return False
    appointment.status = AppointmentStatus.confirmed
    appointment.confirmed_at = appointment.updated_at = now
    session.add(appointment)
    record_event(session, appointment, "confirmed", actor, now)
    session.flush()
    return True


def cancel(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """Cancel and free the slot; pending reminders are withdrawn. False if it was
    cancelled already; NotChangeable once it has started."""
    if appointment.status == AppointmentStatus.cancelled:
        return False
    _check_changeable(appointment, now)
    appointment.status = AppointmentStatus.cancelled
    appointment.cancelled_at = appointment.updated_at = now
    session.add(appointment)
    record_event(session, appointment, "cancelled", actor, now)
    withdraw_reminders(session, appointment.id or 0, now)
    _freed(session, appointment, appointment.professional_id, appointment.starts_at, CANCELLED, now)
    session.flush()
    return True


def mark_arrived(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """The patient is at the desk. False if already marked; NotChangeable once the
    appointment was cancelled or has a final outcome."""
    if appointment.status == AppointmentStatus.arrived:
        return False
    if appointment.status == AppointmentStatus.cancelled:
        raise NotChangeable("cancelled")
    if appointment.status not in ACTIVE:
        raise NotChangeable("finished")
    return _set_status(session, appointment, AppointmentStatus.arrived, "arrived", actor, now)


def complete(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """The patient was seen. Only once the appointment has started; False if already so."""
    if appointment.status == AppointmentStatus.completed:
        return False
    _check_outcome(appointment, now, (*ACTIVE, AppointmentStatus.arrived))
    return _set_status(session, appointment, AppointmentStatus.completed, "completed", actor, now)


def mark_no_show(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """The patient did not come. Only once the appointment has started, and not for one
    who arrived; False if already so."""
    if appointment.status == AppointmentStatus.no_show:
        return False
    _check_outcome(appointment, now, ACTIVE)
    return _set_status(session, appointment, AppointmentStatus.no_show, "no_show", actor, now)


def _check_outcome(appointment: Appointment, now: datetime, allowed: tuple[str, ...]) -> None:
    if appointment.status == AppointmentStatus.cancelled:
        raise NotChangeable("cancelled")
    if appointment.status not in allowed:
        raise NotChangeable("finished")
    if appointment.starts_at > now:
        raise NotChangeable("not_started")


def _set_status(
    session: Session,
    appointment: Appointment,
    status: AppointmentStatus,
    kind: str,
    actor: Actor,
    now: datetime,
) -> bool:
    before = appointment.status
    appointment.status = status
    appointment.updated_at = now
    session.add(appointment)
    record_event(session, appointment, kind, actor, now, before=before)
    session.flush()
    return True


def _freed(
    session: Session,
    appointment: Appointment,
    professional_id: int,
    starts_at: datetime,
    why: str,
    now: datetime,
) -> None:
    """The appointment's old time is free: the waitlist pass will offer it."""
    record_freed(
        session,
        clinic_id=appointment.clinic_id,
        professional_id=professional_id,
        starts_at=starts_at,
        ends_at=starts_at + (appointment.ends_at - appointment.starts_at),
        why=why,
        now=now,
    )


def reschedule(
    session: Session,
    appointment: Appointment,
    *,
    starts_at: datetime,
    professional_id: int,
    actor: Actor,
    now: datetime,
) -> None:
    """Move the appointment in one UPDATE: the old time is freed exactly when the new one
    is taken, and if the new one is taken by somebody else (SlotTaken) nothing changes."""
    _check_changeable(appointment, now)
    if starts_at <= now:
        raise NotChangeable("past")
    old_start, old_professional = appointment.starts_at, appointment.professional_id
    ends_at = starts_at + (appointment.ends_at - appointment.starts_at)
    try:
        with session.begin_nested():
            session.execute(
                update(Appointment)
                .where(col(Appointment.id) == appointment.id)
                .values(
                    starts_at=starts_at,
                    ends_at=ends_at,
                    professional_id=professional_id,
                    status=AppointmentStatus.booked,  # the new time needs its own confirmation
                    confirmed_at=None,
                    updated_at=now,
                )
            )
    except OperationalError as error:
        if lost_a_race(error):
            raise SlotTaken from error
        raise
    except IntegrityError as error:
        if is_overlap(error):
            raise SlotTaken from error
        raise
    session.refresh(appointment)
    record_event(
        session,
        appointment,
        "rescheduled",
        actor,
        now,
        old_starts_at=old_start.isoformat(),
        old_professional_id=old_professional,
        starts_at=starts_at.isoformat(),
        professional_id=professional_id,
    )
    withdraw_reminders(session, appointment.id or 0, now)
    _freed(session, appointment, old_professional, old_start, RESCHEDULED, now)
    clinic = session.get(Clinic, appointment.clinic_id)
    if clinic is not None:
        plan_reminders(session, clinic, appointment, now)


def reminder_settings(clinic: Clinic) -> ReminderSettings:
    return ReminderSettings(
        timezone=ZoneInfo(clinic.timezone),
        hours_before=clinic.reminder_hours_before,
        day_before_at=clinic.reminder_day_before_at,
    )


def plan_reminders(
    session: Session, clinic: Clinic, appointment: Appointment, now: datetime
) -> int:
    """Write the appointment's reminders that are still ahead; returns how many are new.
    One that is already past when the appointment is booked is not planned: the booking
    confirmation just told the patient everything."""
    return sum(
        plan_notification(session, appointment, REMINDER, step, due_at=due_at, now=now)
        for step, due_at in reminder_times(appointment.starts_at, reminder_settings(clinic))
        if due_at > now
    )


def withdraw_reminders(session: Session, appointment_id: int, now: datetime) -> None:
    """The appointment was cancelled or moved: its pending reminders, and reminders
    already queued but not yet sent, must not go out."""
    session.execute(
        update(Notification)
        .where(
            col(Notification.appointment_id) == appointment_id,
            col(Notification.status) == NotificationStatus.pending,
        )
        .values(status=NotificationStatus.withdrawn, updated_at=now)
    )
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.appointment_id) == appointment_id,
            col(OutboxMessage.kind).in_((REMINDER, MessageKind.reminder_confirmed)),
            col(OutboxMessage.status) == OutboxStatus.pending,
        )
        .values(
            status=OutboxStatus.skipped,
            error_message="appointment cancelled or moved",
            updated_at=now,
        )
    )
