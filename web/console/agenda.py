"""The agenda: a day or a week as a time grid (`agenda_grid`), for one professional or the
whole clinic, in the clinic's time zone; one appointment's details and history; arrived,
completed, no-show, cancel. A small JSON feed lets the open page pick up new bookings
without a reload."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlmodel import Session, select
from werkzeug.wrappers import Response

from bot.numbers import read_id
from bot.render import format_day, format_moment
from store.agenda import (
    AgendaRow,
    agenda_row,
    block_offs_from,
    history,
    next_appointment_at,
    professionals,
)
from store.agenda import agenda as agenda_rows
from store.appointment_info import appointment_info
from store.appointments import ACTIVE, Actor, NotChangeable, cancel
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import Appointment, AppointmentStatus, BlockOff, Clinic, Professional
from store.outcomes import complete, mark_no_show
from usecases.waiting_room import arrive_at_desk
from web.console.agenda_grid import active_services, build, service_arg
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
from web.console.time_grid import MAX_LANES, MAX_ROWS
from web.self_service_forms import parse_day

CHANNELS = ("whatsapp", "self_service", "console", "phone", "desk", "api", "waitlist", "system")
POLL_SECONDS = 20
ACTIONS: dict[str, Callable[..., bool]] = {
    "arrived": arrive_at_desk,  # and a number in the waiting room's queue
    "completed": complete,
    "no_show": mark_no_show,
    "cancel": cancel,
}
NOTICES = {
    *(f"done_{action}" for action in ACTIONS),
    "already",
    "moved",
    "booked",
    *(f"refused_{r}" for r in ("cancelled", "finished", "started", "not_started", "past")),
}


def actor() -> Actor:
    return Actor(f"staff:{staff().login}", "console")


def own_clinic(session: Session) -> Clinic:
    clinic = session.get(Clinic, staff().clinic_id)
    if clinic is None:
        abort(404)
    return clinic


def local_bounds(day: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight on `day` and `days` later (DST-safe)."""
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=days), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def day_arg(name: str = "day") -> date | None:
    raw = request.args.get(name)
    day = parse_day(raw)
    if raw and day is None:
        abort(400)
    return day


def professional_arg(choices: list[Professional]) -> int | None:
    raw = request.args.get("professional", "")
    if not raw:
        return None
    found = read_id(raw)
    if found is None or found not in {p.id for p in choices}:
        abort(400)
    return found


@dataclass(frozen=True)
class Listing:
    """What the agenda shows: its days, each with its appointments and block-offs."""

    view: str
    first: date
    days: list[tuple[date, list[AgendaRow], list[BlockOff]]]
    stamp: str


def read_listing(
    session: Session, clinic: Clinic, day: date | None = None
) -> tuple[Listing, list[Professional]]:
    """The agenda the request's `day` (or the given one), `view` and `professional` ask
    for."""
    view = request.args.get("view", "day")
    if view not in ("day", "week"):
        abort(400)
    tz = ZoneInfo(clinic.timezone)
    day = day or day_arg() or now().astimezone(tz).date()
    first, count = (day - timedelta(days=day.weekday()), 7) if view == "week" else (day, 1)
    staff_list = professionals(session, clinic.id or 0)
    who = professional_arg(staff_list)
    since, until = local_bounds(first, count, tz)
    rows = agenda_rows(session, clinic.id or 0, since, until, who)
    blocks = [
        b
        for b in block_offs_from(session, clinic.id or 0, since)
        if b.starts_at < until and (who is None or b.professional_id in (None, who))
    ]
    days = []
    for n in range(count):
        current = first + timedelta(days=n)
        start, end = local_bounds(current, 1, tz)
        days.append(
            (
                current,
                [r for r in rows if start <= r.starts_at < end],
                [b for b in blocks if b.starts_at < end and b.ends_at > start],
            )
        )
    shown = [(r.id, r.status, r.starts_at, r.professional_id, r.updated_at) for r in rows]
    shaded = [(b.id, b.starts_at, b.ends_at, b.professional_id) for b in blocks]
    digest = hashlib.sha256(repr((shown, shaded)).encode()).hexdigest()[:16]
    return Listing(view, first, days, digest), staff_list


