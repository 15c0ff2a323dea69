"""A report's charts drawn on the server as inline SVG: read without JavaScript, scaled to the
page by their viewBox, coloured by the console's stylesheet (no inline styles under its CSP),
and told to screen readers by a title, a description and each bar's own title."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from math import ceil, floor, log10

from markupsafe import Markup, escape

from bot.locale import text
from usecases.report_table import Format
from usecases.report_values import shown

WIDTH = 640  # the viewBox's width; the page scales it to its own
CHAR = 7.0  # about how wide a character of the charts' 12-unit text is
SERIES_CLASSES = 4  # series-1 … series-4 in console.css, then again from the first
MAX_LABELS = 12  # category labels written at most; the rest stay in their bars' titles
LABEL_CHARS = 36  # a row's label longer than this is cut short (its bar's title has it all)
BAR_HEIGHT = 18  # an interval chart's bar, in a row 36 high
SMALL_COUNT = 10  # counts up to this are ticked at every whole or every even number
TICKS = 4  # steps above zero at most on a value axis, so 4 or 5 ticks with zero

_ids = count(1)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per category; None where there is none


@dataclass(frozen=True)
class Interval:
    label: str
    value: float | None  # None: drawn as "no data"
    low: float | None  # the confidence interval's ends, None when not known
    high: float | None


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    value_format: Format,
    lang: str,
) -> Markup:
    """Grouped vertical bars, one group per category and one bar per series, over a y axis
    of round ticks; a legend when there is more than one series."""
    ticks = value_ticks(_highest(v for one in series for v in one.values), value_format)
    labels = _thinned(categories)
    room = WIDTH / max(len(categories), 1) * _every(len(categories))  # for each label
    rotated = _widest(labels) * CHAR > room
    legend = 24 if len(series) > 1 else 0
    # a rotated label of 16 characters reaches 16 + 16 × CHAR × sin 40° ≈ 88 below the axis
    left, right, top, bottom = 64, 12, 12 + legend, (96 if rotated else 36)
    height = 300 + legend + (60 if rotated else 0)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    base = top + plot_h
    band = plot_w / max(len(categories), 1)
    parts = [*_y_axis(ticks, value_format, lang, left, WIDTH - right, top, plot_h)]
    for index, category in enumerate(categories):
        x0 = left + band * (index + 0.1)
        bars = _Bars(x0, band * 0.8, base, plot_h / ticks[-1], value_format, lang)
        parts.extend(bars.group(category, index, series))
    parts.append(f'<line class="axis" x1="{left}" x2="{WIDTH - right}" y1="{base}" y2="{base}"/>')
    for index, label in enumerate(labels):
        if label is not None:
            parts.append(_category_label(label, left + band * (index + 0.5), base + 16, rotated))
    if legend:
        parts.extend(_legend(series, left))
    description = _bars_description(categories, series, value_format, lang)
    return _svg(title, description, height, parts)


def interval_chart(title: str, rows: Sequence[Interval], value_format: Format, lang: str) -> Markup:
    """Horizontal bars for rates, each with its confidence interval's whisker from low to
    high; a row without a value says there is no data."""
    known = [row for row in rows if row.value is not None]
    ticks = value_ticks(_highest(v for row in known for v in (row.value, row.high)), value_format)
    room = min(max((len(row.label) for row in rows), default=0), LABEL_CHARS)  # characters
    left, right, top, row_h = max(room * CHAR + 16, 80), 72, 8, 36
    base = top + row_h * len(rows)
    scale = _Across(left, WIDTH - left - right, ticks[-1])
    parts = [*_x_axis(ticks, value_format, lang, scale, top, base)]
    no_data = text("console.report_no_data", lang)
    for index, row in enumerate(rows):
        middle = top + row_h * (index + 0.5)
        said = _interval_said(row, value_format, lang, no_data)
        parts.extend(_interval_row(row, said, scale, middle, value_format, lang, no_data))
    parts.append(f'<line class="axis" x1="{_n(left)}" x2="{_n(left)}" y1="{top}" y2="{base}"/>')
    description = "; ".join(_interval_said(row, value_format, lang, no_data) for row in rows)
    return _svg(title, description, base + 28, parts)


@dataclass(frozen=True)
class _Across:
    """The horizontal value axis: zero at `left`, `top` at `left + width`."""

    left: float
    width: float
    top: float

    def x(self, value: float) -> float:
        return self.left + max(value, 0) / self.top * self.width


def _interval_row(
    row: Interval,
    said: str,
    scale: _Across,
    middle: float,
    value_format: Format,
    lang: str,
    no_data: str,
) -> Iterator[str]:
    """One row: its label, then its bar, whisker and value, or that there is no data."""
    y = _n(middle + 4)
    yield (
        f'<text class="category" x="{_n(scale.left - 8)}" y="{y}" text-anchor="end">'
        f"{escape(_cut(row.label, LABEL_CHARS))}</text>"
    )
    if row.value is None:
        yield f'<text class="no-data" x="{_n(scale.left + 4)}" y="{y}">{escape(no_data)}</text>'
        return
    end = scale.x(row.value)
    yield (
        f'<rect class="bar series-1" x="{_n(scale.left)}" y="{_n(middle - BAR_HEIGHT / 2)}" '
        f'width="{_n(end - scale.left)}" height="{BAR_HEIGHT}">'
        f"<title>{escape(said)}</title></rect>"
    )
    if row.low is not None and row.high is not None:
        yield _whisker(scale.x(row.low), scale.x(row.high), middle)
        end = max(end, scale.x(row.high))
    yield (
        f'<text class="value" x="{_n(end + 6)}" y="{y}">'
        f"{escape(shown(row.value, value_format, lang))}</text>"
    )


def value_ticks(highest: float, value_format: Format) -> list[float]:
    """Round ticks from zero to at least `highest`, 4 or 5 of them with zero; a count's are
    whole, every one or every two up to 10 (so up to 6 there); 0 to 1 when nothing is above
    zero."""
    if highest <= 0:
        highest = 1
    if value_format is Format.integer and highest <= SMALL_COUNT:
        every = 1 if highest <= SMALL_COUNT / 2 else 2
        return [float(tick) for tick in range(0, ceil(highest / every) * every + 1, every)]
    whole = value_format is Format.integer
    for exponent in count(floor(log10(highest / TICKS)) - 1):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10.0**exponent
            if whole and step != int(step):
                continue
            steps = ceil(highest / step - 1e-9)
            if steps <= TICKS:
                return [float(f"{step * index:.12g}") for index in range(steps + 1)]
    raise AssertionError("unreachable: a step always fits")


@dataclass(frozen=True)
class _Bars:
    """Where one category's bars stand: from `x0`, `width` wide, on `base`, `scale` units
    high for each unit of value."""

    x0: float
    width: float
    base: float
    scale: float
    value_format: Format
    lang: str

    def group(self, category: str, index: int, series: Sequence[Series]) -> Iterator[str]:
        """The category's bars side by side, each titled with what it shows."""
        bar_w = self.width / max(len(series), 1)
        for number, one in enumerate(series):
            value = one.values[index] if index < len(one.values) else None
            if value is None:
                continue
            h = max(value, 0) * self.scale
            named = f"{category}, {one.label}" if len(series) > 1 else category
            said = f"{named}: {shown(value, self.value_format, self.lang)}"
            yield (
                f'<rect class="bar {_series_class(number)}" x="{_n(self.x0 + bar_w * number)}" '
                f'y="{_n(self.base - h)}" width="{_n(bar_w)}" height="{_n(h)}">'
                f"<title>{escape(said)}</title></rect>"
            )


