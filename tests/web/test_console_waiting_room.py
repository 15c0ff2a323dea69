"""The desk's side of the waiting room: "arrived" on the agenda now also gives a number;
the board lists each queue's waiting and called visits, calls next to the desk's room,
calls again, sends back or marks absent, and ends a visit; its feed keeps it current."""

from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from store.appointments import Actor
from store.db import transaction
from store.models import Appointment, Clinic, QueueTicket, WaitingRoom
from tests.console_support import NOW, Desk, book_at
from tests.support import TestClinic, add_patient, make_clinic
from usecases.waiting_room import arrive

BOARD = "/console/waiting-room?room=Consultorio+3"


def arrived_at_desk(db: Engine, clinic: TestClinic, desk: Desk, name: str, minutes: int) -> int:
    patient = add_patient(db, clinic.id, f"+5959810{minutes:05d}", name)
    appointment = book_at(db, clinic, patient, NOW + timedelta(minutes=minutes))
    desk.open("/console/agenda")
    response = desk.submit(f"/console/appointments/{appointment}/arrived")
    assert "notice=done_arrived" in response.headers["Location"]
    return appointment


def tickets(db: Engine) -> list[QueueTicket]:
    with Session(db) as session:
        return list(session.exec(select(QueueTicket).order_by(col(QueueTicket.id))))


