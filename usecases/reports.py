"""The console's reports, built from the store's counts: each a title, its tables (what
the page shows and the Excel and CSV files hold), the charts drawn from them and, for
the findings, plain sentences with the figures behind them. Every label is in the
reader's language; the same figures go to the admin API as JSON."""

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta

from babel.dates import format_date
from sqlmodel import Session

from store.message_counts import ANSWERS, NO_ANSWER
from store.message_kinds import Category, MessageKind
from store.models import AppointmentStatus, OutboxStatus
from store.report_days import (
    channel_figures,
    count_messages,
    professional_messages,
    recoveries,
    visits_by_day,
    visits_by_reminder,
)
from store.visit_counts import ReminderFilter, Span, professional_names, span_of
from usecases.report_basics import (
    BarChart,
    IntervalChart,
    Report,
    ReportQuery,
    channel_label,
    group_shares,
    span_for,
    t,
)
from usecases.report_findings import findings
from usecases.report_stats import ENOUGH, Share, estimate
from usecases.report_table import Column, Format, Table, Value, as_number
from usecases.report_waiting_room import waiting_room

WEEKLY_AFTER = 62  # a longer period is charted by week rather than by day
DELIVERED = (OutboxStatus.delivered.value, OutboxStatus.read.value)
FAILED = (OutboxStatus.failed.value, OutboxStatus.undelivered.value)


def _share_cells(share: Share) -> list[Value]:
    interval = share.interval
    return [share.value, *(interval if interval else (None, None))]


# --- consumption -------------------------------------------------------------------


def consumption(session: Session, query: ReportQuery) -> Report:
    span = span_for(session, query)
    lang = query.lang
    by_category: dict[str, list[int]] = {}
    for count in count_messages(session, span):
        category = _category(count.kind)
        row = by_category.setdefault(category, [0] * 7)
        row[0] += count.messages
        row[1] += count.messages if count.reached_twilio else 0
        row[2] += count.messages if count.status in DELIVERED else 0
        row[3] += count.messages if count.status == OutboxStatus.read else 0
        row[4] += count.messages if count.status in FAILED else 0
        row[5] += count.messages if count.billed_failure else 0
        row[6] += 0 if count.reached_twilio or count.status in FAILED else count.messages
    categories = [c.value for c in Category if c.value in by_category]
    summary = Table(
        key="summary",
        title=t("summary", lang),
        columns=[
            Column("kind", t("kind", lang), Format.text),
            *(
                Column(key, t(key, lang))
                for key in (
                    "messages",
                    "sent",
                    "delivered",
                    "read",
                    "failed",
                    "failed_billed",
                    "not_sent",
                )
            ),
        ],
        rows=[[t(f"category_{c}", lang), *by_category[c]] for c in categories],
        totals=[t("total", lang), *_column_sums([by_category[c] for c in categories], 7)],
        notes=[t("consumption_note", lang), t("billed_failed_note", lang)],
    )
    names = professional_names(session, query.clinic_id)
    rows: list[list[Value]] = []
    sums = [0] * 7
    for figures in professional_messages(session, span):
        counts = [
            figures.booking_confirmations,
            figures.reminders,
            figures.reminded,
            *(figures.outcomes.get(o, 0) for o in (*ANSWERS, NO_ANSWER)),
        ]
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        rows.append([names.get(figures.professional_id, "?"), *counts, *_answer_shares(counts)])
    columns = [
        Column("professional", t("professional", lang), Format.text),
        Column("booking_confirmations", t("booking_confirmations", lang)),
        Column("reminders_sent", t("reminders_sent", lang)),
        Column("reminded", t("reminded", lang)),
        *(Column(o, t(f"outcome_{o}", lang)) for o in (*ANSWERS, NO_ANSWER)),
        Column("answered_share", t("answered_share", lang), Format.percent),
        Column("confirmed_share", t("confirmed_share", lang), Format.percent),
    ]
    per_professional = Table(
        key="per_professional",
        title=t("per_professional", lang),
        columns=columns,
        rows=rows,
        totals=[t("total", lang), *sums, *_answer_shares(sums)],
    )
    return Report("consumption", t("title_consumption", lang), [summary, per_professional])


def _category(kind: str) -> str:
    try:
        return MessageKind(kind).category.value
    except ValueError:
        return Category.bot_reply.value


def _answer_shares(counts: Sequence[int]) -> list[Value]:
    """% answered and % confirmed of the reminded appointments (counts as in the row)."""
    reminded, confirmed, no_answer = counts[2], counts[3], counts[6]
    if not reminded:
        return [None, None]
    return [(reminded - no_answer) / reminded, confirmed / reminded]


