"""The WhatsApp connection page: what is configured, the addresses to paste in Twilio,
the last message received, and a test message queued once per form, to a number read as
E.164; the front desk cannot open it."""

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pydantic import ValidationError
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.settings import Settings
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import Clinic, InboundMessage, OutboxMessage
from tests.console_support import Desk, add_staff, console_app
from tests.support import CLINIC_NUMBER, Clock
from tests.support import TestClinic as SmallClinic

SANDBOX = "+14155238886"  # Twilio's WhatsApp sandbox


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


def _admin_of(db: Engine, tmp_path: Path, clock: Clock, clinic_id: int, code: str | None) -> Desk:
    """An admin signed in to a console whose TWILIO_SANDBOX_CODE is `code`."""
    add_staff(db, clinic_id, "boss@clinica.example", role="admin")
    admin = Desk(console_app(db, tmp_path, clock, sandbox_code=code).test_client())
    admin.sign_in("boss@clinica.example")
    return admin


def _on_number(db: Engine, clinic_id: int, number: str) -> None:
    with transaction(db) as session:
        session.execute(
            update(Clinic).where(col(Clinic.id) == clinic_id).values(whatsapp_number=number)
        )


def test_on_the_sandbox_a_qr_opens_a_chat_with_its_join_text(
    db: Engine, tmp_path: Path, clock: Clock, clinic: SmallClinic
) -> None:
    _on_number(db, clinic.id, SANDBOX)
    admin = _admin_of(db, tmp_path, clock, clinic.id, "join Happy-Tiger")
    page = admin.open("/console/whatsapp").get_data(as_text=True)
    link = "https://wa.me/14155238886?text=join%20happy-tiger"
    assert f'<a id="sandbox-link" href="{link}">' in page and "«join happy-tiger»" in page
    qr = admin.open("/console/whatsapp/sandbox-qr.png")  # the image the page shows
    assert 'src="/console/whatsapp/sandbox-qr.png"' in page and qr.mimetype == "image/png"
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.data)).convert("L"))
    assert found.text == link


def test_on_the_sandbox_without_its_code_the_page_says_where_it_goes(
    db: Engine, tmp_path: Path, clock: Clock, clinic: SmallClinic
) -> None:
    _on_number(db, clinic.id, SANDBOX)
    admin = _admin_of(db, tmp_path, clock, clinic.id, None)
    page = admin.open("/console/whatsapp").get_data(as_text=True)
    assert "TWILIO_SANDBOX_CODE" in page and "sandbox-qr.png" not in page
    assert admin.open("/console/whatsapp/sandbox-qr.png").status_code == 404


def test_off_the_sandbox_there_is_no_qr(
    db: Engine, tmp_path: Path, clock: Clock, clinic: SmallClinic
) -> None:
    admin = _admin_of(db, tmp_path, clock, clinic.id, "happy-tiger")
    page = admin.open("/console/whatsapp").get_data(as_text=True)
    assert 'id="sandbox"' not in page
    assert admin.open("/console/whatsapp/sandbox-qr.png").status_code == 404


@pytest.mark.parametrize("code", ["happy tiger", "join <b>", "happy-tiger&x=1"])
def test_a_sandbox_code_that_is_not_one_stops_the_start(code: str) -> None:
    with pytest.raises(ValidationError, match="TWILIO_SANDBOX_CODE"):
        Settings(twilio_sandbox_code=code)
