"""A report's tables as files to download: an Excel workbook with one sheet per table, and
one table as CSV; plain numbers with the cell formats the page's shows, never a formula."""

import csv
import io
import re
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from usecases.report_table import Format, Table, Value
from usecases.report_values import shown

# What a spreadsheet may read as the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

NUMBER_FORMATS = {
    Format.integer: "#,##0",
    Format.percent: "0.0%",
    Format.money: "#,##0.00",
    Format.decimal: "0.0",
    Format.minutes: "0.0",
    Format.text: "@",
}

SHEET_NAME_LENGTH = 31  # Excel's limit
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
WIDTHS = range(8, 51)  # a column's width in characters, from the narrowest to the widest
BOLD = Font(bold=True)
NOTE = Font(italic=True)


def to_xlsx(title: str, tables: Sequence[Table], lang: str) -> bytes:
    """The tables as an .xlsx workbook titled `title`, one sheet each: a bold header row kept
    in view, the rows, the totals in bold, the notes under them; `lang` sizes the columns as
    the page writes the values."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = title
    names: set[str] = set()
    for table in tables:
        name = sheet_name(table.title or table.key, names)
        names.add(name.casefold())
        _fill(workbook.create_sheet(name), table, lang)
    if not tables:
        workbook.create_sheet(sheet_name(title, names))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_csv(table: Table) -> bytes:
    """One table as CSV in UTF-8 with a BOM (Excel in Spanish reads the accents right): the
    header, the rows, the totals; numbers plain, a share as its fraction (0.25 for 25%)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_csv_value(column.label) for column in table.columns)
    for row in _rows(table):
        writer.writerow(_csv_value(value) for value in row)
    return out.getvalue().encode("utf-8-sig")


def sheet_name(title: str, taken: set[str]) -> str:
    """A name Excel accepts for a sheet, not in `taken` (casefolded, as Excel compares): no
    `[]:*?/\\`, no apostrophe at either end, at most 31 characters."""
    base = NOT_IN_SHEET_NAMES.sub("", title).strip().strip("'").strip() or "-"
    name, number = base[:SHEET_NAME_LENGTH], 1
    while name.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        name = base[: SHEET_NAME_LENGTH - len(suffix)].rstrip() + suffix
    return name


def _rows(table: Table) -> list[Sequence[Value]]:
    return [*table.rows, *([table.totals] if table.totals is not None else [])]


def _fill(sheet: Worksheet, table: Table, lang: str) -> None:
    """One table on its sheet."""
    for number, column in enumerate(table.columns, start=1):
        _text_cell(sheet.cell(row=1, column=number), column.label).font = BOLD
    for row_number, row in enumerate(table.rows, start=2):
        _fill_row(sheet, row_number, row, table)
    last = len(table.rows) + 1
    if table.totals is not None:
        last += 1
        for cell in _fill_row(sheet, last, table.totals, table):
            cell.font = BOLD
    for offset, note in enumerate(table.notes, start=2):
        _text_cell(sheet.cell(row=last + offset, column=1), note).font = NOTE
    sheet.freeze_panes = "A2"
    for number, column in enumerate(table.columns, start=1):
        widest = max(
            (len(shown(row[number - 1], column.format, lang)) for row in _rows(table)),
            default=0,
        )
        width = min(max(widest, len(column.label)) + 2, WIDTHS[-1])
        sheet.column_dimensions[get_column_letter(number)].width = max(width, WIDTHS[0])


def _fill_row(sheet: Worksheet, number: int, row: Sequence[Value], table: Table) -> list[Cell]:
    """A row's values in their columns' formats; None stays an empty cell."""
    cells = []
    for column_number, (column, value) in enumerate(zip(table.columns, row, strict=True), 1):
        cell = sheet.cell(row=number, column=column_number)
        if isinstance(value, str):
            _text_cell(cell, value)
        elif value is not None:
            cell.value = value
        cell.number_format = NUMBER_FORMATS[column.format]
        cells.append(cell)
    return cells


def _text_cell(cell: Cell, text: str) -> Cell:
    """Text that stays text: openpyxl would store one starting with `=` as a formula, so a
    risky start is set as string data and marked to keep it text when edited in Excel."""
    cell.value = text
    if text.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _csv_value(value: Value) -> str:
    """A value as a CSV field: a number in full without exponent, text that could start a
    formula behind an apostrophe, None as an empty field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)
