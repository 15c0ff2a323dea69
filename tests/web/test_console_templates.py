"""The console's templates and flow steps through the real app and database: only admins
open them (anonymous → sign-in, front desk → 403), every form needs its CSRF token, a
text is saved only when its tags and braces are right (422 with the reason otherwise),
the preview (with and without JavaScript) fills it with sample data, patient-facing text
is escaped, history and revert work, and the steps are checked before they are saved."""

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from store.clinic_templates import FLOW, TEMPLATE, flow_steps, history, overrides
from tests.console_support import Desk, add_staff
from tests.support import make_clinic

EDIT = "/console/templates/es/booking.ask_name"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def own(db: Engine, clinic_id: int, language: str = "es") -> dict[str, str]:
    with Session(db) as session:
        return overrides(session, clinic_id, language)


def test_anonymous_users_are_sent_to_sign_in_and_the_front_desk_is_refused(db: Engine, app, clinic):
    anonymous = Desk(app.test_client())
    for path in ("/console/templates", EDIT, "/console/flows"):
        response = anonymous.open(path)
        assert response.status_code == 303 and response.location.startswith("/console/login")
    add_staff(db, clinic.id, "ana@clinica.example")
    desk = Desk(app.test_client())
    desk.sign_in("ana@clinica.example")
    desk.open("/console/agenda")
    assert "Mensajes y flujos" not in text_of(desk.page)  # not in the desk's navigation
    for path in ("/console/templates", EDIT, "/console/flows"):
        assert desk.open(path).status_code == 403, path
    desk.open("/console/agenda")
    for path in (
        EDIT,
        EDIT + "/preview",
        EDIT + "/reset",
        "/console/flows",
        "/console/changes/1/revert",
    ):
        assert desk.submit(path, {"body": "Hola"}).status_code == 403, path
    assert own(db, clinic.id) == {}


def test_forms_without_their_csrf_token_are_refused(db: Engine, clinic, admin: Desk):
    for path in (EDIT, EDIT + "/preview", EDIT + "/reset", "/console/flows"):
        for data in [{}, {"csrf_token": "forged"}]:
            response = admin.client.post(path, data={**data, "body": "Hola", "on": "dni"})
            assert response.status_code == 400, path
    assert own(db, clinic.id) == {}
    with Session(db) as session:
        assert flow_steps(session, clinic.id, "booking") == frozenset()


def test_the_list_shows_every_area_marks_changed_texts_and_switches_language(
    db: Engine, clinic, admin: Desk
):
    page = text_of(admin.open("/console/templates"))
    assert "Mensajes y flujos" in page and "Recordatorios y avisos" in page
    assert "notification.reminder" in page and "system.unknown_clinic" not in page
    assert 'class="tag changed"' not in page
    admin.open(EDIT)
    admin.submit(EDIT, {"body": "¿Nombre y apellido? Gracias", "action": "save"})
    page = text_of(admin.open("/console/templates"))
    assert page.count('class="tag changed"') == 1 and "¿Nombre y apellido? Gracias" in page
    english = text_of(admin.open("/console/templates?language=en"))
    assert "What is the patient" in english and 'class="tag changed"' not in english
    assert admin.open("/console/templates/xx/booking.ask_name").status_code == 404
    assert admin.open("/console/templates/es/system.unknown_clinic").status_code == 404
    assert admin.open("/console/templates/es/no.such_key").status_code == 404


def test_the_edit_page_shows_the_default_the_tags_and_a_preview(clinic, admin: Desk):
    page = text_of(admin.open("/console/templates/es/notification.reminder"))
    assert "Texto original" in page and "{hold_until}" not in page
    assert "{patient_name}</code></dt><dd>nombre del paciente" in page
    assert "Hola, María González 👋 Te recordamos tu turno en Clínica Test" in page  # preview
    assert "martes 15 de diciembre a las 10:30" in page
    assert 'src="/console/static/templates.js"' in page


def test_a_text_is_saved_recorded_and_shown_with_its_history(db: Engine, clinic, admin: Desk):
    admin.open(EDIT)
    saved = admin.submit(
        EDIT, {"body": "¿Nombre completo?\r\nGracias ({clinic_name})", "action": "save"}
    )
    assert (saved.status_code, saved.location) == (303, EDIT + "?notice=saved")
    assert own(db, clinic.id) == {"booking.ask_name": "¿Nombre completo?\nGracias ({clinic_name})"}
    page = text_of(admin.open(saved.location))
    assert "Texto guardado" in page and "boss@clinica.example" in page
    assert "(texto original)" in page  # the change's "before"
    assert "¿Nombre completo?\nGracias (Clínica Test)" in page  # the preview


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Hola {nombre}", "Este mensaje no ofrece estas etiquetas: {nombre}."),
        ("Hola {patient_name", "Hay una llave { o } sin cerrar."),
        ("", "El mensaje no puede quedar vacío."),
    ],
)
def test_a_refused_text_answers_422_with_the_reason(db: Engine, clinic, admin: Desk, body, reason):
    admin.open(EDIT)
    refused = admin.submit(EDIT, {"body": body, "action": "save"})
    assert refused.status_code == 422
    assert reason in text_of(refused)
    assert own(db, clinic.id) == {}