def test_arrived_at_the_desk_gives_a_number_the_board_lists(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    arrived_at_desk(db, clinic, desk, "María Pérez", 30)
    arrived_at_desk(db, clinic, desk, "José Gómez", 60)

    page = desk.open(BOARD).get_data(as_text=True)

    assert "A · Consulta general" in page
    assert page.index("A-001") < page.index("A-002")
    assert "M. P." in page and "Pérez" not in page  # initials, never the name
    assert "Esperando (2)" in page and "Recepción" in page
    assert [t.channel for t in tickets(db)] == ["desk", "desk"]


def test_calling_next_recall_no_answer_and_served_from_the_board(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    arrived_at_desk(db, clinic, desk, "María Pérez", 30)
    arrived_at_desk(db, clinic, desk, "José Gómez", 60)
    desk.open(BOARD)
    called = desk.submit(
        "/console/waiting-room/call", {"queue": tickets(db)[0].queue, "room": "Consultorio 3"}
    )
    assert "notice=called" in called.headers["Location"]
    page = desk.open(BOARD).get_data(as_text=True)
    assert "A-001</strong> M. P. → Consultorio 3" in page and "Esperando (1)" in page

    first, second = (t.id for t in tickets(db))
    desk.submit(f"/console/waiting-room/tickets/{first}/recall", {"room": "Consultorio 3"})
    desk.submit(f"/console/waiting-room/tickets/{first}/back", {"room": "Consultorio 3"})
    assert [t.status for t in tickets(db)] == ["waiting", "waiting"]
    desk.submit("/console/waiting-room/call", {"queue": tickets(db)[0].queue, "room": "Box 1"})
    assert [t.status for t in tickets(db)] == ["waiting", "called"]  # José was ahead now
    done = desk.submit(f"/console/waiting-room/tickets/{second}/served", {"room": "Box 1"})
    assert "notice=done" in done.headers["Location"]
    again = desk.submit(f"/console/waiting-room/tickets/{second}/served", {"room": "Box 1"})
    assert "notice=already" in again.headers["Location"]
    desk.submit("/console/waiting-room/call", {"queue": tickets(db)[0].queue, "room": "Box 1"})
    desk.submit(f"/console/waiting-room/tickets/{first}/absent", {"room": "Box 1"})
    assert [t.status for t in tickets(db)] == ["absent", "served"]
    nobody = desk.submit(
        "/console/waiting-room/call", {"queue": tickets(db)[0].queue, "room": "Box 1"}
    )
    assert "notice=nobody" in nobody.headers["Location"]


def test_calling_needs_a_room_and_a_queue_of_the_clinic(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    arrived_at_desk(db, clinic, desk, "María Pérez", 30)
    desk.open(BOARD)
    queue = tickets(db)[0].queue
    no_room = desk.submit("/console/waiting-room/call", {"queue": queue, "room": " "})
    assert "notice=no_room" in no_room.headers["Location"]
    assert (
        desk.submit("/console/waiting-room/call", {"queue": "service:999", "room": "B"}).status_code
        == 400
    )
    assert tickets(db)[0].status == "waiting"


def test_another_clinics_ticket_is_not_found(db: Engine, clinic: TestClinic, desk: Desk) -> None:
    other = make_clinic(db, number="+595981777777")
    patient = add_patient(db, other.id, "+595981000001", "Ana")
    appointment = book_at(db, other, patient, NOW + timedelta(minutes=30))
    with transaction(db) as session:
        found, theirs = session.get(Appointment, appointment), session.get(Clinic, other.id)
        assert found and theirs
        ticket = arrive(session, theirs, found, "desk", Actor("staff:x", "console"), NOW).ticket
        session.flush()
        session.execute(update(QueueTicket).values(status="called"))
    desk.open(BOARD)
    response = desk.submit(f"/console/waiting-room/tickets/{ticket.id}/served", {"room": "B"})
    assert response.status_code == 404
    assert tickets(db)[0].status == "called"


def test_the_feed_carries_the_board_and_a_stamp_that_moves_with_it(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    before = desk.open("/console/waiting-room/feed?room=B").get_json()
    arrived_at_desk(db, clinic, desk, "María Pérez", 30)
    after = desk.open("/console/waiting-room/feed?room=B").get_json()
    assert before["stamp"] != after["stamp"]
    assert "A-001" in after["html"] and "A-001" not in before["html"]


def test_the_desk_flags_a_waiting_patient_as_priority(
    db: Engine, clinic: TestClinic, desk: Desk
) -> None:
    arrived_at_desk(db, clinic, desk, "María Pérez", 30)
    arrived_at_desk(db, clinic, desk, "José Gómez", 60)
    desk.open(BOARD)
    second = tickets(db)[1].id
    flagged = desk.submit(f"/console/waiting-room/tickets/{second}/priority", {"room": "B"})
    assert "notice=done" in flagged.headers["Location"]
    again = desk.submit(f"/console/waiting-room/tickets/{second}/priority", {"room": "B"})
    assert "notice=already" in again.headers["Location"]
    page = desk.open(BOARD).get_data(as_text=True)
    assert page.index("A-002") < page.index("A-001") and "prioridad" in page
    desk.submit("/console/waiting-room/call", {"queue": tickets(db)[0].queue, "room": "B"})
    assert [t.status for t in tickets(db)] == ["waiting", "called"]


def test_the_admin_sets_the_rules_and_the_queues_are_not_regrouped_while_people_wait(
    db: Engine, clinic: TestClinic, desk: Desk, admin: Desk
) -> None:
    assert desk.open("/console/waiting-room/rules").status_code == 403
    admin.open("/console/waiting-room/rules")
    form = {"queue_by": "service", "late_grace_minutes": "5", "near_ahead": "3", "near_minutes": ""}
    saved = admin.submit("/console/waiting-room/rules", {**form, "show_initials": "on"})
    assert saved.status_code == 303
    with Session(db) as session:
        rules = session.get(WaitingRoom, clinic.id)
    assert rules and (rules.late_grace_minutes, rules.near_ahead, rules.near_minutes) == (
        5,
        3,
        None,
    )
    assert rules.show_initials
    wrong = admin.submit("/console/waiting-room/rules", {**form, "near_ahead": "-1"})
    assert wrong.status_code == 400 and "de 0 a 50" in wrong.get_data(as_text=True)

    arrived_at_desk(db, clinic, desk, "María Pérez", 30)
    admin.open("/console/waiting-room/rules")
    busy = admin.submit("/console/waiting-room/rules", {**form, "queue_by": "professional"})
    assert busy.status_code == 400 and "Hoy hay pacientes" in busy.get_data(as_text=True)
    desk.open(BOARD)
    desk.submit("/console/waiting-room/call", {"queue": tickets(db)[0].queue, "room": "B"})
    desk.submit(f"/console/waiting-room/tickets/{tickets(db)[0].id}/served", {"room": "B"})
    admin.open("/console/waiting-room/rules")
    assert (
        admin.submit(
            "/console/waiting-room/rules", {**form, "queue_by": "professional"}
        ).status_code
        == 303
    )
    board = desk.open(BOARD).get_data(as_text=True)
    assert "A · Dra. Ana Benítez" in board and "B · Dr. Luis Ortiz" in board
