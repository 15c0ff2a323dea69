"""Days and times as patients write them, relative to the clinic's local "today".

Our own vocabulary (in `locales/words.*`) covers what dateparser misses: relative days in
Guarani, "el viernes", "pasado mañana"; dateparser reads the rest ("15 de diciembre")."""

import re
from datetime import date, datetime, time, timedelta

import dateparser

from bot.locale import LANGUAGES, words, words_any
from bot.text import normalize

_NUMERIC_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?")
_TIME = re.compile(
    r"(?<![\d/])(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*(am|pm|a m|p m|hs|h|horas)?(?![\d/])"
)
_HALF = {"y media": 30, "y cuarto": 15, "media": 30}
PAST_GRACE = timedelta(days=60)  # "20/11" said on 25/11 is a past date, not next year


def _without_fillers(value: str) -> str:
    fillers = words_any("filler")
    return " ".join(w for w in value.split() if w not in fillers)


def parse_day(value: str, today: date) -> date | None:
    """The local date meant, or None when nothing in the text names a day."""
    text = normalize(value)
    core = _without_fillers(text)
    for key, offset in (("day_after_tomorrow", 2), ("today", 0), ("tomorrow", 1)):
        if text in words_any(key) or core in words_any(key):
            return today + timedelta(days=offset)
    for language in LANGUAGES:
        weekdays = words("weekdays", language)
        if core in weekdays:
            ahead = (weekdays.index(core) - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    numeric = _NUMERIC_DATE.search(text)
    if numeric:
        return _numeric_date(numeric, today)
    if not re.search(r"[a-z]", core):
        return None
    parsed = dateparser.parse(
        core,
        languages=["es", "en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, time(12)),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day"],
        },
    )
    return parsed.date() if parsed else None


def _numeric_date(found: re.Match[str], today: date) -> date | None:
    day, month, year = int(found.group(1)), int(found.group(2)), found.group(3)
    try:
        if year:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            return date(full_year, month, day)
        meant = date(today.year, month, day)
    except ValueError:
        return None
    if meant < today - PAST_GRACE:
        meant = meant.replace(year=today.year + 1)
    return meant


def parse_time(value: str) -> time | None:
    """A wall-clock time: "10:30", "10.30", "10hs", "3pm", "10 y media"."""
    text = normalize(value)
    found = _TIME.search(text)
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    suffix = (found.group(3) or "").replace(" ", "")
    if not found.group(2):
        rest = text[found.end() :].strip()
        minute = next((m for word, m in _HALF.items() if rest.startswith(word)), 0)
    if suffix == "pm" and hour < 12:
        hour += 12
    if suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
