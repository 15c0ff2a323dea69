"""The due-notifications pass: reminders and booking confirmations whose time has come are
checked, written in the patient's language (the clinic's own text where it has one) and
handed to the outbox, one transaction per batch. A worker that was down catches up on its
next pass: what is still useful goes out, the rest is recorded as skipped "too late"."""

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.choices import offer
from bot.links import self_service_url
from bot.payloads import CONFIRMED_ACTIONS, check_in_button, offer_buttons, reminder_buttons
from bot.render import render, tag_texts
from bot.types import Option, Reply
from scheduler import after_visit
from store import notifications as due
from store.after_visit import KINDS as after_visit_kinds
from store.appointment_info import appointment_info
from store.clinic_templates import ClinicTexts
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import Appointment, AppointmentStatus, Clinic, Notification
from store.waitlist import offer_of

log = logging.getLogger(__name__)


@dataclass
class NotificationReport:
    """What one pass did: how many it claimed, queued, and skipped for each reason."""

    claimed: int = 0
    queued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, other: "NotificationReport") -> None:
        self.claimed += other.claimed
        self.queued += other.queued
        self.skipped.update(other.skipped)


def queue_due_notifications(
    engine: Engine, now: datetime, *, base_url: str, secret: str, limit: int = 500
) -> NotificationReport:
    """Claim up to `limit` due notifications and queue or skip each, in one transaction
    (two workers never take the same row)."""
    report = NotificationReport()
    with transaction(engine) as session:
        rules = due.Rules(session)
        claimed = due.claim_due(session, now, limit)
        own_texts = ClinicTexts(session)
        report.claimed = len(claimed)
        queued: list[Notification] = []
        for notification in claimed:
            reason = due.reason_to_skip(session, notification, now, rules)
            if reason is None and notification.kind in after_visit_kinds:
                try:
                    after_visit.queue_after_visit(session, notification, now, own_texts)
                    queued.append(notification)
                    continue
                except Exception:
                    log.exception("notification %s: could not be rendered", notification.id)
                    reason = due.FAILED_TO_RENDER
            rendered = None
            if reason is None:
                try:
                    rendered = _render(session, notification, base_url, secret, own_texts, now)
                except Exception:
                    log.exception("notification %s: could not be rendered", notification.id)
                    reason = due.FAILED_TO_RENDER
            if rendered is None:
                due.skip(notification, reason or due.FAILED_TO_RENDER, now)
                report.skipped[reason or due.FAILED_TO_RENDER] += 1
                continue
            due.queue(
                session,
                notification,
                template=rendered.kind.template_key(),
                kind=rendered.kind,
                body=rendered.body,
                now=now,
                language=rendered.language,
                options=rendered.options,
                variables=rendered.tags,
            )
            queued.append(notification)
        due.link_outbox(session, queued)
        report.queued = len(queued)
    return report


@dataclass(frozen=True)
class Rendered:
    """A notification written out: the kind it goes as, the message in the patient's
    language, the tags as text (for a template sent in its place) and its buttons, as
    outbox `options`, where the clinic sends buttons."""

    kind: MessageKind
    body: str
    language: str
    tags: dict[str, str]
    options: str | None


REMINDERS = (MessageKind.reminder, MessageKind.reminder_confirmed)


def sent_as(kind: MessageKind, appointment: Appointment) -> MessageKind:
    """The kind a planned notification goes out as: a reminder of an appointment the
    patient already confirmed does not ask "will you come?" again."""
    if kind == MessageKind.reminder and appointment.status == AppointmentStatus.confirmed:
        return MessageKind.reminder_confirmed
    return kind


def _render(
    session: Session,
    notification: Notification,
    base_url: str,
    secret: str,
    own_texts: ClinicTexts,
    now: datetime,
) -> Rendered:
    """The message with the appointment's self-service link, in the patient's language,
    and, for a reminder or an offer where the clinic sends buttons, its choices (each
    naming the appointment or the offer; a reminder sent on the appointment's day also
    "I'm here")."""
    appointment = session.get(Appointment, notification.appointment_id)
    assert appointment is not None and appointment.id is not None
    info = appointment_info(session, appointment)
    tags = info.tags(self_service_url(base_url, secret, appointment.id))
    kind = sent_as(MessageKind(notification.kind), appointment)
    if kind == MessageKind.waitlist_offer and appointment.hold_expires_at is not None:
        # the link's page takes the offer; the code is the appointment's once it is taken
        tags.pop("code")
        tags["hold_until"] = appointment.hold_expires_at.astimezone(info.local_start.tzinfo)
    reply = Reply(kind.template_key(), tags)
    own = own_texts(appointment.clinic_id, info.language)
    body = render(reply, info.language, own)
    texts = tag_texts(tags, info.language)
    clinic = session.get(Clinic, appointment.clinic_id)
    choices = _choices(session, kind, appointment.id)
    if (
        kind in REMINDERS
        and now.astimezone(info.local_start.tzinfo).date() == info.local_start.date()
    ):
        choices = (*choices, check_in_button(appointment.id))
    if not choices or clinic is None or not clinic.interactive_messages:
        return Rendered(kind, body, info.language, texts, None)
    offered = offer([Reply(reply.template, reply.tags, choices)], info.language, own)
    options = json.dumps(offered.to_json(), ensure_ascii=False) if offered else None
    return Rendered(kind, body, info.language, texts, options)


def _choices(session: Session, kind: MessageKind, appointment_id: int) -> tuple[Option, ...]:
    """The buttons of a reminder (confirm — unless confirmed already —, cancel, reschedule,
    each naming the appointment)
    or of a waitlist offer (take it, let it go, naming the offer); none for other kinds."""
    if kind == MessageKind.reminder:
        return reminder_buttons(appointment_id)
    if kind == MessageKind.reminder_confirmed:
        return reminder_buttons(appointment_id, CONFIRMED_ACTIONS)
    if (
        kind == MessageKind.waitlist_offer
        and (found := offer_of(session, appointment_id)) is not None
    ):
        return offer_buttons(found.id or 0)
    return ()


def notifications_job(
    engine: Engine, clock: Callable[[], datetime], *, base_url: str, secret: str, limit: int = 500
) -> NotificationReport:
    """One scheduled run: queue what is due, batch after batch while full batches come
    back (a backlog drains in one run), logging instead of raising."""
    total = NotificationReport()
    while True:
        try:
            report = queue_due_notifications(
                engine, clock(), base_url=base_url, secret=secret, limit=limit
            )
        except Exception:
            log.exception("due notifications pass failed")
            break
        total.add(report)
        if report.claimed < limit:
            break
    if total.claimed:
        log.info("notifications: %s queued, skipped %s", total.queued, dict(total.skipped))
    return total
