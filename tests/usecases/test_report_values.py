"""A report's values as the page writes them, per format and language; the expected strings
are babel's own for the locale (Guarani reads Paraguay's Spanish numbers)."""

import pytest
from babel.numbers import format_decimal

from usecases.report_table import Format
from usecases.report_values import NOTHING, shown

NBSP = "\xa0"

CASES = [
    # value, format, {lang: expected}
    (1234, Format.integer, {"es": "1.234", "en": "1,234", "gn": "1.234"}),
    (1234567, Format.integer, {"es": "1.234.567", "en": "1,234,567", "gn": "1.234.567"}),
    (0.256, Format.percent, {"es": f"25,6{NBSP}%", "en": "25.6%", "gn": "25,6%"}),
    (1, Format.percent, {"es": f"100,0{NBSP}%", "en": "100.0%", "gn": "100,0%"}),
    (0, Format.percent, {"es": f"0,0{NBSP}%", "en": "0.0%", "gn": "0,0%"}),
    (1234.5, Format.money, {"es": "1.234,50", "en": "1,234.50", "gn": "1.234,50"}),
    (150000, Format.money, {"es": "150.000,00", "en": "150,000.00", "gn": "150.000,00"}),
    (4.26, Format.decimal, {"es": "4,3", "en": "4.3", "gn": "4,3"}),
    (12.0, Format.minutes, {"es": "12,0", "en": "12.0", "gn": "12,0"}),
    (1500.25, Format.minutes, {"es": "1.500,2", "en": "1,500.2", "gn": "1.500,2"}),
    ("Dra. Núñez", Format.text, {"es": "Dra. Núñez", "en": "Dra. Núñez", "gn": "Dra. Núñez"}),
]


@pytest.mark.parametrize("lang", ["es", "en", "gn"])
@pytest.mark.parametrize(("value", "format", "expected"), CASES)
def test_each_format_in_each_language(
    value: float | str, format: Format, expected: dict[str, str], lang: str
) -> None:
    assert shown(value, format, lang) == expected[lang]


@pytest.mark.parametrize("lang", ["es", "en", "gn"])
@pytest.mark.parametrize("format", list(Format))
def test_none_is_a_dash(format: Format, lang: str) -> None:
    assert shown(None, format, lang) == NOTHING == "—"


def test_guarani_numbers_are_paraguays_spanish() -> None:
    """Babel's `gn` has no number symbols of its own (root's would write 1,234.5)."""
    assert format_decimal(1234.5, locale="gn") == "1,234.5"
    assert shown(1234.5, Format.decimal, "gn") == format_decimal(1234.5, locale="es_PY")


def test_a_string_in_a_number_column_is_shown_as_it_is() -> None:
    assert shown("n/a", Format.percent, "es") == "n/a"
