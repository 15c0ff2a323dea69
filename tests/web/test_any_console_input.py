"""Property: whatever an admin's browser posts to the console's forms (with a valid CSRF
token, so it reaches the view), and whatever JSON body, path or query reaches the admin
API with the right bearer token — text, unicode, NUL, huge or negative numbers, very long
values, missing or unknown fields — the answer is never a 5xx, and nothing stored before
is lost. Derandomized and bounded, so it runs in seconds and the same way every time."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select
from werkzeug.routing import IntegerConverter

from store.db import transaction
from store.models import (
    Appointment,
    AppointmentRequest,
    Branch,
    Clinic,
    Patient,
    Professional,
    Service,
    StaffUser,
)
from store.requests import NewRequest, create
from tests import hostile
from tests.console_support import NOW, Desk, add_staff, book_at, console_app
from tests.support import Clock, add_patient, make_clinic
from tests.web.test_console_auth import PUBLIC, ROUTE_ARGS
from tests.web.test_console_robustness import FIELDS

KEPT: list[type[SQLModel]] = [
    Clinic, Branch, Service, Professional, Patient, Appointment, StaffUser, AppointmentRequest,
]  # fmt: skip

numbers = hostile.numbers(longest=3000)
values = st.one_of(
    st.text(max_size=40),
    numbers,
    st.sampled_from(["2026-12-02", "2026-02-30", "09:00", "25:61", "on", "admin", "es", "both"]),
    hostile.with_nul(),
    hostile.long_text(shortest=2000),
)
path_ids = st.one_of(st.just(1), st.integers(min_value=0, max_value=2**31 - 1))
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        values,
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=6,
)
API_FIELDS = [
    "branch_id", "professional_id", "service_id", "insurance", "plan", "mode", "active",
    "reminders_enabled", "hours_before", "day_before_at", "content_sid", "variables", "name",
    "timezone", "min_notice_minutes", "horizon_days", "slot_step_minutes", "language",
]  # fmt: skip
SETTINGS = settings(hostile.BOUNDED, max_examples=80)


@pytest.fixture
def app(db: Engine, tmp_path: Path) -> Flask:
    clinic = make_clinic(db)
    maria = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    rosa = add_patient(db, clinic.id, "+595981444555", "Rosa Giménez")
    book_at(db, clinic, maria, NOW + timedelta(days=1, hours=1))
    book_at(db, clinic, rosa, NOW + timedelta(days=2, hours=1), who="ana", service="general")
    with transaction(db) as session:
        create(session, clinic.id, NewRequest("+595981444555", "Rosa", 1, "lunes", None, "es"), NOW)
    add_staff(db, clinic.id, "ana")  # user 1, so the routes on an account act on hers
    add_staff(db, clinic.id, "boss", role="admin")
    return console_app(db, tmp_path, Clock(NOW))


def _stored(db: Engine) -> dict[str, set[Any]]:
    with Session(db) as session:
        return {m.__name__: set(session.exec(select(m.id)).all()) for m in KEPT}  # type: ignore[attr-defined]


def _nothing_lost(db: Engine, before: dict[str, set[Any]]) -> None:
    after = _stored(db)
    assert all(before[name] <= after[name] for name in before), (before, after)


def _templates(app: Flask, prefix: str) -> list[tuple[str, Any]]:
    """Every route under `prefix` as (method, rule), from the app's URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(prefix) or rule.endpoint in PUBLIC:
            continue
        if rule.endpoint == "console.logout":
            continue  # it would end the session the rest of the run needs
        found += [(m, rule) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return sorted(found, key=lambda found: (found[1].rule, found[0]))


def _path(rule: Any, draw: Any) -> str:
    args = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            args[name] = draw(st.one_of(st.just(ROUTE_ARGS.get(name, 1)), path_ids))
        else:
            args[name] = draw(st.one_of(st.just(str(ROUTE_ARGS.get(name, "reminder"))), values))
    return str(rule.build(args, append_unknown=False)[1])


@pytest.fixture
def boss(app: Flask) -> Desk:
    desk = Desk(app.test_client())
    desk.sign_in("boss")
    desk.open("/console/agenda")
    return desk


@settings(SETTINGS, max_examples=4)
@given(data=st.data())
def test_any_console_form_is_never_a_5xx_and_loses_nothing(app: Flask, db: Engine, boss, data):
    """Each example sends its own nonsense to every console route."""
    routes = _templates(app, "console.")
    assert len(routes) >= 20
    before = _stored(db)
    crashed = []
    for method, rule in routes:
        path = _path(rule, data.draw)
        fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8))
        extra = data.draw(st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=2))
        form = {**extra, **fields}
        if method == "GET":
            response = boss.client.get(path, query_string=form)
        else:
            token = boss.token()
            headers = {"X-CSRFToken": token}
            form = {**form, "csrf_token": token}
            response = boss.client.open(path, method=method, data=form, headers=headers)
        if response.status_code >= 500:
            crashed.append((method, path, form, response.status_code))
    assert crashed == []
    _nothing_lost(db, before)
    assert boss.open("/console/agenda").status_code == 200  # still signed in, page intact


@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_any_admin_api_call_is_never_a_5xx_and_loses_nothing(app: Flask, db: Engine, data):
    """Each example sends its own path, query, body and user to every admin API route."""
    client = app.test_client()
    token = app.extensions["turnero"]["settings"].admin_token
    routes = _templates(app, "admin_api.")
    assert len(routes) >= 10
    before = _stored(db)
    header = st.text(alphabet=st.characters(exclude_characters="\r\n"), max_size=300)
    queries = st.dictionaries(st.sampled_from(["rule_id", "limit", "x"]), values, max_size=2)
    bodies = st.one_of(
        st.dictionaries(st.sampled_from(API_FIELDS), json_values, max_size=5), json_values
    )
    wrong = []
    for method, rule in routes:
        path = _path(rule, data.draw)
        query = data.draw(queries)
        user = data.draw(st.one_of(st.none(), header))  # HTTP carries no line break in a header
        headers = {"Authorization": f"Bearer {token}"}
        if user is not None:
            headers["X-Turnero-User"] = user.encode("utf-8", "replace").decode("latin-1")
        kind = data.draw(st.sampled_from(["json", "bytes", "none"]))
        body: Any = None
        if kind == "json":
            body = data.draw(bodies)
            response = client.open(
                path, method=method, query_string=query, json=body, headers=headers
            )
        else:
            body = data.draw(st.binary(max_size=200)) if kind == "bytes" else None
            response = client.open(
                path, method=method, query_string=query, data=body, headers=headers
            )
        if response.status_code >= 500 or not (response.status_code == 204 or response.is_json):
            wrong.append((method, path, query, body, response.status_code))
    assert wrong == []
    _nothing_lost(db, before)
