"""The waiting room's rules, set by the clinic's admin: one queue per service or per
professional, the grace after an appointment's time before it queues as a walk-in, when
"your turn is near" goes (people ahead, or minutes of estimated wait), and whether the
room's screen shows initials. The queues cannot be regrouped while anybody waits today:
their tickets would fall out of every queue shown."""

from flask import redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from store import queues
from store.db import transaction
from store.models import QueueBy, WaitingRoom
from usecases import waiting_room
from web.console.agenda import own_clinic
from web.console.common import admin_required, console, engine, now, page

LIMITS = {"late_grace_minutes": (0, 240), "near_ahead": (0, 50), "near_minutes": (1, 240)}


def _number(name: str, required: bool) -> int | str | None:
    """The field's whole number within its limits; None where left empty and allowed;
    the field's name where it is wrong."""
    raw = request.form.get(name, "").strip()
    if not raw and not required:
        return None
    low, high = LIMITS[name]
    if not raw.isdigit() or not low <= int(raw) <= high:
        return name
    return int(raw)


@console.get("/waiting-room/rules")
@admin_required
def waiting_rules() -> Response:
    with Session(engine()) as session:
        rules = queues.rules(session, own_clinic(session).id or 0)
    return page("waiting_rules.html", rules=rules, wrong=[], saved="saved" in request.args)


@console.post("/waiting-room/rules")
@admin_required
def save_waiting_rules() -> Response:
    queue_by = request.form.get("queue_by", "")
    values = {
        "late_grace_minutes": _number("late_grace_minutes", True),
        "near_ahead": _number("near_ahead", True),
        "near_minutes": _number("near_minutes", False),
    }
    wrong = [v for v in values.values() if isinstance(v, str)]
    if queue_by not in tuple(QueueBy):
        wrong.append("queue_by")
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        rules = session.get(WaitingRoom, clinic.id) or WaitingRoom(clinic_id=clinic.id or 0)
        day = waiting_room.today(clinic, now()).date()
        if queue_by != rules.queue_by and (
            queues.waiting(session, clinic.id or 0, day)
            or queues.called(session, clinic.id or 0, day)
        ):
            wrong.append("queue_by_busy")
        if not wrong:
            rules.queue_by = queue_by
            rules.late_grace_minutes = int(values["late_grace_minutes"] or 0)
            rules.near_ahead = int(values["near_ahead"] or 0)
            near = values["near_minutes"]
            rules.near_minutes = near if isinstance(near, int) else None
            rules.show_initials = request.form.get("show_initials") == "on"
            session.add(rules)
    if wrong:  # the page after the transaction: its navigation reads the store
        return page("waiting_rules.html", 400, rules=rules, wrong=wrong, saved=False)
    return redirect(url_for("console.waiting_rules", saved=1), code=303)
