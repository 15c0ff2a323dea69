"""The WhatsApp simulator in a real browser (Debian's chromium driven by Playwright): a
trainee writes to the demo clinic from the phone-shaped chat; each line goes through the
real webhook, signed like Twilio's, and the bot's answers appear in the chat."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from channel.sandbox import SandboxChannel
from scheduler.worker import run_worker
from store.models import InboundMessage
from tests.console_support import NOW, PASSWORD, add_staff, console_app
from tests.e2e.conftest import served
from tests.support import Clock, make_clinic


@pytest.fixture
def live_sandbox(db: Engine, tmp_path: Path) -> Iterator[str]:
    clock = Clock(NOW)
    app = console_app(db, tmp_path, clock)  # no Twilio credentials: the sandbox
    app.config.update(SESSION_COOKIE_SECURE=False)
    worker = run_worker(db, SandboxChannel(), 0.2, block=False, clock=clock)  # sends replies
    with served(app) as url:
        yield url
    worker.shutdown(wait=True)


def test_a_trainee_books_through_the_simulator(chromium: Any, live_sandbox: str, db: Engine):
    clinic = make_clinic(db)
    add_staff(db, clinic.id, "ana@clinica.example")
    page = chromium.new_page(viewport={"width": 1000, "height": 900}, locale="es-PY")
    page.goto(f"{live_sandbox}/console/login")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Simulador de WhatsApp").click()

    chat = page.locator("#sim-chat")
    page.get_by_label("Mensaje").fill("hola")
    page.get_by_role("button", name="Enviar").click()
    chat.locator("li.theirs").filter(has_text="Consulta general").wait_for(timeout=10_000)
    assert chat.locator("li.mine").inner_text() == "hola"

    page.get_by_label("Mensaje").fill("1")
    page.get_by_role("button", name="Enviar").click()
    chat.locator("li.theirs").nth(1).wait_for(timeout=10_000)
    assert "profesional" in chat.locator("li.theirs").nth(1).inner_text().lower()

    page.get_by_role("button", name="Nota de voz").click()
    chat.locator("li.theirs").nth(2).wait_for(timeout=10_000)
    with Session(db) as session:
        bodies = session.exec(select(InboundMessage.body).order_by(InboundMessage.id)).all()
    assert bodies == ["hola", "1", ""]  # what the webhook stored, as Twilio would send it
