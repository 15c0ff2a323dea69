"""Whether a message that follows a visit's outcome — a no-show recovery step, the care
message, the survey question — still applies when its time comes. The due-notifications
pass asks this instead of the reminder checks: these messages are about a past
appointment."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from store.message_kinds import MessageKind, recovery_step
from store.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Conversation,
    NoShowRecovery,
    Notification,
    Patient,
)
from store.recovery import stop_sequence

KINDS = frozenset({MessageKind.no_show, MessageKind.care, MessageKind.survey})
LATE = timedelta(hours=12)  # a worker that was down does not send these much later

# Why one was not sent (kept in `Notification.reason`).
GONE = "appointment no longer has that outcome"
TOO_LATE = "too late"
PAUSED = "patient paused"
OPTED_OUT = "patient opted out"
SURVEYS_OFF = "surveys off"
REBOOKED = "patient booked again"
REPLIED = "patient replied"


def outbox_kind(notification: Notification) -> MessageKind:
    """The kind its outbox row carries, which names the approved template sent in its
    place outside the 24-hour window: each recovery step has its own."""
    if notification.kind == MessageKind.no_show:
        return recovery_step(notification.step)
    return MessageKind(notification.kind)


def reason_to_skip(session: Session, notification: Notification, now: datetime) -> str | None:
    """Why this message must not go out now, or None. An opt-out, or a message from the
    patient since the missed appointment's start, also withdraws the recovery steps still
    to come."""
    appointment = session.get(Appointment, notification.appointment_id)
    wanted = (
        AppointmentStatus.no_show
        if notification.kind == MessageKind.no_show
        else AppointmentStatus.completed
    )
    if appointment is None or appointment.status != wanted:
        return GONE
    if now > notification.due_at + LATE:
        return TOO_LATE
    patient = session.get(Patient, appointment.patient_id)
    if patient is None:
        return GONE
    if patient.opted_out:
        if notification.kind == MessageKind.no_show:
            stop_sequence(session, [appointment.id or 0], now)
        return OPTED_OUT
    if patient.bot_paused:
        return PAUSED
    if notification.kind == MessageKind.survey:
        clinic = session.get(Clinic, appointment.clinic_id)
        if clinic is None or not clinic.survey_enabled:
            return SURVEYS_OFF
    if notification.kind == MessageKind.no_show:
        return _recovery_stopped(session, appointment, patient, now)
    return None


def _recovery_stopped(
    session: Session, appointment: Appointment, patient: Patient, now: datetime
) -> str | None:
    record = session.exec(
        select(NoShowRecovery).where(NoShowRecovery.appointment_id == appointment.id)
    ).first()
    if record is None:
        return GONE
    if record.recovered_appointment_id is not None:
        return REBOOKED
    last_inbound = session.exec(
        select(col(Conversation.last_inbound_at)).where(
            Conversation.clinic_id == appointment.clinic_id, Conversation.phone == patient.phone
        )
    ).first()
    if last_inbound is not None and last_inbound > record.missed_at:  # in touch since
        stop_sequence(session, [appointment.id or 0], now)
        return REPLIED
    return None
