"""The WhatsApp connection page in a real browser (Debian's chromium driven by
Playwright), the app sending through the fake Twilio: an admin sees the sender
configured, sends a test message to a phone and watches its status change on the page;
on Twilio's sandbox, the QR the browser shows reads back as the chat with its join text.
The page's screenshot goes to docs/screenshots/ when TURNERO_SCREENSHOTS names it."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import Engine, update
from sqlmodel import col

from config.settings import Settings
from scheduler.worker import dispatch_job
from store.db import transaction
from store.models import Clinic
from tests.console_support import NOW, PASSWORD, add_staff
from tests.e2e import test_whatsapp_templates_browser as with_twilio
from tests.e2e.conftest import served
from tests.notification_support import channel_for
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio
from webhook import create_app

# the console served with Twilio's credentials, sending to the fake Twilio
fake, live_console = with_twilio.fake, with_twilio.live_console
SANDBOX = "+14155238886"  # Twilio's WhatsApp sandbox
QR_ALT = "Código QR: chat con el sandbox de Twilio con «join happy-tiger» escrito"


def test_an_admin_sends_a_test_message_and_sees_it_go(
    chromium: Any, live_console: str, db: Engine, clinic: Any, fake: FakeTwilio, screenshots: Path
) -> None:
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    page = chromium.new_page(viewport={"width": 1100, "height": 900}, locale="es-PY")
    page.goto(f"{live_console}/console/agenda")
    page.get_by_label("Usuario").fill("boss@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Conexión de WhatsApp").click()
    assert page.locator("#configured").inner_text().startswith("Sí")
    assert page.locator("#last-inbound").inner_text() == "todavía ninguno"
    page.get_by_label("Teléfono (con WhatsApp)").fill("+595 981 555 123")
    page.get_by_role("button", name="Enviar prueba").click()
    assert page.locator(".test-status").inner_text() == "En cola"
    dispatch_job(db, channel_for(fake), Clock(NOW))
    [sent] = fake.messages
    assert sent["to"] == "whatsapp:+595981555123" and "conexión con WhatsApp" in sent["body"]
    page.reload()
    assert page.locator(".test-status").inner_text() == "Enviado a WhatsApp"
    page.screenshot(path=str(screenshots / "whatsapp-connection.png"), full_page=True)


@pytest.fixture
def sandbox_console(db: Engine, tmp_path: Path, clinic: Any, fake: FakeTwilio) -> Iterator[str]:
    """The console of a clinic on Twilio's WhatsApp sandbox, whose join code is set."""
    with transaction(db) as session:
        session.execute(
            update(Clinic).where(col(Clinic.id) == clinic.id).values(whatsapp_number=SANDBOX)
        )
    settings = Settings(
        secret_key="console-test-secret",
        instance_dir=tmp_path,
        database_url=db.url.render_as_string(hide_password=False),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token,
        twilio_api_url=fake.url,
        twilio_sandbox_code="happy-tiger",
    )
    with served(create_app(settings, clock=Clock(NOW), engine=db)) as url:
        yield url


def test_on_the_sandbox_the_page_shows_a_qr_a_phone_can_scan(
    chromium: Any, sandbox_console: str, db: Engine, clinic: Any, screenshots: Path
) -> None:
    """The code as the browser draws it, read back from the screen."""
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    page = chromium.new_page(viewport={"width": 390, "height": 844}, locale="es-PY")
    page.goto(f"{sandbox_console}/console/agenda")
    page.get_by_label("Usuario").fill("boss@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.goto(f"{sandbox_console}/console/whatsapp")
    qr = page.get_by_role("img", name=QR_ALT)
    qr.scroll_into_view_if_needed()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    drawn = Image.open(io.BytesIO(qr.screenshot())).convert("L")
    [found] = zxingcpp.read_barcodes(drawn)
    assert found.text == "https://wa.me/14155238886?text=join%20happy-tiger"
    page.screenshot(path=str(screenshots / "whatsapp-connection-sandbox.png"), full_page=True)
