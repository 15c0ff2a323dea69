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

# Twilio counts sends when they arrive, a little after we start them, and not all take
# equally long: a send that would complete a full second's worth waits this much more.
WINDOW_MARGIN = 0.02


@dataclass
class Pacer:
    """When each sender may send next: sends of one sender are at least 1/rate seconds
    apart, and no window of one second (plus `margin`) holds more than the rate."""

    timer: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    margin: float = WINDOW_MARGIN
    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def ready_at(self, sender: str, rate: float) -> float:
        """The earliest `timer()` value at which `sender` may send again."""
        sent = self._sent.get(sender)
        if not sent:
            return float("-inf")
        ready = sent[-1] + 1.0 / rate
        per_window = _per_window(rate)
        if len(sent) >= per_window:
            ready = max(ready, sent[-per_window] + 1.0 + self.margin)
        return ready

    def wait(self, sender: str, rate: float) -> None:
        """Sleep until `sender` may send, then count a send starting now."""
        delay = self.ready_at(sender, rate) - self.timer()
        if delay > 0:
            self.sleep(delay)
        self.record(sender, rate)

    def record(self, sender: str, rate: float) -> None:
        """Count a send from `sender` starting now."""
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
