"""The agenda's time grid through the app: a column per professional, appointments placed
by row and lane, closed hours and block-offs shaded, free times that open the desk's
booking form, moves answered as JSON for drag and drop, and "arrived" back to the grid."""

import re
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from store.agenda import add_block_off
from store.db import transaction
from store.models import Appointment, OutboxMessage
from tests.console_support import NOW, Desk, book_at
from tests.support import add_patient, make_clinic

TODAY_10 = NOW + timedelta(hours=1)  # Tuesday 1 December 2026, 10:00 in Asunción
JSON = {"Accept": "application/json"}


def _block(html: str, name: str) -> str:
    found = re.search(rf'<li class="appt ([^"]+)"[^>]*>(?:(?!</li>).)*{name}', html, re.S)
    assert found, name
    return found.group(1)


def _column(html: str, name: str) -> str:
    start = html.index(f">{name}</h3>")
    end = html.find('<section class="column"', start)
    return html[start : end if end > 0 else len(html)]


def test_the_day_is_a_column_per_professional_with_each_appointment_in_its_rows(
    db: Engine, clinic, desk: Desk
):
    book_at(db, clinic, add_patient(db, clinic.id, "+595981222333", "María Pérez"), TODAY_10)
    jose = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    book_at(db, clinic, jose, TODAY_10 + timedelta(minutes=15), "luis", "dentistry")
    html = desk.open(f"/console/agenda?service={clinic.services['general']}").text
    # the day runs from 8:00 (Ana's first hour), five minutes a row
    assert _block(_column(html, "Dra. Ana Benítez"), "María Pérez").split() == [
        "status-booked",
        "r-25",
        "s-6",
        "lane-0-1",
    ]
    assert "r-28 s-9" in _block(_column(html, "Dr. Luis Ortiz"), "José Gómez")
    ana = _column(html, "Dra. Ana Benítez")
    assert '<div class="shade r-49 s-24 closed">' in ana  # her break, 12:00 to 14:00
    luis = _column(html, "Dr. Luis Ortiz")
    assert '<div class="shade r-1 s-12 closed">' in luis  # he starts at 9:00
    assert "10:30 libre" in ana and "10:00 libre" not in ana  # María is there
    assert "at=" in ana and "professional=" in ana


def test_one_professional_chosen_is_one_column(db: Engine, clinic, desk: Desk):
    html = desk.open(f"/console/agenda?professional={clinic.professionals['luis']}").text
    assert html.count('<section class="column"') == 1
    assert ">Dr. Luis Ortiz</h3>" in html


def test_appointments_at_once_in_a_week_column_go_side_by_side(db: Engine, clinic, desk: Desk):
    book_at(db, clinic, add_patient(db, clinic.id, "+595981222333", "María Pérez"), TODAY_10)
    jose = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    book_at(db, clinic, jose, TODAY_10, "luis", "dentistry")
    html = desk.open("/console/agenda?view=week").text
    assert html.count('<section class="column"') == 7
    assert "lane-0-2" in _block(html, "María Pérez") or "lane-0-2" in _block(html, "José Gómez")
    lanes = {_block(html, "María Pérez").split()[-1], _block(html, "José Gómez").split()[-1]}
    assert lanes == {"lane-0-2", "lane-1-2"}


def test_a_block_off_is_shaded_with_its_reason(db: Engine, clinic, desk: Desk):
    with transaction(db) as session:
        add_block_off(
            session,
            clinic.id,
            starts_at=TODAY_10 + timedelta(hours=5),
            ends_at=TODAY_10 + timedelta(hours=6),
            professional_id=None,
            reason="Reunión",
        )
    html = desk.open("/console/agenda").text
    assert html.count("Bloqueado: 15:00–16:00 · Toda la clínica · Reunión") == 2


def test_the_grid_stylesheet_holds_every_row_a_day_can_have(desk: Desk):
    response = desk.open("/console/agenda/grid.css")
    assert response.mimetype == "text/css"
    assert ".r-300{grid-row-start:300}" in response.text
    assert ".lane-1-2{" in response.text


def test_a_service_that_is_not_the_clinics_gets_a_400(db: Engine, desk: Desk):
    other = make_clinic(db, number="+595210000999")
    assert desk.open(f"/console/agenda?service={other.services['general']}").status_code == 400
    assert desk.open("/console/agenda?service=x").status_code == 400


