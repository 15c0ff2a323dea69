"""The console's patients, inbox, takeover and failed-messages panel through the real app,
database, signed webhook and dispatcher (against the fake Twilio): who may open them,
CSRF on every form, patient-supplied text escaped, search, editing (a new phone keeps the
conversations whole), the takeover end to end, the quiet time after which the bot
resumes, WhatsApp's 24-hour window, and the panel's actions and badge."""

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from scheduler.worker import resume_job
from store.db import transaction
from store.models import (
    Clinic,
    Conversation,
    InboundMessage,
    OutboxMessage,
    OutboxStatus,
    Patient,
)
from store.outbox import enqueue
from store.patients import fold
from tests.console_support import NOW, Desk, add_staff
from tests.notification_support import writes
from tests.support import CLINIC_NUMBER, Chat, Clock, add_patient, make_app, make_clinic
from tests.window_support import REMINDER_SID, approve
from turnero.fake_twilio import FakeTwilio
from web.console.error_words import error_words

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PHONE = "+595981222333"
NEW_PHONE = "+595981999888"
TAGS = {"patient_name": "María", "date": "2/12", "time": "10:00", "professional": "Dra. Ana"}
SUBMISSION = re.compile(r'name="submission" value="([0-9a-f]+)"')


@pytest.fixture
def app(db: Engine, clock: Clock, clinic):
    return make_app(db, clock)


@pytest.fixture
def patient(db: Engine, app) -> Chat:
    return Chat(app.test_client(), db, phone=PHONE)


@pytest.fixture
def twilio(clock: Clock) -> Iterator[FakeTwilio]:
    with FakeTwilio(clock=clock) as fake:
        yield fake


def channel(fake: FakeTwilio) -> TwilioChannel:
    return TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)


def people(db: Engine, phone: str) -> list[Patient]:
    with Session(db) as session:
        return list(session.exec(select(Patient).where(Patient.phone == phone)))


def conversation(db: Engine, phone: str) -> Conversation | None:
    with Session(db) as session:
        return session.exec(select(Conversation).where(Conversation.phone == phone)).first()


def outbox(db: Engine, **where: object) -> list[OutboxMessage]:
    with Session(db) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query))


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def reply_by_hand(desk: Desk, phone: str, body: str):  # type: ignore[no-untyped-def]
    page = desk.open(f"/console/conversations/{phone}")
    submission = SUBMISSION.search(text_of(page))
    assert submission, "the reply form is missing"
    return desk.submit(
        f"/console/conversations/{phone}/reply", {"body": body, "submission": submission.group(1)}
    )


def failure(
    db: Engine, clinic_id: int, key: str, status: str, code: str | None = None, **kw: object
) -> int:
    """An outbound message that ended in `status` (as the dispatcher records it)."""
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic_id,
            idempotency_key=key,
            from_phone=CLINIC_NUMBER,
            to_phone=str(kw.pop("to", PHONE)),
            body=str(kw.pop("body", "Recordatorio: mañana a las 10:00")),
            now=NOW,
            kind=str(kw.pop("kind", "reminder")),
            language="es",
            variables=kw.pop("variables", None),  # type: ignore[arg-type]
        )
        row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
        row.status, row.error_code = status, code
        return row.id or 0


# -- who may open what -----------------------------------------------------------------------


def test_the_desk_opens_the_new_pages(db: Engine, clinic, desk: Desk) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    for path in ("/console/inbox", "/console/patients?q=maria", "/console/failed"):
        assert desk.open(path).status_code == 200, path
    assert desk.open(f"/console/conversations/{PHONE}").status_code == 200
    assert desk.open("/console/conversations/+595981000999").status_code == 404  # nobody
    assert desk.open("/console/conversations/not-a-phone").status_code == 404
    assert desk.open("/console/patients/999").status_code == 404


def test_another_clinics_patients_and_messages_stay_out_of_reach(
    db: Engine, clinic, desk: Desk
) -> None:
    other = make_clinic(db, number="+595981777000")
    stranger = add_patient(db, other.id, "+595981777111", "Otra Clínica")
    failed = failure(db, other.id, "other:1", "failed", "30008", to="+595981777111")
    assert desk.open(f"/console/patients/{stranger}").status_code == 404
    assert desk.open("/console/conversations/+595981777111").status_code == 404
    assert "Otra Clínica" not in text_of(desk.open("/console/patients?q=otra"))
    desk.open("/console/failed")
    assert desk.submit(f"/console/failed/{failed}/handled").location.endswith("notice=gone")
    assert outbox(db, id=failed)[0].handled_at is None


