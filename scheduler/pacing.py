"""Per-sender pacing: at most `rate` sends per second from one WhatsApp sender number,
counted across every dispatcher of every worker.

Each sender's schedule (`Pace`) is kept where all dispatchers see it (`SharedPaces`: the
database, Redis where configured, or this process alone) and changed in one atomic step
per send: `reserve` before it, `finish` once it has its answer. The rules are pure
functions of the schedule and the time; time comes from injected `timer` and `sleep`
functions (the wall clock between processes), so tests move a fake clock instead of
waiting."""

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from math import floor
from typing import Protocol, TypeVar

# Twilio counts sends when they arrive, some time after we start them and before we have
# the answer: the one-second window is measured from the end of the earlier send to the
# start of the later one (so it holds however long each took), plus this much for clocks.
WINDOW_MARGIN = 0.005
# A send that went out late (the dispatcher was busy with another sender) leaves its slot
# unused: up to this much lost time is made up by sending the next ones sooner (the
# one-second window still holds).
CATCH_UP = 0.1
# No send takes longer than this (the client gives up after 10 s): a send still not
# finished after it was cut off (its dispatcher died), and counts as ended then.
LONGEST_SEND = 15.0
# How long to wait before asking again when the send a second must be counted from is
# still in flight.
RECHECK = 0.02

Result = TypeVar("Result")


@dataclass(frozen=True)
class Send:
    """One paced send: when it started, and when it had its answer (None while in flight)."""

    token: str
    start: float
    end: float | None = None


@dataclass(frozen=True)
class Pace:
    """One sender's schedule: when its next slot begins, and its latest sends (at most
    one second's worth at its rate)."""

    slot: float = float("-inf")
    recent: tuple[Send, ...] = ()


def reserve(
    pace: Pace,
    now: float,
    rate: float,
    token: str,
    *,
    margin: float = WINDOW_MARGIN,
    catch_up: float = CATCH_UP,
) -> tuple[Pace, float | None]:
    """Take the sender's next slot: one every 1/rate seconds (a late send's lost time, up
    to `catch_up`, made up), and never more than the rate between the end of one send
    and the start of a send a second (plus `margin`) later. Returns the new schedule and
    when the send may start, or None while the send it must wait for is still in flight
    (ask again shortly)."""
    per_window = _per_window(rate)
    ready = pace.slot
    if len(pace.recent) >= per_window:
        counted_from = pace.recent[-per_window]
        end = counted_from.end
        if end is None:
            if now < counted_from.start + LONGEST_SEND:
                return pace, None
            end = counted_from.start + LONGEST_SEND
        ready = max(ready, end + 1.0 + margin)
    start = max(ready, now)
    # a sender's first send was not late: there is no lost time to make up
    on_time = start if pace.slot == float("-inf") else max(pace.slot, start - catch_up)
    slot = on_time + 1.0 / rate
    counting = tuple(s for s in pace.recent if _counts_after(s, now, margin))
    return Pace(slot, (*counting, Send(token, start))[-per_window:]), start


def _counts_after(send: Send, now: float, margin: float) -> bool:
    """Whether `send` can still hold back a send starting at `now` or later (else it is
    forgotten, so a schedule never holds more than about one second of sends)."""
    end = send.end if send.end is not None else send.start + LONGEST_SEND
    return end + 1.0 + margin > now


def finish(pace: Pace, token: str, end: float) -> Pace:
    """Note that the send holding `token` has had its answer (or failed) at `end`."""
    recent = tuple(replace(s, end=end) if s.token == token else s for s in pace.recent)
    return replace(pace, recent=recent)


def _per_window(rate: float) -> int:
    """How many sends one second may hold at this rate (at least one)."""
    return max(1, floor(rate))


def encode(pace: Pace) -> str:
    """The schedule as the text the shared stores keep."""
    return json.dumps(
        {"slot": pace.slot, "recent": [[s.token, s.start, s.end] for s in pace.recent]}
    )


