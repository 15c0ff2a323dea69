"""The clinic's own booking page, `/r/<slug>`: service → professional or "first available"
→ a month of days with space and a day's times (the bot's availability engine) → details
→ review → confirm, for anybody with the link, no account. Plain GET links and forms;
a small script swaps the page's main part in place where JavaScript runs. What is done
with the answers is `store.web_bookings`'s: a new number proves itself on WhatsApp first."""

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request
from flask import url_for as flask_url_for
from sqlmodel import Session, col, select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as Redirect

from bot.availability import Slot
from bot.calendar_names import month_abbreviations, weekday_abbreviations
from bot.locale import LANGUAGES, text
from bot.questions import DAYS_OFFERED
from bot.render import format_day, format_moment
from channel.phones import region_of
from store import web_bookings
from store.booking import SlotTaken
from store.clinic_templates import skipped_steps
from store.db import transaction
from store.models import (
    Appointment,
    Clinic,
    Patient,
    Professional,
    Service,
    WebBooking,
)
from store.patients import fold
from usecases.stored_availability import StoreAvailability, booking_rules
from web.app_context import engine, now, secret
from web.booking_page_forms import (
    SIGNATURE_FIELD,
    attempt_id_from,
    attempt_token,
    client_key,
    masked,
    professional_arg,
    read_details,
    signature,
    signature_matches,
)
from web.console.slots import offering, service_info
from web.qr_codes import chat_link
from web.self_service_forms import SlotChoice, parse_day, parse_slot, pick_language

booking_page = Blueprint("booking_page", __name__, template_folder="pages")
CALENDAR_DAYS = 28  # four weeks on one screen
KINDS = ("book", "waitlist")


def _language() -> str:
    """`?lang=` as asked, else the browser's, else the clinic's."""
    asked = request.args.get("lang") or request.form.get("lang")
    browser = request.accept_languages.best_match(LANGUAGES)
    return pick_language(asked, browser, g.get("language"))


def _translator(language: str) -> Callable[..., str]:
    def t(key: str, **tags: object) -> str:
        return text(f"booking_page.{key}", language, **tags)

    return t


@booking_page.before_request
def _nonce() -> None:
    g.booking_nonce = secrets.token_urlsafe(16)


@booking_page.after_request
def _headers(response: Response) -> Response:
    """Nothing from elsewhere; framed only by the clinic's own website, if it named one."""
    ancestors = " ".join(["'self'", *([g.embed_origin] if g.get("embed_origin") else [])])
    response.headers.update(
        {
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'unsafe-inline'; script-src "
                f"'nonce-{g.get('booking_nonce', '')}'; connect-src 'self'; img-src 'self'; "
                f"form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'"
            ),
        }
    )
    return response


@booking_page.errorhandler(HTTPException)
def _refused(error: HTTPException) -> tuple[str, int]:
    """A plain page in the visitor's language; it says nothing about the clinic's data."""
    code = error.code or 400
    kind = {404: "not_found", 429: "too_many"}.get(code, "bad_request" if code < 500 else "trouble")
    language = _language()
    return render_template(
        "booking/error.html",
        lang=language,
        t=_translator(language),
        kind=kind,
        nonce=g.get("booking_nonce", ""),
        languages=[],
        clinic=g.get("clinic"),
    ), code


def _clinic(session: Session, slug: str) -> Clinic:
    """The clinic whose page this is, if it has its page switched on; 404 otherwise."""
    if len(slug) > 64:
        abort(404)
    clinic = session.exec(
        select(Clinic).where(Clinic.booking_slug == slug.lower(), Clinic.web_booking)
    ).first()
    if clinic is None:
        abort(404)
    g.slug, g.language = clinic.booking_slug, clinic.default_language
    g.embed_origin = clinic.booking_embed_origin
    return clinic


def _services(session: Session, clinic: Clinic) -> list[Service]:
    return list(
        session.exec(
            select(Service)
            .where(
                Service.clinic_id == clinic.id,
                Service.active,
                Service.self_bookable,
                Service.web_bookable,
            )
            .order_by(col(Service.name))
        )
    )


