"""What a patient's words say about when — a day (or days to choose between, or a week), a
time, a part of the day — relative to the clinic's local today.

Patients mix languages in one sentence, so the vocabulary of all three (`vocabulary/when.*`)
is read at once; dateparser reads what it leaves ("December the 15th"). Pure and fast: the
engine calls it on every answer to a day or time question."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import time as Time
from functools import cache, lru_cache

import dateparser
from rapidfuzz.distance import Levenshtein

from bot.calendar_names import (
    month_abbreviations,
    month_names,
    weekday_abbreviations,
    weekday_names,
)
from bot.locale import LANGUAGES
from bot.text import normalize
from bot.vocabulary import vocabulary, words

PARTS = ("morning", "afternoon", "evening")
PAST_GRACE = timedelta(days=60)  # "20/11" said on 25/11 is a past date, not next year
AFTERNOON_HOURS = range(1, 7)  # "a las 3" at a clinic is 15:00, not 03:00
_ORDINAL = r"(?:st|nd|rd|th|ro|do|vo|mo|°|º)?"
SUFFIX = "am|pm|a m|p m|hs|hrs|horas|h"
_GLUED = re.compile(r"(?<=[a-z])-(?=[a-z])")  # a word and a Guarani postposition


@dataclass(frozen=True)
class When:
    days: tuple[date, ...] = ()
    week: bool = False  # the days are a week to choose in, not alternatives
    time: Time | None = None
    part: str | None = None  # morning | afternoon | evening

    @property
    def day(self) -> date | None:
        return self.days[0] if len(self.days) == 1 and not self.week else None

    @property
    def ambiguous(self) -> bool:
        """Several days, any of which the patient may mean: to be asked back."""
        return len(self.days) > 1 and not self.week

    def __bool__(self) -> bool:
        return bool(self.days or self.time or self.part)


@dataclass(frozen=True)
class _Vocabulary:
    phrases: dict[str, tuple[str, ...]]  # key → its phrases in every language, longest first
    weekdays: dict[str, int]  # any spelling → 0 (Monday) … 6
    months: dict[str, int]  # any spelling → 1 … 12
    words: frozenset[str]  # every word of the vocabulary: never "corrected"
    guessable: tuple[str, ...]  # long Spanish and English day and month names, for typos
    clock_patterns: tuple[re.Pattern[str], ...]  # "10:30", "10.30 hs"; "3pm", "10hs"
    at_pattern: re.Pattern[str]
    month_day: re.Pattern[str]
    day_month: re.Pattern[str]
    marked_day: re.Pattern[str]
    weekday_day: re.Pattern[str]
    numbers: dict[str, int]  # a day number in words → the number
    spelled_before_month: re.Pattern[str]  # "primero de diciembre"
    spelled_after_name: re.Pattern[str]  # "diciembre primero", "sábado cinco"
    spelled_before_unit: re.Pattern[str]  # "dos días", "una semana"
    spelled_after_at: re.Pattern[str]  # "a las ocho", "at ten": an hour
    morning_of: re.Pattern[str]  # "el lunes de mañana", "mañana de mañana": in the morning
    habitual: re.Pattern[str]  # "los sábados", "on Saturdays": every one, not one day
    from_now: re.Pattern[str]  # "dentro de 2 días", "in 1 week", "2 days from now"


def _alternation(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


def _calendar_words() -> tuple[dict[str, int], dict[str, int]]:
    """Every way of writing a weekday (0 = Monday) and a month (1 = January) in every
    language: CLDR's names and abbreviations, then the variants patients also write
    (`weekday_variants`, `month_variants` in `vocabulary/when.*.yml`, under the name they
    mean). A weekday's abbreviation that is also a month's ("mar") is read as the month."""
    weekdays: dict[str, int] = {}
    months: dict[str, int] = {}
    for lang in LANGUAGES:
        for month, (name, short) in enumerate(
            zip(month_names(lang), month_abbreviations(lang), strict=True), start=1
        ):
            months.update({normalize(name): month, normalize(short): month})
    for lang in LANGUAGES:
        for day, (name, short) in enumerate(
            zip(weekday_names(lang), weekday_abbreviations(lang), strict=True)
        ):
            weekdays[normalize(name)] = day
            if normalize(short) not in months:
                weekdays[normalize(short)] = day
    for lang in LANGUAGES:
        for key, table in (("weekday_variants", weekdays), ("month_variants", months)):
            written: object = vocabulary("when", lang).get(key) or {}
            assert isinstance(written, dict), f"when.{lang}.yml {key}: a name: variants map"
            for meant, variants in written.items():
                if normalize(meant) not in table:
                    raise ValueError(f"when.{lang}.yml {key}: {meant!r} is no CLDR name")
                table.update((normalize(v), table[normalize(meant)]) for v in variants.split())
    return weekdays, months


@cache
def _vocabulary() -> _Vocabulary:
    keys = (
        "today",
        "tomorrow",
        "day_after_tomorrow",
        "yesterday",
        "next",
        "next_week",
        "this_week",
        *PARTS,
        "at",
        "half",
        "quarter",
        "day_marker",
        "noon",
        "this_part",
        "from_now",
        "from_now_after",
        "day_unit",
        "week_unit",
        "one_of_a_unit",
    )
    phrases = {
        key: tuple(
            sorted({p for lang in LANGUAGES for p in words(key, lang, "when")}, key=len)[::-1]
        )
        for key in keys
    }
    weekdays, months = _calendar_words()
    numbers = _number_words()
    every = {w for group in phrases.values() for p in group for w in p.split()}
    every |= {w for n in numbers for w in n.split()}
    guessable = tuple(
        name
        for lang in ("es", "en")  # Guarani's names differ by a letter from each other
        for name in (
            *(normalize(n) for n in weekday_names(lang)),
            *(normalize(n) for n in month_names(lang)),
        )
        if len(name) >= 5
    )
    at = _alternation(list(phrases["at"]))
    half = _alternation([*phrases["half"], *phrases["quarter"]])
    month = _alternation(list(months))
    weekday = _alternation(list(weekdays))
    marker = _alternation(list(phrases["day_marker"]))
    spelled = _alternation(list(numbers))
    days_near = _alternation([*phrases["today"], *phrases["tomorrow"]])
    # "sábados", "mondays" ("los lunes" is plural as it stands: its "los" says so)
    plural = _alternation(
        [f"{normalize(n)}s" for lang in ("es", "en") for n in weekday_names(lang)]
    )
    unit = _alternation([*phrases["day_unit"], *phrases["week_unit"]])
    one = _alternation(list(phrases["one_of_a_unit"]))
    before, after = (
        _alternation(list(phrases["from_now"])),
        _alternation(list(phrases["from_now_after"])),
    )
    return _Vocabulary(
        phrases=phrases,
        weekdays=weekdays,
        months=months,
        words=frozenset(every | set(weekdays) | set(months)),
        guessable=guessable,
        clock_patterns=(
            re.compile(rf" (?:(?:{at}) )?(\d{{1,2}}) ?[:.h] ?(\d{{2}}) ?({SUFFIX})?(?= )"),
            re.compile(rf" (?:(?:{at}) )?(\d{{1,2}})()(?: ?({SUFFIX}))(?= )"),
        ),
        at_pattern=re.compile(
            rf" (?:{at}) (\d{{1,2}})(?: ({half}))?(?= )|( \d{{1,2}}) ({half})(?= )"
        ),
        month_day=re.compile(rf" ({month}) (?:the )?(\d{{1,2}}){_ORDINAL}(?: (\d{{4}}))?(?= )"),
        day_month=re.compile(
            rf" (\d{{1,2}}){_ORDINAL} (?:de |of |del )?({month})"
            rf"(?: (?:de |del |of )?(\d{{4}}))?(?= )"
        ),
        marked_day=re.compile(rf" (?:{marker}) (\d{{1,2}}){_ORDINAL}(?= )"),
        weekday_day=re.compile(rf" ({weekday}) (\d{{1,2}}){_ORDINAL}(?= )"),
        numbers=numbers,
        spelled_before_month=re.compile(rf" ({spelled})(?= (?:de |of |del )?(?:{month}) )"),
        spelled_after_name=re.compile(rf" ({month}|{weekday}) (the )?({spelled})(?= )"),
        spelled_before_unit=re.compile(rf" ({spelled}|{one})(?= (?:{unit}) )"),
        spelled_after_at=re.compile(rf" ({at}) ({spelled})(?= )"),
        morning_of=re.compile(rf" ((?:{weekday}|{days_near})(?: \d{{1,2}})?) de manana(?= )"),
        habitual=re.compile(
            rf" (?:(?:los|every) (?:{weekday}|{plural})|(?:on )?(?:{plural}))(?= )"
        ),
        from_now=re.compile(
            rf" (?:{before}) (\d{{1,2}}) ({unit})(?: (?:{after}))?(?= )"
            rf"| (\d{{1,2}}) ({unit}) (?:{after})(?= )"
        ),
    )


def _number_words() -> dict[str, int]:
    """The day numbers written in words (`numbers` in `vocabulary/when.*.yml`: one entry
    per number from 1, '|' between them, variants after commas)."""
    found: dict[str, int] = {}
    for lang in LANGUAGES:
        entries = str(vocabulary("when", lang).get("numbers") or "").split("|")
        for number, entry in enumerate(entries, start=1):
            found.update((normalize(v), number) for v in entry.split(",") if normalize(v))
    return found


@lru_cache(maxsize=4096)  # one message is read by several questions; answers repeat
def read_when(text: str, today: date, *, bare_number_is_time: bool = False) -> When:
    """Everything `text` says about when. `bare_number_is_time`: the question was about
    the time, so "16" alone means 16:00 (on a day question it is a list number)."""
    vocabulary = _vocabulary()
    said = _GLUED.sub(" ", normalize(text))  # "viernes-pe" (Guarani "on Friday") is "viernes"
    said = vocabulary.habitual.sub(" ", f" {said} ")
    said = _in_digits(f" {_correct_typos(said, vocabulary)} ", vocabulary)
    said = vocabulary.morning_of.sub(r" \1 a la manana", said)
    this_part, said = _take(said, vocabulary.phrases["this_part"])  # "esta tarde": today
    if this_part:
        part = _take_part(f" {this_part} ", vocabulary)[0]
    else:
        part, said = _take_part(said, vocabulary)
    at, said = _take_time(said, part, vocabulary, bare_number_is_time)
    days, week, said = _take_days(said, today, vocabulary)
    if this_part and not days:
        days = (today,)
    if not (days or at or part) and re.search(r"[a-z]{3}", said) and re.search(r"\d", said):
        days = _dateparser(said, today)  # only text with a number: it costs milliseconds
    return When(days=days, week=week, time=at, part=part)


def names_a_day(text: str) -> bool:
    """Whether `text` names a weekday or a month: "sábado 5" is a day of the month, not
    the fifth option of a list."""
    vocabulary = _vocabulary()
    said = _correct_typos(normalize(text), vocabulary).split()
    return any(w in vocabulary.weekdays or w in vocabulary.months for w in said)


def _in_digits(said: str, vocabulary: _Vocabulary) -> str:
    """Numbers written in words where they can only be a day, a count of days or an hour
    ("el primero de diciembre", "sábado cinco", "dentro de dos semanas", "in a week", "a
    las diez y cuarto"), as digits; elsewhere ("la primera") a word stays a word."""

    def number(word: str) -> str:
        return str(vocabulary.numbers.get(word, 1))  # else "un", "a": one

    said = vocabulary.spelled_before_month.sub(lambda m: f" {number(m.group(1))}", said)
    said = vocabulary.spelled_after_name.sub(
        lambda m: f" {m.group(1)} {m.group(2) or ''}{number(m.group(3))}", said
    )
    said = vocabulary.spelled_before_unit.sub(lambda m: f" {number(m.group(1))}", said)
    return vocabulary.spelled_after_at.sub(_spelled_hour(vocabulary), said)


def _spelled_hour(vocabulary: _Vocabulary) -> Callable[[re.Match[str]], str]:
    def hour(found: re.Match[str]) -> str:
        value = vocabulary.numbers.get(found.group(2), 0)
        return f" {found.group(1)} {value}" if 1 <= value <= 23 else found.group(0)

    return hour


def _correct_typos(said: str, vocabulary: _Vocabulary) -> str:
    """Weekday and month names written with a letter or two wrong ("mierkoles", "vienes",
    "diciemre"). Relative words are not guessed at: "banana" is not "mañana"."""
    fixed = []
    for token in said.split():
        if len(token) >= 5 and token.isalpha() and token not in vocabulary.words:
            limit = 1 if len(token) < 7 else 2
            close = [w for w in vocabulary.guessable if Levenshtein.distance(token, w) <= limit]
            token = min(close, key=lambda w: Levenshtein.distance(token, w)) if close else token
        fixed.append(token)
    return " ".join(fixed)


def _take(said: str, phrases: tuple[str, ...]) -> tuple[str | None, str]:
    """The first (longest) phrase found as whole words, and the text without it."""
    for phrase in phrases:
        needle = f" {phrase} "
        if needle in said:
            return phrase, said.replace(needle, " ", 1)
    return None, said


def _take_part(said: str, vocabulary: _Vocabulary) -> tuple[str | None, str]:
    for part in PARTS:
        found, rest = _take(said, vocabulary.phrases[part])
        if found:
            return part, rest
    return None, said


def _clock(hour: int, minute: int, suffix: str, part: str | None) -> time | None:
    suffix = suffix.replace(" ", "")
    if hour < 12 and (suffix == "pm" or part in ("afternoon", "evening")):
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    elif not suffix and part is None and hour in AFTERNOON_HOURS:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _take_time(
    said: str, part: str | None, vocabulary: _Vocabulary, bare_number_is_time: bool
) -> tuple[time | None, str]:
    noon, said = _take(said, vocabulary.phrases["noon"])
    if noon:
        return time(12), said
    for pattern in vocabulary.clock_patterns:
        found = pattern.search(said)
        if found:
            at = _clock(int(found.group(1)), int(found.group(2) or 0), found.group(3) or "", part)
            if at:
                return at, said[: found.start()] + " " + said[found.end() :]
    found = vocabulary.at_pattern.search(said)
    if found:
        hour = int(found.group(1) or found.group(3))
        extra = found.group(2) or found.group(4) or ""
        minute = 15 if extra in vocabulary.phrases["quarter"] else 30 if extra else 0
        at = _clock(hour, minute, "", part)
        if at:
            return at, said[: found.start()] + " " + said[found.end() :]
    lone = re.fullmatch(r" (\d{1,2}) ", said)
    if lone and (part or bare_number_is_time):
        at = _clock(int(lone.group(1)), 0, "", part)
        if at:
            return at, " "
    return None, said


def _next_weekday(today: date, weekday: int) -> date:
    """The coming one; said on that very weekday, the one a week later."""
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def _day_of_month(today: date, day: int) -> date | None:
    """The next date with that day number: this month if it is still ahead, else the next
    month that has it."""
    year, month = today.year, today.month
    for _ in range(3):
        try:
            meant = date(year, month, day)
        except ValueError:
            meant = None
        if meant and meant >= today:
            return meant
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _dated(today: date, day: int, month: int, year: str | None) -> date | None:
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        meant = date(today.year, month, day)
    except ValueError:
        return None
    if meant < today - PAST_GRACE:
        meant = meant.replace(year=today.year + 1)
    return meant


def _take_days(
    said: str, today: date, vocabulary: _Vocabulary
) -> tuple[tuple[date, ...], bool, str]:
    found: list[date] = []
    for key, offset in (
        ("day_after_tomorrow", 2),
        ("yesterday", -1),
        ("tomorrow", 1),
        ("today", 0),
    ):
        phrase, said = _take(said, vocabulary.phrases[key])
        if phrase:
            found.append(today + timedelta(days=offset))
    for match in vocabulary.from_now.finditer(said):
        count = int(match.group(1) or match.group(3))
        unit = match.group(2) or match.group(4)
        found.append(
            today + timedelta(days=count * (7 if unit in vocabulary.phrases["week_unit"] else 1))
        )
    said = vocabulary.from_now.sub(" ", said)
    week_start: date | None = None
    phrase, said = _take(said, vocabulary.phrases["next_week"])
    if phrase:
        week_start = today + timedelta(days=7 - today.weekday())
    else:
        phrase, said = _take(said, vocabulary.phrases["this_week"])
        if phrase:
            week_start = today
    for pattern in (r" (\d{1,2}) ?[/-] ?(\d{1,2})(?: ?[/-] ?(\d{2,4}))?(?= )",):
        for match in re.finditer(pattern, said):
            meant = _dated(today, int(match.group(1)), int(match.group(2)), match.group(3))
            if meant:
                found.append(meant)
        said = re.sub(pattern, " ", said)
    for match in vocabulary.day_month.finditer(said):
        meant = _dated(
            today, int(match.group(1)), vocabulary.months[match.group(2)], match.group(3)
        )
        if meant:
            found.append(meant)
    said = vocabulary.day_month.sub(" ", said)
    for match in vocabulary.month_day.finditer(said):
        meant = _dated(
            today, int(match.group(2)), vocabulary.months[match.group(1)], match.group(3)
        )
        if meant:
            found.append(meant)
    said = vocabulary.month_day.sub(" ", said)
    for match in vocabulary.weekday_day.finditer(said):
        weekday, numbered = vocabulary.weekdays[match.group(1)], int(match.group(2))
        meant = _day_of_month(today, numbered)
        if meant and meant.weekday() == weekday:
            found.append(meant)
        else:  # "el martes 10" when the 10th is a Thursday: which one?
            found.append(_next_weekday(today, weekday))
            if meant:
                found.append(meant)
    said = vocabulary.weekday_day.sub(" ", said)
    for match in vocabulary.marked_day.finditer(said):
        meant = _day_of_month(today, int(match.group(1)))
        if meant:
            found.append(meant)
    said = vocabulary.marked_day.sub(" ", said)
    for token in said.split():
        if token in vocabulary.weekdays:
            weekday = vocabulary.weekdays[token]
            if any(d.weekday() == weekday for d in found):
                continue  # "domingo 20/12", "mañana jueves": the same day said twice
            if week_start is not None:  # "el viernes de la semana que viene"
                found.append(week_start + timedelta(days=(weekday - week_start.weekday()) % 7))
                week_start = None
            else:
                found.append(_next_weekday(today, weekday))
    days = tuple(sorted(set(found)))
    if week_start is not None and not days:
        end = week_start + timedelta(days=6 - week_start.weekday())
        span = (end - week_start).days + 1
        return tuple(week_start + timedelta(days=n) for n in range(span)), True, said
    return days, False, said


def _dateparser(said: str, today: date) -> tuple[date, ...]:
    parsed = dateparser.parse(
        said.strip(),
        languages=["es", "en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, time(12)),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day"],
        },
    )
    return (parsed.date(),) if parsed else ()
