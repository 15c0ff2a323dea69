"""The reports' charts, read back as SVG: bars in proportion to their values, whiskers where
the intervals end, titles for screen readers, no inline style, nothing divided by zero."""

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from bot.locale import text
from usecases.report_table import Format
from web.console.charts import (
    MAX_LABELS,
    Interval,
    Series,
    bar_chart,
    interval_chart,
    value_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parsed(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    return ET.fromstring(str(chart))


def _all(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG}{tag}"))


def _bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in _all(root, "rect") if "bar" in rect.get("class", "").split()]


def _titles(elements: list[ET.Element]) -> list[str]:
    return [element.findtext(f"{SVG}title") or "" for element in elements]


def _number(element: ET.Element, attribute: str) -> float:
    return float(element.get(attribute) or "nan")


def _is_accessible(root: ET.Element, title: str) -> None:
    assert root.get("role") == "img"
    title_id, desc_id = (root.get("aria-labelledby") or "").split()
    assert root.find(f"{SVG}title[@id='{title_id}']").text == title  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc[@id='{desc_id}']") is not None
    assert root.get("viewBox", "").startswith("0 0 640 ")
    assert all("style" not in element.attrib for element in root.iter())


def test_bars_are_as_high_as_their_values() -> None:
    chart = bar_chart(
        "Turnos", ["lun", "mar", "mié"], [Series("Turnos", [10, 30, 0])], Format.integer, "es"
    )
    root = _parsed(chart)
    _is_accessible(root, "Turnos")
    ten, thirty, zero = _bars(root)
    assert _number(thirty, "height") == pytest.approx(3 * _number(ten, "height"), abs=0.02)
    assert _number(zero, "height") == 0
    bottoms = {round(_number(b, "y") + _number(b, "height"), 1) for b in (ten, thirty, zero)}
    assert len(bottoms) == 1  # all standing on the axis
    assert _titles([ten, thirty, zero]) == ["lun: 10", "mar: 30", "mié: 0"]
    assert root.findtext(f"{SVG}desc") == "lun: 10, mar: 30, mié: 0"


def test_the_y_axis_has_four_or_five_round_ticks() -> None:
    root = _parsed(bar_chart("T", ["a"], [Series("s", [37])], Format.integer, "es"))
    ticks = [t.text for t in _all(root, "text") if t.get("class") == "tick"]
    assert ticks == ["0", "10", "20", "30", "40"]
    for highest in (1, 3, 7, 9.5, 37, 101, 999, 12345, 0.04, 0.41, 0.999, 1e-9):
        for format in (Format.integer, Format.percent, Format.money):
            ticks_ = value_ticks(highest, format)
            assert ticks_[0] == 0 and ticks_[-1] >= highest
            if format is Format.integer:
                assert all(t == int(t) for t in ticks_)
            if format is not Format.integer or highest > 10:
                assert 4 <= len(ticks_) <= 5, (highest, format, ticks_)
            elif highest >= 3:
                assert 4 <= len(ticks_) <= 6, (highest, format, ticks_)


def test_the_top_tick_is_the_full_height() -> None:
    root = _parsed(bar_chart("T", ["a", "b"], [Series("s", [40, 20])], Format.integer, "en"))
    forty, twenty = _bars(root)
    grid = sorted(_number(line, "y1") for line in _all(root, "line") if line.get("class") == "grid")
    assert _number(forty, "y") == pytest.approx(grid[0], abs=0.02)  # 40 is the top tick
    assert _number(twenty, "height") == pytest.approx(_number(forty, "height") / 2, abs=0.02)


def test_series_are_grouped_side_by_side_with_a_legend() -> None:
    series = [Series("2025", [0.1, 0.2]), Series("2026", [0.3, None]), Series("Otro", [0, 0.4])]
    root = _parsed(bar_chart("Ausencias", ["Dra. A", "Dr. B"], series, Format.percent, "en"))
    bars = _bars(root)
    assert [b.get("class") for b in bars] == [
        "bar series-1",
        "bar series-2",
        "bar series-3",
        "bar series-1",
        "bar series-3",
    ]
    assert _titles(bars) == [
        "Dra. A, 2025: 10.0%",
        "Dra. A, 2026: 30.0%",
        "Dra. A, Otro: 0.0%",
        "Dr. B, 2025: 20.0%",
        "Dr. B, Otro: 40.0%",
    ]
    xs = [_number(b, "x") for b in bars]
    assert xs[0] < xs[1] < xs[2] < xs[3] < xs[4]
    assert _number(bars[1], "height") == pytest.approx(3 * _number(bars[0], "height"), abs=0.02)
    legend = [t.text for t in _all(root, "text") if t.get("class") == "legend"]
    assert legend == ["2025", "2026", "Otro"]
    assert "2026 — Dra. A: 30.0%, Dr. B: —" in (root.findtext(f"{SVG}desc") or "")


def test_one_series_has_no_legend() -> None:
    root = _parsed(bar_chart("T", ["a"], [Series("s", [1])], Format.integer, "es"))
    assert not [t for t in _all(root, "text") if t.get("class") == "legend"]


def test_many_categories_are_thinned_but_every_bar_is_drawn() -> None:
    weeks = [f"S{number}" for number in range(1, 54)]
    root = _parsed(
        bar_chart("Semanas", weeks, [Series("Turnos", list(range(53)))], Format.integer, "es")
    )
    labels = [t.text for t in _all(root, "text") if t.get("class") == "category"]
    assert len(_bars(root)) == 53
    assert 6 <= len(labels) <= MAX_LABELS
    assert labels[:3] == ["S1", "S6", "S11"]
    assert "S53: 52" in _titles(_bars(root))


def test_long_category_names_are_slanted_and_cut() -> None:
    names = [f"Dra. María José Fernández {n}" for n in range(8)]
    root = _parsed(bar_chart("T", names, [Series("s", [1] * 8)], Format.integer, "es"))
    labels = [t for t in _all(root, "text") if t.get("class") == "category"]
    assert all((t.get("transform") or "").startswith("rotate(") for t in labels)
    assert all(len(t.text or "") <= 16 for t in labels)
    assert _titles(_bars(root))[0] == "Dra. María José Fernández 0: 1"


@pytest.mark.parametrize(
    ("categories", "series"),
    [
        ([], []),
        ([], [Series("s", [])]),
        (["a", "b"], [Series("s", [0, 0])]),
        (["a"], [Series("s", [None])]),
    ],
)
def test_empty_and_zero_data_draw(categories: list[str], series: list[Series]) -> None:
    root = _parsed(bar_chart("Nada", categories, series, Format.percent, "es"))
    _is_accessible(root, "Nada")
    assert all(_number(b, "height") == 0 for b in _bars(root))
    ticks = [t.text for t in _all(root, "text") if t.get("class") == "tick"]
    assert ticks[0] == "0,0\xa0%" and len(ticks) >= 2


def test_text_is_escaped() -> None:
    root = _parsed(bar_chart("<b>&", ["<i>"], [Series("s", [1])], Format.integer, "es"))
    assert root.findtext(f"{SVG}title") == "<b>&"
    assert _titles(_bars(root)) == ["<i>: 1"]


def test_each_chart_has_its_own_ids() -> None:
    first = _parsed(bar_chart("A", [], [], Format.integer, "es"))
    second = _parsed(interval_chart("B", [], Format.percent, "es"))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")


REMINDERS = [
    Interval("Todos", 0.12, 0.10, 0.14),
    Interval("Con recordatorio confirmado", 0.04, 0.02, 0.07),
    Interval("Sin recordatorio", 0.36, 0.24, 0.40),
    Interval("Sin WhatsApp", None, None, None),
    Interval("Sin intervalo", 0.2, None, None),
]


def _whiskers(root: ET.Element) -> list[list[ET.Element]]:
    return [list(g) for g in root.iter(f"{SVG}g") if g.get("class") == "whisker"]


def test_interval_bars_are_as_long_as_their_rates() -> None:
    root = _parsed(interval_chart("Ausencias", REMINDERS, Format.percent, "es"))
    _is_accessible(root, "Ausencias")
    everyone, confirmed, without, _unbounded = _bars(root)
    assert _number(everyone, "width") == pytest.approx(3 * _number(confirmed, "width"), abs=0.02)
    assert _number(without, "width") == pytest.approx(9 * _number(confirmed, "width"), abs=0.02)
    assert len({_number(b, "x") for b in _bars(root)}) == 1
    assert _titles(_bars(root)) == [
        "Todos: 12,0\xa0% (10,0\xa0% – 14,0\xa0%)",
        "Con recordatorio confirmado: 4,0\xa0% (2,0\xa0% – 7,0\xa0%)",
        "Sin recordatorio: 36,0\xa0% (24,0\xa0% – 40,0\xa0%)",
        "Sin intervalo: 20,0\xa0%",
    ]


def test_whiskers_span_low_to_high_across_their_bar() -> None:
    root = _parsed(interval_chart("Ausencias", REMINDERS, Format.percent, "es"))
    bars = _bars(root)
    left = _number(bars[0], "x")
    per_unit = _number(bars[0], "width") / 0.12  # the scale, from a bar
    whiskers = _whiskers(root)
    assert len(whiskers) == 3  # not for no data, nor without an interval
    for whisker, bar, (low, high) in zip(
        whiskers, bars, [(0.10, 0.14), (0.02, 0.07), (0.24, 0.40)], strict=False
    ):
        span, low_cap, high_cap = whisker
        assert _number(span, "x1") == pytest.approx(left + low * per_unit, abs=0.05)
        assert _number(span, "x2") == pytest.approx(left + high * per_unit, abs=0.05)
        assert _number(low_cap, "x1") == _number(span, "x1")
        assert _number(high_cap, "x1") == _number(span, "x2")
        middle = _number(bar, "y") + _number(bar, "height") / 2
        assert _number(span, "y1") == pytest.approx(middle, abs=0.02)


@pytest.mark.parametrize("lang", ["es", "en", "gn"])
def test_a_row_without_a_value_says_no_data(lang: str) -> None:
    root = _parsed(interval_chart("Ausencias", REMINDERS, Format.percent, lang))
    no_data = [t.text for t in _all(root, "text") if t.get("class") == "no-data"]
    assert no_data == [text("console.report_no_data", lang)]
    assert no_data[0] != "console.report_no_data"
    assert f"Sin WhatsApp: {no_data[0]}" in (root.findtext(f"{SVG}desc") or "")


@pytest.mark.parametrize(
    "rows",
    [[], [Interval("Nadie", None, None, None)], [Interval("Cero", 0, 0, 0)]],
)
def test_empty_and_zero_intervals_draw(rows: list[Interval]) -> None:
    root = _parsed(interval_chart("Nada", rows, Format.percent, "en"))
    _is_accessible(root, "Nada")
    assert all(_number(b, "width") == 0 for b in _bars(root))


def test_the_stylesheet_colours_every_class_the_charts_use() -> None:
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "web/console/static/console.css").read_text()
    series = [Series(str(n), [1]) for n in range(4)]
    roots = [
        _parsed(bar_chart("T", ["a"], series, Format.integer, "es")),
        _parsed(interval_chart("T", REMINDERS, Format.percent, "es")),
    ]
    used = {c for root in roots for e in root.iter() for c in e.get("class", "").split()}
    assert used <= {
        "chart",
        "bar",
        "key",
        "grid",
        "axis",
        "tick",
        "category",
        "legend",
        "value",
        "no-data",
        "halo",
        "whisker",
        "series-1",
        "series-2",
        "series-3",
        "series-4",
    }
    for name in ("series-1", "series-2", "series-3", "series-4", "whisker", "no-data"):
        assert f".chart .{name}" in css