def _service(session: Session, clinic: Clinic, raw: str | None) -> Service:
    for service in _services(session, clinic):
        if str(service.id) == raw:
            return service
    abort(400)


def _professionals(session: Session, clinic: Clinic, service: Service) -> dict[int, str]:
    return offering(session, clinic.id or 0, service.id or 0)


def _chosen(session: Session, clinic: Clinic, service: Service, raw: str | None) -> "Choice":
    names = _professionals(session, clinic, service)
    picked = professional_arg(raw)
    if picked == "bad" or (isinstance(picked, int) and picked not in names):
        abort(400)
    ids = [picked] if isinstance(picked, int) else list(names)
    return Choice(service, picked if isinstance(picked, int) else None, ids, names)


@dataclass(frozen=True)
class Choice:
    """The service and the professional picked (None: first available), who that means."""

    service: Service
    professional_id: int | None
    ids: list[int]
    names: dict[int, str]

    @property
    def args(self) -> dict[str, str]:
        pro = "any" if self.professional_id is None else str(self.professional_id)
        return {"service": str(self.service.id), "pro": pro}


def _url(endpoint: str, **args: Any) -> str:
    asked = request.args.get("lang") or request.form.get("lang")
    values: dict[str, Any] = {"lang": asked} if asked in LANGUAGES and asked else {}
    return flask_url_for(f"booking_page.{endpoint}", **values, **args)


def short_day(day: date, language: str) -> str:
    """A day in a calendar's cell: "mar 1 dic"."""
    weekday = weekday_abbreviations(language)[day.weekday()]
    return f"{weekday} {day.day} {month_abbreviations(language)[day.month - 1]}"


def _page(template: str, clinic: Clinic, step: int, **context: Any) -> str:
    language = _language()
    return render_template(
        f"booking/{template}",
        lang=language,
        t=_translator(language),
        clinic=clinic,
        slug=clinic.booking_slug,
        step=step,
        nonce=g.booking_nonce,
        url=_url,
        day_name=lambda day: format_day(day, language),
        short_day=lambda day: short_day(day, language),
        moment=lambda at: format_moment(at.astimezone(booking_rules(clinic).timezone), language),
        clinic_zone=booking_rules(clinic).timezone,
        slot_code=lambda slot: SlotChoice(slot.starts_at, slot.professional_id).encode(),
        **_language_switches(),
        **context,
    )


def _language_switches() -> dict[str, Any]:
    """The same step in each language: links after a GET; after a form, the form again
    (what was typed kept), sent with the language asked."""
    if request.method == "GET":
        here = {**(request.view_args or {}), **request.args.to_dict()}
        return {
            "languages": [
                (code, flask_url_for(request.endpoint or "", **{**here, "lang": code}))
                for code in LANGUAGES
            ]
        }
    sent = [(k, v) for k, v in request.form.items(multi=True) if k != "lang"]
    return {"languages": [], "language_posts": [(code, request.path, sent) for code in LANGUAGES]}


@booking_page.get("/r/<slug>")
def services(slug: str) -> str:
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        offered = _services(session, clinic)
        return _page("services.html", clinic, 1, services=offered)


@booking_page.get("/r/<slug>/pro")
def professionals(slug: str) -> str:
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        service = _service(session, clinic, request.args.get("service"))
        names = _professionals(session, clinic, service)
        return _page("professionals.html", clinic, 2, service=service, names=names)


def _day(raw: str | None, clinic: Clinic) -> date | None:
    """A day asked for, inside today … the horizon; 400 for anything else."""
    if raw is None:
        return None
    day = parse_day(raw)
    rules = booking_rules(clinic)
    if day is None or not rules.local_date(now()) <= day <= rules.last_day(now()):
        abort(400)
    return day


