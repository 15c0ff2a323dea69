"""Staff accounts in the console: everyone changes their own name, language and password
(which signs out their other sessions); admins add accounts, change roles, disable
people and set new passwords, and can never leave the clinic without an admin."""

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.models import StaffUser
from tests.console_support import PASSWORD, Desk, add_staff
from tests.support import make_clinic

NEW_PASSWORD = "otra clave bien larga"


def signed_in(app: Flask, login: str, password: str = PASSWORD) -> Desk:
    desk = Desk(app.test_client())
    desk.sign_in(login, password)
    assert desk.open("/console/agenda").status_code == 200, "sign-in failed"
    return desk


def account(db: Engine, login: str) -> StaffUser:
    with Session(db) as session:
        found = session.exec(select(StaffUser).where(StaffUser.login == login)).one()
        session.expunge(found)
        return found


def test_everyone_changes_their_own_name_and_language(app: Flask, db: Engine, clinic) -> None:
    add_staff(db, clinic.id, "ana")
    desk = signed_in(app, "ana")
    desk.open("/console/account")
    saved = desk.submit("/console/account", {"display_name": "Ana B.", "language": "en"})
    assert saved.status_code == 303
    page = desk.open(saved.location).get_data(as_text=True)
    assert "My account" in page and "Changes saved." in page and "Ana B." in page
    refused = desk.submit("/console/account", {"display_name": " ", "language": "fr"})
    assert refused.status_code == 422
    assert account(db, "ana").language == "en"


def test_a_new_password_signs_out_the_other_sessions(app: Flask, db: Engine, clinic) -> None:
    add_staff(db, clinic.id, "ana")
    elsewhere = signed_in(app, "ana")
    desk = signed_in(app, "ana")
    desk.open("/console/account")
    for form, reason in [
        ({"current_password": "wrong", "password": NEW_PASSWORD}, "La contraseña actual"),
        ({"current_password": PASSWORD, "password": "corta"}, "Es muy corta"),
        ({"current_password": PASSWORD, "password": NEW_PASSWORD}, "no coinciden"),
    ]:
        refused = desk.submit("/console/account/password", {"password_again": "x", **form})
        assert refused.status_code == 422 and reason in refused.get_data(as_text=True)
    changed = desk.submit(
        "/console/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    assert desk.open("/console/agenda").status_code == 200  # this session stays
    assert elsewhere.open("/console/agenda").status_code == 303  # the other one ended
    assert signed_in(app, "ana", NEW_PASSWORD)


def test_admins_add_an_account_that_can_sign_in(app: Flask, db: Engine, clinic) -> None:
    add_staff(db, clinic.id, "boss", role="admin")
    desk = signed_in(app, "boss")
    desk.open("/console/staff/new")
    form = {
        "login": "Rosa@Clinica.example",
        "display_name": "Rosa <script>alert(1)</script>",
        "role": "staff",
        "language": "gn",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    assert desk.submit("/console/staff/new", form).status_code == 303
    listing = desk.open("/console/staff").get_data(as_text=True)
    assert "Rosa &lt;script&gt;" in listing and "<script>alert" not in listing
    assert "rosa@clinica.example" in listing
    again = desk.submit("/console/staff/new", form)
    assert again.status_code == 422 and "Ese usuario ya existe" in again.get_data(as_text=True)
    weak = desk.submit("/console/staff/new", {**form, "login": "otra", "password": "1234567890"})
    assert weak.status_code == 422
    rosa = signed_in(app, "rosa@clinica.example", NEW_PASSWORD)
    assert "Agenda" in rosa.open("/console/agenda").get_data(as_text=True)  # in Guarani too


def test_a_disabled_account_is_signed_out_at_once(app: Flask, db: Engine, clinic) -> None:
    add_staff(db, clinic.id, "boss", role="admin")
    ana_id = add_staff(db, clinic.id, "ana")
    ana = signed_in(app, "ana")
    desk = signed_in(app, "boss")
    desk.open(f"/console/staff/{ana_id}")
    saved = desk.submit(
        f"/console/staff/{ana_id}", {"display_name": "Ana", "role": "staff", "language": "es"}
    )
    assert saved.status_code == 303
    assert not account(db, "ana").active
    assert ana.open("/console/agenda").status_code == 303
    assert Desk(app.test_client()).sign_in("ana").status_code == 401


def test_an_admin_sets_a_new_password_for_someone(app: Flask, db: Engine, clinic) -> None:
    add_staff(db, clinic.id, "boss", role="admin")
    ana_id = add_staff(db, clinic.id, "ana")
    ana = signed_in(app, "ana")
    desk = signed_in(app, "boss")
    desk.open(f"/console/staff/{ana_id}")
    path = f"/console/staff/{ana_id}/password"
    assert desk.submit(path, {"password": NEW_PASSWORD}).status_code == 422  # typed once
    done = desk.submit(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 303
    assert ana.open("/console/agenda").status_code == 303
    assert signed_in(app, "ana", NEW_PASSWORD)


def test_the_last_admin_cannot_step_down(app: Flask, db: Engine, clinic) -> None:
    boss_id = add_staff(db, clinic.id, "boss", role="admin")
    desk = signed_in(app, "boss")
    desk.open(f"/console/staff/{boss_id}")
    as_desk = {"display_name": "Boss", "role": "staff", "language": "es", "active": "1"}
    refused = desk.submit(f"/console/staff/{boss_id}", as_desk)
    assert refused.status_code == 422
    assert "al menos una cuenta de administración" in refused.get_data(as_text=True)
    assert account(db, "boss").role == "admin"
    add_staff(db, clinic.id, "second", role="admin")
    assert desk.submit(f"/console/staff/{boss_id}", as_desk).status_code == 303
    assert desk.open("/console/staff").status_code == 403  # no longer an admin


def test_accounts_of_another_clinic_are_not_found(app: Flask, db: Engine, clinic) -> None:
    other = make_clinic(db, number="+595981999999")
    stranger_id = add_staff(db, other.id, "stranger", role="admin")
    add_staff(db, clinic.id, "boss", role="admin")
    desk = signed_in(app, "boss")
    assert desk.open(f"/console/staff/{stranger_id}").status_code == 404
    assert "stranger" not in desk.open("/console/staff").get_data(as_text=True)


def test_the_last_sign_in_is_shown_in_the_clinics_time(app: Flask, db: Engine, clinic) -> None:
    add_staff(db, clinic.id, "boss", role="admin")
    desk = signed_in(app, "boss")
    with Session(db) as session:
        boss = session.exec(select(StaffUser).where(StaffUser.login == "boss")).one()
        boss.last_login_at = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)  # 10:05 in Asunción
        session.add(boss)
        session.commit()
    page = desk.open("/console/staff").get_data(as_text=True)
    assert "martes 1 de diciembre 10:05" in page and "UTC" not in page
