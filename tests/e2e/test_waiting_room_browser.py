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

from store import queues
from store.db import transaction
from store.models import Appointment, Clinic
from tests.console_support import NOW, PASSWORD, add_staff, book_at
from tests.e2e.conftest import served
from tests.support import Clock, add_patient, make_app
from usecases import waiting_room


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
    patient = add_patient(db, clinic.id, "+595981222333", "María Pérez")
    appointment_id = book_at(db, clinic, patient, NOW + timedelta(minutes=30))
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment
        code = appointment.code
    kiosk = signed_in(chromium, live, db, clinic)
    kiosk.set_viewport_size({"width": 1024, "height": 768})
    context = kiosk.context
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


def signed_in(chromium: Any, live: str, db: Engine, clinic: Any) -> Any:
    add_staff(db, clinic.id, "ana@clinica.example")
    context = chromium.new_context(viewport={"width": 1280, "height": 720}, locale="es-PY")
    page = context.new_page()
    page.goto(f"{live}/console/login")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    return page


def walk_ins(db: Engine, clinic: Any, count: int) -> str:
    """`count` walk-ins in the first queue (no phone); the queue's key."""
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found
        queue = queues.queues(session, clinic.id, queues.rules(session, clinic.id))[0]
        for _ in range(count):
            waiting_room.walk_in(session, found, queue, None, "es", NOW)
        return queue.key


def test_calls_faster_than_the_screen_polls_are_each_announced_in_order(
    chromium: Any, live: str, db: Engine, clinic: Any
) -> None:
    screen = signed_in(chromium, live, db, clinic)
    screen.goto(f"{live}/console/waiting-room/screen")
    screen.evaluate(
        """() => {
        window.shown = [];
        const number = document.getElementById("now-number");
        new MutationObserver(() => window.shown.push(number.textContent))
          .observe(number, { childList: true, characterData: true, subtree: true });
    }"""
    )
    key = walk_ins(db, clinic, 4)
    with transaction(db) as session:  # four calls in well under a poll
        found = session.get(Clinic, clinic.id)
        assert found
        for room in ("Box 1", "Box 2", "Box 3", "Box 4"):
            waiting_room.call_next(session, found, key, "staff:ana", room, NOW)
    screen.wait_for_function("() => window.shown.length >= 4", timeout=15_000)
    assert screen.evaluate("window.shown") == ["A-001", "A-002", "A-003", "A-004"]
    assert "Box 4" in screen.locator("#now-room").inner_text()
    assert screen.locator("#before li").all_inner_texts()[0].startswith("A-003")


def test_a_board_whose_feed_fails_reconnects_and_updates_without_reload(
    chromium: Any, live: str, db: Engine, clinic: Any
) -> None:
    board = signed_in(chromium, live, db, clinic)
    board.goto(f"{live}/console/waiting-room?room=Box+1")
    board.evaluate("window.sameLoad = true")
    failures: list[str] = []

    def unavailable(route: Any) -> None:
        failures.append(route.request.url)
        route.fulfill(status=503, body="unavailable")

    board.route("**/console/waiting-room/feed**", unavailable)
    note = board.locator("#live-reconnecting")
    note.wait_for(state="visible", timeout=10_000)
    assert "reintentando" in note.inner_text()
    walk_ins(db, clinic, 1)
    board.wait_for_timeout(2_500)  # it keeps trying while the feed fails
    assert len(failures) >= 2
    board.unroute("**/console/waiting-room/feed**")
    board.locator(".waiting", has_text="A-001").wait_for(timeout=20_000)
    note.wait_for(state="hidden", timeout=5_000)
    assert board.evaluate("window.sameLoad") is True  # no reload
