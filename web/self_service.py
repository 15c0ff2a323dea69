"""The patient's page for one appointment, reached through its signed link (`bot.links`):
see it, confirm, cancel, move it, add it to a calendar. Plain server-rendered forms (post,
then redirect), no JavaScript. Every change goes through `store.appointments` in one
transaction, with the appointment's row locked first."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request
from flask import url_for as flask_url_for
from markupsafe import Markup
from sqlmodel import Session, col, select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as Redirect

from bot.links import appointment_id_from, self_service_url
from bot.locale import LANGUAGES, text
from bot.render import format_day, format_moment
from bot.types import ServiceInfo
from store import waitlist
from store.appointment_info import AppointmentInfo, appointment_info
from store.appointments import ACTIVE, Actor, NotChangeable, cancel, confirm, reschedule
from store.booking import SlotTaken
from store.db import transaction
from store.models import Appointment, Professional, ProfessionalService
from store.queues import STANDING
from usecases.stored_availability import StoreAvailability, booking_rules
from web import qr_codes
from web.app_context import ctx, engine, now, secret
from web.calendar_file import appointment_ics
from web.self_service_forms import (
    FORM_KEY_FIELD,
    NOTICES,
    SlotChoice,
    form_key,
    form_key_matches,
    parse_day,
    parse_slot,
    pick_language,
)

self_service = Blueprint("self_service", __name__, template_folder="pages")
PATIENT = Actor("patient", "self_service")
DAYS_SHOWN = 7
QR_SCALE = 5  # pixels a module: a phone's screen held up to a scanner
PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the link is the key: never hand it to another site
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
REFUSALS = {"started": "too_late", "past": "taken"}  # any other reason: "not_changeable"




@self_service.after_request
def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


@self_service.errorhandler(HTTPException)
def _refused(error: HTTPException) -> tuple[str, int]:
    """One generic page per kind of refusal; it says nothing about any appointment."""
    code = error.code or 400
    kind = {404: "not_found", 410: "gone"}.get(code, "bad_request" if code < 500 else "trouble")
    asked = request.args.get("lang")
    language = pick_language(asked, request.accept_languages.best_match(LANGUAGES), None)
    return render_template(
        "self_service/error.html", lang=language, t=_translator(language), kind=kind
    ), code


def _translator(language: str) -> Callable[..., str]:
    def t(key: str, **tags: object) -> str:
        return text(f"page.{key}", language, **tags)

    return t


def _lang_arg() -> dict[str, str]:
    """The `?lang=` a patient picked, carried on every link and form of the page."""
    asked = request.args.get("lang")
    return {"lang": asked} if asked in LANGUAGES and asked else {}


def _url(endpoint: str, token: str, **args: Any) -> str:
    values: dict[str, Any] = {**_lang_arg(), **args, "token": token}
    return flask_url_for(f"self_service.{endpoint}", **values)


def _in_language(code: str) -> str:
    """This very page in another language."""
    values: dict[str, Any] = {**(request.view_args or {}), **request.args, "lang": code}
    values.pop("notice", None)
    return flask_url_for(request.endpoint or "", **values)


def linked_appointment_id(token: str) -> int | None:
    """The appointment a link's token names, None when tampered: the one check this page
    and the kiosk's scanned links share."""
    return appointment_id_from(secret(), token)


def _require_link(token: str) -> int:
    appointment_id = linked_appointment_id(token)
    if appointment_id is None:
        abort(404)
    return appointment_id


def _require_form(token: str) -> None:
    if not form_key_matches(secret(), token, request.form.get(FORM_KEY_FIELD)):
        abort(400)


def _load(session: Session, token: str, *, lock: bool = False) -> AppointmentInfo:
    """The appointment the link names; 404 when there is none, 410 once it has ended. With
    `lock`, its row stays locked until the transaction ends (SQLite has no row locks, but
    there every writing transaction already holds the database's write lock)."""
    statement = select(Appointment).where(Appointment.id == _require_link(token))
    if lock:
        statement = statement.with_for_update()
    appointment = session.exec(statement).first()
    if appointment is None:
        abort(404)
    if now() > appointment.ends_at:
        abort(410)
    return appointment_info(session, appointment)


