"""What the engine may know: the clinic's catalog (cached per process, since every message
needs it and it changes rarely: its services, professionals and their weekly hours, own
texts and switched-off steps; read again once its version moves) and the people on the
phone, read inside the message's transaction. Busy times (appointments, block-offs) are
always read fresh."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.opening_hours import NEVER_OPEN, OpeningHours, opening_hours
from bot.types import (
    AppointmentSummary,
    ClinicInfo,
    ClinicView,
    OfferSummary,
    PersonInfo,
    ProfessionalInfo,
    ServiceInfo,
)
from store.appointments import last_campaign_question, last_reminded, upcoming_with_names
from store.clinic_templates import all_overrides, skipped_steps
from store.conversations import PersonOnPhone, catalog_version, clinic_by_number
from store.driver import Db
from store.message_kinds import CAMPAIGN_QUESTIONS, MessageKind
from store.models import AppointmentStatus, Clinic, Professional, ProfessionalService, Service
from store.prompts import LastAsked, asked_after, asked_since
from store.schedule import Weekly, weekly_hours
from store.surveys import surveyed_since
from store.waitlist import latest_offer
from usecases.stored_availability import StoreAvailability, booking_rules

CATALOG_SECONDS = 10.0  # the longest a process keeps a catalog, even one its version calls current
VERSION_CHECK_SECONDS = 0.5  # how often a kept catalog's version is read again


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


def clinic_info(
    clinic: Clinic,
    skipped: dict[str, frozenset[str]] | None = None,
    open_at: OpeningHours = NEVER_OPEN,
) -> ClinicInfo:
    return ClinicInfo(
        id=clinic.id or 0,
        name=clinic.name,
        rules=booking_rules(clinic),
        default_language=clinic.default_language,
        phone=clinic.phone,
        address=clinic.address,
        insurances=clinic.insurances,
        opening_hours=open_at,
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
    weekly = weekly_hours(session, [p.id or 0 for p in professionals])
    session.expunge(clinic)
    return Catalog(
        clinic=clinic,
        info=clinic_info(clinic, skipped, opening_hours(weekly.values())),
        services=[
            ServiceInfo(s.id or 0, s.name, timedelta(minutes=s.duration_minutes), s.price)
            for s in services
        ],
        professionals=[
            ProfessionalInfo(p.id or 0, p.name, frozenset(offered.get(p.id or 0, ())))
            for p in professionals
        ],
        texts=texts,
        weekly=weekly,
    )


@dataclass(frozen=True)
class _Kept:
    catalog: Catalog
    loaded_at: float
    checked_at: float  # when its version was last found current


class CatalogCache:
    """Catalogs by WhatsApp number. Before one is used, the clinic's catalog version is
    read (at most every `check_every` seconds), and a catalog whose version moved is read
    again: every process sees an admin's change within a second. None is kept longer than
    `seconds`, whatever its version says. `clock` gives monotonic seconds (tests move it)."""

    def __init__(
        self,
        seconds: float = CATALOG_SECONDS,
        check_every: float = VERSION_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds, self.check_every, self.clock = seconds, check_every, clock
        self._entries: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, number: str, db: Db | None = None) -> Catalog | None:
        """The catalog of `number`; its version is read on `db` (the session if None)."""
        now = self.clock()
        with self._lock:
            kept = self._entries.get(number)
        if kept and now - kept.loaded_at < self.seconds:
            if now - kept.checked_at < self.check_every:
                return kept.catalog
            clinic = kept.catalog.clinic
            if catalog_version(db or session, clinic.id or 0) == clinic.catalog_version:
                with self._lock:
                    self._entries[number] = replace(kept, checked_at=now)
                return kept.catalog
        catalog = load_catalog(session, number)
        if catalog is not None:
            with self._lock:
                self._entries[number] = _Kept(catalog, loaded_at=now, checked_at=now)
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

    def campaign_asked_since(self, since: datetime | None) -> AppointmentSummary | None:
        if not any(self.asked(kind, since) for kind in CAMPAIGN_QUESTIONS):
            return None
        found = last_campaign_question(self.session, self.clinic_id, self.phone, since, self.now)
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
