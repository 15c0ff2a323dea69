"""Campaigns' data: the appointments a campaign's filters match (its audience), who of
them is left out and why, the campaign kept with its filters and text, its recipients
fixed once when it starts (a conditional update: of two starts, one does it), its
messages withdrawn when it is stopped, and its results read from the outbox, the
inbound messages and the appointments' history."""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, case, cast, func, insert, literal, null, or_, select, update
from sqlalchemy.sql.elements import Case, ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery
from sqlmodel import Session, col

from store.content_templates import APPROVED
from store.db import insert_or_skip
from store.local_time import local_day, local_hour_of_week
from store.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    ContentTemplate,
    Conversation,
    InboundMessage,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Professional,
)
from store.notification_plan import folded
from store.window import MARGIN, WINDOW

# Why a patient of the audience gets nothing, in the order the reasons are checked.
OPTED_OUT, BLOCKED, INVALID, PAUSED = "opted_out", "blocked", "invalid", "paused"
REASONS = (OPTED_OUT, BLOCKED, INVALID, PAUSED)
PARTS = ("morning", "afternoon")
AFTERNOON = time(13)  # a day's afternoon starts here, as the desk speaks of it
STATUSES = (AppointmentStatus.booked, AppointmentStatus.confirmed)  # pending, confirmed
STOPPED = "campaign stopped"  # why its unsent messages were skipped (`error_message`)
KEY_PREFIX = "campaign:"
OPEN = (CampaignStatus.scheduled, CampaignStatus.writing, CampaignStatus.sending)  # stoppable


def campaign_key(campaign_id: int, appointment_id: int) -> str:
    """The idempotency key of a campaign's message about an appointment (the first of
    its phone's that day): each at most once, whoever sends the campaign how often."""
    return f"{KEY_PREFIX}{campaign_id}:{appointment_id}"


@dataclass(frozen=True)
class Filters:
    """Which appointments a campaign is about: local days `first`..`last` (inclusive),
    optionally only their morning or afternoon, and any of the listed professionals,
    services, branches, statuses and insurances (an empty list: all)."""

    first: date
    last: date
    part: str | None = None
    professionals: tuple[int, ...] = ()
    services: tuple[int, ...] = ()
    branches: tuple[int, ...] = ()
    statuses: tuple[str, ...] = tuple(STATUSES)
    insurances: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)

    @classmethod
    def from_json(cls, stored: str) -> "Filters":
        data = json.loads(stored)
        return cls(
            first=date.fromisoformat(data["first"]),
            last=date.fromisoformat(data["last"]),
            part=data.get("part"),
            **{
                name: tuple(data.get(name) or ())
                for name in ("professionals", "services", "branches", "statuses", "insurances")
            },
        )


@dataclass(frozen=True)
class Target:
    """One appointment of the audience, as its message needs it."""

    appointment_id: int
    patient_id: int
    phone: str
    name: str | None
    language: str | None
    starts_at: datetime
    professional_id: int
    service_id: int
    code: str


def _flagged(clinic_id: int) -> Subquery:
    """The clinic's phones something holds back, over every patient on each (few)."""
    return (
        select(
            col(Patient.phone).label("phone"),
            func.max(cast(col(Patient.bot_paused), Integer)).label("paused"),
            func.max(cast(col(Patient.opted_out), Integer)).label("opted_out"),
            func.max(col(Patient.unreachable)).label("unreachable"),
        )
        .where(
            col(Patient.clinic_id) == clinic_id,
            or_(
                col(Patient.bot_paused),
                col(Patient.opted_out),
                col(Patient.unreachable).is_not(None),
            ),
        )
        .group_by(col(Patient.phone))
        .subquery("flagged")
    )


def _reason(flagged: Subquery, include_paused: bool) -> Case[Any]:
    """Why nothing goes to a phone (`REASONS`), or NULL. Opted-out, blocked and invalid
    numbers are always left out; paused patients unless the desk includes them."""
    whens: list[tuple[ColumnElement[bool], str]] = [
        (flagged.c.opted_out == 1, OPTED_OUT),
        (flagged.c.unreachable == BLOCKED, BLOCKED),
        (flagged.c.unreachable.is_not(None), INVALID),
    ]
    if not include_paused:
        whens.append((flagged.c.paused == 1, PAUSED))
    return case(*whens, else_=null())