def _column_sums(rows: Sequence[Sequence[int]], width: int) -> list[Value]:
    return [sum(row[i] for row in rows) for i in range(width)]


# --- absences ------------------------------------------------------------------------


def absences(session: Session, query: ReportQuery) -> Report:
    span = span_for(session, query)
    lang = query.lang
    groups = visits_by_reminder(
        session, span, ReminderFilter(step=query.reminder_step), query.professional_id
    )
    shares = group_shares(groups)
    rows: list[list[Value]] = []
    for key, share in shares.items():
        rows.append(
            [
                t(f"group_{key}", lang),
                share.whole,
                share.part,
                *_share_cells(share),
                "" if share.enough else t("too_few", lang),
            ]
        )
    table = Table(
        key="groups",
        title=t("title_absences", lang),
        columns=[
            Column("group", t("group", lang), Format.text),
            Column("appointments", t("appointments", lang)),
            Column("absences", t("absences", lang)),
            Column("absence_rate", t("absence_rate", lang), Format.percent),
            Column("ci_low", t("ci_low", lang), Format.percent),
            Column("ci_high", t("ci_high", lang), Format.percent),
            Column("conclusion", t("conclusion", lang), Format.text),
        ],
        rows=rows,
        notes=[t("absences_note", lang, count=ENOUGH)],
    )
    over_time = _over_time(session, span, query)
    series_chart = BarChart(
        title=t("chart_absences", lang),
        categories=[_short_day(str(row[0]), lang) for row in over_time.rows],
        series=[
            (t("appointments", lang), [as_number(row[1]) for row in over_time.rows]),
            (t("absences", lang), [as_number(row[2]) for row in over_time.rows]),
        ],
    )
    rates_chart = IntervalChart(
        title=t("chart_rates", lang),
        rows=[
            (t(f"group_{key}", lang), share.value, *(share.interval or (None, None)))
            for key, share in shares.items()
        ],
    )
    return Report(
        "absences",
        t("title_absences", lang),
        [table, over_time],
        charts=[series_chart, rates_chart],
    )


def _over_time(session: Session, span: Span, query: ReportQuery) -> Table:
    """Appointments and absences per day, or per week (from its Monday) when long."""
    lang = query.lang
    weekly = (query.last_day - query.first_day).days + 1 > WEEKLY_AFTER
    buckets: dict[date, list[int]] = {}
    for day in visits_by_day(session, span, query.professional_id):
        key = day.day - timedelta(days=day.day.weekday()) if weekly else day.day
        bucket = buckets.setdefault(key, [0, 0])
        bucket[0] += day.visits
        bucket[1] += day.absences
    return Table(
        key="by_week" if weekly else "by_day",
        title=t("by_week" if weekly else "by_day", lang),
        columns=[
            Column("day", t("week" if weekly else "day", lang), Format.text),
            Column("appointments", t("appointments", lang)),
            Column("absences", t("absences", lang)),
            Column("absence_rate", t("absence_rate", lang), Format.percent),
        ],
        rows=[
            [key.isoformat(), n, a, a / n if n else None] for key, (n, a) in sorted(buckets.items())
        ],
    )


def _short_day(iso_day: str, lang: str) -> str:
    """A day as a chart's label: "2 nov." (CLDR's abbreviated month)."""
    return format_date(date.fromisoformat(iso_day), "d MMM", locale=lang)


# --- profitability -------------------------------------------------------------------


