"""Choosing a free time for a service at the desk (moving an appointment, accepting an
appointment request): who offers the service, which professional the form asked for, the
free times of a day from the availability engine, and the re-check before one is taken."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from sqlmodel import Session, col, select

from bot.types import ServiceInfo
from store.models import Clinic, Professional, ProfessionalService, Service
from usecases.stored_availability import StoreAvailability, booking_rules
from web.console.common import now
from web.self_service_forms import SlotChoice

ANY = "any"


@dataclass(frozen=True)
class Window:
    """The days the desk may book: today to the clinic's horizon, in its zone."""

    first: date
    last: date

    def check(self, day: date) -> date:
        """The day, or 400 when it lies outside."""
        if not self.first <= day <= self.last:
            abort(400)
        return day


def window(clinic: Clinic) -> Window:
    rules = booking_rules(clinic)
    return Window(rules.local_date(now()), rules.last_day(now()))


def local_day(clinic: Clinic, choice: SlotChoice) -> date:
    return booking_rules(clinic).local_date(choice.starts_at)


def service_info(service: Service) -> ServiceInfo:
    return ServiceInfo(service.id or 0, service.name, timedelta(minutes=service.duration_minutes))


def offering(session: Session, clinic_id: int, service_id: int) -> dict[int, str]:
    """Everyone active in the clinic who offers the service, by id, in name order."""
    rows = session.exec(
        select(Professional.id, Professional.name)
        .join(ProfessionalService, col(ProfessionalService.professional_id) == col(Professional.id))
        .where(
            ProfessionalService.service_id == service_id,
            Professional.clinic_id == clinic_id,
            col(Professional.active).is_(True),
        )
        .order_by(col(Professional.name))
    ).all()
    return {pid: name for pid, name in rows if pid is not None}


def chosen_professionals(raw: str, names: dict[int, str]) -> list[int]:
    """The professionals a form's `professional` names: one of `names`, or "any" (all of
    them); 400 for anything else."""
    if raw == ANY:
        return list(names)
    if raw.isascii() and raw.isdigit() and int(raw) in names:
        return [int(raw)]
    abort(400)


def free_times(
    session: Session,
    clinic: Clinic,
    service: ServiceInfo,
    chosen: list[int],
    names: dict[int, str],
    day: date,
) -> list[tuple[SlotChoice, str]]:
    """The day's free times for the service with the chosen professionals, each with the
    professional's name."""
    return [
        (SlotChoice(s.starts_at, s.professional_id), names[s.professional_id])
        for s in StoreAvailability(session, clinic, now()).slots(service, chosen, day)
    ]


def checked_day(session: Session, clinic: Clinic, service: Service, choice: SlotChoice) -> date:
    """The local day of a time the desk picked for the service; 400 when its professional
    does not offer the service or the day lies outside the days the desk may book."""
    if choice.professional_id not in offering(session, clinic.id or 0, service.id or 0):
        abort(400)
    return window(clinic).check(local_day(clinic, choice))


def still_free(session: Session, clinic: Clinic, service: ServiceInfo, choice: SlotChoice) -> bool:
    """Whether the availability engine still offers the time (the page may be minutes
    old); the database's overlap rule decides a race after this."""
    day = local_day(clinic, choice)
    free = StoreAvailability(session, clinic, now()).slots(service, [choice.professional_id], day)
    return any(s.starts_at == choice.starts_at for s in free)
