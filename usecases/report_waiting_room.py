"""The waiting room's report: per queue, per professional and per booking channel, how
many checked in, how long those called waited and those served took, and how many never
answered; with a chart of the waits and service times per queue."""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import TypeVar

from sqlmodel import Session

from store.queue_counts import QueueFigures, queue_names
from store.report_days import waiting_room_figures
from store.visit_counts import professional_names
from usecases.report_basics import BarChart, Report, ReportQuery, channel_label, span_for, t
from usecases.report_table import Column, Format, Table, Value, as_number

WALK_IN = "walk_in"  # the booking "channel" of a visit without an appointment
Key = TypeVar("Key", str, int)


def waiting_room(session: Session, query: ReportQuery) -> Report:
    lang = query.lang
    found = waiting_room_figures(session, span_for(session, query))
    queues = queue_names(session, query.clinic_id)
    staff = professional_names(session, query.clinic_id)
    by_queue = _table(
        "by_queue",
        t("by_queue", lang),
        t("queue", lang),
        _labelled(found.by_queue, lambda key: queues.get(key, key)),
        lang,
        notes=[t("waiting_room_note", lang)],
    )
    by_professional = _table(
        "by_professional",
        t("per_professional", lang),
        t("professional", lang),
        _labelled(
            found.by_professional,
            lambda key: staff.get(key, "?") if key else t("nobody", lang),
        ),
        lang,
    )
    by_channel = _table(
        "by_channel",
        t("by_channel", lang),
        t("channel", lang),
        _labelled(found.by_channel, lambda key: channel_label(key or WALK_IN, lang)),
        lang,
    )
    chart = BarChart(
        title=t("chart_waits", lang),
        categories=[str(row[0]) for row in by_queue.rows],
        series=[
            (t("wait_minutes", lang), [as_number(row[3]) for row in by_queue.rows]),
            (t("service_minutes", lang), [as_number(row[5]) for row in by_queue.rows]),
        ],
        format=Format.minutes,
    )
    title = t("title_waiting_room", lang)
    return Report("waiting_room", title, [by_queue, by_professional, by_channel], charts=[chart])


def _labelled(
    groups: Mapping[Key, QueueFigures], label: Callable[[Key], str]
) -> dict[str, Counter[str]]:
    """The groups added up by the label each is shown with (two may share one)."""
    found: dict[str, Counter[str]] = {}
    for key, figures in groups.items():
        found.setdefault(label(key), Counter()).update(asdict(figures))
    return found


def _cells(sums: Counter[str]) -> list[Value]:
    """Checked in, called, average wait, served, average service, absent."""
    return [
        int(sums["checked_in"]),
        int(sums["called"]),
        sums["wait_seconds"] / 60 / sums["called"] if sums["called"] else None,
        int(sums["served"]),
        sums["service_seconds"] / 60 / sums["served"] if sums["served"] else None,
        int(sums["absent"]),
    ]


def _table(
    key: str,
    title: str,
    first: str,
    groups: dict[str, Counter[str]],
    lang: str,
    notes: Sequence[str] = (),
) -> Table:
    """One grouping as a table, the busiest first, with the whole room as its totals."""
    ordered = sorted(groups.items(), key=lambda item: (-item[1]["checked_in"], item[0]))
    everything: Counter[str] = Counter()
    for _, sums in ordered:
        everything.update(sums)
    return Table(
        key=key,
        title=title,
        columns=[
            Column("name", first, Format.text),
            Column("checked_in", t("checked_in", lang)),
            Column("called", t("called", lang)),
            Column("wait_minutes", t("wait_minutes", lang), Format.minutes),
            Column("served", t("served", lang)),
            Column("service_minutes", t("service_minutes", lang), Format.minutes),
            Column("absent", t("absent", lang)),
        ],
        rows=[[name, *_cells(sums)] for name, sums in ordered],
        totals=[t("total", lang), *_cells(everything)] if ordered else None,
        notes=notes,
    )
