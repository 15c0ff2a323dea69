"""Weekday and month names, from CLDR through babel and nowhere else: a hand-written table
once put every Guarani weekday a day off (CLDR: arateĩ is Sunday, arakõi Monday)."""

from functools import cache

from babel import Locale

# Python's numbering: date.weekday() 0 is Monday; CLDR's tables are keyed the same way.
WEEKDAYS = range(7)
MONTHS = range(1, 13)


@cache
def weekday_names(language: str) -> tuple[str, ...]:
    """The weekdays' full names as CLDR writes them in a date, Monday first."""
    wide = Locale.parse(language).days["format"]["wide"]
    return tuple(wide[day] for day in WEEKDAYS)


@cache
def month_names(language: str) -> tuple[str, ...]:
    """The months' full names as CLDR writes them in a date, January first."""
    wide = Locale.parse(language).months["format"]["wide"]
    return tuple(wide[month] for month in MONTHS)


@cache
def weekday_abbreviations(language: str) -> tuple[str, ...]:
    """The weekdays' short names (CLDR's abbreviated format), Monday first."""
    short = Locale.parse(language).days["format"]["abbreviated"]
    return tuple(short[day] for day in WEEKDAYS)


@cache
def month_abbreviations(language: str) -> tuple[str, ...]:
    """The months' short names (CLDR's abbreviated format), January first."""
    short = Locale.parse(language).months["format"]["abbreviated"]
    return tuple(short[month] for month in MONTHS)