def insurances_as_written(session: Session, clinic_id: int, wanted: Iterable[str]) -> list[str]:
    """The insurance names the clinic's patients have that match `wanted` as notification
    rules match them: case and runs of spaces aside ("ips" finds "IPS" and " Ips")."""
    names = {folded(name) for name in wanted}
    written = session.scalars(
        select(col(Patient.insurance))
        .where(col(Patient.clinic_id) == clinic_id, col(Patient.insurance).is_not(None))
        .distinct()
    )
    return [name for name in written if name is not None and folded(name) in names]


def audience(
    session: Session, clinic_id: int, tz: ZoneInfo, filters: Filters, include_paused: bool
) -> Subquery:
    """The appointments the filters match, each with its message's lead (the earliest
    appointment of its phone that local day: one message per phone and day) and why its
    phone gets nothing, if it does not. The one definition of a campaign's audience: the
    preview counts it, the start fixes it."""
    start = datetime.combine(filters.first, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(filters.last + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    flagged = _flagged(clinic_id)
    starts = col(Appointment.starts_at)
    query = (
        select(
            col(Appointment.id).label("appointment_id"),
            col(Appointment.patient_id),
            col(Patient.phone),
            col(Patient.name),
            col(Patient.language),
            starts,
            col(Appointment.professional_id),
            col(Appointment.service_id),
            col(Appointment.code),
            func.first_value(col(Appointment.id))
            .over(
                partition_by=(col(Patient.phone), local_day(starts, tz.key)),
                order_by=(starts, col(Appointment.id)),
            )
            .label("lead_id"),
            _reason(flagged, include_paused).label("reason"),
        )
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .outerjoin(flagged, flagged.c.phone == col(Patient.phone))
        .where(
            col(Appointment.clinic_id) == clinic_id,
            starts >= start,
            starts < end,
            col(Appointment.status).in_(filters.statuses or STATUSES),
        )
    )
    if filters.part is not None:
        morning = local_hour_of_week(starts, tz.key) % 24 < AFTERNOON.hour
        query = query.where(morning if filters.part == PARTS[0] else ~morning)
    if filters.professionals:
        query = query.where(col(Appointment.professional_id).in_(filters.professionals))
    if filters.services:
        query = query.where(col(Appointment.service_id).in_(filters.services))
    if filters.insurances:
        names = insurances_as_written(session, clinic_id, filters.insurances)
        query = query.where(col(Patient.insurance).in_(names))
    if filters.branches:
        query = query.join(
            Professional, col(Professional.id) == col(Appointment.professional_id)
        ).where(col(Professional.branch_id).in_(filters.branches))
    return query.subquery("audience")


@dataclass(frozen=True)
class Tally:
    """Some of an audience: `messages` (one per phone and day) of `appointments`, left
    out for `reason` (None: sent), their patients' `language` and whether WhatsApp's
    window is open for their phones (what decides text or template)."""

    reason: str | None
    language: str | None
    window_open: bool
    messages: int
    appointments: int


def _open_windows(clinic_id: int, now: datetime) -> Select[tuple[str]]:
    """The phones WhatsApp's 24-hour window is open for now (they wrote lately)."""
    return (
        select(col(Conversation.phone).label("phone"))
        .where(
            col(Conversation.clinic_id) == clinic_id,
            col(Conversation.last_inbound_at) > now - WINDOW + MARGIN,
        )
        .distinct()
    )


def open_windows(
    session: Session, clinic_id: int, now: datetime, phones: Iterable[str]
) -> set[str]:
    """Which of `phones` WhatsApp's window is open for now."""
    query = _open_windows(clinic_id, now).where(col(Conversation.phone).in_(list(phones)))
    return set(session.execute(query).scalars())


def tallies(session: Session, matched: Subquery, clinic_id: int, now: datetime) -> list[Tally]:
    """The audience counted by reason, lead's language and window, in one statement."""
    is_lead = matched.c.appointment_id == matched.c.lead_id
    windows = _open_windows(clinic_id, now).subquery("windows")
    language = case((is_lead, matched.c.language), else_=null())
    window_open = case((windows.c.phone.is_not(None), 1), else_=0)
    query = (
        select(
            matched.c.reason,
            language,
            window_open,
            func.sum(case((is_lead, 1), else_=0)),
            func.count(),
        )
        .select_from(matched)
        .outerjoin(windows, windows.c.phone == matched.c.phone)
        .group_by(matched.c.reason, language, window_open)
    )
    return [
        Tally(reason, lead_language, bool(is_open), int(messages or 0), int(rows))
        for reason, lead_language, is_open, messages, rows in session.execute(query)
    ]


def approved_languages(session: Session, clinic_id: int, kind: str) -> set[str]:
    """The languages the clinic has an approved WhatsApp template of `kind` in."""
    return set(
        session.execute(
            select(col(ContentTemplate.language)).where(
                col(ContentTemplate.clinic_id) == clinic_id,
                col(ContentTemplate.kind) == kind,
                col(ContentTemplate.status) == APPROVED,
            )
        ).scalars()
    )


_TARGET_COLUMNS = (
    "appointment_id", "patient_id", "phone", "name", "language", "starts_at",
    "professional_id", "service_id", "code",
)  # fmt: skip


def _messages(rows: Iterable[Sequence[Any]]) -> list[list[Target]]:
    """Rows of (the message's key, the target's columns…), earliest first, as messages."""
    messages: dict[Any, list[Target]] = {}
    for key, *target in rows:
        messages.setdefault(key, []).append(Target(*target))
    return list(messages.values())


def first_messages(session: Session, matched: Subquery, count: int) -> list[list[Target]]:
    """The audience's first `count` messages that go, each with its appointments."""
    leads = (
        select(matched.c.appointment_id)
        .where(matched.c.appointment_id == matched.c.lead_id, matched.c.reason.is_(None))
        .order_by(matched.c.starts_at, matched.c.appointment_id)
        .limit(count)
    )
    rows = session.execute(
        select(matched.c.lead_id, *(matched.c[name] for name in _TARGET_COLUMNS))
        .where(matched.c.lead_id.in_(leads))
        .order_by(matched.c.starts_at, matched.c.appointment_id)
    )
    return sorted(_messages(rows), key=lambda m: (m[0].starts_at, m[0].appointment_id))


def add(
    session: Session,
    *,
    clinic_id: int,
    token: str,
    kind: str,
    text: str | None,
    filters: Filters,
    include_paused: bool,
    send_at: datetime,
    created_by: str,
    now: datetime,
) -> tuple[Campaign, bool]:
    """The campaign of this form's `token`, and whether it is new: a form sent twice,
    even at the same moment, finds the first one's (the database decides, on `token`)."""
    values = {
        "clinic_id": clinic_id,
        "token": token,
        "kind": kind,
        "text": text,
        "filters": filters.to_json(),
        "include_paused": include_paused,
        "status": CampaignStatus.scheduled.value,
        "send_at": send_at,
        "created_by": created_by,
        "created_at": now,
        "recipients": 0,
    }
    statement = insert_or_skip(session.get_bind().dialect.name, Campaign, ("token",))
    made = session.execute(statement, values).scalar()
    found = session.execute(select(Campaign).where(col(Campaign.token) == token)).scalars().one()
    return found, made is not None


def begin(session: Session, campaign_id: int, now: datetime) -> Campaign | None:
    """Take a scheduled campaign into sending, or None if another start (or a stop) took
    it first: one conditional update, which the database lets one transaction make."""
    taken = session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status) == CampaignStatus.scheduled)
        .values(status=CampaignStatus.writing, started_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Campaign, campaign_id, populate_existing=True)


