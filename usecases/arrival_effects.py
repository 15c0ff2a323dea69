"""The engine's check-in, applied in the inbound message's transaction: the patient wrote
"llegué" / "I'm here" / "aguĩma". Today's appointment on the phone is checked in and the
answer carries its queue number and the people ahead; several today are asked about, and
none today says when the next one is or what to do. At a clinic with several branches the
answer names the branch the patient is expected at."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.effects import CheckIn
from bot.types import Inbound, Label
from store import queues
from store.appointments import Actor, NotChangeable, upcoming_with_names
from store.models import AppointmentStatus
from usecases import waiting_room
from usecases.applying import Applied, Applying

BY_WHATSAPP = Actor("patient", "whatsapp")


def _check_in(where: Applying, effect: CheckIn) -> Applied:
    now = where.view.now
    local_now = waiting_room.today(where.clinic, now)
    since, until = waiting_room.today_bounds(where.clinic, now)
    todays = queues.appointments_on_phone(where.session, where.clinic_id, where.phone, since, until)
    if effect.appointment_id is not None:
        todays = [a for a in todays if a.id == effect.appointment_id]
    if not todays:
        return _not_today(where, now, local_now)
    to_check_in = [a for a in todays if a.status != AppointmentStatus.arrived]
    if effect.appointment_id is None and len(to_check_in) > 1:
        return Applied(Inbound(event="check_in_which"))
    appointment = (to_check_in or todays)[0]
    try:
        arrived = waiting_room.arrive(
            where.session, where.clinic, appointment, "whatsapp", BY_WHATSAPP, now
        )
    except (NotChangeable, waiting_room.NoQueue):
        return Applied(Inbound(event="check_in_unchangeable"))
    tags = {"number": arrived.number, "ahead": arrived.ahead, "where": _where(where, arrived)}
    event = "checked_in" if arrived.new else "already_checked_in"
    return Applied(Inbound(event=event, data=tags))  # no booking: the reply is keyed as any


def _where(where: Applying, arrived: waiting_room.Arrived) -> Label | str:
    """The branch whose queue the patient is in, where the clinic has several: a patient
    who went to the other one learns it from the answer."""
    branches = queues.open_branches(where.session, where.clinic_id)
    branch = next((b for b in branches if b.id == arrived.ticket.branch_id), None)
    if len(branches) < 2 or branch is None:
        return ""
    if not branch.address:
        return Label("labels.at_branch", (("branch", branch.name),))
    return Label("labels.at_branch_address", (("branch", branch.name), ("address", branch.address)))


def _not_today(where: Applying, now: datetime, local_now: datetime) -> Applied:
    """No appointment today: the next one's day and time, or only that there is none."""
    upcoming = upcoming_with_names(where.session, where.clinic_id, where.phone, now, limit=1)
    if not upcoming:
        return Applied(Inbound(event="check_in_none"))
    appointment, service, _ = upcoming[0]
    starts = appointment.starts_at.astimezone(local_now.tzinfo)
    tags = {"service": service, "appointment_date": starts.date(), "appointment_time": starts}
    return Applied(Inbound(event="check_in_wrong_day", data=tags))


ARRIVAL_HANDLERS: dict[type, Callable[[Applying, Any], Applied]] = {CheckIn: _check_in}
