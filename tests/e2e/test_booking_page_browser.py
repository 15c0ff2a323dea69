"""The clinic's booking page in a real browser (Debian's chromium driven by Playwright),
against the real app on a local port: a new patient books "first available" and proves the
number with the WhatsApp message the page wrote, whose confirmation reaches the fake
Twilio; a known patient books for a family member; a full day's waitlist and a request,
without JavaScript; a closed day that offers other days instead; two browsers race for
one time; and every step at 360 pixels passes the console's accessibility walk."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from scheduler.notifications import queue_due_notifications
from store.models import Appointment, AppointmentRequest, AppointmentStatus, WaitlistEntry
from tests.booking_page_support import PAGE, open_page
from tests.console_support import book_at
from tests.e2e.conftest import served
from tests.e2e.test_console_accessibility import PROBLEMS
from tests.support import PUBLIC_URL, Chat, Clock, add_patient, make_app, make_clinic
from turnero.fake_twilio import FakeTwilio

NOW_ISO = "2026-12-01T12:00:00+00:00"  # Tuesday 09:00 in Asunción
PHONE = "+595981444555"
SECRET = "test-secret"
PHONE_WIDTH = {"width": 360, "height": 780}


@pytest.fixture
def clock() -> Clock:
    from datetime import datetime

    return Clock(datetime.fromisoformat(NOW_ISO))


@pytest.fixture
def clinic(db: Engine) -> Any:
    clinic = make_clinic(db)
    open_page(db, clinic.id)
    return clinic


@pytest.fixture
def app(db: Engine, clock: Clock, clinic: Any) -> Flask:
    return make_app(db, clock, secret_key=SECRET)


@pytest.fixture
def site(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url + PAGE


@pytest.fixture
def twilio(clock: Clock) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=clock) as fake:
        yield fake


def _appointments(engine: Engine) -> list[Appointment]:
    with Session(engine) as session:
        return list(session.exec(select(Appointment).order_by(col(Appointment.id))))


def _heading(page: Any, name: str) -> None:
    """Wait for the step whose heading is `name` (with JavaScript it comes in place)."""
    page.get_by_role("heading", name=name).wait_for()


def _clean(page: Any) -> None:
    assert page.evaluate(PROBLEMS) == [], page.url


def _details(page: Any, name: str, phone: str) -> None:
    page.get_by_label("Nombre y apellido").fill(name)
    page.get_by_label("Número de WhatsApp").fill(phone)
    page.get_by_role("button", name="Seguir").click()


def _first_time(page: Any, site: str, service: str = "Consulta general") -> None:
    page.goto(site)
    page.get_by_role("link", name=service).click()
    page.get_by_role("link", name="El primer turno libre, con cualquier profesional").click()
    page.locator("#month ~ ul a:not(.full)").first.click()
    page.locator("#times ~ ul a").first.click()


def test_a_new_patient_books_first_available_and_the_confirmation_reaches_whatsapp(
    chromium: Any,
    site: str,
    app: Flask,
    db: Engine,
    clock: Clock,
    twilio: FakeTwilio,
    screenshots: Path,
) -> None:
    page = chromium.new_page(viewport=PHONE_WIDTH, locale="es-PY")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    first = page.goto(site)
    assert first is not None and len(first.body()) < 60_000
    assert asked == [site]  # the first page is one file: no fonts, styles or scripts to fetch
    page.screenshot(path=screenshots / "booking-1-services.png", full_page=True)
    page.evaluate("window.stayed = true")  # a full load would forget it

    page.get_by_role("link", name="Consulta general").click()
    _heading(page, "¿Con quién?")
    page.screenshot(path=screenshots / "booking-2-professional.png", full_page=True)
    page.get_by_role("link", name="El primer turno libre, con cualquier profesional").click()
    page.locator("#month ~ ul a:not(.full)").first.click()
    _heading(page, "Elegí el día y la hora")
    page.screenshot(path=screenshots / "booking-3-day-and-time.png", full_page=True)
    page.locator("#times ~ ul a").first.click()
    page.screenshot(path=screenshots / "booking-4-details.png", full_page=True)
    _details(page, "Marta Giménez", "0981 444 555")
    _heading(page, "Revisá tu turno")
    page.screenshot(path=screenshots / "booking-5-review.png", full_page=True)
    page.get_by_role("button", name="Confirmar el turno").click()
    _heading(page, "Un paso más: confirmá por WhatsApp")
    page.screenshot(path=screenshots / "booking-6-confirm-on-whatsapp.png", full_page=True)
    assert page.evaluate("window.stayed === true")  # with JavaScript, no step reloaded

    link = page.get_by_role("link", name="Confirmar por WhatsApp").get_attribute("href")
    assert link is not None and link.startswith("https://wa.me/595981000000?text=")
    [message] = parse_qs(urlparse(link).query)["text"]
    Chat(app.test_client(), db, phone=PHONE).says(message)  # the patient sends it

    page.get_by_role("link", name="Ya lo mandé").click()
    _heading(page, "¡Listo, tu turno está reservado!")
    page.screenshot(path=screenshots / "booking-7-booked.png", full_page=True)
    [booked] = _appointments(db)
    assert booked.status == AppointmentStatus.booked and booked.source_channel == "web"
    assert page.get_by_text(booked.code).is_visible()

    queue_due_notifications(db, clock(), base_url=PUBLIC_URL, secret=SECRET)
    dispatch_due(
        db, TwilioChannel(twilio.account_sid, twilio.auth_token, api_url=twilio.url), clock()
    )
    [sent] = [m for m in twilio.messages if booked.code in m["body"]]
    assert sent["to"] == f"whatsapp:{PHONE}" and f"{PUBLIC_URL}/a/" in sent["body"]


def test_a_known_patient_books_for_a_family_member(
    chromium: Any, site: str, db: Engine, clinic: Any
) -> None:
    mother = add_patient(db, clinic.id, PHONE, "Rosa Villalba")
    page = chromium.new_page(viewport=PHONE_WIDTH, locale="es-PY")
    _first_time(page, site)
    _details(page, "Tomás Villalba", "0981444555")
    group = page.get_by_role("group", name="¿Para quién es el turno?")
    assert group.get_by_label("Rosa V.").is_checked()
    group.get_by_label("Otra persona: Tomás Villalba").check()
    page.get_by_role("button", name="Confirmar el turno").click()
    _heading(page, "¡Listo, tu turno está reservado!")
    [booked] = _appointments(db)
    assert booked.status == AppointmentStatus.booked and booked.patient_id != mother


@pytest.mark.parametrize("javascript", [True, False])
def test_a_language_switched_after_a_form_keeps_the_step_and_what_was_typed(
    chromium: Any, site: str, javascript: bool
) -> None:
    page = chromium.new_context(
        java_script_enabled=javascript, viewport=PHONE_WIDTH, locale="es-PY"
    ).new_page()
    _first_time(page, site)
    page.get_by_label("Nombre y apellido").fill("Marta Giménez")
    page.get_by_label("Número de WhatsApp").fill("12")  # wrong: the form comes back
    page.get_by_role("button", name="Seguir").click()
    page.get_by_role("alert").wait_for()
    page.get_by_role("navigation", name="Idioma").get_by_text("English").click()
    _heading(page, "Your details")
    assert page.get_by_label("Full name").input_value() == "Marta Giménez"
    page.get_by_label("WhatsApp number").fill("0981 444 555")
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Check your appointment")
    page.get_by_role("navigation", name="Language").get_by_text("Español").click()
    _heading(page, "Revisá tu turno")
    assert page.get_by_role("heading", name="Marta Giménez").is_visible()
    assert "+595981444555" in page.locator("main").inner_text()


def test_without_javascript_a_full_day_joins_its_waitlist(
    chromium: Any, site: str, app: Flask, db: Engine, clinic: Any
) -> None:
    patient = add_patient(db, clinic.id, "+595981777888", "Rosa Villalba")
    for n in range(8):  # Saturday: Dr. Ortiz alone, 09:00-13:00, every time booked
        start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC) + timedelta(minutes=30 * n)
        book_at(db, clinic, patient, start, who="luis")
    page = chromium.new_context(
        java_script_enabled=False, viewport=PHONE_WIDTH, locale="es-PY"
    ).new_page()
    page.goto(f"{site}/days?service=1&pro=any")
    page.get_by_role("link", name="sábado 5 de diciembre, completo").click()
    assert page.get_by_text("Ese día ya no tiene lugar").is_visible()
    page.get_by_role("link", name="Anotarme en la lista de espera").click()
    _details(page, "Marta Giménez", "0981444555")
    page.get_by_role("button", name="Anotarme en la lista de espera").click()
    link = page.get_by_role("link", name="Confirmar por WhatsApp").get_attribute("href")
    [message] = parse_qs(urlparse(link or "").query)["text"]
    reply = Chat(app.test_client(), db, phone=PHONE).says(message)
    assert "lista de espera" in reply
    with Session(db) as session:
        [entry] = session.exec(select(WaitlistEntry)).all()
    assert str(entry.day) == "2026-12-05" and entry.phone == PHONE
    assert (entry.service_id, entry.professional_id) == (clinic.services["general"], None)


def test_a_closed_day_offers_the_days_with_space_not_a_waitlist(
    chromium: Any, site: str, db: Engine
) -> None:
    page = chromium.new_page(viewport=PHONE_WIDTH, locale="es-PY")
    page.goto(f"{site}/days?service=1&pro=any&day=2026-12-06")  # Sunday: nobody works
    assert page.get_by_text("Ese día no se atiende, así que no tiene lista de espera").is_visible()
    assert page.get_by_role("link", name="Anotarme en la lista de espera").count() == 0
    page.get_by_role("link", name="lunes 7 de diciembre").first.click()
    page.locator("#times ~ ul a").first.wait_for()
    _clean(page)
    with Session(db) as session:
        assert session.exec(select(WaitlistEntry)).all() == []


def test_a_clinic_of_known_patients_turns_a_new_number_into_a_request(
    chromium: Any, site: str, app: Flask, db: Engine, clinic: Any
) -> None:
    open_page(db, clinic.id, only_known_patients=True)
    page = chromium.new_page(viewport=PHONE_WIDTH, locale="es-PY")
    _first_time(page, site)
    _details(page, "Marta Giménez", "0981444555")
    _heading(page, "Pedí tu turno")
    page.get_by_role("button", name="Enviar el pedido").click()
    link = page.get_by_role("link", name="Confirmar por WhatsApp").get_attribute("href")
    [message] = parse_qs(urlparse(link or "").query)["text"]
    assert "llegó a la recepción" in Chat(app.test_client(), db, phone=PHONE).says(message)
    page.get_by_role("link", name="Ya lo mandé").click()
    _heading(page, "Tu pedido llegó a la recepción")
    with Session(db) as session:
        [request] = session.exec(select(AppointmentRequest)).all()
    assert request.patient_name == "Marta Giménez" and _appointments(db) == []


def test_two_browsers_race_for_one_time_and_exactly_one_wins(
    chromium: Any, site: str, db: Engine
) -> None:
    pages = []
    for name, phone in [("Marta Giménez", "0981444555"), ("Rosa Villalba", "0982555666")]:
        page = chromium.new_context(viewport=PHONE_WIDTH, locale="es-PY").new_page()
        _first_time(page, site)
        _details(page, name, phone)
        pages.append(page)
    for page in pages:  # both clicks leave before either answer comes back
        page.get_by_role("button", name="Confirmar el turno").click(no_wait_after=True)
    headings = []
    for page in pages:
        page.wait_for_selector("h1:not(:has-text('Revisá'))")
        headings.append(page.locator("h1").inner_text())
    assert sorted(headings) == ["Elegí el día y la hora", "Un paso más: confirmá por WhatsApp"]
    loser = pages[headings.index("Elegí el día y la hora")]
    assert loser.get_by_text("Ese horario se acaba de ocupar").is_visible()
    [held] = _appointments(db)
    assert held.status == AppointmentStatus.held


def test_every_step_at_360_pixels_passes_the_accessibility_walk(
    chromium: Any, site: str, app: Flask, db: Engine
) -> None:
    page = chromium.new_page(viewport=PHONE_WIDTH, locale="es-PY")
    page.goto(site)
    _clean(page)
    steps = [
        (lambda: page.get_by_role("link", name="Consulta general").click(), "¿Con quién?"),
        (
            lambda: page.get_by_role(
                "link", name="El primer turno libre, con cualquier profesional"
            ).click(),
            "Elegí el día y la hora",
        ),
        (lambda: page.locator("#month ~ ul a:not(.full)").first.click(), "Elegí el día y la hora"),
        (lambda: page.locator("#times ~ ul a").first.click(), "Tus datos"),
        (  # refused: the fields say why
            lambda: (_details(page, "A", "123"), page.get_by_role("alert").wait_for()),
            "Tus datos",
        ),
        (lambda: _details(page, "Marta Giménez", "0981444555"), "Revisá tu turno"),
        (
            lambda: page.get_by_role("button", name="Confirmar el turno").click(),
            "Un paso más: confirmá por WhatsApp",
        ),
    ]
    for act, heading in steps:
        act()
        _heading(page, heading)
        _clean(page)
    page.goto(f"{site}/days?service=1&pro=any&day=2026-12-02")
    page.locator("#times").wait_for()
    _clean(page)
    for language, heading in [("en", "What would you like to book?"), ("gn", "Mba'e turno")]:
        page.goto(f"{site}?lang={language}")
        _heading(page, heading)
        _clean(page)
    page.goto(f"{site.rsplit('/', 1)[0]}/nadie")
    _heading(page, "No encontramos esta página")
    _clean(page)
