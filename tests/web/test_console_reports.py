"""The reports in the console and the admin API, over the known month of
`tests.report_support`: what the page shows, its range and filters, the Excel workbook
opened with openpyxl, the CSV, and every bad request answered with a 4xx."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import Engine

from config.settings import Settings
from tests.console_support import Desk, add_staff, console_app
from tests.narrative_support import WRITTEN, FakeApi, fake_api  # noqa: F401  (the fixture `api`)
from tests.report_support import write_history
from tests.support import Clock, TestClinic
from webhook import create_app

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOVEMBER = "from=2026-11-01&to=2026-11-30"
TOKEN = "admin-token-for-tests-0123456789"


@pytest.fixture
def history(db: Engine, clinic: TestClinic) -> dict[str, int]:
    return write_history(db, clinic)


def test_each_report_opens_for_an_admin_with_its_figures(
    admin: Desk, history: dict[str, int]
) -> None:
    for name, shows in [
        ("consumption", "Recordatorios"),
        ("absences", "Con recordatorio confirmado"),
        ("profitability", "Ganancia neta estimada"),
        ("channels", "Bot de WhatsApp"),
        ("waiting_room", "Sin turno (llegó sin turno)"),
        ("recovery", "Ofertas aceptadas"),
        ("findings", "no concluyente"),
    ]:
        page = admin.open(f"/console/reports/{name}?{NOVEMBER}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, name
        assert shows in html, name
        assert 'value="2026-11-30"' in html
    consumption = admin.open(f"/console/reports/consumption?{NOVEMBER}").get_data(as_text=True)
    assert 'data-key="messages" data-value="8"' in consumption  # the reminders' row
    absences = admin.open(f"/console/reports/absences?{NOVEMBER}").get_data(as_text=True)
    assert "<svg" in absences and 'role="img"' in absences  # the charts, drawn on the server


def test_the_range_and_filters_change_the_figures(
    admin: Desk, clinic: TestClinic, history: dict[str, int]
) -> None:
    luis = clinic.professionals["luis"]
    html = admin.open(f"/console/reports/absences?{NOVEMBER}&professional={luis}").get_data(
        as_text=True
    )
    assert 'data-key="appointments" data-value="4"' in html  # Dr. Ortiz's four
    one_day = admin.open("/console/reports/absences?from=2026-11-03&to=2026-11-03")
    assert 'data-key="appointments" data-value="1"' in one_day.get_data(as_text=True)  # A2


def test_the_front_desk_may_not_read_reports(desk: Desk) -> None:
    assert desk.open("/console/reports/consumption").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-12-01&to=2026-11-01",  # backwards
        "from=2020-01-01&to=2026-11-30",  # longer than two years
        "ticket=-5",
        "ticket=1e9",
        "months=99",
        "recover=150",
        "price=abc",
    ],
)
def test_a_bad_range_or_number_is_said_and_the_page_still_answers(admin: Desk, query: str) -> None:
    page = admin.open(f"/console/reports/profitability?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.get_data(as_text=True)


def test_nonsense_in_the_query_is_never_a_server_error(admin: Desk) -> None:
    for query in ["from=🙂", "to=2026-02-30", "professional=9999999999999", "step=x' OR 1=1"]:
        assert admin.open(f"/console/reports/absences?{query}").status_code in (200, 400)
    assert admin.open("/console/reports/nothing").status_code == 404


def test_the_excel_workbook_has_a_sheet_per_table_with_its_figures(
    admin: Desk, history: dict[str, int]
) -> None:
    response = admin.open(f"/console/reports/consumption?{NOVEMBER}&format=xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Resumen", "Por profesional"]
    summary = [[cell.value for cell in row] for row in book["Resumen"].iter_rows()]
    assert summary[0][:3] == ["Tipo de mensaje", "Mensajes", "Enviados"]
    assert ["Recordatorios", 8, 8, 6, 2, 1, 1, 0] in summary
    per_professional = book["Por profesional"]
    shares = next(r for r in per_professional.iter_rows() if r[0].value == "Dra. Ana Benítez")
    assert shares[8].value == 0.5 and shares[8].number_format == "0.0%"


def test_the_waiting_rooms_workbook_has_its_three_groupings(
    admin: Desk, history: dict[str, int]
) -> None:
    response = admin.open(f"/console/reports/waiting_room?{NOVEMBER}&format=xlsx")
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Por fila", "Por profesional", "Por canal de reserva"]
    by_queue = [[cell.value for cell in row] for row in book["Por fila"].iter_rows()]
    assert by_queue[0][:2] == ["Fila", "Llegadas"]
    laboratory = next(row for row in by_queue if row[0] == "Laboratorio")
    assert laboratory[1:3] == [4, 3] and laboratory[6] == 1


def test_one_table_as_csv(admin: Desk, history: dict[str, int]) -> None:
    response = admin.open(f"/console/reports/channels?{NOVEMBER}&format=csv&table=channels")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Canal"
    assert rows[1][:2] == ["Bot de WhatsApp", "4"]


def test_the_admin_api_gives_the_same_figures_as_json(
    db: Engine, clock: Clock, clinic: TestClinic, history: dict[str, int]
) -> None:
    settings = Settings(database_url=str(db.url), secret_key="r-secret", admin_api_token=TOKEN)
    app: Flask = create_app(settings, clock=clock, engine=db)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    base = f"/admin/api/clinics/{clinic.id}/reports"
    assert "channels" in client.get(base, headers=headers).get_json()["reports"]
    found = client.get(f"{base}/channels?{NOVEMBER}&lang=es", headers=headers).get_json()
    assert found["tables"][0]["rows"][0] == ["Bot de WhatsApp", 4, 0.5, 0.0, 5.0, 10.0]
    assert found["query"]["from"] == "2026-11-01"
    absences = client.get(f"{base}/absences?{NOVEMBER}", headers=headers).get_json()
    assert absences["title"] == "Absenteeism"  # English unless asked
    assert {chart["kind"] for chart in absences["charts"]} == {"bars", "intervals"}
    assert client.get(f"{base}/channels").status_code == 401
    assert client.get(f"{base}/nothing", headers=headers).status_code == 404
    assert client.get(f"{base}/channels?lang=fr", headers=headers).status_code == 400
    assert (
        client.get(f"{base}/channels?from=2026-12-01&to=2026-01-01", headers=headers).status_code
        == 400
    )
    assert client.get("/admin/api/clinics/999/reports/channels", headers=headers).status_code == 404


def test_the_findings_page_asks_for_a_summary_in_words_where_one_is_configured(
    db: Engine, tmp_path: Path, clock: Clock, clinic: TestClinic, api: FakeApi
) -> None:
    write_history(db, clinic)
    app = console_app(db, tmp_path, clock)
    app.extensions["turnero"]["settings"] = app.extensions["turnero"]["settings"].model_copy(
        update={"report_narrative_url": api.url, "report_narrative_timeout_seconds": 5.0}
    )
    add_staff(db, clinic.id, "jefa@clinica.example", role="admin")
    admin = Desk(app.test_client())
    admin.sign_in("jefa@clinica.example")
    page = admin.open(f"/console/reports/findings?{NOVEMBER}").get_data(as_text=True)
    assert "Escribir un resumen" in page and api.requests == []  # only when asked
    page = admin.open(f"/console/reports/findings?{NOVEMBER}&narrative=1").get_data(as_text=True)
    assert WRITTEN in page
    [sent] = api.requests
    assert "María" not in sent["raw"] and "595981000001" not in sent["raw"]
    api.mode = "error"
    page = admin.open(f"/console/reports/findings?{NOVEMBER}&narrative=1").get_data(as_text=True)
    assert "rechazó el pedido" in page and "no concluyente" in page  # the findings stay


def test_without_a_configured_summary_the_page_offers_none(
    admin: Desk, history: dict[str, int]
) -> None:
    page = admin.open(f"/console/reports/findings?{NOVEMBER}&narrative=1")
    assert page.status_code == 200 and "Escribir un resumen" not in page.get_data(as_text=True)
