"""An appointment as the tags its messages and pages use: who, what, with whom, when
(in the clinic's time zone), where, the code and the self-service link."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from store.models import Appointment, Clinic, Patient, Professional, Service


@dataclass(frozen=True)
class AppointmentInfo:
    appointment: Appointment
    clinic: Clinic
    patient: Patient
    service_name: str
    professional_name: str
    self_bookable: bool = True  # patients may move it themselves; otherwise the desk does

    @property
    def local_start(self) -> datetime:
        return self.appointment.starts_at.astimezone(ZoneInfo(self.clinic.timezone))

    @property
    def local_day(self) -> date:
        return self.local_start.date()

    @property
    def language(self) -> str:
        return self.patient.language or self.clinic.default_language

    def tags(self, link: str = "") -> dict[str, object]:
        """Template tags; dates stay dates so the renderer writes them in the reader's
        language. The self-service link comes from `bot.links`."""
        return appointment_tags(
            self.clinic,
            self.patient.name,
            self.service_name,
            self.professional_name,
            self.local_start,
            self.appointment.code,
            link,
        )


def appointment_tags(
    clinic: Clinic,
    patient_name: str | None,
    service: str,
    professional: str,
    local_start: datetime,
    code: str,
    link: str = "",
) -> dict[str, object]:
    """The tags of a message about one appointment, from its parts (a campaign builds
    thousands without loading each appointment as an object)."""
    return {
        "patient_name": patient_name or "",
        "service": service,
        "professional": professional,
        "date": local_start.date(),
        "time": local_start,
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone or "",
        "clinic_address": clinic.address or "",
        "code": code,
        "link": link,
    }


def appointment_info(session: Session, appointment: Appointment) -> AppointmentInfo:
    clinic = session.get(Clinic, appointment.clinic_id)
    patient = session.get(Patient, appointment.patient_id)
    service = session.get(Service, appointment.service_id)
    professional = session.get(Professional, appointment.professional_id)
    if clinic is None or patient is None:
        raise LookupError(f"appointment {appointment.id} has lost its clinic or patient")
    return AppointmentInfo(
        appointment=appointment,
        clinic=clinic,
        patient=patient,
        service_name=service.name if service else "",
        self_bookable=bool(service and service.self_bookable),
        professional_name=professional.name if professional else "",
    )
