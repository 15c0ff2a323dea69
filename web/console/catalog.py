"""What the clinic offers (admins): branches, services and professionals — each listed,
added and edited through `store.catalog_admin`, professionals with the services they
offer, their week (several intervals a day) and their reminders switch."""

from typing import Any

from flask import abort, request
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.calendar_names import weekday_names
from bot.numbers import read_id
from bot.render import default_templates
from store import catalog_admin
from store.db import transaction
from store.models import Branch, Professional, Service
from store.rules import NotFound, RuleError
from store.settings_values import Invalid, clock_time
from store.weekly_hours import WEEKDAYS, Interval, week_of
from web.console.common import admin_required, console, engine, language, now, page, staff
from web.console.settings import actor, notice, saved
from web.console.settings_forms import Form, form_values, number, problems, raw, sent, switch
from web.console.settings_forms import text as field_text

EMPTY_ROWS = 2  # blank intervals offered on each day, to add hours without JavaScript
MAX_ROWS = 12


def _owned(getter: Any, row_id: int) -> Any:
    with Session(engine()) as session:
        try:
            return getter(session, staff().clinic_id, row_id)
        except NotFound:
            abort(404)


def care_templates() -> list[str]:
    """The care messages a service may name: `automations.care_*` in every language."""
    keys = set(default_templates("es"))
    return sorted(k for k in keys if k.startswith("automations.care_"))


# -- branches ---------------------------------------------------------------------------

BRANCH_FIELDS = ("name", "address")


@console.get("/settings/branches")
@admin_required
def settings_branches() -> Response:
    with Session(engine()) as session:
        found = catalog_admin.branches(session, staff().clinic_id)
    return page("settings_branches.html", branches=found, notice=notice())


def _branch_page(branch: Branch | None, form: Form, status: int = 200) -> Response:
    return page("settings_branch.html", status=status, branch=branch, form=form, notice=notice())


@console.get("/settings/branches/new")
@admin_required
def new_branch() -> Response:
    return _branch_page(None, Form({"active": "on"}))


@console.get("/settings/branches/<int:branch_id>")
@admin_required
def settings_branch(branch_id: int) -> Response:
    branch = _owned(catalog_admin.get_branch, branch_id)
    values = form_values({n: getattr(branch, n) for n in (*BRANCH_FIELDS, "active")})
    return _branch_page(branch, Form(values))


@console.post("/settings/branches", defaults={"branch_id": None})
@console.post("/settings/branches/<int:branch_id>")
@admin_required
def save_branch(branch_id: int | None) -> Response:
    branch = _owned(catalog_admin.get_branch, branch_id) if branch_id else None
    fields = {"name": raw("name"), "address": field_text("address"), "active": switch("active")}
    try:
        with transaction(engine()) as session:
            row = catalog_admin.save_branch(
                session, staff().clinic_id, branch_id, fields, actor(), now()
            )
    except RuleError as exc:
        return _branch_page(branch, Form(sent(BRANCH_FIELDS, ["active"]), problems(exc)), 422)
    return saved("console.settings_branch", branch_id=row.id)


# -- services ---------------------------------------------------------------------------

SERVICE_FIELDS = ("name", "duration_minutes", "price", "care_template")
SERVICE_SWITCHES = ("self_bookable", "active")


@console.get("/settings/services")
@admin_required
def settings_services() -> Response:
    with Session(engine()) as session:
        found = catalog_admin.services(session, staff().clinic_id)
    return page("settings_services.html", services=found, notice=notice())


def _service_page(service: Service | None, form: Form, status: int = 200) -> Response:
    return page(
        "settings_service.html",
        status=status,
        service=service,
        form=form,
        care_templates=care_templates(),
        notice=notice(),
    )


@console.get("/settings/services/new")
@admin_required
def new_service() -> Response:
    return _service_page(
        None, Form({"duration_minutes": "30", "self_bookable": "on", "active": "on"})
    )


@console.get("/settings/services/<int:service_id>")
@admin_required
def settings_service(service_id: int) -> Response:
    service = _owned(catalog_admin.get_service, service_id)
    values = form_values({n: getattr(service, n) for n in (*SERVICE_FIELDS, *SERVICE_SWITCHES)})
    return _service_page(service, Form(values))


@console.post("/settings/services", defaults={"service_id": None})
@console.post("/settings/services/<int:service_id>")
@admin_required
def save_service(service_id: int | None) -> Response:
    service = _owned(catalog_admin.get_service, service_id) if service_id else None
    fields = {
        "name": raw("name"),
        "duration_minutes": number("duration_minutes"),
        "price": field_text("price"),
        "care_template": field_text("care_template"),
        **{name: switch(name) for name in SERVICE_SWITCHES},
    }
    try:
        with transaction(engine()) as session:
            row = catalog_admin.save_service(
                session, staff().clinic_id, service_id, fields, actor(), now(), care_templates()
            )
    except RuleError as exc:
        form = Form(sent(SERVICE_FIELDS, SERVICE_SWITCHES), problems(exc))
        return _service_page(service, form, 422)
    return saved("console.settings_service", service_id=row.id)


