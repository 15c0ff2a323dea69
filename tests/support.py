"""Helpers that make tests read like the conversation: a clinic, a clock, a patient's chat
through the real webhook with Twilio's signature, what the bot answered and asked."""

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

import usecases.inbound
from bot.flow import load_flow
from bot.render import render_all
from bot.types import Reply
from store.db import transaction
from store.models import (
    Appointment,
    BlockOff,
    Clinic,
    Conversation,
    OutboxMessage,
    Patient,
    Professional,
    ProfessionalService,
    Service,
    WorkingHours,
)
from store.rules import add_default_rule

PUBLIC_URL = "https://turnero.example.org"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
CLINIC_NUMBER = "+595981000000"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Ticks:
    """Monotonic seconds a test moves: the clock of an app's catalog cache."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def catalog_ticks(app: Flask) -> Ticks:
    """Put the app's catalog cache on a clock the test moves, and give that clock."""
    ticks = Ticks()
    app.extensions["turnero"]["catalogs"].clock = ticks
    return ticks


def make_app(
    engine: Engine, clock: Clock, secret_key: str = "test-secret", **settings_: Any
) -> Flask:
    """The real web app on the test database and clock, with Twilio's credentials set
    (so the webhook checks signatures with AUTH_TOKEN) and links under PUBLIC_URL; other
    settings as given."""
    from config.settings import Settings
    from webhook import create_app

    settings = Settings(
        database_url=str(engine.url),
        public_base_url=PUBLIC_URL,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=AUTH_TOKEN,
        secret_key=secret_key,
        **settings_,
    )
    return create_app(settings, clock=clock, engine=engine)


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


@dataclass
class TestClinic:
    __test__ = False  # a clinic for tests, not a test class
    id: int
    services: dict[str, int]
    professionals: dict[str, int]


def make_clinic(
    engine: Engine,
    *,
    timezone: str = "America/Asuncion",
    number: str = CLINIC_NUMBER,
    min_notice_minutes: int = 60,
    horizon_days: int = 30,
) -> TestClinic:
    """A small clinic: general consultation (30 min) by Dra. Ana Benítez (Mon–Fri 8–12 and
    14–18) and Dr. Luis Ortiz (Mon–Sat 9–13); dentistry (45 min) by Ortiz; a lab test that
    only staff can book."""
    with transaction(engine) as s:
        clinic = Clinic(
            name="Clínica Test",
            timezone=timezone,
            whatsapp_number=number,
            phone="021 555 000",
            address="Av. España 100",
            min_notice_minutes=min_notice_minutes,
            horizon_days=horizon_days,
            slot_step_minutes=30,
        )
        s.add(clinic)
        s.flush()
        cid = clinic.id or 0
        add_default_rule(s, cid, datetime.now(UTC))
        general = Service(clinic_id=cid, name="Consulta general", duration_minutes=30)
        dentistry = Service(clinic_id=cid, name="Odontología", duration_minutes=45)
        lab = Service(clinic_id=cid, name="Laboratorio", duration_minutes=15, self_bookable=False)
        ana = Professional(clinic_id=cid, name="Dra. Ana Benítez")
        luis = Professional(clinic_id=cid, name="Dr. Luis Ortiz")
        s.add_all([general, dentistry, lab, ana, luis])
        s.flush()
        for prof, service in [(ana, general), (luis, general), (luis, dentistry), (ana, lab)]:
            s.add(
                ProfessionalService(clinic_id=cid, professional_id=prof.id, service_id=service.id)
            )
        for weekday in range(5):
            for start, end in [(time(8), time(12)), (time(14), time(18))]:
                s.add(
                    WorkingHours(
                        clinic_id=cid, professional_id=ana.id, weekday=weekday, start=start, end=end
                    )
                )
        for weekday in range(6):
            s.add(
                WorkingHours(
                    clinic_id=cid,
                    professional_id=luis.id,
                    weekday=weekday,
                    start=time(9),
                    end=time(13),
                )
            )
        return TestClinic(
            id=cid,
            services={
                "general": general.id or 0,
                "dentistry": dentistry.id or 0,
                "lab": lab.id or 0,
            },
            professionals={"ana": ana.id or 0, "luis": luis.id or 0},
        )


def add_patient(engine: Engine, clinic_id: int, phone: str, name: str, **fields: Any) -> int:
    with transaction(engine) as s:
        patient = Patient(clinic_id=clinic_id, phone=phone, name=name, **fields)
        s.add(patient)
        s.flush()
        return patient.id or 0


def block_off(
    engine: Engine,
    clinic_id: int,
    start: datetime,
    end: datetime,
    professional_id: int | None = None,
) -> None:
    with transaction(engine) as s:
        s.add(
            BlockOff(
                clinic_id=clinic_id, professional_id=professional_id, starts_at=start, ends_at=end
            )
        )


