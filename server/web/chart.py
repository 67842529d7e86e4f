"""The dashboard's chart of the month as an inline SVG drawn on the server: per day, a bar of meals
ordered and a bar of meals given, days labelled dd.mm, a scale of meals on the left."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from server.office.today import DayTotals

HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 52  # margins: the scale, the legend, the rotated day labels
SLOT_MIN, SLOT_MAX, PLOT_WIDTH = 30, 60, 600  # width per day: wider while the month is young
MIN_WIDTH = 320  # room for the legend
ORDERED_FILL, SERVED_FILL = "#a9c6ea", "#1f5fa8"


def _step(top: int) -> int:
    """A round step for about four lines of the scale."""
    raw = max(1, top / 4)
    power = int(10 ** math.floor(math.log10(raw)))
    return next(power * m for m in (1, 2, 5, 10) if power * m >= raw)


def month_svg(days: Sequence[DayTotals], title: str) -> Markup:
    """The chart; an empty month gives a sentence instead."""
    if not days:
        return Markup("<p>В этом месяце ещё не было учебных дней.</p>")
    peak = max(max(d.ordered, d.served) for d in days)
    step = _step(peak)
    top = step * max(1, math.ceil(peak / step))
    slot = max(SLOT_MIN, min(SLOT_MAX, PLOT_WIDTH // len(days)))
    width = max(MIN_WIDTH, LEFT + RIGHT + slot * len(days))
    plot = HEIGHT - TOP - BOTTOM

    def y(value: int) -> float:
        return TOP + plot - plot * value / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" width="{width}" '
             f'height="{HEIGHT}" role="img" aria-labelledby="chart-title" class="office-chart" '
             f'font-family="system-ui, sans-serif" font-size="11">',
             f'<title id="chart-title">{escape(title)}</title>',
             f'<rect x="{LEFT}" y="8" width="12" height="12" fill="{ORDERED_FILL}"/>'
             f'<text x="{LEFT + 16}" y="18">заказано</text>',
             f'<rect x="{LEFT + 90}" y="8" width="12" height="12" fill="{SERVED_FILL}"/>'
             f'<text x="{LEFT + 106}" y="18">выдано</text>']
    for value in range(0, top + 1, step):
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + slot * len(days)}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#d5dbe3" stroke-width="1"/>'
                     f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value}</text>')
    bar = (slot - 8) / 2
    for n, d in enumerate(days):
        x = LEFT + slot * n + 4
        label = d.day.strftime("%d.%m")
        parts.append(f'<g><title>{label}: заказано {d.ordered}, выдано {d.served}</title>'
                     f'<rect x="{x:.1f}" y="{y(d.ordered):.1f}" width="{bar:.1f}" '
                     f'height="{TOP + plot - y(d.ordered):.1f}" fill="{ORDERED_FILL}"/>'
                     f'<rect x="{x + bar:.1f}" y="{y(d.served):.1f}" width="{bar:.1f}" '
                     f'height="{TOP + plot - y(d.served):.1f}" fill="{SERVED_FILL}"/></g>')
        cx, cy = x + bar, TOP + plot + 12
        parts.append(f'<text x="{cx:.1f}" y="{cy}" text-anchor="end" transform="rotate(-50 {cx:.1f} {cy})">'
                     f'{label}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT + slot * len(days)}" y1="{TOP + plot}" y2="{TOP + plot}" '
                 f'stroke="#555"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
