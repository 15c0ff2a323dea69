"""What the reports count of appointments: visits and absences by reminder, day and hour
of the week; bookings per channel with their outcomes, scores and waiting times; the
waitlist's and the no-show sequence's recoveries. Counts only, grouped in SQL; the
shares, intervals and words are the use case's. An appointment belongs to the period
its start falls in (the clinic's local days)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlmodel import Session, col

from store.local_time import epoch_seconds, local_day, local_hour_of_week
from store.message_kinds import MessageKind
from store.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Clinic,
    NoShowRecovery,
    Notification,
    OfferStatus,
    OutboxMessage,
    Professional,
    QueueTicket,
    SurveyResponse,
    WaitlistOffer,
)

# Appointments with an outcome: the patient came, or did not.
ATTENDED = (AppointmentStatus.arrived, AppointmentStatus.completed)
OUTCOMES = (*ATTENDED, AppointmentStatus.no_show)
REMINDER_KINDS = (MessageKind.reminder.value,)  # the notification's kind, whatever it was sent as
# An appointment rebooked through the patient's page is counted as that page's booking too.
SELF_SERVICE_RESCHEDULE = "self_service_reschedule"
# A message Twilio took that never reached the phone: billed, but nobody read it.
NOT_DELIVERED = ("failed", "undelivered")


@dataclass(frozen=True)
class Span:
    """A clinic's local days as UTC bounds: [start, end)."""

    clinic_id: int
    start: datetime
    end: datetime
    zone: str

    def days(self) -> list[date]:
        """The local days it covers, in order."""
        zone = ZoneInfo(self.zone)
        first = self.start.astimezone(zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class ReminderFilter:
    """Which notifications count as "a reminder": a kind, and one of its steps or all."""

    kind: str = MessageKind.reminder.value
    step: str | None = None


class Reminded:
    """An appointment with an outcome, by its reminder: none sent; sent and the
    appointment confirmed; sent and never confirmed."""

    none = "none"
    confirmed = "confirmed"
    unanswered = "unanswered"


@dataclass(frozen=True)
class VisitGroup:
    professional_id: int
    reminded: str
    status: str
    visits: int


@dataclass(frozen=True)
class DayVisits:
    day: date
    visits: int
    absences: int


@dataclass(frozen=True)
class HourVisits:
    hour_of_week: int  # 0: Monday 0:00–1:00
    visits: int
    absences: int


def _in_span(span: Span, professional_id: int | None = None) -> list[ColumnElement[bool]]:
    conditions = [
        col(Appointment.clinic_id) == span.clinic_id,
        col(Appointment.starts_at) >= span.start,
        col(Appointment.starts_at) < span.end,
    ]
    if professional_id is not None:
        conditions.append(col(Appointment.professional_id) == professional_id)
    return conditions


def _reminder_sent(reminder: ReminderFilter) -> ColumnElement[bool]:
    """A reminder about the appointment's present time was sent and did not fail."""
    conditions = [
        col(Notification.appointment_id) == col(Appointment.id),
        col(Notification.starts_at) == col(Appointment.starts_at),
        col(Notification.kind) == reminder.kind,
        col(OutboxMessage.twilio_sid).is_not(None),
        col(OutboxMessage.status).not_in(NOT_DELIVERED),
    ]
    if reminder.step is not None:
        conditions.append(col(Notification.step) == reminder.step)
    return exists(
        select(literal(1))
        .select_from(Notification)
        .join(OutboxMessage, col(OutboxMessage.id) == col(Notification.outbox_message_id))
        .where(*conditions)
    )


def _absent() -> ColumnElement[int]:
    return case((col(Appointment.status) == AppointmentStatus.no_show, 1), else_=0)


def visits_by_reminder(
    session: Session,
    span: Span,
    reminder: ReminderFilter,
    professional_id: int | None = None,
) -> list[VisitGroup]:
    """Appointments with an outcome, per professional, reminder and outcome."""
    reminded = case(
        (~_reminder_sent(reminder), literal(Reminded.none)),
        (col(Appointment.confirmed_at).is_not(None), literal(Reminded.confirmed)),
        else_=literal(Reminded.unanswered),
    )
    rows = session.execute(
        select(col(Appointment.professional_id), reminded, col(Appointment.status), func.count())
        .where(*_in_span(span, professional_id), col(Appointment.status).in_(OUTCOMES))
        .group_by(col(Appointment.professional_id), reminded, col(Appointment.status))
    ).all()
    return [VisitGroup(p, r, s, n) for p, r, s, n in rows]


def visits_by_day(
    session: Session, span: Span, professional_id: int | None = None
) -> list[DayVisits]:
    """Appointments with an outcome and the absences among them, per local day."""
    day = local_day(col(Appointment.starts_at), span.zone)
    rows = session.execute(
        select(day, func.count(), func.sum(_absent()))
        .where(*_in_span(span, professional_id), col(Appointment.status).in_(OUTCOMES))
        .group_by(day)
        .order_by(day)
    ).all()
    return [DayVisits(d, n, int(a or 0)) for d, n, a in rows]


def visits_by_hour_of_week(session: Session, span: Span) -> list[HourVisits]:
    """Appointments with an outcome and the absences among them, per local hour of the
    week they started in."""
    hour = local_hour_of_week(col(Appointment.starts_at), span.zone)
    rows = session.execute(
        select(hour, func.count(), func.sum(_absent()))
        .where(*_in_span(span), col(Appointment.status).in_(OUTCOMES))
        .group_by(hour)
        .order_by(hour)
    ).all()
    return [HourVisits(h, n, int(a or 0)) for h, n, a in rows]


@dataclass(frozen=True)
class ChannelFigures:
    """The appointments one channel booked, and what became of them."""

    channel: str
    bookings: int
    cancelled: int
    attended: int
    absences: int
    scores: int  # survey answers with a score
    score_total: int
    waits: int  # visits called from the waiting room
    wait_seconds: float


def channel_figures(session: Session, span: Span) -> list[ChannelFigures]:
    """Per booking channel (and rebookings on the patient's page, as their own row):
    bookings, cancellations, outcomes, survey scores and waiting-room waits."""
    by_source = _channel_rows(session, span, col(Appointment.source_channel), [])
    rebooked = exists(
        select(literal(1)).where(
            col(AppointmentEvent.appointment_id) == col(Appointment.id),
            col(AppointmentEvent.kind) == "rescheduled",
            col(AppointmentEvent.channel) == "self_service",
        )
    )
    by_page = _channel_rows(session, span, literal(SELF_SERVICE_RESCHEDULE), [rebooked])
    return [*by_source, *(row for row in by_page if row.bookings)]


def _was_booked() -> ColumnElement[bool]:
    """Not a time only held for someone (a waitlist offer, a web page's unproven booking)
    and released: those are cancelled without ever having been booked."""
    return or_(
        col(Appointment.status) != AppointmentStatus.cancelled,
        exists(
            select(literal(1)).where(
                col(AppointmentEvent.appointment_id) == col(Appointment.id),
                col(AppointmentEvent.kind) == "booked",
            )
        ),
    )


def _channel_rows(
    session: Session,
    span: Span,
    channel: Any,
    extra: Sequence[ColumnElement[bool]],
) -> list[ChannelFigures]:
    status = col(Appointment.status)
    waited = func.sum(
        epoch_seconds(col(QueueTicket.called_at)) - epoch_seconds(col(QueueTicket.arrived_at))
    )
    rows = session.execute(
        select(
            channel,
            func.count(),
            func.sum(case((status == AppointmentStatus.cancelled, 1), else_=0)),
            func.sum(case((status.in_(ATTENDED), 1), else_=0)),
            func.sum(_absent()),
            func.count(col(SurveyResponse.score)),
            func.coalesce(func.sum(col(SurveyResponse.score)), 0),
            func.count(col(QueueTicket.called_at)),
            func.coalesce(waited, 0),
        )
        .select_from(Appointment)
        .outerjoin(SurveyResponse, col(SurveyResponse.appointment_id) == col(Appointment.id))
        .outerjoin(
            QueueTicket,
            and_(
                col(QueueTicket.appointment_id) == col(Appointment.id),
                col(QueueTicket.called_at).is_not(None),
            ),
        )
        .where(*_in_span(span), status != AppointmentStatus.held, _was_booked(), *extra)
        .group_by(channel)
        .order_by(func.count().desc(), channel)
    ).all()
    return [
        ChannelFigures(c, n, int(x or 0), int(v or 0), int(a or 0), s, int(t), w, float(ws))
        for c, n, x, v, a, s, t, w, ws in rows
    ]


@dataclass(frozen=True)
class Recoveries:
    """The waitlist's offers of freed times and what they filled, and the patients who
    missed a visit and came back."""

    offers: int
    offers_taken: int
    waitlist_visits: int  # appointments booked from an offer, that took place
    no_shows: int
    no_shows_rebooked: int
    rebooked_visits: int  # of those rebookings, the ones that took place


def recoveries(session: Session, span: Span) -> Recoveries:
    offered = session.execute(
        select(
            func.count(),
            func.sum(case((col(WaitlistOffer.status) == OfferStatus.accepted, 1), else_=0)),
        ).where(
            col(WaitlistOffer.clinic_id) == span.clinic_id,
            col(WaitlistOffer.starts_at) >= span.start,
            col(WaitlistOffer.starts_at) < span.end,
        )
    ).one()
    filled = session.scalar(
        select(func.count())
        .select_from(WaitlistOffer)
        .join(Appointment, col(Appointment.id) == col(WaitlistOffer.appointment_id))
        .where(
            col(WaitlistOffer.clinic_id) == span.clinic_id,
            col(WaitlistOffer.starts_at) >= span.start,
            col(WaitlistOffer.starts_at) < span.end,
            col(WaitlistOffer.status) == OfferStatus.accepted,
            col(Appointment.status).in_(ATTENDED),
        )
    )
    missed = session.execute(
        select(
            func.count(),
            func.count(col(NoShowRecovery.recovered_appointment_id)),
            func.sum(case((col(Appointment.status).in_(ATTENDED), 1), else_=0)),
        )
        .select_from(NoShowRecovery)
        .outerjoin(Appointment, col(Appointment.id) == col(NoShowRecovery.recovered_appointment_id))
        .where(
            col(NoShowRecovery.clinic_id) == span.clinic_id,
            col(NoShowRecovery.missed_at) >= span.start,
            col(NoShowRecovery.missed_at) < span.end,
        )
    ).one()
    return Recoveries(
        offers=offered[0],
        offers_taken=int(offered[1] or 0),
        waitlist_visits=filled or 0,
        no_shows=missed[0],
        no_shows_rebooked=missed[1],
        rebooked_visits=int(missed[2] or 0),
    )


def span_of(session: Session, clinic_id: int, first_day: date, last_day: date) -> Span:
    """The clinic's local days `first_day`..`last_day` (both included) as UTC bounds."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise LookupError(f"no clinic {clinic_id}")
    zone = ZoneInfo(clinic.timezone)
    start = datetime.combine(first_day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    return Span(clinic_id, start, end.astimezone(UTC), clinic.timezone)


def professional_names(session: Session, clinic_id: int) -> dict[int, str]:
    rows = session.execute(
        select(col(Professional.id), col(Professional.name)).where(
            col(Professional.clinic_id) == clinic_id
        )
    ).all()
    return {professional_id: name for professional_id, name in rows}