@dataclass(frozen=True)
class Calendar:
    """A month of days: those with space, and those full (open, but all booked)."""

    days: list[date]
    free: set[date]
    full: set[date]


def calendar(availability: StoreAvailability, choice: Choice, first: date) -> Calendar:
    """The calendar's answer: days with space from `first`, four weeks of them, and the
    days without space that are open (full: their waitlist is offered)."""
    rules, now = availability.rules, availability.now
    last = min(first + timedelta(days=CALENDAR_DAYS - 1), rules.last_day(now))
    info = service_info(choice.service)
    free = set(availability.days_with_space(info, choice.ids, first, CALENDAR_DAYS, last))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return Calendar(
        days,
        free,
        availability.open_days(
            service_info(choice.service), choice.ids, [d for d in days if d not in free]
        ),
    )


def _open_days(availability: StoreAvailability, choice: Choice, days: list[date]) -> set[date]:
    """Which of the days are open for the chosen service and professionals (full or not)."""
    return availability.open_days(service_info(choice.service), choice.ids, days)


def day_times(availability: StoreAvailability, choice: Choice, day: date) -> list[Slot]:
    """The free times of one day, the earliest professional first at each time."""
    slots = availability.slots(service_info(choice.service), choice.ids, day)
    first_at: dict[datetime, Slot] = {}
    for slot in sorted(slots):
        first_at.setdefault(slot.starts_at, slot)
    return list(first_at.values())


@booking_page.get("/r/<slug>/days")
def days(slug: str) -> str:
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        service = _service(session, clinic, request.args.get("service"))
        choice = _chosen(session, clinic, service, request.args.get("pro"))
        today = booking_rules(clinic).local_date(now())
        first = _day(request.args.get("from"), clinic) or today
        picked = _day(request.args.get("day"), clinic)
        availability = StoreAvailability(session, clinic, now())
        month = calendar(availability, choice, first)
        times = day_times(availability, choice, picked) if picked else []
        closed = picked is not None and not times and not _open_days(availability, choice, [picked])
        instead = (  # as the chat answers a day: the nearest days with space
            availability.days_with_space(service_info(service), choice.ids, picked, DAYS_OFFERED)
            if picked is not None and closed
            else []
        )
        later = month.days[-1] + timedelta(days=1)
        return _page(
            "days.html",
            clinic,
            3,
            choice=choice,
            month=month,
            picked=picked,
            times=times,
            closed=closed,
            instead=instead,
            later=later if later <= booking_rules(clinic).last_day(now()) else None,
            earlier=max(today, first - timedelta(days=CALENDAR_DAYS)) if first > today else None,
            notice=request.args.get("notice") == "taken",
        )


def _asks(session: Session, clinic: Clinic) -> tuple[bool, bool]:
    """Whether the clinic's booking flow asks for the DNI and the insurance."""
    skipped = skipped_steps(session, clinic.id or 0).get("booking", frozenset())
    return "dni" not in skipped, "insurance" not in skipped


def _wish_fields(session: Session, clinic: Clinic, args: Mapping[str, str]) -> dict[str, str]:
    """The service, professional and time (or the day of a waitlist) as checked fields."""
    service = _service(session, clinic, args.get("service"))
    choice = _chosen(session, clinic, service, args.get("pro"))
    kind = args.get("kind", "book")
    if kind not in KINDS:
        abort(400)
    fields = {**choice.args, "kind": kind}
    if kind == "waitlist":
        day = _day(args.get("day"), clinic)
        if day is None or not _open_days(StoreAvailability(session, clinic, now()), choice, [day]):
            abort(400)  # a closed day's waitlist could never be filled
        return {**fields, "day": day.isoformat(), "slot": ""}
    slot = parse_slot(args.get("slot"))
    if slot is None or slot.professional_id not in choice.ids:
        abort(400)
    day = _day(booking_rules(clinic).local_date(slot.starts_at).isoformat(), clinic)
    assert day is not None
    return {**fields, "slot": slot.encode(), "day": day.isoformat()}


