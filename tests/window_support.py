"""The webhook served over real HTTP, so the fake Twilio can post its signed status
callbacks to it, and helpers for the window, template and error-code tests."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from werkzeug.serving import make_server

from channel.twilio import TwilioChannel
from config.settings import Settings
from store.content_templates import put_template
from store.db import transaction
from store.models import Clinic, MessageStatusEvent, OutboxMessage, Patient
from store.outbox import enqueue
from tests.support import Clock
from turnero.fake_twilio import FakeTwilio
from webhook import create_app

REMINDER_SID = "HX" + "a" * 32
REMINDER_SID_GN = "HX" + "b" * 32
CONFIRMATION_SID = "HX" + "c" * 32
REMINDER_VARIABLES = {"1": "patient_name", "2": "date", "3": "time", "4": "professional"}


@dataclass
class Live:
    """The fake Twilio, the webhook it calls back, and a channel that asks for callbacks."""

    fake: FakeTwilio
    url: str

    @property
    def channel(self) -> TwilioChannel:
        return TwilioChannel(
            self.fake.account_sid,
            self.fake.auth_token,
            api_url=self.fake.url,
            timeout=5,
            status_callback_url=self.url + "/whatsapp/status",
        )


@contextmanager
def live(db: Engine, clock: Clock, **fake_options: Any) -> Iterator[Live]:
    """Serve the webhook on a free local port (Twilio signs the URL it calls, so the public
    base URL is that address) next to a fake Twilio with the same auth token."""
    with FakeTwilio(clock=clock, **fake_options) as fake:
        holder: dict[str, Any] = {}
        server = make_server(
            "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
        )
        url = f"http://127.0.0.1:{server.server_port}"
        holder["app"] = create_app(
            Settings(
                database_url=str(db.url),
                public_base_url=url,
                twilio_account_sid=fake.account_sid,
                twilio_auth_token=fake.auth_token,
                secret_key="window-test-secret",
            ),
            clock=clock,
            engine=db,
        )
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield Live(fake, url)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def approve(
    db: Engine,
    clinic_id: int,
    kind: str = "reminder",
    language: str = "es",
    sid: str = REMINDER_SID,
    variables: dict[str, str] | None = None,
) -> None:
    """The clinic's approved template for (kind, language)."""
    with transaction(db) as session:
        put_template(
            session,
            clinic_id,
            kind,
            language,
            content_sid=sid,
            variables=REMINDER_VARIABLES if variables is None else variables,
            allowed_tags=set((variables or REMINDER_VARIABLES).values()),
            now=datetime(2026, 1, 1).astimezone(),
        )


def add_clinic(db: Engine, number: str) -> int:
    """A bare clinic sending from `number`; its id."""
    with transaction(db) as session:
        clinic = Clinic(name="Clínica de prueba", whatsapp_number=number)
        session.add(clinic)
        session.flush()
        assert clinic.id is not None
        return clinic.id


def queue_message(
    db: Engine,
    clinic_id: int,
    key: str,
    to: str,
    now: datetime,
    *,
    kind: str = "reply",
    body: str = "hola",
    language: str | None = "es",
    variables: dict[str, str] | None = None,
    from_phone: str = "+595981000000",
) -> None:
    with transaction(db) as session:
        enqueue(
            session,
            clinic_id=clinic_id,
            idempotency_key=key,
            from_phone=from_phone,
            to_phone=to,
            body=body,
            now=now,
            kind=kind,
            language=language,
            variables=variables,
        )


def rows(db: Engine) -> list[OutboxMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def row(db: Engine, key: str) -> OutboxMessage:
    [found] = [r for r in rows(db) if r.idempotency_key == key]
    return found


def events(db: Engine) -> list[tuple[str, str, str | None]]:
    with Session(db) as session:
        return [
            (e.message_sid, e.status, e.error_code)
            for e in session.exec(select(MessageStatusEvent).order_by(col(MessageStatusEvent.id)))
        ]


def unreachable(db: Engine, clinic_id: int, phone: str) -> set[str | None]:
    with Session(db) as session:
        return {
            p.unreachable
            for p in session.exec(
                select(Patient).where(Patient.clinic_id == clinic_id, Patient.phone == phone)
            )
        }


def variables_sent(message: dict[str, Any]) -> dict[str, str]:
    return dict(json.loads(message["content_variables"]))
