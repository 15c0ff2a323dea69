"""A new clinic without the demo: created from the command line, then its first admin."""

import pytest
from sqlmodel import Session, select

from store.db import make_engine
from store.models import Clinic, NotificationRule, StaffUser
from turnero.cli import main


@pytest.fixture
def database(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'clinics.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    return make_engine(url)


def test_a_clinic_is_created_and_gets_its_first_admin(database, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    argv = ["clinic", "create", "--name", "  Clínica  del Sol ", "--whatsapp-number"]
    assert main([*argv, "whatsapp:+595 981 200300", "--timezone", "America/Asuncion"]) == 0
    said = capsys.readouterr().out
    with Session(database) as session:
        clinic = session.exec(select(Clinic)).one()
        rules = session.exec(select(NotificationRule)).all()
    assert (clinic.name, clinic.whatsapp_number) == ("Clínica del Sol", "+595981200300")
    assert [r.clinic_id for r in rules] == [clinic.id]  # reminders and confirmations on
    assert f"--clinic-id {clinic.id}" in said
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("una clave bastante larga 42\n"))
    admin = ["admin", "create", "--clinic-id", str(clinic.id), "--role", "admin"]
    assert main([*admin, "--login", "ana@sol.example", "--name", "Ana", "--password-stdin"]) == 0
    with Session(database) as session:
        assert session.exec(select(StaffUser.clinic_id)).one() == clinic.id
    assert main(["clinic", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split("\t") == [
        str(clinic.id),
        "+595981200300",
        "America/Asuncion",
        "Clínica del Sol",
    ]


@pytest.mark.parametrize(
    ("name", "number", "zone", "answer"),
    [
        ("", "+595981200300", "America/Asuncion", "the name is empty"),
        ("x" * 201, "+595981200300", "America/Asuncion", "longer than 200"),
        ("Sol", "0981 200300", "America/Asuncion", "country code"),
        ("Sol", "+595981200300", "Asuncion", "unknown time zone"),
        ("Sol", "+595981100100", "America/Asuncion", "already sends from +595981100100"),
    ],
)
def test_a_clinic_that_cannot_be_is_refused_in_one_line(  # type: ignore[no-untyped-def]
    database, capsys, name, number, zone, answer
):
    taken = ["clinic", "create", "--name", "Otra", "--whatsapp-number", "+595981100100"]
    assert main(taken) == 0
    capsys.readouterr()
    argv = ["clinic", "create", "--name", name, "--whatsapp-number", number, "--timezone", zone]
    assert main(argv) == 2
    said = capsys.readouterr()
    assert answer in said.err and len(said.err.strip().splitlines()) == 1
    with Session(database) as session:
        assert len(session.exec(select(Clinic)).all()) == 1