@booking_page.get("/r/<slug>/details")
def details(slug: str) -> str:
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        fields = _wish_fields(session, clinic, request.args)
        return _details_page(session, clinic, fields, {}, [])


def _details_page(
    session: Session,
    clinic: Clinic,
    fields: dict[str, str],
    typed: Mapping[str, str],
    wrong: list[str],
) -> str:
    asks_dni, asks_insurance = _asks(session, clinic)
    return _page(
        "details.html",
        clinic,
        4,
        fields=fields,
        summary=_summary(session, clinic, fields),
        typed=typed,
        wrong=wrong,
        asks_dni=asks_dni,
        asks_insurance=asks_insurance,
    )


def _summary(session: Session, clinic: Clinic, fields: Mapping[str, str]) -> dict[str, Any]:
    """What the visitor picked, in words: service, professional, day and time."""
    service = session.get(Service, int(fields["service"]))
    slot = parse_slot(fields.get("slot"))
    professional_id = slot.professional_id if slot else professional_arg(fields["pro"])
    professional = (
        session.get(Professional, professional_id) if isinstance(professional_id, int) else None
    )
    return {
        "service": service.name if service else "",
        "professional": professional.name if professional else None,
        "day": date.fromisoformat(fields["day"]),
        "starts_at": slot.starts_at if slot else None,
    }


@booking_page.post("/r/<slug>/details")
def review(slug: str) -> tuple[str, int] | str:
    """The details checked, then the review: what will be asked, for whom, with the
    fields signed so the confirmation gets them as shown."""
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        fields = _wish_fields(session, clinic, request.form)
        if request.form.get("edit"):
            return _details_page(session, clinic, fields, _typed(), [])
        asks_dni, asks_insurance = _asks(session, clinic)
        found, wrong = read_details(
            request.form, region_of(clinic.whatsapp_number), asks_dni, asks_insurance
        )
        if found is None:
            return _details_page(session, clinic, fields, _typed(), wrong), 400
        fields |= {
            "name": found.name,
            "phone": found.phone,
            "dni": found.dni or "",
            "insurance": found.insurance or "",
        }
        return _review_page(session, clinic, fields)


def _typed() -> dict[str, str]:
    """What the visitor typed, shown again in the form (cut short, never stored)."""
    return {k: request.form.get(k, "")[:200] for k in ("name", "phone", "dni", "insurance")}


def _review_page(session: Session, clinic: Clinic, fields: dict[str, str]) -> str:
    client = client_key(secret(), request.remote_addr)
    try:
        web_bookings.note_review(session, clinic.id or 0, client, fields["phone"], now())
    except web_bookings.TooMany:
        abort(429)
    people = web_bookings.known_people(session, clinic.id or 0, fields["phone"])
    signed = {**fields, SIGNATURE_FIELD: signature(secret(), clinic.booking_slug or "", fields)}
    return _page(
        "review.html",
        clinic,
        5,
        fields=signed,
        summary=_summary(session, clinic, fields),
        people=[(p.id, masked(p.name or "")) for p in people],
        chosen=next((p.id for p in people if fold(p.name or "") == fold(fields["name"])), None),
        request_only=clinic.only_known_patients and not people,
    )


