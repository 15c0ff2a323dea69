"""The waiting room in a real browser (Debian's chromium driven by Playwright): a patient
checks in at the kiosk by their code and sees their number; the desk's board shows them
waiting and calls next; the waiting room's screen, open all along, shows the number and
the room without a reload. Screenshots: docs/screenshots/kiosk.png, waiting_board.png and
waiting_screen.png."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from store.models import Appointment
from tests.console_support import NOW, PASSWORD, add_staff, book_at
from tests.e2e.conftest import served
from tests.support import Clock, add_patient, make_app


@pytest.fixture
def app(db: Engine, clock: Clock, clinic: Any) -> Any:
    """The real app; its board and screen poll every second, over plain HTTP."""
    app = make_app(db, clock)
    app.config.update(CONSOLE_POLL_SECONDS=1, SCREEN_POLL_SECONDS=1, SESSION_COOKIE_SECURE=False)
    return app


@pytest.fixture
def live(app: Any) -> Iterator[str]:
    with served(app) as url:
        yield url


def test_kiosk_check_in_then_the_board_calls_and_the_screen_shows_it_without_reload(
    chromium: Any, live: str, db: Engine, clinic: Any, screenshots: Path
) -> None:
    add_staff(db, clinic.id, "ana@clinica.example")
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, NOW + timedelta(minutes=30))
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment
        code = appointment.code
    context = chromium.new_context(viewport={"width": 1024, "height": 768}, locale="es-PY")
    kiosk = context.new_page()
    kiosk.goto(f"{live}/console/kiosk")
    kiosk.get_by_label("Usuario").fill("ana@clinica.example")
    kiosk.get_by_label("Contraseña").fill(PASSWORD)
    kiosk.get_by_role("button", name="Ingresar").click()
    kiosk.goto(f"{live}/console/kiosk")
    kiosk.screenshot(path=str(screenshots / "kiosk.png"))

    screen = context.new_page()
    screen.set_viewport_size({"width": 1280, "height": 720})
    screen.goto(f"{live}/console/waiting-room/screen")
    assert screen.locator("#now-number").inner_text() == "—"

    kiosk.get_by_label("Código de tu turno").fill(code.lower())
    kiosk.get_by_role("button", name="Llegué").first.click()
    assert kiosk.locator(".number").inner_text() == "A-001"

    board = context.new_page()
    board.goto(f"{live}/console/waiting-room?room=Consultorio+3")
    assert "A-001" in board.locator(".waiting").inner_text()
    board.get_by_role("button", name="Llamar al siguiente").first.click()
    board.locator(".called").wait_for()
    board.screenshot(path=str(screenshots / "waiting_board.png"), full_page=True)

    screen.locator("#now-number", has_text="A-001").wait_for(timeout=10_000)
    assert "Consultorio 3" in screen.locator("#now-room").inner_text()
    assert "M. P." not in screen.content()  # no initials unless the clinic turns them on
    screen.screenshot(path=str(screenshots / "waiting_screen.png"))
    context.close()
