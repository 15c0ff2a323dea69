"""The waiting room's screen: a page for a TV showing the numbers being called and where,
large enough to read across the room, updated without reload. `screen.js` asks the feed
for the calls after the last one it saw (a cursor: the day's count of calls), so every
call and recall is shown and chimed once, however fast they come, and a screen that lost
its connection catches up on all it missed. No patient names: initials at most, and only
where the clinic turned them on (`waiting_room.show_initials`). `?branch=` shows one
branch's calls."""

from datetime import date

from flask import abort, current_app, jsonify, render_template, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.locale import text
from store import queues
from store.models import QueueTicket
from usecases import waiting_room
from web.console.agenda import own_clinic
from web.console.branch_param import branch_asked
from web.console.common import console, engine, language, now, staff_required

SHOWN = 6  # the latest calls on the screen: the first big, the rest below
POLL_SECONDS = 2
BATCH = 50  # calls a feed answers at most; the screen asks again at once for the rest


def _call(ticket: QueueTicket, initials: bool) -> dict[str, object]:
    return {
        "id": ticket.id,
        "seq": ticket.call_seq,
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
        clinic = own_clinic(session)
        branch = branch_asked(session, clinic)
        day = waiting_room.today(clinic, now()).date()
        initials = queues.rules(session, clinic.id or 0).show_initials
        latest = queues.called(session, clinic.id or 0, day, SHOWN, branch)
        calls = [_call(ticket, initials) for ticket in latest]
        cursor = queues.last_call(session, clinic.id or 0, day)
    body = render_template(
        "console/room_screen.html",
        lang=lang,
        t=lambda key, **tags: text(f"console.screen_{key}", lang, **tags),
        calls=calls,
        cursor=cursor,
        day=day.isoformat(),
        feed_url=url_for("console.room_screen_feed", branch=branch),
        every=current_app.config.get("SCREEN_POLL_SECONDS", POLL_SECONDS),
    )
    return Response(body, mimetype="text/html")


def _after() -> tuple[int, date | None]:
    """The feed's cursor (`after`, a count of calls) and the day it counts (`day`); 400
    when either is not one."""
    after, day = request.args.get("after", ""), request.args.get("day", "")
    if not after.isdigit():
        abort(400)
    try:
        return int(after), date.fromisoformat(day) if day else None
    except ValueError:
        abort(400)


@console.get("/waiting-room/screen/feed")
@staff_required
def room_screen_feed() -> Response:
    """The calls after the screen's cursor, oldest first, and the cursor to ask from next;
    a new day counts from its first call."""
    after, seen_day = _after()
    with Session(engine()) as session:
        clinic = own_clinic(session)
        branch = branch_asked(session, clinic)
        day = waiting_room.today(clinic, now()).date()
        after = after if seen_day == day else 0
        initials = queues.rules(session, clinic.id or 0).show_initials
        since = queues.calls_since(session, clinic.id or 0, day, after, BATCH, branch)
    return jsonify(
        day=day.isoformat(),
        cursor=since.cursor,
        more=since.more,
        calls=[_call(ticket, initials) for ticket in since.calls],
    )
