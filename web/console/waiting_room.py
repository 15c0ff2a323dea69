"""The desk's board of the waiting room: each queue's waiting list with how long each has
waited, the visits called and where, and per queue "call next" to the desk's room; per
called visit "call again", "no answer" (back of the queue, or absent) and "served". The
list is kept current by polling its feed (`live.js`), so a board that lost its connection
shows the truth again at the next poll; every change is a form that works without it."""

from dataclasses import dataclass
from datetime import datetime

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from store import queues
from store.db import transaction
from store.models import Clinic, QueueTicket
from usecases import waiting_room
from web.console.agenda import actor, formatting, own_clinic
from web.console.branch_param import branch_asked
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

POLL_SECONDS = 3
ROOM_LENGTH = 40
TICKET_ACTIONS = ("recall", "back", "absent", "served", "priority")
NOTICES = {"called", "nobody", "done", "already", "no_room"}


@dataclass(frozen=True)
class Line:
    """One queue on the board: its waiting tickets in order, and those called."""

    queue: queues.Queue
    waiting: list[QueueTicket]
    called: list[QueueTicket]


def _lines(session: Session, clinic: Clinic, branch: int | None) -> list[Line]:
    clinic_id = clinic.id or 0
    day = waiting_room.today(clinic, now()).date()
    waiting = queues.waiting(session, clinic_id, day, branch_id=branch)
    called = queues.called(session, clinic_id, day, limit=100, branch_id=branch)
    return [
        Line(
            q,
            [t for t in waiting if t.queue == q.key],
            [t for t in called if t.queue == q.key],
        )
        for q in queues.queues(session, clinic_id, queues.rules(session, clinic_id), branch)
    ]


def _stamp(lines: list[Line]) -> str:
    return repr(
        [
            (t.id, t.status, t.calls, t.tier, t.sort_at.isoformat())
            for line in lines
            for t in (*line.waiting, *line.called)
        ]
    )


def _room() -> str:
    """The desk's room, as the desk wrote it (kept in the page's address)."""
    return (request.values.get("room") or "").strip()[:ROOM_LENGTH]


def _board_html(lines: list[Line], clinic: Clinic, branch: int | None) -> str:
    lang = language()
    moment = now()
    return render_template(
        "console/_queue_board.html",
        lines=lines,
        room=_room(),
        branch=branch,
        label=queues.ticket_label,
        waited=lambda t: _minutes(t.arrived_at, moment),
        t=translator(lang),
        **formatting(clinic, lang),
    )


def _minutes(since: datetime, moment: datetime) -> int:
    return max(0, int((moment - since).total_seconds() // 60))


@console.get("/waiting-room")
@staff_required
def waiting_board() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        branch = branch_asked(session, clinic)
        branches = queues.open_branches(session, clinic.id or 0)
        lines = _lines(session, clinic, branch)
        html = _board_html(lines, clinic, branch)
    notice = request.args.get("notice")
    return page(
        "waiting_room.html",
        board_html=html,
        stamp=_stamp(lines),
        room=_room(),
        branch=branch,
        branches=branches if len(branches) > 1 else [],
        notice=notice if notice in NOTICES else None,
        feed_url=url_for("console.waiting_board_feed", room=_room(), branch=branch),
        poll_seconds=current_app.config.get("CONSOLE_POLL_SECONDS", POLL_SECONDS),
    )


@console.get("/waiting-room/feed")
@staff_required
def waiting_board_feed() -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        branch = branch_asked(session, clinic)
        lines = _lines(session, clinic, branch)
        html = _board_html(lines, clinic, branch)
    return jsonify(stamp=_stamp(lines), html=html)


def _back(notice: str) -> Response:
    branch = request.values.get("branch", "")
    return redirect(
        url_for(
            "console.waiting_board",
            room=_room() or None,
            branch=int(branch) if branch.isdigit() else None,
            notice=notice,
        ),
        code=303,
    )


@console.post("/waiting-room/call")
@staff_required
def call_next() -> Response:
    """Call the queue's next patient to the desk's room: two desks pressing at once get
    two different patients."""
    room = _room()
    if not room:
        return _back("no_room")
    queue = request.form.get("queue", "")
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        keys = {
            q.key
            for q in queues.queues(session, clinic.id or 0, queues.rules(session, clinic.id or 0))
        }
        if queue not in keys:
            abort(400)
        called = waiting_room.call_next(session, clinic, queue, actor().who, room, now())
    return _back("called" if called else "nobody")


@console.post("/waiting-room/tickets/<int:ticket_id>/<action>")
@staff_required
def ticket_action(ticket_id: int, action: str) -> Response:
    """Call again, no answer (back of the queue or absent), served, or priority."""
    if action not in TICKET_ACTIONS:
        abort(404)
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        ticket = queues.locked_ticket(session, staff().clinic_id, ticket_id)
        if ticket is None:
            abort(404)
        moment = now()
        if action == "priority":
            done = queues.prioritize(session, ticket)
            if done:
                waiting_room.tell_near(session, clinic, ticket.queue, moment)
        elif action == "recall":
            done = queues.recall(session, ticket, actor().who, _room() or None, moment)
        elif action == "served":
            done = waiting_room.serve(session, clinic, ticket, actor(), moment)
        else:
            done = waiting_room.no_answer(session, clinic, ticket, action == "absent", moment)
    return _back("done" if done else "already")
