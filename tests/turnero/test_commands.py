"""The commands a newcomer uses: migrate, seed the demo, chat with the bot."""

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from werkzeug.serving import make_server

from channel.sandbox import SandboxChannel
from config.settings import Settings
from scheduler.worker import run_worker
from store.db import make_engine
from store.migrate import upgrade
from store.models import Appointment, BlockOff, Clinic, OutboxMessage, Patient
from tests.support import AUTH_TOKEN, sign
from turnero.chat import run_chat
from turnero.cli import main
from turnero.demo import DEMO_NUMBER, seed_demo
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


def test_the_demo_clinic_looks_like_a_paraguayan_clinics_day(db: Engine):
    asuncion = ZoneInfo("America/Asuncion")
    now = datetime(2026, 12, 2, 11, 0, tzinfo=asuncion)  # a Wednesday, mid-morning
    clinic = seed_demo(db, now.astimezone(UTC))
    number = phonenumbers.parse(clinic.whatsapp_number)
    assert phonenumbers.region_code_for_number(number) == "PY"
    assert phonenumbers.is_valid_number(number)
    with Session(db) as session:
        patients = session.exec(select(Patient)).all()
        appointments = session.exec(select(Appointment)).all()
    assert len({p.name for p in patients}) == len(patients)
    today = [a for a in appointments if a.starts_at.astimezone(asuncion).date() == now.date()]
    assert {"completed", "booked"} <= {a.status for a in today}  # seen, and still to come
    assert all(a.status in ("completed", "no_show") for a in today if a.ends_at <= now)
    by_patient: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        by_patient.setdefault(appointment.patient_id, []).append(appointment)
    for booked in by_patient.values():
        booked.sort(key=lambda a: a.starts_at)
        assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(booked))


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
    worker = run_worker(db, SandboxChannel(), 0.2, block=False)  # the demo's worker
    yield base, settings
    worker.shutdown(wait=True)
    server.shutdown()


def test_turnero_chat_books_an_appointment(live_sandbox, db: Engine, capsys):
    base, settings = live_sandbox
    lines = iter(["hola", "1", "4", "1", "1", "María Pérez", "saltar", "saltar", "si", "/quit"])

    run_chat(settings, "+595981555123", DEMO_NUMBER, base, read_line=lambda: next(lines))
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


@pytest.mark.parametrize("threads", ["1", "2"])
def test_turnero_serve_answers_signed_webhooks_at_once(tmp_path, threads: str):
    """`turnero serve` under gunicorn (sync workers, or threaded ones): several patients
    writing at the same moment each get their reply queued."""
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(database)
    upgrade(database)
    seed_demo(engine)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "PUBLIC_BASE_URL": base,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SECRET_KEY": "serve-secret",
        "INSTANCE_DIR": str(tmp_path),
    }
    turnero = shutil.which("turnero", path=os.path.dirname(sys.executable)) or "turnero"
    server = subprocess.Popen(
        [turnero, "serve", "--port", str(port), "--workers", "2", "--threads", threads],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(port)
        phones = [f"+59598100{n:04d}" for n in range(6)]
        with ThreadPoolExecutor(len(phones)) as pool:
            statuses = list(pool.map(lambda phone: _post_hola(base, phone), phones))
        assert statuses == [200] * len(phones)
        with Session(engine) as session:
            replied = {m.to_phone for m in session.exec(select(OutboxMessage))}
        assert replied == set(phones)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


def _post_hola(base: str, phone: str) -> int:
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": f"whatsapp:{phone}",
        "To": f"whatsapp:{DEMO_NUMBER}",
        "Body": "hola",
        "NumMedia": "0",
    }
    url = base + "/whatsapp/inbound"
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"X-Twilio-Signature": sign(url, form)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_turnero_chat_without_a_running_app_says_so_in_one_line(capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert main(["chat", "--url", f"http://127.0.0.1:{closed}"]) == 1
    said = capsys.readouterr()
    assert said.err.strip().count("\n") == 0 and "Traceback" not in said.err
    assert f"No Turnero web app answers at http://127.0.0.1:{closed}" in said.err
    assert "turnero demo" in said.err


def test_the_demo_on_another_port_links_and_signs_with_that_port(
    live_sandbox, db: Engine, tmp_path, monkeypatch, capsys
):
    from turnero.cli import _served_at

    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    plain = Settings(secret_key="demo-secret", instance_dir=tmp_path)
    assert _served_at(plain, 5001).public_base_url == "http://localhost:5001"
    assert _served_at(plain, 5000) is plain
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://turnos.example.org")
    assert _served_at(Settings(), 5001).public_base_url == "https://turnos.example.org"
    monkeypatch.delenv("PUBLIC_BASE_URL")

    # the app (like the demo on another port) checks signatures against its own address;
    # a chat told that address signs with it, though its own default says port 5000
    base, _ = live_sandbox
    lines = iter(["hola", "/quit"])
    assert run_chat(plain, "+595981555124", DEMO_NUMBER, base, read_line=lambda: next(lines)) == 0
    shown = capsys.readouterr().out
    assert "webhook answered 403" not in shown and "Clínica San Roque" in shown
