"""What the engine may know: the clinic's catalog (cached briefly per worker, since every
message needs it and it changes rarely: its services, professionals and their weekly
hours, own texts and switched-off steps) and the people on the phone, read inside the
message's transaction. Busy times (appointments, block-offs) are always read fresh."""

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.types import (
    AppointmentSummary,
    ClinicInfo,
    ClinicView,
    OfferSummary,
    PersonInfo,
    ProfessionalInfo,
    ServiceInfo,
)
from store.appointments import last_reminded, upcoming_with_names
from store.clinic_templates import all_overrides, skipped_steps
from store.conversations import PersonOnPhone, clinic_by_number
from store.driver import Db
from store.message_kinds import MessageKind
from store.models import AppointmentStatus, Clinic, Professional, ProfessionalService, Service
from store.prompts import LastAsked, asked_after, asked_since
from store.schedule import Weekly, weekly_hours
from store.surveys import surveyed_since
from store.waitlist import latest_offer
from usecases.stored_availability import StoreAvailability, booking_rules

CATALOG_SECONDS = 10.0  # how stale a worker's view of services, professionals, hours may be


@dataclass(frozen=True)
class Catalog:
    """A clinic and what patients can book there."""

    clinic: Clinic  # detached: read only
    info: ClinicInfo
    services: list[ServiceInfo]
    professionals: list[ProfessionalInfo]
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # language → key → own text
    weekly: dict[int, Weekly] = field(default_factory=dict)  # professional → working hours

    def own_texts(self, language: str) -> dict[str, str]:
        """The clinic's own texts in `language` (the defaults fill in the rest)."""
        return self.texts.get(language, {})


def clinic_info(clinic: Clinic, skipped: dict[str, frozenset[str]] | None = None) -> ClinicInfo:
    return ClinicInfo(
        id=clinic.id or 0,
        name=clinic.name,
        rules=booking_rules(clinic),
        default_language=clinic.default_language,
        phone=clinic.phone,
        address=clinic.address,
        idle_timeout=timedelta(minutes=clinic.idle_timeout_minutes),
        only_known_patients=clinic.only_known_patients,
        skipped_steps=skipped or {},
    )


def load_catalog(session: Session, number: str) -> Catalog | None:
    clinic = clinic_by_number(session, number)
    if clinic is None:
        return None
    services = session.exec(
        select(Service)
        .where(Service.clinic_id == clinic.id, Service.active, Service.self_bookable)
        .order_by(col(Service.id))
    ).all()
    professionals = session.exec(
        select(Professional)
        .where(Professional.clinic_id == clinic.id, Professional.active)
        .order_by(col(Professional.id))
    ).all()
    offered: dict[int, set[int]] = {}
    for link in session.exec(
        select(ProfessionalService).where(ProfessionalService.clinic_id == clinic.id)
    ):
        offered.setdefault(link.professional_id, set()).add(link.service_id)
    texts = all_overrides(session, clinic.id or 0)
    skipped = skipped_steps(session, clinic.id or 0)
    session.expunge(clinic)
    return Catalog(
        clinic=clinic,
        info=clinic_info(clinic, skipped),
        services=[
            ServiceInfo(s.id or 0, s.name, timedelta(minutes=s.duration_minutes)) for s in services
        ],
        professionals=[
            ProfessionalInfo(p.id or 0, p.name, frozenset(offered.get(p.id or 0, ())))
            for p in professionals
        ],
        texts=texts,
        weekly=weekly_hours(session, [p.id or 0 for p in professionals]),
    )


class CatalogCache:
    """Catalogs by WhatsApp number, each kept for `seconds`."""

    def __init__(self, seconds: float = CATALOG_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Catalog]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, number: str) -> Catalog | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(number)
        if entry and now - entry[0] < self.seconds:
            return entry[1]
        catalog = load_catalog(session, number)
        if catalog is not None:
            with self._lock:
                self._entries[number] = (now, catalog)
        return catalog


class AskedSince:
    """The kinds of business question that reached the phone after a given time, read
    once per message and only if the engine asks (`store.prompts`)."""

    def __init__(
        self, db: Db, clinic_id: int, phone: str, last_asked: LastAsked | None = None
    ) -> None:
        self.db, self.clinic_id, self.phone = db, clinic_id, phone
        self.last_asked = last_asked  # when each kind was last asked, if already read
        self._asked: dict[datetime | None, frozenset[str]] = {}

    def __call__(self, kind: str, since: datetime | None) -> bool:
        if self.last_asked is not None:
            return asked_after(self.last_asked, kind, since)
        if since not in self._asked:
            self._asked[since] = asked_since(self.db, self.clinic_id, self.phone, since)
        return kind in self._asked[since]


class StoreAppointments:
    """The phone's upcoming appointments, read from the store the first time the engine
    asks (most messages never do)."""

    def __init__(
        self, session: Session, clinic_id: int, phone: str, now: datetime, asked: AskedSince
    ) -> None:
        self.session, self.clinic_id, self.phone, self.now = session, clinic_id, phone, now
        self.asked = asked
        self._upcoming: list[AppointmentSummary] | None = None

    def upcoming(self) -> list[AppointmentSummary]:
        if self._upcoming is None:
            self._upcoming = [
                AppointmentSummary(
                    id=a.id or 0,
                    code=a.code,
                    service_id=a.service_id,
                    service_name=service,
                    professional_id=a.professional_id,
                    professional_name=professional,
                    starts_at=a.starts_at,
                    confirmed=a.status == AppointmentStatus.confirmed,
                )
                for a, service, professional in upcoming_with_names(
                    self.session, self.clinic_id, self.phone, self.now
                )
            ]
        return self._upcoming

    def reminded_since(self, since: datetime | None) -> AppointmentSummary | None:
        if not self.asked(MessageKind.reminder, since):
            return None
        found = last_reminded(self.session, self.clinic_id, self.phone, since, self.now)
        return next((a for a in self.upcoming() if a.id == found), None) if found else None

    def surveyed_since(self, since: datetime | None) -> int | None:
        if not self.asked(MessageKind.survey, since):
            return None
        return surveyed_since(self.session, self.clinic_id, self.phone, since)


class StoreWaitlist:
    """The phone's waitlist offers, read only when a message could answer one."""

    def __init__(self, session: Session, clinic_id: int, phone: str, asked: AskedSince) -> None:
        self.session, self.clinic_id, self.phone, self.asked = session, clinic_id, phone, asked

    def offered_since(self, since: datetime | None) -> OfferSummary | None:
        if not self.asked(MessageKind.waitlist_offer, since):
            return None
        found = latest_offer(self.session, self.clinic_id, self.phone, since)
        return OfferSummary(found.id or 0) if found else None


def build_view(
    session: Session,
    catalog: Catalog,
    phone: str,
    people: list[PersonOnPhone],
    now: datetime,
    hot: Db | None = None,
    last_asked: LastAsked | None = None,
) -> ClinicView:
    """`hot`, when given, answers the reads most messages make (availability, questions
    asked, unless `last_asked` was read already); the session the rest."""
    hot = hot if hot is not None else session
    asked = AskedSince(hot, catalog.info.id, phone, last_asked)
    return ClinicView(
        clinic=catalog.info,
        services=catalog.services,
        professionals=catalog.professionals,
        people=[PersonInfo(p.id, p.name) for p in people if p.name],
        availability=StoreAvailability(hot, catalog.clinic, now, catalog.weekly),
        now=now,
        appointments=StoreAppointments(session, catalog.info.id, phone, now, asked),
        waitlist=StoreWaitlist(session, catalog.info.id, phone, asked),
    )
