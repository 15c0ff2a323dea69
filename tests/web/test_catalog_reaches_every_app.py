"""An admin's change, made in one app (the console, the admin API), reaches the bot of
another app on the same database — another process, with its own catalog cache — within
a second: that bot reads the clinic's catalog version every half second and its catalog
again once the version moved. Its cache runs on a clock the test moves."""

from flask import Flask
from sqlalchemy import Engine, text

from tests.console_support import Desk
from tests.support import Chat, Clock, Ticks, catalog_ticks, make_app


def bot_app(db: Engine, clock: Clock) -> tuple[Chat, Ticks]:
    """A second app on the same database, as another web server runs it: a patient's chat
    through it, and the clock of its catalog cache."""
    bot = make_app(db, clock)
    return Chat(bot.test_client(), db), catalog_ticks(bot)


def test_a_text_saved_in_the_console_reaches_another_apps_bot_within_a_second(
    db: Engine, clock: Clock, clinic, admin: Desk
):
    patient, ticks = bot_app(db, clock)
    assert "¿Para qué servicio querés el turno?" in patient.says("hola")
    edit = "/console/templates/es/booking.ask_service"
    admin.open(edit)
    saved = admin.submit(edit, {"body": "Elegí un servicio:\n{options}", "action": "save"})
    assert saved.status_code == 303
    ticks.advance(0.4)
    assert "¿Para qué servicio" in patient.says("menu")  # kept: its version not read yet
    ticks.advance(0.1)
    reply = patient.says("menu")
    assert "Elegí un servicio:\n1. Consulta general" in reply and "¿Para qué" not in reply


def test_a_setting_changed_through_the_admin_api_reaches_another_apps_bot_within_a_second(
    db: Engine, clock: Clock, clinic, app: Flask
):
    patient, ticks = bot_app(db, clock)
    assert "Clínica Test" in patient.says("hola")
    token = app.extensions["turnero"]["settings"].admin_token
    changed = app.test_client().patch(
        f"/admin/api/clinics/{clinic.id}/settings",
        json={"name": "Clínica Norte"},
        headers={"Authorization": f"Bearer {token}", "X-Turnero-User": "integration"},
    )
    assert changed.status_code == 200
    ticks.advance(1)
    newcomer = Chat(patient.client, db, phone="+595981444555")
    reply = newcomer.says("hola")
    assert "Clínica Norte" in reply and "Clínica Test" not in reply


def test_without_a_new_version_the_kept_catalog_serves_until_its_ten_seconds_end(
    db: Engine, clock: Clock, clinic
):
    """A change written behind the store's back (plain SQL, no version bumped) shows once
    the catalog's upper age has passed: the safety net under the version check."""
    patient, ticks = bot_app(db, clock)
    assert "Clínica Test" in patient.says("hola")
    with db.begin() as connection:
        connection.execute(
            text("UPDATE clinic SET name = :name WHERE id = :id"),
            {"name": "Clínica Sur", "id": clinic.id},
        )
    ticks.advance(9.9)
    newcomer = Chat(patient.client, db, phone="+595981444666")
    assert "Clínica Test" in newcomer.says("hola")  # its version read: unchanged
    ticks.advance(0.1)
    assert "Clínica Sur" in Chat(patient.client, db, phone="+595981444555").says("hola")