def test_the_preview_without_javascript_and_as_json(db: Engine, clinic, admin: Desk):
    admin.open(EDIT)
    shown = admin.submit(EDIT, {"body": "Te esperamos en {clinic_name}", "action": "preview"})
    assert shown.status_code == 200 and "Te esperamos en Clínica Test" in text_of(shown)
    assert own(db, clinic.id) == {}  # a preview saves nothing
    answer = admin.submit(EDIT + "/preview", {"body": "Te esperamos en {clinic_name}"})
    assert answer.get_json() == {"ok": True, "text": "Te esperamos en Clínica Test"}
    answer = admin.submit(EDIT + "/preview", {"body": "Hola {nombre}"})
    assert answer.get_json() == {
        "ok": False,
        "problems": ["Este mensaje no ofrece estas etiquetas: {nombre}."],
    }
    token = admin.token()
    by_header = admin.client.post(
        EDIT + "/preview", data={"body": "Hola"}, headers={"X-CSRFToken": token}
    )
    assert by_header.get_json() == {"ok": True, "text": "Hola"}


def test_texts_are_escaped_on_every_page(db: Engine, clinic, admin: Desk):
    admin.open(EDIT)
    admin.submit(EDIT, {"body": SCRIPT + " {clinic_name}", "action": "save"})
    for path in (EDIT, "/console/templates"):
        page = text_of(admin.open(path))
        assert SCRIPT not in page and ESCAPED in page, path
    answer = admin.submit(EDIT + "/preview", {"body": SCRIPT})
    assert answer.get_json()["text"] == SCRIPT  # JSON; the script shows it as text


def test_back_to_default_and_revert(db: Engine, clinic, admin: Desk):
    admin.open(EDIT)
    admin.submit(EDIT, {"body": "Primera versión", "action": "save"})
    admin.open(EDIT)
    admin.submit(EDIT, {"body": "Segunda versión", "action": "save"})
    with Session(db) as session:
        latest, _first = history(session, clinic.id, TEMPLATE, "es", "booking.ask_name")
    admin.open(EDIT)
    reverted = admin.submit(f"/console/changes/{latest.id}/revert")
    assert (reverted.status_code, reverted.location) == (303, EDIT + "?notice=reverted")
    assert own(db, clinic.id) == {"booking.ask_name": "Primera versión"}
    admin.open(EDIT)
    reset = admin.submit(EDIT + "/reset")
    assert reset.location == EDIT + "?notice=reset" and own(db, clinic.id) == {}
    assert "Se volvió al texto original" in text_of(admin.open(reset.location))
    with Session(db) as session:
        assert len(history(session, clinic.id, TEMPLATE, "es", "booking.ask_name")) == 4
    assert admin.submit("/console/changes/999/revert").status_code == 404


def test_another_clinics_change_is_not_found(db: Engine, clinic, admin: Desk, app):
    other = make_clinic(db, number="+595981000111")
    add_staff(db, other.id, "other@clinica.example", role="admin")
    stranger = Desk(app.test_client())
    stranger.sign_in("other@clinica.example")
    stranger.open(EDIT)
    stranger.submit(EDIT, {"body": "De otra clínica", "action": "save"})
    with Session(db) as session:
        [theirs] = history(session, other.id, TEMPLATE, "es", "booking.ask_name")
    admin.open(EDIT)
    assert admin.submit(f"/console/changes/{theirs.id}/revert").status_code == 404
    assert "De otra clínica" not in text_of(admin.open("/console/templates"))


def test_steps_are_switched_off_checked_and_reverted(db: Engine, clinic, admin: Desk):
    page = text_of(admin.open("/console/flows"))
    assert "Preguntar el documento (DNI/CI)" in page
    assert 'href="/console/templates/es/booking.ask_dni"' in page
    saved = admin.submit("/console/flows", {"on": "professional"})  # DNI and insurance off
    assert (saved.status_code, saved.location) == (303, "/console/flows?notice=saved")
    with Session(db) as session:
        assert flow_steps(session, clinic.id, "booking") == {"dni", "insurance"}
        [change] = history(session, clinic.id, FLOW, "", "booking")
    page = text_of(admin.open(saved.location))
    assert "apagados: Preguntar el documento (DNI/CI), Preguntar la obra social" in page
    assert admin.submit("/console/flows", {"on": "review"}).status_code == 400
    reverted = admin.submit(f"/console/changes/{change.id}/revert")
    assert reverted.location == "/console/flows?notice=reverted"
    with Session(db) as session:
        assert flow_steps(session, clinic.id, "booking") == frozenset()
