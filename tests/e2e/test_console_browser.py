"""The staff console in a real browser (Debian's chromium driven by Playwright): the desk
signs in, reads the day's agenda, moves an appointment, and sees a booking the bot just
made appear without reloading (the grid's own pictures: test_agenda_grid_browser.py)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.models import Appointment, OutboxMessage
from tests.console_support import NOW, PASSWORD, add_staff, book_at, console_app
from tests.e2e.conftest import served
from tests.support import Clock, add_patient

TODAY_10 = NOW + timedelta(hours=1)  # Tuesday 1 December 2026, 10:00 in Asunción


@pytest.fixture
def live_console(db: Engine, tmp_path, clinic) -> Iterator[str]:
    """The real app on a free local port, polling its feed every second."""
    app = console_app(db, tmp_path, Clock(NOW))
    app.config["CONSOLE_POLL_SECONDS"] = 1
    with served(app) as url:
        yield url


def _a_busy_morning(db: Engine, clinic) -> int:
    people = [
        ("María Pérez", "+595981222333", TODAY_10, "ana", "general", "whatsapp"),
        ("José Gómez", "+595981444555", TODAY_10, "luis", "dentistry", "self_service"),
        (
            "Rosa Giménez",
            "+595981666777",
            TODAY_10 + timedelta(minutes=30),
            "ana",
            "general",
            "phone",
        ),
        (
            "Carlos Ramírez",
            "+595981888999",
            TODAY_10 + timedelta(hours=1),
            "luis",
            "general",
            "desk",
        ),
    ]
    ids = [
        book_at(db, clinic, add_patient(db, clinic.id, phone, name), start, who, service, channel)
        for name, phone, start, who, service, channel in people
    ]
    return ids[0]


def test_the_desk_signs_in_moves_an_appointment_and_sees_new_bookings_arrive(
    chromium,
    live_console: str,
    db: Engine,
    clinic,
):
    add_staff(db, clinic.id, "ana@clinica.example", role="admin")
    maria = _a_busy_morning(db, clinic)
    page = chromium.new_page(viewport={"width": 1100, "height": 760}, locale="es-PY")
    page.goto(f"{live_console}/console/agenda")
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    assert page.get_by_role("heading", name="Agenda · martes 1 de diciembre").is_visible()
    agenda = page.locator("#live")
    assert agenda.get_by_text("María Pérez").is_visible()
    assert agenda.get_by_text("Odontología · Dr. Luis Ortiz").is_visible()

    agenda.get_by_role("link", name="María Pérez").click()
    page.get_by_role("link", name="Cambiar día u hora").click()
    page.get_by_label("Día").fill("2026-12-03")
    page.get_by_role("button", name="Ver horarios").click()
    page.get_by_role("button", name="11:00").click()
    assert "Turno cambiado" in page.get_by_role("status").inner_text()
    with Session(db) as session:
        moved = session.get(Appointment, maria)
        assert moved is not None and moved.starts_at == TODAY_10 + timedelta(days=2, hours=1)
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff_moved"))
        assert "jueves 3 de diciembre a las 11:00" in told.one().body

    page.get_by_role("link", name="Volver a la agenda").click()  # to her new day
    assert page.get_by_role("heading", name="Agenda · jueves 3 de diciembre").is_visible()
    assert agenda.locator("li", has_text="María Pérez").get_by_text("11:00–11:30").is_visible()
    page.get_by_role("link", name="Hoy").click()
    assert agenda.get_by_text("María Pérez").count() == 0
    newcomer = add_patient(db, clinic.id, "+595981000111", "Lucía Acosta")
    book_at(db, clinic, newcomer, TODAY_10 + timedelta(hours=5))  # the bot books meanwhile
    agenda.get_by_text("Lucía Acosta").wait_for(timeout=10_000)  # no reload
    assert page.get_by_role("status").inner_text() == "La agenda se actualizó."
    assert agenda.get_by_text("(4 turnos)").is_visible()  # José, Rosa, Carlos and Lucía


def test_the_desk_cancels_only_after_saying_yes_and_the_patient_is_told(
    chromium: Any, live_console: str, db: Engine, clinic, screenshots: Path
):
    add_staff(db, clinic.id, "ana@clinica.example")
    maria = _a_busy_morning(db, clinic)
    page = chromium.new_page(viewport={"width": 1000, "height": 760}, locale="es-PY")
    page.goto(f"{live_console}/console/login")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.goto(f"{live_console}/console/appointments/{maria}")

    page.get_by_role("link", name="Cancelar el turno").click()
    assert page.get_by_role("heading", name="¿Cancelar este turno?").is_visible()
    page.screenshot(path=str(screenshots / "cancel_check.png"), full_page=True)
    page.get_by_role("link", name="No, volver").click()  # a change of mind
    with Session(db) as session:
        kept = session.get(Appointment, maria)
        assert kept is not None and kept.status == "booked"

    page.get_by_role("link", name="Cancelar el turno").click()
    page.get_by_role("button", name="Sí, cancelar y avisar al paciente").click()
    assert page.get_by_role("status").is_visible()
    with Session(db) as session:
        cancelled = session.get(Appointment, maria)
        assert cancelled is not None and cancelled.status == "cancelled"
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff_cancelled"))
        assert "canceló tu turno de Consulta general" in told.one().body
