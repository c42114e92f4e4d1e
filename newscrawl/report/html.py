"""The report page: one self-contained HTML file (inline CSS and SVG, no script, no
font or image fetched), each chart with a small table of the exact numbers under it.

Charts of per-run measures show one point a run while the period holds at most
``PER_RUN_LIMIT`` runs, and one point a day (Asia/Shanghai) beyond: the tables
follow the same choice, and failed runs are always listed one by one.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from newscrawl.report.data import (
    COVERAGE_FIELDS,
    ReportData,
    RunRow,
    drop_category,
    local_day,
    percentile,
)
from newscrawl.report.svg import (
    FAIL_COLOR,
    PALETTE,
    TZ,
    WARN_COLOR,
    Band,
    Marker,
    Series,
    XAxis,
    chart,
    fmt_number,
    hbar_chart,
)
from newscrawl.verdict import (
    COVERAGE_COLLAPSE_RATIO,
    HISTORY_RUNS,
    MIN_ARTICLES_FOR_COVERAGE,
    WATCHED_FIELDS,
)

PER_RUN_LIMIT = 400
FAILED_RUNS_SHOWN = 500
PAGES_SHOWN = 25
GIVEN_UP_SHOWN = 500
# Colour families of the drop reasons.
CATEGORY_COLORS = {
    "duplicate": ("#0072b2", "#56b4e9", "#8fc8ee", "#1b4f72", "#3a8fd0"),
    "spam": ("#cc79a7",),
    "validation": ("#e69f00", "#f0c040", "#b07800", "#ffcf66", "#8a5d00", "#d4a017"),
    "schema": ("#d55e00",),
    "other": ("#999999", "#666666", "#bbbbbb"),
}

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1d2430;
  margin: 0; background: #f4f5f7; }
main { max-width: 960px; margin: 0 auto; padding: 16px 20px 40px; background: #fff; }
h1 { font-size: 22px; margin: 4px 0 2px; }
h2 { font-size: 17px; margin: 30px 0 4px; border-top: 1px solid #dde1e6; padding-top: 14px; }
h3 { font-size: 14px; margin: 14px 0 2px; }
p.lead, p.note, figcaption { color: #4a5563; margin: 2px 0 8px; }
p.note { font-size: 12.5px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.card b { display: block; font-size: 18px; }
.card.bad { border-color: #c0182a; background: #fdf0f1; }
.card.bad b { color: #c0182a; }
figure { margin: 8px 0 4px; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg .grid { stroke: #e6e9ed; stroke-width: 1; }
svg .axis { stroke: #6b7480; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #4a5563; }
svg .axis-title { font-size: 11.5px; fill: #1d2430; }
svg .legend { font-size: 11.5px; fill: #1d2430; }
svg .chart-title { font-size: 12.5px; font-weight: bold; fill: #1d2430; }
svg .marker-label { font-size: 12px; font-weight: bold; }
.smalls { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; }
.scroll { max-height: 230px; overflow: auto; border: 1px solid #e6e9ed; margin: 4px 0 6px; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { padding: 2px 6px; border-bottom: 1px solid #eef0f3; text-align: right;
  white-space: nowrap; }
th { position: sticky; top: 0; background: #f7f8fa; font-weight: 600; }
td.text, th.text { text-align: left; white-space: normal; }
tr.failed td { background: #fdf0f1; color: #8c0f1d; }
tr.failed td.verdict { font-weight: bold; }
tr.warn td { background: #fff6e6; }
td.low { color: #c0182a; font-weight: bold; }
.empty { color: #6b7480; font-style: italic; border: 1px dashed #ccd1d8; padding: 14px; }
code { font-size: 12px; }
"""


