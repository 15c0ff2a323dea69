"""When each business-initiated message about an appointment is due, and whether the
clinic's notification rules want it sent. Pure: the store and the clock come from outside."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from store.message_kinds import MessageKind

REMINDER, CONFIRMATION = MessageKind.reminder, MessageKind.confirmation
HOURS_BEFORE = "hours_before"
DAY_BEFORE = "day_before"
BOOKED = "booked"


@dataclass(frozen=True)
class ReminderSettings:
    timezone: ZoneInfo
    hours_before: int | None = 24
    day_before_at: time | None = None


def reminder_times(starts_at: datetime, settings: ReminderSettings) -> list[tuple[str, datetime]]:
    """(step, due time in UTC) of each reminder of an appointment starting at `starts_at`.
    "The day before at HH:MM" is wall-clock time in the clinic's zone, so it stays at HH:MM
    across a DST change; "N hours before" is elapsed time."""
    times: list[tuple[str, datetime]] = []
    if settings.hours_before:
        times.append((HOURS_BEFORE, starts_at - timedelta(hours=settings.hours_before)))
    if settings.day_before_at is not None:
        local_day = starts_at.astimezone(settings.timezone).date() - timedelta(days=1)
        local = datetime.combine(local_day, settings.day_before_at, tzinfo=settings.timezone)
        times.append((DAY_BEFORE, local.astimezone(starts_at.tzinfo)))
    return times


@dataclass(frozen=True)
class RuleFilter:
    """One notification rule: each filter one value or None for "all"."""

    mode: str
    branch_id: int | None = None
    professional_id: int | None = None
    service_id: int | None = None
    insurance: str | None = None
    plan: str | None = None


@dataclass(frozen=True)
class AppointmentFacts:
    """What the rules can filter on."""

    branch_id: int | None
    professional_id: int
    service_id: int
    insurance: str | None
    plan: str | None


def folded(text: str | None) -> str:
    """An insurance or plan name as compared: case and runs of spaces do not matter."""
    return " ".join((text or "").split()).casefold()


def _same_text(wanted: str | None, actual: str | None) -> bool:
    return wanted is None or folded(actual) == folded(wanted)


def matches(rule: RuleFilter, facts: AppointmentFacts) -> bool:
    return (
        rule.branch_id in (None, facts.branch_id)
        and rule.professional_id in (None, facts.professional_id)
        and rule.service_id in (None, facts.service_id)
        and _same_text(rule.insurance, facts.insurance)
        and _same_text(rule.plan, facts.plan)
    )


def wanted(rules: Iterable[RuleFilter], facts: AppointmentFacts, kind: str) -> bool:
    """Whether any rule that matches the appointment allows this kind of message. Several
    matching rules still mean one message: the answer is yes or no, not a count."""
    by_kind: dict[str, set[str]] = {
        REMINDER: {"reminders", "both"},
        CONFIRMATION: {"confirmations", "both"},
    }
    modes = by_kind[kind]
    return any(rule.mode in modes and matches(rule, facts) for rule in rules)