def test_every_new_form_needs_its_csrf_token(db: Engine, clinic, desk: Desk) -> None:
    pid = add_patient(db, clinic.id, PHONE, "María Pérez")
    failed = failure(db, clinic.id, "m1", "failed", "30008")
    posts = {
        f"/console/patients/{pid}": {"name": "Cambiado", "phone": PHONE},
        f"/console/conversations/{PHONE}/pause": {},
        f"/console/conversations/{PHONE}/resume": {},
        f"/console/conversations/{PHONE}/reply": {"body": "hola", "submission": "a" * 32},
        f"/console/failed/{failed}/resend": {},
        f"/console/failed/{failed}/handled": {},
        f"/console/failed/{failed}/fix": {"phone": NEW_PHONE},
    }
    for path, form in posts.items():
        for token in ({}, {"csrf_token": "forged"}):
            refused = desk.client.post(path, data={**form, **token})
            assert refused.status_code == 400, path
            assert "El formulario venció" in text_of(refused)
    [maria] = people(db, PHONE)
    assert (maria.name, maria.bot_paused) == ("María Pérez", False)
    assert len(outbox(db)) == 1 and outbox(db)[0].handled_at is None


# -- escaping ----------------------------------------------------------------------------------


def test_patient_supplied_text_is_shown_escaped_everywhere(
    db: Engine, clinic, desk: Desk, patient: Chat
) -> None:
    pid = add_patient(db, clinic.id, PHONE, SCRIPT, dni=SCRIPT)
    patient.says(SCRIPT)
    failure(db, clinic.id, "m1", "failed", "30008", body=SCRIPT)
    pages = [
        text_of(desk.open("/console/inbox")),
        text_of(desk.open("/console/patients?q=script")),
        text_of(desk.open(f"/console/patients/{pid}")),
        text_of(desk.open(f"/console/conversations/{PHONE}")),
        text_of(desk.open("/console/failed")),
    ]
    feed = desk.open(f"/console/conversations/{PHONE}/feed").get_json()
    pages += [
        desk.open("/console/inbox/feed").get_json()["html"],
        feed["html"],
        feed["status_html"],
    ]
    for n, body in enumerate(pages):
        assert SCRIPT not in body, n
    assert ESCAPED in pages[0] and ESCAPED in pages[1] and ESCAPED in pages[4]
    assert pages[3].count(ESCAPED) >= 3  # the name, what was written, the failure
    assert ESCAPED in feed["html"]
    assert SCRIPT in [m["body"] for m in feed["messages"]]  # data as JSON, never as HTML


# -- search and edit ---------------------------------------------------------------------------