def decode(text: str | None) -> Pace:
    """A schedule from its text; a new sender's, or one written by an unknown version,
    starts empty."""
    if not text:
        return Pace()
    try:
        raw = json.loads(text)
        recent = tuple(
            Send(str(t), float(s), None if e is None else float(e)) for t, s, e in raw["recent"]
        )
        return Pace(float(raw["slot"]), recent)
    except (ValueError, KeyError, TypeError):
        return Pace()


class SharedPaces(Protocol):
    """Where every dispatcher keeps the senders' schedules: `update` reads one sender's
    schedule (None if new), applies `change` and writes its result, atomically."""

    def update(self, sender: str, change: Callable[[str | None], tuple[str, Result]]) -> Result: ...


@dataclass
class LocalPaces:
    """Schedules known to this process only: for one dispatcher alone (tests, benches)."""

    _texts: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, sender: str, change: Callable[[str | None], tuple[str, Result]]) -> Result:
        with self._lock:
            self._texts[sender], result = change(self._texts.get(sender))
            return result


@dataclass
class Pacer:
    """Waits for each sender's turn in the shared schedules: `wait` before a send, `done`
    after it (with the token `wait` gave). Ends are noted here and written with the
    sender's next reservation (one change of the shared schedule per send, not two);
    `flush` writes those still unwritten, and a dispatcher calls it when its batch is
    over, so that no other dispatcher waits on a send that has long ended."""

    shared: SharedPaces = field(default_factory=LocalPaces)
    timer: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    margin: float = WINDOW_MARGIN
    catch_up: float = CATCH_UP
    _next_slot: dict[str, float] = field(default_factory=dict)
    _ended: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ready_at(self, sender: str) -> float:
        """About when `sender` may send next, as this dispatcher last saw it (others may
        have taken slots since: `wait` is what counts)."""
        return self._next_slot.get(sender, float("-inf"))

    def wait(self, sender: str, rate: float) -> str:
        """Take `sender`'s next slot and sleep until it begins; returns the send's token."""
        token = uuid.uuid4().hex

        def take(text: str | None, ended: list[tuple[str, float]]) -> tuple[Pace, float | None]:
            return reserve(
                _finished(decode(text), ended),
                self.timer(),
                rate,
                token,
                margin=self.margin,
                catch_up=self.catch_up,
            )

        while (start := self._change(sender, take)) is None:
            self.sleep(RECHECK)
        delay = start - self.timer()
        if delay > 0:
            self.sleep(delay)
        return token

    def done(self, sender: str, token: str) -> None:
        """Note that the send of `token` from `sender` has had its answer (or failed)."""
        with self._lock:
            self._ended.setdefault(sender, []).append((token, self.timer()))

    def flush(self) -> None:
        """Write every noted end to the shared schedules."""
        with self._lock:
            senders = list(self._ended)
        for sender in senders:
            self._change(sender, lambda text, ended: (_finished(decode(text), ended), None))

    def _change(
        self,
        sender: str,
        change: Callable[[str | None, list[tuple[str, float]]], tuple[Pace, Result]],
    ) -> Result:
        """One atomic change of `sender`'s shared schedule, with the ends noted since the
        last (kept for the next change if this one fails)."""
        with self._lock:
            ended = self._ended.pop(sender, [])

        def apply(text: str | None) -> tuple[str, Result]:
            pace, result = change(text, ended)
            self._next_slot[sender] = pace.slot
            return encode(pace), result

        try:
            return self.shared.update(sender, apply)
        except BaseException:
            with self._lock:
                self._ended.setdefault(sender, [])[:0] = ended
            raise


def _finished(pace: Pace, ended: list[tuple[str, float]]) -> Pace:
    """The schedule with these sends' ends noted."""
    for token, end in ended:
        pace = finish(pace, token, end)
    return pace


def busiest_second(moments: Iterable[float]) -> int:
    """The most sends found in any one-second window [t, t + 1) of these moments."""
    ordered = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
