"""The agenda's time grid as arithmetic: which rows of five minutes a day spans in the
clinic's zone (from the hour before the first thing shown to the hour after the last, in
elapsed time, so a day when the clocks change has one row of hours more or less), where
an interval sits in it, its hour marks, and the lanes that put overlapping appointments
side by side. Pure functions; the page turns rows and lanes into CSS classes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROW = timedelta(minutes=5)
MAX_ROWS = 25 * 12  # a day when the clocks go back has 25 hours
MAX_LANES = 8
OPEN, CLOSE = time(8), time(18)  # what a day with nothing in it shows

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Span:
    """The UTC instants a column of the grid runs between, a whole number of rows."""

    since: datetime
    until: datetime

    @property
    def rows(self) -> int:
        return max(1, -(-(self.until - self.since) // ROW))

    def place(self, start: datetime, end: datetime) -> tuple[int, int] | None:
        """The first row (from 1) and the number of rows of [start, end), cut to the
        span; None when it lies outside."""
        start, end = max(start, self.since), min(end, self.until)
        if end <= start:
            return None
        first = (start - self.since) // ROW
        last = -(-(end - self.since) // ROW)
        return first + 1, max(1, last - first)

    def gaps(self, busy: Sequence[Interval]) -> list[Interval]:
        """The parts of the span that none of `busy` covers (closed hours, breaks)."""
        found: list[Interval] = []
        cursor = self.since
        for start, end in sorted(busy):
            if start > cursor:
                found.append((cursor, min(start, self.until)))
            cursor = max(cursor, end)
        if cursor < self.until:
            found.append((cursor, self.until))
        return [(s, e) for s, e in found if e > s]


def _local_hour_floor(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def day_span(day: date, tz: ZoneInfo, shown: Sequence[Interval]) -> Span:
    """From the local hour at or before the earliest of `shown` to the local hour at or
    after the latest, within the local day; 8:00 to 18:00 when nothing is shown."""
    midnight = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    if not shown:
        shown = [
            (
                datetime.combine(day, OPEN, tzinfo=tz).astimezone(UTC),
                datetime.combine(day, CLOSE, tzinfo=tz).astimezone(UTC),
            )
        ]
    since = max(midnight, _local_hour_floor(min(s for s, _ in shown), tz))
    latest = min(next_midnight, max(e for _, e in shown))
    until = _local_hour_floor(latest, tz)
    if until < latest:
        until += timedelta(hours=1)
    return Span(since, min(until, next_midnight))


def hour_marks(span: Span, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """Each hour the span crosses, in local time, with its row: a day when the clocks go
    forward skips one, a day when they go back shows one twice."""
    marks = []
    moment = span.since
    while moment < span.until:
        placed = span.place(moment, moment + ROW)
        if placed is not None:
            marks.append((moment.astimezone(tz), placed[0]))
        moment += timedelta(hours=1)
    return marks


def lanes(intervals: Sequence[Interval]) -> list[tuple[int, int]]:
    """For each interval (in the order given), its lane and how many lanes its group of
    overlapping intervals needs, at most `MAX_LANES` (more share the last lanes)."""
    order = sorted(range(len(intervals)), key=lambda i: intervals[i])
    found: list[tuple[int, int]] = [(0, 1)] * len(intervals)
    group: list[int] = []
    ends: list[datetime] = []  # the end of the last interval in each lane of the group
    group_end: datetime | None = None

    def close() -> None:
        count = min(len(ends), MAX_LANES)
        for i in group:
            found[i] = (min(found[i][0], count - 1), count)

    for i in order:
        start, end = intervals[i]
        if group_end is not None and start >= group_end:
            close()
            group, ends, group_end = [], [], None
        lane = next((n for n, last in enumerate(ends) if last <= start), len(ends))
        if lane == len(ends):
            ends.append(end)
        else:
            ends[lane] = end
        found[i] = (lane, 1)
        group.append(i)
        group_end = end if group_end is None else max(group_end, end)
    if group:
        close()
    return found
