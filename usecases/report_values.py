"""A report's value as the console shows it: numbers in the reader's locale through babel's
CLDR data, so the page, the charts' labels and their titles write them alike."""

from functools import cache

from babel import Locale
from babel.numbers import NumberPattern, format_decimal, parse_pattern

from usecases.report_table import Format, Value

NOTHING = "—"  # a value there is none of: a dash, in every language

# Babel has CLDR data for Guarani (`gn`) but none of its numbers: they would fall back to
# CLDR's root (1,234.5), which no one in Paraguay writes; Paraguay's Spanish is what they read.
NUMBER_LOCALES = {"gn": "es_PY"}

DECIMAL_PATTERNS = {
    Format.integer: "#,##0",
    Format.money: "#,##0.00",
    Format.decimal: "#,##0.0",
    Format.minutes: "#,##0.0",
}


def shown(value: Value, format: Format, lang: str) -> str:
    """`value` written for the reader of `lang`: a share as a percentage with one decimal,
    money with two and no currency sign (the clinic's currency is not known here)."""
    if value is None:
        return NOTHING
    if isinstance(value, str) or format is Format.text:
        return str(value)
    locale = number_locale(lang)
    if format is Format.percent:
        return _percent_pattern(locale).apply(value, locale)
    return format_decimal(value, format=DECIMAL_PATTERNS[format], locale=locale)


@cache
def number_locale(lang: str) -> Locale:
    """The babel locale whose number symbols `lang`'s readers use."""
    return Locale.parse(NUMBER_LOCALES.get(lang, lang))


@cache
def _percent_pattern(locale: Locale) -> NumberPattern:
    """The locale's own percent pattern (its spacing before `%`) with one decimal."""
    pattern = parse_pattern(locale.percent_formats[None].pattern)
    pattern.frac_prec = (1, 1)
    return pattern