# -- professionals ----------------------------------------------------------------------


@console.get("/settings/professionals")
@admin_required
def settings_professionals() -> Response:
    with Session(engine()) as session:
        found = catalog_admin.professionals(session, staff().clinic_id)
    return page("settings_professionals.html", professionals=found, notice=notice())


def _week_rows(intervals: list[Interval]) -> dict[int, list[tuple[str, str]]]:
    """(start, end) as text for each weekday, with blank rows to add more."""
    rows: dict[int, list[tuple[str, str]]] = {d: [] for d in WEEKDAYS}
    for i in sorted(intervals):
        rows[i.weekday].append((i.start.strftime("%H:%M"), i.end.strftime("%H:%M")))
    for day in rows.values():
        day.extend([("", "")] * EMPTY_ROWS)
    return rows


def _professional_page(
    professional: Professional | None,
    form: Form,
    week: dict[int, list[tuple[str, str]]],
    offered: set[int],
    status: int = 200,
) -> Response:
    with Session(engine()) as session:
        branches = catalog_admin.branches(session, staff().clinic_id)
        services = catalog_admin.services(session, staff().clinic_id)
    return page(
        "settings_professional.html",
        status=status,
        professional=professional,
        form=form,
        week=week,
        weekdays=weekday_names(language()),
        offered=offered,
        branches=branches,
        services=services,
        notice=notice(),
    )


@console.get("/settings/professionals/new")
@admin_required
def new_professional() -> Response:
    form = Form({"active": "on", "reminders_enabled": "on"})
    return _professional_page(None, form, _week_rows([]), set())


@console.get("/settings/professionals/<int:professional_id>")
@admin_required
def settings_professional(professional_id: int) -> Response:
    with Session(engine()) as session:
        clinic_id = staff().clinic_id
        try:
            professional = catalog_admin.get_professional(session, clinic_id, professional_id)
        except NotFound:
            abort(404)
        week = week_of(session, clinic_id, professional_id)
        offered = catalog_admin.offered(session, clinic_id, professional_id)
    names = ("name", "active", "reminders_enabled", "branch_id")
    values = form_values({n: getattr(professional, n) for n in names})
    return _professional_page(professional, Form(values), _week_rows(week), offered)


def _sent_week() -> tuple[
    list[Interval], list[str], dict[str, str], dict[int, list[tuple[str, str]]]
]:
    """The week as sent: the intervals read, the row of each (`hours-<day>-<n>`), the
    problems found reading them, and the rows to show again."""
    intervals: list[Interval] = []
    keys: list[str] = []
    found: dict[str, str] = {}
    shown: dict[int, list[tuple[str, str]]] = {}
    for day in WEEKDAYS:
        shown[day] = []
        for n in range(MAX_ROWS):
            key = f"hours-{day}-{n}"
            start, end = raw(f"{key}-start"), raw(f"{key}-end")
            if f"{key}-start" not in request.form and f"{key}-end" not in request.form:
                break
            shown[day].append((start, end))
            if not start and not end:
                continue
            if not start or not end:
                found[key] = "incomplete"
                continue
            try:
                begins, ends = clock_time(start), clock_time(end)
            except ValueError:
                found[key] = "bad_time"
                continue
            assert begins is not None and ends is not None
            intervals.append(Interval(day, begins, ends))
            keys.append(key)
    return intervals, keys, found, shown


@console.post("/settings/professionals", defaults={"professional_id": None})
@console.post("/settings/professionals/<int:professional_id>")
@admin_required
def save_professional(professional_id: int | None) -> Response:
    current = _owned(catalog_admin.get_professional, professional_id) if professional_id else None
    intervals, keys, errors, shown = _sent_week()
    branch = number("branch_id", optional=True)
    fields = {"name": raw("name"), "active": switch("active"), "branch_id": branch}
    chosen = (read_id(s) for s in request.form.getlist("services"))
    service_ids = [i for i in chosen if i is not None][:200]
    try:
        if errors:
            raise Invalid(errors)
        with transaction(engine()) as session:
            row = catalog_admin.save_professional(
                session,
                staff().clinic_id,
                professional_id,
                fields,
                actor(),
                now(),
                service_ids=service_ids,
                hours=intervals,
                reminders_enabled=switch("reminders_enabled"),
            )
    except RuleError as exc:
        found = {**errors, **problems(exc)}
        for name in [n for n in found if n.startswith("hours.")]:  # a position: its row
            found[keys[int(name.removeprefix("hours."))]] = found.pop(name)
        for rows in shown.values():
            rows.extend([("", "")] * max(0, EMPTY_ROWS - sum(1 for r in rows if r == ("", ""))))
        values = sent(["name", "branch_id"], ["active", "reminders_enabled"])
        return _professional_page(current, Form(values, found), shown, set(service_ids), 422)
    return saved("console.settings_professional", professional_id=row.id)
