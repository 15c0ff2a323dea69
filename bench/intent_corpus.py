"""How well the bot understands patients in their own words, on the labelled corpus in
`tests/corpus/` (targets: >= 97% of intents, >= 95% of details).

What it measures: each message is the first of a chat at the corpus's clinic and moment
(Clínica San Roque, Wednesday 25 November 2026 09:00 in Asunción, the patient with one
appointment the next day), stepped through the real engine; what the bot then does (asks
whether to cancel, changes the language, answers the price, greets and starts booking…)
is the intent it understood. The details are what `bot.details` reads in the message: the
service, the professional or "as soon as possible", and the day, part of the day and time.

It prints, per file, precision and recall per intent, the accuracy per language, and the
share of the labelled details that were read, with the details read that the label does not
have (wrong ones) counted apart; and every miss with `--misses`.

Run: python bench/intent_corpus.py [--misses] [--file tests/corpus/dev.yaml]
"""

import argparse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.availability import BookingRules, ProfessionalSchedule, ScheduleAvailability
from bot.details import details_in
from bot.effects import ConfirmAppointment, Effect, OptIn, OptOut, PauseBot
from bot.engine import step
from bot.locale import configure
from bot.types import (
    AppointmentSummary,
    ClinicInfo,
    ClinicView,
    ConversationState,
    Inbound,
    ProfessionalInfo,
    ServiceInfo,
)
from bot.when import read_when

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
FILES = ("dev.yaml", "held_out.yaml")
INTENT_TARGET, DETAILS_TARGET = 0.97, 0.95
ZONE = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZONE)
DETAIL_KEYS = ("service", "professional", "soonest", "day", "part", "time")

SERVICES = {1: "Consulta clínica", 2: "Odontología", 3: "Pediatría"}
DAYS, MORNING, AFTERNOON = range(6), (time(8), time(12)), (time(14), time(18))
PROFESSIONALS = {  # id: name, services, weekly hours
    1: ("Dra. Ana Benítez", {1, 3}, {d: [MORNING, AFTERNOON] for d in range(5)}),
    2: ("Dr. Luis Ortiz", {1}, {d: [(time(9), time(13))] for d in DAYS}),
    3: ("Dra. Carmen Duarte", {2}, {d: [MORNING, AFTERNOON] for d in (0, 2, 4)}),
    4: ("Dr. Diego Villalba", {1, 2}, {d: [AFTERNOON] for d in (1, 3, 5)}),
}
# What the bot did, by the first template of its answer that says it.
INTENT_OF_TEMPLATE = {
    "manage.ask_cancel": "cancel_appointment",
    "manage.nothing_to_cancel": "cancel_appointment",
    "manage.ask_move_day": "reschedule_appointment",
    "manage.nothing_to_reschedule": "reschedule_appointment",
    "manage.nothing_to_confirm": "confirm_appointment",
    "manage.ask_appointment": "my_appointments",
    "manage.no_appointments": "my_appointments",
    "booking.goodbye": "goodbye",
    "booking.goodbye_unfinished": "goodbye",
    "booking.you_are_welcome": "thanks",
    "faq.price": "price",
    "faq.address": "address",
    "faq.opening_hours": "opening_hours",
    "faq.insurances": "insurances",
    "faq.what_to_bring": "what_to_bring",
    "booking.media_unsupported": "media",
    "booking.greeting": "start",
    "booking.greeting_known": "start",
}
INTENT_OF_EFFECT: dict[type[Effect], str] = {
    OptOut: "opt_out",
    OptIn: "opt_in",
    PauseBot: "human",
    ConfirmAppointment: "confirm_appointment",
}


class OneAppointment:
    """The patient's appointment: Thursday 26 November 10:00 with Dra. Ana Benítez."""

    def upcoming(self) -> list[AppointmentSummary]:
        starts = datetime(2026, 11, 26, 10, 0, tzinfo=ZONE).astimezone(UTC)
        return [AppointmentSummary(1, "K7M2QX", 1, SERVICES[1], 1, "Dra. Ana Benítez", starts)]

    def reminded_since(self, since: datetime | None) -> AppointmentSummary | None:
        return None

    def campaign_asked_since(self, since: datetime | None) -> AppointmentSummary | None:
        return None

    def surveyed_since(self, since: datetime | None) -> int | None:
        return None


def corpus_view() -> ClinicView:
    rules = BookingRules(timezone=ZONE, min_notice=timedelta(hours=1), horizon_days=60)
    now = NOW.astimezone(UTC)
    schedules = {
        pid: ProfessionalSchedule(pid, weekly) for pid, (_, _, weekly) in PROFESSIONALS.items()
    }
    return ClinicView(
        clinic=ClinicInfo(id=1, name="Clínica San Roque", rules=rules, address="Av. España 100"),
        services=[ServiceInfo(i, name, timedelta(minutes=30)) for i, name in SERVICES.items()],
        professionals=[
            ProfessionalInfo(pid, name, frozenset(services))
            for pid, (name, services, _) in PROFESSIONALS.items()
        ],
        people=[],
        availability=ScheduleAvailability(schedules, rules, now),
        now=now,
        appointments=OneAppointment(),
    )


