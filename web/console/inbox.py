"""The inbox and one conversation: the exchange with a phone in order, each outbound
message's delivery status, what is left of WhatsApp's 24-hour window, and the takeover —
pause the bot, write by hand, hand back. Small JSON feeds let open pages pick up new
messages without a reload."""

import hashlib
import secrets
from datetime import datetime
from functools import cache
from typing import Any

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlmodel import Session, select
from werkzeug.wrappers import Response

from bot.locale import has_text
from channel.phones import e164
from store.db import transaction
from store.dispatch import (
    APPOINTMENT_GONE,
    RECIPIENT_BLOCKED,
    RECIPIENT_INVALID,
    RECIPIENT_OPTED_OUT,
    RECIPIENT_PAUSED,
    TOO_LATE,
)
from store.inbox import Entry, InboxRow, exchange, stamp, window_left
from store.inbox import inbox as inbox_rows
from store.message_kinds import MessageKind
from store.models import Clinic, Conversation
from store.patients import on_phone
from store.takeover import hand_back, is_paused, reply_by_hand, resumes_at, take_over
from web.console.agenda import POLL_SECONDS, formatting, own_clinic
from web.console.common import (
    console,
    engine,
    language,
    now,
    page,
    staff,
    staff_required,
    translator,
)
from web.console.error_words import error_words

REPLY_LIMIT = 4096  # WhatsApp's own limit; the outbox splits over 1,600
SUBMISSION_CHARS = 32
FAILED = ("failed", "undelivered")
SKIP_REASONS = {
    TOO_LATE: "too_late",
    APPOINTMENT_GONE: "appointment_gone",
    RECIPIENT_PAUSED: "paused",
    RECIPIENT_OPTED_OUT: "opted_out",
    RECIPIENT_INVALID: "invalid",
    RECIPIENT_BLOCKED: "blocked",
}
NOTICES = ("paused", "resumed", "sent", "already_sent", "empty", "too_long", "window_closed")


def phone_of(raw: str) -> str:
    found = e164(raw)
    if found is None or found != raw:
        abort(404)
    return found


def problem(entry: Entry, lang: str) -> str | None:
    """Why an outbound message did not reach the patient, in words (None when it did or
    may still)."""
    t = translator(lang)
    if entry.inbound:
        return None
    if entry.status in FAILED:
        return error_words(entry.error_code, lang)
    if entry.status in ("not_sendable", "unconfirmed"):
        return t(f"failure_{entry.status}")
    if entry.status == "skipped":
        return t(f"skip_{SKIP_REASONS.get(entry.error_message or '', 'other')}")
    return None


@cache
def labelled_kinds() -> tuple[MessageKind, ...]:
    """The kinds of message with a label of their own; the others are "automatic
    messages". Read once the texts are set up, not on import."""
    return tuple(kind for kind in MessageKind if has_text(f"console.kind_{kind}"))


def _helpers(clinic: Clinic, lang: str) -> dict[str, Any]:
    return {
        **formatting(clinic, lang),
        "problem": lambda e: problem(e, lang),
        "kinds": labelled_kinds(),
    }


def _conversation(session: Session, clinic_id: int, phone: str) -> Conversation | None:
    return session.exec(
        select(Conversation).where(Conversation.clinic_id == clinic_id, Conversation.phone == phone)
    ).first()


