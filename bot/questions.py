"""The kinds of question a flow state may ask, registered by the name its flow file gives.
A choice (`choose:`) knows what it offers, which number it takes as offered without
reading its options again, and what a chosen option sets in the draft; an answer kind
(`read:`) says how written words are taken. Pure functions of the clinic view and the
draft: the engine asks through them, and the flow checker knows the names from here."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from typing import TypeVar

from bot.availability import Slot
from bot.payloads import ACTIONS
from bot.text import normalize
from bot.types import BookingDraft, ClinicView, Option, ServiceInfo
from bot.vocabulary import words_any
from bot.when import PARTS, read_when

DAYS_OFFERED = 5
TIMES_OFFERED = 20
NAME_LIMIT = 80
TEXT_LIMIT = 60
COMMENT_LIMIT = 1000
FREE_TEXT_LIMIT = 300  # `read: text`, e.g. the days an appointment request would like


class Gone(Enum):
    """An offered choice that is no longer there (a time taken since it was offered)."""

    gone = "gone"


GONE = Gone.gone


@dataclass(frozen=True)
class Choice:
    """A `choose:` source."""

    options: Callable[[ClinicView, BookingDraft], list[Option]]
    remember: Callable[[ClinicView, BookingDraft, Option], None]
    # An offered id, named by its number or a tap, taken without reading the options
    # again (None: read them; GONE: no longer free).
    as_offered: Callable[[ClinicView, BookingDraft, str], Option | Gone | None] | None = None
    # Words that name a choice without matching an option's label (a part of the day).
    from_words: Callable[[str, date], Option | None] | None = None
    takes_said_time: bool = False  # a time said with the day is taken without asking


class Form(Enum):
    """How an answer kind reads what was written."""

    text = "text"  # kept as written, within a length
    yes_no = "yes_no"
    day = "day"  # any one day within the horizon, with space or not
    date = "date"  # a day written instead of a number, at a choice of days
    time = "time"  # a time written instead of a number, at a choice of times


def _never(value: str) -> bool:
    return False


def _always(value: str) -> bool:
    return True


@dataclass(frozen=True)
class Reading:
    """A `read:` kind. Text kinds keep `limit` characters; `blank` words leave the field
    empty; a value that is not `valid` is answered with the `invalid` template."""

    form: Form
    limit: int = TEXT_LIMIT
    blank: Callable[[str], bool] = _never
    valid: Callable[[str], bool] = _always
    invalid: str | None = None
    # a part of the answer that answers a later question: the rest, and the details given
    # ahead (`BookingDraft.ahead`)
    also_gives: Callable[[str], tuple[str, dict[str, str]]] | None = None


# -- what the choices read ---------------------------------------------------------------


def today(view: ClinicView) -> date:
    return view.clinic.rules.local_date(view.now)


def chosen_service(view: ClinicView, draft: BookingDraft) -> ServiceInfo | None:
    """The chosen service, if the clinic still offers it."""
    return view.service(draft.service)


def professional_ids(view: ClinicView, draft: BookingDraft) -> list[int]:
    if draft.professional is not None:
        return [draft.professional]
    return [p.id for p in view.professionals if draft.service in p.service_ids]


def slots(view: ClinicView, draft: BookingDraft, day: date) -> list[Slot]:
    service = chosen_service(view, draft)
    if service is None:
        return []
    return view.availability.slots(service, professional_ids(view, draft), day)


def is_open(view: ClinicView, draft: BookingDraft, day: date) -> bool:
    """Whether the day would have a time for the draft were nothing booked: False only
    when it is closed (nobody works, a holiday)."""
    service = chosen_service(view, draft)
    if service is None:
        return True
    return bool(view.availability.open_days(service, professional_ids(view, draft), [day]))


def day_options(
    view: ClinicView, draft: BookingDraft, first_day: date | None = None
) -> list[Option]:
    service = chosen_service(view, draft)
    if service is None:
        return []
    days = view.availability.days_with_space(
        service, professional_ids(view, draft), first_day or today(view), DAYS_OFFERED
    )
    return [Option(d.isoformat(), day=d) for d in days]


def time_options(
    view: ClinicView, draft: BookingDraft, every: bool = False, in_part: bool = True
) -> list[Option]:
    """The day's free times, spread over the day (or `every` one), only those in the
    part of the day the patient asked for."""
    day = draft.day_date
    if day is None:
        return []
    free = slots(view, draft, day)
    tz = view.clinic.rules.timezone
    if in_part and draft.part:
        free = [s for s in free if part_of(s.starts_at.astimezone(tz)) == draft.part]
    shown = free if every else spread(free, TIMES_OFFERED)
    return [
        Option(time_option_id(s.starts_at, s.professional_id), moment=s.starts_at.astimezone(tz))
        for s in shown
    ]


def time_option_id(start: datetime, professional_id: int) -> str:
    """A free time as one choice: its start in UTC and its professional."""
    return f"{start.astimezone(UTC).isoformat()}|{professional_id}"


def part_of(moment: datetime) -> str:
    return "morning" if moment.hour < 12 else "afternoon" if moment.hour < 19 else "evening"


T = TypeVar("T")


def spread(items: list[T], count: int) -> list[T]:
    """At most `count` items, evenly spread over the list (morning to evening)."""
    if len(items) <= count:
        return items
    stride = len(items) / count
    return [items[int(i * stride)] for i in range(count)]


def _professionals(view: ClinicView, draft: BookingDraft) -> list[Option]:
    service = chosen_service(view, draft)
    return [
        Option(str(p.id), label=p.name)
        for p in view.professionals
        if service and service.id in p.service_ids
    ]


def _appointments(view: ClinicView, draft: BookingDraft) -> list[Option]:
    tz = view.clinic.rules.timezone
    return [
        Option(
            str(a.id),
            label=f"{a.service_name} · {a.professional_name} · {a.code}",
            moment=a.starts_at.astimezone(tz),
        )
        for a in view.appointments.upcoming()
    ]


def _offered_day(view: ClinicView, draft: BookingDraft, offered: str) -> Option | None:
    """A day is taken as it was offered, so the calendar need not be read again."""
    try:
        return Option(offered, day=date.fromisoformat(offered))
    except ValueError:
        return None


def _offered_time(view: ClinicView, draft: BookingDraft, offered: str) -> Option | Gone | None:
    """An offered time if it is still free: that one slot is checked, not the day's
    times computed again for every professional."""
    if "|" not in offered:
        return None
    start, professional = offered.split("|")
    service, moment = chosen_service(view, draft), datetime.fromisoformat(start)
    if service is None or not view.availability.is_free(service, int(professional), moment):
        return GONE
    return Option(offered, moment=moment.astimezone(view.clinic.rules.timezone))


def _part_said(text: str, on: date) -> Option | None:
    part = read_when(text, on).part
    return Option(part) if part else None


# -- what a chosen option sets -----------------------------------------------------------


def _set_service(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    draft.service = int(chosen.id)


def _set_professional(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    draft.first_available = chosen.id == "first_available"
    draft.professional = None if draft.first_available else int(chosen.id)


def _set_day(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    if chosen.day is not None:  # an extra offered around a full day keeps the full day
        draft.day = chosen.id


def _set_part(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    draft.part = chosen.id if chosen.id in PARTS else None


def _set_time(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    start, professional = chosen.id.split("|")
    draft.slot, draft.slot_professional = start, int(professional)


def _set_person(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    draft.person = None if chosen.id == "someone_else" else int(chosen.id)


def _set_appointment(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    chosen_id = int(chosen.id)
    appointment = next(a for a in view.appointments.upcoming() if a.id == chosen_id)
    draft.appointment = appointment.id
    draft.service, draft.professional = appointment.service_id, appointment.professional_id


def _nothing(view: ClinicView, draft: BookingDraft, chosen: Option) -> None:
    """The chosen id itself says where to go (a reminder's action)."""


CHOICES: dict[str, Choice] = {
    "services": Choice(
        lambda view, draft: [Option(str(s.id), label=s.name) for s in view.services],
        _set_service,
    ),
    "professionals": Choice(_professionals, _set_professional),
    "days": Choice(day_options, _set_day, as_offered=_offered_day),
    "times": Choice(time_options, _set_time, as_offered=_offered_time, takes_said_time=True),
    "people": Choice(
        lambda view, draft: [Option(str(p.id), label=p.name) for p in view.people], _set_person
    ),
    "appointments": Choice(_appointments, _set_appointment),
    "actions": Choice(
        lambda view, draft: [Option(a, label_key=f"labels.{a}") for a in ACTIONS], _nothing
    ),
    "parts": Choice(
        lambda view, draft: [Option(p, label_key=f"labels.part_{p}") for p in PARTS],
        _set_part,
        from_words=_part_said,
    ),
}


# -- how written answers are taken -------------------------------------------------------


def looks_like_name(value: str) -> bool:
    letters = sum(c.isalpha() for c in value)
    return letters >= 2 and len(value) <= NAME_LIMIT and not any(c.isdigit() for c in value)


def without_manners(said: str) -> str:
    """A normalized answer less the thanks or "please" after it: "sí, gracias" is "sí"."""
    for polite in _manners():
        if said.endswith(" " + polite):
            return said[: -len(polite)].rstrip(" ,.!")
    return said


@cache
def _manners() -> tuple[str, ...]:
    return tuple(sorted(words_any("thanks") | words_any("please"), key=len, reverse=True))


def skips(value: str) -> bool:
    return without_manners(normalize(value)) in words_any("skip")


def declines(value: str) -> bool:
    said = without_manners(normalize(value))
    return said in words_any("skip") or said in words_any("no")


_NAME_AND_NUMBER = re.compile(
    r"(?P<name>.*?\D)[\s,;:-]*(?P<number>\d{1,3}(?:[.\s]?\d{3}){1,3}|\d{5,10})[.\s]*"
)


def name_and_dni(value: str) -> tuple[str, dict[str, str]]:
    """A name followed by a document number ("Juan Pérez 4.567.890", "Juan Pérez, CI
    4567890"): the name, and the number (digits only) for the DNI question. The words
    that introduce either ("me llamo", "cédula") are left out."""
    value = _without_words(value, "name_intro", at_end=False)
    found = _NAME_AND_NUMBER.fullmatch(value)
    if found is None:
        return value, {}
    name = _without_words(found["name"], "document_word", at_end=True)
    if not looks_like_name(name):
        return value, {}
    return name, {"dni": re.sub(r"\D", "", found["number"])}


def without_intro(value: str) -> tuple[str, dict[str, str]]:
    """An answer less the words that introduce it: "tengo IPS" is "IPS"."""
    return _without_words(value, "answer_intro", at_end=False), {}


def _without_words(value: str, key: str, *, at_end: bool) -> str:
    """`value` less one of the words of `key` (any language) at its end, or start; as
    it was where it has none."""
    trimmed = value.strip(" ,;:-")
    said = normalize(trimmed)
    for word in sorted(words_any(key), key=len, reverse=True):
        if at_end and said.endswith(" " + word):
            return trimmed[: len(trimmed) - len(word)].strip(" ,;:-")
        if not at_end and said.startswith(word + " "):
            return trimmed[len(word) :].strip(" ,;:-")
    return value


READINGS: dict[str, Reading] = {
    "name": Reading(
        Form.text, valid=looks_like_name, invalid="booking.name_invalid", also_gives=name_and_dni
    ),
    "optional_text": Reading(Form.text, blank=skips, also_gives=without_intro),
    "text": Reading(Form.text, limit=FREE_TEXT_LIMIT),
    "comment": Reading(Form.text, limit=COMMENT_LIMIT, blank=declines),
    "yes_no": Reading(Form.yes_no),
    "day": Reading(Form.day),
    "date": Reading(Form.date),
    "time": Reading(Form.time),
}
