"""A campaign as the console's form and the admin API give it, read into a
`usecases.campaigns.Draft` and its start time: every field checked, each problem named
by a `campaigns.problem_*` label, never an exception on what a person or a script sent."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.numbers import read_id
from store.campaigns import PARTS, STATUSES, Filters
from store.message_kinds import CAMPAIGN_KINDS, MessageKind
from usecases.campaigns import Draft

LONGEST = 92  # days a campaign's filters may span: a quarter
QUICK_PICKS = ("today", "tomorrow", "today_morning", "today_afternoon", "tomorrow_morning",
               "tomorrow_afternoon")  # fmt: skip
MAX_TEXT = 20_000  # kept for the answer that it is too long; longer is cut before reading


@dataclass
class Fields:
    """What was sent, as text (a form's values, or the API's JSON turned into them)."""

    kind: str = ""
    text: str = ""
    first: str = ""
    last: str = ""
    part: str = ""
    pick: str = ""
    professionals: Sequence[str] = ()
    services: Sequence[str] = ()
    branches: Sequence[str] = ()
    statuses: Sequence[str] = ()
    insurances: Sequence[str] = ()
    include_paused: bool = False
    send_at: str = ""


@dataclass
class Read:
    """The draft (None when a field is wrong), when it goes (None: now), and problems."""

    draft: Draft | None
    send_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    first: date | None = None
    last: date | None = None
    part: str | None = None


def picked(pick: str, today: date) -> tuple[date, date, str | None]:
    """The days and part of a quick pick ("tomorrow_afternoon")."""
    day_name, _, part = pick.partition("_")
    day = today + timedelta(days=1 if day_name == "tomorrow" else 0)
    return day, day, part or None


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _ids(values: Sequence[str]) -> tuple[int, ...] | None:
    found = []
    for value in values:
        value = str(value).strip()
        if not value:
            continue
        number = read_id(value)
        if number is None:
            return None
        found.append(number)
    return tuple(found)


def read(fields: Fields, tz: ZoneInfo, now: datetime) -> Read:
    """The draft the fields describe, or what is wrong with them."""
    problems: list[str] = []
    today = now.astimezone(tz).date()
    kinds = {kind.value: kind for kind in CAMPAIGN_KINDS}
    kind = kinds.get(fields.kind)
    if kind is None:
        problems.append("bad_kind")
    first: date | None
    last: date | None
    if fields.pick in QUICK_PICKS:
        first, last, part = picked(fields.pick, today)
    else:
        first, last = _day(fields.first), _day(fields.last or fields.first)
        part = fields.part or None
    if first is None or last is None:
        problems.append("bad_day")
    elif last < first or (last - first).days >= LONGEST:
        problems.append("bad_range")
    if part is not None and part not in PARTS:
        problems.append("bad_part")
    statuses = tuple(s for s in fields.statuses if s) or tuple(STATUSES)
    if not set(statuses) <= set(STATUSES):
        problems.append("bad_status")
    ids = [_ids(fields.professionals), _ids(fields.services), _ids(fields.branches)]
    if any(found is None for found in ids):
        problems.append("bad_id")
    insurances = tuple(i.strip()[:100] for i in fields.insurances if i.strip())
    send_at = None
    if fields.send_at.strip():
        try:
            send_at = datetime.fromisoformat(fields.send_at.strip())
        except ValueError:
            problems.append("bad_send_at")
        else:
            send_at = send_at.replace(tzinfo=tz) if send_at.tzinfo is None else send_at
            if send_at < now:
                problems.append("in_the_past")
    found = Read(None, send_at, problems, first, last, part)
    if problems or kind is None or first is None or last is None:
        return found
    professionals, services, branches = (i or () for i in ids)
    filters = Filters(first, last, part, professionals, services, branches, statuses, insurances)
    text = fields.text[:MAX_TEXT] if kind == MessageKind.campaign_text else None
    found.draft = Draft(kind, filters, text, fields.include_paused)
    return found