def test_a_move_asked_as_json_answers_whether_it_was_made(db: Engine, clinic, desk: Desk):
    maria = book_at(
        db, clinic, add_patient(db, clinic.id, "+595981222333", "María Pérez"), TODAY_10
    )
    rosa = add_patient(db, clinic.id, "+595981666777", "Rosa Giménez")
    book_at(db, clinic, rosa, TODAY_10 + timedelta(hours=1))
    desk.open("/console/agenda")
    path = f"/console/appointments/{maria}/move"
    ana = clinic.professionals["ana"]
    taken = desk.submit(path, {"slot": f"{ana}|2026-12-01T14:00Z"}, headers=JSON)
    assert taken.status_code == 409
    assert taken.json == {
        "moved": False,
        "notice": "taken",
        "message": "Ese horario se acaba de ocupar. Elegí otro.",
    }
    closed = desk.submit(path, {"slot": f"{ana}|2026-12-01T15:00Z"}, headers=JSON)  # noon
    assert closed.status_code == 409
    with Session(db) as session:
        assert session.exec(select(OutboxMessage)).all() == []
    done = desk.submit(path, {"slot": f"{ana}|2026-12-01T14:30Z"}, headers=JSON)
    assert done.status_code == 200 and done.json["moved"] is True
    with Session(db) as session:
        moved = session.get(Appointment, maria)
        assert moved is not None and moved.starts_at == TODAY_10 + timedelta(minutes=90)
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff_moved"))
        assert "11:30" in told.one().body
    page = desk.submit(path, {"slot": f"{ana}|2026-12-01T16:00Z"})  # the form: a page
    assert page.status_code == 303


def test_arrived_from_the_grid_comes_back_to_the_grid(db: Engine, clinic, desk: Desk):
    maria = book_at(
        db, clinic, add_patient(db, clinic.id, "+595981222333", "María Pérez"), TODAY_10
    )
    html = desk.open("/console/agenda?day=2026-12-01").text
    assert 'name="back" value="/console/agenda?day=2026-12-01"' in html
    done = desk.submit(
        f"/console/appointments/{maria}/arrived", {"back": "/console/agenda?day=2026-12-01"}
    )
    assert done.location == "/console/agenda?day=2026-12-01&notice=done_arrived"
    assert "Marcado: el paciente llegó." in desk.open(done.location).text
    for elsewhere in ("https://evil.example/console/agenda", "//evil.example", "/console/x"):
        away = desk.submit(f"/console/appointments/{maria}/arrived", {"back": elsewhere})
        assert away.location.startswith(f"/console/appointments/{maria}?"), elsewhere


def test_a_free_time_opens_the_booking_form_with_it(db: Engine, clinic, desk: Desk):
    ana = clinic.professionals["ana"]
    general = clinic.services["general"]
    at = f"{ana}|2026-12-01T14:30Z"
    path = f"/console/appointments/new?service={general}&professional={ana}&day=2026-12-01"
    fresh = desk.open(f"{path}&at={at}")
    assert fresh.status_code == 200  # no errors yet: the patient comes first
    assert (
        "Horario elegido en la agenda: martes 1 de diciembre 11:30 con Dra. Ana Benítez"
        in fresh.text
    )
    assert f'name="at" value="{at}"' in fresh.text
    filled = desk.open(f"{path}&at={at}&phone=0981000111&name=Luc%C3%ADa&show=1")
    assert 'class="chosen" autofocus>11:30' in filled.text
    other = make_clinic(db, number="+595210000999")
    stranger = f"{other.professionals['ana']}|2026-12-01T14:30Z"
    assert desk.open(f"{path}&at={stranger}").status_code == 400
    assert desk.open(f"{path}&at=nonsense").status_code == 400


def test_a_drop_the_form_would_never_offer_says_why_it_is_refused(db: Engine, clinic, desk: Desk):
    jose = add_patient(db, clinic.id, "+595981444555", "José Gómez")
    dentistry = book_at(db, clinic, jose, TODAY_10, "luis", "dentistry")
    desk.open("/console/agenda")
    path = f"/console/appointments/{dentistry}/move"
    ana, luis = clinic.professionals["ana"], clinic.professionals["luis"]
    not_hers = desk.submit(path, {"slot": f"{ana}|2026-12-01T17:00Z"}, headers=JSON)
    assert not_hers.status_code == 409
    assert not_hers.json["message"] == "No se puede: ese profesional no atiende este servicio."
    past = desk.submit(path, {"slot": f"{luis}|2026-11-30T13:00Z"}, headers=JSON)
    assert past.json["notice"] == "outside_days"
    assert desk.submit(path, {"slot": f"{ana}|2026-12-01T17:00Z"}).status_code == 400  # the form
