"""The settings (admins): the home that links every section, and the clinic's own
settings — profile and booking rules, reminder times, automations. Writes go through
`store.clinic_settings` and `store.rules`, the same checks the admin API uses, and are
recorded with who made them."""

from collections.abc import Callable
from typing import Any

from flask import redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from store import clinic_settings, rules
from store.db import transaction
from store.models import Clinic
from store.rules import RuleError
from store.settings_values import time_zones
from store.staff import LANGUAGES
from usecases.whatsapp_templates import Row, missing_approved
from web.console.agenda import own_clinic
from web.console.common import admin_required, console, ctx, engine, now, page, staff
from web.console.settings_forms import Form, form_values, number, problems, sent, switch, text
from web.console.whatsapp_templates import KNOWN_STATES

SECTIONS = (
    "console.settings_clinic",
    "console.settings_branches",
    "console.settings_services",
    "console.booking_page_settings",
    "console.settings_professionals",
    "console.block_offs",
    "console.settings_reminders",
    "console.settings_automations",
    "console.settings_rules",
    "console.staff_accounts",
    "console.whatsapp_templates",
)
NOTICES = ("saved", "deleted")


def actor() -> str:
    """Who changes settings, as the history records it."""
    return f"staff:{staff().login}"


def notice() -> str | None:
    found = request.args.get("notice")
    return found if found in NOTICES else None


def saved(endpoint: str, **args: Any) -> Response:
    return redirect(url_for(endpoint, notice="saved", **args), code=303)


@console.get("/settings")
@admin_required
def settings() -> Response:
    return page("settings.html", sections=SECTIONS)


def _clinic_page(template: str, form: Form, status: int = 200, **extra: Any) -> Response:
    return page(template, status=status, form=form, notice=notice(), **extra)


def _save_clinic(
    fields: dict[str, Any],
    apply: Callable[[Session, dict[str, Any]], Clinic],
    template: str,
    shown: dict[str, str],
    endpoint: str,
    **extra: Any,
) -> Response:
    """Apply a clinic form; a refused change shows the form again, 422, fields marked."""
    try:
        with transaction(engine()) as session:
            apply(session, fields)
    except RuleError as exc:
        return _clinic_page(template, Form(shown, problems(exc)), 422, **extra)
    return saved(endpoint)


# -- clinic profile and booking rules ----------------------------------------------------

CLINIC_FIELDS = (*clinic_settings.PROFILE, *clinic_settings.BOOKING)
CLINIC_SWITCHES = ("only_known_patients",)


def _choices() -> dict[str, Any]:
    return {"languages": LANGUAGES, "zones": time_zones()}


@console.get("/settings/clinic")
@admin_required
def settings_clinic() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
    values = clinic_settings.settings_of(clinic, CLINIC_FIELDS)
    return _clinic_page("settings_clinic.html", Form(form_values(values)), **_choices())


@console.post("/settings/clinic")
@admin_required
def save_settings_clinic() -> Response:
    fields: dict[str, Any] = {
        "name": text("name") or "",
        "phone": text("phone"),
        "address": text("address"),
        "insurances": text("insurances"),
        "email": text("email"),
        "default_language": text("default_language") or "",
        "timezone": text("timezone") or "",
        **{name: number(name) for name in clinic_settings.BOOKING if name not in CLINIC_SWITCHES},
        **{name: switch(name) for name in CLINIC_SWITCHES},
    }
    return _save_clinic(
        fields,
        lambda s, f: clinic_settings.update_clinic(s, staff().clinic_id, f, actor(), now()),
        "settings_clinic.html",
        sent(CLINIC_FIELDS, CLINIC_SWITCHES),
        "console.settings_clinic",
        **_choices(),
    )


# -- reminders --------------------------------------------------------------------------


@console.get("/settings/reminders")
@admin_required
def settings_reminders() -> Response:
    with Session(engine()) as session:
        values = rules.reminder_settings_of(own_clinic(session))
    return _clinic_page("settings_reminders.html", Form(form_values(values)))


@console.post("/settings/reminders")
@admin_required
def save_settings_reminders() -> Response:
    fields = {
        "hours_before": number("hours_before", optional=True),
        "day_before_at": text("day_before_at"),
    }
    return _save_clinic(
        fields,
        lambda s, f: rules.set_reminder_settings(s, staff().clinic_id, f, actor(), now()),
        "settings_reminders.html",
        sent(fields),
        "console.settings_reminders",
    )


# -- automations ------------------------------------------------------------------------

AUTOMATION_SWITCHES = ("interactive_messages", "survey_enabled", "care_enabled")


@console.get("/settings/automations")
@admin_required
def settings_automations() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
    values = form_values(clinic_settings.settings_of(clinic, clinic_settings.AUTOMATIONS))
    values["care_enabled"] = "on" if clinic.care_delay_minutes is not None else ""
    if clinic.care_delay_minutes is None:
        values["care_delay_minutes"] = "120"
    return _clinic_page(
        "settings_automations.html", Form(values), missing=_missing(), known_states=KNOWN_STATES
    )


def _missing() -> list[Row]:
    """The automations turned on without an approved WhatsApp template in a language
    the clinic serves (none needed in the sandbox)."""
    if ctx("settings").sandbox:
        return []
    with Session(engine()) as session:
        return missing_approved(session, own_clinic(session))


@console.post("/settings/automations")
@admin_required
def save_settings_automations() -> Response:
    care_on = switch("care_enabled")
    fields: dict[str, Any] = {
        "interactive_messages": switch("interactive_messages"),
        "waitlist_hold_minutes": number("waitlist_hold_minutes"),
        "waitlist_offers_per_day": number("waitlist_offers_per_day"),
        "auto_no_show_at": text("auto_no_show_at"),
        "no_show_followup_hours": text("no_show_followup_hours") or "",
        "recovery_days": number("recovery_days"),
        "care_delay_minutes": number("care_delay_minutes") if care_on else None,
        "survey_enabled": switch("survey_enabled"),
        "survey_delay_minutes": number("survey_delay_minutes"),
        "bot_resume_after_minutes": number("bot_resume_after_minutes"),
    }
    return _save_clinic(
        fields,
        lambda s, f: clinic_settings.update_clinic(s, staff().clinic_id, f, actor(), now()),
        "settings_automations.html",
        sent(clinic_settings.AUTOMATIONS, AUTOMATION_SWITCHES),
        "console.settings_automations",
    )