@dataclass
class Bucket:
    """A point of the per-run charts: one run, or the runs of one day."""

    label: str
    time: datetime
    runs: list[RunRow]

    def total(self, value: Callable[[RunRow], float | int | None]) -> float | None:
        values = [value(r) for r in self.runs]
        known = [v for v in values if v is not None]
        return float(sum(known)) if known else None

    @property
    def failed(self) -> list[RunRow]:
        return [r for r in self.runs if r.failed]


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return moment.astimezone(TZ).strftime(fmt) if moment else "—"


def _n(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    if digits:
        return f"{value:,.{digits}f}"
    return fmt_number(float(value))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def buckets(runs: Sequence[RunRow]) -> tuple[list[Bucket], bool]:
    """One bucket a run, or one a day past ``PER_RUN_LIMIT`` runs; True when per run."""
    if len(runs) <= PER_RUN_LIMIT:
        return [Bucket(_local(r.started), r.started, [r]) for r in runs], True
    grouped: dict[date, list[RunRow]] = {}
    for r in runs:
        grouped.setdefault(local_day(r.started), []).append(r)
    days = _days(min(grouped), max(grouped))
    return [
        Bucket(
            d.isoformat(),
            datetime(d.year, d.month, d.day, 12, tzinfo=TZ),
            grouped.get(d, []),
        )
        for d in days
    ], False


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    classes: Sequence[str] = (),
    text_cols: Sequence[int] = (0,),
    row_classes: Sequence[str] | None = None,
) -> str:
    head = "".join(
        f'<th class="{"text" if i in text_cols else ""}">{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for k, row in enumerate(rows):
        cls = row_classes[k] if row_classes and k < len(row_classes) else ""
        cells = "".join(
            f'<td class="{"text" if i in text_cols else ""}'
            f'{(" " + classes[i]) if i < len(classes) and classes[i] else ""}">{cell}</td>'
            for i, cell in enumerate(row)
        )
        body.append(f'<tr class="{cls}">{cells}</tr>')
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figure(name: str, svg: str | None, caption: str, empty: str) -> str:
    if svg is None:
        return (
            f'<figure data-chart="{name}" data-empty="1">'
            f'<p class="empty">{escape(empty)}</p></figure>'
        )
    return f'<figure data-chart="{name}">{svg}<figcaption>{caption}</figcaption></figure>'


def _x_axis(bs: Sequence[Bucket], per_run: bool) -> XAxis:
    if per_run:
        return XAxis(
            "run start (Asia/Shanghai)",
            times=[b.time for b in bs],
            point_labels=[f"{b.label} {b.runs[0].run_id}" for b in bs],
        )
    return XAxis("day (Asia/Shanghai)", labels=[b.label for b in bs])


def _failure_markers(bs: Sequence[Bucket]) -> list[Marker]:
    markers = []
    for i, b in enumerate(bs):
        failed = b.failed
        if failed:
            label = "; ".join(
                f"{_local(r.started, '%H:%M:%S')} {r.status}"
                f"{f' (exit {r.exit_code})' if r.exit_code is not None else ''}: {r.reason or '—'}"
                for r in failed[:5]
            )
            if len(failed) > 5:
                label += f"; and {len(failed) - 5} more"
            markers.append(Marker(i, f"{b.label}: {len(failed)} failed — {label}"))
    return markers


def _verdict(r: RunRow) -> str:
    code = f" (exit {r.exit_code})" if r.exit_code is not None else ""
    return f"{r.status}{code}"


# -- sections of the page --------------------------------------------------------


def runs_section(data: ReportData) -> str:
    bs, per_run = buckets(data.runs)
    if not bs:
        return (
            "<h2>Runs over time</h2>"
            + _figure("runs-stories", None, "", "No run in this period.")
            + _figure("runs-requests", None, "", "No run in this period.")
            + _figure("runs-duration", None, "", "No run in this period.")
        )
    x = _x_axis(bs, per_run)
    markers = _failure_markers(bs)
    new = [b.total(lambda r: r.items - r.corrections if not r.failed else None) for b in bs]
    corr = [b.total(lambda r: r.corrections if not r.failed else None) for b in bs]
    withdrawn = [b.total(lambda r: r.withdrawals if not r.failed else None) for b in bs]
    requests = [b.total(lambda r: r.requests) for b in bs]
    duration = [
        max((r.duration for r in b.runs if r.duration is not None), default=None) for b in bs
    ]
    unit = "a run" if per_run else "a day"
    out = [
        "<h2>Runs over time</h2>",
        f'<p class="lead">{len(data.runs)} runs, one point {unit}. Failed runs are red'
        " (hover for the reason); a failed run delivers nothing.</p>",
    ]
    svg = chart(
        "chart-runs-stories",
        x,
        [
            Series("new stories", new, PALETTE[0]),
            Series("corrections", corr, PALETTE[1]),
            Series("withdrawals", withdrawn, PALETTE[3]),
        ],
        y_title=f"stories delivered ({unit})",
        integer=True,
        markers=markers,
        title="Stories delivered",
    )
    out.append(
        _figure(
            "runs-stories",
            svg,
            "New stories, corrections (a later version of a story)"
            " and withdrawals delivered, from the manifests.",
            "",
        )
    )
    out.append(
        _figure(
            "runs-requests",
            chart(
                "chart-runs-requests",
                x,
                [Series("requests", requests, PALETTE[2])],
                y_title=f"requests ({unit})",
                integer=True,
                markers=markers,
                height=200,
                title="Requests",
            ),
            "HTTP requests sent (Scrapy's downloader/request_count), retries included.",
            "",
        )
    )
    out.append(
        _figure(
            "runs-duration",
            chart(
                "chart-runs-duration",
                x,
                [Series("duration" if per_run else "longest run", duration, PALETTE[4])],
                y_title="seconds",
                markers=markers,
                height=200,
                title="Duration",
            ),
            "From the run's start to its manifest"
            + ("" if per_run else "; the day's longest run")
            + ".",
            "",
        )
    )
    if per_run:
        rows = [
            [
                escape(_local(r.started)),
                escape(r.run_id),
                escape(_verdict(r)),
                escape(r.reason or ""),
                _n(None if r.failed else r.items - r.corrections),
                _n(None if r.failed else r.corrections),
                _n(None if r.failed else r.withdrawals),
                _n(r.requests),
                _n(r.duration, 1) if r.duration is not None else "—",
            ]
            for r in reversed(data.runs)
        ]
        out.append(
            _table(
                [
                    "started (Asia/Shanghai)",
                    "run",
                    "verdict",
                    "reason",
                    "new",
                    "corrections",
                    "withdrawals",
                    "requests",
                    "seconds",
                ],
                rows,
                text_cols=(0, 1, 2, 3),
                classes=["", "", "verdict"],
                row_classes=["failed" if r.failed else "" for r in reversed(data.runs)],
            )
        )
    else:
        rows = [
            [
                b.label,
                _n(len(b.runs)),
                _n(len(b.failed)),
                _n(new[i]),
                _n(corr[i]),
                _n(withdrawn[i]),
                _n(requests[i]),
                _n(duration[i], 1) if duration[i] else "—",
            ]
            for i, b in reversed(list(enumerate(bs)))
        ]
        out.append(
            _table(
                [
                    "day",
                    "runs",
                    "failed",
                    "new",
                    "corrections",
                    "withdrawals",
                    "requests",
                    "longest s",
                ],
                rows,
                row_classes=["failed" if b.failed else "" for b in reversed(bs)],
            )
        )
    failed = [r for r in data.runs if r.failed]
    out.append(f"<h3>Failed runs ({len(failed)})</h3>")
    if failed:
        shown = list(reversed(failed))[:FAILED_RUNS_SHOWN]
        out.append(
            _table(
                ["started (Asia/Shanghai)", "run", "verdict", "reason"],
                [
                    [
                        escape(_local(r.started)),
                        escape(r.run_id),
                        escape(_verdict(r)),
                        escape(r.reason or "(no reason recorded: killed?)"),
                    ]
                    for r in shown
                ],
                text_cols=(0, 1, 2, 3),
                row_classes=["failed"] * len(shown),
            )
        )
        if len(failed) > len(shown):
            out.append(f'<p class="note">The {len(failed) - len(shown)} oldest are not listed.</p>')
    else:
        out.append('<p class="note">None in this period.</p>')
    return "".join(out)


def _item_days(data: ReportData) -> list[tuple[date, RunRow]]:
    return [(r.delivered_day, r) for r in data.runs if r.item_summary is not None]


def sections_section(data: ReportData) -> str:
    out = [
        "<h2>Stories per section per day</h2>",
        '<p class="lead">Items of complete manifests by their <code>section</code>,'
        " on the day they were delivered (Asia/Shanghai).</p>",
    ]
    per_day: dict[date, Counter[str]] = {}
    for day, r in _item_days(data):
        assert r.item_summary is not None
        per_day.setdefault(day, Counter()).update(r.item_summary.by_section)
    totals: Counter[str] = Counter()
    for c in per_day.values():
        totals.update(c)
    if not totals:
        out.append(_figure("sections", None, "", "No story delivered in this period."))
        return "".join(out)
    days = _days(min(per_day), max(per_day))
    sections = [s for s, _ in totals.most_common()]
    colors = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(sections)}
    series = [
        Series(s, [float(per_day.get(d, Counter())[s]) or None for d in days], colors[s])
        for s in sections
    ]
    svg = chart(
        "chart-sections",
        XAxis("day delivered (Asia/Shanghai)", labels=[d.isoformat() for d in days]),
        series,
        y_title="stories a day",
        integer=True,
        title="Stories per section",
    )
    out.append(_figure("sections", svg, "Corrections count in their section too.", ""))
    rows = [
        [
            d.isoformat(),
            *[_n(per_day.get(d, Counter())[s]) for s in sections],
            _n(sum(per_day.get(d, Counter()).values())),
        ]
        for d in reversed(days)
    ]
    out.append(_table(["day", *sections, "total"], rows))
    return "".join(out)


