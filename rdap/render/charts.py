"""Charts as SVG, drawn on the server (no script): stacked bars of counts per month and
response times against the SLA. Every label is escaped; the markup is safe to embed."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

# Colour-blind-safe palette (Okabe & Ito), in series order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 36, 84


def _nice_ceiling(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def _frame(title: str, maximum: float, unit: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<text x="{LEFT}" y="20" font-size="15" font-weight="600">{escape(title)}</text>',
    ]
    for i in range(5):
        value = maximum * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{value:g}{escape(unit)}</text>"
        )
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    x, y = LEFT, HEIGHT - 24
    for name, colour in zip(names, itertools.cycle(PALETTE), strict=False):
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="11">{escape(name)}</text>'
        )
        x += 22 + 7 * len(name)
        if x > WIDTH - 120:
            x, y = LEFT, y + 16
    return parts


def _svg(title: str, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(  # noqa: S704 - every text and attribute above is escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label={quoteattr(title)} xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif">{body}</svg>'
    )


def stacked_bars(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]]) -> Markup:
    """One bar per label, stacked by series (counts)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    maximum = _nice_ceiling(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts = _frame(title, maximum, "")
    for i, label in enumerate(labels):
        x = LEFT + slot * i + slot * 0.2
        y = float(TOP + plot_h)
        for (name, values), colour in zip(series.items(), itertools.cycle(PALETTE), strict=False):
            height = plot_h * values[i] / maximum
            if values[i]:
                y -= height
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" '
                    f'height="{height:.1f}" fill="{colour}">'
                    f"<title>{escape(f'{label}, {name}: {values[i]}')}</title></rect>"
                )
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{TOP + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts += _legend(list(series))
    return _svg(title, parts)


def response_times(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    sla_hours: Mapping[str, float],
) -> Markup:
    """Grouped bars of response hours per label and series, each series' SLA as a dashed line."""
    highest = [v for values in series.values() for v in values if v is not None]
    maximum = _nice_ceiling(max([*highest, *sla_hours.values()], default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    width = slot * 0.7 / max(len(series), 1)
    parts = _frame(title, maximum, "h")
    colours = dict(zip(series, itertools.cycle(PALETTE), strict=False))
    for name, hours in sla_hours.items():
        if name in colours:
            y = TOP + plot_h - plot_h * hours / maximum
            parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{colours[name]}" stroke-width="2" stroke-dasharray="6 4">'
                f"<title>{escape(f'SLA {name}: {hours:g} hours')}</title></line>"
            )
    for i, label in enumerate(labels):
        for j, (name, values) in enumerate(series.items()):
            value = values[i]
            if value is None:
                continue
            height = plot_h * value / maximum
            x = LEFT + slot * i + slot * 0.15 + width * j
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="{colours[name]}">'
                f"<title>{escape(f'{label}, {name}: {value:g} hours')}</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + slot * i + slot * 0.5:.1f}" y="{TOP + plot_h + 16}" '
            f'font-size="11" text-anchor="middle">{escape(label)}</text>'
        )
    parts += _legend([*series, *(f"SLA {n} (dashed)" for n in sla_hours if n in colours)])
    return _svg(title, parts)
