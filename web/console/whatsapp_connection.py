"""The clinic's WhatsApp connection (admins): whether Twilio's credentials are set, the
sender number, the addresses to paste in Twilio's console, when the last message
arrived (so the admin sees the webhook works), a test message to any phone whose
delivery status the page follows, refreshing itself until it settles, and on Twilio's
sandbox a QR that opens a chat with it with the join text written."""

import secrets
from collections.abc import Callable

from flask import abort, redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.locale import text
from channel.phones import e164, region_of
from store.connection import last_inbound, test_key, test_messages
from store.db import transaction
from store.message_kinds import MessageKind
from store.models import OutboxStatus
from store.outbox import STILL_TO_SEND, enqueue
from web.console.agenda import formatting, own_clinic
from web.console.common import admin_required, console, ctx, engine, language, now, page
from web.qr_codes import TWILIO_SANDBOX_NUMBER, png, sandbox_join_link

NOTICES = ("sent", "bad_phone")
# a test message still on its way: the page refreshes itself until it settles
ON_ITS_WAY = {*STILL_TO_SEND, OutboxStatus.queued, OutboxStatus.accepted, OutboxStatus.sent}


def _words(lang: str) -> Callable[..., str]:
    return lambda key, **tags: text(f"connection.{key}", lang, **tags)


def _page(notice: str | None, status: int = 200) -> Response:
    settings = ctx("settings")
    with Session(engine()) as session:
        clinic = own_clinic(session)
        last = last_inbound(session, clinic.id or 0)
        tests = test_messages(session, clinic.id or 0)
    account = settings.twilio_account_sid or ""
    on_sandbox = clinic.whatsapp_number == TWILIO_SANDBOX_NUMBER
    code = settings.twilio_sandbox_code
    return page(
        "whatsapp_connection.html",
        status=status,
        w=_words(language()),
        configured=not settings.sandbox,
        account=f"{account[:2]}…{account[-4:]}" if account else "",
        number=clinic.whatsapp_number,
        inbound_url=settings.webhook_url("/whatsapp/inbound"),
        status_url=settings.webhook_url("/whatsapp/status"),
        last=last,
        tests=tests,
        refreshing=any(t.status in ON_ITS_WAY for t in tests),
        on_sandbox=on_sandbox,
        join_link=sandbox_join_link(code) if on_sandbox and code else None,
        join_code=code,
        notice=notice,
        token=secrets.token_urlsafe(16),
        **formatting(clinic, language()),
    )


@console.get("/whatsapp")
@admin_required
def whatsapp_connection() -> Response:
    notice = request.args.get("notice")
    return _page(notice if notice in NOTICES else None)


@console.get("/whatsapp/sandbox-qr.png")
@admin_required
def sandbox_qr() -> Response:
    """The QR that opens a chat with Twilio's sandbox with its join text written (404 when
    the clinic is not on the sandbox or its code is not set)."""
    code = ctx("settings").twilio_sandbox_code
    with Session(engine()) as session:
        on_sandbox = own_clinic(session).whatsapp_number == TWILIO_SANDBOX_NUMBER
    if not (on_sandbox and code):
        abort(404)
    return Response(png(sandbox_join_link(code), scale=6), mimetype="image/png")


@console.post("/whatsapp/test")
@admin_required
def send_test_message() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
    phone = e164(request.form.get("phone", "")[:40], region_of(clinic.whatsapp_number))
    if phone is None:
        return _page("bad_phone", 422)
    token = request.form.get("token", "")[:64] or secrets.token_urlsafe(16)
    with transaction(engine()) as session:
        enqueue(
            session,
            clinic_id=clinic.id or 0,
            idempotency_key=test_key(clinic.id or 0, token),
            from_phone=clinic.whatsapp_number,
            to_phone=phone,
            body=text("connection.test_message", language(), clinic=clinic.name),
            now=now(),
            kind=MessageKind.staff,  # sent as text, as a person writing from the desk
        )
    return redirect(url_for("console.whatsapp_connection", notice="sent"), code=303)
