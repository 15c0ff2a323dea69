"""The kiosk: a tablet at the desk, signed in by staff and left full screen, where a
patient checks in by their confirmation code (typed, or their self-service link read from
its QR by a scanner that types it) or phone number, or takes a number without
an appointment (and may leave a WhatsApp number to be told); at a clinic with several
branches, `?branch=` says where the kiosk stands. Large touch targets, the
patient's language (es/en/gn) chosen on the screen, no navigation, and every answer goes
back to the start by itself, so a kiosk left open shows nobody's number for long."""

from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.links import token_in
from bot.locale import LANGUAGES, text
from bot.render import format_day, format_moment
from channel.phones import e164, region_of
from store import queues
from store.db import transaction
from store.models import Clinic
from usecases import kiosk as checks
from usecases import waiting_room
from web.console.agenda import own_clinic
from web.console.branch_param import branch_asked
from web.console.common import console, ctx, engine, now, staff_required
from web.self_service import linked_appointment_id

BACK_AFTER_SECONDS = 20
FIELD_LENGTH = 40
LINK_LENGTH = 300  # a self-service link is under 100 characters; anything longer is not one


def _lang() -> str:
    asked = request.values.get("lang", "")
    return asked if asked in LANGUAGES else "es"


def _branch() -> int | None:
    """The kiosk's branch for its links (each page checked it is the clinic's)."""
    raw = request.values.get("branch", "")
    return int(raw) if raw.isdigit() else None


def _show(template: str, lang: str, **context: Any) -> Response:
    def t(key: str, **tags: object) -> str:
        return text(f"console.kiosk_{key}", lang, **tags)

    branch = _branch()
    body = render_template(
        f"console/{template}",
        lang=lang,
        t=t,
        languages=LANGUAGES,
        start=url_for("console.kiosk", lang=lang, branch=branch),
        branch=branch,
        back_after=BACK_AFTER_SECONDS,
        **context,
    )
    return Response(body, mimetype="text/html")


@console.get("/kiosk")
@staff_required
def kiosk() -> Response:
    with Session(engine()) as session:
        branch_asked(session, own_clinic(session))
    return _show("kiosk.html", _lang(), code_length=LINK_LENGTH)


@console.post("/kiosk/code")
@staff_required
def kiosk_code() -> Response:
    """The code field: a confirmation code typed, or a link (it has a "/") a scanner typed."""
    typed = request.form.get("code", "")
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        branch = branch_asked(session, clinic)
        if "/" in typed:
            answer = _by_link(session, clinic, typed, branch)
        else:
            answer = checks.by_code(session, clinic, typed[:FIELD_LENGTH], now(), branch)
        return _answer(answer, clinic.timezone)


def _by_link(session: Session, clinic: Clinic, typed: str, branch: int | None) -> checks.Answer:
    """A self-service link checked as the page checks it, then answered as its code; too
    long, not a link of ours, or tampered: not found, like a code typed wrong."""
    token = token_in(ctx("settings").public_base_url, typed) if len(typed) <= LINK_LENGTH else None
    appointment_id = linked_appointment_id(token) if token else None
    if appointment_id is None:
        return checks.Answer("not_found")
    return checks.by_link(session, clinic, appointment_id, now(), branch)


@console.post("/kiosk/phone")
@staff_required
def kiosk_phone() -> Response:
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        phone = e164(
            request.form.get("phone", "")[:FIELD_LENGTH], region_of(clinic.whatsapp_number)
        )
        branch = branch_asked(session, clinic)
        answer = (
            checks.by_phone(session, clinic, phone, now(), branch)
            if phone
            else checks.Answer("not_found")
        )
        return _answer(answer, clinic.timezone)


@console.get("/kiosk/walk-in")
@staff_required
def kiosk_walk_in() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        lines = _lines(session, clinic.id or 0)
    return _show("kiosk_walk_in.html", _lang(), lines=lines)


@console.post("/kiosk/walk-in")
@staff_required
def kiosk_walk_in_take() -> Response:
    lang = _lang()
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        lines = _lines(session, clinic.id or 0)
        chosen = next((q for q in lines if q.key == request.form.get("queue")), None)
        if chosen is None:
            abort(400)
        raw = request.form.get("phone", "").strip()[:FIELD_LENGTH]
        phone = e164(raw, region_of(clinic.whatsapp_number)) if raw else None
        if raw and phone is None:
            return _show("kiosk_walk_in.html", lang, lines=lines, phone_invalid=True)
        arrived = waiting_room.walk_in(session, clinic, chosen, phone, lang, now())
        return _answer(checks.Answer("checked_in", arrived), clinic.timezone)


def _lines(session: Session, clinic_id: int) -> list[queues.Queue]:
    """The queues a walk-in may take here: the kiosk's branch's."""
    room = queues.rules(session, clinic_id)
    return queues.queues(session, clinic_id, room, branch_asked(session, own_clinic(session)))


def _answer(answer: checks.Answer, timezone: str) -> Response:
    lang = _lang()
    when = ""
    if answer.when is not None:
        local = answer.when.astimezone(ZoneInfo(timezone))
        when = f"{format_day(local.date(), lang)} {format_moment(local, lang)}"
    return _show("kiosk_answer.html", lang, answer=answer, when=when)