def _changeable(info: AppointmentInfo) -> bool:
    appointment = info.appointment
    return appointment.status in ACTIVE and appointment.starts_at > now()


def _refusal(error: NotChangeable) -> str:
    return REFUSALS.get(error.reason, "not_changeable")


def _page(template: str, token: str, info: AppointmentInfo, **context: Any) -> str:
    """A page about the appointment, in the patient's language or the one asked for."""
    language = pick_language(
        request.args.get("lang"), info.patient.language, info.clinic.default_language
    )
    notice = request.args.get("notice")
    return render_template(
        f"self_service/{template}",
        lang=language,
        t=_translator(language),
        info=info,
        token=token,
        status=info.appointment.status,
        day=format_day(info.local_day, language),
        time=format_moment(info.local_start, language),
        notice=notice if notice in NOTICES else None,
        changeable=_changeable(info),
        now=now(),
        form_key_field=FORM_KEY_FIELD,
        form_key=form_key(secret(), token),
        languages=[(code, _in_language(code)) for code in LANGUAGES],
        url=lambda endpoint, **args: _url(endpoint, token, **args),
        format_day=lambda day: format_day(day, language),
        format_moment=lambda moment: format_moment(
            moment.astimezone(info.local_start.tzinfo), language
        ),
        **context,
    )


def _back(token: str, notice: str, endpoint: str = "appointment", **args: Any) -> Redirect:
    return redirect(_url(endpoint, token, notice=notice, **args), code=303)


def _check_in_qr(info: AppointmentInfo) -> Markup | None:
    """The link itself as a QR (inline SVG) for the kiosk's scanner, while the appointment
    still stands today or later; None otherwise."""
    appointment = info.appointment
    today = booking_rules(info.clinic).local_date(now())
    if appointment.status not in STANDING or info.local_day < today:
        return None
    base_url = ctx("settings").public_base_url
    link = self_service_url(base_url, secret(), appointment.id or 0)
    return Markup(qr_codes.svg(link, scale=QR_SCALE))


@self_service.get("/a/<token>")
def appointment(token: str) -> str:
    with transaction(engine()) as session:
        info = _load(session, token)
    return _page("appointment.html", token, info, check_in_qr=_check_in_qr(info))


@self_service.post("/a/<token>/confirm")
def confirm_attendance(token: str) -> Redirect:
    return _change(token, confirm, "confirmed", "already_confirmed")


@self_service.get("/a/<token>/cancel")
def cancel_question(token: str) -> str:
    with transaction(engine()) as session:
        info = _load(session, token)
    return _page("cancel.html", token, info)


@self_service.post("/a/<token>/cancel")
def cancel_appointment(token: str) -> Redirect:
    return _change(token, cancel, "cancelled", "already_cancelled")


def _change(token: str, change: Callable[..., bool], done: str, already: str) -> Redirect:
    """Confirm or cancel from the page's form, the row locked; back to the page saying
    what came of it (done, already so, or why not)."""
    _require_link(token)
    _require_form(token)
    with transaction(engine()) as session:
        info = _load(session, token, lock=True)
        try:
            changed = change(session, info.appointment, PATIENT, now())
        except NotChangeable as error:
            return _back(token, _refusal(error))
    return _back(token, done if changed else already)


def _service(info: AppointmentInfo) -> ServiceInfo:
    """The appointment's own service and length: a move keeps the length it was booked with."""
    appointment = info.appointment
    return ServiceInfo(
        appointment.service_id, info.service_name, appointment.ends_at - appointment.starts_at
    )


def _professionals(
    session: Session, info: AppointmentInfo, any_professional: bool
) -> dict[int, str]:
    """Who the appointment may move to, by id, its own professional first: only that one,
    or everyone active who offers the service."""
    appointment = info.appointment
    own = {appointment.professional_id: info.professional_name}
    if not any_professional:
        return own
    others = session.exec(
        select(Professional.id, Professional.name)
        .join(ProfessionalService, col(ProfessionalService.professional_id) == col(Professional.id))
        .where(
            ProfessionalService.service_id == appointment.service_id,
            Professional.clinic_id == appointment.clinic_id,
            Professional.active,
        )
        .order_by(col(Professional.name))
    ).all()
    return own | {pid: name for pid, name in others if pid is not None}


