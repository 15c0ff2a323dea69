"""The clinic's notification rules and reminder settings: reading them, changing them in the
caller's transaction, and the history of every change (who, when, before and after)."""

import json
import re
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from sqlmodel import Session, col, select

from store.models import (
    Branch,
    Clinic,
    NotificationMode,
    NotificationRule,
    NotificationRuleChange,
    Professional,
    Service,
)
from store.notification_plan import RuleFilter

RULE_FIELDS = ("branch_id", "professional_id", "service_id", "insurance", "plan", "mode", "active")
SETTINGS_RULE_ID = 0  # history rows of clinic settings, which are no rule
MAX_TEXT = 100
DEFAULT_HISTORY = 200
HOURS_RANGE = range(1, 169)  # up to a week ahead
HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class RuleError(ValueError):
    """A change that cannot be made; `reason` is machine-readable, `field` names the input."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.field = reason, message, field


class NotFound(RuleError):
    """The rule, professional or clinic does not exist in this clinic."""


def rules_for(session: Session, clinic_id: int) -> list[RuleFilter]:
    """The clinic's active rules as plain filters for `store.notification_plan.wanted`."""
    rows = session.exec(
        select(NotificationRule).where(
            NotificationRule.clinic_id == clinic_id, NotificationRule.active
        )
    )
    return [
        RuleFilter(
            mode=r.mode,
            branch_id=r.branch_id,
            professional_id=r.professional_id,
            service_id=r.service_id,
            insurance=r.insurance,
            plan=r.plan,
        )
        for r in rows
    ]


def add_default_rule(session: Session, clinic_id: int, now: datetime) -> NotificationRule:
    """Reminders and booking confirmations for everybody, until the clinic says otherwise."""
    rule = NotificationRule(
        clinic_id=clinic_id, mode=NotificationMode.both, created_at=now, updated_at=now
    )
    session.add(rule)
    session.flush()
    return rule


def rule_fields(rule: NotificationRule) -> dict[str, Any]:
    """What a rule says, as kept in its history and shown by the admin API."""
    return {"id": rule.id, **{name: getattr(rule, name) for name in RULE_FIELDS}}


def list_rules(session: Session, clinic_id: int) -> list[NotificationRule]:
    """Every rule of the clinic, inactive ones too, oldest first."""
    query = select(NotificationRule).where(NotificationRule.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(NotificationRule.id))))


def get_rule(
    session: Session, clinic_id: int, rule_id: int, *, lock: bool = False
) -> NotificationRule:
    """The clinic's rule; another clinic's rule is as unknown as a missing one."""
    if not _is_id(rule_id):
        raise NotFound("rule_not_found", f"no notification rule {rule_id} in this clinic")
    query = select(NotificationRule).where(
        NotificationRule.id == rule_id, NotificationRule.clinic_id == clinic_id
    )
    rule = session.exec(query.with_for_update() if lock else query).first()
    if rule is None:
        raise NotFound("rule_not_found", f"no notification rule {rule_id} in this clinic")
    return rule


def create_rule(
    session: Session, clinic_id: int, fields: Mapping[str, Any], by: str, now: datetime
) -> NotificationRule:
    """A new rule from `fields` (any of RULE_FIELDS; the rest mean "all", mode "both",
    active), with its "created" history row."""
    values = _checked(session, clinic_id, {"mode": NotificationMode.both, **fields})
    rule = NotificationRule(clinic_id=clinic_id, created_at=now, updated_at=now, **values)
    session.add(rule)
    session.flush()
    _record(session, clinic_id, rule.id or 0, "created", by, now, None, rule_fields(rule))
    return rule


