"""The failed-messages panel: every failed, undelivered, unsendable or cut-off message not
yet handled, newest first, with its reason in the staff member's words; fix the number
(and send again), send again, or mark handled."""

from flask import abort, redirect, request, url_for
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from store.db import transaction
from store.failed_panel import (
    cannot_go_yet,
    fix_number,
    mark_handled,
    open_failure,
    open_failures,
    resend,
)
from store.inbox import Entry
from store.models import OutboxMessage, Patient
from web.console.agenda import formatting, own_clinic
from web.console.common import console, engine, language, now, page, staff, staff_required
from web.console.inbox import labelled_kinds, problem
from web.console.patients import phone_arg

NOTICES = ("resent", "handled", "fixed", "gone", "cannot_go_yet")


def _who() -> str:
    return f"staff:{staff().login}"


def _reason(row: OutboxMessage, lang: str) -> str:
    entry = Entry(
        False,
        row.id or 0,
        row.created_at,
        row.body,
        status=row.status,
        error_code=row.error_code,
        error_message=row.error_message,
    )
    return problem(entry, lang) or ""


@console.get("/failed")
@staff_required
def failed_messages() -> Response:
    lang = language()
    with Session(engine()) as session:
        clinic = own_clinic(session)
        rows = open_failures(session, clinic.id or 0)
        phones = {r.to_phone for r in rows}
        names: dict[str, list[str]] = {}
        for phone, name in session.exec(
            select(col(Patient.phone), col(Patient.name)).where(
                Patient.clinic_id == clinic.id, col(Patient.phone).in_(phones)
            )
        ):
            names.setdefault(phone, []).append(name or "")
    notice = request.args.get("notice")
    return page(
        "failed.html",
        rows=rows,
        names=names,
        reason=lambda r: _reason(r, lang),
        kinds=labelled_kinds(),
        notice=notice if notice in NOTICES else None,
        **formatting(clinic, lang),
    )


def _done(notice: str) -> Response:
    return redirect(url_for("console.failed_messages", notice=notice), code=303)


@console.post("/failed/<int:message_id>/resend")
@staff_required
def resend_failed(message_id: int) -> Response:
    with transaction(engine()) as session:
        row = open_failure(session, staff().clinic_id, message_id)
        if row is None:
            return _done("gone")  # handled meanwhile (a double submit, or a colleague)
        if cannot_go_yet(session, row, now()):  # it would only fail again: say what to do
            return _done("cannot_go_yet")
        resend(session, row, _who(), now())
    return _done("resent")


@console.post("/failed/<int:message_id>/handled")
@staff_required
def handle_failed(message_id: int) -> Response:
    with transaction(engine()) as session:
        row = open_failure(session, staff().clinic_id, message_id)
        if row is None:
            return _done("gone")
        mark_handled(row, _who(), now())
    return _done("handled")


@console.post("/failed/<int:message_id>/fix")
@staff_required
def fix_failed(message_id: int) -> Response:
    """The number was wrong: everybody on it moves to the new one, and the open failures
    to it go again, to the new number."""
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        row = open_failure(session, clinic.id or 0, message_id)
        if row is None:
            return _done("gone")
        new = phone_arg(request.form.get("phone", ""), clinic)
        if new is None or new == row.to_phone:
            abort(422)
        fix_number(session, clinic.id or 0, row.to_phone, new, _who(), now())
    return _done("fixed")
