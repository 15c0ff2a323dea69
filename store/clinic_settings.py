"""A clinic's own settings — profile, booking rules and automations — checked and changed
in the caller's transaction; each real change is recorded in the settings history (the
rules' history, rule_id 0, action "settings"). Reminder times live in `store.rules`."""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time
from functools import partial
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from store import settings_values as v
from store.models import Clinic
from store.rules import get_clinic, record_settings
from store.staff import LANGUAGES

MAX_FOLLOWUPS = 3
WEEK_MINUTES = 7 * 24 * 60


def followups(value: Any) -> str:
    """No-show follow-up hours, "2,24,72": up to three increasing numbers of hours (a
    month at most); empty for none."""
    if not isinstance(value, str):
        raise ValueError("bad_followup_hours")
    parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    try:
        hours = [float(p) for p in parts]
    except ValueError:
        raise ValueError("bad_followup_hours") from None
    if (
        len(hours) > MAX_FOLLOWUPS
        or any(not 0 < h <= 720 for h in hours)
        or any(a >= b for a, b in pairwise(hours))
    ):
        raise ValueError("bad_followup_hours")
    return ",".join(f"{h:g}" for h in hours)


Check = Callable[[Any], Any]
PROFILE: dict[str, Check] = {
    "name": v.name,
    "phone": partial(v.optional_text, limit=40),
    "address": v.optional_text,
    "insurances": partial(v.optional_text, limit=300),
    "email": v.email,
    "default_language": partial(v.one_of, allowed=LANGUAGES, reason="bad_language"),
    "timezone": v.time_zone,
}
BOOKING: dict[str, Check] = {
    "min_notice_minutes": partial(v.number, low=0, high=WEEK_MINUTES),
    "horizon_days": partial(v.number, low=1, high=365),
    "slot_step_minutes": partial(v.number, low=5, high=240),
    "idle_timeout_minutes": partial(v.number, low=5, high=24 * 60),
    # new numbers may only request an appointment (store.requests); known patients book
    "only_known_patients": v.flag,
}
AUTOMATIONS: dict[str, Check] = {
    "interactive_messages": v.flag,
    "waitlist_hold_minutes": partial(v.number, low=5, high=24 * 60),
    "waitlist_offers_per_day": partial(v.number, low=1, high=20),
    "auto_no_show_at": v.clock_time,
    "no_show_followup_hours": followups,
    "recovery_days": partial(v.number, low=1, high=365),
    "care_delay_minutes": partial(v.optional_number, low=0, high=WEEK_MINUTES),
    "survey_enabled": v.flag,
    "survey_delay_minutes": partial(v.number, low=0, high=WEEK_MINUTES),
    "bot_resume_after_minutes": partial(v.number, low=0, high=WEEK_MINUTES),
}
WEB_PAGE: dict[str, Check] = {
    "booking_slug": v.slug,
    "web_booking": v.flag,
    "web_phone_proof": v.flag,
    "web_hold_minutes": partial(v.number, low=3, high=60),
    "booking_embed_origin": v.web_origin,
}
CHECKS: dict[str, Check] = {**PROFILE, **BOOKING, **AUTOMATIONS}  # the page's: its own call


def settings_of(clinic: Clinic, fields: Iterable[str] = CHECKS) -> dict[str, Any]:
    """The clinic's settings as plain JSON values (times as "HH:MM")."""
    return {
        name: v.hh_mm(value) if isinstance(value, time) else value
        for name, value in ((name, getattr(clinic, name)) for name in fields)
    }


def update_clinic(
    session: Session,
    clinic_id: int,
    changes: Mapping[str, Any],
    by: str,
    now: datetime,
    checks: Mapping[str, Check] = CHECKS,
) -> Clinic:
    """Apply checked changes; the fields that really changed are recorded, before and
    after, as one history row. Nothing is written when nothing changed."""
    values = v.checked(changes, checks)
    clinic = get_clinic(session, clinic_id, lock=True)
    before = settings_of(clinic, values)
    for field, value in values.items():
        setattr(clinic, field, value)
    after = settings_of(clinic, values)
    changed = [field for field in values if before[field] != after[field]]
    if changed:
        session.add(clinic)
        session.flush()
        record_settings(
            session,
            clinic_id,
            by,
            now,
            {f: before[f] for f in changed},
            {f: after[f] for f in changed},
        )
    return clinic


def update_booking_page(
    session: Session, clinic_id: int, changes: Mapping[str, Any], by: str, now: datetime
) -> Clinic:
    """The booking page's settings (`WEB_PAGE`), its address taken by no other clinic; a
    page cannot be switched on without an address."""
    values = v.checked(changes, WEB_PAGE)
    wanted = values.get("booking_slug")
    if wanted is not None:
        other = session.scalars(
            select(col(Clinic.id)).where(
                col(Clinic.booking_slug) == wanted, col(Clinic.id) != clinic_id
            )
        ).first()
        if other is not None:
            raise v.Invalid({"booking_slug": "slug_taken"})
    if values.get("web_booking") and not wanted and "booking_slug" in values:
        raise v.Invalid({"booking_slug": "required"})
    return update_clinic(session, clinic_id, changes, by, now, WEB_PAGE)


def clinic_time_zones(engine: Engine) -> set[str]:
    """Every clinic's time zone (what the start-up check of the time-zone data looks at)."""
    with Session(engine) as session:
        return set(session.scalars(select(col(Clinic.timezone)).distinct()))
