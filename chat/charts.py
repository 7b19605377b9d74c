"""Bar charts drawn on the server as SVG: the geometry here, the markup in
templates/chat/_bar_chart.svg (escaped by the template engine like any other text).

No chart library: a day-by-day bar chart is a few rectangles. Colours come from CSS classes
(static/chat/charts.css): the Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 520, 200  # drawn at about this size: labels stay legible
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 10, 28  # room for the axis labels, the last one centred

Number = int | float | Decimal


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    css: str  # the series' class: its colour
    title: str  # shown on hover, and read by screen readers


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    segments: list[Segment]
    ticks: list[Tick]
    labels: list[Label]
    baseline: float
    left: int
    right: float
    empty: bool


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = round(step * power, 12)  # 0.1 * 5 is 0.5, not 0.5000000000000001
        if value <= top:
            return top
    return 10 * power  # pragma: no cover (the loop always returns)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Number]]],
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Chart:
    """Stacked bars, one per label. `series` is (css class, name, values), drawn bottom up."""
    n = len(labels)
    totals = [sum(float(values[i]) for _, _, values in series) for i in range(n)]
    top = nice_ceiling(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(n, 1)
    bar_w = max(slot * 0.7, 1.0)
    baseline: float = TOP + plot_h
    segments = []
    for i, label in enumerate(labels):
        y: float = baseline
        x = LEFT + i * slot + (slot - bar_w) / 2
        for css, name, values in series:
            value = float(values[i])
            if value <= 0:
                continue
            h = value / top * plot_h
            y -= h
            segments.append(
                Segment(
                    round(x, 2),
                    round(y, 2),
                    round(bar_w, 2),
                    round(h, 2),
                    css,
                    f"{label} · {name}: {fmt(value)}",
                )
            )
    ticks = [Tick(round(baseline - f * plot_h, 2), fmt(top * f)) for f in (0, 0.5, 1)]
    every = max(1, -(-n // 8))  # at most about 8 labels under the axis
    axis = [
        Label(round(LEFT + i * slot + slot / 2, 2), labels[i])
        for i in range(n)
        if (n - 1 - i) % every == 0
    ]
    return Chart(
        title, WIDTH, HEIGHT, segments, ticks, axis, baseline, LEFT, WIDTH - RIGHT, not any(totals)
    )
