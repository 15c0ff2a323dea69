"""The inbox and the failed-messages panel in a real browser (Debian's chromium driven by
Playwright): the desk pauses the bot for a patient, sees what she writes arrive without a
reload while the bot stays silent, answers by hand, and fixes a wrong number to resend a
failed reminder. The conversation's screenshot goes to docs/screenshots/inbox.png."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from store.db import transaction
from store.models import OutboxMessage, Patient
from store.outbox import enqueue
from tests.console_support import NOW, PASSWORD, add_staff
from tests.e2e.conftest import served
from tests.notification_support import writes
from tests.support import CLINIC_NUMBER, Chat, Clock, add_patient, make_app
from tests.window_support import CONFIRMATION_SID, approve
from turnero.fake_twilio import FakeTwilio

PHONE = "+595981222333"


@pytest.fixture
def app(db: Engine, clock: Clock, clinic) -> Any:
    """The real app, its webhook checking Twilio's signatures; its pages poll every second.
    Served over plain HTTP here, so the session cookie may not insist on HTTPS."""
    app = make_app(db, clock)
    app.config.update(CONSOLE_POLL_SECONDS=1, SESSION_COOKIE_SECURE=False)
    return app


@pytest.fixture
def live_console(app: Any) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def twilio(clock: Clock) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=clock) as fake:
        yield fake


def channel(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)


def sign_in(chromium: Any, url: str) -> Any:
    page = chromium.new_page(viewport={"width": 1000, "height": 900}, locale="es-PY")
    page.goto(f"{url}/console/inbox")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    return page


def test_the_desk_pauses_the_bot_and_answers_by_hand(
    chromium,
    live_console: str,
    app: Any,
    db: Engine,
    clinic,
    twilio: FakeTwilio,
    clock: Clock,
    screenshots: Path,
):
    add_staff(db, clinic.id, "ana@clinica.example")
    add_patient(db, clinic.id, PHONE, "María Pérez")
    maria = Chat(app.test_client(), db, phone=PHONE)
    assert maria.says("hola")  # the bot answers her
    page = sign_in(chromium, live_console)

    assert page.get_by_role("heading", name="Conversaciones").is_visible()
    page.get_by_role("link", name="María Pérez").click()
    assert "Quedan 24 h 0 min" in page.locator("#conversation-status").inner_text()
    page.get_by_role("button", name="Pausar el bot y atender a mano").click()
    assert "Bot en pausa" in page.get_by_role("status").first.inner_text()

    clock.advance(minutes=3)
    assert maria.says("Necesito hablar con alguien por mi receta") == ""  # the bot is silent
    exchange = page.locator("#live")
    exchange.get_by_text("Necesito hablar con alguien por mi receta").wait_for(timeout=10_000)
    assert exchange.locator("li.in").last.get_by_text("Para recepción").is_visible()
    assert page.locator("#conversation-status").get_by_text("Pide atención").is_visible()

    page.get_by_label("Mensaje", exact=True).fill(
        "Hola María, soy Ana de recepción. Ya le paso la receta."
    )
    page.get_by_role("button", name="Enviar").click()
    assert page.get_by_role("status").first.inner_text() == "Mensaje en camino."
    with Session(db) as session:
        [by_hand] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff")).all()
        paused = session.exec(select(Patient.bot_paused)).all()
    assert by_hand.body.startswith("Hola María, soy Ana") and paused == [True]
    assert maria.reply().startswith("Hola María, soy Ana")

    dispatch_due(db, channel(twilio), clock())  # the worker sends it
    exchange.locator("li.by-hand").get_by_text("Enviado a WhatsApp").wait_for(timeout=10_000)
    page.screenshot(path=str(screenshots / "inbox.png"), full_page=True)

    page.get_by_role("button", name="Devolver al bot").click()
    assert page.get_by_role("status").first.inner_text() == "La conversación volvió al bot."
    assert maria.says("hola")  # the bot answers again


def test_the_desk_fixes_a_wrong_number_and_the_confirmation_goes_again(
    chromium, live_console: str, db: Engine, clinic, twilio: FakeTwilio, clock: Clock
):
    wrong = "+595981222334"
    add_staff(db, clinic.id, "ana@clinica.example")
    add_patient(db, clinic.id, wrong, "María Pérez")
    writes(db, clinic.id, wrong, NOW - timedelta(hours=1))  # so it first goes as text
    approve(db, clinic.id, kind="confirmation", sid=CONFIRMATION_SID)  # the new number: template
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic.id,
            idempotency_key="appointment:1:confirmation:booked",
            from_phone=CLINIC_NUMBER,
            to_phone=wrong,
            body="Hola María: le reservamos un turno el miércoles 2 a las 10:00.",
            now=NOW,
            kind="confirmation",
            language="es",
            variables={
                "patient_name": "María",
                "date": "miércoles 2",
                "time": "10:00",
                "professional": "Dra. Ana Benítez",
            },
        )
    twilio.fail_next(1, http_status=400, code=21211)
    dispatch_due(db, channel(twilio), clock())
    page = sign_in(chromium, live_console)

    failed = page.get_by_role("link", name="Mensajes fallidos")
    assert failed.locator(".badge").inner_text() == "1"
    failed.click()
    assert page.get_by_text("El número de teléfono no es válido").is_visible()
    page.get_by_label("Número correcto").fill("0981 222 333")
    page.get_by_role("button", name="Corregir y reenviar").click()
    assert page.get_by_role("status").inner_text() == "Número corregido y mensajes reenviados."
    assert page.get_by_text("No hay mensajes fallidos pendientes.").is_visible()
    assert page.get_by_role("link", name="Mensajes fallidos").locator(".badge").count() == 0

    dispatch_due(db, channel(twilio), clock())
    assert (twilio.messages[-1]["to"], twilio.messages[-1]["content_sid"]) == (
        f"whatsapp:{PHONE}",
        CONFIRMATION_SID,
    )
    with Session(db) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        assert [(r.to_phone, r.status) for r in rows] == [(wrong, "failed"), (PHONE, "queued")]