def fix_recipients(session: Session, campaign: Campaign, tz: ZoneInfo) -> int:
    """Record the appointments of the campaign's audience that get its message, each
    under the key of the message that carries it, in one statement; how many messages."""
    assert campaign.id is not None
    matched = audience(
        session,
        campaign.clinic_id,
        tz,
        Filters.from_json(campaign.filters),
        campaign.include_paused,
    )
    prefix = f"{KEY_PREFIX}{campaign.id}:"
    session.execute(
        insert(CampaignRecipient).from_select(
            ["clinic_id", "campaign_id", "appointment_id", "phone", "outbox_key"],
            select(
                literal(campaign.clinic_id),
                literal(campaign.id),
                matched.c.appointment_id,
                matched.c.phone,
                literal(prefix) + cast(matched.c.lead_id, String),
            )
            .where(matched.c.reason.is_(None))
            .order_by(matched.c.starts_at, matched.c.appointment_id),  # ids: the writing order
        )
    )
    campaign.recipients = session.execute(
        select(func.count()).where(
            col(CampaignRecipient.campaign_id) == campaign.id,
            col(CampaignRecipient.outbox_key)
            == literal(prefix) + cast(col(CampaignRecipient.appointment_id), String),
        )
    ).scalar_one()
    session.add(campaign)
    return campaign.recipients