def formatting(clinic: Clinic, lang: str) -> dict[str, Any]:
    """Template helpers that write dates and times in the clinic's zone and the staff
    member's language."""
    tz = ZoneInfo(clinic.timezone)
    return {
        "fmt_day": lambda d: format_day(d, lang),
        "fmt_time": lambda m: format_moment(m.astimezone(tz), lang),
        "fmt_when": lambda m: (
            f"{format_day(m.astimezone(tz).date(), lang)} {format_moment(m.astimezone(tz), lang)}"
        ),
        "local_day": lambda m: m.astimezone(tz).date(),
        "actor": lambda who: _actor_words(who, lang),
        "channels": CHANNELS,
    }


def _actor_words(who: str, lang: str) -> str:
    """Who changed an appointment, in words: a staff member by their login, the patient,
    or the system (never the stored code, "staff:ana")."""
    t = translator(lang)
    if who.startswith("staff:"):
        return who.removeprefix("staff:")
    return t(f"actor_{who}") if who in ("patient", "system") else who


def _days_html(
    session: Session, listing: Listing, clinic: Clinic, staff_list: list[Professional]
) -> str:
    """The days as a time grid, for the professionals the request shows."""
    lang = language()
    who = professional_arg(staff_list)
    shown = [p for p in staff_list if who is None or p.id == who]
    moment = now()
    return render_template(
        "console/_agenda_days.html",
        listing=listing,
        grid=build(session, clinic, listing.view, listing.days, shown, moment),
        names={p.id or 0: p.name for p in staff_list},
        actions_of=lambda row: available_actions(row, moment),
        agenda_url=url_for("console.agenda", **_agenda_args(listing)),
        t=translator(lang),
        **formatting(clinic, lang),
    )


def _agenda_args(listing: Listing) -> dict[str, Any]:
    """What brings the desk back to the agenda shown."""
    kept = {k: v for k, v in request.args.items() if k in ("view", "professional", "service")}
    return kept | {"day": listing.first.isoformat()}


@console.get("/agenda/grid.css")
@staff_required
def grid_css() -> Response:
    """The grid's rows and lanes as classes."""
    body = render_template("console/grid.css", rows=MAX_ROWS, lanes=MAX_LANES)
    return Response(body, mimetype="text/css")


@console.get("/")
@staff_required
def home() -> Response:
    return redirect(url_for("console.agenda"), code=303)


@console.get("/agenda")
@staff_required
def agenda() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        listing, staff_list = read_listing(session, clinic)
        args: dict[str, Any] = {
            k: v for k, v in request.args.items() if k in ("view", "professional", "service")
        }
        today_empty = nothing_ahead = False
        if _first_screen_empty(listing):  # today has none: the next day that has some
            tz = ZoneInfo(clinic.timezone)
            after = local_bounds(listing.first, 1, tz)[1]
            upcoming = next_appointment_at(
                session, clinic.id or 0, after, professional_arg(staff_list)
            )
            if upcoming is None:
                nothing_ahead = True
            else:
                today_empty = True
                next_day = upcoming.astimezone(tz).date()
                listing, staff_list = read_listing(session, clinic, next_day)
        days_html = _days_html(session, listing, clinic, staff_list)
        services = active_services(session, clinic.id or 0)
        service = service_arg(services)
    step = timedelta(days=7 if listing.view == "week" else 1)
    return page(
        "agenda.html",
        listing=listing,
        professionals=staff_list,
        chosen=request.args.get("professional", ""),
        days_html=days_html,
        services=services,
        chosen_service=str(service.id) if service else "",
        notice=_notice(),
        feed_url=url_for(  # the day shown, when it is not the one the address asks for
            "console.agenda_feed",
            **(_query() | ({"day": listing.first.isoformat()} if today_empty else {})),
        ),
        poll_seconds=current_app.config.get("CONSOLE_POLL_SECONDS", POLL_SECONDS),
        earlier=url_for("console.agenda", day=(listing.first - step).isoformat(), **args),
        later=url_for("console.agenda", day=(listing.first + step).isoformat(), **args),
        today=url_for("console.agenda", day=_today(clinic).isoformat(), **args),
        today_empty=today_empty,
        nothing_ahead=nothing_ahead,
        other_view=url_for(
            "console.agenda",
            day=listing.first.isoformat(),
            view="day" if listing.view == "week" else "week",
            **{k: v for k, v in args.items() if k != "view"},
        ),
        **formatting(clinic, language()),
    )


def _notice() -> str | None:
    notice = request.args.get("notice")
    return notice if notice in NOTICES else None


def _today(clinic: Clinic) -> date:
    return now().astimezone(ZoneInfo(clinic.timezone)).date()


