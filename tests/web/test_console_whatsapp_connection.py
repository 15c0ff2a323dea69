"""The WhatsApp connection page: what is configured, the addresses to paste in Twilio,
the last message received, and a test message queued once per form, to a number read as
E.164; the front desk cannot open it."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from store.db import transaction
from store.message_kinds import MessageKind
from store.models import InboundMessage, OutboxMessage
from tests.console_support import Desk
from tests.support import CLINIC_NUMBER
from tests.support import TestClinic as SmallClinic


def queued(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "staff")))


def test_an_admin_sees_the_connection_and_sends_one_test_message(
    db: Engine, admin: Desk, clinic: SmallClinic
) -> None:
    page = admin.open("/console/whatsapp").get_data(as_text=True)
    assert "modo de prueba" in page  # the console's tests run without Twilio's credentials
    assert '/whatsapp/inbound">' in page and '/whatsapp/status">' in page
    assert "todavía ninguno" in page
    with transaction(db) as session:  # a patient wrote: the webhook works
        session.add(InboundMessage(clinic_id=clinic.id, message_sid="SM1", from_phone="+1",
                                   to_phone=CLINIC_NUMBER, body="hola"))  # fmt: skip
    assert "todavía ninguno" not in admin.open("/console/whatsapp").get_data(as_text=True)

    form = {"phone": "0981 123 456", "token": "one-form"}
    assert admin.submit("/console/whatsapp/test", form).status_code == 303
    assert admin.submit("/console/whatsapp/test", form).status_code == 303  # twice: one
    [test] = queued(db)
    assert (test.to_phone, test.kind) == ("+595981123456", MessageKind.staff)
    assert "la conexión con WhatsApp funciona" in test.body
    page = admin.open("/console/whatsapp?notice=sent").get_data(as_text=True)
    assert '+595981123456 · <span class="test-status">En cola</span>' in page
    assert 'http-equiv="refresh"' in page  # until it settles

    bad = admin.submit("/console/whatsapp/test", {"phone": "hola"})
    assert bad.status_code == 422 and "no es válido" in bad.get_data(as_text=True)
    assert len(queued(db)) == 1


def test_the_front_desk_cannot_open_it(desk: Desk) -> None:
    assert desk.open("/console/whatsapp").status_code == 403
