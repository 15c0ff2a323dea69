"""The commands a newcomer uses: migrate, seed the demo, chat with the bot."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from werkzeug.serving import make_server

from channel.sandbox import SandboxChannel
from scheduler.dispatcher import dispatch_due
from store.models import Appointment, BlockOff, Clinic, OutboxMessage
from turnero.chat import run_chat
from turnero.cli import main
from turnero.demo import DEMO_NUMBER, seed_demo
from turnero.settings import Settings
from webhook import create_app


def test_db_upgrade_and_demo_seed_only(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "--seed-only"]) == 0
    assert main(["demo", "--seed-only"]) == 0  # seeding twice keeps one clinic
    assert capsys.readouterr().out.strip().splitlines()[-1] == DEMO_NUMBER


def test_the_demo_clinic_has_a_week_of_appointments_and_a_holiday(db: Engine):
    seed_demo(db)
    with Session(db) as session:
        assert len(session.exec(select(Clinic)).all()) == 1
        assert len(session.exec(select(Appointment)).all()) > 50
        assert session.exec(select(BlockOff)).one().reason == "Feriado"


@pytest.fixture
def live_sandbox(db: Engine, tmp_path) -> Iterator[tuple[str, Settings]]:
    """The web app in sandbox mode (no Twilio credentials) on a free local port."""
    seed_demo(db)
    settings = Settings(
        database_url=str(db.url),
        secret_key="demo-secret",
        instance_dir=tmp_path,
        public_base_url="http://127.0.0.1:0",
    )
    server = make_server("127.0.0.1", 0, create_app(settings, engine=db), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    settings = settings.model_copy(update={"public_base_url": base})
    server.app.extensions["turnero"]["settings"] = settings  # the URL Twilio would sign
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, settings
    server.shutdown()


def test_turnero_chat_books_an_appointment(live_sandbox, db: Engine, capsys):
    base, settings = live_sandbox
    lines = iter(["hola", "1", "4", "1", "1", "María Pérez", "saltar", "saltar", "si", "/quit"])

    def patient_types() -> str:
        dispatch_due(db, SandboxChannel(), datetime.now(UTC))  # the worker's job
        return next(lines)

    run_chat(settings, "+595981555123", DEMO_NUMBER, base, read_line=patient_types, wait_seconds=3)
    shown = capsys.readouterr().out
    assert "Clínica San Roque" in shown and "Código de confirmación" in shown
    with Session(db) as session:
        booked = session.exec(
            select(Appointment).where(
                Appointment.source_channel == "whatsapp", Appointment.new_patient
            )
        ).all()
        assert any(a.code in shown for a in booked)
        sent = session.exec(
            select(OutboxMessage).where(OutboxMessage.to_phone == "+595981555123")
        ).all()
        assert sent and all(m.status == "delivered" for m in sent[:-1])
