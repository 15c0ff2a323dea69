"""Campaigns: a message to the patients of the appointments some filters match. The desk
sees first who would get it, who is left out and why, and how it reads for a few of them
in their own language; when it starts (at once or at its time) its recipients are fixed
and its first messages written to the outbox in one transaction, and the rest are written
ahead of the sender while it sends, each under a key of the campaign and its appointment,
so a second start, a form sent twice or a second worker writes to nobody twice. The
dispatcher sends them at the sender's pace, as text inside WhatsApp's 24-hour window and
as the clinic's approved template outside it."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.custom_texts import Problem, body_problems
from bot.render import option_label, render, tag_texts
from bot.types import Option, Reply
from store import campaigns as store
from store.appointment_info import appointment_tags
from store.campaigns import Filters, Target
from store.clinic_templates import ClinicTexts
from store.db import transaction
from store.message_kinds import CAMPAIGN_KINDS, MessageKind
from store.models import Campaign, Clinic, Professional, Service
from store.outbox import insert_many, outbox_rows

# The desk's own text may use the tags the ready-made reminder offers (all of them).
FREE_TEXT_TAGS_OF = MessageKind.campaign_reminder.template_key()
SEVERAL = "campaign.several"
SAMPLE = 5
FIRST_BATCH = 500  # messages written when a campaign starts: its first seconds of sending
AHEAD = 3  # runs of the writer its sender cannot catch up with


@dataclass(frozen=True)
class Draft:
    """What the desk chose: the kind of message (or its own `text`), the filters, and
    whether paused patients get it too."""

    kind: MessageKind
    filters: Filters
    text: str | None = None
    include_paused: bool = False


def draft_problems(draft: Draft) -> list[Problem]:
    """Why the draft cannot be sent whatever its audience (the console's text problems)."""
    if draft.kind not in CAMPAIGN_KINDS:
        return [Problem("unknown_kind")]
    if draft.filters.last < draft.filters.first:
        return [Problem("days_reversed")]
    if draft.kind == MessageKind.campaign_text:
        return body_problems(FREE_TEXT_TAGS_OF, draft.text or "")
    return []


@dataclass(frozen=True)
class Sample:
    """One message as its patient would read it."""

    phone: str
    name: str | None
    language: str
    body: str
    appointments: int
    as_template: bool  # the window is closed: it goes as the approved template
    sendable: bool


@dataclass
class Audience:
    """How many messages a draft would send (one per phone and day) about how many
    appointments, those left out by reason, and how many of those to send could not go
    (outside the window, no approved template of the kind in the patient's language)."""

    messages: int = 0
    appointments: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    not_sendable: int = 0
    samples: list[Sample] = field(default_factory=list)


class Writer:
    """Writes one campaign message in its patient's language, with the appointment's
    self-service link; the names of services and professionals read once."""

    def __init__(
        self, session: Session, clinic: Clinic, draft: Draft, link: Callable[[int], str]
    ) -> None:
        self.clinic, self.draft, self.link = clinic, draft, link
        self.tz = ZoneInfo(clinic.timezone)
        clinic_id = clinic.id or 0
        self.services = dict(
            session.execute(
                select(col(Service.id), col(Service.name)).where(Service.clinic_id == clinic_id)
            ).all()
        )
        self.professionals = dict(
            session.execute(
                select(col(Professional.id), col(Professional.name)).where(
                    Professional.clinic_id == clinic_id
                )
            ).all()
        )
        self.own_texts = ClinicTexts(session)

    def language(self, target: Target) -> str:
        return target.language or self.clinic.default_language

    def write(self, group: Sequence[Target]) -> tuple[str, str, dict[str, str]]:
        """(body, language, the tags as text for an approved template) of one message."""
        lead = group[0]
        language = self.language(lead)
        tags = appointment_tags(
            self.clinic,
            lead.name,
            self.services.get(lead.service_id, ""),
            self.professionals.get(lead.professional_id, ""),
            lead.starts_at.astimezone(self.tz),
            lead.code,
            self.link(lead.appointment_id),
        )
        kind = self.draft.kind
        if kind == MessageKind.campaign_text:
            reply = Reply(kind.value, tags)
            body = render(reply, language, {kind.value: self.draft.text or ""}, fallback=False)
        else:
            own = self.own_texts(self.clinic.id or 0, language)
            body = render(Reply(kind.template_key(), tags), language, own)
        if len(group) > 1:
            body += "\n\n" + self._several(group, language)
        return body, language, tag_texts(tags, language)

    def _several(self, group: Sequence[Target], language: str) -> str:
        times = tuple(
            option_label(
                Option(
                    str(t.appointment_id),
                    label=self.services.get(t.service_id, ""),
                    moment=t.starts_at.astimezone(self.tz),
                ),
                language,
            )
            for t in group
        )
        return render(Reply(SEVERAL, {"count": len(group), "times": times}), language)


def audience(
    session: Session,
    clinic: Clinic,
    draft: Draft,
    now: datetime,
    *,
    writer: Writer | None = None,
    samples: int = 0,
) -> Audience:
    """Who the draft would write to, who not and why, and `samples` messages written out."""
    clinic_id = clinic.id or 0
    matched = store.audience(
        session, clinic_id, ZoneInfo(clinic.timezone), draft.filters, draft.include_paused
    )
    approved = store.approved_languages(session, clinic_id, draft.kind)
    found = Audience()
    for tally in store.tallies(session, matched, clinic_id, now):
        found.appointments += tally.appointments
        if tally.reason is not None:
            found.excluded[tally.reason] += tally.messages
            continue
        found.messages += tally.messages
        if not tally.window_open and (tally.language or clinic.default_language) not in approved:
            found.not_sendable += tally.messages
    if writer is None or not samples:
        return found
    messages = store.first_messages(session, matched, samples)
    open_windows = store.open_windows(session, clinic_id, now, (m[0].phone for m in messages))
    for message in messages:
        body, language, _ = writer.write(message)
        outside = message[0].phone not in open_windows
        found.samples.append(
            Sample(
                message[0].phone,
                message[0].name,
                language,
                body,
                len(message),
                as_template=outside,
                sendable=not outside or language in approved,
            )
        )
    return found


def preview(
    engine: Engine, clinic_id: int, draft: Draft, now: datetime, links: Callable[[int], str]
) -> Audience:
    """The audience with a sample of messages written out; nothing is kept."""
    with Session(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        if clinic is None:
            raise LookupError(clinic_id)
        writer = Writer(session, clinic, draft, links)
        return audience(session, clinic, draft, now, writer=writer, samples=SAMPLE)


@dataclass(frozen=True)
class Created:
    """A campaign made (or found: the same form sent twice), and what it queued so far;
    or why none was made (`refused`, a `campaigns.refused_*` label)."""

    campaign_id: int | None = None
    queued: int = 0
    refused: str | None = None
    new: bool = True


def create(
    engine: Engine,
    clinic_id: int,
    draft: Draft,
    *,
    token: str,
    send_at: datetime | None,
    by: str,
    now: datetime,
    links: Callable[[int], str],
) -> Created:
    """Keep the campaign and, when it goes now, start it: refused when the draft has
    problems, its time has passed or it would reach nobody."""
    if draft_problems(draft):
        return Created(refused="invalid")
    if send_at is not None and send_at < now:
        return Created(refused="in_the_past")
    with transaction(engine) as session:
        clinic = session.get(Clinic, clinic_id)
        if clinic is None:
            return Created(refused="invalid")
        if send_at is None and not audience(session, clinic, draft, now).messages:
            return Created(refused="no_recipients")
        campaign, new = store.add(
            session,
            clinic_id=clinic_id,
            token=token,
            kind=draft.kind,
            text=draft.text if draft.kind == MessageKind.campaign_text else None,
            filters=draft.filters,
            include_paused=draft.include_paused,
            send_at=send_at or now,
            created_by=by,
            now=now,
        )
    assert campaign.id is not None
    if not new or send_at is not None:
        return Created(campaign.id, new=new)
    return Created(campaign.id, start(engine, campaign.id, now, links))


def draft_of(campaign: Campaign) -> Draft:
    return Draft(
        MessageKind(campaign.kind),
        Filters.from_json(campaign.filters),
        campaign.text,
        campaign.include_paused,
    )


def start(
    engine: Engine,
    campaign_id: int,
    now: datetime,
    links: Callable[[int], str],
    *,
    first: int = FIRST_BATCH,
) -> int:
    """Fix a scheduled campaign's recipients and write its `first` messages, in one
    transaction; how many messages it sends (0 when another start took it first, or it
    was stopped). The rest are written while it sends (`write_due`)."""
    with transaction(engine) as session:
        campaign = store.begin(session, campaign_id, now)
        if campaign is None:
            return 0
        clinic = session.get(Clinic, campaign.clinic_id)
        assert clinic is not None
        messages = store.fix_recipients(session, campaign, ZoneInfo(clinic.timezone))
        _write(session, clinic, campaign, 0, now, links, first)
        return messages


def _write(
    session: Session,
    clinic: Clinic,
    campaign: Campaign,
    after: int,
    now: datetime,
    links: Callable[[int], str],
    count: int,
) -> int:
    """Write the campaign's next `count` messages after recipient `after` to the outbox,
    each under its key (none twice, whoever writes); when none is left, it is only
    sending. How many."""
    assert campaign.id is not None
    messages, through = store.unwritten(session, campaign.id, after, count)
    writer = Writer(session, clinic, draft_of(campaign), links)
    kind = MessageKind(campaign.kind)
    rows = []
    for message in messages:
        body, language, tags = writer.write(message)
        rows += outbox_rows(
            clinic_id=clinic.id or 0,
            idempotency_key=store.campaign_key(campaign.id, message[0].appointment_id),
            from_phone=clinic.whatsapp_number,
            to_phone=message[0].phone,
            body=body,
            now=now,
            kind=kind,
            template=kind.template,
            appointment_id=message[0].appointment_id,
            not_after=message[0].starts_at,
            language=language,
            variables=tags,
        )
    insert_many(session, rows)
    store.written(session, campaign.id, through, finished=len(messages) < count)
    return len(messages)


def write_due(
    engine: Engine,
    now: datetime,
    links: Callable[[int], str],
    seconds: float,
    *,
    least: int = FIRST_BATCH,
) -> int:
    """Keep each sending campaign's messages ahead of its sender: write what it can send
    in `AHEAD` runs of `seconds` (its clinic's rate), `least` at least. How many written."""
    with Session(engine) as session:
        due = store.writing(session)
    written = 0
    for campaign_id, clinic_id in due:
        with transaction(engine) as session:
            after = store.take_for_writing(session, campaign_id)
            clinic = session.get(Clinic, clinic_id)
            campaign = session.get(Campaign, campaign_id)
            if after is None or clinic is None or campaign is None:
                continue
            count = max(least, ceil(clinic.send_rate_per_second * seconds * AHEAD))
            written += _write(session, clinic, campaign, after, now, links, count)
    return written


def start_due(engine: Engine, now: datetime, links: Callable[[int], str]) -> int:
    """Start the scheduled campaigns whose time has come; how many messages they queued."""
    with Session(engine) as session:
        due = store.due(session, now)
    return sum(start(engine, campaign_id, now, links) for campaign_id in due)


def stop(engine: Engine, clinic_id: int, campaign_id: int, by: str, now: datetime) -> int | None:
    """Stop the clinic's campaign; how many messages were withdrawn, or None when it was
    not there, stopped already, or had nothing left to stop."""
    with transaction(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.clinic_id != clinic_id:
            return None
        return store.stop(session, campaign, by, now)


def is_open(campaign: Campaign) -> bool:
    """Whether the campaign can still be stopped."""
    return campaign.status in store.OPEN
