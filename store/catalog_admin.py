"""What a clinic offers, as its admins change it: branches, services and professionals
(with the services each offers and their week), each save checked, applied in the caller's
transaction and recorded in the settings history (who, when, the fields before and after).
The bot sees the changes once its catalog cache expires (seconds)."""

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session, col, delete, select

from store import settings_values as v
from store.models import Branch, Professional, ProfessionalService, Service
from store.rules import NotFound, record_settings, set_professional_reminders
from store.weekly_hours import Interval, set_week, week_of, week_problems

CARE_KEY = re.compile(r"automations\.care(_[a-z0-9_]{1,40})?")
Row = TypeVar("Row", Branch, Service, Professional)


def care_template(value: Any, known: Collection[str] | None = None) -> str | None:
    """A service's care message: a template key `automations.care_*` (one of `known` when
    given), or None for the default."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CARE_KEY.fullmatch(value):
        raise ValueError("bad_care_template")
    if known is not None and value not in known:
        raise ValueError("bad_care_template")
    return value


BRANCH = {"name": v.name, "address": v.optional_text, "active": v.flag}
SERVICE = {
    "name": v.name,
    "duration_minutes": partial(v.number, low=5, high=8 * 60),
    "price": partial(v.optional_text, limit=40),
    "self_bookable": v.flag,
    "web_bookable": v.flag,
    "active": v.flag,
    "care_template": care_template,
}
PROFESSIONAL = {"name": v.name, "active": v.flag}


def _owned(session: Session, model: type[Row], clinic_id: int, row_id: Any, lock: bool) -> Row:
    """The clinic's row; another clinic's is as unknown as a missing one."""
    kind = model.__name__.lower()
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 < row_id < 2**31:
        raise NotFound(f"{kind}_not_found", f"no {kind} {row_id} in this clinic")
    query = select(model).where(model.id == row_id, model.clinic_id == clinic_id)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"{kind}_not_found", f"no {kind} {row_id} in this clinic")
    return row


def _owned_id(session: Session, model: type[Row], clinic_id: int, value: Any) -> int | None:
    """An optional id that must name a row of this clinic (`not_in_clinic` otherwise)."""
    if value is None:
        return None
    try:
        return _owned(session, model, clinic_id, value, lock=False).id
    except NotFound:
        raise ValueError("not_in_clinic") from None


def _save(
    session: Session,
    row: Row,
    values: Mapping[str, Any],
    by: str,
    now: datetime,
    extra: tuple[dict[str, Any], dict[str, Any]] = ({}, {}),
    new: bool = False,
) -> Row:
    """Apply `values` to a new or existing row and record what changed (all of it for a
    new row, whose history starts with nothing before)."""
    kind = type(row).__name__.lower()
    new = new or row.id is None
    before = {name: getattr(row, name) for name in values}
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    after = {name: getattr(row, name) for name in values}
    changed = [n for n in values if new or before[n] != after[n]]
    old, now_extra = extra
    if changed or old != now_extra:
        key = {f"{kind}_id": row.id}
        record_settings(
            session,
            row.clinic_id,
            by,
            now,
            {**key, **({} if new else {n: before[n] for n in changed}), **old},
            {**key, **{n: after[n] for n in changed}, **now_extra},
        )
    return row


def _checked(changes: Mapping[str, Any], checks: Mapping[str, Any], new: bool) -> dict[str, Any]:
    if new and not changes.get("name"):
        raise v.Invalid({"name": "required"})
    return v.checked(changes, checks)


def branches(session: Session, clinic_id: int) -> list[Branch]:
    """Every branch, open ones first, by name."""
    query = select(Branch).where(Branch.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(Branch.active).desc(), col(Branch.name))))


def get_branch(session: Session, clinic_id: int, branch_id: int) -> Branch:
    return _owned(session, Branch, clinic_id, branch_id, lock=False)


def save_branch(
    session: Session,
    clinic_id: int,
    branch_id: int | None,
    changes: Mapping[str, Any],
    by: str,
    now: datetime,
) -> Branch:
    """Create (`branch_id` None) or change a branch; `active` False closes it."""
    values = _checked(changes, BRANCH, branch_id is None)
    if branch_id is None:
        row = Branch(clinic_id=clinic_id, name=values["name"])
    else:
        row = _owned(session, Branch, clinic_id, branch_id, lock=True)
    return _save(session, row, values, by, now)


def services(session: Session, clinic_id: int) -> list[Service]:
    """Every service, active ones first, by name."""
    query = select(Service).where(Service.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(Service.active).desc(), col(Service.name))))


def get_service(session: Session, clinic_id: int, service_id: int) -> Service:
    return _owned(session, Service, clinic_id, service_id, lock=False)


def save_service(
    session: Session,
    clinic_id: int,
    service_id: int | None,
    changes: Mapping[str, Any],
    by: str,
    now: datetime,
    care_templates: Collection[str] | None = None,
) -> Service:
    """Create or change a service: name, duration (5–480 minutes), its price as patients
    are told it, whether patients may book it themselves, active, and its care message
    (one of `care_templates`)."""
    checks = {**SERVICE, "care_template": partial(care_template, known=care_templates)}
    values = _checked(changes, checks, service_id is None)
    if service_id is None:
        row = Service(clinic_id=clinic_id, name=values["name"])
    else:
        row = _owned(session, Service, clinic_id, service_id, lock=True)
    return _save(session, row, values, by, now)


def professionals(session: Session, clinic_id: int) -> list[Professional]:
    """Every professional, active ones first, by name."""
    query = select(Professional).where(Professional.clinic_id == clinic_id)
    order = (col(Professional.active).desc(), col(Professional.name))
    return list(session.exec(query.order_by(*order)))


def get_professional(session: Session, clinic_id: int, professional_id: int) -> Professional:
    return _owned(session, Professional, clinic_id, professional_id, lock=False)


def offered(session: Session, clinic_id: int, professional_id: int) -> set[int]:
    """The ids of the services the professional offers."""
    return set(
        session.exec(
            select(ProfessionalService.service_id).where(
                ProfessionalService.clinic_id == clinic_id,
                ProfessionalService.professional_id == professional_id,
            )
        )
    )


def _week_text(week: Sequence[Interval]) -> list[str]:
    return [f"{i.weekday} {v.hh_mm(i.start)}-{v.hh_mm(i.end)}" for i in sorted(week)]


def save_professional(
    session: Session,
    clinic_id: int,
    professional_id: int | None,
    changes: Mapping[str, Any],
    by: str,
    now: datetime,
    *,
    service_ids: Collection[int] | None = None,
    hours: Sequence[Interval] | None = None,
    reminders_enabled: bool | None = None,
) -> Professional:
    """Create or change a professional: name, active, branch (of this clinic, or None),
    and, when given, the services offered (replaced), the week (replaced, checked by
    `store.weekly_hours`) and the reminders switch (`store.rules`, which records it).
    Every problem found is raised at once as `Invalid`."""
    problems: dict[str, str] = {}
    try:
        own = {k: x for k, x in changes.items() if k != "branch_id"}
        values = _checked(own, PROFESSIONAL, professional_id is None)
    except v.Invalid as exc:
        problems.update(exc.problems)
        values = {}
    if "branch_id" in changes:
        try:
            values["branch_id"] = _owned_id(session, Branch, clinic_id, changes["branch_id"])
        except ValueError as exc:
            problems["branch_id"] = str(exc)
    wanted: set[int] = set()
    for service_id in service_ids or ():
        try:
            wanted.add(_owned_id(session, Service, clinic_id, service_id) or 0)
        except ValueError:
            problems["services"] = "not_in_clinic"
    if hours is not None:
        problems.update({f"hours.{i}": r for i, r in week_problems(hours).items()})
    if problems:
        raise v.Invalid(problems)
    if professional_id is None:
        row = Professional(clinic_id=clinic_id, name=values["name"])
        session.add(row)
        session.flush()
    else:
        row = _owned(session, Professional, clinic_id, professional_id, lock=True)
    pid = row.id or 0
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    if service_ids is not None:
        had = offered(session, clinic_id, pid)
        if had != wanted:
            old["services"], new["services"] = sorted(had), sorted(wanted)
            session.exec(
                delete(ProfessionalService).where(
                    col(ProfessionalService.clinic_id) == clinic_id,
                    col(ProfessionalService.professional_id) == pid,
                )
            )
            session.add_all(
                ProfessionalService(clinic_id=clinic_id, professional_id=pid, service_id=s)
                for s in sorted(wanted)
            )
    if hours is not None:
        had_week = week_of(session, clinic_id, pid)
        if set_week(session, clinic_id, pid, hours):
            old["hours"], new["hours"] = _week_text(had_week), _week_text(hours)
    saved = _save(session, row, values, by, now, (old, new), new=professional_id is None)
    if reminders_enabled is not None:
        set_professional_reminders(session, clinic_id, pid, reminders_enabled, by, now)
    return saved
