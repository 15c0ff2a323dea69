"""Booking at the desk, for a patient who calls or comes in: the phone and name (a patient
already on the phone is reused, else one is created), any active service — staff may book
the ones patients cannot book themselves —, then a free time from the availability engine.
The patient gets the booking confirmation on WhatsApp as the clinic's rules say."""

from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, request, url_for
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from store.booking import SlotTaken
from store.db import transaction
from store.desk_booking import CHANNELS, book_at_desk
from store.models import Clinic, Professional, Service
from store.patients import on_phone
from web.console.agenda import day_arg, formatting, own_clinic
from web.console.common import console, engine, language, now, page, staff, staff_required
from web.console.patients import phone_arg
from web.console.slots import (
    ANY,
    checked_day,
    chosen_professionals,
    free_times,
    offering,
    service_info,
    still_free,
    window,
)
from web.self_service_forms import SlotChoice, parse_slot

NAME_LIMIT = 80


@dataclass(frozen=True)
class Who:
    """The form's first part as typed, what is wrong with it (label keys by field), and
    what it names once it is right."""

    values: dict[str, str]
    errors: dict[str, str]
    phone: str | None = None
    service: Service | None = None


def _services(session: Session, clinic_id: int) -> list[Service]:
    return list(
        session.exec(
            select(Service)
            .where(Service.clinic_id == clinic_id, col(Service.active))
            .order_by(col(Service.name))
        ).all()
    )


def _read(clinic: Clinic, services: list[Service], source: Any, submitted: bool = False) -> Who:
    values = {
        name: " ".join(str(source.get(name, "")).split())
        for name in ("phone", "name", "service", "channel")
    }
    values["channel"] = values["channel"] or CHANNELS[0]
    if not (values["service"] or submitted):
        return Who(values, {})  # a fresh form, perhaps with the patient filled in
    errors: dict[str, str] = {}
    phone = phone_arg(values["phone"], clinic)
    if phone is None:
        errors["phone"] = "invalid_phone"
    if not values["name"]:
        errors["name"] = "invalid_required"
    elif len(values["name"]) > NAME_LIMIT:
        errors["name"] = "invalid_too_long"
    service = next((s for s in services if str(s.id) == values["service"]), None)
    if service is None:
        errors["service"] = "invalid_service"
    if values["channel"] not in CHANNELS:
        errors["channel"] = "invalid_channel"
    if errors:
        return Who(values, errors)
    return Who(values, errors, phone, service)


@console.get("/appointments/new")
@staff_required
def new_appointment() -> Response:
    """The patient and the service; once both are right, a day's free times to book."""
    lang = language()
    with Session(engine()) as session:
        clinic = own_clinic(session)
        services = _services(session, clinic.id or 0)
        who = _read(clinic, services, request.args, submitted="show" in request.args)
        picked = _picked(session, clinic)
        if picked is not None and "show" not in request.args:  # from the agenda: who first
            who = Who(who.values, {})
        context: dict[str, Any] = {}
        if who.service is not None:
            names = offering(session, clinic.id or 0, who.service.id or 0)
            days = window(clinic)
            day = days.check(day_arg() or days.first)
            raw = request.args.get("professional", ANY)
            chosen = chosen_professionals(raw, names)
            context = {
                "day": day,
                "first_day": days.first,
                "last_day": days.last,
                "names": names,
                "chosen": raw,
                "times": free_times(session, clinic, service_info(who.service), chosen, names, day)
                if names
                else [],
            }
        known = [p.name for p in on_phone(session, clinic.id or 0, who.phone or "") if p.name]
    notice = request.args.get("notice")
    return page(
        "new_appointment.html",
        status=422 if who.errors else 200,
        who=who,
        keep={k: who.values[k] for k in ("phone", "name", "service", "channel")}
        | ({"at": picked[0].encode()} if picked else {}),
        picked=picked,
        services=services,
        desk_channels=CHANNELS,
        known=known,
        notice=notice if notice == "taken" else None,
        **context,
        **formatting(clinic, lang),
    )


def _picked(session: Session, clinic: Clinic) -> tuple[SlotChoice, str] | None:
    """The free time clicked on the agenda (`at`), with its professional's name; 400 for
    one that is not a time with a professional of this clinic."""
    raw = request.args.get("at")
    if raw is None:
        return None
    choice = parse_slot(raw)
    found = session.get(Professional, choice.professional_id) if choice else None
    if choice is None or found is None or found.clinic_id != clinic.id:
        abort(400)
    return choice, found.name


@console.post("/appointments/new")
@staff_required
def book_new_appointment() -> Response:
    """Book the time picked if it is still free; a time taken meanwhile books nothing and
    the desk sees the times still free."""
    choice = parse_slot(request.form.get("slot"))
    if choice is None:
        abort(400)
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        who = _read(clinic, _services(session, clinic.id or 0), request.form, submitted=True)
        if who.errors or who.phone is None or who.service is None:
            abort(400)
        day = checked_day(session, clinic, who.service, choice)
        again: dict[str, Any] = {
            **{k: who.values[k] for k in ("phone", "name", "service", "channel")},
            "day": day.isoformat(),
            "professional": request.form.get("professional", ANY),
        }
        if not still_free(session, clinic, service_info(who.service), choice):
            return redirect(url_for("console.new_appointment", notice="taken", **again), 303)
        try:
            appointment = book_at_desk(
                session,
                clinic,
                phone=who.phone,
                name=who.values["name"],
                service=who.service,
                professional_id=choice.professional_id,
                starts_at=choice.starts_at,
                channel=who.values["channel"],
                by=f"staff:{staff().login}",
                now=now(),
            )
        except SlotTaken:
            return redirect(url_for("console.new_appointment", notice="taken", **again), 303)
    return redirect(
        url_for("console.appointment", appointment_id=appointment.id, notice="booked"), 303
    )
