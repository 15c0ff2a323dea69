"""Engine steps per second, in-process, on one core (target: >= 10,000 steps/s).

What it measures: `bot.engine.step(conv, inbound, view)` alone — no database, no HTTP, no
rendering of the replies. The `ClinicView` is built from plain data: 3 services, 5
professionals with weekly hours (with breaks) and some busy intervals over the horizon,
answered by `bot.availability.ScheduleAvailability`, at a fixed `now`.

How: complete booking conversations are driven through `step`, one after another, for a
few seconds of wall time (hola → service number → professional number or "primero
disponible" → day number → time number → name → "saltar" → "saltar" → "si", then the
"booked" event the store would report), mixed with bad answers and "atrás". Every
conversation is checked to end booked. Answers are numbers; a second, shorter phase
measures conversations that give the day as free text ("15 de diciembre", which goes
through dateparser) and is reported separately; a third, conversations in the patients' own
words (details in the opener, "con la dra benites", "lo antes posible", a name and DNI on one
line, a question in the middle, a change of mind), with the same target.

Run: python bench/engine_steps.py [--seconds 5] [--dates-seconds 2] [--own-words-seconds 3]
"""

import argparse
import gc
import os
import random
import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.availability import BookingRules, ProfessionalSchedule, ScheduleAvailability
from bot.effects import Book
from bot.engine import step
from bot.types import (
    ClinicInfo,
    ClinicView,
    ConversationState,
    Inbound,
    PersonInfo,
    ProfessionalInfo,
    ServiceInfo,
)

TARGET_STEPS_PER_SECOND = 10_000
ZONE = ZoneInfo("America/Asuncion")
# Wednesday 25 November 2026, 09:00 in Asunción
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZONE).astimezone(UTC)
BOOKED = Inbound(event="booked", data={"code": "ABC123"})

MORNING, AFTERNOON = (time(8), time(12)), (time(14), time(18))
PROFESSIONALS = [
    # id, name, services, weekly hours
    (1, "Dra. Ana Benítez", {1, 3}, {d: [MORNING, AFTERNOON] for d in range(5)}),
    (2, "Dr. Luis Ortiz", {1, 2}, {d: [(time(9), time(13))] for d in range(6)}),
    (
        3,
        "Dra. Carmen Duarte",
        {2},
        {d: [(time(8), time(11)), (time(15), time(19))] for d in (0, 2)},
    ),
    (4, "Dr. Diego Villalba", {1, 2}, {d: [AFTERNOON] for d in (1, 3, 5)}),
    (
        5,
        "Dra. Paula Rojas",
        {1, 3},
        {d: [(time(7), time(10)), (time(11), time(15))] for d in range(5)},
    ),
]
SERVICES = [
    ServiceInfo(1, "Consulta clínica", timedelta(minutes=30)),
    ServiceInfo(2, "Odontología", timedelta(minutes=45)),
    ServiceInfo(3, "Pediatría", timedelta(minutes=30)),
]


def busy_intervals(
    weekly: dict[int, list[tuple[time, time]]], rules: BookingRules, chance: random.Random
) -> tuple[tuple[datetime, datetime], ...]:
    """About a third of each working day taken by 30-minute appointments, over the horizon."""
    busy = []
    today = rules.local_date(NOW)
    for offset in range(rules.horizon_days + 1):
        day = today + timedelta(days=offset)
        for start, end in weekly.get(day.weekday(), ()):
            moment = datetime.combine(day, start, tzinfo=ZONE)
            finish = datetime.combine(day, end, tzinfo=ZONE)
            while moment + timedelta(minutes=30) <= finish:
                if chance.random() < 0.33:
                    busy.append(
                        (moment.astimezone(UTC), (moment + timedelta(minutes=30)).astimezone(UTC))
                    )
                moment += timedelta(minutes=30)
    return tuple(busy)


def build_view(people: list[PersonInfo]) -> ClinicView:
    rules = BookingRules(timezone=ZONE, min_notice=timedelta(hours=1), horizon_days=45)
    chance = random.Random(11)
    schedules = {
        pid: ProfessionalSchedule(pid, weekly, busy_intervals(weekly, rules, chance))
        for pid, _, _, weekly in PROFESSIONALS
    }
    return ClinicView(
        clinic=ClinicInfo(
            id=1,
            name="Clínica Bench",
            rules=rules,
            phone="021 555 000",
            address="Av. España 100",
        ),
        services=SERVICES,
        professionals=[
            ProfessionalInfo(pid, name, frozenset(services))
            for pid, name, services, _ in PROFESSIONALS
        ],
        people=people,
        availability=ScheduleAvailability(schedules, rules, NOW),
        now=NOW,
    )


