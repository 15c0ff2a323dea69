"""The self-service page in a real browser (Debian's chromium driven by Playwright): a
patient confirms, moves and cancels an appointment by clicking, against the real app
served on a local port."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.links import self_service_url
from config.settings import Settings
from store.booking import book
from store.db import transaction
from store.models import Appointment, Patient, Service
from tests.e2e.conftest import served
from tests.support import Clock, add_patient, make_clinic
from webhook import create_app

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Tuesday 09:00 in Asunción
WEDNESDAY_10 = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
THURSDAY_10 = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


@pytest.fixture
def live_app(db: Engine, tmp_path) -> Iterator[tuple[str, str, Clock]]:
    """The real app on a free local port; yields its base URL, its secret and its clock."""
    clock = Clock(NOW)
    secret = "browser-test-secret"
    settings = Settings(secret_key=secret, instance_dir=tmp_path, database_url=str(db.url))
    with served(create_app(settings, clock=clock, engine=db)) as url:
        yield url, secret, clock


def _appointment(engine: Engine) -> int:
    clinic = make_clinic(engine)
    patient_id = add_patient(engine, clinic.id, "+595981222333", "María Pérez")
    with transaction(engine) as session:
        appointment = book(
            session,
            clinic_id=clinic.id,
            patient=session.get(Patient, patient_id),
            service=session.get(Service, clinic.services["general"]),
            professional_id=clinic.professionals["ana"],
            starts_at=WEDNESDAY_10,
            source_channel="whatsapp",
            now=NOW - timedelta(days=1),
        )
        return appointment.id or 0


def _stored(engine: Engine, appointment_id: int) -> Appointment:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment


def test_a_patient_confirms_moves_and_cancels_by_clicking(chromium, live_app, db: Engine):
    base, secret, _clock = live_app
    appointment_id = _appointment(db)
    page = chromium.new_page(java_script_enabled=False)  # the page must work without it
    page.goto(self_service_url(base, secret, appointment_id))
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_text("miércoles 2 de diciembre").is_visible()

    page.get_by_role("button", name="Confirmo que voy a ir").click()
    assert page.get_by_role("status").inner_text() == "¡Gracias! Tu asistencia quedó confirmada."
    assert _stored(db, appointment_id).status == "confirmed"

    page.get_by_role("link", name="Cambiar día u horario").click()
    page.get_by_role("link", name="jueves 3 de diciembre").click()
    page.get_by_role("button", name="10:00").click()
    assert "Cambiamos tu turno" in page.get_by_role("status").inner_text()
    moved = _stored(db, appointment_id)
    assert (moved.starts_at, moved.status) == (THURSDAY_10, "booked")

    page.get_by_role("link", name="Cancelar el turno").click()
    assert page.get_by_text("¿Seguro que querés cancelar tu turno?").is_visible()
    page.get_by_role("button", name="Sí, cancelarlo").click()
    assert page.get_by_role("status").inner_text() == "Tu turno quedó cancelado."
    assert _stored(db, appointment_id).status == "cancelled"

    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Cancelled", exact=True).is_visible()
