"""How an appointment ended: completed or missed (no-show), by staff or, at the clinic's
end of the day, automatically. Each outcome is an appointment event and starts what
follows it: the care message and the survey after a visit, the recovery messages after a
no-show. In the caller's transaction."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from store import appointments
from store.appointments import ACTIVE, Actor, withdraw_reminders
from store.message_kinds import MessageKind
from store.models import Appointment, Clinic
from store.planning import plan_notification
from store.recovery import start_recovery

CARE_STEP = "completed"
SURVEY_STEP = "score"
SYSTEM = Actor("system", "system")
CATCH_UP = timedelta(days=1)  # a worker that was down marks the previous day too


def complete(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """The visit happened: the care message and, where the clinic asks, the survey are
    planned after their delays. False if it was completed already; NotChangeable before
    it starts or once it has another outcome."""
    if not appointments.complete(session, appointment, actor, now):
        return False
    withdraw_reminders(session, appointment.id or 0, now)
    clinic = _clinic(session, appointment)
    if clinic.care_delay_minutes is not None:
        due = now + timedelta(minutes=clinic.care_delay_minutes)
        plan_notification(session, appointment, MessageKind.care, CARE_STEP, due_at=due, now=now)
    if clinic.survey_enabled:
        due = now + timedelta(minutes=clinic.survey_delay_minutes)
        plan_notification(
            session, appointment, MessageKind.survey, SURVEY_STEP, due_at=due, now=now
        )
    return True


def mark_no_show(session: Session, appointment: Appointment, actor: Actor, now: datetime) -> bool:
    """The patient did not come: recorded, and the recovery messages planned. False if it
    was marked already; NotChangeable before it starts or once it has another outcome."""
    if not appointments.mark_no_show(session, appointment, actor, now):
        return False
    withdraw_reminders(session, appointment.id or 0, now)
    start_recovery(session, _clinic(session, appointment), appointment, now)
    return True


def _clinic(session: Session, appointment: Appointment) -> Clinic:
    clinic = session.get(Clinic, appointment.clinic_id)
    assert clinic is not None
    return clinic


def last_cutoff(clinic: Clinic, now: datetime) -> datetime | None:
    """The latest end of the clinic's day (`auto_no_show_at`, local wall-clock time, in the
    clinic's zone) at or before `now`; None when the clinic does not mark no-shows by itself."""
    if clinic.auto_no_show_at is None:
        return None
    zone = ZoneInfo(clinic.timezone)
    local = now.astimezone(zone)
    cutoff = datetime.combine(local.date(), clinic.auto_no_show_at, tzinfo=zone)
    if cutoff > local:
        cutoff = datetime.combine(
            local.date() - timedelta(days=1), clinic.auto_no_show_at, tzinfo=zone
        )
    return cutoff


def auto_no_shows(session: Session, now: datetime) -> int:
    """At each clinic's end of the day, the day's appointments that ended still booked or
    confirmed (nobody marked them arrived or completed) become no-shows. Running it again
    finds nothing new: they are no longer booked."""
    marked = 0
    for clinic in session.exec(select(Clinic).where(col(Clinic.auto_no_show_at).is_not(None))):
        cutoff = last_cutoff(clinic, now)
        if cutoff is None:
            continue
        day_start = datetime.combine(cutoff.date(), time(0), tzinfo=cutoff.tzinfo)
        query = (
            select(Appointment)
            .where(
                Appointment.clinic_id == clinic.id,
                col(Appointment.status).in_(ACTIVE),
                col(Appointment.starts_at) >= day_start - CATCH_UP,
                col(Appointment.ends_at) <= cutoff,
            )
            .order_by(col(Appointment.starts_at))
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for appointment in session.exec(query):
            mark_no_show(session, appointment, SYSTEM, now)
            marked += 1
    return marked
