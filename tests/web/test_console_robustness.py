"""Every console route, as an admin, with nonsense in its query string and its form (and a
valid CSRF token, so the nonsense reaches the view): each answers, and never with a 500.
New routes join through the URL map."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.routing import IntegerConverter, Rule

from store.db import transaction
from store.outbox import enqueue
from store.requests import NewRequest, create
from tests.console_support import NOW, Desk, add_staff, book_at, console_app
from tests.support import CLINIC_NUMBER, Clock, add_patient, make_clinic
from tests.web.test_console_auth import PUBLIC, ROUTE_ARGS

NONSENSE = [
    "",
    " ",
    "abc",
    "-1",
    "99999999999999999999",
    "2147483648",
    "²",
    "١٢",
    "1e9",
    "2026-02-30",
    "25:61",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "😀" * 50,
    "x" * 5000,
    "\x00",
]
FIELDS = [
    "day", "view", "professional", "professional_id", "service", "service_id", "q", "phone",
    "name", "display_name", "dni", "insurance", "plan", "language", "lang", "login", "role",
    "active", "password", "password_again", "current_password", "body", "text", "reason",
    "start", "end", "start_day", "end_day", "start_time", "end_time", "slot", "time", "after",
    "hours_before", "day_before_at", "timezone", "email", "address", "min_notice_minutes",
    "horizon_days", "slot_step_minutes", "idle_timeout_minutes", "duration_minutes",
    "self_bookable", "branch_id", "mode", "insurance_plan", "notice", "message", "steps",
    "no_show_followup_hours", "care_delay_minutes", "auto_no_show_at", "key", "next",
    "services", "patient_id", "appointment_id", "rule_id",
]  # fmt: skip


@pytest.fixture
def app(db: Engine, tmp_path: Path) -> Flask:
    clinic = make_clinic(db)
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    book_at(db, clinic, patient, NOW + timedelta(days=1, hours=1))
    with transaction(db) as session:
        create(session, clinic.id, NewRequest("+595981444555", "Rosa", 1, "lunes", None, "es"), NOW)
        enqueue(
            session,
            clinic_id=clinic.id,
            idempotency_key="failed:1",
            from_phone=CLINIC_NUMBER,
            to_phone="+595981222333",
            body="hola",
            now=NOW,
        )
    add_staff(db, clinic.id, "boss", role="admin")
    return console_app(db, tmp_path, Clock(NOW))


def _routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in PUBLIC:
            continue
        if rule.endpoint == "console.logout":
            continue  # it would end the session the rest of the walk needs
        path = rule.build({k: v for k, v in ROUTE_ARGS.items() if k in rule.arguments})[1]
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


@pytest.mark.parametrize("nonsense", NONSENSE, ids=range(len(NONSENSE)))
def test_no_console_route_answers_nonsense_with_a_500(app: Flask, nonsense: str) -> None:
    desk = Desk(app.test_client())
    desk.sign_in("boss")
    desk.open("/console/agenda")
    token = desk.token()
    crashed = []
    for method, path in _routes(app):
        values = {field: nonsense for field in FIELDS}
        if method == "GET":
            response = desk.client.get(path, query_string=values)
        else:
            response = desk.client.post(
                path, data={**values, "csrf_token": token}, headers={"X-CSRFToken": token}
            )
        if response.status_code >= 500:
            crashed.append((method, path, response.status_code))
    assert crashed == []



@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_no_route_answers_an_id_no_table_holds_with_a_500(app: Flask, huge: int) -> None:
    """An id in a console or admin API path that no integer column holds (PostgreSQL's
    holds 2³¹ − 1, SQLite's 2⁶³ − 1) names nothing: never a 500."""
    desk = Desk(app.test_client())
    desk.sign_in("boss")
    desk.open("/console/agenda")
    token = desk.token()
    api = {"Authorization": f"Bearer {app.extensions['turnero']['settings'].admin_token}"}
    crashed = []
    for rule in app.url_map.iter_rules():
        if not any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            continue

        def value(found: re.Match[str], rule: Rule = rule) -> str:
            name = found.group(1)
            if isinstance(rule._converters[name], IntegerConverter):
                return str(huge)
            return str(ROUTE_ARGS.get(name, "reminder"))

        path = re.sub(r"<(?:\w+:)?(\w+)>", value, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            headers = {**api, "X-CSRFToken": token}
            response = desk.client.open(path, method=method, json={}, headers=headers)
            if response.status_code >= 500:
                crashed.append((method, path, response.status_code))
    assert crashed == []