def freshness_section(data: ReportData) -> str:
    out = [
        "<h2>Freshness</h2>",
        '<p class="lead">Hours from a story\'s <code>published</code> time to its delivery'
        " (the manifest's <code>finished_at</code>), first versions only, median and 95th"
        " percentile per day of delivery (Asia/Shanghai).</p>",
    ]
    hours: dict[date, list[float]] = {}
    for day, r in _item_days(data):
        assert r.item_summary is not None
        if r.item_summary.freshness_hours:
            hours.setdefault(day, []).extend(r.item_summary.freshness_hours)
    if not hours:
        out.append(_figure("freshness", None, "", "No story delivered in this period."))
        return "".join(out)
    days = _days(min(hours), max(hours))
    med = [percentile(hours[d], 0.5) if d in hours else None for d in days]
    p95 = [percentile(hours[d], 0.95) if d in hours else None for d in days]
    svg = chart(
        "chart-freshness",
        XAxis("day delivered (Asia/Shanghai)", labels=[d.isoformat() for d in days]),
        [
            Series("median", med, PALETTE[0], kind="line"),
            Series("95th percentile", p95, PALETTE[5], kind="line", dashed=True),
        ],
        y_title="hours from publication",
        title="Publication to delivery",
    )
    out.append(
        _figure(
            "freshness",
            svg,
            "A backfill or a first run over an old archive delivers old stories: high"
            " values then say nothing of the crawl's delay.",
            "",
        )
    )
    rows = [
        [
            d.isoformat(),
            _n(len(hours.get(d, []))),
            _n(med[i], 1) if med[i] is not None else "—",
            _n(p95[i], 1) if p95[i] is not None else "—",
        ]
        for i, d in reversed(list(enumerate(days)))
    ]
    out.append(_table(["day", "stories", "median h", "95th percentile h"], rows))
    return "".join(out)


