"""Appointment requests at the desk: the open ones, oldest first (it has waited longest);
one request with the free times of a day to accept it with, or a reason to decline it.
The patient is told by WhatsApp either way (`usecases.appointment_requests`)."""

from datetime import date, datetime
from typing import Any

from flask import abort, redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.when import read_when
from store import requests as store_requests
from store.booking import SlotTaken
from store.db import transaction
from store.models import AppointmentRequest, Clinic, RequestStatus, Service
from usecases.appointment_requests import accept_request, decline_request
from usecases.stored_availability import StoreAvailability
from web.console.agenda import day_arg, formatting, own_clinic
from web.console.common import (
    console,
    ctx,
    engine,
    language,
    now,
    page,
    staff,
    staff_required,
    translator,
)
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
from web.self_service_forms import parse_slot

NOTICES = ("accepted", "declined", "taken", "already_handled")


def _who() -> str:
    return f"staff:{staff().login}"


def age(since: datetime, moment: datetime, lang: str) -> str:
    """How long a request has waited, in the staff member's words."""
    minutes = max(int((moment - since).total_seconds() // 60), 0)
    t = translator(lang)
    if minutes < 60:
        return t("age_minutes", count=minutes)
    if minutes < 24 * 60:
        return t("age_hours", count=minutes // 60)
    return t("age_days", count=minutes // (24 * 60))


def _load(session: Session, request_id: int, lock: bool = False) -> AppointmentRequest:
    found = store_requests.get_request(session, staff().clinic_id, request_id, lock=lock)
    if found is None:
        abort(404)
    return found


def _service(session: Session, found: AppointmentRequest) -> Service:
    service = session.get(Service, found.service_id)
    if service is None or service.clinic_id != found.clinic_id:
        abort(404)
    return service


def _first_day(
    session: Session, clinic: Clinic, service: Service, names: dict[int, str], wished: str
) -> date:
    """The first of the days the patient asked for ("martes o jueves a la mañana") that
    has space for the service with anyone offering it; else the first day with space
    (today if none)."""
    days = window(clinic)
    availability = StoreAvailability(session, clinic, now())
    for day in read_when(wished, days.first).days:
        if days.first <= day <= days.last and availability.slots(
            service_info(service), list(names), day
        ):
            return day
    found = availability.days_with_space(service_info(service), list(names), days.first, 1)
    return found[0] if found else days.first


@console.get("/requests")
@staff_required
def appointment_requests() -> Response:
    lang = language()
    with Session(engine()) as session:
        clinic = own_clinic(session)
        waiting = store_requests.open_requests(session, clinic.id or 0)
        handled = store_requests.recently_handled(session, clinic.id or 0)
    notice = request.args.get("notice")
    return page(
        "requests.html",
        waiting=waiting,
        handled=handled,
        age=lambda since: age(since, now(), lang),
        notice=notice if notice in NOTICES else None,
        **formatting(clinic, lang),
    )


@console.get("/requests/<int:request_id>")
@staff_required
def appointment_request(request_id: int) -> Response:
    """The request; while open, the free times of a day (the first with space by default)
    with one professional or anyone offering the service, and the decline form."""
    lang = language()
    with Session(engine()) as session:
        clinic = own_clinic(session)
        found = _load(session, request_id)
        service = _service(session, found)
        context: dict[str, Any] = {}
        if found.status == RequestStatus.open:
            names = offering(session, clinic.id or 0, service.id or 0)
            days = window(clinic)
            day = days.check(
                day_arg() or _first_day(session, clinic, service, names, found.preferred or "")
            )
            raw = request.args.get("professional", ANY)
            chosen = chosen_professionals(raw, names)
            context = {
                "day": day,
                "first_day": days.first,
                "last_day": days.last,
                "names": names,
                "chosen": raw,
                "times": free_times(session, clinic, service_info(service), chosen, names, day),
            }
    notice = request.args.get("notice")
    return page(
        "request.html",
        req=found,
        service_name=service.name,
        age=age(found.created_at, now(), lang),
        reason_limit=store_requests.REASON_LIMIT,
        notice=notice if notice in NOTICES else None,
        **context,
        **formatting(clinic, lang),
    )


def _back(request_id: int, notice: str, **args: Any) -> Response:
    return redirect(
        url_for("console.appointment_request", request_id=request_id, notice=notice, **args),
        code=303,
    )


@console.post("/requests/<int:request_id>/accept")
@staff_required
def accept_appointment_request(request_id: int) -> Response:
    """Book the time picked, if it is still free, and tell the patient; a time taken
    meanwhile leaves everything as it was and the desk sees the times still free."""
    choice = parse_slot(request.form.get("slot"))
    if choice is None:
        abort(400)
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        found = _load(session, request_id, lock=True)
        if found.status != RequestStatus.open:
            return _back(request_id, "already_handled")
        service = _service(session, found)
        day = checked_day(session, clinic, service, choice)
        again = {"day": day.isoformat(), "professional": request.form.get("professional", ANY)}
        if not still_free(session, clinic, service_info(service), choice):
            return _back(request_id, "taken", **again)
        try:
            accept_request(
                session,
                clinic,
                found,
                service=service,
                professional_id=choice.professional_id,
                starts_at=choice.starts_at,
                by=_who(),
                now=now(),
                link_for=ctx("link_for"),
            )
        except SlotTaken:
            return _back(request_id, "taken", **again)
        except store_requests.AlreadyHandled:
            return _back(request_id, "already_handled")
    return _back(request_id, "accepted")


@console.post("/requests/<int:request_id>/decline")
@staff_required
def decline_appointment_request(request_id: int) -> Response:
    reason = " ".join(request.form.get("reason", "").split())
    if len(reason) > store_requests.REASON_LIMIT:
        abort(400)
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        found = _load(session, request_id, lock=True)
        service = _service(session, found)
        try:
            decline_request(
                session,
                clinic,
                found,
                reason=reason or None,
                service_name=service.name,
                by=_who(),
                now=now(),
            )
        except store_requests.AlreadyHandled:
            return _back(request_id, "already_handled")
    return redirect(url_for("console.appointment_requests", notice="declined"), code=303)
