"""Campaigns in the console and the admin API: the preview says how many, who is left out
and how the message reads; the confirmation repeats the number; a form sent twice is one
campaign; what cannot be sent gets its reason, never a 5xx; the results page and stop."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import Settings
from scheduler.worker import dispatch_job
from store.models import Campaign, OutboxMessage
from tests.campaign_support import Person, seat
from tests.console_support import Desk
from tests.notification_support import writes
from tests.support import Chat, Clock, make_app
from tests.support import TestClinic as SmallClinic
from tests.window_support import live
from webhook import create_app

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday
TOMORROW = date(2026, 11, 26)
TOKEN = "admin-token-for-tests-0123456789"
ROSA = Person("+595981000001", "Rosa Giménez", "es")
MARY = Person("+595981000003", "Mary Smith", "en")
BAJA = Person("+595981000006", "Berta Baja", "es", (("opted_out", True),))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 26, hour, minute, tzinfo=ASU).astimezone(UTC)


def tomorrows(db: Engine, clinic: SmallClinic) -> None:
    seat(db, clinic, ROSA, at(15))
    seat(db, clinic, MARY, at(16))
    seat(db, clinic, BAJA, at(17))
    seat(db, clinic, ROSA, at(9), professional="luis")  # the morning


def outbox(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboxMessage)))


def test_the_desk_previews_confirms_and_watches_a_campaign(
    db: Engine, desk: Desk, clinic: SmallClinic
) -> None:
    tomorrows(db, clinic)
    page = desk.open(
        "/console/campaigns/new?kind=campaign_reschedule&pick=tomorrow_afternoon&exclude_paused=on"
    ).get_data(as_text=True)
    assert "2 pacientes reciben el mensaje" in page
    assert "1 se dio de baja de los mensajes" in page
    assert "no va a poder atenderte" in page and "will not be able to see you" in page
    assert "¿Enviar a 2 pacientes?" in page and "Sí, enviar a 2 pacientes" in page
    assert outbox(db) == []  # a preview keeps nothing

    form = {
        "kind": "campaign_reschedule",
        "first": "2026-11-26",
        "last": "2026-11-26",
        "part": "afternoon",
        "exclude_paused": "on",
        "token": "same-form",
    }
    sent = desk.submit("/console/campaigns", form)
    assert sent.status_code == 303
    again = desk.submit("/console/campaigns", form)  # the double click
    assert again.headers["Location"] == sent.headers["Location"]
    assert len(outbox(db)) == 2

    results = desk.open(sent.headers["Location"]).get_data(as_text=True)
    assert "Pedido de reprogramar" in results and 'http-equiv="refresh"' in results
    assert 'id="result-recipients">2<' in results
    assert '/stop">' in results  # messages still to send: it can be stopped
    stopped = desk.submit(sent.headers["Location"] + "/stop")
    assert "notice=stopped" in stopped.headers["Location"]
    assert '/stop">' not in desk.open(sent.headers["Location"]).get_data(as_text=True)
    assert "ya estaba detenida" in desk.client.post(
        sent.headers["Location"] + "/stop", data={"csrf_token": desk.token()}, follow_redirects=True
    ).get_data(as_text=True)
    listing = desk.open("/console/campaigns").get_data(as_text=True)
    assert "detenida" in listing and "Pedido de reprogramar" in listing


def test_the_campaign_page_counts_what_was_read_and_who_replied(
    db: Engine, desk: Desk, clock: Clock, clinic: SmallClinic
) -> None:
    tomorrows(db, clinic)
    for person in (ROSA, MARY):
        writes(db, clinic.id, person.phone, clock() - timedelta(hours=1))
    form = {
        "kind": "campaign_reminder",
        "first": "2026-11-26",
        "part": "afternoon",
        "token": "read-form",
    }
    desk.open("/console/campaigns/new")
    page = desk.submit("/console/campaigns", form).headers["Location"]
    with live(db, clock) as server:
        dispatch_job(db, server.channel, clock)
        sid = {m["to"].removeprefix("whatsapp:"): m["sid"] for m in server.fake.messages}
        assert set(sid) == {ROSA.phone, MARY.phone}
        server.fake.emit_statuses(sid[ROSA.phone], ["sent", "delivered", "read"])
        server.fake.emit_statuses(sid[MARY.phone], ["sent", "delivered"])
    clock.advance(minutes=3)
    webhook = make_app(db, clock)  # the console's app has no Twilio to sign for it
    Chat(webhook.test_client(), db, phone=MARY.phone).says("gracias")
    shown = desk.open(page).get_data(as_text=True)
    for name, value in [
        ("recipients", 2),
        ("sent", 2),
        ("delivered", 2),
        ("read", 1),
        ("replied", 1),
        ("pending", 0),
    ]:
        assert f'id="result-{name}">{value}<' in shown, name


def test_what_cannot_be_sent_is_said_on_the_page(
    db: Engine, desk: Desk, clinic: SmallClinic
) -> None:
    tomorrows(db, clinic)
    nobody = desk.open("/console/campaigns/new?kind=campaign_closure&first=2026-12-24")
    assert "0 pacientes" in nobody.get_data(as_text=True)
    assert "send-button" not in nobody.get_data(as_text=True)
    long = desk.open(f"/console/campaigns/new?kind=campaign_text&pick=tomorrow&text={'x' * 10_000}")
    assert long.status_code == 200 and "demasiado largo" in long.get_data(as_text=True)
    tags = desk.open("/console/campaigns/new?kind=campaign_text&pick=tomorrow&text=Hola+{nombre}")
    assert "nombre" in tags.get_data(as_text=True) and "send-button" not in tags.get_data(
        as_text=True
    )
    past = desk.submit(
        "/console/campaigns",
        {"kind": "campaign_closure", "pick": "tomorrow", "send_at": "2026-11-24T10:00"},
    )
    assert past.status_code == 422 and "ya pasó" in past.get_data(as_text=True)
    none = desk.submit("/console/campaigns", {"kind": "campaign_closure", "first": "2026-12-24"})
    assert none.status_code == 422 and "0 pacientes" in none.get_data(as_text=True)
    assert outbox(db) == []
    assert desk.open("/console/campaigns/999").status_code == 404


def api(app: Flask, clinic_id: int, method: str, path: str, body: object = None):
    return app.test_client().open(
        f"/admin/api/clinics/{clinic_id}/campaigns{path}",
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "X-Turnero-User": "script"},
        json=body,
    )


def test_the_admin_api_previews_sends_once_lists_and_stops(
    db: Engine, clock: Clock, clinic: SmallClinic
) -> None:
    tomorrows(db, clinic)
    settings = Settings(database_url=str(db.url), secret_key="c-secret", admin_api_token=TOKEN)
    app = create_app(settings, clock=clock, engine=db)
    body = {
        "kind": "campaign_closure",
        "filters": {"first": "2026-11-26", "statuses": ["booked", "confirmed"]},
        "token": "closure-2026-11-26",
    }
    seen = api(app, clinic.id, "POST", "/preview", body).get_json()
    assert (seen["recipients"], seen["excluded"], seen["appointments"]) == (2, {"opted_out": 1}, 4)
    assert "va a estar cerrada" in seen["samples"][0]["body"]
    first = api(app, clinic.id, "POST", "", body)
    second = api(app, clinic.id, "POST", "", body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert first.get_json()["queued"] == 2 and len(outbox(db)) == 2
    campaign_id = first.get_json()["id"]
    shown = api(app, clinic.id, "GET", f"/{campaign_id}").get_json()
    assert (shown["created_by"], shown["results"]["recipients"]) == ("script", 2)
    assert [c["id"] for c in api(app, clinic.id, "GET", "").get_json()] == [campaign_id]
    assert api(app, clinic.id, "POST", f"/{campaign_id}/stop").get_json() == {"withdrawn": 2}
    assert api(app, clinic.id, "POST", f"/{campaign_id}/stop").status_code == 409
    assert api(app, clinic.id, "GET", "/12345").status_code == 404

    for bad, reason in [
        ({**body, "kind": "nope", "token": "t-00000001"}, "invalid"),
        ({**body, "filters": {"first": "2026-12-24"}, "token": "t-00000002"}, "no_recipients"),
        ({**body, "send_at": "2026-11-01T10:00", "token": "t-00000003"}, "invalid"),
        ({**body, "kind": "campaign_text", "text": "x" * 10_000, "token": "t-4xxxxxx"}, "invalid"),
        ({**body, "token": "short"}, "invalid_body"),
        ({**body, "filters": {"first": "someday"}}, "invalid"),
    ]:
        answer = api(app, clinic.id, "POST", "", bad)
        assert (answer.status_code, answer.get_json()["error"]) == (422, reason), bad
    with Session(db) as session:
        assert len(list(session.exec(select(Campaign)))) == 1
