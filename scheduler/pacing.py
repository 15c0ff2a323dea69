"""Per-sender pacing: at most `rate` sends per second from one WhatsApp sender number.

The schedule lives in this process: several dispatcher processes each keep their own, so
together they may send up to their number times the rate (Twilio queues the excess for a
while, then answers 429, which backs off). Time comes from injected `timer` and `sleep`
functions, so tests move a fake clock instead of waiting."""

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from math import floor

# Twilio counts sends when they arrive, some time after we start them and before we have
# the answer: the one-second window is measured from the end of the earlier send to the
# start of the later one (so it holds however long each took), plus this much for clocks.
WINDOW_MARGIN = 0.005
# A send that went out late (the dispatcher was busy with another sender) leaves its slot
# unused: up to this much lost time is made up by sending the next ones sooner (the
# one-second window still holds).
CATCH_UP = 0.1


@dataclass
class Pacer:
    """When each sender may send next: one slot every 1/rate seconds (a late send's lost
    time, up to `catch_up`, made up), and no more than the rate between the end of one
    send and the start of a send a second (plus `margin`) later."""

    timer: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    margin: float = WINDOW_MARGIN
    catch_up: float = CATCH_UP
    _sent: dict[str, deque[float]] = field(default_factory=dict)
    _slot: dict[str, float] = field(default_factory=dict)

    def ready_at(self, sender: str, rate: float) -> float:
        """The earliest `timer()` value at which `sender` may send again."""
        ready = self._slot.get(sender, float("-inf"))
        sent = self._sent.get(sender, ())
        per_window = _per_window(rate)
        if len(sent) >= per_window:
            ready = max(ready, sent[-per_window] + 1.0 + self.margin)
        return ready

    def wait(self, sender: str, rate: float) -> None:
        """Sleep until `sender` may send, then take the slot; call `done` once the send
        has its answer."""
        delay = self.ready_at(sender, rate) - self.timer()
        if delay > 0:
            self.sleep(delay)
        now = self.timer()
        slot = max(self._slot.get(sender, now), now - self.catch_up)
        self._slot[sender] = slot + 1.0 / rate

    def done(self, sender: str, rate: float) -> None:
        """Count a send from `sender` that has just had its answer (or failed)."""
        sent = self._sent.setdefault(sender, deque())
        sent.append(self.timer())
        while len(sent) > _per_window(rate):
            sent.popleft()


def _per_window(rate: float) -> int:
    """How many sends one second may hold at this rate (at least one)."""
    return max(1, floor(rate))


def busiest_second(moments: Iterable[float]) -> int:
    """The most sends found in any one-second window [t, t + 1) of these moments."""
    ordered = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
