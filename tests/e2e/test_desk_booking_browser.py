"""Booking at the desk in a real browser (Debian's chromium driven by Playwright): a
patient calls, the desk opens the agenda, starts a new appointment, fills in the phone, the
name and the service, picks a free time and sees the appointment booked."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.models import Appointment, Patient
from tests.console_support import NOW, PASSWORD, add_staff, console_app
from tests.e2e.conftest import served
from tests.support import Clock, make_clinic


@pytest.fixture
def live_console(db: Engine, tmp_path: Any) -> Iterator[tuple[str, Any]]:
    clinic = make_clinic(db)
    app = console_app(db, tmp_path, Clock(NOW))
    app.config.update(SESSION_COOKIE_SECURE=False)
    with served(app) as url:
        yield url, clinic


def test_the_desk_books_a_caller(chromium: Any, live_console: tuple[str, Any], db: Engine):
    url, clinic = live_console
    add_staff(db, clinic.id, "ana@clinica.example")
    page = chromium.new_page(viewport={"width": 1000, "height": 900}, locale="es-PY")
    page.goto(f"{url}/console/login")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Nuevo turno").click()
    page.get_by_label("Teléfono (WhatsApp)").fill("0981 222 333")
    page.get_by_label("Nombre y apellido").fill("Rosa Giménez")
    page.get_by_label("Servicio", exact=True).select_option(label="Consulta general")
    page.get_by_label("Cómo lo pidió").select_option(label="Teléfono")
    page.get_by_role("button", name="Ver horarios").click()

    page.get_by_label("Día").fill("2026-12-02")
    page.get_by_label("Profesional").select_option(label="Dra. Ana Benítez")
    page.get_by_role("button", name="Ver horarios").last.click()
    page.get_by_role("button", name="10:00", exact=True).click()
    assert page.get_by_role("status").first.inner_text() == "Turno reservado."

    with Session(db) as session:
        [appointment] = session.exec(select(Appointment)).all()
        patient = session.get(Patient, appointment.patient_id)
    assert appointment.source_channel == "phone"
    assert appointment.professional_id == clinic.professionals["ana"]
    assert patient is not None
    assert (patient.name, patient.phone) == ("Rosa Giménez", "+595981222333")