@booking_page.post("/r/<slug>/confirm")
def confirm(slug: str) -> Redirect | tuple[str, int] | str:
    """Do what the review said, if the time is still free and the limits allow it."""
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        form = request.form.to_dict()
        if not signature_matches(secret(), clinic.booking_slug or "", form):
            abort(400)
        fields = _wish_fields(session, clinic, form)
        service = session.get(Service, int(fields["service"]))
        assert service is not None
        people = web_bookings.known_people(session, clinic.id or 0, form["phone"])
        visitor = web_bookings.Visitor(
            phone=form["phone"],
            name=form["name"],
            language=_language(),
            dni=form.get("dni") or None,
            insurance=form.get("insurance") or None,
            patient_id=_who(form.get("who"), people),
        )
        slot = parse_slot(fields["slot"])
        kind = fields["kind"]
        if clinic.only_known_patients and not people:
            kind = "request"
        pro = professional_arg(fields["pro"])
        wish = web_bookings.Wish(
            service_id=service.id or 0,
            professional_id=slot.professional_id if slot else pro if isinstance(pro, int) else None,
            day=date.fromisoformat(fields["day"]),
            starts_at=slot.starts_at if slot and kind == "book" else None,
            preferred=_preferred(clinic, fields["day"], slot) if kind == "request" else "",
        )
        client = client_key(secret(), request.remote_addr)
        try:
            web_bookings.check_limits(session, clinic.id or 0, client, visitor.phone, now())
        except web_bookings.TooMany:
            abort(429)
        if kind == "book" and slot is not None and not _still_free(session, clinic, service, slot):
            return _taken(fields)
        try:
            row = web_bookings.ask(
                session,
                clinic,
                service,
                visitor,
                wish,
                kind,
                client=client,
                proof_needed=clinic.web_phone_proof and not people,
                now=now(),
            )
        except SlotTaken:
            return _taken(fields)
        token = attempt_token(secret(), row.id or 0)
    return redirect(_url("attempt", slug=slug, token=token), code=303)


def _preferred(clinic: Clinic, day: str, slot: SlotChoice | None) -> str:
    """The day and time a request names, in the clinic's language, for the desk."""
    language = clinic.default_language
    when = format_day(date.fromisoformat(day), language)
    if slot is not None:
        local = slot.starts_at.astimezone(booking_rules(clinic).timezone)
        when = f"{when}, {format_moment(local, language)}"
    return text("booking_page.request_preferred", language, when=when)


def _who(raw: str | None, people: list[Patient]) -> int | None:
    """The person on the phone the visitor picked; None for someone new."""
    if raw in (None, "", "new"):
        return None
    for person in people:
        if str(person.id) == raw:
            return person.id
    abort(400)


def _still_free(session: Session, clinic: Clinic, service: Service, slot: SlotChoice) -> bool:
    availability = StoreAvailability(session, clinic, now())
    return availability.is_free(service_info(service), slot.professional_id, slot.starts_at)


def _taken(fields: Mapping[str, str]) -> Redirect:
    """Back to the day's times, read again, saying the time was just taken."""
    args = {"service": fields["service"], "pro": fields["pro"], "day": fields["day"]}
    return redirect(_url("days", slug=g.slug, notice="taken", **args), code=303)


@booking_page.get("/r/<slug>/a/<token>")
def attempt(slug: str, token: str) -> str:
    """What came of the confirmation: waiting for the phone's message, done, or too late."""
    with transaction(engine()) as session:
        clinic = _clinic(session, slug)
        attempt_id = attempt_id_from(secret(), token)
        row = web_bookings.attempt(session, clinic.id or 0, attempt_id or 0)
        if row is None:
            abort(404)
        appointment = session.get(Appointment, row.appointment_id) if row.appointment_id else None
        return _page(
            "attempt.html",
            clinic,
            6,
            row=row,
            appointment=appointment,
            summary=_attempt_summary(session, row, appointment),
            whatsapp=_whatsapp_link(clinic, row, _language()),
            now=now(),
            token=token,
        )


def _attempt_summary(
    session: Session, row: WebBooking, appointment: Appointment | None
) -> dict[str, Any]:
    service_name = ""
    professional = None
    if appointment is not None:
        service = session.get(Service, appointment.service_id)
        service_name = service.name if service else ""
        found = session.get(Professional, appointment.professional_id)
        professional = found.name if found else None
    return {"service": service_name, "professional": professional}


def _whatsapp_link(clinic: Clinic, row: WebBooking, language: str) -> str:
    """wa.me with the clinic's number and the message that brings the code."""
    said = text("booking_page.proof_message", language, code=f"#{row.proof}")
    return chat_link(clinic.whatsapp_number, said)