def take_for_writing(session: Session, campaign_id: int) -> int | None:
    """Hold a campaign whose messages are being written until this transaction ends (a
    stop waits for it, a second writer too, and a stopped campaign is not taken): the
    last recipient written so far, or None when it is not writing any more."""
    return session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status) == CampaignStatus.writing)
        .values(status=CampaignStatus.writing)
        .returning(col(Campaign.written_through))
    ).scalar()


def unwritten(
    session: Session, campaign_id: int, after: int, count: int
) -> tuple[list[list[Target]], int]:
    """The campaign's next `count` messages after its recipient `after`, in the order its
    start fixed them (earliest appointment first), each with its appointments as they are
    now; and the last recipient they take."""
    lead = col(CampaignRecipient.outbox_key) == literal(f"{KEY_PREFIX}{campaign_id}:") + cast(
        col(CampaignRecipient.appointment_id), String
    )
    leads = session.execute(
        select(col(CampaignRecipient.id), col(CampaignRecipient.outbox_key))
        .where(
            col(CampaignRecipient.id) > after,
            col(CampaignRecipient.campaign_id) == campaign_id,
            lead,
        )
        .order_by(col(CampaignRecipient.id))
        .limit(count)
    ).all()
    if not leads:
        return [], after
    rows = session.execute(
        select(
            col(CampaignRecipient.outbox_key),
            col(Appointment.id),
            col(Appointment.patient_id),
            col(CampaignRecipient.phone),
            col(Patient.name),
            col(Patient.language),
            col(Appointment.starts_at),
            col(Appointment.professional_id),
            col(Appointment.service_id),
            col(Appointment.code),
        )
        .join(Appointment, col(Appointment.id) == col(CampaignRecipient.appointment_id))
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(
            col(CampaignRecipient.campaign_id) == campaign_id,
            col(CampaignRecipient.outbox_key).in_([key for _, key in leads]),
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    by_key = {message[0].appointment_id: message for message in _messages(rows)}
    order = [int(key.rsplit(":", 1)[1]) for _, key in leads]
    return [by_key[lead_id] for lead_id in order if lead_id in by_key], leads[-1][0]


def written(session: Session, campaign_id: int, through: int, finished: bool) -> None:
    """The campaign's messages are in the outbox through recipient `through`; with
    `finished`, all of them: it is only sending now."""
    values: dict[str, Any] = {"written_through": through}
    if finished:
        values["status"] = CampaignStatus.sending
    session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status) == CampaignStatus.writing)
        .values(**values)
    )


def writing(session: Session, limit: int = 20) -> list[tuple[int, int]]:
    """The campaigns whose messages are still being written, with their clinics."""
    return [
        (campaign_id, clinic_id)
        for campaign_id, clinic_id in session.execute(
            select(col(Campaign.id), col(Campaign.clinic_id))
            .where(col(Campaign.status) == CampaignStatus.writing)
            .order_by(col(Campaign.id))
            .limit(limit)
        )
    ]


def due(session: Session, now: datetime, limit: int = 20) -> list[int]:
    """Scheduled campaigns whose time has come."""
    return list(
        session.execute(
            select(col(Campaign.id))
            .where(col(Campaign.status) == CampaignStatus.scheduled, col(Campaign.send_at) <= now)
            .order_by(col(Campaign.send_at))
            .limit(limit)
        ).scalars()
    )


