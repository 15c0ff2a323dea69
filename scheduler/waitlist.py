"""The waitlist pass: offers whose hold ran out are released (and so are the times the
booking page held for a number that did not prove itself in time), entries whose day passed
end, and every freed slot is offered to the first waiting patient it fits, in one
transaction; the offers' messages then go out through the due-notifications pass."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.types import ServiceInfo
from scheduler.notifications import queue_due_notifications
from store import waitlist, web_bookings
from store.db import transaction
from store.models import Clinic, FreedSlot, ProfessionalService, Service, WaitlistOffer
from usecases.stored_availability import StoreAvailability

log = logging.getLogger(__name__)
PART_HOURS = {"morning": range(0, 12), "afternoon": range(12, 19), "evening": range(19, 24)}


@dataclass
class WaitlistReport:
    expired: int = 0
    web_expired: int = 0
    ended: int = 0
    freed: int = 0
    offered: int = 0


def run_waitlist_pass(engine: Engine, now: datetime) -> WaitlistReport:
    """Expire, end and offer, in that order: a hold that ran out frees its time, which is
    offered to the next in line in the same transaction (nobody else can take it between)."""
    report = WaitlistReport()
    with transaction(engine) as session:
        report.expired = waitlist.expire_offers(session, now)
        report.web_expired = web_bookings.expire(session, now)
        report.ended = waitlist.end_past_entries(session, now)
        freed = waitlist.claim_freed(session, now)
        report.freed = len(freed)
        for slot in freed:
            slot.handled_at = now
            session.add(slot)
            if offer_slot(session, slot, now) is not None:
                report.offered += 1
    return report


def offer_slot(session: Session, slot: FreedSlot, now: datetime) -> WaitlistOffer | None:
    """Hold the first free time that uses the freed slot (alone, or with free time next
    to it for a longer service) and fits the first waiting entry (same day, professional
    or any, service, part of the day), and offer it."""
    clinic = session.get(Clinic, slot.clinic_id)
    if clinic is None:
        return None
    tz = ZoneInfo(clinic.timezone)
    day = slot.starts_at.astimezone(tz).date()
    availability = StoreAvailability(session, clinic, now)
    for entry in waitlist.waiting_for(session, clinic.id or 0, day, slot.professional_id):
        service = session.get(Service, entry.service_id)
        if service is None or not service.active:
            continue
        if not waitlist.may_be_offered(session, clinic, entry, now):
            continue
        wanted = [entry.professional_id] if entry.professional_id else None
        candidates = _offering(session, service, slot.professional_id, wanted)
        info = ServiceInfo(
            service.id or 0, service.name, timedelta(minutes=service.duration_minutes)
        )
        for free in availability.slots(info, candidates, day):
            local = free.starts_at.astimezone(tz)
            if not (
                free.starts_at < slot.ends_at and free.starts_at + info.duration > slot.starts_at
            ):
                continue  # a time that uses the freed one (with free time around it)
            if entry.part and local.hour not in PART_HOURS.get(entry.part, range(24)):
                continue
            if waitlist.offered_before(session, entry, free.professional_id, free.starts_at):
                continue
            offer = waitlist.hold(
                session, clinic, entry, service, free.professional_id, free.starts_at, now
            )
            if offer is not None:
                return offer
    return None


def _offering(
    session: Session, service: Service, professional_id: int | None, wanted: list[int] | None
) -> list[int]:
    """The professionals who offer the service, narrowed to the freed slot's and the
    entry's."""
    ids = list(
        session.exec(
            select(ProfessionalService.professional_id).where(
                ProfessionalService.service_id == service.id
            )
        )
    )
    if professional_id is not None:
        ids = [p for p in ids if p == professional_id]
    if wanted is not None:
        ids = [p for p in ids if p in wanted]
    return sorted(ids)


def waitlist_job(
    engine: Engine, clock: Callable[[], datetime], *, base_url: str, secret: str
) -> WaitlistReport | None:
    """One scheduled run: the waitlist pass, then the offers' messages at once (a hold's
    minutes run from the offer). Logs instead of raising."""
    try:
        report = run_waitlist_pass(engine, clock())
    except Exception:
        log.exception("waitlist pass failed")
        return None
    if report.offered:
        queue_due_notifications(engine, clock(), base_url=base_url, secret=secret)
    if report.expired or report.web_expired or report.offered or report.ended:
        log.info("waitlist: %s", report)
    return report
