"""The settings screens in a real browser (Debian's chromium driven by Playwright): an
admin signs in, gives a professional a second interval on Monday, changes a service, and
sees both saved."""

from collections.abc import Iterator
from datetime import time

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.models import Service, WorkingHours
from tests.console_support import NOW, PASSWORD, add_staff, console_app
from tests.e2e.conftest import served
from tests.support import Clock


@pytest.fixture
def live_console(db: Engine, tmp_path, clinic) -> Iterator[str]:
    app = console_app(db, tmp_path, Clock(NOW))
    with served(app) as url:
        yield url


def test_an_admin_adds_a_second_interval_and_edits_a_service(
    chromium, live_console: str, db: Engine, clinic
):
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    page = chromium.new_page(viewport={"width": 1100, "height": 900}, locale="es-PY")
    page.goto(f"{live_console}/console/settings")
    page.get_by_label("Usuario").fill("boss@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    assert page.get_by_role("heading", name="Configuración").is_visible()

    page.get_by_role("link", name="Profesionales").first.click()
    page.get_by_role("link", name="Dr. Luis Ortiz").click()
    monday = page.get_by_role("group", name="Lunes")
    assert monday.get_by_label("Lunes 1: Desde").input_value() == "09:00"
    monday.get_by_label("Lunes 2: Desde").fill("15:00")
    monday.get_by_label("Lunes 2: Hasta").fill("18:30")
    page.get_by_role("button", name="Guardar").click()
    assert page.get_by_role("status").inner_text() == "Cambios guardados."
    assert (
        page.get_by_role("group", name="Lunes").get_by_label("Lunes 2: Hasta").input_value()
        == "18:30"
    )
    with Session(db) as session:
        monday_hours = session.exec(
            select(WorkingHours).where(
                WorkingHours.professional_id == clinic.professionals["luis"],
                WorkingHours.weekday == 0,
            )
        ).all()
    assert sorted((h.start, h.end) for h in monday_hours) == [
        (time(9), time(13)),
        (time(15), time(18, 30)),
    ]

    page.get_by_role("link", name="← Profesionales").click()
    page.get_by_role("link", name="← Configuración").click()
    page.get_by_role("link", name="Servicios").click()
    page.get_by_role("link", name="Odontología").click()
    page.get_by_label("Duración (minutos)").fill("60")
    page.get_by_label("El paciente puede reservarlo por WhatsApp").uncheck()
    page.get_by_role("button", name="Guardar").click()
    assert page.get_by_role("status").inner_text() == "Cambios guardados."
    assert page.get_by_label("Duración (minutos)").input_value() == "60"
    with Session(db) as session:
        dentistry = session.get(Service, clinic.services["dentistry"])
    assert dentistry is not None
    assert (dentistry.duration_minutes, dentistry.self_bookable) == (60, False)
