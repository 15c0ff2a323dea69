"""The WhatsApp connection page in a real browser (Debian's chromium driven by
Playwright), the app sending through the fake Twilio: an admin sees the sender
configured, sends a test message to a phone and watches its status change on the page.
The page's screenshot goes to docs/screenshots/ when TURNERO_SCREENSHOTS names it."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from scheduler.worker import dispatch_job
from tests.console_support import NOW, PASSWORD, add_staff
from tests.e2e import test_whatsapp_templates_browser as with_twilio
from tests.notification_support import channel_for
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio

# the console served with Twilio's credentials, sending to the fake Twilio
fake, live_console = with_twilio.fake, with_twilio.live_console


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
