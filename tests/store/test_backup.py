"""`turnero db backup` and `turnero db restore` bring back what was saved, on SQLite and on
PostgreSQL (in a scratch database of the test's own), and fail with words, not tracebacks."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlmodel import Session, col, select

from store.backup import pg_environment
from store.db import make_engine, normalize_url, transaction
from store.migrate import MIGRATIONS, alembic_config, newest_revision, upgrade
from store.models import Appointment, AppointmentStatus, Patient
from tests.support import add_patient, make_clinic
from turnero.cli import main

STARTS = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own: a file under tmp_path on SQLite; on
    PostgreSQL one named after the test database plus `_restore`, created and dropped
    here."""
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    url = make_url(normalize_url(database_url))
    scratch = f"{url.database}_restore"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(text(f'CREATE DATABASE "{scratch}"'))
        yield url.set(database=scratch).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(drop)
    finally:
        admin.dispose()


@pytest.fixture
def on_postgres_scratch(scratch_url: str) -> str:
    if not scratch_url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    return scratch_url


def _fill(url: str) -> None:
    """A clinic, two patients and an appointment of the first."""
    engine = make_engine(url)
    try:
        clinic = make_clinic(engine)
        maria = add_patient(engine, clinic.id, "+595981111111", "María Pérez")
        add_patient(engine, clinic.id, "+595981222222", "Juan Gómez")
        with transaction(engine) as session:
            session.add(
                Appointment(
                    clinic_id=clinic.id,
                    professional_id=clinic.professionals["ana"],
                    service_id=clinic.services["general"],
                    patient_id=maria,
                    starts_at=STARTS,
                    ends_at=STARTS.replace(minute=30),
                    code="K7M2Q9",
                )
            )
    finally:
        engine.dispose()


def _state(url: str) -> tuple[list[str | None], list[tuple[str, str, datetime]]]:
    """The patients' names and each appointment's code, status and start."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            names = list(session.exec(select(Patient.name).order_by(col(Patient.id))))
            visits = [
                (a.code, a.status, a.starts_at)
                for a in session.exec(select(Appointment).order_by(col(Appointment.id)))
            ]
        return names, visits
    finally:
        engine.dispose()


def _change(url: str) -> None:
    """Rename a patient, cancel the appointment, add a patient."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            maria = session.exec(select(Patient).where(Patient.name == "María Pérez")).one()
            maria.name = "Otra Persona"
            appointment = session.exec(select(Appointment)).one()
            appointment.status = AppointmentStatus.cancelled
            session.add(Patient(clinic_id=maria.clinic_id, phone="+595981333333", name="Nuevo"))
    finally:
        engine.dispose()


