"""The template editor in a real browser (Debian's chromium driven by Playwright): an
admin opens a template, types a new text and watches the live preview follow, saves it,
sees the change in the history, reverts it and sees the text back; a text with an
unknown tag is refused with the reason. The editor's screenshot goes to
docs/screenshots/templates.png. The list of texts is searched by name or by what they
say (templates-page.png)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine
from sqlmodel import Session

from store.clinic_templates import overrides
from tests.console_support import NOW, PASSWORD, add_staff
from tests.e2e.conftest import served
from tests.support import Clock, make_app

DEFAULT = "¿Cuál es el nombre y apellido del paciente?"


@pytest.fixture
def live_console(db: Engine, clinic) -> Iterator[str]:
    app = make_app(db, Clock(NOW))
    app.config.update(SESSION_COOKIE_SECURE=False)  # plain HTTP here
    with served(app) as url:
        yield url


def own(db: Engine, clinic_id: int) -> dict[str, str]:
    with Session(db) as session:
        return overrides(session, clinic_id, "es")


def sign_in(chromium: Any, url: str) -> Any:
    page = chromium.new_page(viewport={"width": 1100, "height": 1000}, locale="es-PY")
    page.goto(f"{url}/console/templates")
    page.get_by_label("Usuario").fill("boss@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    # wait for the page's load: a search typed before its script runs filters nothing
    with page.expect_navigation():
        page.get_by_role("button", name="Ingresar").click()
    return page


def test_an_admin_edits_a_template_with_its_preview_then_reverts_it(
    chromium, live_console: str, db: Engine, clinic, screenshots: Path
):
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    page = sign_in(chromium, live_console)
    assert page.get_by_role("heading", name="Mensajes y flujos").is_visible()
    page.get_by_text("Reservar un turno").click()  # its group, closed at first
    page.get_by_role("link", name="booking.ask_name").click()
    page.wait_for_load_state()

    preview = page.locator("#preview")
    assert preview.inner_text() == DEFAULT
    expect(page.get_by_role("button", name="Ver vista previa")).to_be_hidden()  # live instead
    text = page.get_by_label("Texto del mensaje")
    text.fill("¡Bienvenida a {clinic_name}! ¿Cómo se llama el paciente?")
    expect(preview).to_have_text(  # the preview follows the typing, no page load
        "¡Bienvenida a Clínica Test! ¿Cómo se llama el paciente?", timeout=10_000
    )

    text.fill("Hola {nombre}")  # the preview says why this cannot go
    alert = page.locator("#problems")
    alert.get_by_text("Este mensaje no ofrece estas etiquetas: {nombre}.").wait_for(timeout=10_000)
    page.get_by_role("button", name="Guardar").click()
    assert page.get_by_text("Este mensaje no ofrece estas etiquetas: {nombre}.").is_visible()
    assert own(db, clinic.id) == {}  # refused: nothing saved

    page.get_by_label("Texto del mensaje").fill("¡Bienvenida a {clinic_name}! ¿Cómo se llama?")
    page.get_by_role("button", name="Guardar").click()
    assert "Texto guardado" in page.get_by_role("status").inner_text()
    assert own(db, clinic.id) == {
        "booking.ask_name": "¡Bienvenida a {clinic_name}! ¿Cómo se llama?"
    }
    history = page.locator("table.changes")
    row = history.locator("tbody tr").first
    assert "boss@clinica.example" in row.inner_text()
    assert "(texto original)" in row.inner_text()
    assert "¡Bienvenida a {clinic_name}! ¿Cómo se llama?" in row.inner_text()
    assert preview.inner_text() == "¡Bienvenida a Clínica Test! ¿Cómo se llama?"
    page.screenshot(path=str(screenshots / "templates.png"), full_page=True)

    row.get_by_role("button", name="Revertir").click()
    assert page.get_by_role("status").inner_text() == "Cambio revertido."
    assert page.get_by_label("Texto del mensaje").input_value() == DEFAULT
    assert preview.inner_text() == DEFAULT
    assert history.locator("tbody tr").count() == 2
    assert own(db, clinic.id) == {}

    page.get_by_role("link", name="Mensajes y flujos").first.click()
    assert page.locator(".tag.changed").count() == 0


def test_a_search_narrows_the_list_to_the_texts_that_match(
    chromium, live_console: str, db: Engine, clinic, screenshots: Path
):
    add_staff(db, clinic.id, "boss@clinica.example", role="admin")
    page = sign_in(chromium, live_console)
    texts = page.locator("ul.texts li")
    everything = texts.count()
    assert everything > 90
    assert page.get_by_role("link", name="booking.ask_name").is_hidden()  # groups closed
    page.get_by_label("Buscar un mensaje").fill("recordatorio")
    expect(page.locator("ul.texts li:visible")).to_have_count(7)  # as it is typed
    page.get_by_role("button", name="Buscar").click()  # and from the server
    assert page.get_by_role("status").inner_text().startswith("7 mensajes coinciden")
    assert texts.count() == 7
    reminder = page.get_by_role("link", name="Recordatorio del turno notification.reminder")
    assert reminder.is_visible()  # the groups that hold a match are open
    assert page.get_by_role("link", name="booking.ask_name").count() == 0
    page.screenshot(path=str(screenshots / "templates-page.png"), full_page=True)
    page.get_by_role("link", name="Ver todos").click()
    assert texts.count() == everything
