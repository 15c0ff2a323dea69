"""The reports, for admins: one page per report with its range and filters, "update",
its tables, charts and findings, and the same figures as an Excel workbook (a sheet per
table) or one table as CSV. The figures are `usecases.reports`'; this module reads the
request, draws and writes."""

from datetime import date
from zoneinfo import ZoneInfo

from flask import abort, redirect, request, url_for
from markupsafe import Markup
from sqlmodel import Session
from werkzeug.wrappers import Response

from store.catalog_admin import professionals
from usecases.report_basics import BarChart, IntervalChart, Report, t
from usecases.report_narrative import NarrativeEndpoint, write_narrative
from usecases.report_values import shown
from usecases.reports import REPORTS
from web.console.agenda import own_clinic
from web.console.charts import Interval, Series, bar_chart, interval_chart
from web.console.common import admin_required, console, ctx, engine, language, now, page
from web.report_files import to_csv, to_xlsx
from web.report_input import LONGEST, STEPS, query_args, read_query

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the inputs each report reads, besides its range
INPUTS = {
    "absences": ("professional", "step"),
    "profitability": ("ticket", "months", "recover", "price"),
    "recovery": ("ticket",),
}


@console.get("/reports")
@admin_required
def reports() -> Response:
    return redirect(url_for("console.report", name=next(iter(REPORTS))))


@console.get("/reports/<name>")
@admin_required
def report(name: str) -> Response:
    if name not in REPORTS:
        abort(404)
    lang = language()
    with Session(engine()) as session:
        clinic = own_clinic(session)
        today = now().astimezone(ZoneInfo(clinic.timezone)).date()
        asked = read_query(request.args, clinic.id or 0, today, lang)
        found = REPORTS[name](session, asked.query)
        inputs = INPUTS.get(name, ())
        listed = professionals(session, clinic.id or 0) if "professional" in inputs else []
        endpoint = _narrative_endpoint()
        narrate = name == "findings" and endpoint is not None and request.args.get("narrative")
        others = [b(session, asked.query) for key, b in REPORTS.items() if key != name and narrate]
    # asked with no connection held: the API may take its whole timeout
    narrative = write_narrative([*others, found], lang, endpoint) if narrate else None
    wanted = request.args.get("format")
    if wanted == "xlsx":
        return _download(
            to_xlsx(found.title, found.tables, lang),
            XLSX,
            _file(found, asked.query.first_day, asked.query.last_day, "xlsx"),
        )
    if wanted == "csv":
        table = next(
            (t for t in found.tables if t.key == request.args.get("table")), found.tables[0]
        )
        return _download(
            to_csv(table),
            "text/csv; charset=utf-8",
            _file(found, asked.query.first_day, asked.query.last_day, f"{table.key}.csv"),
        )
    return page(
        "report.html",
        status=400 if asked.problem else 200,
        report=found,
        names=list(REPORTS),
        r=lambda key, **tags: t(key, lang, **tags),
        problem=asked.problem,
        longest=LONGEST,
        query=asked.query,
        args=query_args(asked.query),
        inputs=inputs,
        staff=[(p.id, p.name) for p in listed],
        steps=STEPS,
        charts=[_draw(chart, lang) for chart in found.charts],
        shown=lambda value, column: shown(value, column.format, lang),
        narrative=narrative,
        can_narrate=name == "findings" and endpoint is not None,
    )


def _narrative_endpoint() -> NarrativeEndpoint | None:
    """The OpenAI-compatible API the deployment names for the findings' summary, if any."""
    settings = ctx("settings")
    if not settings.report_narrative_url:
        return None
    return NarrativeEndpoint(
        url=settings.report_narrative_url,
        model=settings.report_narrative_model,
        api_key=settings.report_narrative_api_key,
        timeout=settings.report_narrative_timeout_seconds,
    )


def _draw(chart: BarChart | IntervalChart, lang: str) -> Markup:
    if isinstance(chart, BarChart):
        series = [Series(label, values) for label, values in chart.series]
        return bar_chart(chart.title, chart.categories, series, chart.format, lang)
    rows = [Interval(label, value, low, high) for label, value, low, high in chart.rows]
    return interval_chart(chart.title, rows, chart.format, lang)


def _file(found: Report, first: date, last: date, ending: str) -> str:
    return f"turnero-{found.key}-{first.isoformat()}-{last.isoformat()}.{ending}"


def _download(body: bytes, mimetype: str, name: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