# Each script is one conversation: the patient's lines, then the "booked" event.
NEW_PATIENT_SCRIPTS = [
    ["hola", "1", "1", "1", "3", "Juana Pérez", "saltar", "saltar", "si"],
    ["hola", "2", "primero disponible", "2", "5", "Pedro Gómez", "saltar", "saltar", "si"],
    ["buenas", "3", "2", "3", "1", "Rosa Giménez", "saltar", "4123456", "si"],
    # bad inputs and going back
    ["hola", "7", "1", "atrás", "2", "3", "1", "2", "1234", "Tomás Sosa", "saltar", "-", "si"],
    ["hola", "1", "primero disponible", "2", "23:15", "4", "Ana Paz", "saltar", "saltar",
     "quizás", "si"],
    ["hola", "1", "cardiólogo", "2", "atrás", "1", "4", "2", "x" * 200, "Lucía Acosta",
     "saltar", "saltar", "dale"],
]  # fmt: skip
KNOWN_PATIENT_SCRIPTS = [
    ["hola", "1", "2", "2", "6", "1", "si"],  # who: the known patient
    ["hola", "3", "primero disponible", "3", "2", "otra persona", "Mía Sosa", "saltar",
     "saltar", "si"],
]  # fmt: skip
DATE_SCRIPTS = [
    ["hola", "1", "1", "15 de diciembre", "1", "Juana Pérez", "saltar", "saltar", "si"],
    ["hola", "2", "primero disponible", "el 3 de diciembre", "2", "Pedro Gómez", "saltar",
     "saltar", "si"],
    ["hola", "1", "2", "viernes", "1", "Ana Paz", "saltar", "saltar", "si"],
    ["hola", "1", "1", "10/12", "1", "Luis Paz", "saltar", "saltar", "si"],
]  # fmt: skip
# Patients in their own words: details in the opener, a name inside a sentence, "as soon as
# possible", a name and DNI on one line, a question in the middle, a change of mind.
OWN_WORDS_SCRIPTS = [
    ["hola quiero un turno para mañana a la tarde", "consulta clinica", "con la dra benites",
     "el que sea", "Juana Pérez 4.567.890", "saltar", "si"],
    ["buenas, necesito un turno de odontologia con el dr ortiz", "lo antes posible",
     "el que sea", "Pedro Gómez", "saltar", "saltar", "dale"],
    ["hola, cuanto sale la consulta?", "quiero un turno de pediatria", "cualquiera",
     "el viernes a la mañana", "lo antes posible", "me llamo Rosa Giménez, CI 4123456",
     "IPS", "si"],
    ["hola", "consulta", "1", "no perdon, es para pediatria", "cualquiera", "pasado mañana",
     "lo antes posible", "Luis Paz", "saltar", "saltar", "si"],
    ["hello, I need an appointment for tomorrow morning", "1", "the earliest please",
     "the earliest please", "John Smith", "skip", "skip", "yes"],
]  # fmt: skip


def converse(script: list[str], view: ClinicView) -> int:
    """Drive one conversation to its booking; returns the number of steps taken."""
    conv = ConversationState()
    for line in script:
        turn = step(conv, Inbound(text=line), view)
        conv = turn.state
    if not any(isinstance(e, Book) for e in turn.effects):
        raise AssertionError(f"no booking at the end of {script!r}: {conv.state}")
    turn = step(conv, BOOKED, view)
    if turn.state.state != "done" or turn.replies[0].template != "booking.booked":
        raise AssertionError(f"booked event not handled after {script!r}")
    return len(script) + 1


def run_for(seconds: float, plan: list[tuple[list[str], ClinicView]]) -> tuple[int, int, float]:
    """Steps and conversations done in about `seconds` of wall time."""
    steps = conversations = 0
    gc.collect()
    started = clock.perf_counter()
    deadline = started + seconds
    while clock.perf_counter() < deadline:
        for script, view in plan:
            steps += converse(script, view)
            conversations += 1
    return steps, conversations, clock.perf_counter() - started


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        try:
            core = min(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {core})
            return f"pinned to CPU {core}"
        except OSError:
            pass
    return "not pinned"


def report(name: str, value: float, target: str, met: bool | None, unit: str) -> None:
    verdict = "" if met is None else ("  MET" if met else "  NOT MET")
    print(f"{name:<44} {value:>12,.0f} {unit:<10} target {target}{verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="main phase wall time")
    parser.add_argument("--dates-seconds", type=float, default=2.0, help="free-text dates phase")
    parser.add_argument("--own-words-seconds", type=float, default=3.0, help="own words phase")
    args = parser.parse_args(argv)

    where = pin_to_one_core()
    anonymous = build_view([])
    known = build_view([PersonInfo(77, "Rosa Giménez")])
    plan = [(s, anonymous) for s in NEW_PATIENT_SCRIPTS] + [
        (s, known) for s in KNOWN_PATIENT_SCRIPTS
    ]
    dates_plan = [(s, anonymous) for s in DATE_SCRIPTS]
    own_words_plan = [(s, anonymous) for s in OWN_WORDS_SCRIPTS]

    for script, view in plan + dates_plan + own_words_plan:  # loads the flow, locales…
        converse(script, view)

    print(f"engine_steps: one process, {where}, now={NOW.isoformat()}")
    steps, conversations, elapsed = run_for(args.seconds, plan)
    rate = steps / elapsed
    print(
        f"  number answers: {steps:,} steps in {conversations:,} conversations, {elapsed:.2f} s"
        f" ({elapsed / steps * 1e6:.1f} µs/step)"
    )
    d_steps, d_conversations, d_elapsed = run_for(args.dates_seconds, dates_plan)
    d_rate = d_steps / d_elapsed
    print(
        f"  free-text days: {d_steps:,} steps in {d_conversations:,} conversations,"
        f" {d_elapsed:.2f} s ({d_elapsed / d_steps * 1e6:.1f} µs/step)"
    )
    w_steps, w_conversations, w_elapsed = run_for(args.own_words_seconds, own_words_plan)
    w_rate = w_steps / w_elapsed
    print(
        f"  own words: {w_steps:,} steps in {w_conversations:,} conversations,"
        f" {w_elapsed:.2f} s ({w_elapsed / w_steps * 1e6:.1f} µs/step)"
    )
    target = f">= {TARGET_STEPS_PER_SECOND:,}"
    met = rate >= TARGET_STEPS_PER_SECOND and w_rate >= TARGET_STEPS_PER_SECOND
    report("engine steps/s (number answers)", rate, target, rate >= TARGET_STEPS_PER_SECOND, "")
    report("engine steps/s (days as free text)", d_rate, "(informative)", None, "steps/s")
    report("engine steps/s (own words)", w_rate, target, w_rate >= TARGET_STEPS_PER_SECOND, "")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