def drops_section(data: ReportData) -> str:
    out = [
        "<h2>Drops by reason</h2>",
        '<p class="lead">Items dropped before output (<code>stats.dropped_by_reason</code>):'
        " duplicates by kind, spam pages, pages that failed validation, items the schema"
        " refused.</p>",
    ]
    bs, per_run = buckets(data.runs)
    reasons: Counter[str] = Counter()
    for r in data.runs:
        reasons.update(r.dropped)
    if not reasons:
        out.append(_figure("drops", None, "", "No item was dropped in this period."))
        return "".join(out)
    order = sorted(reasons, key=lambda k: (list(CATEGORY_COLORS).index(drop_category(k)), k))
    used: Counter[str] = Counter()
    series = []
    for reason in order:
        family = CATEGORY_COLORS[drop_category(reason)]
        color = family[used[drop_category(reason)] % len(family)]
        used[drop_category(reason)] += 1
        values = [_dropped(b, reason) for b in bs]
        series.append(Series(f"{reason} ({drop_category(reason)})", values, color))
    svg = chart(
        "chart-drops",
        _x_axis(bs, per_run),
        series,
        y_title="items dropped" + (" a run" if per_run else " a day"),
        integer=True,
        title="Drops",
        height=280,
    )
    out.append(
        _figure("drops", svg, "Blue: duplicates; pink: spam; amber: validation; red: schema.", "")
    )
    rows = [[escape(b.label), *[_n(_dropped(b, k) or 0) for k in order]] for b in reversed(bs)]
    out.append(_table(["run start" if per_run else "day", *order], rows))
    return "".join(out)