def test_search_by_name_phone_or_dni_ignores_accents_and_case(
    db: Engine, clinic, desk: Desk
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez", dni="1.234.567")
    add_patient(db, clinic.id, "+595981444555", "JOSÉ GÓMEZ", dni="7654321")
    add_patient(db, clinic.id, "+595981666777", "Ñandú Ramírez")
    add_patient(db, clinic.id, "+595981888999", "Ã Guarani")  # nasal vowels fold too
    make_other = make_clinic(db, number="+595981777000")
    add_patient(db, make_other.id, "+595981777111", "María Otra")

    def found(query: str) -> list[str]:
        body = text_of(desk.open("/console/patients", query_string={"q": query}))
        return re.findall(r'href="/console/patients/\d+">([^<]+)</a>', body)

    assert found("maria") == ["María Pérez"]
    assert found("PEREZ maría") == ["María Pérez"]
    assert found("jose gomez") == ["JOSÉ GÓMEZ"]
    assert found("ñandu") == ["Ñandú Ramírez"] == found("NANDU")
    assert found("a guarani") == ["Ã Guarani"]
    assert found("0981 444 555") == ["JOSÉ GÓMEZ"]  # the phone's digits
    assert found("1234567") == ["María Pérez"] == found("1.234.567")  # the DNI either way
    assert found("%") == [] and found("zzz") == []
    assert "No encontramos" in text_of(desk.open("/console/patients?q=zzz"))
    assert fold("  José   ÑANDÚ ") == "jose nandu"


def test_the_desk_edits_a_patients_details(db: Engine, clinic, desk: Desk) -> None:
    pid = add_patient(db, clinic.id, PHONE, "maria perez")
    desk.open(f"/console/patients/{pid}")
    form = {
        "name": "María Pérez",
        "dni": "1.234.567",
        "insurance": "IPS",
        "plan": "A",
        "language": "gn",
        "phone": PHONE,
    }
    saved = desk.submit(f"/console/patients/{pid}", form)
    assert saved.location.endswith("notice=saved")
    [maria] = people(db, PHONE)
    assert (maria.name, maria.dni, maria.insurance, maria.plan, maria.language) == (
        "María Pérez",
        "1.234.567",
        "IPS",
        "A",
        "gn",
    )
    assert desk.submit(f"/console/patients/{pid}", form).location.endswith("notice=unchanged")
    for bad in ({"phone": "12"}, {"language": "fr"}, {"name": "x" * 201}, {"phone": ""}):
        refused = desk.submit(f"/console/patients/{pid}", {**form, **bad, "name": "Otro"} | bad)
        assert refused.status_code == 422, bad
        assert 'aria-invalid="true"' in text_of(refused)
    assert people(db, PHONE)[0].name == "María Pérez"  # nothing saved


def test_a_new_phone_in_local_form_is_kept_in_e164_and_takes_the_conversation_along(
    db: Engine, clinic, desk: Desk, patient: Chat
) -> None:
    pid = add_patient(db, clinic.id, PHONE, "María Pérez")
    patient.says("hola")
    desk.open(f"/console/patients/{pid}")
    desk.submit(f"/console/patients/{pid}", {"name": "María Pérez", "phone": "0981 999 888"})
    assert [p.id for p in people(db, NEW_PHONE)] == [pid]
    moved = conversation(db, NEW_PHONE)
    assert moved is not None and conversation(db, PHONE) is None
    # the window and the flow belong to the number: they start over
    assert (moved.last_inbound_at, moved.state) == (None, "{}")


def test_one_of_a_family_moving_leaves_the_phones_conversation_and_joins_the_new_one(
    db: Engine, clinic, desk: Desk, patient: Chat
) -> None:
    mother = add_patient(db, clinic.id, PHONE, "Rosa Giménez")
    son = add_patient(db, clinic.id, PHONE, "Juan Giménez")
    patient.says("hola")
    add_patient(db, clinic.id, NEW_PHONE, "Ana Giménez", bot_paused=True, unreachable="invalid")
    desk.open(f"/console/patients/{son}")
    desk.submit(f"/console/patients/{son}", {"name": "Juan Giménez", "phone": NEW_PHONE})
    assert [p.id for p in people(db, PHONE)] == [mother]
    assert conversation(db, PHONE) is not None and conversation(db, NEW_PHONE) is not None
    [juan] = [p for p in people(db, NEW_PHONE) if p.id == son]
    assert (juan.bot_paused, juan.unreachable) == (True, "invalid")  # what holds for the phone


# -- takeover ----------------------------------------------------------------------------------


def test_takeover_end_to_end_through_the_webhook_and_the_dispatcher(
    db: Engine, clinic, desk: Desk, patient: Chat, twilio: FakeTwilio, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    add_patient(db, clinic.id, PHONE, "Juan Pérez")  # her son shares the phone
    assert patient.says("hola")  # the bot answers

    desk.open(f"/console/conversations/{PHONE}")
    assert desk.submit(f"/console/conversations/{PHONE}/pause").location.endswith("paused")
    assert all(p.bot_paused for p in people(db, PHONE))

    clock.advance(minutes=5)
    assert patient.says("quiero hablar con alguien por mi receta") == ""  # the bot is silent
    with Session(db) as session:
        last = session.exec(select(InboundMessage).order_by(col(InboundMessage.id).desc())).first()
        assert last is not None and last.handled_by_bot is False
    assert conversation(db, PHONE).needs_staff  # type: ignore[union-attr]
    inbox = text_of(desk.open("/console/inbox"))
    assert "Pide atención" in inbox and "Bot en pausa" in inbox
    page = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert "quiero hablar con alguien por mi receta" in page and "Para recepción" in page

    first = reply_by_hand(desk, PHONE, "Hola María, soy Ana de recepción. Ya la llamo.")
    assert first.location.endswith("notice=sent")
    again = desk.submit(  # the same form sent twice: one message
        f"/console/conversations/{PHONE}/reply",
        {
            "body": "Hola María, soy Ana de recepción. Ya la llamo.",
            "submission": SUBMISSION.search(text_of(desk.page)).group(1),  # type: ignore[union-attr]
        },
    )
    assert again.location.endswith("notice=already_sent")
    [by_hand] = outbox(db, kind="staff")
    assert (by_hand.to_phone, by_hand.status) == (PHONE, OutboxStatus.pending)
    assert not conversation(db, PHONE).needs_staff  # type: ignore[union-attr]  # answered

    report = dispatch_due(db, channel(twilio), clock())
    assert report.sent >= 1
    assert [m["body"] for m in twilio.messages if m["to"] == f"whatsapp:{PHONE}"][-1] == (
        "Hola María, soy Ana de recepción. Ya la llamo."
    )
    assert outbox(db, kind="staff")[0].status == "queued"
    shown = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert "Recepción (a mano)" in shown and "Enviado a WhatsApp" in shown

    desk.submit(f"/console/conversations/{PHONE}/resume")
    assert not any(p.bot_paused for p in people(db, PHONE))
    assert not conversation(db, PHONE).needs_staff  # type: ignore[union-attr]
    assert patient.says("hola")  # the bot answers again


def test_a_reply_by_hand_pauses_the_bot_by_itself(
    db: Engine, clinic, desk: Desk, patient: Chat
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    patient.says("hola")
    reply_by_hand(desk, PHONE, "Hola, le escribe recepción")
    assert people(db, PHONE)[0].bot_paused
    assert patient.reply() == "Hola, le escribe recepción"
    assert patient.says("gracias") == ""


def test_the_bot_resumes_after_the_clinics_quiet_time(
    db: Engine, clinic, desk: Desk, patient: Chat, clock: Clock
) -> None:
    with transaction(db) as session:
        session.get(Clinic, clinic.id).bot_resume_after_minutes = 30  # type: ignore[union-attr]
    add_patient(db, clinic.id, PHONE, "María Pérez")
    patient.says("hola")
    reply_by_hand(desk, PHONE, "Hola, le escribe recepción")
    patient.reply()
    page = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert "vuelve al bot solo el martes 1 de diciembre 09:30" in page

    clock.advance(minutes=29)
    assert patient.says("sigo esperando") == ""  # still within the quiet time
    clock.advance(minutes=2)
    assert patient.says("hola")  # 31 minutes without staff: the bot answers
    assert not people(db, PHONE)[0].bot_paused
    assert conversation(db, PHONE).needs_staff  # type: ignore[union-attr]  # still unanswered

    reply_by_hand(desk, PHONE, "Perdón la demora")
    clock.advance(minutes=30)
    assert resume_job(db, clock) == 1  # the worker hands it back with nobody writing
    assert not people(db, PHONE)[0].bot_paused
    assert resume_job(db, clock) == 0


def test_a_pause_without_a_quiet_time_lasts_until_resumed(
    db: Engine, clinic, desk: Desk, patient: Chat, clock: Clock
) -> None:
    with transaction(db) as session:
        session.get(Clinic, clinic.id).bot_resume_after_minutes = 0  # type: ignore[union-attr]
    add_patient(db, clinic.id, PHONE, "María Pérez")
    desk.open(f"/console/conversations/{PHONE}")
    desk.submit(f"/console/conversations/{PHONE}/pause")
    clock.advance(days=3)
    assert resume_job(db, clock) == 0
    assert patient.says("hola") == ""


def test_humano_asks_for_staff_and_its_quiet_time_counts_from_then(
    db: Engine, clinic, desk: Desk, patient: Chat, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    patient.says("humano")
    assert people(db, PHONE)[0].bot_paused
    found = conversation(db, PHONE)
    assert found is not None and found.needs_staff and found.taken_over_at == NOW
    clock.advance(minutes=121)
    assert resume_job(db, clock) == 1


def test_new_messages_reach_the_open_conversation_through_its_feed(
    db: Engine, clinic, desk: Desk, patient: Chat, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    patient.says("hola")
    before = desk.open(f"/console/conversations/{PHONE}/feed").get_json()
    assert desk.open(f"/console/conversations/{PHONE}/feed").get_json()["stamp"] == before["stamp"]
    clock.advance(minutes=1)
    patient.says("¿atienden el sábado?")
    after = desk.open(f"/console/conversations/{PHONE}/feed").get_json()
    assert after["stamp"] != before["stamp"]
    assert "¿atienden el sábado?" in after["html"]
    assert [m["direction"] for m in after["messages"]] == ["in", "out", "in", "out"]
    assert after["window_open"] is True


# -- the 24-hour window ------------------------------------------------------------------------


def test_the_window_is_shown_and_free_text_refused_once_it_closes(
    db: Engine, clinic, desk: Desk, patient: Chat, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    patient.says("hola")
    clock.advance(hours=1, minutes=15)
    page = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert "Quedan 22 h 45 min de la ventana de 24 horas" in page
    assert '<fieldset id="reply-fields">' in page

    clock.advance(hours=23)
    desk.sign_in("ana@clinica.example")  # a day later: signed in again
    page = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert "solo se pueden enviar plantillas aprobadas" in page
    assert '<fieldset id="reply-fields" disabled>' in page
    refused = reply_by_hand(desk, PHONE, "¿Sigue ahí?")
    assert refused.status_code == 409
    assert "la ventana de 24 horas está cerrada" in text_of(refused)
    assert outbox(db, kind="staff") == []


def test_a_phone_that_never_wrote_has_no_window(db: Engine, clinic, desk: Desk) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    page = text_of(desk.open(f"/console/conversations/{PHONE}"))
    assert '<fieldset id="reply-fields" disabled>' in page


# -- the failed-messages panel -----------------------------------------------------------------


def badge(desk: Desk) -> int:
    found = re.search(
        r'<span class="badge"[^>]*>(\d+)</span>', text_of(desk.open("/console/inbox"))
    )
    return int(found.group(1)) if found else 0


def test_fixing_the_number_moves_the_patient_and_resends_to_it(
    db: Engine, clinic, desk: Desk, twilio: FakeTwilio, clock: Clock
) -> None:
    wrong = "+595981222334"
    add_patient(db, clinic.id, wrong, "María Pérez")
    writes(db, clinic.id, wrong, NOW - timedelta(hours=1))  # a reminder goes as text
    approve(db, clinic.id)  # and, to a number that never wrote, as the approved template
    failure(db, clinic.id, "reminder:1", "pending", to=wrong, variables=TAGS)
    twilio.fail_next(1, http_status=400, code=21211)
    dispatch_due(db, channel(twilio), clock())
    assert people(db, wrong)[0].unreachable == "invalid"
    assert badge(desk) == 1

    panel = text_of(desk.open("/console/failed"))
    assert error_words("21211", "es").split(":")[0] in panel
    fixed = desk.submit(f"/console/failed/{outbox(db)[0].id}/fix", {"phone": "0981 222 333"})
    assert fixed.location.endswith("notice=fixed")
    [maria] = people(db, PHONE)
    assert maria.unreachable is None and people(db, wrong) == []
    old, new = outbox(db)
    assert (old.handled_by, new.to_phone, new.idempotency_key) == (
        "staff:ana@clinica.example",
        PHONE,
        f"reminder:1:resend:{old.id}",
    )
    assert badge(desk) == 0
    dispatch_due(db, channel(twilio), clock())
    sent = twilio.messages[-1]
    assert (sent["to"], sent["content_sid"]) == (f"whatsapp:{PHONE}", REMINDER_SID)
    assert "María" in sent["content_variables"]  # the new number's window was never open
    assert outbox(db)[1].status == "queued" and outbox(db)[0].status == "failed"  # history


def test_a_bad_new_number_is_refused(db: Engine, clinic, desk: Desk) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    failed = failure(db, clinic.id, "m1", "failed", "21211")
    desk.open("/console/failed")
    for phone in ("12", "", PHONE):  # invalid, empty, the same number
        assert desk.submit(f"/console/failed/{failed}/fix", {"phone": phone}).status_code == 422
    assert len(outbox(db)) == 1 and outbox(db)[0].handled_at is None


def test_resend_and_mark_handled(
    db: Engine, clinic, desk: Desk, twilio: FakeTwilio, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    writes(db, clinic.id, PHONE, NOW - timedelta(hours=1))
    first = failure(db, clinic.id, "m1", "undelivered", "30008")
    clock.advance(minutes=1)
    second = failure(db, clinic.id, "m2", "not_sendable", kind="reminder")
    failure(db, clinic.id, "m3", "delivered")  # fine: not in the panel
    failure(db, clinic.id, "m4", "failed", "63016")  # replaced by its template:
    failure(db, clinic.id, "m4:template", "pending")  # not in the panel either
    assert badge(desk) == 2
    panel = text_of(desk.open("/console/failed"))
    assert panel.index(f"/console/failed/{second}/resend") < panel.index(
        f"/console/failed/{first}/resend"
    )  # newest first
    assert error_words("30008", "es") in panel
    assert "no hay una plantilla aprobada" in panel

    assert desk.submit(f"/console/failed/{first}/resend").location.endswith("notice=resent")
    assert desk.submit(f"/console/failed/{first}/resend").location.endswith("notice=gone")
    copies = outbox(db, idempotency_key=f"m1:resend:{first}")
    assert len(copies) == 1 and copies[0].body == outbox(db, id=first)[0].body
    dispatch_due(db, channel(twilio), clock())
    assert outbox(db, id=copies[0].id)[0].status == "queued"

    desk.open("/console/failed")
    assert desk.submit(f"/console/failed/{second}/handled").location.endswith("handled")
    row = outbox(db, id=second)[0]
    assert (row.handled_by, row.handled_at, row.status) == (
        "staff:ana@clinica.example",
        clock(),
        "not_sendable",
    )
    assert badge(desk) == 0
    assert "No hay mensajes fallidos pendientes" in text_of(desk.open("/console/failed"))


def test_a_message_that_would_fail_again_is_not_resent_and_the_panel_says_what_to_do(
    db: Engine, clinic, desk: Desk, clock: Clock
) -> None:
    add_patient(db, clinic.id, PHONE, "María Pérez")
    writes(db, clinic.id, PHONE, NOW - timedelta(days=3))  # the window closed long ago
    stuck = failure(db, clinic.id, "m1", "not_sendable", kind="reminder")
    panel = text_of(desk.open("/console/failed"))
    assert "agregue la plantilla de WhatsApp aprobada" in panel
    refused = desk.submit(f"/console/failed/{stuck}/resend")
    assert refused.location.endswith("notice=cannot_go_yet")
    assert "No se reenvió: fallaría otra vez" in text_of(desk.open(refused.location))
    assert outbox(db, idempotency_key=f"m1:resend:{stuck}") == []
    assert badge(desk) == 1  # still open

    writes(db, clinic.id, PHONE, clock())  # the patient wrote: the window is open again
    assert desk.submit(f"/console/failed/{stuck}/resend").location.endswith("notice=resent")
    assert len(outbox(db, idempotency_key=f"m1:resend:{stuck}")) == 1


def test_reasons_are_in_the_staff_members_language(db: Engine, app, clinic) -> None:
    add_staff(db, clinic.id, "jane", language="en")
    add_patient(db, clinic.id, PHONE, "María Pérez")
    failure(db, clinic.id, "m1", "failed", "63003")
    english = Desk(app.test_client())
    english.sign_in("jane")
    panel = text_of(english.open("/console/failed"))
    assert error_words("63003", "en") in panel and "Fix and resend" in panel


def test_the_inbox_puts_requests_for_staff_first_then_takeovers_then_the_latest(
    db: Engine, app, clinic, desk: Desk, clock: Clock
) -> None:
    writers = {}
    for name, phone in [
        ("Pide Humano", "+595981000001"),
        ("En Pausa", "+595981000002"),
        ("Escribió Recién", "+595981000003"),
    ]:
        add_patient(db, clinic.id, phone, name)
        writers[name] = Chat(app.test_client(), db, phone=phone)
    writers["Pide Humano"].says("humano")
    clock.advance(minutes=1)
    writers["En Pausa"].says("hola")
    desk.open("/console/conversations/+595981000002")
    desk.submit("/console/conversations/+595981000002/pause")
    clock.advance(minutes=1)
    writers["Escribió Recién"].says("hola")
    listed = re.findall(
        r'href="/console/conversations/[^"]+">([^<]+)</a>', text_of(desk.open("/console/inbox"))
    )
    assert listed == ["Pide Humano", "En Pausa", "Escribió Recién"]


def test_the_inbox_link_counts_patients_asking_for_a_person_and_marks_who_opted_out(
    db: Engine, app, clinic, desk: Desk
) -> None:
    add_patient(db, clinic.id, "+595981000001", "Pide Humano")
    add_patient(db, clinic.id, "+595981000002", "Se Fue")
    Chat(app.test_client(), db, phone="+595981000001").says("humano")
    Chat(app.test_client(), db, phone="+595981000002").says("BAJA")
    response = desk.open("/console/inbox")
    page = response.get_data(as_text=True)
    inbox_link = re.search(
        r'href="/console/inbox"[^>]*>([^<]*)(<span class="badge"[^>]*>(\d+))?', page
    )
    assert inbox_link is not None and inbox_link.group(3) == "1"
    shown = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Se Fue +595981000002 Se dio de baja de los mensajes" in shown
    assert "Pide Humano +595981000001 Pide atención" in shown
