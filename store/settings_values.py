"""Pure checks of the values an admin sets (numbers in a range, names, e-mail, time zone,
"HH:MM"), shared by the console's settings pages and the admin API. A bad value raises
`Invalid` with every problem found, by field, as machine-readable reasons."""

import re
from collections.abc import Mapping
from datetime import time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from store.rules import RuleError

HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]")  # 3 to 40: letters, digits, hyphens
ORIGIN = re.compile(r"https://[a-z0-9.-]+(?::\d{1,5})?")
NAME_LIMIT = 100
TEXT_LIMIT = 200


class Invalid(RuleError):
    """One or more fields with bad values: `problems` maps each field to its reason
    (`required`, `too_long`, `not_a_number`, `out_of_range`, `bad_time`, ...); `reason`
    and `field` name the first, for an API that answers one at a time."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        field, reason = next(iter(problems.items()))
        super().__init__(reason, f"{field}: {reason.replace('_', ' ')}", field)
        self.problems = dict(problems)


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zones a clinic may pick, America/* first (where our clinics are)."""
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return tuple(sorted(names, key=lambda z: (not z.startswith("America/"), z)))


def number(value: Any, low: int, high: int) -> int:
    """An integer from `low` to `high` (a bool is no number)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not_a_number")
    if not low <= value <= high:
        raise ValueError("out_of_range")
    return value


def optional_number(value: Any, low: int, high: int) -> int | None:
    return None if value is None else number(value, low, high)


def name(value: Any, limit: int = NAME_LIMIT) -> str:
    """A required short text, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("required")
    if len(value.strip()) > limit:
        raise ValueError("too_long")
    return value.strip()


def optional_text(value: Any, limit: int = TEXT_LIMIT) -> str | None:
    """A trimmed text, or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return name(value, limit)


def email(value: Any) -> str | None:
    found = optional_text(value)
    if found is not None and not EMAIL.fullmatch(found):
        raise ValueError("bad_email")
    return found


def slug(value: Any) -> str | None:
    """A page's address in a link: lower-case letters, digits and hyphens; None for none."""
    found = optional_text(value, limit=40)
    if found is not None and not SLUG.fullmatch(found.lower()):
        raise ValueError("bad_slug")
    return found.lower() if found else None


def web_origin(value: Any) -> str | None:
    """One website's origin, https://host[:port], as a browser names it; None for none."""
    found = optional_text(value, limit=120)
    if found is not None and not ORIGIN.fullmatch(found.lower().rstrip("/")):
        raise ValueError("bad_origin")
    return found.lower().rstrip("/") if found else None


def time_zone(value: Any) -> str:
    if not isinstance(value, str) or value not in time_zones():
        raise ValueError("bad_timezone")
    return value


def one_of(value: Any, allowed: tuple[str, ...], reason: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(reason)
    return value


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not_a_switch")
    return value


def clock_time(value: Any) -> time | None:
    """A local time written "HH:MM" (00:00-23:59), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not HH_MM.fullmatch(value.strip()):
        raise ValueError("bad_time")
    return time(int(value.strip()[:2]), int(value.strip()[3:]))


def hh_mm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def checked(changes: Mapping[str, Any], checks: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` with each value passed through its field's check (a function of one
    value that raises ValueError(reason)); every problem is reported at once."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field, value in changes.items():
        if field not in checks:
            problems[field] = "unknown_field"
            continue
        try:
            values[field] = checks[field](value)
        except ValueError as exc:
            problems[field] = str(exc)
    if problems:
        raise Invalid(problems)
    return values
