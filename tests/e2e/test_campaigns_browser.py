"""A campaign in a real browser (Debian's chromium driven by Playwright), the app sending
through the fake Twilio: the desk picks tomorrow afternoon and Dra. Benítez, sees the
preview's count, who is left out and a sample, confirms with the number, and watches the
results once the worker has sent. Screenshots go to docs/screenshots/ when
TURNERO_SCREENSHOTS names it."""

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from scheduler.worker import dispatch_job
from tests.campaign_support import Person, seat
from tests.console_support import NOW, PASSWORD, add_staff
from tests.e2e import test_whatsapp_templates_browser as with_twilio
from tests.notification_support import channel_for, writes
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio

ASU = ZoneInfo("America/Asuncion")
# the console served with Twilio's credentials, sending to the fake Twilio
fake, live_console = with_twilio.fake, with_twilio.live_console


def tomorrow(hour: int) -> datetime:
    return datetime(2026, 12, 2, hour, tzinfo=ASU)


def test_the_desk_builds_previews_confirms_and_watches_a_campaign(
    chromium: Any, live_console: str, db: Engine, clinic: Any, fake: FakeTwilio, screenshots: Path
) -> None:
    add_staff(db, clinic.id, "ana@clinica.example")
    people = [
        Person("+595981000001", "Rosa Giménez", "es"),
        Person("+595981000002", "Mary Smith", "en"),
        Person("+595981000003", "Berta Baja", "es", (("opted_out", True),)),
    ]
    for hour, person in zip((14, 15, 16), people, strict=True):
        seat(db, clinic, person, tomorrow(hour))
        writes(db, clinic.id, person.phone, NOW)
    seat(db, clinic, Person("+595981000004", "Luis Mañana"), tomorrow(9))  # the morning

    page = chromium.new_page(viewport={"width": 1100, "height": 1400}, locale="es-PY")
    page.goto(f"{live_console}/console/agenda")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Difusiones").click()
    page.get_by_role("link", name="Nueva difusión").click()
    page.get_by_label("Qué mensaje").select_option("campaign_reschedule")
    page.get_by_label("Profesional").select_option(label="Dra. Ana Benítez")
    page.get_by_role("button", name="Mañana a la tarde").click()
    assert (
        page.locator("#recipient-count").inner_text().startswith("2 pacientes reciben el mensaje")
    )
    assert page.locator("#excluded").inner_text() == "1 se dio de baja de los mensajes"
    samples = page.locator(".samples").inner_text()
    assert "no va a poder atenderte" in samples and "will not be able to see you" in samples
    assert page.get_by_text("¿Enviar a 2 pacientes?").is_visible()
    page.screenshot(path=str(screenshots / "campaign-preview.png"), full_page=True)

    page.get_by_role("button", name="Sí, enviar a 2 pacientes").click()
    assert page.locator("#result-recipients").inner_text() == "2"
    dispatch_job(db, channel_for(fake), Clock(NOW))
    assert sorted(m["to"] for m in fake.messages) == [
        "whatsapp:+595981000001",
        "whatsapp:+595981000002",
    ]
    page.reload()
    assert page.locator("#result-sent").inner_text() == "2"
    assert "todo enviado" in page.locator("#campaign-status").inner_text()
    page.screenshot(path=str(screenshots / "campaign-results.png"), full_page=True)
    page.get_by_role("link", name="Difusiones").first.click()
    assert "Pedido de reprogramar" in page.locator("table.campaigns").inner_text()
