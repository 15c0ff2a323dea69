"""Block-offs (admins): times nobody, or one professional, can be booked — holidays,
courses, a broken chair. Entered and shown in the clinic's local time."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import abort, redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from bot.numbers import read_id
from store.agenda import add_block_off, block_offs_from, professionals, remove_block_off
from store.db import transaction
from web.console.agenda import formatting, own_clinic
from web.console.common import admin_required, console, engine, language, now, page, staff
from web.self_service_forms import parse_day

NOTICES = ("added", "removed", "invalid")


def _local_moment(day_field: str, time_field: str, tz: ZoneInfo) -> datetime | None:
    """A local date and time from the form as a UTC-aware instant; None if unreadable."""
    day = parse_day(request.form.get(day_field))
    try:
        at = time.fromisoformat(request.form.get(time_field, "") or "00:00")
    except ValueError:
        return None
    return None if day is None else datetime.combine(day, at, tzinfo=tz)


@console.get("/block-offs")
@admin_required
def block_offs() -> Response:
    notice = request.args.get("notice")
    return _list_page(notice if notice in NOTICES else None)


def _list_page(notice: str | None, status: int = 200) -> Response:
    with Session(engine()) as session:
        clinic = own_clinic(session)
        blocks = block_offs_from(session, clinic.id or 0, now())
        staff_list = professionals(session, clinic.id or 0)
    return page(
        "block_offs.html",
        status=status,
        blocks=blocks,
        professionals=staff_list,
        names={p.id: p.name for p in staff_list},
        notice=notice,
        today=now().astimezone(ZoneInfo(clinic.timezone)).date(),
        **formatting(clinic, language()),
    )


@console.post("/block-offs")
@admin_required
def add_block() -> Response:
    raw = request.form.get("professional", "")
    professional_id = read_id(raw) if raw else None
    if raw and professional_id is None:
        abort(400)
    with transaction(engine()) as session:
        clinic = own_clinic(session)
        tz = ZoneInfo(clinic.timezone)
        starts = _local_moment("start_day", "start_time", tz)
        ends = _local_moment("end_day", "end_time", tz)
        added = False
        if starts is not None and ends is not None:
            try:
                add_block_off(
                    session,
                    staff().clinic_id,
                    starts_at=starts,
                    ends_at=ends,
                    professional_id=professional_id,
                    reason=request.form.get("reason"),
                )
                added = True
            except ValueError:
                pass
    if not added:  # shown again, outside the transaction that wrote nothing
        return _list_page("invalid", 422)
    return redirect(url_for("console.block_offs", notice="added"), code=303)


@console.post("/block-offs/<int:block_off_id>/delete")
@admin_required
def remove_block(block_off_id: int) -> Response:
    with transaction(engine()) as session:
        if not remove_block_off(session, staff().clinic_id, block_off_id, now()):
            abort(404)
    return redirect(url_for("console.block_offs", notice="removed"), code=303)