def _dropped(b: Bucket, reason: str) -> float | None:
    return b.total(lambda r: r.dropped.get(reason))


def _coverage_note(run: RunRow, name: str) -> str:
    floor = run.floor.get(name)
    if floor is not None:
        return f"{run.run_id}, {run.articles_parsed} articles, floor {_pct(floor)}"
    if run.articles_parsed < MIN_ARTICLES_FOR_COVERAGE:
        return f"{run.run_id}, {run.articles_parsed} articles: too few to judge"
    return f"{run.run_id}, {run.articles_parsed} articles, no earlier run to judge by"


def coverage_section(data: ReportData) -> str:
    out = [
        "<h2>Field coverage</h2>",
        '<p class="lead">Share of articles with each field, per run. Title, published,'
        " editor and body come from the run's metrics (share of parsed articles, as the"
        " verdict judges them); source and images are computed from the delivered items."
        f" The red zone lies under the layout verdict's floor: {COVERAGE_COLLAPSE_RATIO:g}"
        f" × the median of the {HISTORY_RUNS} complete runs before. A watched field"
        f" ({', '.join(WATCHED_FIELDS)}) under it fails the run (exit 7); source and"
        " images are not judged, their floor is drawn the same way for reference. A run"
        f" of fewer than {MIN_ARTICLES_FOR_COVERAGE} articles is not judged on coverage.</p>",
    ]
    bs, per_run = buckets(data.runs)
    if not any(v is not None for r in data.runs for v in r.coverage.values()):
        out.append(
            "".join(
                _figure(f"coverage-{f}", None, "", "No run parsed articles in this period.")
                for f in COVERAGE_FIELDS
            )
        )
        return "".join(out)

    def worst(b: Bucket, name: str) -> RunRow | None:
        having = [r for r in b.runs if r.coverage.get(name) is not None]
        return min(having, key=lambda r: r.coverage[name] or 0.0) if having else None

    markers = _failure_markers(bs)
    out.append('<div class="smalls">')
    for i, name in enumerate(COVERAGE_FIELDS):
        picks = [worst(b, name) for b in bs]
        values = [p.coverage.get(name) if p else None for p in picks]
        floors = [p.floor.get(name) if p else None for p in picks]
        notes = [_coverage_note(p, name) if p else "" for p in picks]
        svg = chart(
            f"chart-coverage-{name}",
            _x_axis(bs, per_run),
            [
                Series(
                    name,
                    [v * 100 if v is not None else None for v in values],
                    PALETTE[i % 6],
                    kind="line",
                    notes=notes,
                )
            ],
            bands=[Band("below floor", [f * 100 if f is not None else None for f in floors])],
            y_title="% of articles",
            y_format=lambda v: f"{v:.0f}%",
            y_max=100.0,
            markers=markers,
            width=450,
            height=200,
            title=name + ("" if name in WATCHED_FIELDS else " (not judged)"),
        )
        out.append(_figure(f"coverage-{name}", svg, "", ""))
    out.append("</div>")
    if not per_run:
        out.append('<p class="note">One point a day: the day\'s lowest run.</p>')
    rows = []
    row_classes = []
    for b in reversed(bs):
        cells = [escape(b.label)]
        low = False
        for name in COVERAGE_FIELDS:
            p = worst(b, name)
            v = p.coverage.get(name) if p else None
            f = p.floor.get(name) if p else None
            below = v is not None and f is not None and v < f
            low = low or below
            cells.append(
                f'<span class="{"low" if below else ""}">{_pct(v)}</span>'
                + (f" <small>floor {_pct(f)}</small>" if f is not None else "")
            )
        rows.append(cells)
        row_classes.append("warn" if low else "")
    out.append(
        _table(
            ["run start" if per_run else "day", *COVERAGE_FIELDS],
            rows,
            row_classes=row_classes,
        )
    )
    return "".join(out)