def _day_arg(name: str) -> Any:
    raw = request.args.get(name)
    day = parse_day(raw)
    if raw is not None and day is None:
        abort(400)
    return day


@self_service.get("/a/<token>/reschedule")
def reschedule_choice(token: str) -> str | Redirect:
    """Days with space (a week at a time), or the free times of the day picked."""
    any_professional = request.args.get("any") == "1"
    day, first = _day_arg("day"), _day_arg("from")
    with transaction(engine()) as session:
        info = _load(session, token)
        if not info.self_bookable:  # the appointment page says to call the clinic
            return redirect(_url("appointment", token), code=303)
        context: dict[str, Any] = {
            "any_professional": any_professional,
            "any_args": {"any": "1"} if any_professional else {},
            "day_picked": day,
        }
        if _changeable(info):
            rules = booking_rules(info.clinic)
            today, last = rules.local_date(now()), rules.last_day(now())
            if any(d is not None and not today <= d <= last for d in (day, first)):
                abort(400)
            names = _professionals(session, info, any_professional)
            availability = StoreAvailability(session, info.clinic, now())
            if day is not None:
                slots = availability.slots(_service(info), list(names), day)
                context["times"] = [
                    (SlotChoice(s.starts_at, s.professional_id), names[s.professional_id])
                    for s in slots
                ]
            else:
                days = availability.days_with_space(
                    _service(info), list(names), first or today, DAYS_SHOWN
                )
                context["days"] = days
                if len(days) == DAYS_SHOWN and days[-1] < last:
                    later = days[-1] + timedelta(days=1)
                    context["later_args"] = {"from": later.isoformat(), **context["any_args"]}
    return _page("reschedule.html", token, info, **context)


@self_service.post("/a/<token>/reschedule")
def reschedule_appointment(token: str) -> Redirect:
    """Move to the time picked, if it is still free; otherwise nothing changes and the
    patient picks again."""
    _require_link(token)
    _require_form(token)
    choice = parse_slot(request.form.get("slot"))
    if choice is None:
        abort(400)
    any_professional = request.form.get("any") == "1"
    again = {"any": "1"} if any_professional else {}
    with transaction(engine()) as session:
        info = _load(session, token, lock=True)
        rules = booking_rules(info.clinic)
        day = rules.local_date(choice.starts_at)
        if not rules.local_date(now()) <= day <= rules.last_day(now()):
            abort(400)
        if choice.professional_id not in _professionals(session, info, any_professional):
            abort(400)
        if not info.self_bookable:
            return redirect(_url("appointment", token), code=303)
        if not _changeable(info):
            return _back(
                token, "not_changeable" if info.appointment.starts_at > now() else "too_late"
            )
        availability = StoreAvailability(session, info.clinic, now())
        free = availability.slots(_service(info), [choice.professional_id], day)
        if all(s.starts_at != choice.starts_at for s in free):
            return _back(token, "taken", "reschedule_choice", day=day.isoformat(), **again)
        try:
            reschedule(
                session,
                info.appointment,
                starts_at=choice.starts_at,
                professional_id=choice.professional_id,
                actor=PATIENT,
                now=now(),
            )
        except SlotTaken:
            return _back(token, "taken", "reschedule_choice", day=day.isoformat(), **again)
        except NotChangeable as error:
            return _back(token, _refusal(error))
    return _back(token, "rescheduled")


@self_service.post("/a/<token>/take")
def take_offer(token: str) -> Redirect:
    """Take a slot offered from the waitlist: the first answer while it is held wins."""
    _require_link(token)
    _require_form(token)
    with transaction(engine()) as session:
        info = _load(session, token, lock=True)
        offer = waitlist.offer_of(session, info.appointment.id or 0)
        taken = offer is not None and waitlist.take(
            session, offer.id or 0, offer.clinic_id, offer.phone, now(), PATIENT
        )
    return _back(token, "offer_taken" if taken else "offer_gone")


@self_service.get("/a/<token>/calendar.ics")
def calendar(token: str) -> Response:
    with transaction(engine()) as session:
        info = _load(session, token)
    language = pick_language(
        request.args.get("lang"), info.patient.language, info.clinic.default_language
    )
    body = appointment_ics(info, ctx("settings").public_base_url, language, now())
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{info.appointment.code}.ics"'},
    )
