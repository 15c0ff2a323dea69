"""The WhatsApp templates page in a real browser (Debian's chromium driven by Playwright),
the app talking to the fake Twilio over HTTP: an admin creates the care message's
template, WhatsApp approves it at the fake, a refresh shows it approved. The page's
screenshot goes to docs/screenshots/ when TURNERO_SCREENSHOTS names it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from tests.console_support import NOW, PASSWORD, add_staff
from tests.e2e.conftest import served
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio
from webhook import create_app


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def live_console(db: Engine, tmp_path: Path, clinic: Any, fake: FakeTwilio) -> Iterator[str]:
    settings = Settings(
        secret_key="console-test-secret",
        instance_dir=tmp_path,
        database_url=db.url.render_as_string(hide_password=False),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token,
        twilio_api_url=fake.url,
    )
    with served(create_app(settings, clock=Clock(NOW), engine=db)) as url:
        yield url


def test_an_admin_creates_a_template_and_sees_it_approved(
    chromium: Any, live_console: str, db: Engine, clinic: Any, fake: FakeTwilio, screenshots: Path
) -> None:
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    page = chromium.new_page(viewport={"width": 1100, "height": 900}, locale="es-PY")
    page.goto(f"{live_console}/console/agenda")
    page.get_by_label("Usuario").fill("boss@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Plantillas de WhatsApp").click()
    assert page.get_by_role("heading", name="Plantillas de WhatsApp").is_visible()
    care = page.locator("#wa-care-es")
    assert care.locator(".wa-state").inner_text() == "Sin plantilla"
    care.get_by_role("button", name="Crear en Twilio").click()
    assert page.get_by_role("status").inner_text() == (
        "Plantilla creada y enviada a WhatsApp para su aprobación."
    )
    care = page.locator("#wa-care-es")
    assert care.locator(".wa-state").inner_text() == "Enviada, esperando aprobación"

    [content] = fake.contents
    fake.decide(content["sid"], "approved")
    page.get_by_role("button", name="Consultar a WhatsApp").click()
    assert page.get_by_role("status").inner_text() == "Estados actualizados."
    assert page.locator("#wa-care-es .wa-state").inner_text() == "Aprobada"
    page.screenshot(path=str(screenshots / "whatsapp-templates.png"), full_page=True)
