"""Moving an appointment to a time the availability engine offers; the patient is told
by WhatsApp, in their language, through the outbox."""

from typing import Any

from flask import abort, jsonify, make_response, redirect, request, url_for
from sqlmodel import Session, select
from werkzeug.wrappers import Response

from bot.types import ServiceInfo
from store.appointment_info import AppointmentInfo, appointment_info
from store.appointments import NotChangeable, reschedule
from store.booking import SlotTaken
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import Appointment
from web.console.agenda import actor, day_arg, formatting, own_clinic
from web.console.common import (
    console,
    engine,
    language,
    now,
    page,
    staff,
    staff_required,
    translator,
)
from web.console.patient_notices import tell_patient
from web.console.slots import (
    chosen_professionals,
    free_times,
    local_day,
    offering,
    still_free,
    window,
)
from web.self_service_forms import parse_slot

MOVED = MessageKind.staff_moved


def _load(session: Session, appointment_id: int, lock: bool = False) -> AppointmentInfo:
    statement = select(Appointment).where(
        Appointment.id == appointment_id, Appointment.clinic_id == staff().clinic_id
    )
    if lock:
        statement = statement.with_for_update()
    found = session.exec(statement).first()
    if found is None:
        abort(404)
    return appointment_info(session, found)


def _service(info: AppointmentInfo) -> ServiceInfo:
    """A move keeps the length the appointment was booked with."""
    a = info.appointment
    return ServiceInfo(a.service_id, info.service_name, a.ends_at - a.starts_at)


def _offering(session: Session, info: AppointmentInfo) -> dict[int, str]:
    """The appointment's own professional first, then everyone active in the clinic who
    offers its service, by id."""
    own = {info.appointment.professional_id: info.professional_name}
    return own | offering(session, info.appointment.clinic_id, info.appointment.service_id)


def _wants_json() -> bool:
    """The agenda's drag and drop asks for the answer as JSON; the form gets a page."""
    return request.accept_mimetypes.best == "application/json"


def _answer(notice: str) -> Response:
    """Whether the move was made and, if not, why, in the staff member's language."""
    moved = notice == "moved"
    return make_response(
        jsonify(moved=moved, notice=notice, message=translator(language())(f"notice_{notice}")),
        200 if moved else 409,
    )


def _back(appointment_id: int, notice: str, **args: Any) -> Response:
    if _wants_json():
        return _answer(notice)
    return redirect(
        url_for("console.appointment", appointment_id=appointment_id, notice=notice, **args),
        code=303,
    )


@console.get("/appointments/<int:appointment_id>/move")
@staff_required
def move_choice(appointment_id: int) -> Response:
    """A day (today by default) and the free times on it, with the same professional or
    anyone who offers the service."""
    with Session(engine()) as session:
        clinic = own_clinic(session)
        info = _load(session, appointment_id)
        days = window(clinic)
        day = days.check(day_arg() or max(days.first, info.local_day))
        names = _offering(session, info)
        raw = request.args.get("professional", str(info.appointment.professional_id))
        chosen = chosen_professionals(raw, names)
        times = [
            (choice, name)
            for choice, name in free_times(session, clinic, _service(info), chosen, names, day)
            if not (
                choice.starts_at == info.appointment.starts_at
                and choice.professional_id == info.appointment.professional_id
            )
        ]
    notice = request.args.get("notice")
    return page(
        "move.html",
        info=info,
        day=day,
        first_day=days.first,
        last_day=days.last,
        names=names,
        chosen=raw,
        times=times,
        movable=info.appointment.status in ("booked", "confirmed")
        and info.appointment.starts_at > now(),
        notice=notice if notice == "taken" else None,
        **formatting(clinic, language()),
    )


@console.post("/appointments/<int:appointment_id>/move")
@staff_required
def move(appointment_id: int) -> Response:
    """Take the time picked if it is still free; the patient is told. A time taken
    meanwhile leaves everything as it was and the desk picks again."""
    choice = parse_slot(request.form.get("slot"))
    if choice is None:
        abort(400)
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        info = _load(session, appointment_id, lock=True)
        days, day = window(clinic), local_day(clinic, choice)
        refused = (
            "outside_days"
            if not days.first <= day <= days.last
            else "not_offered"
            if choice.professional_id not in _offering(session, info)
            else None
        )
        if refused:  # the form never offers these: only a drop on the grid says why
            return _answer(refused) if _wants_json() else abort(400)
        again = {"day": day.isoformat(), "professional": request.form.get("professional", "")}
        if not still_free(session, clinic, _service(info), choice):
            return _taken(appointment_id, again)
        try:
            reschedule(
                session,
                info.appointment,
                starts_at=choice.starts_at,
                professional_id=choice.professional_id,
                actor=actor(),
                now=now(),
            )
        except SlotTaken:
            return _taken(appointment_id, again)
        except NotChangeable as error:
            return _back(appointment_id, f"refused_{error.reason}")
        tell_patient_moved(session, appointment_info(session, info.appointment))
    return _back(appointment_id, "moved")


def _taken(appointment_id: int, again: dict[str, str]) -> Response:
    if _wants_json():
        return _answer("taken")
    args: dict[str, Any] = {k: v for k, v in again.items() if v}
    return redirect(
        url_for("console.move_choice", appointment_id=appointment_id, notice="taken", **args),
        code=303,
    )


def tell_patient_moved(session: Session, info: AppointmentInfo) -> None:
    """Queue the WhatsApp message that tells the patient the new time, in their language,
    once per appointment and time."""
    tell_patient(session, info, MOVED)
