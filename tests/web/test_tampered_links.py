"""Property: a self-service link someone tampered with — random text, a valid link with
one character changed, one signed with another key, one whose appointment has ended —
gets a clear 4xx page on every one of the page's routes, never a 500, never another
patient's appointment, and changes nothing. Derandomized and bounded."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.links import appointment_id_from, appointment_token
from store.models import Appointment
from tests import hostile, support
from tests.support import Clock, add_patient
from tests.web.test_self_service import NOW as NOW
from tests.web.test_self_service import SECRET, THURSDAY_10, WEDNESDAY_10, book_at
from tests.web.test_self_service import client as client

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
ROUTES = [
    ("GET", ""), ("GET", "/cancel"), ("GET", "/reschedule"), ("GET", "/calendar.ics"),
    ("POST", "/confirm"), ("POST", "/cancel"), ("POST", "/reschedule"),
]  # fmt: skip
SETTINGS = settings(hostile.BOUNDED, max_examples=25)


@pytest.fixture
def booked(db: Engine, clinic: support.TestClinic) -> dict[int, str]:
    """María's and Rosa's appointments: id → the patient's name."""
    maria = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    rosa = add_patient(db, clinic.id, "+595981444555", "Rosa Giménez")
    return {
        book_at(db, clinic, maria, WEDNESDAY_10): "María Pérez",
        book_at(db, clinic, rosa, THURSDAY_10): "Rosa Giménez",
    }


def _one_changed(draw: st.DrawFn, token: str) -> str:
    at = draw(st.integers(min_value=0, max_value=len(token) - 1))
    new = draw(st.sampled_from(ALPHABET).filter(lambda ch: ch != token[at]))
    return token[:at] + new + token[at + 1 :]


@st.composite
def tampered(draw: st.DrawFn, ids: list[int]) -> tuple[str, bool]:
    """A token no one issued (or one whose appointment has ended, flagged True); never
    empty and without "/", or it would name another path rather than a link."""
    own = appointment_token(SECRET, draw(st.sampled_from(ids)))
    kind = draw(st.sampled_from(["random", "bytes", "one", "key", "ended", "ended-one"]))
    if kind == "random":
        return draw(st.text(min_size=1, max_size=120).filter(lambda t: "/" not in t)), False
    if kind == "bytes":
        raw = draw(st.binary(min_size=1, max_size=80).filter(lambda b: b"/" not in b))
        return raw.decode("latin-1"), False
    if kind == "key":
        key = draw(st.text(min_size=1, max_size=40).filter(lambda k: k != SECRET))
        return appointment_token(key, draw(st.sampled_from(ids))), False
    if kind == "one":
        return _one_changed(draw, own), False
    if kind == "ended":
        return own, True
    return _one_changed(draw, own), True


def _states(db: Engine) -> dict[int, tuple[str, object]]:
    with Session(db) as session:
        return {a.id or 0: (a.status, a.starts_at) for a in session.exec(select(Appointment))}


@SETTINGS
@given(data=st.data())
def test_a_tampered_link_gets_a_clear_4xx_and_no_ones_appointment(
    client: FlaskClient, db: Engine, clock: Clock, booked: dict[int, str], data
) -> None:
    token, ended = data.draw(tampered(list(booked)))
    clock.now = THURSDAY_10 + timedelta(hours=1) if ended else NOW
    named = appointment_id_from(SECRET, token)  # a change base64 ignores may still verify
    before = _states(db)
    for method, action in ROUTES:
        path = "/a/" + quote(token, safe="") + action
        form = data.draw(st.dictionaries(st.sampled_from(["form_key", "slot", "day"]), st.text()))
        response = client.open(path, method=method, data=form if method == "POST" else None)
        page = response.get_data(as_text=True)
        assert response.status_code < 500, (method, path, response.status_code)
        if named in booked and not ended:
            others = [name for id_, name in booked.items() if id_ != named]
            assert not any(name in page for name in others), (method, path)
            continue
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert not any(name in page for name in booked.values()), (method, path)
    assert _states(db) == before
