"""Notification rules (admins): which appointments get reminders and booking
confirmations, added, changed and deleted through `store.rules` — the same functions and
checks as the admin API — with the history of every change, clinic settings included."""

import json
from typing import Any

from flask import abort, redirect, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from store import catalog_admin, rules
from store.db import transaction
from store.models import NotificationMode, NotificationRule
from store.rules import NotFound, RuleError
from web.console.agenda import formatting, own_clinic
from web.console.common import admin_required, console, engine, language, now, page, staff
from web.console.settings import actor, notice, saved
from web.console.settings_forms import Form, form_values, number, problems, sent, switch, text

FILTERS = ("branch_id", "professional_id", "service_id", "insurance", "plan")
HISTORY_ROWS = 100


def _choices(session: Session) -> dict[str, Any]:
    clinic_id = staff().clinic_id
    return {
        "branches": catalog_admin.branches(session, clinic_id),
        "professionals": catalog_admin.professionals(session, clinic_id),
        "services": catalog_admin.services(session, clinic_id),
        "modes": [m.value for m in NotificationMode],
    }


def _change_rows(session: Session) -> list[dict[str, Any]]:
    """The history, newest first, with before and after as (field, value) pairs."""
    found = []
    for change in rules.history(session, staff().clinic_id, limit=HISTORY_ROWS):
        fields = rules.change_fields(change)
        found.append(
            {
                **fields,
                "at": change.changed_at,
                "before": sorted((fields["before"] or {}).items()),
                "after": sorted((fields["after"] or {}).items()),
            }
        )
    return found


def _rules_page(form: Form, status: int = 200) -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        listed = rules.list_rules(session, clinic.id or 0)
        history = _change_rows(session)
        choices = _choices(session)
    return page(
        "settings_rules.html",
        status=status,
        rules=listed,
        history=history,
        form=form,
        notice=notice(),
        shown=lambda value: json.dumps(value, ensure_ascii=False),
        **choices,
        **formatting(clinic, language()),
    )


def _rule_fields() -> dict[str, Any]:
    return {
        **{name: number(name, optional=True) for name in FILTERS[:3]},
        "insurance": text("insurance"),
        "plan": text("plan"),
        "mode": text("mode") or "",
        "active": switch("active"),
    }


def _sent() -> dict[str, str]:
    return sent([*FILTERS, "mode"], ["active"])


@console.get("/settings/rules")
@admin_required
def settings_rules() -> Response:
    return _rules_page(Form({"mode": NotificationMode.both.value, "active": "on"}))


@console.post("/settings/rules")
@admin_required
def add_rule() -> Response:
    try:
        with transaction(engine()) as session:
            rules.create_rule(session, staff().clinic_id, _rule_fields(), actor(), now())
    except RuleError as exc:
        return _rules_page(Form(_sent(), problems(exc)), 422)
    return saved("console.settings_rules")


def _rule_page(rule: NotificationRule, form: Form, status: int = 200) -> Response:
    with Session(engine()) as session:
        choices = _choices(session)
    return page(
        "settings_rule.html", status=status, rule=rule, form=form, notice=notice(), **choices
    )


def _own_rule(rule_id: int) -> NotificationRule:
    with Session(engine()) as session:
        try:
            return rules.get_rule(session, staff().clinic_id, rule_id)
        except NotFound:
            abort(404)


@console.get("/settings/rules/<int:rule_id>")
@admin_required
def settings_rule(rule_id: int) -> Response:
    rule = _own_rule(rule_id)
    return _rule_page(rule, Form(form_values(rules.rule_fields(rule))))


@console.post("/settings/rules/<int:rule_id>")
@admin_required
def save_rule(rule_id: int) -> Response:
    rule = _own_rule(rule_id)
    try:
        with transaction(engine()) as session:
            rules.update_rule(session, staff().clinic_id, rule_id, _rule_fields(), actor(), now())
    except RuleError as exc:
        return _rule_page(rule, Form(_sent(), problems(exc)), 422)
    return saved("console.settings_rule", rule_id=rule_id)


@console.post("/settings/rules/<int:rule_id>/delete")
@admin_required
def delete_rule(rule_id: int) -> Response:
    _own_rule(rule_id)
    with transaction(engine()) as session:
        rules.delete_rule(session, staff().clinic_id, rule_id, actor(), now())
    return redirect(url_for("console.settings_rules", notice="deleted"), code=303)