def _first_screen_empty(listing: Listing) -> bool:
    """The page opened with no day asked for, on a day view of a day with no appointment
    that still stands."""
    rows = listing.days[0][1]
    return (
        "day" not in request.args
        and listing.view == "day"
        and not any(r.status != "cancelled" for r in rows)
    )


def _query() -> dict[str, Any]:
    return dict(request.args.items())


@console.get("/agenda/feed")
@staff_required
def agenda_feed() -> Response:
    """The appointments the page shows, a stamp that changes when any of them or a
    block-off shown does, and the list already rendered (escaped, in the staff member's
    language)."""
    with Session(engine()) as session:
        clinic = own_clinic(session)
        listing, staff_list = read_listing(session, clinic)
        html = _days_html(session, listing, clinic, staff_list)
    return jsonify(
        stamp=listing.stamp,
        appointments=[
            {
                "id": row.id,
                "starts_at": row.starts_at.isoformat(),
                "ends_at": row.ends_at.isoformat(),
                "status": row.status,
                "patient": row.patient_name,
                "phone": row.patient_phone,
                "service": row.service_name,
                "professional": row.professional_name,
                "source_channel": row.source_channel,
                "new_patient": row.new_patient,
            }
            for _, rows, _ in listing.days
            for row in rows
        ],
        html=html,
    )


CANCELLED_BY_STAFF = MessageKind.staff_cancelled


def _is_agenda(back: str) -> bool:
    """Whether a form's `back` is this console's agenda (never another site)."""
    path, _, query = back.partition("?")
    return path == url_for("console.agenda") and "notice=" not in query and query.isprintable()


def available_actions(row: AgendaRow, moment: datetime) -> list[str]:
    """The actions that apply to the appointment now, in the order the page offers them."""
    started = row.starts_at <= moment
    actions = []
    if row.status in ACTIVE:
        actions.append("arrived")
    if started and row.status in (*ACTIVE, AppointmentStatus.arrived):
        actions.append("completed")
    if started and row.status in ACTIVE:
        actions.append("no_show")
    if not started and row.status in ACTIVE:
        actions += ["move", "cancel"]
    return actions


@console.get("/appointments/<int:appointment_id>")
@staff_required
def appointment(appointment_id: int) -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        row = agenda_row(session, clinic.id or 0, appointment_id)
        if row is None:
            abort(404)
        events = history(session, appointment_id)
    notice = request.args.get("notice")
    return page(
        "appointment.html",
        row=row,
        events=events,
        actions=available_actions(row, now()),
        notice=notice if notice in NOTICES else None,
        **formatting(clinic, language()),
    )


@console.get("/appointments/<int:appointment_id>/cancel")
@staff_required
def cancel_check(appointment_id: int) -> Response:
    """Cancelling asks first, saying that the patient will be told."""
    with Session(engine()) as session:
        clinic = own_clinic(session)
        row = agenda_row(session, clinic.id or 0, appointment_id)
        if row is None:
            abort(404)
    if "cancel" not in available_actions(row, now()):
        return redirect(url_for("console.appointment", appointment_id=appointment_id), code=303)
    return page("cancel_check.html", row=row, **formatting(clinic, language()))


@console.post("/appointments/<int:appointment_id>/<action>")
@staff_required
def change(appointment_id: int, action: str) -> Response:
    """Arrived, completed, no-show or cancel, with the appointment's row locked."""
    apply = ACTIONS.get(action)
    if apply is None:
        abort(404)
    with transaction(engine()) as session:
        found = session.exec(
            select(Appointment)
            .where(Appointment.id == appointment_id, Appointment.clinic_id == staff().clinic_id)
            .with_for_update()
        ).first()
        if found is None:
            abort(404)
        try:
            done = apply(session, found, actor(), now())
        except NotChangeable as error:
            notice = f"refused_{error.reason}"
        else:
            notice = f"done_{action}" if done else "already"
            if done and action == "cancel":  # the patient hears it from the clinic
                tell_patient(session, appointment_info(session, found), CANCELLED_BY_STAFF)
    back = request.form.get("back", "")
    if _is_agenda(back):  # marked from the grid: back to the agenda it showed
        return redirect(f"{back}{'&' if '?' in back else '?'}notice={notice}", code=303)
    return redirect(
        url_for("console.appointment", appointment_id=appointment_id, notice=notice), code=303
    )