def given_up_section(data: ReportData) -> str:
    out = [
        "<h2>Stories given up</h2>",
        '<p class="lead">Stories whose own page kept failing in complete runs, given up'
        " (the state's <code>stories</code> with <code>given_up_at</code>), by the reason"
        " their page failed last. <code>scrapy giveup --retry URL</code> takes one back.</p>",
    ]
    stories = data.given_up
    if not stories:
        out.append(_figure("given-up", None, "", "No story was given up in this period."))
        return "".join(out)
    reasons = Counter(s.reason for s in stories).most_common()
    svg = hbar_chart(
        "chart-given-up",
        [r for r, _ in reasons],
        [float(n) for _, n in reasons],
        x_title="stories given up",
        color=WARN_COLOR,
    )
    out.append(_figure("given-up", svg, f"Stories given up: {len(stories)}.", ""))
    shown = stories[:GIVEN_UP_SHOWN]
    rows = [
        [
            escape(_local(s.given_up_at, "%Y-%m-%d %H:%M")),
            escape(s.url),
            _n(s.failed_runs),
            escape(_local(s.first_failed_at, "%Y-%m-%d %H:%M")),
            escape(s.detail or s.outcome),
        ]
        for s in shown
    ]
    out.append(
        _table(
            ["given up (Asia/Shanghai)", "story", "failed runs", "failing since", "last failure"],
            rows,
            text_cols=(0, 1, 4),
        )
    )
    if len(stories) > len(shown):
        out.append(f'<p class="note">{len(stories) - len(shown)} more not listed.</p>')
    return "".join(out)


