"""A report's figures as tables: what the console shows, the charts draw and the Excel
and CSV files hold. Labels are already in the reader's language; values are plain
numbers (a share is a fraction, 0.25 for 25%), None where there is nothing to show."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Format(StrEnum):
    """How a column's values are written: on the page, in a cell's number format."""

    integer = "integer"  # a whole number
    percent = "percent"  # a fraction shown as a percentage
    money = "money"  # an amount in the clinic's currency, two decimals
    decimal = "decimal"  # a number with one decimal (an average score)
    minutes = "minutes"  # a duration in minutes, one decimal
    text = "text"


Value = int | float | str | None


def as_number(value: Value) -> float | None:
    """A cell as a chart's value: None for a text or an empty cell."""
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    format: Format = Format.integer


@dataclass(frozen=True)
class Table:
    """One table of a report; `key` names its sheet and its CSV file."""

    key: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Value]]
    totals: Sequence[Value] | None = None  # the totals row, shown last and bold
    notes: Sequence[str] = field(default_factory=tuple)  # said under the table