def _category_label(label: str, x: float, y: float, rotated: bool) -> str:
    """A category's name under its bars, slanted and cut short when names are long."""
    if not rotated:
        return (
            f'<text class="category" x="{_n(x)}" y="{_n(y)}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return (
        f'<text class="category" x="{_n(x)}" y="{_n(y)}" text-anchor="end" '
        f'transform="rotate(-40 {_n(x)} {_n(y)})">{escape(_cut(label, 16))}</text>'
    )


def _highest(values: Iterator[float | None]) -> float:
    return max((value for value in values if value is not None), default=0)


def _every(total: int) -> int:
    """Every how many categories one is labelled, so at most MAX_LABELS are."""
    return max(ceil(total / MAX_LABELS), 1)


def _thinned(categories: Sequence[str]) -> list[str | None]:
    every = _every(len(categories))
    return [label if index % every == 0 else None for index, label in enumerate(categories)]


def _widest(labels: Sequence[str | None]) -> int:
    return max((len(label) for label in labels if label is not None), default=0)


def _cut(label: str, length: int) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


def _series_class(number: int) -> str:
    return f"series-{number % SERIES_CLASSES + 1}"


def _n(value: float) -> str:
    """A coordinate, two decimals at most."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _y_axis(
    ticks: Sequence[float],
    value_format: Format,
    lang: str,
    left: float,
    right: float,
    top: float,
    plot_h: float,
) -> Iterator[str]:
    for tick in ticks:
        y = _n(top + plot_h - tick / ticks[-1] * plot_h)
        yield f'<line class="grid" x1="{left}" x2="{right}" y1="{y}" y2="{y}"/>'
        yield (
            f'<text class="tick" x="{left - 6}" y="{y}" dy="4" text-anchor="end">'
            f"{escape(shown(tick, value_format, lang))}</text>"
        )


def _x_axis(
    ticks: Sequence[float], value_format: Format, lang: str, scale: _Across, top: float, base: float
) -> Iterator[str]:
    for tick in ticks:
        x = _n(scale.x(tick))
        yield f'<line class="grid" x1="{x}" x2="{x}" y1="{top}" y2="{base}"/>'
        yield (
            f'<text class="tick" x="{x}" y="{base + 18}" text-anchor="middle">'
            f"{escape(shown(tick, value_format, lang))}</text>"
        )


def _whisker(low: float, high: float, middle: float) -> str:
    """The interval from `low` to `high` with a cap at each end, over a white halo that keeps
    it seen where it crosses its bar."""
    y, cap_top, cap_bottom = _n(middle), _n(middle - 6), _n(middle + 6)
    lines = (
        f'<line x1="{_n(low)}" x2="{_n(high)}" y1="{y}" y2="{y}"/>'
        f'<line x1="{_n(low)}" x2="{_n(low)}" y1="{cap_top}" y2="{cap_bottom}"/>'
        f'<line x1="{_n(high)}" x2="{_n(high)}" y1="{cap_top}" y2="{cap_bottom}"/>'
    )
    return f'<g class="halo">{lines}</g><g class="whisker">{lines}</g>'


def _legend(series: Sequence[Series], left: float) -> Iterator[str]:
    x = left
    for number, one in enumerate(series):
        yield (
            f'<rect class="key {_series_class(number)}" x="{_n(x)}" y="6" width="12" '
            f'height="12"/><text class="legend" x="{_n(x + 18)}" y="16">'
            f"{escape(one.label)}</text>"
        )
        x += 18 + len(one.label) * CHAR + 16


def _bars_description(
    categories: Sequence[str], series: Sequence[Series], value_format: Format, lang: str
) -> str:
    """Every value the bars draw, as text: what a screen reader says of the chart."""

    def values(one: Series) -> str:
        return ", ".join(
            f"{category}: {shown(value, value_format, lang)}"
            for category, value in zip(categories, one.values, strict=False)
        )

    if len(series) == 1:
        return values(series[0])
    return ". ".join(f"{one.label} — {values(one)}" for one in series)


def _interval_said(row: Interval, value_format: Format, lang: str, no_data: str) -> str:
    if row.value is None:
        return f"{row.label}: {no_data}"
    said = f"{row.label}: {shown(row.value, value_format, lang)}"
    if row.low is None or row.high is None:
        return said
    low, high = shown(row.low, value_format, lang), shown(row.high, value_format, lang)
    return f"{said} ({low} – {high})"


def _svg(title: str, description: str, height: float, parts: Sequence[str]) -> Markup:
    """The chart's SVG element, labelled by its title and description."""
    name = f"chart-{next(_ids)}"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
        f'{_n(height)}" role="img" aria-labelledby="{name}-title {name}-desc">'
        f'<title id="{name}-title">{escape(title)}</title>'
        f'<desc id="{name}-desc">{escape(description)}</desc>'
        f"{''.join(parts)}</svg>"
    )
