"""The findings' narrative: a few plain sentences an OpenAI-compatible API writes from the
reports' aggregated figures, where the clinic configures one. Never raises: without an
answer the page shows the deterministic findings alone, and says why.

The instructions to the model stay here, in English: principle 7 keeps in `templates/` and
`locales/` the text people read, in es, en and gn, for admins to edit; these are read by
a model only, are not translated (they name the language to write in) and describe the
facts this module builds, so they change with it."""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import requests

from usecases.report_basics import Report

MAX_BODY = 64 * 1024  # bytes of an answer read at most
LANGUAGES = {"es": "Spanish", "en": "English", "gn": "Guarani (Paraguay)"}
INSTRUCTIONS = (
    "You help the owner of a clinic read its booking reports. The user message is JSON: "
    "the reports' titles, their tables (column labels, rows, totals) and the findings "
    "already computed. Write 4 to 6 short sentences in plain language, in {language}, "
    "for the clinic's owner. Use only the figures given; never invent or estimate a "
    "number. Where the figures are too few to conclude, say so. No headings, no lists."
)

Reason = Literal["off", "unreachable", "refused", "unreadable"]


@dataclass(frozen=True)
class NarrativeEndpoint:
    """Where the narrative is asked for; the web layer builds it from the settings."""

    url: str
    model: str
    api_key: str | None
    timeout: float


@dataclass(frozen=True)
class Narrative:
    """The text written, or the reason there is none."""

    text: str | None = None
    reason: Reason | None = None


def facts_for_narrative(reports: Sequence[Report]) -> dict[str, object]:
    """Only aggregated figures: each report's title, its tables and its findings' sentences.
    Tables hold counts, rates and labels (staff's names, channels, days) — never a patient's
    name, phone or message — and nothing else of a report is sent."""
    return {
        "reports": [
            {
                "title": report.title,
                "tables": [
                    {
                        "title": table.title,
                        "columns": [column.label for column in table.columns],
                        "rows": [list(row) for row in table.rows],
                        "totals": list(table.totals) if table.totals is not None else None,
                    }
                    for table in report.tables
                ],
                "findings": [finding.says for finding in report.findings],
            }
            for report in reports
        ]
    }


def write_narrative(
    reports: Sequence[Report],
    lang: str,
    endpoint: NarrativeEndpoint | None,
    post: Callable[..., Any] = requests.post,
) -> Narrative:
    """Asks the endpoint for the narrative of these reports in the reader's language."""
    if endpoint is None or not endpoint.url:
        return Narrative(reason="off")
    language = LANGUAGES.get(lang, LANGUAGES["es"])
    body = {
        "model": endpoint.model,
        "messages": [
            {"role": "system", "content": INSTRUCTIONS.format(language=language)},
            {
                "role": "user",
                "content": json.dumps(facts_for_narrative(reports), ensure_ascii=False),
            },
        ],
        "temperature": 0.2,
    }
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    deadline = time.monotonic() + endpoint.timeout
    try:
        answer = post(
            endpoint.url.rstrip("/") + "/chat/completions",
            json=body,
            headers=headers,
            timeout=endpoint.timeout,
            stream=True,
        )
        try:
            if not 200 <= answer.status_code < 300:
                return Narrative(reason="refused")
            raw = b""
            for chunk in answer.iter_content(8192):
                raw += chunk
                if len(raw) > MAX_BODY:
                    return Narrative(reason="unreadable")
                if time.monotonic() > deadline:
                    return Narrative(reason="unreachable")
        finally:
            answer.close()
    except (requests.RequestException, OSError, ValueError):
        return Narrative(reason="unreachable")
    return _read(raw)


def _read(raw: bytes) -> Narrative:
    """The text of `choices[0].message.content`, or "unreadable"."""
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return Narrative(reason="unreadable")
    if not isinstance(content, str) or not content.strip():
        return Narrative(reason="unreadable")
    return Narrative(text=content.strip())
