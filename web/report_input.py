"""A report's question as the console's form and the admin API send it (`from`, `to`,
`professional`, `step`, and the estimator's `ticket`, `months`, `recover`, `price`),
read into a `usecases.report_basics.ReportQuery`: every field checked, a problem named
by its `reports.*` label, never an exception on what a person or a script sent."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.numbers import read_id, read_number
from store.notification_plan import DAY_BEFORE, HOURS_BEFORE
from usecases.report_basics import ReportQuery

LONGEST = 366 * 2  # days one report may read at once
STEPS = (DAY_BEFORE, HOURS_BEFORE)
MOST_MONTHS = 24
LARGEST_AMOUNT = 1_000_000_000.0
DEFAULTS = {"months": "3", "recover": "50", "ticket": "0", "price": "0"}


@dataclass(frozen=True)
class Asked:
    """The query, or the label of what was wrong with the request (and the query of
    the default range, so the page still has something to show)."""

    query: ReportQuery
    problem: str | None = None


def read_query(args: Mapping[str, str], clinic_id: int, today: date, lang: str) -> Asked:
    """`today` is the clinic's local day: the default range is its month so far."""
    first = _day(args.get("from", "")) or today.replace(day=1)
    last = _day(args.get("to", "")) or today
    problem = None
    if first > last or (last - first).days + 1 > LONGEST:
        problem = "bad_range"
        first, last = today.replace(day=1), today
    professional = read_id(args.get("professional", "")) if args.get("professional") else None
    step = args.get("step") if args.get("step") in STEPS else None
    numbers = {key: _amount(args.get(key) or default) for key, default in DEFAULTS.items()}
    if any(value is None for value in numbers.values()):
        problem = problem or "bad_number"
    months = read_number((args.get("months") or DEFAULTS["months"]).strip(), 1, MOST_MONTHS)
    if months is None:
        problem = problem or "bad_number"
    recover = numbers["recover"]
    if recover is not None and recover > 100:
        problem, recover = problem or "bad_number", None
    return Asked(
        ReportQuery(
            clinic_id=clinic_id,
            first_day=first,
            last_day=last,
            lang=lang,
            professional_id=professional,
            reminder_step=step,
            ticket=numbers["ticket"] or 0.0,
            months=months or int(DEFAULTS["months"]),
            recover_share=(recover if recover is not None else 50.0) / 100,
            message_price=numbers["price"] or 0.0,
        ),
        problem,
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if len(text.strip()) == 10 else None
    except ValueError:
        return None


def _amount(text: str) -> float | None:
    """A non-negative amount written with a decimal point or comma ("12.5", "12,5");
    None for anything else (thousands separators, signs, exponents, words)."""
    digits = text.strip().replace(",", ".", 1)
    whole, _, cents = digits.partition(".")
    if not whole or not (whole + cents).isascii() or not (whole + cents).isdigit():
        return None
    value = float(digits)
    return value if value <= LARGEST_AMOUNT else None


def query_args(query: ReportQuery) -> dict[str, str]:
    """The request that asks `query` again (for the download links and the form)."""
    args = {
        "from": query.first_day.isoformat(),
        "to": query.last_day.isoformat(),
        "months": str(query.months),
        "recover": f"{query.recover_share * 100:g}",
        "ticket": f"{query.ticket:g}",
        "price": f"{query.message_price:g}",
    }
    if query.professional_id is not None:
        args["professional"] = str(query.professional_id)
    if query.reminder_step is not None:
        args["step"] = query.reminder_step
    return args


