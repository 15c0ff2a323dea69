"""An appointment as an iCalendar file (RFC 5545), so a patient can add it to the
calendar on the phone. `icalendar` writes and escapes it; the words come from the page
locale."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from bot.locale import text
from store.appointment_info import AppointmentInfo
from store.models import AppointmentStatus

PRODUCT_ID = "-//Turnero//Self-service//EN"
STATUS = {
    AppointmentStatus.cancelled: "CANCELLED",
    AppointmentStatus.booked: "TENTATIVE",
    AppointmentStatus.held: "TENTATIVE",  # offered from the waitlist, not taken yet
}


def appointment_uid(info: AppointmentInfo, base_url: str) -> str:
    """Stable for the appointment's whole life, so a moved one replaces the old entry."""
    host = urlsplit(base_url).hostname or "turnero"
    return f"appointment-{info.appointment.id}@{host}"


def appointment_ics(info: AppointmentInfo, base_url: str, language: str, now: datetime) -> bytes:
    appointment = info.appointment
    location = ", ".join(p for p in (info.clinic.name, info.clinic.address) if p)
    event = Event()
    event.add("uid", appointment_uid(info, base_url))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add(
        "summary",
        text("page.calendar_summary", language, service=info.service_name, clinic=info.clinic.name),
    )
    event.add("location", location)
    event.add(
        "description",
        text(
            "page.calendar_description",
            language,
            professional=info.professional_name,
            code=appointment.code,
            phone=info.clinic.phone or "",
        ),
    )
    event.add("status", STATUS.get(AppointmentStatus(appointment.status), "CONFIRMED"))
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
