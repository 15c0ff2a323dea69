"""The pure checks of `bench/proof.py`: what was lost, what went twice, what arrived out of
order, which acknowledged message got no answer, percentiles, and the table of figures
with each target met or not. No I/O here, so each check is tested on made-up evidence."""

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

REPLY_PREFIX = "reply:"  # usecases.replies: the answer to one inbound message
PART = "#"  # a reply sent in parts: reply:<MessageSid>#<n>


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its target (empty: informative), what was
    measured, and whether the target is met (None: informative)."""

    scenario: str
    figure: str
    target: str
    measured: str
    met: bool | None = None


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of unsorted values (NaN for none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def lost(expected: Iterable[Hashable], delivered: Iterable[Hashable]) -> list[Hashable]:
    """What was expected and never delivered, in the expected order."""
    arrived = set(delivered)
    return [item for item in expected if item not in arrived]


def duplicated(expected: Iterable[Hashable], delivered: Iterable[Hashable]) -> list[Hashable]:
    """What was delivered more times than it was expected (each item once per extra)."""
    extra = Counter(delivered) - Counter(expected)
    return sorted(extra.elements(), key=str)


def out_of_order(
    queued: Mapping[str, Sequence[Hashable]], arrived: Iterable[tuple[str, Hashable]]
) -> list[tuple[str, Hashable, Hashable]]:
    """Pairs that reached a phone in the opposite order to the one they were queued in:
    (phone, the one queued first, the one that arrived before it). `arrived` is in
    arrival order; items not queued for the phone are ignored (`lost`/`duplicated`
    tell those)."""
    rank = {phone: {item: n for n, item in enumerate(items)} for phone, items in queued.items()}
    latest: dict[str, tuple[int, Hashable]] = {}
    found = []
    for phone, item in arrived:
        position = rank.get(phone, {}).get(item)
        if position is None:
            continue
        before = latest.get(phone)
        if before is not None and position < before[0]:
            found.append((phone, item, before[1]))
        else:
            latest[phone] = (position, item)
    return found


def answered_sid(idempotency_key: str) -> str | None:
    """The MessageSid a reply row answers (its key is reply:<sid>, or reply:<sid>#<n>
    for a part); None for rows keyed otherwise, such as a booking's confirmation, keyed
    by its appointment."""
    if not idempotency_key.startswith(REPLY_PREFIX):
        return None
    return idempotency_key.removeprefix(REPLY_PREFIX).split(PART, 1)[0]


def match_answers(
    inbound: Sequence[tuple[str, str]], replies: Iterable[str], confirmations: Iterable[str]
) -> tuple[dict[str, str], list[str]]:
    """Which answer each inbound message got, and the ones that got none.

    `inbound` is (phone, MessageSid) in the order posted; `replies` the keys of reply rows
    (each names its sid); `confirmations` the phones of booking confirmations, one per
    booking, in the order queued. A booking's confirmation is keyed by its appointment,
    not by the message that booked it, so it is given to that phone's earliest message
    left without a reply: the "yes" that booked. Returns ({sid: answer}, [sids left])."""
    answer: dict[str, str] = {}
    for key in replies:
        sid = answered_sid(key)
        if sid is not None:
            answer.setdefault(sid, key)
    waiting: dict[str, list[str]] = {}
    for phone, sid in inbound:
        if sid not in answer:
            waiting.setdefault(phone, []).append(sid)
    for n, phone in enumerate(confirmations):
        if waiting.get(phone):
            answer[waiting[phone].pop(0)] = f"confirmation:{phone}:{n}"
    left = [sid for sids in waiting.values() for sid in sids]
    return answer, left


def at_most(value: float, limit: float) -> bool:
    return not math.isnan(value) and value <= limit


def at_least(value: float, floor: float) -> bool:
    return not math.isnan(value) and value >= floor


def all_met(rows: Iterable[Row]) -> bool:
    """No target NOT MET (informative rows do not count)."""
    return all(row.met is not False for row in rows)


def verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "NOT MET")


def table(rows: Sequence[Row]) -> str:
    """The rows as one Markdown table: scenario, figure, target, measured, verdict."""
    lines = [
        "| scenario | figure | target | measured | |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.scenario} | {r.figure} | {r.target} | {r.measured} | {verdict(r.met)} |"
        for r in rows
    ]
    return "\n".join(lines)
