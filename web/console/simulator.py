"""The WhatsApp simulator (sandbox only): a phone-shaped chat for demos and for training
the front desk. The page's script sends each line to the real webhook, signed here the way
Twilio signs (the token never reaches the browser), and shows what the bot queued."""

from datetime import UTC, datetime
from typing import Any

import phonenumbers
from flask import abort, jsonify, request, url_for
from sqlmodel import Session
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Response

from bot.numbers import LARGEST_ID, read_number
from channel.inbound_form import inbound_form
from channel.phones import e164
from config.settings import Settings
from store.inbox import Entry
from store.outbox import last_message_to, messages_to
from web.console.agenda import own_clinic
from web.console.common import (
    console,
    ctx,
    engine,
    language,
    page,
    sandbox_on,
    staff,
    staff_required,
    translator,
)
from web.console.inbox import problem

MAX_LINE_CHARS = 4096  # what the webhook reads of a message anyway


def _sandbox_only() -> Settings:
    if not sandbox_on():
        abort(404)
    settings: Settings = ctx("settings")
    return settings


def practice_phone(clinic_number: str, staff_id: int) -> str:
    """A made-up mobile number of the clinic's country, one per staff member, so each
    trainee has a conversation of their own."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(clinic_number))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return clinic_number[:-4] + f"{9000 + staff_id % 1000:04d}"
    digits = str(example.national_number)
    example.national_number = int(digits[:-4] + f"{9000 + staff_id % 1000:04d}")
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _phone_arg(raw: str | None, clinic_number: str) -> str:
    region = phonenumbers.region_code_for_number(phonenumbers.parse(clinic_number))
    phone = e164(raw or "", region)
    if phone is None or phone == clinic_number:
        abort(400, "phone must be a patient's phone number")
    return phone


@console.get("/simulator")
@staff_required
def simulator() -> Response:
    _sandbox_only()
    with Session(engine()) as session:
        clinic = own_clinic(session)
    number = clinic.whatsapp_number
    phone = (
        _phone_arg(request.args["phone"], number)
        if request.args.get("phone")
        else practice_phone(number, staff().id or 0)
    )
    return page(
        "simulator.html",
        clinic=clinic,
        phone=phone,
        after=last_message_to(engine(), phone),
        sign_url=url_for("console.simulator_sign"),
        messages_url=url_for("console.simulator_messages", phone=phone),
    )


@console.post("/simulator/sign")
@staff_required
def simulator_sign() -> Response:
    """The Twilio form for one line the trainee typed, and its signature: the browser
    posts both to the webhook."""
    settings = _sandbox_only()
    asked = request.get_json(silent=True)
    if not isinstance(asked, dict) or not isinstance(asked.get("text"), str):
        abort(400, "text is required")
    line = asked["text"][:MAX_LINE_CHARS]
    if not line.strip():
        abort(400, "text is required")
    with Session(engine()) as session:
        number = own_clinic(session).whatsapp_number
    phone = _phone_arg(asked.get("phone"), number)
    form = inbound_form(phone, number, line, settings.account_sid, profile="Simulador")
    webhook_path = "/whatsapp/inbound"
    signature = RequestValidator(settings.webhook_auth_token).compute_signature(
        settings.public_base_url.rstrip("/") + webhook_path, form
    )
    return jsonify(url=webhook_path, form=form, signature=signature)


@console.get("/simulator/messages")
@staff_required
def simulator_messages() -> Response:
    """What the clinic's number queued for the phone after a given message."""
    _sandbox_only()
    after = read_number(request.args.get("after", "0"), 0, LARGEST_ID)
    if after is None:
        abort(400, "after must be a message id")
    with Session(engine()) as session:
        number = own_clinic(session).whatsapp_number
    phone = _phone_arg(request.args.get("phone"), number)
    lang = language()
    replies = [
        {"id": m["id"], "body": m["body"], "sent": m["sent"], "note": _not_sent(m, lang)}
        for m in messages_to(engine(), phone, after)
        if m["from"] == number
    ]
    return jsonify(replies)


def _not_sent(message: dict[str, Any], lang: str) -> str | None:
    """Why a message never reached the phone, for the bubble that shows it (None: sent)."""
    if message["sent"]:
        return None
    entry = Entry(
        False,
        message["id"],
        datetime.now(UTC),
        message["body"],
        status=message["status"],
        error_code=message["error_code"],
        error_message=message["error_message"],
    )
    return translator(lang)("simulator_not_sent", reason=problem(entry, lang) or message["status"])
