"""Charts drawn on the server as inline SVG: no JavaScript library, nothing fetched from a CDN.

Each chart is an ``<svg role="img">`` with a title and a one-sentence description for
screen readers, plus the same numbers as an HTML table (``Chart.table``) for anyone who
prefers them. Every mark carries ``data-series``, ``data-label`` and ``data-value``, so
tests (and curious people) can read the numbers back. Colours come from CSS classes
(``s-<series>``), so the stylesheet keeps them consistent and high-contrast; SVG
presentation attributes are used instead of inline styles so a strict CSP can apply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 52, 26, 14, 40
MAX_X_LABELS = 7


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of values; ``key`` names its CSS class (``s-<key>``)."""

    key: str
    name: str
    values: Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Chart:
    svg: Markup
    table: Markup
    summary: str


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value - 1e-12:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def tick_count(top: float) -> int:
    """4 or 5 grid steps, whichever divides a ``nice_ceiling`` top into round numbers."""
    leading = top / 10 ** math.floor(math.log10(top)) if top > 0 else 1.0
    return 4 if round(leading, 6) in (2.0, 4.0) else 5


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def _fmt(value: float) -> str:
    """Coordinates with two decimals at most, keeping the SVG small."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


class _Canvas:
    """Coordinate helpers and the common frame (axes, grid, x labels) of a chart."""

    def __init__(self, labels: Sequence[str], top_value: float) -> None:
        self.labels = list(labels)
        self.n = max(1, len(self.labels))
        self.top_value = top_value
        self.plot_w = WIDTH - LEFT - RIGHT
        self.plot_h = HEIGHT - TOP - BOTTOM
        self.band = self.plot_w / self.n

    def x(self, index: int) -> float:
        return LEFT + self.band * index

    def center(self, index: int) -> float:
        return self.x(index) + self.band / 2

    def y(self, value: float) -> float:
        return TOP + self.plot_h * (1 - value / self.top_value)

    def frame(self, format_tick: Callable[[float], str]) -> list[Markup]:
        ticks = tick_count(self.top_value)
        parts = [Markup('<g class="grid" aria-hidden="true">')]
        for i in range(ticks + 1):
            value = self.top_value * i / ticks
            y = _fmt(self.y(value))
            parts.append(
                Markup('<line x1="{}" x2="{}" y1="{}" y2="{}"/>').format(LEFT, WIDTH - RIGHT, y, y)
            )
            parts.append(
                Markup(
                    '<text class="tick" x="{}" y="{}" text-anchor="end" '
                    'dominant-baseline="middle">{}</text>'
                ).format(LEFT - 6, y, format_tick(value))
            )
        every = math.ceil(self.n / MAX_X_LABELS)
        for i, label in enumerate(self.labels):
            if i % every and i != self.n - 1:
                continue
            if i != self.n - 1 and self.n - 1 - i < every:
                continue  # keep the last label clear of its neighbour
            parts.append(
                Markup('<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                    _fmt(self.center(i)), HEIGHT - BOTTOM + 16, label
                )
            )
        parts.append(
            Markup('<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>').format(
                LEFT, WIDTH - RIGHT, TOP + self.plot_h, TOP + self.plot_h
            )
        )
        parts.append(Markup("</g>"))
        return parts


def _svg(chart_id: str, title: str, summary: str, body: list[Markup], css: str) -> Markup:
    """The chart's ``<svg>``. Like every piece of markup here it is built with
    ``Markup(literal).format(...)`` and ``Markup.join``, which escape whatever is not already
    markup, so no label, series name or title can inject HTML."""
    return Markup(
        '<svg class="chart {css}" id="{id}" role="img" '
        'viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" '
        'aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{summary}</desc>'
        "{body}</svg>"
    ).format(
        css=css,
        id=chart_id,
        width=WIDTH,
        height=HEIGHT,
        title=title,
        summary=summary,
        body=Markup("").join(body),
    )


def _empty_note(canvas: _Canvas, empty: bool) -> list[Markup]:
    if not empty:
        return []
    return [
        Markup(
            '<text class="empty-note" x="{}" y="{}" text-anchor="middle">'
            "No data in this period</text>"
        ).format(_fmt(LEFT + canvas.plot_w / 2), _fmt(TOP + canvas.plot_h / 2))
    ]


def data_table(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    caption: str,
    heading: str = "Day",
    format_value: Callable[[float], str] = _number,
) -> Markup:
    column = Markup('<th scope="col">{}</th>')
    cell = Markup("<td>{}</td>")
    head = Markup("").join(column.format(s.name) for s in series)
    rows = []
    for i, label in enumerate(labels):
        cells = Markup("").join(
            cell.format(format_value(v) if (v := s.values[i]) is not None else "–") for s in series
        )
        rows.append(Markup('<tr><th scope="row">{}</th>{}</tr>').format(label, cells))
    return Markup(
        '<table class="data"><caption>{}</caption><thead><tr>{}{}</tr></thead>'
        "<tbody>{}</tbody></table>"
    ).format(caption, column.format(heading), head, Markup("").join(rows))


def bar_chart(
    chart_id: str,
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    stacked: bool = True,
    summary: str = "",
    heading: str = "Day",
) -> Chart:
    """Bars per label: stacked when ``stacked``, else side by side."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    highest = max(totals if stacked else [v or 0 for s in series for v in s.values], default=0.0)
    canvas = _Canvas(labels, max(nice_ceiling(highest), 4.0))  # whole-number ticks
    body = canvas.frame(_number)
    width = canvas.band * (0.7 if stacked else 0.8 / max(1, len(series)))
    for i, label in enumerate(labels):
        base = 0.0
        for k, s in enumerate(series):
            value = s.values[i] or 0
            if not value:
                continue
            if stacked:
                x = canvas.center(i) - width / 2
                top, bottom = canvas.y(base + value), canvas.y(base)
                base += value
            else:
                x = canvas.x(i) + canvas.band * 0.1 + width * k
                top, bottom = canvas.y(value), canvas.y(0)
            body.append(
                Markup(
                    '<rect class="bar s-{key}" x="{x}" y="{y}" width="{width}" height="{height}" '
                    'data-series="{key}" data-label="{label}" data-value="{value}">'
                    "<title>{label}: {number} {name}</title></rect>"
                ).format(
                    key=s.key,
                    x=_fmt(x),
                    y=_fmt(top),
                    width=_fmt(width),
                    height=_fmt(max(bottom - top, 0.5)),
                    label=label,
                    value=_fmt(value),
                    number=_number(value),
                    name=s.name if len(series) > 1 else unit,
                )
            )
    body += _empty_note(canvas, highest == 0)
    summary = summary or f"{title}: {_number(sum(totals))} {unit} in total."
    return Chart(
        svg=_svg(chart_id, title, summary, body, "bars"),
        table=data_table(labels, series, caption=title, heading=heading),
        summary=summary,
    )


