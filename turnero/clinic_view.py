"""What the engine may know, built from the store inside the message's transaction."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.types import ClinicInfo, ClinicView, PersonInfo, ProfessionalInfo, ServiceInfo
from store.models import Clinic, Patient, Professional, ProfessionalService, Service
from turnero.availability import StoreAvailability, booking_rules


def clinic_info(clinic: Clinic) -> ClinicInfo:
    return ClinicInfo(
        id=clinic.id or 0,
        name=clinic.name,
        rules=booking_rules(clinic),
        default_language=clinic.default_language,
        phone=clinic.phone,
        address=clinic.address,
        idle_timeout=timedelta(minutes=clinic.idle_timeout_minutes),
    )


def build_view(
    session: Session, clinic: Clinic, patients: list[Patient], now: datetime
) -> ClinicView:
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
    return ClinicView(
        clinic=clinic_info(clinic),
        services=[
            ServiceInfo(s.id or 0, s.name, timedelta(minutes=s.duration_minutes)) for s in services
        ],
        professionals=[
            ProfessionalInfo(p.id or 0, p.name, frozenset(offered.get(p.id or 0, ())))
            for p in professionals
        ],
        people=[PersonInfo(p.id or 0, p.name) for p in patients if p.name],
        availability=StoreAvailability(session, clinic, now),
        now=now,
    )
