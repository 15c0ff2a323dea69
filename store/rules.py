"""Reading the clinic's notification rules, and the rule every new clinic starts with."""

from datetime import datetime

from sqlmodel import Session, select

from store.models import NotificationMode, NotificationRule
from store.notification_plan import RuleFilter


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
