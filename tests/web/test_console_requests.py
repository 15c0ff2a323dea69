"""Appointment requests at the desk through the real app: the list and its badge, accepting
with a free time (the patient is told, the agenda shows it), a time taken meanwhile, a
decline with its reason, a request answered once, CSRF on every form, patient text
escaped, another clinic's requests out of reach, and the admin API's switch."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.db import transaction
from store.models import Appointment, AppointmentRequest, Clinic, OutboxMessage, Patient
from store.requests import NewRequest, create
from tests.console_support import NOW, Desk, book_at
from tests.support import Clock, add_patient, make_app, make_clinic

PHONE = "+595981222333"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
SLOT = re.compile(r'name="slot" value="([^"]+)"')


@pytest.fixture
def app(db: Engine, clock: Clock, clinic):
    return make_app(db, clock)


def request_from(
    db: Engine,
    clinic_id: int,
    phone: str = PHONE,
    name: str = "Rosa Giménez",
    service_id: int = 1,
    preferred: str = "miércoles a la mañana",
    comment: str | None = "control anual",
    minutes_ago: int = 90,
) -> int:
    with transaction(db) as session:
        create(
            session,
            clinic_id,
            NewRequest(phone, name, service_id, preferred, comment, "es"),
            NOW - timedelta(minutes=minutes_ago),
        )
        return (
            session.exec(
                select(AppointmentRequest.id).where(
                    AppointmentRequest.phone == phone, AppointmentRequest.status == "open"
                )
            ).one()
            or 0
        )


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def slots(page) -> list[str]:  # type: ignore[no-untyped-def]
    return SLOT.findall(text_of(page))


def outbox(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_the_list_shows_open_requests_oldest_first_with_a_badge(db: Engine, clinic, desk: Desk):
    request_from(db, clinic.id, name="Rosa Giménez", minutes_ago=30)
    request_from(db, clinic.id, phone="+595981444555", name="Pedro Ruiz", minutes_ago=60 * 26)
    page = text_of(desk.open("/console/requests"))
    assert page.index("Pedro Ruiz") < page.index("Rosa Giménez")  # waited longest
    assert "espera hace 1 d" in page and "espera hace 30 min" in page
    assert "miércoles a la mañana" in page and "control anual" in page
    assert f'href="/console/conversations/{PHONE}"' in page
    assert 'aria-label="2 pendientes">2</span>' in text_of(desk.open("/console/agenda"))


def test_accepting_books_the_time_and_tells_the_patient(db: Engine, clinic, desk: Desk):
    request_id = request_from(db, clinic.id)
    page = desk.open(f"/console/requests/{request_id}")
    text = text_of(page)
    assert "Aceptar: elegir un horario" in text and "Rechazar el pedido" in text
    assert "Cualquiera que atienda este servicio" in text
    offered = slots(page)
    assert offered, "the first day with space shows its free times"
    done = desk.submit(
        f"/console/requests/{request_id}/accept", {"slot": offered[0], "professional": "any"}
    )
    assert done.status_code == 303 and done.location.endswith("notice=accepted")
    after = text_of(desk.open(done.location))
    assert "Pedido aceptado" in after and "Aceptado" in after
    assert "ana@clinica.example" in after and "Ver el turno" in after
    assert 'name="slot"' not in after  # answered: no more times to pick

    with Session(db) as session:
        [appointment] = session.exec(select(Appointment)).all()
        patient = session.get(Patient, appointment.patient_id)
    assert patient is not None and patient.name == "Rosa Giménez"
    [told] = outbox(db)
    assert told.kind == "request_accepted" and told.to_phone == PHONE
    assert appointment.code in told.body
    agenda = text_of(desk.open(f"/console/agenda?day={appointment.starts_at.date()}"))
    assert "Rosa Giménez" in agenda
    assert 'class="badge"' not in text_of(desk.open("/console/agenda"))
    conversation = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert "Pedido de turno aceptado" in conversation and appointment.code in conversation
    assert "Rosa Giménez" in text_of(desk.open("/console/requests"))  # answered recently


def test_a_time_taken_meanwhile_shows_the_times_still_free(db: Engine, clinic, desk: Desk):
    request_id = request_from(db, clinic.id)
    ana = clinic.professionals["ana"]
    page = desk.open(f"/console/requests/{request_id}?day=2026-12-02&professional={ana}")
    wanted = next(s for s in slots(page) if s.endswith("T13:00Z"))  # 10:00 in Asunción
    other = add_patient(db, clinic.id, "+595981444555", "María Pérez")
    book_at(db, clinic, other, NOW + timedelta(days=1, hours=1))
    refused = desk.submit(
        f"/console/requests/{request_id}/accept", {"slot": wanted, "professional": str(ana)}
    )
    assert refused.status_code == 303
    assert refused.location.endswith(f"notice=taken&day=2026-12-02&professional={ana}")
    again = desk.open(refused.location)
    assert "Ese horario se acaba de ocupar" in text_of(again)
    assert wanted not in slots(again) and slots(again)
    with Session(db) as session:
        assert len(session.exec(select(Appointment)).all()) == 1
        request = session.get(AppointmentRequest, request_id)
    assert request is not None and request.status == "open"
    assert outbox(db) == []


def test_declining_tells_the_patient_and_a_request_is_answered_once(db: Engine, clinic, desk: Desk):
    request_id = request_from(db, clinic.id)
    page = desk.open(f"/console/requests/{request_id}")
    offered = slots(page)
    done = desk.submit(f"/console/requests/{request_id}/decline", {"reason": "Agenda completa"})
    assert done.location.endswith("/console/requests?notice=declined")
    assert "Pedido rechazado" in text_of(desk.open(done.location))
    [told] = outbox(db)
    assert told.kind == "request_declined" and "Motivo: Agenda completa" in told.body
    again = desk.submit(f"/console/requests/{request_id}/accept", {"slot": offered[0]})
    assert again.location.endswith("notice=already_handled")
    assert desk.submit(f"/console/requests/{request_id}/decline").location.endswith(
        "notice=already_handled"
    )
    with Session(db) as session:
        assert session.exec(select(Appointment)).all() == []
    assert len(outbox(db)) == 1
    shown = text_of(desk.open(f"/console/requests/{request_id}"))
    assert "Rechazado" in shown and "Agenda completa" in shown and "ana@clinica.example" in shown


def test_bad_input_gets_a_clear_answer(db: Engine, clinic, desk: Desk):
    request_id = request_from(db, clinic.id)
    desk.open(f"/console/requests/{request_id}")
    path = f"/console/requests/{request_id}"
    for query in ("day=2026-13-45", "day=2020-01-01", "professional=999", "professional=abc"):
        assert desk.open(f"{path}?{query}").status_code == 400, query
    desk.open(path)
    for slot in (
        "",
        "nonsense",
        "1|2026-12-02T13:00",
        f"{clinic.professionals['ana']}|2020-01-01T13:00Z",
    ):
        assert desk.submit(f"{path}/accept", {"slot": slot}).status_code == 400, slot
    luis_lab = f"{clinic.professionals['luis']}|2026-12-02T13:00Z"  # Luis does not do it
    request_lab = request_from(db, clinic.id, phone="+595981444555", service_id=3)
    desk.open(f"/console/requests/{request_lab}")
    assert (
        desk.submit(f"/console/requests/{request_lab}/accept", {"slot": luis_lab}).status_code
        == 400
    )
    assert desk.submit(f"{path}/decline", {"reason": "x" * 301}).status_code == 400
    assert desk.open("/console/requests/999").status_code == 404


def test_another_clinics_requests_are_out_of_reach(db: Engine, clinic, desk: Desk):
    other = make_clinic(db, number="+595981777000")
    theirs = request_from(db, other.id, service_id=other.services["general"])
    assert desk.open(f"/console/requests/{theirs}").status_code == 404
    desk.open("/console/requests")
    assert desk.submit(f"/console/requests/{theirs}/decline").status_code == 404
    assert "Rosa Giménez" not in text_of(desk.open("/console/requests"))


def test_every_form_needs_its_csrf_token(db: Engine, clinic, desk: Desk):
    request_id = request_from(db, clinic.id)
    offered = slots(desk.open(f"/console/requests/{request_id}"))
    for path, form in (
        (f"/console/requests/{request_id}/accept", {"slot": offered[0]}),
        (f"/console/requests/{request_id}/decline", {"reason": "no"}),
    ):
        for token in ({}, {"csrf_token": "forged"}):
            refused = desk.client.post(path, data={**form, **token})
            assert refused.status_code == 400 and "El formulario venció" in text_of(refused)
    with Session(db) as session:
        assert session.get(AppointmentRequest, request_id).status == "open"  # type: ignore[union-attr]
    assert outbox(db) == []


def test_patient_text_is_escaped(db: Engine, clinic, desk: Desk):
    request_id = request_from(db, clinic.id, name=SCRIPT, preferred=SCRIPT, comment=SCRIPT)
    for path in ("/console/requests", f"/console/requests/{request_id}"):
        page = text_of(desk.open(path))
        assert SCRIPT not in page and ESCAPED in page, path


def test_the_admin_api_turns_the_setting_on(db: Engine, clinic, app):
    api = app.test_client()
    path = f"/admin/api/clinics/{clinic.id}/settings"
    auth = {"Authorization": f"Bearer {app.extensions['turnero']['settings'].admin_token}"}
    assert api.get(path).status_code == 401
    assert api.get(path, headers=auth).get_json()["only_known_patients"] is False
    changed = api.patch(path, json={"only_known_patients": True}, headers=auth)
    assert changed.status_code == 200 and changed.get_json()["only_known_patients"] is True
    with Session(db) as session:
        assert session.get(Clinic, clinic.id).only_known_patients is True  # type: ignore[union-attr]
    for body in ({"only_known_patients": "yes"}, {"other": True}):
        assert api.patch(path, json=body, headers=auth).status_code == 422, body
    assert api.patch(path, data="[]", headers=auth).status_code == 400
    assert api.get("/admin/api/clinics/999/settings", headers=auth).status_code == 404


def test_the_request_opens_on_the_first_day_the_patient_asked_for(db: Engine, clinic, desk: Desk):
    asked = request_from(db, clinic.id, preferred="jueves o viernes a la mañana")
    page = text_of(desk.open(f"/console/requests/{asked}"))
    assert 'value="2026-12-03"' in page  # Thursday, not today
    offered = SLOT.findall(page)
    assert offered and all("|2026-12-03T" in s for s in offered)

    vague = request_from(db, clinic.id, phone="+595981000444", preferred="cuando puedan")
    page = text_of(desk.open(f"/console/requests/{vague}"))
    assert 'value="2026-12-01"' in page  # nothing said: the first day with space
