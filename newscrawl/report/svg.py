"""Small SVG charts for the HTML report: bars (stacked) and lines over a time axis
or over categories, with axes, units, a legend and a tooltip (``<title>``) on every
mark. Pure functions returning SVG text: nothing is loaded from anywhere, so the
report renders opened from disk.

Every data mark has the class ``mark`` and ``data-series``/``data-value``
attributes (the tests count them per chart); decorations (axes, grid, legend) do not.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

# A palette that stays apart for the colour-blind (Okabe-Ito), then greys.
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999999",
    "#666666",
)
FAIL_COLOR = "#c0182a"
WARN_COLOR = "#e08a00"

_MARGIN_LEFT = 64
_MARGIN_RIGHT = 16
_MARGIN_TOP = 42
_MARGIN_BOTTOM = 46


@dataclass
class Series:
    """One named row of values, one value a point of the x axis (None: no value)."""

    name: str
    values: Sequence[float | None]
    color: str
    kind: str = "bar"  # "bar" (stacked with the other bars) or "line"
    dashed: bool = False
    # Tooltip text a point, when more than "name: value" is worth saying.
    notes: Sequence[str] | None = None


@dataclass
class Marker:
    """A point of the x axis that stands out (a failed run): a line across the plot."""

    index: int
    label: str
    color: str = FAIL_COLOR


@dataclass
class Band:
    """A zone under a line (the layout verdict's floor): filled from 0 up to it."""

    name: str
    values: Sequence[float | None]
    color: str = FAIL_COLOR


@dataclass
class XAxis:
    """Times (aware datetimes) or category labels; ``title`` names the axis."""

    title: str
    times: Sequence[datetime] | None = None
    labels: Sequence[str] | None = None
    point_labels: Sequence[str] = field(default_factory=list)  # for tooltips

    def __len__(self) -> int:
        if self.times is not None:
            return len(self.times)
        return len(self.labels or ())


def nice_step(span: float, target: int = 5, *, integer: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) dividing ``span`` in about ``target`` parts;
    a whole number (1, 2 or 5 × 10ⁿ) when ``integer``."""
    if span <= 0:
        return 1.0
    raw = span / target
    if integer and raw < 1:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def fmt_number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


# Steps of a time axis, seconds, and how a tick at that step is labelled.
_TIME_STEPS: tuple[tuple[int, str], ...] = (
    (1, "%H:%M:%S"),
    (2, "%H:%M:%S"),
    (5, "%H:%M:%S"),
    (10, "%H:%M:%S"),
    (15, "%H:%M:%S"),
    (30, "%H:%M:%S"),
    (60, "%H:%M"),
    (120, "%H:%M"),
    (300, "%H:%M"),
    (600, "%H:%M"),
    (900, "%H:%M"),
    (1800, "%H:%M"),
    (3600, "%m-%d %H:%M"),
    (2 * 3600, "%m-%d %H:%M"),
    (3 * 3600, "%m-%d %H:%M"),
    (6 * 3600, "%m-%d %H:%M"),
    (12 * 3600, "%m-%d %H:%M"),
    (86400, "%Y-%m-%d"),
    (2 * 86400, "%Y-%m-%d"),
    (7 * 86400, "%Y-%m-%d"),
    (14 * 86400, "%Y-%m-%d"),
    (28 * 86400, "%Y-%m-%d"),
    (91 * 86400, "%Y-%m-%d"),
    (182 * 86400, "%Y-%m-%d"),
    (364 * 86400, "%Y-%m-%d"),
)


def time_ticks(start: float, end: float, target: int = 6) -> list[tuple[float, str]]:
    """Ticks (epoch seconds, label in Asia/Shanghai) at round local times."""
    span = max(end - start, 1.0)
    step, fmt = next(
        ((s, f) for s, f in _TIME_STEPS if span / s <= target), (_TIME_STEPS[-1][0], "%Y-%m-%d")
    )
    local = datetime.fromtimestamp(start, TZ)
    if step < 86400:
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        offset = (local - midnight).total_seconds()
        first = midnight + timedelta(seconds=math.ceil(offset / step) * step)
    else:
        days = step // 86400
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if first < local:
            first += timedelta(days=1)
        if days >= 7:  # weeks start on Monday
            first += timedelta(days=(7 - first.weekday()) % 7)
    ticks = []
    t = first
    while t.timestamp() <= end + 1e-6:
        ticks.append((t.timestamp(), t.strftime(fmt)))
        t += timedelta(seconds=step)
    if fmt.startswith("%H"):
        # The date where the axis starts and wherever it crosses midnight.
        dated, day_before = [], ""
        for ts, label in ticks:
            day = datetime.fromtimestamp(ts, TZ).strftime("%m-%d")
            dated.append((ts, f"{day} {label}" if day != day_before else label))
            day_before = day
        ticks = dated
    return ticks


def _legend(entries: Sequence[tuple[str, str, str]], width: int, x_min: float) -> list[str]:
    """Legend entries (name, color, shape) above the plot, right-aligned, in one row
    beside the title if they fit there (right of ``x_min``), else in a row under it."""
    widths = [6.6 * len(name) + 30 for name, _, _ in entries]
    y = 14 if width - _MARGIN_RIGHT - sum(widths) > x_min else 30
    out = []
    x = float(width - _MARGIN_RIGHT)
    for name, color, shape in reversed(entries):
        x -= 6.6 * len(name)
        out.append(f'<text x="{x:.1f}" y="{y}" class="legend">{escape(name)}</text>')
        x -= 16
        if shape in ("line", "dash"):
            dash = ' stroke-dasharray="3 2"' if shape == "dash" else ""
            out.append(
                f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 12:.1f}" y2="{y - 4}"'
                f' stroke="{color}" stroke-width="2.5"{dash}/>'
            )
        else:
            opacity = ' fill-opacity="0.18"' if shape == "zone" else ""
            out.append(
                f'<rect x="{x:.1f}" y="{y - 10}" width="12" height="12" fill="{color}"{opacity}/>'
            )
        x -= 14
    return out


def chart(
    chart_id: str,
    x: XAxis,
    series: Sequence[Series],
    *,
    y_title: str,
    y_format: Callable[[float], str] = fmt_number,
    y_max: float | None = None,
    integer: bool = False,
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    width: int = 920,
    height: int = 260,
    title: str = "",
) -> str:
    """An SVG chart: stacked bars and lines over ``x``, with axes and a legend."""
    n = len(x)
    plot_w = width - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = height - _MARGIN_TOP - _MARGIN_BOTTOM
    left, top, bottom = _MARGIN_LEFT, _MARGIN_TOP, _MARGIN_TOP + plot_h

    # x positions (pixels) of each point, and the room a bar has.
    if x.times is not None:
        stamps = [t.timestamp() for t in x.times]
        t0, t1 = (min(stamps), max(stamps)) if stamps else (0.0, 1.0)
        pad = max((t1 - t0) * 0.03, 1.0)
        t0, t1 = t0 - pad, t1 + pad

        def px(ts: float) -> float:
            return left + (ts - t0) / (t1 - t0) * plot_w

        xs = [px(ts) for ts in stamps]
        gaps = [b - a for a, b in itertools.pairwise(xs) if b - a > 0]
        slot = min([*gaps, plot_w / max(n, 1), 40.0]) if gaps else min(plot_w / 3, 40.0)
        xticks = [
            (px(ts), label) for ts, label in time_ticks(t0, t1) if left <= px(ts) <= left + plot_w
        ]
    else:
        slot = plot_w / max(n, 1)
        xs = [left + slot * (i + 0.5) for i in range(n)]
        slot = min(slot, 64.0)
        labels = list(x.labels or ())
        every = max(1, math.ceil(n / max(plot_w // 70, 1)))
        xticks = [(xs[i], labels[i]) for i in range(0, n, every)]
    bar_w = max(1.5, slot * 0.72)

    bars = [s for s in series if s.kind == "bar"]
    lines = [s for s in series if s.kind == "line"]
    stack_tops = [sum(max(s.values[i] or 0.0, 0.0) for s in bars) for i in range(n)] or [0.0]
    line_max = [v for s in lines for v in s.values if v is not None]
    band_max = [v for b in bands for v in b.values if v is not None]
    top_value = y_max if y_max is not None else max([*stack_tops, *line_max, *band_max, 0.0])
    step = nice_step(top_value or 1.0, integer=integer)
    y_top = y_max if y_max is not None else max(step * math.ceil((top_value or 1.0) / step), step)

    def py(value: float) -> float:
        return bottom - value / y_top * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="{escape(title or y_title)}">'
    ]
    # Grid and y axis.
    value = 0.0
    while value <= y_top + 1e-9:
        y = py(value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{escape(y_format(value))}</text>"
        )
        value += step
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" class="axis-title"'
        f' text-anchor="middle">{escape(y_title)}</text>'
    )
    # x axis.
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" class="axis"/>')
    for xp, label in xticks:
        out.append(
            f'<line x1="{xp:.1f}" y1="{bottom}" x2="{xp:.1f}" y2="{bottom + 4}" class="axis"/>'
        )
        out.append(
            f'<text x="{xp:.1f}" y="{bottom + 16}" class="tick" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" class="axis-title"'
        f' text-anchor="middle">{escape(x.title)}</text>'
    )
    point = (
        list(x.point_labels)
        or [
            (t.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S") if x.times is not None else "")
            for t in (x.times or [])
        ]
        or list(x.labels or ())
    )

    # Zones under a floor, one polygon a stretch of points that have one.
    for band in bands:
        stretches: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(band.values):
            if v is None:
                if stretches[-1]:
                    stretches.append([])
            else:
                stretches[-1].append((xs[i], float(v)))
        for pts in stretches:
            if not pts:
                continue
            half = bar_w / 2 if len(pts) == 1 else 0.0
            poly: list[tuple[float, float]] = [(pts[0][0] - half, float(bottom))]
            for xp, v in pts:
                poly += [(xp - half, py(v)), (xp + half, py(v))] if half else [(xp, py(v))]
            poly.append((pts[-1][0] + half, float(bottom)))
            coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in poly)
            out.append(
                f'<polygon points="{coords}" fill="{band.color}" fill-opacity="0.12" class="band"/>'
            )
            edge = " ".join(f"{a:.1f},{b:.1f}" for a, b in poly[1:-1])
            out.append(
                f'<polyline points="{edge}" fill="none" stroke="{band.color}"'
                ' stroke-width="1.2" stroke-dasharray="4 3" class="band"/>'
            )

    # Markers (failed runs): a line across the plot, a cross on top.
    for m in markers:
        xp = xs[m.index]
        out.append(
            f'<g class="mark marker" data-series="failed" data-value="{m.index}">'
            f"<title>{escape(m.label)}</title>"
            f'<rect x="{xp - max(bar_w / 2, 3):.1f}" y="{top}" width="{max(bar_w, 6):.1f}"'
            f' height="{plot_h}" fill="{m.color}" fill-opacity="0.10"/>'
            f'<line x1="{xp:.1f}" y1="{top}" x2="{xp:.1f}" y2="{bottom}" stroke="{m.color}"'
            ' stroke-width="1.5" stroke-dasharray="3 2"/>'
            f'<text x="{xp:.1f}" y="{top - 3}" text-anchor="middle" fill="{m.color}"'
            ' class="marker-label">✕</text></g>'
        )

    # Stacked bars.
    base = [0.0] * n
    for s in bars:
        for i, raw in enumerate(s.values):
            if raw is None or raw <= 0:
                continue
            v = float(raw)
            y0, y1 = py(base[i]), py(base[i] + v)
            base[i] += v
            note = s.notes[i] if s.notes else ""
            tip = f"{point[i]} — {s.name}: {fmt_number(v)}{(' — ' + note) if note else ''}"
            out.append(
                f'<rect class="mark" data-series="{escape(s.name)}" data-value="{v:g}"'
                f' x="{xs[i] - bar_w / 2:.1f}" y="{y1:.1f}" width="{bar_w:.1f}"'
                f' height="{max(y0 - y1, 0.8):.1f}" fill="{s.color}">'
                f"<title>{escape(tip)}</title></rect>"
            )

    # Lines, with a dot a point (dots dropped past 400 points: the line carries them).
    for s in lines:
        dots = [(i, xs[i], float(v)) for i, v in enumerate(s.values) if v is not None]
        if not dots:
            continue
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{xp:.1f},{py(v):.1f}" for k, (_, xp, v) in enumerate(dots)
        )
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(
            f'<path d="{path}" fill="none" stroke="{s.color}" stroke-width="2"{dash}'
            f' class="line" data-series="{escape(s.name)}" data-points="{len(dots)}"/>'
        )
        if len(dots) <= 400:
            for i, xp, v in dots:
                note = s.notes[i] if s.notes else ""
                tip = f"{point[i]} — {s.name}: {y_format(v)}"
                tip += f" — {note}" if note else ""
                out.append(
                    f'<circle class="mark" data-series="{escape(s.name)}" data-value="{v:g}"'
                    f' cx="{xp:.1f}" cy="{py(v):.1f}" r="3.2" fill="{s.color}">'
                    f"<title>{escape(tip)}</title></circle>"
                )

    legend = [
        (
            s.name,
            s.color,
            "line" if s.kind == "line" and not s.dashed else "dash" if s.kind == "line" else "box",
        )
        for s in series
    ]
    legend += [(b.name, b.color, "zone") for b in bands]
    if markers:
        legend.append(("failed run", FAIL_COLOR, "box"))
    if title:
        out.append(f'<text x="{left}" y="14" class="chart-title">{escape(title)}</text>')
    out += _legend(legend, width, left + 7.5 * len(title) + 12 if title else left)
    out.append("</svg>")
    return "".join(out)


def hbar_chart(
    chart_id: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    x_title: str,
    color: str = PALETTE[0],
    width: int = 920,
) -> str:
    """Horizontal bars, one a label (counts by reason)."""
    row_h = 24
    label_w = 320
    height = 30 + row_h * len(labels) + 30
    plot_w = width - label_w - 60
    top_value = max([*values, 1.0])
    step = nice_step(top_value, integer=True)
    x_top = max(step * math.ceil(top_value / step), step)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="{escape(x_title)}">'
    ]
    bottom = 20 + row_h * len(labels)
    value = 0.0
    while value <= x_top + 1e-9:
        xp = label_w + value / x_top * plot_w
        out.append(f'<line x1="{xp:.1f}" y1="14" x2="{xp:.1f}" y2="{bottom}" class="grid"/>')
        out.append(
            f'<text x="{xp:.1f}" y="{bottom + 14}" class="tick" text-anchor="middle">'
            f"{fmt_number(value)}</text>"
        )
        value += step
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = 20 + row_h * i
        shown = label if len(label) <= 48 else label[:47] + "…"
        out.append(
            f'<text x="{label_w - 8}" y="{y + 15}" class="tick" text-anchor="end">'
            f"{escape(shown)}</text>"
        )
        out.append(
            f'<rect class="mark" data-series="{escape(label)}" data-value="{v:g}"'
            f' x="{label_w}" y="{y + 3}" width="{max(v / x_top * plot_w, 1):.1f}"'
            f' height="{row_h - 8}" fill="{color}"><title>{escape(label)}: {fmt_number(v)}'
            "</title></rect>"
        )
    out.append(
        f'<text x="{label_w + plot_w / 2:.0f}" y="{height - 4}" class="axis-title"'
        f' text-anchor="middle">{escape(x_title)}</text>'
    )
    out.append("</svg>")
    return "".join(out)
