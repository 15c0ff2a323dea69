"""The WhatsApp simulator: in the sandbox a staff member's line is signed by the console,
posted to the real webhook like Twilio's, and the bot's answer is read back; with real
Twilio credentials the simulator does not exist."""

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlmodel import select
from twilio.request_validator import RequestValidator

from channel.sandbox import SandboxChannel
from scheduler.dispatcher import dispatch_due
from store.db import transaction
from store.models import OutboxMessage, OutboxStatus
from tests.console_support import Desk, add_staff, console_app
from tests.support import CLINIC_NUMBER, Clock, make_app, make_clinic
from tests.window_support import queue_message
from web.console.simulator import practice_phone


@pytest.fixture
def clinic_id(db: Engine) -> int:
    return make_clinic(db).id


@pytest.fixture
def sandbox(db: Engine, tmp_path: Path, clock: Clock) -> Flask:
    return console_app(db, tmp_path, clock)


@pytest.fixture
def desk(sandbox: Flask, db: Engine, clinic_id: int) -> Desk:
    add_staff(db, clinic_id, "ana@clinica.example")
    desk = Desk(sandbox.test_client())
    desk.sign_in("ana@clinica.example")
    return desk


def ask_signature(desk: Desk, text: str, phone: str = "+595981555000") -> dict:
    desk.open(f"/console/simulator?phone={phone}")
    answer = desk.client.post(
        "/console/simulator/sign",
        json={"phone": phone, "text": text},
        headers={"X-CSRFToken": desk.token()},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_line_goes_through_the_real_webhook_and_the_answer_comes_back(
    desk: Desk, sandbox: Flask, db: Engine, clock: Clock
) -> None:
    page = desk.open("/console/simulator?phone=%2B595981555000")
    assert page.status_code == 200
    assert "+595981555000" in page.get_data(as_text=True)

    signed = ask_signature(desk, "hola")
    settings = sandbox.extensions["turnero"]["settings"]
    assert signed["form"]["To"] == f"whatsapp:{CLINIC_NUMBER}"
    assert RequestValidator(settings.webhook_auth_token).validate(
        settings.public_base_url + "/whatsapp/inbound", signed["form"], signed["signature"]
    )
    webhook = sandbox.test_client().post(
        signed["url"], data=signed["form"], headers={"X-Twilio-Signature": signed["signature"]}
    )
    assert webhook.status_code == 200

    query = "/console/simulator/messages?phone=%2B595981555000&after=0"
    assert desk.client.get(query).get_json() == []  # queued, not yet sent: not shown
    dispatch_due(db, SandboxChannel(), clock())  # the worker's turn
    replies = desk.client.get(query).get_json()
    assert [m["sent"] for m in replies] == [True]
    assert "Consulta general" in replies[0]["body"]  # the services on offer


def test_a_message_that_was_not_sent_is_shown_as_not_sent_and_why(
    desk: Desk, db: Engine, clinic_id: int, clock: Clock
) -> None:
    queue_message(db, clinic_id, "m1", "+595981555000", clock(), kind="reminder")
    with transaction(db) as session:
        row = session.exec(select(OutboxMessage)).one()
        row.status = OutboxStatus.not_sendable
    desk.open("/console/simulator?phone=%2B595981555000")
    [shown] = desk.client.get("/console/simulator/messages?phone=%2B595981555000").get_json()
    assert shown["sent"] is False
    assert shown["note"].startswith("No se envió: Pasaron más de 24 horas")


def test_a_forged_signature_is_still_refused(desk: Desk, sandbox: Flask) -> None:
    signed = ask_signature(desk, "hola")
    signed["form"]["Body"] = "otra cosa"
    webhook = sandbox.test_client().post(
        signed["url"], data=signed["form"], headers={"X-Twilio-Signature": signed["signature"]}
    )
    assert webhook.status_code == 403


def test_signing_needs_the_csrf_token(desk: Desk) -> None:
    answer = desk.client.post(
        "/console/simulator/sign", json={"phone": "+595981555000", "text": "hola"}
    )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("body", "query"),
    [
        ({"phone": "+595981555000", "text": "   "}, None),
        ({"phone": "+595981555000"}, None),
        ({"phone": "no es un número", "text": "hola"}, None),
        ({"phone": CLINIC_NUMBER, "text": "hola"}, None),
        (None, "phone=%2B595981555000&after=abc"),
        (None, "phone=12&after=0"),
    ],
)
def test_bad_requests_get_a_400(desk: Desk, body: dict | None, query: str | None) -> None:
    desk.open("/console/simulator")
    if body is not None:
        answer = desk.client.post(
            "/console/simulator/sign", json=body, headers={"X-CSRFToken": desk.token()}
        )
    else:
        answer = desk.client.get(f"/console/simulator/messages?{query}")
    assert answer.status_code == 400


def test_each_trainee_gets_a_practice_number_of_the_clinics_country(desk: Desk) -> None:
    page = desk.open("/console/simulator").get_data(as_text=True)
    assert "Simulador de WhatsApp" in page
    phone = practice_phone(CLINIC_NUMBER, 1)
    assert phone.startswith("+595") and phone != practice_phone(CLINIC_NUMBER, 2)


def test_there_is_no_simulator_with_real_twilio(db: Engine, clock: Clock, clinic_id: int) -> None:
    app = make_app(db, clock)
    add_staff(db, clinic_id, "ana@clinica.example")
    desk = Desk(app.test_client())
    desk.sign_in("ana@clinica.example")
    home = desk.open("/console/agenda")
    assert home.status_code == 200 and "Conversaciones" in home.get_data(as_text=True)
    assert "Simulador" not in home.get_data(as_text=True)
    assert desk.open("/console/simulator").status_code == 404