def _turnero(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `turnero` command, run as its own process on `url`."""
    turnero = shutil.which("turnero", path=os.path.dirname(sys.executable)) or "turnero"
    return subprocess.run(
        [turnero, *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_restore_brings_back_the_backed_up_state(scratch_url: str, tmp_path: Path):
    upgrade(scratch_url)
    _fill(scratch_url)
    saved = _state(scratch_url)
    assert saved == (
        ["María Pérez", "Juan Gómez"],
        [("K7M2Q9", AppointmentStatus.booked, STARTS)],
    )
    backup_file = tmp_path / "turnero.backup"

    backed_up = _turnero(scratch_url, "db", "backup", str(backup_file))
    assert backed_up.returncode == 0, backed_up.stderr
    assert str(backup_file) in backed_up.stdout
    _change(scratch_url)
    assert _state(scratch_url) != saved

    restored = _turnero(scratch_url, "db", "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    assert newest_revision() in restored.stdout
    assert _state(scratch_url) == saved


def test_a_sqlite_backup_taken_during_a_write_keeps_what_was_committed(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    _fill(url)
    engine = make_engine(url)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        with transaction(engine) as session:  # the app, writing and not yet committed
            session.add(Patient(clinic_id=1, phone="+595981444444", name="A medio escribir"))
            session.flush()
            assert main(["db", "backup", str(tmp_path / "during.db")]) == 0
    finally:
        engine.dispose()
    names, _ = _state(f"sqlite:///{tmp_path / 'during.db'}")
    assert names == ["María Pérez", "Juan Gómez"]
    assert not (tmp_path / "during.db-wal").exists()  # the backup is one file


def test_a_backup_older_than_the_code_is_restored_but_asks_for_an_upgrade(
    scratch_url: str, tmp_path: Path, monkeypatch, capsys
):
    previous = ScriptDirectory(str(MIGRATIONS)).get_revision(newest_revision()).down_revision
    assert isinstance(previous, str)
    upgrade(scratch_url)
    _fill(scratch_url)  # (by today's tables, then taken back one migration: rows kept)
    command.downgrade(alembic_config(scratch_url), previous)
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    assert main(["db", "backup", str(tmp_path / "old.backup")]) == 0
    upgrade(scratch_url)
    _change(scratch_url)

    assert main(["db", "restore", str(tmp_path / "old.backup")]) == 1
    said = capsys.readouterr().err
    assert previous in said and "turnero db upgrade" in said
    assert main(["db", "upgrade"]) == 0
    assert _state(scratch_url)[0] == ["María Pérez", "Juan Gómez"]


def test_a_missing_or_foreign_file_is_refused_with_words(
    scratch_url: str, tmp_path: Path, monkeypatch, capsys
):
    upgrade(scratch_url)
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    assert main(["db", "restore", str(tmp_path / "nowhere.backup")]) == 1
    assert "no backup at" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    assert main(["db", "restore", str(tmp_path / "notes.txt")]) == 1
    assert "is not a" in capsys.readouterr().err
    assert main(["db", "backup", str(tmp_path / "missing-folder" / "x.backup")]) == 1
    assert "no folder" in capsys.readouterr().err


def test_backing_up_a_sqlite_file_that_is_not_there_says_so(tmp_path: Path):
    failed = _turnero(f"sqlite:///{tmp_path / 'absent.db'}", "db", "backup", str(tmp_path / "b"))
    assert failed.returncode == 1
    assert "no SQLite database at" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "absent.db").exists()


def test_an_unreachable_postgresql_says_so(on_postgres_scratch: str, tmp_path: Path):
    url = make_url(normalize_url(on_postgres_scratch)).set(host="127.0.0.1", port=1)
    failed = _turnero(
        url.render_as_string(hide_password=False), "db", "backup", str(tmp_path / "b")
    )
    assert failed.returncode == 1
    assert "cannot reach the database" in failed.stderr
    assert "Traceback" not in failed.stderr


def _fake_tool(folder: Path, name: str, version: str) -> None:
    """A `name` that reports `version` and writes down its arguments and PGPASSWORD."""
    tool = folder / name
    tool.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"if sys.argv[1:] == ['--version']: print('{name} (PostgreSQL) {version}'); sys.exit()\n"
        f"open({str(folder / 'called')!r}, 'w').write("
        "json.dumps([sys.argv, os.environ.get('PGPASSWORD')]))\n"
        "target = [a for a in sys.argv if a.startswith('--file=')][0][len('--file='):]\n"
        "open(target, 'wb').write(b'PGDMP')\n",
        encoding="utf-8",
    )
    tool.chmod(0o755)


def test_pg_dump_missing_or_older_than_the_server_exits_2(
    on_postgres_scratch: str, tmp_path: Path, monkeypatch, capsys
):
    upgrade(on_postgres_scratch)
    monkeypatch.setenv("DATABASE_URL", on_postgres_scratch)
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))
    assert main(["db", "backup", str(tmp_path / "b")]) == 2
    assert "pg_dump is not installed" in capsys.readouterr().err
    _fake_tool(tools, "pg_dump", "9.6.24")
    assert main(["db", "backup", str(tmp_path / "b")]) == 2
    assert "older than the server's" in capsys.readouterr().err
    assert not (tools / "called").exists()


def test_the_password_reaches_pg_dump_through_its_environment_only(
    on_postgres_scratch: str, tmp_path: Path, monkeypatch
):
    upgrade(on_postgres_scratch)
    with_password = make_url(normalize_url(on_postgres_scratch)).set(password="s3cret-pw")
    monkeypatch.setenv("DATABASE_URL", with_password.render_as_string(hide_password=False))
    tools = tmp_path / "bin"
    tools.mkdir()
    _fake_tool(tools, "pg_dump", "99.0")
    monkeypatch.setenv("PATH", str(tools))
    assert main(["db", "backup", str(tmp_path / "b")]) == 0
    argv, password = json.loads((tools / "called").read_text(encoding="utf-8"))
    assert password == "s3cret-pw"
    assert not any("s3cret-pw" in argument for argument in argv)
    assert with_password.database in argv


def test_libpq_reads_the_url_from_the_environment():
    env = pg_environment(
        make_url("postgresql+psycopg://ops:pw@db.internal:6543/clinics?sslmode=require")
    )
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"]) == (
        "db.internal",
        "6543",
        "ops",
        "pw",
    )
    assert (env["PGDATABASE"], env["PGSSLMODE"]) == ("clinics", "require")
