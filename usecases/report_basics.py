"""What every report shares: the question it answers (`ReportQuery`), what it gives
back (`Report`: tables, charts, findings), its labels and the grouping of appointments
by their reminder that several reports read."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from bot.locale import text
from store.models import AppointmentStatus
from store.visit_counts import Reminded, Span, VisitGroup, span_of
from usecases.report_stats import Share
from usecases.report_table import Format, Table

GROUPS = (Reminded.confirmed, Reminded.unanswered, Reminded.none)


@dataclass(frozen=True)
class ReportQuery:
    """What a report is asked for: a clinic's local days, both included, and the
    optional filters and estimator inputs (a share as a fraction)."""

    clinic_id: int
    first_day: date
    last_day: date
    lang: str = "es"
    professional_id: int | None = None
    reminder_step: str | None = None
    ticket: float = 0.0
    months: int = 3
    recover_share: float = 0.5
    message_price: float = 0.0


@dataclass(frozen=True)
class BarChart:
    title: str
    categories: Sequence[str]
    series: Sequence[tuple[str, Sequence[float | None]]]
    format: Format = Format.integer


@dataclass(frozen=True)
class IntervalChart:
    title: str
    rows: Sequence[tuple[str, float | None, float | None, float | None]]  # label, value, low, high
    format: Format = Format.percent


@dataclass(frozen=True)
class Finding:
    says: str
    sure: bool


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    tables: Sequence[Table]
    charts: Sequence[BarChart | IntervalChart] = field(default_factory=tuple)
    findings: Sequence[Finding] = field(default_factory=tuple)


def t(key: str, lang: str, **tags: object) -> str:
    return text(f"reports.{key}", lang, **tags)


def group_shares(groups: Sequence[VisitGroup]) -> dict[str, Share]:
    """Absences of appointments with an outcome: all, then by reminder group."""
    visits = dict.fromkeys(("all", *GROUPS), 0)
    missed = dict.fromkeys(("all", *GROUPS), 0)
    for group in groups:
        absent = group.visits if group.status == AppointmentStatus.no_show else 0
        for key in ("all", group.reminded):
            visits[key] += group.visits
            missed[key] += absent
    return {key: Share(missed[key], visits[key]) for key in visits}


def channel_label(channel: str, lang: str) -> str:
    label = t(f"channel_{channel}", lang)
    return channel if label == f"reports.channel_{channel}" else label


def span_for(session: Session, query: ReportQuery) -> Span:
    return span_of(session, query.clinic_id, query.first_day, query.last_day)