@dataclass(frozen=True)
class Reading:
    """What the bot made of one labelled message."""

    item: dict[str, Any]
    intent: str
    details: dict[str, Any]

    @property
    def expected(self) -> dict[str, Any]:
        return {k: _plain(self.item[k]) for k in DETAIL_KEYS if k in self.item}


def load(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8")))


def understood(text: str, media: int, view: ClinicView) -> str:
    """The intent the bot acted on, for a chat's first message."""
    turn = step(ConversationState(), Inbound(text=text, media_count=media), view)
    for effect in turn.effects:
        if type(effect) in INTENT_OF_EFFECT:
            return INTENT_OF_EFFECT[type(effect)]
    templates = [reply.template for reply in turn.replies]
    if "booking.language_changed" in templates:
        return f"language_{turn.state.language}"
    return next((INTENT_OF_TEMPLATE[t] for t in templates if t in INTENT_OF_TEMPLATE), "?")


def details_read(text: str, view: ClinicView) -> dict[str, Any]:
    """The details `bot.details` reads, as the corpus labels them."""
    on = NOW.date()
    found = details_in(text, view, on)
    read: dict[str, Any] = {}
    if found.service:
        read["service"] = SERVICES[found.service]
    if found.professional:
        read["professional"] = PROFESSIONALS[found.professional][0]
    elif found.anyone:
        read["professional"] = "first_available"
    if found.soonest:
        read["soonest"] = True
    if found.when:
        when = read_when(found.when, on)
        if when.day:
            read["day"] = when.day.isoformat()
        if when.part:
            read["part"] = when.part
        if when.time:
            read["time"] = when.time.strftime("%H:%M")
    return read


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def read_all(items: Iterable[dict[str, Any]], view: ClinicView) -> list[Reading]:
    return [
        Reading(
            item,
            understood(str(item["say"]), int(item.get("media", 0)), view),
            details_read(str(item["say"]), view),
        )
        for item in items
    ]


def intent_accuracy(readings: list[Reading]) -> float:
    return sum(r.intent == r.item["intent"] for r in readings) / len(readings)


def details_share(readings: list[Reading]) -> tuple[float, int, int]:
    """The share of labelled details read right, and how many there were; details read
    that the label does not have (or has otherwise) are counted apart as wrong."""
    labelled = right = wrong = 0
    for reading in readings:
        for key, value in reading.expected.items():
            labelled += 1
            right += reading.details.get(key) == value
        wrong += sum(
            1 for key, value in reading.details.items() if reading.expected.get(key) != value
        )
    return (right / labelled if labelled else 1.0), labelled, wrong


def per_intent(readings: list[Reading]) -> list[tuple[str, int, float, float]]:
    """(intent, labelled, precision, recall) for every intent labelled or answered."""
    labelled = Counter(r.item["intent"] for r in readings)
    answered = Counter(r.intent for r in readings)
    right = Counter(r.intent for r in readings if r.intent == r.item["intent"])
    rows = []
    for intent in sorted(set(labelled) | set(answered)):
        precision = right[intent] / answered[intent] if answered[intent] else 0.0
        recall = right[intent] / labelled[intent] if labelled[intent] else 0.0
        rows.append((intent, labelled[intent], precision, recall))
    return rows


def report(name: str, readings: list[Reading], misses: bool) -> bool:
    accuracy = intent_accuracy(readings)
    share, labelled, wrong = details_share(readings)
    print(f"\n{name}: {len(readings)} messages")
    print(f"  {'intent':<24}{'labelled':>9}{'precision':>11}{'recall':>8}")
    for intent, count, precision, recall in per_intent(readings):
        print(f"  {intent:<24}{count:>9}{precision:>11.1%}{recall:>8.1%}")
    for lang in sorted({r.item["lang"] for r in readings}):
        of_lang = [r for r in readings if r.item["lang"] == lang]
        lang_share = details_share(of_lang)[0]
        print(
            f"  {lang:<7} {len(of_lang):>4} messages: intents {intent_accuracy(of_lang):.1%},"
            f" details {lang_share:.1%}"
        )
    met = accuracy >= INTENT_TARGET and share >= DETAILS_TARGET
    print(
        f"  intents right {accuracy:.1%} (target {INTENT_TARGET:.0%}); details read"
        f" {share:.1%} of {labelled} (target {DETAILS_TARGET:.0%}), {wrong} read wrongly"
        f"  {'MET' if met else 'NOT MET'}"
    )
    if misses:
        for r in readings:
            if r.intent != r.item["intent"] or r.details != r.expected:
                print(f"    {r.item['say'][:90]!r}: {r.item['intent']}→{r.intent}"
                      f" {r.expected} → {r.details}")  # fmt: skip
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every message missed")
    parser.add_argument("--file", action="append", help="a corpus file (default: both)")
    args = parser.parse_args(argv)
    configure()
    view = corpus_view()
    paths = [Path(f) for f in args.file] if args.file else [CORPUS / f for f in FILES]
    results = [report(p.name, read_all(load(p), view), args.misses) for p in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