def _window(last_inbound_at: datetime | None, moment: datetime) -> dict[str, Any]:
    left = window_left(last_inbound_at, moment)
    minutes = int(left.total_seconds() // 60) if left else 0
    return {"open": left is not None, "hours": minutes // 60, "minutes": minutes % 60}


# -- the list -------------------------------------------------------------------------------


def _list_html(rows: list[InboxRow], clinic: Clinic) -> str:
    lang = language()
    return render_template(
        "console/_inbox_list.html",
        rows=rows,
        t=translator(lang),
        moment=now(),
        window=_window,
        **_helpers(clinic, lang),
    )


def _list_stamp(rows: list[InboxRow]) -> str:
    seen = [(r.id, r.needs_staff, r.paused, r.updated_at) for r in rows]
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]


@console.get("/inbox")
@staff_required
def inbox() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        rows = inbox_rows(session, clinic.id or 0)
    return page(
        "inbox.html",
        list_html=_list_html(rows, clinic),
        stamp=_list_stamp(rows),
        feed_url=url_for("console.inbox_feed"),
        poll_seconds=current_app.config.get("CONSOLE_POLL_SECONDS", POLL_SECONDS),
    )


@console.get("/inbox/feed")
@staff_required
def inbox_feed() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        rows = inbox_rows(session, clinic.id or 0)
    return jsonify(stamp=_list_stamp(rows), html=_list_html(rows, clinic))


# -- one conversation -----------------------------------------------------------------------


def _state(session: Session, clinic: Clinic, phone: str) -> dict[str, Any]:
    """What the conversation page and its feed show."""
    moment = now()
    conversation = _conversation(session, clinic.id or 0, phone)
    entries = exchange(session, clinic.id or 0, phone)
    paused = is_paused(session, clinic.id or 0, phone)
    taken = conversation.taken_over_at if conversation else None
    return {
        "entries": entries,
        "stamp": stamp(entries),
        "window": _window(conversation.last_inbound_at if conversation else None, moment),
        "paused": paused,
        "needs_staff": bool(conversation and conversation.needs_staff),
        "resumes_at": resumes_at(taken, clinic.bot_resume_after_minutes) if paused else None,
    }


def _exchange_html(state: dict[str, Any], clinic: Clinic) -> str:
    lang = language()
    return render_template(
        "console/_exchange.html", t=translator(lang), **state, **_helpers(clinic, lang)
    )


def _status_html(state: dict[str, Any], clinic: Clinic) -> str:
    lang = language()
    return render_template(
        "console/_conversation_status.html", t=translator(lang), **state, **_helpers(clinic, lang)
    )


@console.get("/conversations/<phone>")
@staff_required
def conversation(phone: str) -> Response:
    notice = request.args.get("notice")
    return _conversation_page(phone_of(phone), notice if notice in NOTICES else None)


def _conversation_page(
    phone: str, notice: str | None, status: int = 200, draft: str = ""
) -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        people = on_phone(session, clinic.id or 0, phone)
        if not people and _conversation(session, clinic.id or 0, phone) is None:
            abort(404)
        state = _state(session, clinic, phone)
    return page(
        "conversation.html",
        status=status,
        draft=draft,
        phone=phone,
        people=people,
        exchange_html=_exchange_html(state, clinic),
        status_html=_status_html(state, clinic),
        feed_url=url_for("console.conversation_feed", phone=phone),
        poll_seconds=current_app.config.get("CONSOLE_POLL_SECONDS", POLL_SECONDS),
        submission=secrets.token_hex(SUBMISSION_CHARS // 2),
        notice=notice,
        reply_limit=REPLY_LIMIT,
        **state,
    )


@console.get("/conversations/<phone>/feed")
@staff_required
def conversation_feed(phone: str) -> Response:
    phone = phone_of(phone)
    with Session(engine()) as session:
        clinic = own_clinic(session)
        state = _state(session, clinic, phone)
    return jsonify(
        stamp=state["stamp"] + ("p" if state["paused"] else "") + str(state["window"]["open"]),
        html=_exchange_html(state, clinic),
        status_html=_status_html(state, clinic),
        window_open=state["window"]["open"],
        messages=[
            {
                "direction": "in" if e.inbound else "out",
                "id": e.id,
                "at": e.at.isoformat(),
                "body": e.body,
                "status": e.status or None,
                "error_code": e.error_code,
            }
            for e in state["entries"]
        ],
    )


def _back(phone: str, notice: str) -> Response:
    return redirect(url_for("console.conversation", phone=phone, notice=notice), code=303)


def _known(session: Session, clinic_id: int, phone: str) -> None:
    if not on_phone(session, clinic_id, phone):
        abort(404)


@console.post("/conversations/<phone>/pause")
@staff_required
def pause(phone: str) -> Response:
    phone = phone_of(phone)
    with transaction(engine()) as session:
        _known(session, staff().clinic_id, phone)
        take_over(session, staff().clinic_id, phone, now())
    return _back(phone, "paused")


@console.post("/conversations/<phone>/resume")
@staff_required
def resume(phone: str) -> Response:
    phone = phone_of(phone)
    with transaction(engine()) as session:
        _known(session, staff().clinic_id, phone)
        hand_back(session, staff().clinic_id, phone, now())
    return _back(phone, "resumed")


@console.post("/conversations/<phone>/reply")
@staff_required
def reply(phone: str) -> Response:
    """Staff write by hand: sent through the outbox once per form (its `submission`), only
    inside the 24-hour window; the bot is paused for the phone."""
    phone = phone_of(phone)
    body = request.form.get("body", "").strip()
    submission = request.form.get("submission", "")
    if len(submission) != SUBMISSION_CHARS or not all(c in "0123456789abcdef" for c in submission):
        abort(400)
    if not body:
        return _conversation_page(phone, "empty", 422)
    if len(body) > REPLY_LIMIT:
        return _conversation_page(phone, "too_long", 422, body[:REPLY_LIMIT])
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        people = on_phone(session, clinic.id or 0, phone)
        if not people:
            abort(404)
        found = _conversation(session, clinic.id or 0, phone)
        window_closed = window_left(found.last_inbound_at if found else None, now()) is None
        added = False
        if not window_closed:
            language_of = next((p.language for p in people if p.language), clinic.default_language)
            added = reply_by_hand(session, clinic, phone, body, submission, now(), language_of)
    if window_closed:
        return _conversation_page(phone, "window_closed", 409, body)
    return _back(phone, "sent" if added else "already_sent")
