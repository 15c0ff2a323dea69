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
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, update
from sqlmodel import Session, col

from store.content_templates import APPROVED
from store.db import insert_or_skip
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
from store.window import WINDOW, window_open

# Why a patient of the audience gets nothing, in the order the reasons are checked.
OPTED_OUT, BLOCKED, INVALID, PAUSED = "opted_out", "blocked", "invalid", "paused"
REASONS = (OPTED_OUT, BLOCKED, INVALID, PAUSED)
PARTS = ("morning", "afternoon")
AFTERNOON = time(13)  # a day's afternoon starts here, as the desk speaks of it
STATUSES = (AppointmentStatus.booked, AppointmentStatus.confirmed)  # pending, confirmed
STOPPED = "campaign stopped"  # why its unsent messages were skipped (`error_message`)
KEY_PREFIX = "campaign:"


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


@dataclass(frozen=True)
class Flags:
    """What holds a phone's messages back, over every patient on it at the clinic."""

    paused: bool = False
    opted_out: bool = False
    unreachable: str | None = None


def exclusion(flags: Flags | None, include_paused: bool) -> str | None:
    """Why nothing goes to a phone (`REASONS`), or None. Opted-out, blocked and invalid
    numbers are always left out; paused patients unless the desk includes them."""
    if flags is None:
        return None
    if flags.opted_out:
        return OPTED_OUT
    if flags.unreachable is not None:
        return BLOCKED if flags.unreachable == BLOCKED else INVALID
    if flags.paused and not include_paused:
        return PAUSED
    return None


def in_part(local_start: datetime, part: str | None) -> bool:
    if part is None:
        return True
    return (local_start.time() < AFTERNOON) == (part == PARTS[0])


def matching(session: Session, clinic_id: int, tz: ZoneInfo, filters: Filters) -> list[Target]:
    """The appointments the filters match, earliest first."""
    start = datetime.combine(filters.first, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(filters.last + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    query = (
        select(
            col(Appointment.id),
            col(Appointment.patient_id),
            col(Patient.phone),
            col(Patient.name),
            col(Patient.language),
            col(Appointment.starts_at),
            col(Appointment.professional_id),
            col(Appointment.service_id),
            col(Appointment.code),
        )
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(
            col(Appointment.clinic_id) == clinic_id,
            col(Appointment.starts_at) >= start,
            col(Appointment.starts_at) < end,
            col(Appointment.status).in_(filters.statuses or STATUSES),
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    if filters.professionals:
        query = query.where(col(Appointment.professional_id).in_(filters.professionals))
    if filters.services:
        query = query.where(col(Appointment.service_id).in_(filters.services))
    if filters.insurances:
        query = query.where(col(Patient.insurance).in_(filters.insurances))
    if filters.branches:
        query = query.join(
            Professional, col(Professional.id) == col(Appointment.professional_id)
        ).where(col(Professional.branch_id).in_(filters.branches))
    found = [Target(*row) for row in session.execute(query)]
    if filters.part is None:
        return found
    return [t for t in found if in_part(t.starts_at.astimezone(tz), filters.part)]


def phone_flags(session: Session, clinic_id: int) -> dict[str, Flags]:
    """The clinic's phones that something holds back (few: read them all at once)."""
    flags: dict[str, Flags] = {}
    for phone, paused, opted_out, unreachable in session.execute(
        select(
            col(Patient.phone),
            col(Patient.bot_paused),
            col(Patient.opted_out),
            col(Patient.unreachable),
        ).where(
            col(Patient.clinic_id) == clinic_id,
            or_(
                col(Patient.bot_paused),
                col(Patient.opted_out),
                col(Patient.unreachable).is_not(None),
            ),
        )
    ):
        before = flags.get(phone, Flags())
        flags[phone] = Flags(
            before.paused or paused,
            before.opted_out or opted_out,
            before.unreachable or unreachable,
        )
    return flags


def open_windows(session: Session, clinic_id: int, now: datetime) -> set[str]:
    """The phones WhatsApp's 24-hour window is open for now (they wrote lately: few)."""
    return {
        phone
        for phone, last in session.execute(
            select(col(Conversation.phone), col(Conversation.last_inbound_at)).where(
                col(Conversation.clinic_id) == clinic_id,
                col(Conversation.last_inbound_at) > now - WINDOW,
            )
        )
        if window_open(last, now)
    }


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


def grouped(targets: Iterable[Target], tz: ZoneInfo) -> list[list[Target]]:
    """One message per phone and local day: the appointments it is about, earliest
    first (the first one names the message's key)."""
    groups: dict[tuple[str, date], list[Target]] = {}
    for target in targets:
        groups.setdefault((target.phone, target.starts_at.astimezone(tz).date()), []).append(target)
    return [
        sorted(group, key=lambda t: (t.starts_at, t.appointment_id)) for group in groups.values()
    ]


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
        .values(status=CampaignStatus.sending, started_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Campaign, campaign_id, populate_existing=True)


_FIX = (
    "INSERT INTO campaign_recipient (clinic_id, campaign_id, appointment_id, phone, outbox_key)"
    " VALUES (%(clinic_id)s, %(campaign_id)s, %(appointment_id)s, %(phone)s, %(outbox_key)s)"
)


def fix_recipients(
    session: Session, campaign: Campaign, messages: Sequence[Sequence[Target]]
) -> None:
    """Record the appointments each message is about, once per (campaign, appointment)."""
    assert campaign.id is not None
    rows = [
        {
            "clinic_id": campaign.clinic_id,
            "campaign_id": campaign.id,
            "appointment_id": target.appointment_id,
            "phone": target.phone,
            "outbox_key": campaign_key(campaign.id, group[0].appointment_id),
        }
        for group in messages
        for target in group
    ]
    if rows and session.get_bind().dialect.name == "postgresql":  # prepared once, pipelined
        session.connection().exec_driver_sql(_FIX, rows)
    elif rows:
        session.execute(insert(CampaignRecipient), rows)
    campaign.recipients = len(messages)
    session.add(campaign)


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
            col(Campaign.status).in_((CampaignStatus.scheduled, CampaignStatus.sending)),
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
