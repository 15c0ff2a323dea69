"""The arithmetic behind the reports, pure: a share with its 95% confidence interval
(Wilson's score interval, which stays inside 0–1 and behaves with few cases), when a
share rests on too few cases to conclude, and the profitability estimator's sums."""

from dataclasses import dataclass
from math import sqrt

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval
ENOUGH = 30  # fewer cases than this and a share is shown but nothing is concluded from it


@dataclass(frozen=True)
class Share:
    """`part` of `whole` (e.g. absences of appointments), with its 95% interval."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.part, self.whole)

    @property
    def enough(self) -> bool:
        return self.whole >= ENOUGH

    def above(self, other: "Share") -> bool:
        """Surely higher than `other`: both rest on enough cases and the intervals do not
        meet."""
        mine, theirs = self.interval, other.interval
        if not (self.enough and other.enough and mine and theirs):
            return False
        return mine[0] > theirs[1]


def wilson(part: int, whole: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson's score interval for part/whole; None when there are no cases."""
    if whole <= 0:
        return None
    p = part / whole
    z2 = z * z
    centre = (p + z2 / (2 * whole)) / (1 + z2 / whole)
    half = z * sqrt(p * (1 - p) / whole + z2 / (4 * whole * whole)) / (1 + z2 / whole)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Estimate:
    """What reminders are worth for one professional over the months read."""

    absences: int
    to_recover: float  # absences times the share the clinic expects to win back
    per_month: float  # appointments per month
    messages: int
    cost: float
    gain: float  # recovered absences at the average ticket, less the messages' cost


def estimate(
    *,
    appointments: int,
    absences: int,
    messages: int,
    months: int,
    ticket: float,
    recover_share: float,
    message_price: float,
) -> Estimate:
    to_recover = absences * recover_share
    cost = messages * message_price
    return Estimate(
        absences=absences,
        to_recover=to_recover,
        per_month=appointments / months if months else 0.0,
        messages=messages,
        cost=cost,
        gain=to_recover * ticket - cost,
    )