def pages_section(data: ReportData) -> str:
    out = [
        "<h2>Slowest and most-retried pages</h2>",
        '<p class="lead">From the runs\' log files'
        f" ({data.logs_read} of {len(data.runs)} runs have one"
        + (f" in <code>{escape(str(data.log_dir))}</code>" if data.log_dir else "")
        + "; logs older than <code>NEWSCRAWL_LOG_KEEP_DAYS</code> are removed).</p>",
        '<p class="note"><b>Not recorded:</b> how long a page took to download. Scrapy'
        " keeps no per-page time in its stats and logs none, so the slowest pages cannot be"
        " named; the pages whose downloads timed out are marked below. Retries that"
        " succeeded are logged at DEBUG only: with <code>LOG_LEVEL</code> INFO or above the"
        " table names the pages whose retries ran out, while the chart counts every retry"
        " (Scrapy's <code>retry/count</code>, logged with the stats at the end of a run).</p>",
    ]
    bs, per_run = buckets(data.runs)
    counts = [b.total(lambda r: r.retries) for b in bs]
    if not bs or all(c is None for c in counts):
        out.append(_figure("retries", None, "", "No run in this period has a log file."))
    else:
        svg: str | None = chart(
            "chart-retries",
            _x_axis(bs, per_run),
            [Series("retries", [c if c else None for c in counts], PALETTE[5])],
            y_title="retries" + (" a run" if per_run else " a day"),
            integer=True,
            height=200,
            title="Retries",
            markers=_failure_markers(bs),
        )
        if not any(counts):
            svg = None
        out.append(
            _figure(
                "retries",
                svg,
                "Failed download attempts that were tried again, from the logs' stats;"
                " runs without a log are blank.",
                "No download was retried in the runs that have a log file.",
            )
        )
    pages = data.pages[:PAGES_SHOWN]
    if pages:
        out.append(
            _table(
                [
                    "page",
                    "runs",
                    "failed attempts",
                    "retries ran out",
                    "timed out",
                    "last reason",
                    "last seen (log time, run)",
                ],
                [
                    [
                        escape(p.url),
                        _n(p.runs),
                        _n(p.retries),
                        _n(p.gave_up),
                        "yes" if p.timed_out else "",
                        escape(p.last_reason),
                        escape(p.last_seen),
                    ]
                    for p in pages
                ],
                text_cols=(0, 5, 6),
                row_classes=["failed" if p.gave_up else "" for p in pages],
            )
        )
        if len(data.pages) > len(pages):
            out.append(f'<p class="note">{len(data.pages) - len(pages)} more pages not listed.</p>')
    else:
        out.append('<p class="note">No page is named in the logs as retried.</p>')
    return "".join(out)


def summary_cards(data: ReportData) -> str:
    runs = data.runs
    last = runs[-1] if runs else None
    success = [r for r in runs if not r.failed and r.status != "running"]
    failed = [r for r in runs if r.failed]
    cards = [
        (
            "last run",
            f"{_verdict(last)}" if last else "none",
            _local(last.started, "%Y-%m-%d %H:%M") if last else "",
            bool(last and last.failed),
        ),
        (
            "last success",
            _local(success[-1].finished or success[-1].started, "%Y-%m-%d %H:%M")
            if success
            else "none in period",
            "Asia/Shanghai",
            not success,
        ),
        ("runs", f"{len(runs)}", f"{len(failed)} failed", bool(failed)),
        (
            "stories delivered",
            _n(sum(r.items for r in runs if not r.failed)),
            f"corrections: {_n(sum(r.corrections for r in runs if not r.failed))}",
            False,
        ),
        ("given up", _n(len(data.given_up)), "stories", bool(data.given_up)),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card{" bad" if bad else ""}"><span>{escape(title)}</span>'
            f"<b>{escape(value)}</b><small>{escape(sub)}</small></div>"
            for title, value, sub, bad in cards
        )
        + "</div>"
    )


def render(data: ReportData, title: str = "newscrawl report") -> str:
    period = (
        f"runs started since {_local(data.since, '%Y-%m-%d %H:%M')}"
        if data.since
        else "every run recorded"
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data.notes)
    body = "".join(
        [
            runs_section(data),
            sections_section(data),
            freshness_section(data),
            drops_section(data),
            coverage_section(data),
            given_up_section(data),
            pages_section(data),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="lead">{escape(period)}; built {_local(data.generated, "%Y-%m-%d %H:%M")}'
        f" Asia/Shanghai. Times are Asia/Shanghai unless said.</p>"
        f"{summary_cards(data)}{notes}{body}</main></body></html>\n"
    )


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


__all__ = ["FAIL_COLOR", "render"]