def appointments(engine: Engine) -> list[Appointment]:
    with Session(engine) as s:
        return list(s.exec(select(Appointment).order_by(col(Appointment.id))))


_listening = threading.local()


def _recording(replies: list[Reply], *args: Any, **kwargs: Any) -> str:
    turns: list[list[str]] | None = getattr(_listening, "turns", None)
    if turns is not None:
        turns.append([r.template for r in replies])
    return render_all(replies, *args, **kwargs)


@contextmanager
def templates_rendered() -> Iterator[list[list[str]]]:
    """The template keys of each turn the webhook renders meanwhile in this thread: the
    outbox keeps a reply's words, not the templates it was made of. The recorder is put in
    once and records only while a chat listens (other threads' turns are not theirs)."""
    usecases.inbound.render_all = _recording  # type: ignore[assignment]
    outer = getattr(_listening, "turns", None)
    _listening.turns = turns = []
    try:
        yield turns
    finally:
        _listening.turns = outer


@dataclass
class Chat:
    """One phone's chat with the clinic, through the real webhook signed as Twilio signs:
    `chat.says("hola")`, `chat.taps("first_available")`, `chat.last`, `chat.asked(key)`,
    `chat.said`."""

    client: FlaskClient
    engine: Engine
    phone: str = "+595981222333"
    clinic_number: str = CLINIC_NUMBER
    seen: int = 0
    last_response: TestResponse | None = field(default=None, repr=False)
    said: list[str] = field(default_factory=list)
    """The template keys of the bot's answer to the last message, in order (e.g.
    `["booking.slot_taken", "booking.ask_time"]`); empty where it answered nothing."""

    def form(self, body: str = "", **extra: str) -> dict[str, str]:
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "1" * 32,
            "From": f"whatsapp:{self.phone}",
            "To": f"whatsapp:{self.clinic_number}",
            "Body": body,
            "NumMedia": "0",
            "ProfileName": "Paciente",
            "WaId": self.phone.lstrip("+"),
        }
        form.update(extra)
        return form

    def post(self, form: dict[str, str], signature: str | None = None) -> TestResponse:
        url = PUBLIC_URL + "/whatsapp/inbound"
        headers = {"X-Twilio-Signature": signature if signature is not None else sign(url, form)}
        with templates_rendered() as rendered:
            self.last_response = self.client.post("/whatsapp/inbound", data=form, headers=headers)
        self.said = rendered[-1] if rendered else []  # an attempt decided again: the last
        return self.last_response

    def says(self, body: str, **extra: str) -> str:
        """Send a message; return what the bot answered to it (one message per turn)."""
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.reply()

    def taps(self, payload: str, replied_to: str | None = None, text: str | None = None) -> str:
        """Tap a button whose id is `payload` (`text` its title) on the message Twilio
        sent as `replied_to`."""
        extra = {"OriginalRepliedMessageSid": replied_to} if replied_to else {}
        return self.says(
            text or payload,
            ButtonPayload=payload,
            ButtonText=text or payload,
            MessageType="interactive",
            **extra,
        )

    def sends_voice_note(self) -> str:
        response = self.post(
            self.form(
                "",
                NumMedia="1",
                MediaContentType0="audio/ogg",
                MediaUrl0="https://api.twilio.com/media/ME1",
            )
        )
        assert response.status_code == 200
        return self.reply()

    def messages(self) -> list[OutboxMessage]:
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.to_phone == self.phone)
                    .order_by(col(OutboxMessage.id))
                )
            )

    def reply(self) -> str:
        """The text queued for this patient since the last look."""
        new = self.messages()[self.seen :]
        self.seen += len(new)
        return "\n".join(m.body for m in new)

    @property
    def last(self) -> str:
        """The last message queued for this patient."""
        return self.messages()[-1].body

    def asked(self, key: str) -> bool:
        """Whether the conversation now waits on the question whose template is `key`
        (e.g. `booking.ask_service`), whatever the words in the patient's language."""
        state = self.stored_state()
        flow = load_flow(state.get("flow", "booking"))
        return flow.states[state.get("state", "done")].ask == key

    def draft(self) -> dict[str, Any]:
        """What the conversation has collected so far (`BookingDraft` as stored)."""
        return dict(self.stored_state().get("draft", {}))

    def stored_state(self) -> dict[str, Any]:
        with Session(self.engine) as s:
            stored = s.exec(
                select(Conversation.state)
                .join(Clinic, col(Clinic.id) == Conversation.clinic_id)
                .where(Conversation.phone == self.phone)
                .where(Clinic.whatsapp_number == self.clinic_number)
            ).one()
        return dict(json.loads(stored))
