"""The analysis assistant's findings: plain sentences computed from the reports' own
counts, each with the figures behind it and whether it is sure (its 95% interval clear
of what it is compared with). Deterministic, and nothing about any one patient."""

from collections.abc import Sequence

from sqlmodel import Session

from bot.calendar_names import weekday_names
from store.message_counts import NO_ANSWER
from store.report_days import (
    channel_figures,
    professional_messages,
    visits_by_hour_of_week,
    visits_by_reminder,
)
from store.visit_counts import ReminderFilter, professional_names
from usecases.report_basics import (
    Finding,
    Report,
    ReportQuery,
    channel_label,
    group_shares,
    span_for,
    t,
)
from usecases.report_stats import Share
from usecases.report_table import Column, Format, Table
from usecases.report_values import shown

STANDS_OUT = 1.5  # a rate this many times the clinic's, surely, is worth saying
MOST = 3  # findings of one sort, the strongest first


def findings(session: Session, query: ReportQuery) -> Report:
    lang = query.lang
    groups = group_shares(visits_by_reminder(session, span_for(session, query), ReminderFilter()))
    found = list(_about_reminders(groups, query))
    found += _about_hours(session, query)
    found += _about_professionals(session, query)
    found += _about_channels(session, query)
    if not any(finding.sure for finding in found):
        found.append(Finding(t("finding_nothing", lang, count=groups["all"].whole), False))
    table = Table(
        key="findings",
        title=t("title_findings", lang),
        columns=[
            Column("finding", t("finding", lang), Format.text),
            Column("sureness", t("sureness", lang), Format.text),
        ],
        rows=[[f.says, t("sure" if f.sure else "not_sure", lang)] for f in found],
        notes=[t("findings_note", lang)],
    )
    return Report("findings", t("title_findings", lang), [table], findings=found)


def percent(value: float | None, lang: str) -> str:
    return shown(value, Format.percent, lang)


def times(ratio: float, lang: str) -> str:
    return shown(ratio, Format.decimal, lang)


def _about_reminders(shares: dict[str, Share], query: ReportQuery) -> Sequence[Finding]:
    """Whether patients who confirm their reminder miss less than those who do not answer."""
    confirmed, unanswered = shares["confirmed"], shares["unanswered"]
    if not (confirmed.whole and unanswered.whole):
        return []
    tags = {
        "a": confirmed.part,
        "n": confirmed.whole,
        "rate": percent(confirmed.value, query.lang),
        "b": unanswered.part,
        "m": unanswered.whole,
        "rate_other": percent(unanswered.value, query.lang),
    }
    if unanswered.above(confirmed) and confirmed.part:
        ratio = (unanswered.value or 0) / (confirmed.value or 1)
        return [
            Finding(
                t("finding_confirm_effect", query.lang, ratio=times(ratio, query.lang), **tags),
                True,
            )
        ]
    return [Finding(t("finding_confirm_unclear", query.lang, **tags), False)]


def _about_hours(session: Session, query: ReportQuery) -> Sequence[Finding]:
    """Hours of the week whose absences are surely well above the clinic's."""
    hours = visits_by_hour_of_week(session, span_for(session, query))
    clinic = Share(sum(h.absences for h in hours), sum(h.visits for h in hours))
    if not clinic.value:
        return []
    standing_out = [
        ((share.value or 0) / clinic.value, hour.hour_of_week, share)
        for hour in hours
        if (share := Share(hour.absences, hour.visits)).above(clinic)
        and (share.value or 0) >= STANDS_OUT * clinic.value
    ]
    names = weekday_names(query.lang)
    said = []
    for ratio, hour_of_week, share in sorted(standing_out, reverse=True)[:MOST]:
        weekday, hour = divmod(hour_of_week, 24)
        low, high = share.interval or (0.0, 0.0)
        said.append(
            Finding(
                t(
                    "finding_hour",
                    query.lang,
                    weekday=names[weekday],
                    start=f"{hour}:00",
                    end=f"{hour + 1}:00",
                    ratio=times(ratio, query.lang),
                    k=share.part,
                    n=share.whole,
                    rate=percent(share.value, query.lang),
                    low=percent(low, query.lang),
                    high=percent(high, query.lang),
                    clinic_rate=percent(clinic.value, query.lang),
                ),
                True,
            )
        )
    return said


def _about_professionals(session: Session, query: ReportQuery) -> Sequence[Finding]:
    """Professionals whose reminders are surely answered less often than the clinic's."""
    rows = professional_messages(session, span_for(session, query))

    def answered(reminded: int, no_answer: int) -> Share:
        return Share(reminded - no_answer, reminded)

    clinic = answered(
        sum(r.reminded for r in rows), sum(r.outcomes.get(NO_ANSWER, 0) for r in rows)
    )
    if not clinic.value:
        return []
    names = professional_names(session, query.clinic_id)
    below = [
        ((share.value or 0) / clinic.value, row.professional_id, share)
        for row in rows
        if clinic.above(share := answered(row.reminded, row.outcomes.get(NO_ANSWER, 0)))
    ]
    return [
        Finding(
            t(
                "finding_professional",
                query.lang,
                name=names.get(professional_id, "?"),
                ratio=times(ratio, query.lang),
                k=share.part,
                n=share.whole,
                rate=percent(share.value, query.lang),
                clinic_rate=percent(clinic.value, query.lang),
            ),
            True,
        )
        for ratio, professional_id, share in sorted(below)[:MOST]
    ]


def _about_channels(session: Session, query: ReportQuery) -> Sequence[Finding]:
    """Booking channels whose appointments are surely missed more than the clinic's."""
    rows = channel_figures(session, span_for(session, query))
    sources = [row for row in rows if row.channel != "self_service_reschedule"]
    clinic = Share(sum(r.absences for r in sources), sum(r.absences + r.attended for r in sources))
    if not clinic.value:
        return []
    above = [
        ((share.value or 0) / clinic.value, row.channel, share)
        for row in sources
        if (share := Share(row.absences, row.absences + row.attended)).above(clinic)
    ]
    return [
        Finding(
            t(
                "finding_channel",
                query.lang,
                channel=channel_label(channel, query.lang),
                ratio=times(ratio, query.lang),
                k=share.part,
                n=share.whole,
                rate=percent(share.value, query.lang),
                clinic_rate=percent(clinic.value, query.lang),
            ),
            True,
        )
        for ratio, channel, share in sorted(above, reverse=True)[:MOST]
    ]
