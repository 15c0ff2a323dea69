"""The waiting room's screen: a page for a TV showing the numbers being called and where,
large enough to read across the room, updated without reload (`screen.js` polls the feed
every two seconds and chimes at each new call or recall). No patient names: initials at
most, and only where the clinic turned them on (`waiting_room.show_initials`)."""

from flask import current_app, jsonify, render_template, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.locale import text
from store import queues
from store.models import Clinic, QueueTicket
from usecases import waiting_room
from web.console.agenda import own_clinic
from web.console.common import console, engine, language, now, staff_required

SHOWN = 6  # the latest calls on the screen: the first big, the rest below
POLL_SECONDS = 2


def _calls(session: Session, clinic: Clinic) -> list[dict[str, object]]:
    clinic_id = clinic.id or 0
    day = waiting_room.today(clinic, now()).date()
    initials = queues.rules(session, clinic_id).show_initials
    return [_call(ticket, initials) for ticket in queues.called(session, clinic_id, day, SHOWN)]


def _call(ticket: QueueTicket, initials: bool) -> dict[str, object]:
    return {
        "id": ticket.id,
        "number": queues.ticket_label(ticket),
        "room": ticket.called_to or "",
        "calls": ticket.calls,
        "initials": (ticket.initials or "") if initials else "",
    }


@console.get("/waiting-room/screen")
@staff_required
def room_screen() -> Response:
    lang = language()
    with Session(engine()) as session:
        calls = _calls(session, own_clinic(session))
    body = render_template(
        "console/room_screen.html",
        lang=lang,
        t=lambda key, **tags: text(f"console.screen_{key}", lang, **tags),
        calls=calls,
        feed_url=url_for("console.room_screen_feed"),
        every=current_app.config.get("SCREEN_POLL_SECONDS", POLL_SECONDS),
    )
    return Response(body, mimetype="text/html")


@console.get("/waiting-room/screen/feed")
@staff_required
def room_screen_feed() -> Response:
    with Session(engine()) as session:
        calls = _calls(session, own_clinic(session))
    return jsonify(calls=calls)
