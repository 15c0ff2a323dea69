"""The console's WhatsApp templates page, through the Flask test client, with the real
twilio client talking to the fake Twilio over HTTP: an admin creates a template from the
clinic's text, WhatsApp decides, a refresh shows it; the front desk gets 403; the
sandbox needs no templates; the automations page warns about the missing ones."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from config.settings import Settings
from store.clinic_templates import set_text
from store.db import transaction
from store.models import Clinic
from tests import support
from tests.console_support import Desk, add_staff, console_app
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio
from webhook import create_app

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PAGE = "/console/whatsapp-templates"
CARE = f"{PAGE}/care/es"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def app(
    db: Engine, tmp_path: Path, clock: Clock, clinic: support.TestClinic, fake: FakeTwilio
) -> Flask:
    settings = Settings(
        secret_key="console-test-secret",
        instance_dir=tmp_path,
        database_url=db.url.render_as_string(hide_password=False),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token,
        twilio_api_url=fake.url,
    )
    return create_app(settings, clock=clock, engine=db)


def signed_in(app: Flask, db: Engine, clinic_id: int, login: str, role: str) -> Desk:
    add_staff(db, clinic_id, login, role=role)
    desk = Desk(app.test_client())
    desk.sign_in(login)
    return desk


@pytest.fixture
def boss(app: Flask, db: Engine, clinic: support.TestClinic) -> Desk:
    return signed_in(app, db, clinic.id, "boss@clinica.example", "admin")


def test_an_admin_creates_a_template_and_sees_whatsapp_approve_it(
    boss: Desk, fake: FakeTwilio
) -> None:
    page = boss.open(PAGE).get_data(as_text=True)
    assert "Plantillas de WhatsApp" in page
    assert f'href="{PAGE}" aria-current="page"' in page  # in the admin's navigation
    assert "Cuidados después de la consulta" in page and "Sin plantilla" in page

    created = boss.submit(CARE)
    assert created.status_code == 303
    page = boss.open(created.headers["Location"]).get_data(as_text=True)
    assert "Plantilla creada y enviada a WhatsApp para su aprobación." in page
    assert "Enviada, esperando aprobación" in page
    [content] = fake.contents
    assert fake.approvals[content["sid"]]["category"] == "UTILITY"

    fake.decide(content["sid"], "approved")
    refreshed = boss.submit(f"{PAGE}/refresh")
    assert refreshed.status_code == 303
    page = boss.open(refreshed.headers["Location"]).get_data(as_text=True)
    assert "Estados actualizados." in page
    assert '<td class="wa-state wa-approved">Aprobada</td>' in page


def test_a_rejection_shows_whatsapps_reason_and_may_be_tried_again(
    boss: Desk, fake: FakeTwilio
) -> None:
    boss.open(PAGE)
    boss.submit(f"{PAGE}/no_show_1/es")
    [content] = fake.contents
    assert fake.approvals[content["sid"]]["category"] == "MARKETING"
    fake.decide(content["sid"], "rejected", "TAG_CONTENT_MISMATCH")
    boss.submit(f"{PAGE}/refresh")

    page = boss.open(PAGE).get_data(as_text=True)
    assert "Rechazada" in page and "Motivo de WhatsApp: TAG_CONTENT_MISMATCH" in page
    assert "Crear de nuevo" in page


def test_a_text_whatsapp_would_reject_is_explained_and_not_sent(
    boss: Desk, fake: FakeTwilio, db: Engine, clinic: support.TestClinic
) -> None:
    with transaction(db) as session:
        own = "Hola {patient_name}, tu turno del {date}: {link}"
        set_text(session, clinic.id, "es", "notification.reminder", own, "test", NOW)
    page = boss.open(PAGE).get_data(as_text=True)
    assert "WhatsApp no acepta un texto que termina con una etiqueta" in page
    assert 'href="/console/templates/es/notification.reminder"' in page

    refused = boss.submit(f"{PAGE}/reminder/es")

    assert refused.status_code == 422
    assert "termina con una etiqueta" in refused.get_data(as_text=True)
    assert fake.contents == []


def test_twilios_refusal_is_a_clear_answer(boss: Desk, fake: FakeTwilio) -> None:
    boss.open(PAGE)
    fake.fail_next_content(1, http_status=400, code=20001)
    refused = boss.submit(CARE)
    assert refused.status_code == 422
    assert "Twilio no aceptó la plantilla" in refused.get_data(as_text=True)


@pytest.mark.parametrize("path", [f"{PAGE}/reply/es", f"{PAGE}/care/fr", f"{PAGE}/nada/es"])
def test_a_kind_or_language_without_templates_is_not_found(
    boss: Desk, fake: FakeTwilio, path: str
) -> None:
    boss.open(PAGE)
    assert boss.submit(path).status_code == 404
    assert fake.contents == []


def test_the_front_desk_is_refused(
    app: Flask, db: Engine, clinic: support.TestClinic, fake: FakeTwilio
) -> None:
    desk = signed_in(app, db, clinic.id, "ana@clinica.example", "staff")
    assert PAGE not in desk.open("/console/agenda").get_data(as_text=True)
    assert desk.open(PAGE).status_code == 403
    desk.open("/console/agenda")
    assert desk.submit(CARE).status_code == 403
    assert desk.submit(f"{PAGE}/refresh").status_code == 403
    assert fake.contents == []


def test_the_automations_page_warns_about_missing_templates(
    boss: Desk, db: Engine, clinic: support.TestClinic, fake: FakeTwilio
) -> None:
    with transaction(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found is not None
        found.survey_enabled = True
    page = boss.open("/console/settings/automations").get_data(as_text=True)
    assert 'id="wa-missing"' in page
    assert "Encuesta de satisfacción · Español" in page
    assert f'href="{PAGE}"' in page

    boss.submit(f"{PAGE}/survey/es")
    fake.decide(fake.contents[0]["sid"], "approved")
    boss.open(PAGE)
    boss.submit(f"{PAGE}/refresh")
    page = boss.open("/console/settings/automations").get_data(as_text=True)
    assert "Encuesta de satisfacción · Español" not in page
    assert "Cuidados después de la consulta · Español" in page  # still missing


def test_the_sandbox_needs_no_templates(
    db: Engine, tmp_path: Path, clock: Clock, clinic: support.TestClinic
) -> None:
    app = console_app(db, tmp_path, clock)
    boss = signed_in(app, db, clinic.id, "boss@clinica.example", "admin")
    page = boss.open(PAGE).get_data(as_text=True)
    assert "las plantillas no hacen falta" in page
    assert "disabled>Crear en Twilio</button>" in page
    assert boss.submit(CARE).status_code == 409
    assert 'id="wa-missing"' not in boss.open("/console/settings/automations").get_data(
        as_text=True
    )