def profitability(session: Session, query: ReportQuery) -> Report:
    """The estimator over the `months` before the last day: what recovering absences is
    worth against what the messages cost, per professional."""
    months = max(1, min(query.months, 24))
    first = _months_before(query.last_day, months)
    span = span_of(session, query.clinic_id, first, query.last_day)
    lang = query.lang
    names = professional_names(session, query.clinic_id)
    visits: dict[int, list[int]] = {}
    for group in visits_by_reminder(session, span, ReminderFilter()):
        row = visits.setdefault(group.professional_id, [0, 0])
        row[0] += group.visits
        row[1] += group.visits if group.status == AppointmentStatus.no_show else 0
    messages = {m.professional_id: m.messages for m in professional_messages(session, span)}
    rows: list[list[Value]] = []
    totals = [0.0] * 6
    for professional_id in sorted(visits.keys() | messages.keys(), key=lambda p: names.get(p, "")):
        seen, missed = visits.get(professional_id, [0, 0])
        worth = estimate(
            appointments=seen,
            absences=missed,
            messages=messages.get(professional_id, 0),
            months=months,
            ticket=query.ticket,
            recover_share=query.recover_share,
            message_price=query.message_price,
        )
        cells = [
            worth.absences,
            worth.to_recover,
            worth.per_month,
            worth.messages,
            worth.cost,
            worth.gain,
        ]
        totals = [a + b for a, b in zip(totals, cells, strict=True)]
        rows.append([names.get(professional_id, "?"), *cells])
    table = Table(
        key="profitability",
        title=t("title_profitability", lang),
        columns=[
            Column("professional", t("professional", lang), Format.text),
            Column("absences", t("absences", lang)),
            Column("to_recover", t("to_recover", lang), Format.decimal),
            Column("per_month", t("per_month", lang), Format.decimal),
            Column("messages", t("messages", lang)),
            Column("cost", t("cost", lang), Format.money),
            Column("gain", t("gain", lang), Format.money),
        ],
        rows=rows,
        totals=[t("total", lang), int(totals[0]), *totals[1:3], int(totals[3]), *totals[4:]],
        notes=[t("profitability_note", lang)],
    )
    return Report("profitability", t("title_profitability", lang), [table])


def _months_before(day: date, months: int) -> date:
    """The day after the same day `months` months earlier (the last of a shorter month
    standing in), so `months` whole months end on `day`."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last)) + timedelta(days=1)
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


# --- channels ------------------------------------------------------------------------


def channels(session: Session, query: ReportQuery) -> Report:
    span = span_for(session, query)
    lang = query.lang
    rows: list[list[Value]] = []
    for figures in channel_figures(session, span):
        outcomes = figures.attended + figures.absences
        rows.append(
            [
                channel_label(figures.channel, lang),
                figures.bookings,
                figures.absences / outcomes if outcomes else None,
                figures.cancelled / figures.bookings if figures.bookings else None,
                figures.score_total / figures.scores if figures.scores else None,
                figures.wait_seconds / 60 / figures.waits if figures.waits else None,
            ]
        )
    table = Table(
        key="channels",
        title=t("title_channels", lang),
        columns=[
            Column("channel", t("channel", lang), Format.text),
            Column("bookings", t("bookings", lang)),
            Column("absence_rate", t("absence_rate", lang), Format.percent),
            Column("cancel_rate", t("cancel_rate", lang), Format.percent),
            Column("satisfaction", t("satisfaction", lang), Format.decimal),
            Column("wait_minutes", t("wait_minutes", lang), Format.minutes),
        ],
        rows=rows,
        notes=[t("channels_note", lang)],
    )
    chart = BarChart(
        title=t("title_channels", lang),
        categories=[str(row[0]) for row in rows],
        series=[(t("bookings", lang), [as_number(row[1]) for row in rows])],
    )
    return Report("channels", t("title_channels", lang), [table], charts=[chart])


# --- recovery ------------------------------------------------------------------------


def recovery(session: Session, query: ReportQuery) -> Report:
    span = span_for(session, query)
    lang = query.lang
    found = recoveries(session, span)
    ticket = query.ticket
    rows: list[list[Value]] = [
        [t("offers", lang), found.offers, None],
        [t("offers_taken", lang), found.offers_taken, None],
        [t("waitlist_visits", lang), found.waitlist_visits, found.waitlist_visits * ticket],
        [t("no_shows", lang), found.no_shows, None],
        [t("no_shows_rebooked", lang), found.no_shows_rebooked, None],
        [t("rebooked_visits", lang), found.rebooked_visits, found.rebooked_visits * ticket],
    ]
    table = Table(
        key="recovery",
        title=t("title_recovery", lang),
        columns=[
            Column("what", t("what", lang), Format.text),
            Column("count", t("count", lang)),
            Column("value", t("recovered_value", lang), Format.money),
        ],
        rows=rows,
        totals=[
            t("total", lang),
            found.waitlist_visits + found.rebooked_visits,
            (found.waitlist_visits + found.rebooked_visits) * ticket,
        ],
        notes=[t("recovery_note", lang)],
    )
    return Report("recovery", t("title_recovery", lang), [table])


REPORTS: Mapping[str, Callable[[Session, ReportQuery], Report]] = {
    "consumption": consumption,
    "absences": absences,
    "profitability": profitability,
    "channels": channels,
    "waiting_room": waiting_room,
    "recovery": recovery,
    "findings": findings,
}
