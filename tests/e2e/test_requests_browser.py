"""An appointment request from start to finish in a real browser (Debian's chromium driven
by Playwright): a new number asks for an appointment through the signed webhook at a clinic
that books known patients only; the desk signs in, sees the badge, opens the request,
picks a free time and accepts; the agenda shows the appointment and the patient's message
leaves through the outbox."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from store.db import transaction
from store.models import Clinic
from tests.console_support import PASSWORD, add_staff
from tests.e2e.conftest import served
from tests.support import Chat, Clock, make_app, make_clinic
from turnero.fake_twilio import FakeTwilio

PHONE = "+595981222333"


@pytest.fixture
def clinic(db: Engine):
    clinic = make_clinic(db)
    with transaction(db) as session:
        session.execute(
            update(Clinic).where(col(Clinic.id) == clinic.id).values(only_known_patients=True)
        )
    return clinic


@pytest.fixture
def app(db: Engine, clock: Clock, clinic) -> Any:
    """Served over plain HTTP here, so the session cookie may not insist on HTTPS."""
    app = make_app(db, clock)
    app.config.update(SESSION_COOKIE_SECURE=False)
    return app


@pytest.fixture
def live_console(app: Any) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def twilio(clock: Clock) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=clock) as fake:
        yield fake


def test_the_desk_accepts_an_appointment_request(
    chromium, live_console: str, app: Any, db: Engine, clinic, twilio: FakeTwilio, clock: Clock
):
    add_staff(db, clinic.id, "ana@clinica.example")
    rosa = Chat(app.test_client(), db, phone=PHONE)
    assert "¿Querés pedir un turno?" in rosa.says("hola")
    for answer in ("sí", "Rosa Giménez", "1", "el miércoles a la mañana"):
        rosa.says(answer)
    assert "👤 Rosa Giménez" in rosa.says("Es mi primera consulta")
    assert "llegó a la recepción" in rosa.says("sí")

    page = chromium.new_page(viewport={"width": 1000, "height": 900}, locale="es-PY")
    page.goto(f"{live_console}/console/agenda")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    requests = page.get_by_role("link", name="Pedidos de turno")
    assert requests.locator(".badge").inner_text() == "1"
    requests.click()
    card = page.get_by_role("listitem").filter(has_text="Rosa Giménez")
    assert card.get_by_text("el miércoles a la mañana").is_visible()
    assert card.get_by_text("Es mi primera consulta").is_visible()
    card.get_by_role("link", name="Responder").click()

    assert page.get_by_role("heading", name="Aceptar: elegir un horario").is_visible()
    page.get_by_label("Día").fill("2026-12-02")
    page.get_by_label("Profesional").select_option(label="Dra. Ana Benítez")
    page.get_by_role("button", name="Ver horarios").click()
    page.get_by_role("button", name="10:00", exact=True).click()
    assert "Pedido aceptado" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("link", name="Pedidos de turno").locator(".badge").count() == 0

    page.get_by_role("link", name="Ver el turno").click()
    page.get_by_role("link", name="Volver a la agenda").click()
    day = page.locator(".appt").filter(has_text="Rosa Giménez")
    assert "10:00" in day.inner_text() and "Dra. Ana Benítez" in day.inner_text()

    told = rosa.reply()
    assert "aceptó tu pedido de turno" in told and "miércoles 2 de diciembre a las 10:00" in told
    dispatch_due(
        db, TwilioChannel(twilio.account_sid, twilio.auth_token, api_url=twilio.url), clock()
    )
    [sent] = [m for m in twilio.messages if "aceptó tu pedido" in m["body"]]
    assert sent["to"] == f"whatsapp:{PHONE}"
