"""The branch a waiting-room page is for, read from `?branch=`: the kiosk, the board and
the screen of a clinic with several branches show one branch's queues."""

from flask import abort, request
from sqlmodel import Session

from store import queues
from store.models import Clinic


def branch_asked(session: Session, clinic: Clinic) -> int | None:
    """The branch in `?branch=` (one of the clinic's active ones; 404 otherwise), or
    None: the whole clinic."""
    raw = request.values.get("branch", "")
    if not raw:
        return None
    ids = {b.id for b in queues.open_branches(session, clinic.id or 0)}
    if not raw.isdigit() or int(raw) not in ids:
        abort(404)
    return int(raw)