def update_rule(
    session: Session,
    clinic_id: int,
    rule_id: int,
    changes: Mapping[str, Any],
    by: str,
    now: datetime,
) -> NotificationRule:
    """Change the given fields (None sets a filter back to "all"). A change that changes
    nothing writes no history row: the history lists what really changed."""
    rule = get_rule(session, clinic_id, rule_id, lock=True)
    values = _checked(session, clinic_id, changes)
    before = rule_fields(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    after = rule_fields(rule)
    if after != before:
        rule.updated_at = now
        session.add(rule)
        session.flush()
        _record(session, clinic_id, rule_id, "updated", by, now, before, after)
    return rule


def delete_rule(session: Session, clinic_id: int, rule_id: int, by: str, now: datetime) -> None:
    """Remove the rule; its history stays, ending with a "deleted" row."""
    rule = get_rule(session, clinic_id, rule_id, lock=True)
    before = rule_fields(rule)
    session.delete(rule)
    session.flush()
    _record(session, clinic_id, rule_id, "deleted", by, now, before, None)


def history(
    session: Session, clinic_id: int, *, rule_id: int | None = None, limit: int = DEFAULT_HISTORY
) -> list[NotificationRuleChange]:
    """The clinic's changes, newest first; of one rule when `rule_id` is given."""
    query = select(NotificationRuleChange).where(NotificationRuleChange.clinic_id == clinic_id)
    if rule_id is not None:
        query = query.where(NotificationRuleChange.rule_id == rule_id)
    query = query.order_by(col(NotificationRuleChange.id).desc()).limit(limit)
    return list(session.exec(query))


def change_fields(change: NotificationRuleChange) -> dict[str, Any]:
    """A history row with its before and after read back from JSON."""
    return {
        "id": change.id,
        "rule_id": change.rule_id,
        "action": change.action,
        "changed_by": change.changed_by,
        "changed_at": change.changed_at.isoformat(),
        "before": json.loads(change.before) if change.before is not None else None,
        "after": json.loads(change.after) if change.after is not None else None,
    }


def set_professional_reminders(
    session: Session, clinic_id: int, professional_id: int, enabled: bool, by: str, now: datetime
) -> Professional:
    """Switch reminders for one professional's patients on or off. Recorded in the rules'
    history as a "settings" row (rule_id 0): it decides who gets messages just as a rule
    does, and the admin reads both in one place."""
    if not _is_id(professional_id):
        raise NotFound("professional_not_found", f"no professional {professional_id} here")
    query = select(Professional).where(
        Professional.id == professional_id, Professional.clinic_id == clinic_id
    )
    professional = session.exec(query.with_for_update()).first()
    if professional is None:
        raise NotFound("professional_not_found", f"no professional {professional_id} here")
    if professional.reminders_enabled != enabled:
        before = {"professional_id": professional_id, "reminders_enabled": not enabled}
        professional.reminders_enabled = enabled
        session.add(professional)
        session.flush()
        after = {"professional_id": professional_id, "reminders_enabled": enabled}
        _record(session, clinic_id, SETTINGS_RULE_ID, "settings", by, now, before, after)
    return professional


def record_settings(
    session: Session,
    clinic_id: int,
    by: str,
    now: datetime,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """One change of the clinic's settings in the history (action "settings", rule_id 0),
    beside the rules it works with: the fields that changed, before and after."""
    _record(session, clinic_id, SETTINGS_RULE_ID, "settings", by, now, before, after)


def reminder_settings_of(clinic: Clinic) -> dict[str, Any]:
    """The clinic's reminder times as the admin API shows them."""
    at = clinic.reminder_day_before_at
    return {
        "hours_before": clinic.reminder_hours_before,
        "day_before_at": at.strftime("%H:%M") if at is not None else None,
    }


def get_clinic(session: Session, clinic_id: int, *, lock: bool = False) -> Clinic:
    if not _is_id(clinic_id):
        raise NotFound("clinic_not_found", f"no clinic {clinic_id}")
    query = select(Clinic).where(Clinic.id == clinic_id)
    clinic = session.exec(query.with_for_update() if lock else query).first()
    if clinic is None:
        raise NotFound("clinic_not_found", f"no clinic {clinic_id}")
    return clinic


def set_reminder_settings(
    session: Session, clinic_id: int, changes: Mapping[str, Any], by: str, now: datetime
) -> Clinic:
    """Change `hours_before` (1..168 or None for no such reminder) and/or `day_before_at`
    ("HH:MM" local time or None). Applies to appointments planned from now on; recorded
    as a "settings" history row (rule_id 0) when something changed."""
    clinic = get_clinic(session, clinic_id, lock=True)
    before = reminder_settings_of(clinic)
    if "hours_before" in changes:
        hours = changes["hours_before"]
        if hours is not None and (
            isinstance(hours, bool) or not isinstance(hours, int) or hours not in HOURS_RANGE
        ):
            raise RuleError(
                "bad_hours_before", "hours_before must be 1 to 168, or null", "hours_before"
            )
        clinic.reminder_hours_before = hours
    if "day_before_at" in changes:
        clinic.reminder_day_before_at = _local_time(changes["day_before_at"])
    after = reminder_settings_of(clinic)
    if after != before:
        session.add(clinic)
        session.flush()
        _record(session, clinic_id, SETTINGS_RULE_ID, "settings", by, now, before, after)
    return clinic


def _local_time(value: Any) -> time | None:
    if value is None:
        return None
    if not isinstance(value, str) or not HH_MM.fullmatch(value):
        raise RuleError(
            "bad_day_before_at",
            'day_before_at must be "HH:MM" (00:00-23:59), or null',
            "day_before_at",
        )
    return time(int(value[:2]), int(value[3:]))


def _checked(session: Session, clinic_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The rule fields, checked: known names, a mode, ids of this clinic, short texts."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise RuleError("unknown_field", f"{name} is not a field of a rule", name)
    values = dict(fields)
    if "mode" in values:
        if not isinstance(values["mode"], str) or values["mode"] not in set(NotificationMode):
            raise RuleError("bad_mode", "mode must be reminders, confirmations or both", "mode")
        values["mode"] = NotificationMode(values["mode"]).value
    if "active" in values and not isinstance(values["active"], bool):
        raise RuleError("bad_active", "active must be true or false", "active")
    for name, model in (
        ("branch_id", Branch),
        ("professional_id", Professional),
        ("service_id", Service),
    ):
        if values.get(name) is not None:
            _check_owned(session, clinic_id, model, name, values[name])
    for name in ("insurance", "plan"):
        if values.get(name) is not None:
            values[name] = _filter_text(name, values[name])
    return values


def _check_owned(session: Session, clinic_id: int, model: Any, name: str, value: Any) -> None:
    reason = f"unknown_{name.removesuffix('_id')}"
    if not _is_id(value):
        raise RuleError(reason, f"{name} must be an id of this clinic, or null", name)
    row = session.get(model, value)
    if row is None or row.clinic_id != clinic_id:
        raise RuleError(reason, f"{name} {value} is not in this clinic", name)


def _is_id(value: Any) -> bool:
    """A value that can be a row id (not a bool, and within the database's integer)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _filter_text(name: str, value: Any) -> str:
    """An insurance or plan name to match (case and spaces do not matter when matching);
    null, not an empty text, means "all"."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_TEXT:
        raise RuleError(
            f"bad_{name}", f"{name} must be a name of 1 to {MAX_TEXT} characters, or null", name
        )
    return value.strip()


def _record(
    session: Session,
    clinic_id: int,
    rule_id: int,
    action: str,
    by: str,
    now: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        NotificationRuleChange(
            clinic_id=clinic_id,
            rule_id=rule_id,
            changed_by=by,
            changed_at=now,
            action=action,
            before=json.dumps(before, sort_keys=True) if before is not None else None,
            after=json.dumps(after, sort_keys=True) if after is not None else None,
        )
    )
    session.flush()
