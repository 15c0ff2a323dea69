"""What an effect's handler is given and gives back: the message's transaction and who
wrote it, and the event that tells the engine how it went (with the appointment a booking
made, and whether staff should look)."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from bot.types import ClinicView, Inbound
from store.models import Appointment, Clinic


@dataclass(frozen=True)
class Applying:
    session: Session
    clinic: Clinic
    clinic_id: int
    phone: str
    view: ClinicView
    link_for: Callable[[int], str]  # an appointment's self-service link
    opted_out: bool = False  # somebody on the phone had opted out before this message


@dataclass(frozen=True)
class Applied:
    event: Inbound | None = None
    appointment: Appointment | None = None
    needs_staff: bool = False
