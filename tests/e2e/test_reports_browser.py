"""The reports in a real browser (Debian's chromium driven by Playwright): an admin opens
each report over the known month, changes the range, sees the estimator follow its
inputs without a reload, and downloads the Excel workbook, which opens with openpyxl.
Screenshots go to docs/screenshots/ when TURNERO_SCREENSHOTS names it."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.console_support import PASSWORD, add_staff, console_app
from tests.e2e.conftest import served
from tests.report_support import write_history
from tests.support import Clock, TestClinic

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def live_console(db: Engine, tmp_path: Path, clinic: TestClinic) -> Iterator[str]:
    with served(console_app(db, tmp_path, Clock(NOW))) as url:
        yield url


PICTURED = {
    "Ausentismo": "report-absences.png",
    "Canales": "report-channels.png",
    "Hallazgos": "report-findings.png",
    "Tiempos de espera": "report-waiting-room.png",
}


def test_an_admin_reads_every_report_changes_the_range_and_downloads_excel(
    chromium: Any,
    live_console: str,
    db: Engine,
    clinic: TestClinic,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    write_history(db, clinic)
    add_staff(db, clinic.id, "admin@clinica.example", role="admin")
    page = chromium.new_page(viewport={"width": 1100, "height": 1400}, locale="es-PY")
    page.goto(f"{live_console}/console/agenda")
    page.get_by_label("Usuario").fill("admin@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    page.get_by_role("link", name="Reportes").click()
    page.get_by_label("Desde").fill("2026-11-01")
    page.get_by_label("Hasta").fill("2026-11-30")
    page.get_by_role("button", name="Actualizar").click()
    summary = page.locator("table").first
    assert "Recordatorios" in summary.inner_text()
    page.screenshot(path=str(screenshots / "report-consumption.png"), full_page=True)

    for tab, shows in [
        ("Ausentismo", "Con recordatorio confirmado"),
        ("Canales", "Bot de WhatsApp"),
        ("Tiempos de espera", "Sin turno (llegó sin turno)"),
        ("Recupero", "Ofertas aceptadas"),
        ("Hallazgos", "no concluyente"),
    ]:
        page.get_by_role("link", name=tab, exact=True).click()
        assert shows in page.locator("main").inner_text(), tab
        assert page.get_by_label("Desde").input_value() == "2026-11-01", tab  # the range stays
        if tab == "Ausentismo":
            assert page.locator("svg[role=img]").count() == 2  # drawn without JavaScript
        if tab in PICTURED:
            page.screenshot(path=str(screenshots / PICTURED[tab]), full_page=True)

    page.get_by_label("Desde").fill("2026-11-03")
    page.get_by_label("Hasta").fill("2026-11-03")
    page.get_by_role("button", name="Actualizar").click()
    assert "2026-11-03" in page.url
    page.get_by_role("link", name="Ausentismo", exact=True).click()
    first_row = page.locator("table").first.locator("tbody tr").first
    assert first_row.locator("td").first.inner_text() == "1"  # A2, the only one that day

    page.get_by_role("link", name="Rentabilidad de los recordatorios").click()
    page.get_by_label("Hasta").fill("2026-11-30")
    page.get_by_label("Meses hacia atrás").fill("1")
    page.get_by_role("button", name="Actualizar").click()
    gain = page.locator("tfoot td[data-key=gain]")
    before = gain.inner_text()
    page.get_by_label("Valor promedio de la consulta").fill("100")
    page.get_by_label("% de ausencias que se espera recuperar").fill("50")
    assert gain.inner_text() != before  # recomputed in the page, no reload
    assert gain.inner_text().startswith("150")  # 3 absences × 50% × 100, no messages' price
    page.screenshot(path=str(screenshots / "report-profitability.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar Excel").click()
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved)
    sheet = book[book.sheetnames[0]]
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert "Dra. Ana Benítez" in names and "Dr. Luis Ortiz" in names