def stop(session: Session, campaign: Campaign, by: str, now: datetime) -> int | None:
    """Stop a scheduled or sending campaign: its messages not yet claimed for sending are
    skipped (one claimed is already at Twilio's door). How many were withdrawn, or None
    when it was stopped already or had nothing left."""
    stopped = session.execute(
        update(Campaign)
        .where(
            col(Campaign.id) == campaign.id,
            col(Campaign.status).in_(OPEN),
        )
        .values(status=CampaignStatus.stopped, stopped_at=now, stopped_by=by)
    )
    if stopped.rowcount != 1:  # type: ignore[attr-defined]
        return None
    keys = select(col(CampaignRecipient.outbox_key)).where(
        col(CampaignRecipient.campaign_id) == campaign.id
    )
    withdrawn = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.idempotency_key).in_(keys),
            col(OutboxMessage.status) == OutboxStatus.pending,
        )
        .values(status=OutboxStatus.skipped, error_message=STOPPED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(withdrawn.rowcount)  # type: ignore[attr-defined]


# What each outbox status counts as in a campaign's results ("sent" includes what went
# further: a delivered message was sent, a read one delivered).
_REACHED = {
    OutboxStatus.sent: 1,
    OutboxStatus.queued: 1,
    OutboxStatus.accepted: 1,
    OutboxStatus.delivered: 2,
    OutboxStatus.read: 3,
}
_FAILED = {OutboxStatus.failed, OutboxStatus.undelivered, OutboxStatus.not_sendable}


@dataclass
class Results:
    """A campaign's messages and what became of them and their appointments."""

    recipients: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    skipped: int = 0
    replied: int = 0
    rescheduled: int = 0
    cancelled: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def counts(self) -> dict[str, int]:
        """Every count by its name (the statuses aside)."""
        return {name: value for name, value in vars(self).items() if isinstance(value, int)}


def results(session: Session, campaign: Campaign) -> Results:
    """Counts read in three statements (messages, replies, appointment changes)."""
    found = Results(recipients=campaign.recipients)
    messages = (
        select(col(CampaignRecipient.outbox_key))
        .where(col(CampaignRecipient.campaign_id) == campaign.id)
        .distinct()
        .subquery()
    )
    for status, count in session.execute(
        select(col(OutboxMessage.status), func.count())
        .join(messages, messages.c.outbox_key == col(OutboxMessage.idempotency_key))
        .group_by(col(OutboxMessage.status))
    ):
        found.statuses[status] = count
        reached = _REACHED.get(status, 0)
        found.sent += count if reached >= 1 else 0
        found.delivered += count if reached >= 2 else 0
        found.read += count if reached >= 3 else 0
        found.failed += count if status in _FAILED else 0
        found.pending += count if status in (OutboxStatus.pending, OutboxStatus.sending) else 0
        found.skipped += count if status == OutboxStatus.skipped else 0
    found.pending += campaign.recipients - sum(found.statuses.values())  # not written yet
    if campaign.started_at is None:
        return found
    phones = select(col(CampaignRecipient.phone)).where(
        col(CampaignRecipient.campaign_id) == campaign.id
    )
    found.replied = session.execute(
        select(func.count(func.distinct(col(InboundMessage.from_phone)))).where(
            col(InboundMessage.clinic_id) == campaign.clinic_id,
            col(InboundMessage.from_phone).in_(phones),
            col(InboundMessage.received_at) >= campaign.started_at,
        )
    ).scalar_one()
    appointments = select(col(CampaignRecipient.appointment_id)).where(
        col(CampaignRecipient.campaign_id) == campaign.id
    )
    for kind, count in session.execute(
        select(
            col(AppointmentEvent.kind), func.count(func.distinct(AppointmentEvent.appointment_id))
        )
        .where(
            col(AppointmentEvent.appointment_id).in_(appointments),
            col(AppointmentEvent.at) >= campaign.started_at,
            col(AppointmentEvent.kind).in_(("rescheduled", "cancelled")),
        )
        .group_by(col(AppointmentEvent.kind))
    ):
        if kind == "rescheduled":
            found.rescheduled = count
        else:
            found.cancelled = count
    return found


def listed(session: Session, clinic_id: int, limit: int = 100) -> list[Campaign]:
    """The clinic's campaigns, newest first."""
    return list(
        session.execute(
            select(Campaign)
            .where(col(Campaign.clinic_id) == clinic_id)
            .order_by(col(Campaign.id).desc())
            .limit(limit)
        ).scalars()
    )


def failed_messages(session: Session, campaign: Campaign) -> list[OutboxMessage]:
    """The campaign's messages that did not reach their phone (the failed-messages panel
    lists the same rows, for staff to fix)."""
    keys = select(col(CampaignRecipient.outbox_key)).where(
        col(CampaignRecipient.campaign_id) == campaign.id
    )
    return list(
        session.execute(
            select(OutboxMessage).where(
                col(OutboxMessage.idempotency_key).in_(keys),
                col(OutboxMessage.status).in_(_FAILED),
            )
        ).scalars()
    )
