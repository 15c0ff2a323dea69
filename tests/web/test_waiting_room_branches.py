"""Queues per branch: a clinic with two branches numbers each branch's queues on their
own (A-001 at both), its board shows the branch the desk chooses, its kiosk and screen
the branch in their address, and a check-in at the wrong branch says where to go. A
clinic with one branch keeps its queues as they were."""

import json
import re
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store import queues
from store.db import transaction
from store.models import Appointment, Branch, Professional, QueueTicket
from tests.console_support import NOW, Desk, book_at
from tests.support import TestClinic, add_patient


def branches(db: Engine, clinic: TestClinic, count: int) -> list[int]:
    """The clinic's branches: Ana works at the first, Luis at the last."""
    with transaction(db) as session:
        made = [
            Branch(clinic_id=clinic.id, name=name, address=f"Calle {n}")
            for n, name in enumerate(["Centro", "Norte"][:count])
        ]
        session.add_all(made)
        session.flush()
        for who, branch in (("ana", made[0]), ("luis", made[-1])):
            professional = session.get(Professional, clinic.professionals[who])
            assert professional
            professional.branch_id = branch.id
        return [b.id or 0 for b in made]


def code_of(db: Engine, clinic: TestClinic, who: str, phone: str) -> str:
    patient = add_patient(db, clinic.id, phone, f"Paciente {who}")
    appointment_id = book_at(db, clinic, patient, NOW + timedelta(minutes=60), who=who)
    with Session(db) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment
        return appointment.code


def tickets(db: Engine) -> list[QueueTicket]:
    with Session(db) as session:
        return list(session.exec(select(QueueTicket).order_by(col(QueueTicket.id))))


def test_each_branch_numbers_its_own_queues_and_the_board_shows_the_one_chosen(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    centro, norte = branches(db, clinic, 2)
    for who, phone, branch in (("ana", "+595981000001", centro), ("luis", "+595981000002", norte)):
        desk.open(f"/console/kiosk?branch={branch}")
        page = desk.submit(
            f"/console/kiosk/code?branch={branch}", {"code": code_of(db, clinic, who, phone)}
        ).get_data(as_text=True)
        assert ">A-001<" in page  # each branch's general consultation starts at A-001
    general = clinic.services["general"]
    assert [(t.queue, t.branch_id) for t in tickets(db)] == [
        (f"branch:{centro}/service:{general}", centro),
        (f"branch:{norte}/service:{general}", norte),
    ]

    board = desk.open(f"/console/waiting-room?room=Box+1&branch={norte}").get_data(as_text=True)
    assert '<option value="' + str(norte) + '" selected>Norte</option>' in board
    assert "A · Consulta general" in board and "B · Odontología" in board
    assert "Laboratorio" not in board  # only Ana, at Centro, does lab tests
    assert board.count("A-001") == 1
    every = desk.open("/console/waiting-room?room=Box+1").get_data(as_text=True)
    assert every.count("A-001") == 2  # no branch chosen: the whole clinic

    queue = re.search(r'name="queue" value="([^"]+)"', board)
    assert queue
    called = desk.submit(
        "/console/waiting-room/call",
        {"queue": queue.group(1), "room": "Box 1", "branch": str(norte)},
    )
    assert f"branch={norte}" in called.headers["Location"]
    feed = f"/console/waiting-room/screen/feed?after=0&day=2026-12-01&branch={centro}"
    assert json.loads(desk.open(feed).get_data(as_text=True))["calls"] == []
    feed = feed.replace(f"branch={centro}", f"branch={norte}")
    assert [c["number"] for c in json.loads(desk.open(feed).get_data(as_text=True))["calls"]] == [
        "A-001"
    ]
    walk_in = desk.open(f"/console/kiosk/walk-in?branch={centro}").get_data(as_text=True)
    assert "Laboratorio" in walk_in and "Odontología" not in walk_in


def test_a_check_in_at_the_wrong_branch_says_where_to_go(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    _, norte = branches(db, clinic, 2)
    code = code_of(db, clinic, "ana", "+595981000001")
    desk.open(f"/console/kiosk?branch={norte}")
    page = desk.submit(f"/console/kiosk/code?branch={norte}", {"code": code}).get_data(as_text=True)
    assert "Tu turno es en la sucursal Centro — Calle 0." in page
    assert tickets(db) == []
    phone = desk.submit(f"/console/kiosk/phone?branch={norte}&lang=en", {"phone": "0981000001"})
    assert "Your appointment is at the Centro — Calle 0 branch." in phone.get_data(as_text=True)
    assert desk.open("/console/kiosk?branch=999").status_code == 404
    assert desk.open("/console/waiting-room?branch=abc").status_code == 404


def test_a_clinic_with_one_branch_keeps_its_queues(db: Engine, clinic: TestClinic) -> None:
    [only] = branches(db, clinic, 1)
    with Session(db) as session:
        found = queues.queues(session, clinic.id, queues.rules(session, clinic.id))
    services = clinic.services
    assert [(q.key, q.letter, q.branch_id) for q in found] == [
        (f"service:{services['general']}", "A", None),
        (f"service:{services['dentistry']}", "B", None),
        (f"service:{services['lab']}", "C", None),
    ]
    assert only
