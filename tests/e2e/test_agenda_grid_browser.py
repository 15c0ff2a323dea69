"""The agenda's time grid in a real browser (Debian's chromium driven by Playwright):
blocks where their times say, dragging one to a free time moves it (and the patient is
told), dragging it onto a taken time is refused and it stays, a free time opens the desk's
booking form with that time, and "arrived" is marked from the grid. The grid's pictures go
to docs/screenshots/ when TURNERO_SCREENSHOTS says so."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.agenda import add_block_off
from store.db import transaction
from store.models import Appointment, OutboxMessage
from tests.console_support import NOW, PASSWORD, add_staff, book_at, console_app
from tests.e2e.conftest import served
from tests.support import Clock, add_patient

TODAY_10 = NOW + timedelta(hours=1)  # Tuesday 1 December 2026, 10:00 in Asunción
GENERAL = "?service={}"


@pytest.fixture
def live_console(db: Engine, tmp_path: Path, clinic: Any) -> Iterator[str]:
    app = console_app(db, tmp_path, Clock(NOW))
    app.config.update(SESSION_COOKIE_SECURE=False, CONSOLE_POLL_SECONDS=60)
    with served(app) as url:
        yield url


def _morning(db: Engine, clinic: Any) -> dict[str, int]:
    people = [
        ("María Pérez", "+595981222333", TODAY_10, "ana", "general"),
        ("José Gómez", "+595981444555", TODAY_10, "luis", "dentistry"),
        ("Rosa Giménez", "+595981666777", TODAY_10 + timedelta(minutes=30), "ana", "general"),
        ("Carlos Ramírez", "+595981888999", TODAY_10 + timedelta(hours=1), "luis", "general"),
    ]
    found = {
        name.split()[0]: book_at(
            db, clinic, add_patient(db, clinic.id, phone, name), start, who, service
        )
        for name, phone, start, who, service in people
    }
    with transaction(db) as session:
        add_block_off(
            session,
            clinic.id,
            starts_at=TODAY_10 + timedelta(hours=5),
            ends_at=TODAY_10 + timedelta(hours=6),
            professional_id=clinic.professionals["ana"],
            reason="Reunión",
        )
    return found


def _signed_in(chromium: Any, url: str, db: Engine, clinic: Any, path: str) -> Any:
    add_staff(db, clinic.id, "ana@clinica.example")
    page = chromium.new_page(viewport={"width": 1100, "height": 900}, locale="es-PY")
    page.goto(f"{url}{path}")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    # wait for the agenda's load: its grid.css must apply before anything is measured
    with page.expect_navigation():
        page.get_by_role("button", name="Ingresar").click()
    return page


def _column(page: Any, name: str) -> Any:
    return page.locator("section.column", has=page.get_by_role("heading", name=name))


def _stored(db: Engine, appointment_id: int) -> Appointment:
    with Session(db) as session:
        found = session.get(Appointment, appointment_id)
        assert found is not None
        return found


def test_the_grid_places_each_appointment_by_its_time_and_professional(
    chromium: Any, live_console: str, db: Engine, clinic: Any, screenshots: Path
):
    _morning(db, clinic)
    general = GENERAL.format(clinic.services["general"])
    page = _signed_in(chromium, live_console, db, clinic, f"/console/agenda{general}")
    ana, luis = _column(page, "Dra. Ana Benítez"), _column(page, "Dr. Luis Ortiz")
    maria = ana.locator("li", has_text="María Pérez")
    rosa = ana.locator("li", has_text="Rosa Giménez")
    jose = luis.locator("li", has_text="José Gómez")
    assert maria.get_by_text("Reservado").is_visible()  # the status in words, not colour only
    m, r, j = maria.bounding_box(), rosa.bounding_box(), jose.bounding_box()
    assert abs(m["y"] - j["y"]) < 2  # both at 10:00, side by side in their columns
    assert abs(j["x"] - m["x"]) > m["width"] - 2  # in columns of their own
    assert abs(r["y"] - (m["y"] + m["height"])) < 3  # Rosa right after María's half hour
    assert abs(j["height"] - m["height"] * 1.5) < 3  # 45 minutes against 30
    assert ana.get_by_text("Bloqueado: 15:00–16:00 · Reunión").is_visible()
    assert ana.get_by_role("link", name="11:00 libre").is_visible()
    assert luis.get_by_role("link", name="11:00 libre").count() == 0  # Carlos is there
    page.screenshot(path=str(screenshots / "agenda-grid.png"), full_page=True)

    page.get_by_role("link", name="Ver la semana").click()
    week = page.locator("#live")
    tuesday = _column(page, "martes 1 de diciembre")
    assert tuesday.get_by_text("María Pérez").is_visible()
    assert week.locator("section.column").count() == 7
    page.screenshot(path=str(screenshots / "agenda-week.png"), full_page=True)


def test_dragging_an_appointment_to_a_free_time_moves_it_and_the_patient_is_told(
    chromium: Any, live_console: str, db: Engine, clinic: Any
):
    maria = _morning(db, clinic)["María"]
    general = GENERAL.format(clinic.services["general"])
    page = _signed_in(chromium, live_console, db, clinic, f"/console/agenda{general}")
    luis = _column(page, "Dr. Luis Ortiz")
    block = _column(page, "Dra. Ana Benítez").locator("li", has_text="María Pérez")
    block.drag_to(luis.get_by_role("link", name="12:00 libre"))
    luis.locator("li", has_text="María Pérez").wait_for(timeout=10_000)  # no reload
    moved = _stored(db, maria)
    assert moved.starts_at == TODAY_10 + timedelta(hours=2)
    assert moved.professional_id == clinic.professionals["luis"]
    with Session(db) as session:
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff_moved"))
        notice = told.one()
    assert notice.to_phone == "+595981222333"
    assert "12:00" in notice.body and "Dr. Luis Ortiz" in notice.body


def test_dragging_onto_a_taken_time_is_refused_and_the_block_stays(
    chromium: Any, live_console: str, db: Engine, clinic: Any
):
    maria = _morning(db, clinic)["María"]
    general = GENERAL.format(clinic.services["general"])
    page = _signed_in(chromium, live_console, db, clinic, f"/console/agenda{general}")
    ana = _column(page, "Dra. Ana Benítez")
    block = ana.locator("li", has_text="María Pérez")
    where = "e => [e.offsetLeft, e.offsetTop, e.style.transform]"  # within its column
    before = block.evaluate(where)
    block.drag_to(ana.locator("li", has_text="Rosa Giménez"))
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=10_000)
    assert alert.inner_text() == "Ese horario se acaba de ocupar. Elegí otro."
    assert block.evaluate(where) == before  # snapped back
    assert _stored(db, maria).starts_at == TODAY_10
    with Session(db) as session:
        assert session.exec(select(OutboxMessage)).all() == []


def test_a_free_time_opens_the_booking_form_with_that_time(
    chromium: Any, live_console: str, db: Engine, clinic: Any
):
    _morning(db, clinic)
    general = GENERAL.format(clinic.services["general"])
    page = _signed_in(chromium, live_console, db, clinic, f"/console/agenda{general}")
    _column(page, "Dra. Ana Benítez").get_by_role("link", name="11:30 libre").click()
    assert page.get_by_role("heading", name="Nuevo turno").is_visible()
    assert page.get_by_role("status").inner_text() == (
        "Horario elegido en la agenda: martes 1 de diciembre 11:30 con Dra. Ana Benítez. "
        "Completá el paciente y reservalo."
    )
    assert page.get_by_label("Servicio", exact=True).input_value() == str(
        clinic.services["general"]
    )
    page.get_by_label("Teléfono (WhatsApp)").fill("0981 000 111")
    page.get_by_label("Nombre y apellido").fill("Lucía Acosta")
    page.get_by_role("button", name="Ver horarios").click()
    assert page.get_by_label("Profesional").input_value() == str(clinic.professionals["ana"])
    chosen = page.get_by_role("button", name="11:30", exact=True)
    assert chosen.get_attribute("class") == "chosen"
    chosen.click()
    assert page.get_by_role("status").first.inner_text() == "Turno reservado."
    with Session(db) as session:
        booked = session.exec(select(Appointment).order_by(Appointment.id.desc())).first()  # type: ignore[union-attr]
    assert booked is not None
    assert booked.starts_at == TODAY_10 + timedelta(minutes=90)
    assert booked.professional_id == clinic.professionals["ana"]


def test_arrived_is_marked_from_the_grid(chromium: Any, live_console: str, db: Engine, clinic: Any):
    maria = _morning(db, clinic)["María"]
    page = _signed_in(chromium, live_console, db, clinic, "/console/agenda")
    block = _column(page, "Dra. Ana Benítez").locator("li", has_text="María Pérez")
    menu = block.locator("summary")
    assert menu.get_attribute("aria-label") == "Acciones del turno de María Pérez a las 10:00"
    menu.click()
    block.get_by_role("button", name="Llegó").click()
    assert page.get_by_role("status").first.inner_text() == "Marcado: el paciente llegó."
    assert page.get_by_role("heading", name="Agenda · martes 1 de diciembre").is_visible()
    after = _column(page, "Dra. Ana Benítez").locator("li", has_text="María Pérez")
    assert after.get_by_text("En sala").is_visible()
    assert _stored(db, maria).status == "arrived"
