"""Hostile input at the signed webhook: a field out of every column's range, a payload
naming an id no table can hold, unicode digits. The message is always kept and the
patient always answered; nothing answers 5xx."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from store.models import InboundMessage
from tests.support import Chat
from usecases import inbound

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/Asuncion"))


def _kept(db, sid: str) -> InboundMessage:
    with Session(db) as s:
        return s.exec(select(InboundMessage).where(InboundMessage.message_sid == sid)).one()


@pytest.mark.parametrize(
    "num_media", [str(2**31), str(2**63), "9" * 5000, "many", "-1", "²", "١", " 1"]
)
def test_any_num_media_is_kept_and_answered(chat: Chat, db, num_media: str):
    chat.says("hola")
    form = chat.form("1", NumMedia=num_media)
    assert chat.post(form).status_code == 200
    assert "Dra. Ana Benítez" in chat.reply()
    assert 0 <= _kept(db, form["MessageSid"]).num_media <= 10


@pytest.mark.parametrize(
    "payload",
    ["take:99999999999999999999", f"pass:{2**31}", "confirm:99999999999999999999",
     f"score:{2**63}", "take:²", "cancel:١٢", "take:-1"],
)
def test_a_payload_naming_an_impossible_id_is_kept_and_answered(chat: Chat, db, payload: str):
    chat.says("hola")
    form = chat.form(payload, ButtonPayload=payload, ButtonText=payload, MessageType="interactive")
    assert chat.post(form).status_code == 200
    assert "Consulta general" in chat.reply()  # not understood: the question again
    assert _kept(db, form["MessageSid"]).handled_by_bot


def test_a_message_the_bot_breaks_on_is_kept_and_the_patient_told(
    chat: Chat, db, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(inbound, "step", broken)
    form = chat.form("hola")
    response = chat.post(form)
    assert response.status_code == 200
    assert "<Message>" in response.get_data(as_text=True)
    assert not _kept(db, form["MessageSid"]).handled_by_bot
