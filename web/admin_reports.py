"""The admin API's reports, beside its other routes under `/admin/api/clinics/<clinic_id>/`
(same token, same JSON errors): `GET reports` lists them, `GET reports/<name>` gives one
with the console's query (`from`, `to`, `professional`, `step`, `ticket`, `months`,
`recover`, `price`, `lang`): its tables (columns, rows, totals, notes), its charts' data
and its findings."""

from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request
from sqlmodel import Session

from bot.locale import LANGUAGES
from store.models import Clinic
from usecases.report_basics import BarChart, Report
from usecases.reports import REPORTS
from web.admin_api import _engine, _now, admin_api, error
from web.report_input import query_args, read_query


@admin_api.get("/reports")
def report_names(clinic_id: int) -> Response:
    return jsonify({"reports": list(REPORTS)})


@admin_api.get("/reports/<name>")
def report_figures(clinic_id: int, name: str) -> Response:
    if name not in REPORTS:
        return error(404, "not_found", f"no report {name!r}; GET reports lists them")
    lang = request.args.get("lang", "en")
    if lang not in LANGUAGES:
        return error(400, "bad_language", f"lang is one of {', '.join(LANGUAGES)}", "lang")
    with Session(_engine()) as session:
        clinic = session.get(Clinic, clinic_id)
        if clinic is None:
            return error(404, "not_found", f"no clinic {clinic_id}")
        today = _now().astimezone(ZoneInfo(clinic.timezone)).date()
        asked = read_query(request.args, clinic_id, today, lang)
        if asked.problem:
            return error(400, asked.problem, "see the report's query fields in the docs")
        found = REPORTS[name](session, asked.query)
    return jsonify({"query": query_args(asked.query), **_as_json(found)})


def _as_json(found: Report) -> dict[str, Any]:
    return {
        "report": found.key,
        "title": found.title,
        "tables": [
            {
                "key": table.key,
                "title": table.title,
                "columns": [
                    {"key": c.key, "label": c.label, "format": c.format.value}
                    for c in table.columns
                ],
                "rows": [list(row) for row in table.rows],
                "totals": list(table.totals) if table.totals is not None else None,
                "notes": list(table.notes),
            }
            for table in found.tables
        ],
        "charts": [
            {"kind": "bars" if isinstance(chart, BarChart) else "intervals", **asdict(chart)}
            for chart in found.charts
        ],
        "findings": [asdict(finding) for finding in found.findings],
    }