def share_chart(
    chart_id: str,
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    summary: str = "",
    heading: str = "Day",
) -> Chart:
    """100% stacked bars: each label's share of every series (days without data stay empty)."""
    canvas = _Canvas(labels, 100.0)
    body = canvas.frame(lambda v: f"{v:.0f}%")
    width = canvas.band * 0.7
    any_data = False
    for i, label in enumerate(labels):
        total = sum(s.values[i] or 0 for s in series)
        if not total:
            continue
        any_data = True
        base = 0.0
        for s in series:
            count = s.values[i] or 0
            if not count:
                continue
            share = 100.0 * count / total
            top, bottom = canvas.y(base + share), canvas.y(base)
            base += share
            body.append(
                Markup(
                    '<rect class="bar s-{key}" x="{x}" y="{y}" width="{width}" height="{height}" '
                    'data-series="{key}" data-label="{label}" data-value="{value}" '
                    'data-share="{share:.1f}">'
                    "<title>{label}: {name} {share:.1f}% ({number})</title></rect>"
                ).format(
                    key=s.key,
                    x=_fmt(canvas.center(i) - width / 2),
                    y=_fmt(top),
                    width=_fmt(width),
                    height=_fmt(max(bottom - top, 0.5)),
                    label=label,
                    value=_fmt(count),
                    share=share,
                    name=s.name,
                    number=_number(count),
                )
            )
    body += _empty_note(canvas, not any_data)
    grand = {s.name: sum(v or 0 for v in s.values) for s in series}
    everything = sum(grand.values())
    summary = summary or (
        "Over the period: "
        + ", ".join(f"{name} {100 * n / everything:.1f}%" for name, n in grand.items())
        + "."
        if everything
        else "No checks in this period."
    )
    return Chart(
        svg=_svg(chart_id, title, summary, body, "shares"),
        table=data_table(labels, series, caption=title, heading=heading),
        summary=summary,
    )


def line_chart(
    chart_id: str,
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    summary: str = "",
    heading: str = "Day",
) -> Chart:
    """Lines through the points of each series; a missing value breaks the line."""
    values = [v for s in series for v in s.values if v is not None]
    highest = max(values, default=0.0)
    canvas = _Canvas(labels, nice_ceiling(highest))
    body = canvas.frame(_number)
    for s in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{_fmt(canvas.center(i))},{_fmt(canvas.y(value))}")
        for run in runs:
            if len(run) > 1:
                body.append(
                    Markup('<polyline class="line s-{}" fill="none" points="{}"/>').format(
                        s.key, " ".join(run)
                    )
                )
        for i, value in enumerate(s.values):
            if value is None:
                continue
            body.append(
                Markup(
                    '<circle class="point s-{key}" cx="{cx}" cy="{cy}" r="3.5" '
                    'data-series="{key}" data-label="{label}" data-value="{value}">'
                    "<title>{label}: {name} {number} {unit}</title></circle>"
                ).format(
                    key=s.key,
                    cx=_fmt(canvas.center(i)),
                    cy=_fmt(canvas.y(value)),
                    label=labels[i],
                    value=_fmt(value),
                    name=s.name,
                    number=_number(value),
                    unit=unit,
                )
            )
    body += _empty_note(canvas, not values)
    summary = summary or (
        f"{title}: highest {_number(highest)} {unit}." if values else "No data in this period."
    )
    return Chart(
        svg=_svg(chart_id, title, summary, body, "lines"),
        table=data_table(labels, series, caption=title, heading=heading),
        summary=summary,
    )
