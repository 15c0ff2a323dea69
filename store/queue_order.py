"""Where a visit stands in its queue, and the number it is called by: pure rules, no I/O.

A queue is ordered by `tier`, then `sort_at`: the priority flag (the elderly, the
pregnant) first, by arrival; then appointments checked in on time (up to the clinic's
grace after their time), by their appointment time; then walk-ins, late arrivals and
those sent back after no answer, by arrival."""

from dataclasses import dataclass
from datetime import datetime, timedelta

PRIORITY, ON_TIME, WALK_IN = 0, 1, 2
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O or Q: said aloud, they pass for 1, 0 and O


@dataclass(frozen=True)
class Place:
    """A visit's place in its queue: lower tiers first, then the earlier `sort_at`."""

    tier: int
    sort_at: datetime


def place(
    arrived_at: datetime,
    *,
    starts_at: datetime | None,
    priority: bool,
    grace: timedelta,
) -> Place:
    """The place of a visit checked in at `arrived_at`; `starts_at` is its appointment's
    time (None for a walk-in)."""
    if priority:
        return Place(PRIORITY, arrived_at)
    if starts_at is not None and arrived_at <= starts_at + grace:
        return Place(ON_TIME, starts_at)
    return Place(WALK_IN, arrived_at)


def back_of_queue(now: datetime) -> Place:
    """After no answer: behind everybody waiting now."""
    return Place(WALK_IN, now)


def letter(position: int) -> str:
    """The letter of a clinic's `position`-th queue (0 → A), said before each number."""
    return LETTERS[position % len(LETTERS)]


def label(letter: str, number: int) -> str:
    """The number as it is shown and said aloud: A-014."""
    return f"{letter}-{number:03d}"


def estimated_wait(ahead: int, service_minutes: list[float], default_minutes: float) -> float:
    """Minutes until a visit with `ahead` people before it is called: the day's mean
    service time so far (or the service's length before anybody was served) each."""
    mean = sum(service_minutes) / len(service_minutes) if service_minutes else default_minutes
    return ahead * mean


def turn_is_near(
    ahead: int, wait_minutes: float, near_ahead: int, near_minutes: int | None
) -> bool:
    """Whether "your turn is near" is due: `near_ahead` or fewer ahead, or the wait
    under `near_minutes` where the clinic set it."""
    return ahead <= near_ahead or (near_minutes is not None and wait_minutes < near_minutes)
