"""The caller of the inbound use case chooses where replies go: the outbox by default, or
a sink that collects them — only for messages that were kept, on either path."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select

from store.db import reading
from store.models import Conversation, OutboxMessage
from tests.support import CLINIC_NUMBER, make_clinic
from usecases.inbound import Outcome, ReceivedMessage, handle_inbound
from usecases.replies import CollectingSink

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PHONE = "+595981222333"


def _message(sid: str, body: str) -> ReceivedMessage:
    return ReceivedMessage(message_sid=sid, from_phone=PHONE, to_phone=CLINIC_NUMBER, body=body)


def test_collected_replies_are_not_queued(db: Engine) -> None:
    make_clinic(db)
    sink = CollectingSink()
    for sid, body in [("SM1", "hola"), ("SM2", "1"), ("SM2", "1")]:  # the last one repeats
        handle_inbound(db, _message(sid, body), NOW, link_for=str, sink=sink)
    services, professionals = sink.replies
    assert "Consulta general" in services.body and services.to_phone == PHONE
    assert "Dra. Ana Benítez" in professionals.body
    with reading(db) as session:
        assert session.exec(select(OutboxMessage)).all() == []
        [conversation] = session.exec(select(Conversation)).all()
    assert '"state": "professional"' in conversation.state


def test_the_outbox_is_the_default(db: Engine) -> None:
    make_clinic(db)
    outcome = handle_inbound(db, _message("SM1", "hola"), NOW, link_for=str)
    assert outcome is Outcome.handled
    with reading(db) as session:
        [queued] = session.exec(select(OutboxMessage)).all()
    assert "Consulta general" in queued.body and queued.to_phone == PHONE
