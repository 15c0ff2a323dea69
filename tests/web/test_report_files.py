"""A report's tables as an Excel workbook and as CSV, read back with openpyxl and the csv
module: sheets, cells, number formats, bold totals, and text that never becomes a formula."""

import csv
import io

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from usecases.report_table import Column, Format, Table
from web.report_files import sheet_name, to_csv, to_xlsx

COLUMNS = (
    Column("professional", "Profesional", Format.text),
    Column("booked", "Turnos", Format.integer),
    Column("no_show_rate", "Ausencias", Format.percent),
    Column("paid", "Cobrado", Format.money),
    Column("score", "Puntaje", Format.decimal),
    Column("wait", "Espera (min)", Format.minutes),
)
BY_PROFESSIONAL = Table(
    key="by_professional",
    title="Por profesional",
    columns=COLUMNS,
    rows=(
        ("Dra. Núñez", 120, 0.125, 1500000.5, 4.5, 12.25),
        ('=HYPERLINK("http://x")', 3, None, 0, None, 7.0),
        ("+54 9 11", 1, 1.0, None, 3.0, None),
    ),
    totals=("Total", 124, 0.1371, 1500000.5, 4.4, 11.9),
    notes=("Intervalos de confianza del 95 %.", "-1 no es una fórmula"),
)
BY_WEEK = Table(
    key="by_week",
    title="Semana: 1/2 [todas]?*",
    columns=(Column("week", "Semana", Format.text), Column("booked", "Turnos")),
    rows=(("@SUM(1)", 5), ("-2", 7)),
)


def _workbook(*tables: Table) -> list[Worksheet]:
    book = load_workbook(io.BytesIO(to_xlsx("Informe", tables, "es")))
    assert book.properties.title == "Informe"
    return list(book.worksheets)


def _values(sheet: Worksheet) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_one_sheet_per_table_named_by_its_title() -> None:
    sheets = _workbook(BY_PROFESSIONAL, BY_WEEK)
    assert [sheet.title for sheet in sheets] == ["Por profesional", "Semana 12 todas"]


def test_every_cell_header_rows_totals_and_notes() -> None:
    sheet = _workbook(BY_PROFESSIONAL)[0]
    assert _values(sheet) == [
        ("Profesional", "Turnos", "Ausencias", "Cobrado", "Puntaje", "Espera (min)"),
        ("Dra. Núñez", 120, 0.125, 1500000.5, 4.5, 12.25),
        ('=HYPERLINK("http://x")', 3, None, 0, None, 7),
        ("+54 9 11", 1, 1, None, 3, None),
        ("Total", 124, 0.1371, 1500000.5, 4.4, 11.9),
        (None,) * 6,
        ("Intervalos de confianza del 95 %.", *(None,) * 5),
        ("-1 no es una fórmula", *(None,) * 5),
    ]
    assert sheet.freeze_panes == "A2"


def test_number_formats_follow_the_columns() -> None:
    sheet = _workbook(BY_PROFESSIONAL)[0]
    formats = ["@", "#,##0", "0.0%", "#,##0.00", "0.0", "0.0"]
    for row in sheet.iter_rows(min_row=2, max_row=5):
        assert [cell.number_format for cell in row] == formats


def test_header_and_totals_are_bold_the_rows_are_not() -> None:
    sheet = _workbook(BY_PROFESSIONAL)[0]
    bold = [[bool(cell.font.bold) for cell in row] for row in sheet.iter_rows(max_row=5)]
    assert bold == [[True] * 6, [False] * 6, [False] * 6, [False] * 6, [True] * 6]


def test_text_that_looks_like_a_formula_stays_text() -> None:
    professional, week = _workbook(BY_PROFESSIONAL, BY_WEEK)
    risky = [professional["A3"], professional["A4"], professional["A8"], week["A2"], week["A3"]]
    assert [cell.value for cell in risky] == [
        '=HYPERLINK("http://x")',
        "+54 9 11",
        "-1 no es una fórmula",
        "@SUM(1)",
        "-2",
    ]
    assert all(cell.data_type == "s" for cell in risky)
    assert all(cell.quotePrefix for cell in risky)
    assert not professional["A2"].quotePrefix


def test_columns_are_wide_enough_for_their_values() -> None:
    sheet = _workbook(BY_PROFESSIONAL)[0]
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEF"]
    assert all(8 <= width <= 50 for width in widths)
    assert widths[3] >= len("1.500.000,50")  # the money, as the page writes it
    assert widths[5] >= len("Espera (min)")


def test_sheet_names_are_cut_cleaned_and_unique() -> None:
    long = "Ausencias por profesional y por servicio del mes"
    tables = [
        Table(key=f"t{number}", title=title, columns=(Column("a", "A"),), rows=())
        for number, title in enumerate([long, long, "A/B", "A\\B", "[]:*?/\\", "'Hoy'"])
    ]
    names = [sheet.title for sheet in _workbook(*tables)]
    assert names == [long[:31], long[:27].rstrip() + " (2)", "AB", "AB (2)", "-", "Hoy"]
    assert all(len(name) <= 31 for name in names)
    assert sheet_name("por profesional", {"por profesional"}) == "por profesional (2)"
    assert sheet_name("Por Profesional", {"por profesional"}) == "Por Profesional (2)"


def test_a_workbook_without_tables_still_opens() -> None:
    book = load_workbook(io.BytesIO(to_xlsx("Informe vacío", [], "en")))
    assert [sheet.title for sheet in book.worksheets] == ["Informe vacío"]


def test_csv_has_a_bom_the_header_rows_and_totals() -> None:
    data = to_csv(BY_PROFESSIONAL)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["Profesional", "Turnos", "Ausencias", "Cobrado", "Puntaje", "Espera (min)"],
        ["Dra. Núñez", "120", "0.125", "1500000.5", "4.5", "12.25"],
        ['\'=HYPERLINK("http://x")', "3", "", "0", "", "7.0"],
        ["'+54 9 11", "1", "1.0", "", "3.0", ""],
        ["Total", "124", "0.1371", "1500000.5", "4.4", "11.9"],
    ]


def test_csv_guards_every_formula_start_and_writes_no_exponent() -> None:
    table = Table(
        key="k",
        title="t",
        columns=(Column("a", "=A", Format.text), Column("b", "B", Format.percent)),
        rows=(("@x", 0.00001), ("-1", 1e-7), ("\tx", 0.5)),
    )
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert rows == [["'=A", "B"], ["'@x", "0.00001"], ["'-1", "0.0000001"], ["'\tx", "0.5"]]
