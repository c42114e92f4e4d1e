"""What the report shows, read from where the runs left it: the state's run history
(``runs``) and given-up stories (``stories``), read-only; the manifests in the
output folder (found recursively, their files' ``path`` relative to the manifest);
the items of complete manifests; the runs' log files (retries).

Nothing here writes: the state is opened read-only (a running crawl is not
disturbed: SQLite's WAL lets it write while this reads), manifests and items are
only read.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from newscrawl.report.svg import TZ
from newscrawl.verdict import (
    COVERAGE_COLLAPSE_RATIO,
    HISTORY_RUNS,
    MIN_ARTICLES_FOR_COVERAGE,
    WATCHED_FIELDS,
)

MANIFEST_SUFFIX = ".manifest.json"
# The fields whose coverage the report draws: the verdict's, and two it does not watch.
COVERAGE_FIELDS = ("title", "published", "source", "editor", "body", "images")
# Statuses of the runs table that delivered their stories.
DELIVERED_STATUSES = frozenset({"complete", "recovered"})
# A run id holds its start time (newscrawl.run.new_run_id): manifests outside the
# period are skipped without being opened.
_RUN_START_RE = re.compile(r"-(\d{8}T\d{6}Z)-[0-9a-f]{4}$")
# Scrapy's RetryMiddleware: each failed attempt "Retrying <GET url> (failed N times):
# reason" at DEBUG, the last "Gave up retrying …" at ERROR. Searched anywhere in a
# line, whatever LOG_FORMAT puts before it.
_RETRY_RE = re.compile(r"(Gave up retrying|Retrying) <(\w+) (\S+)> \(failed (\d+) times\): (.*)$")
_LOG_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_STAT_RE = re.compile(r"^ ?'(retry/count|retry/max_reached|elapsed_time_seconds)': ([\d.]+)")


def drop_category(reason: str) -> str:
    """The family a drop reason (a ``newscrawl.drops`` class name) belongs to."""
    if reason.startswith("Duplicate"):
        return "duplicate"
    if reason == "SpamPage":
        return "spam"
    if reason == "SchemaMismatch":
        return "schema"
    if reason.startswith(("Missing", "Impossible", "Implausible")):
        return "validation"
    return "other"


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (or a datetime), UTC if naive."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_start_from_id(run_id: str) -> datetime | None:
    m = _RUN_START_RE.search(run_id)
    if not m:
        return None
    return datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0–1) with linear interpolation, of a non-empty list."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class ItemSummary:
    """What the report needs of one run's delivered items."""

    count: int = 0
    by_section: Counter[str] = field(default_factory=Counter)
    present: Counter[str] = field(default_factory=Counter)  # field → items having it
    # Hours from publication to delivery of each first version (corrections left out).
    freshness_hours: list[float] = field(default_factory=list)
    unreadable_files: list[str] = field(default_factory=list)

    def coverage(self) -> dict[str, float | None]:
        return {f: (self.present[f] / self.count if self.count else None) for f in COVERAGE_FIELDS}


def summarize_items(
    items: Iterable[Mapping[str, Any]], delivered_at: datetime | None
) -> ItemSummary:
    """Sections, field presence and freshness of delivered items. Delivery is the
    manifest's ``finished_at`` (when the files became readable), else ``crawled_at``."""
    summary = ItemSummary()
    for item in items:
        summary.count += 1
        summary.by_section[str(item.get("section") or "(none)")] += 1
        for name in COVERAGE_FIELDS:
            if item.get(name):
                summary.present[name] += 1
        if (item.get("version") or 1) > 1:
            continue  # a correction: its publication time says nothing of freshness
        published = parse_time(item.get("published"))
        delivered = delivered_at or parse_time(item.get("crawled_at"))
        if published is not None and delivered is not None:
            summary.freshness_hours.append((delivered - published).total_seconds() / 3600)
    return summary


def read_manifest_items(folder: Path, manifest: Mapping[str, Any]) -> ItemSummary:
    """The items of the files a manifest names (``path`` relative to ``folder``, the
    manifest's own)."""
    delivered_at = parse_time(manifest.get("finished_at"))
    unreadable: list[str] = []

    def items() -> Iterator[dict[str, Any]]:
        for entry in manifest.get("files") or ():
            path = folder / entry["path"]
            try:
                with path.open(encoding="utf-8") as f:
                    for line in f:
                        if line.strip():
                            yield json.loads(line)
            except (OSError, ValueError):
                unreadable.append(str(entry.get("path")))

    summary = summarize_items(items(), delivered_at)
    summary.unreadable_files = unreadable
    return summary


@dataclass
class RunRow:
    """One run of the history: from the state, its manifest, its items, its log."""

    run_id: str
    started: datetime
    finished: datetime | None
    status: str  # complete, failed, recovered, crashed, running
    reason: str | None = None
    exit_code: int | None = None
    items: int = 0
    corrections: int = 0
    withdrawals: int = 0
    requests: int | None = None
    articles_parsed: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    given_up: int = 0
    coverage: dict[str, float | None] = field(default_factory=dict)
    # The layout verdict's floor for each field: half the median of the recent runs.
    floor: dict[str, float | None] = field(default_factory=dict)
    item_summary: ItemSummary | None = None
    manifest_path: Path | None = None
    retries: int | None = None  # from the log's stats, None without a log

    @property
    def duration(self) -> float | None:
        if self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()

    @property
    def failed(self) -> bool:
        return self.status not in DELIVERED_STATUSES and self.status != "running"

    @property
    def delivered_day(self) -> date:
        return local_day(self.finished or self.started)


@dataclass
class PageRetries:
    """A page whose download was retried, from the runs' logs."""

    url: str
    runs: int = 0  # runs in which it was retried
    retries: int = 0  # failed attempts, all runs (the highest "failed N times" a run)
    gave_up: int = 0  # runs in which its retries ran out
    last_reason: str = ""
    last_seen: str = ""
    timed_out: bool = False


@dataclass
class GivenUpStory:
    url: str
    outcome: str
    detail: str | None
    failed_runs: int
    first_failed_at: datetime | None
    given_up_at: datetime | None

    @property
    def reason(self) -> str:
        """The drop class or outcome the page failed with last, without the particulars."""
        if self.detail:
            head = self.detail.split(":", 1)[0].strip()
            if head and " " not in head:
                return head
            return self.detail[:60]
        return self.outcome


@dataclass
class ReportData:
    generated: datetime
    since: datetime | None
    runs: list[RunRow]
    given_up: list[GivenUpStory]
    pages: list[PageRetries]
    logs_read: int
    log_dir: Path | None
    state_found: bool
    manifests_found: int
    notes: list[str] = field(default_factory=list)


def open_state_readonly(db_path: Path) -> sqlite3.Connection | None:
    """The state database, read-only; None if there is none."""
    if not db_path.exists():
        return None
    db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    db.execute("PRAGMA busy_timeout=5000")
    return db


def _state_runs(db: sqlite3.Connection) -> list[RunRow]:
    rows = []
    for run_id, started, finished, status, reason, items, metrics in db.execute(
        "SELECT run_id, started_at, finished_at, status, reason, items, metrics FROM runs"
    ):
        start = parse_time(started) or run_start_from_id(run_id)
        if start is None:
            continue
        row = RunRow(run_id, start, parse_time(finished), status, reason, items=items or 0)
        if metrics:
            try:
                m = json.loads(metrics)
            except ValueError:
                m = {}
            row.articles_parsed = int(m.get("articles_parsed") or 0)
            row.coverage = {
                k: v for k, v in (m.get("coverage") or {}).items() if k in COVERAGE_FIELDS
            }
        rows.append(row)
    return rows


def _given_up(db: sqlite3.Connection) -> list[GivenUpStory]:
    def when(value: int | None) -> datetime | None:
        return datetime.fromtimestamp(value, UTC) if value is not None else None

    try:
        rows = db.execute(
            "SELECT url, outcome, detail, failed_runs, first_failed_at, given_up_at"
            " FROM stories WHERE given_up_at IS NOT NULL ORDER BY given_up_at DESC, url"
        ).fetchall()
    except sqlite3.OperationalError:  # a state made before give-ups were recorded
        return []
    return [GivenUpStory(u, o, d, n, when(first), when(at)) for u, o, d, n, first, at in rows]


def find_manifests(output_dir: Path) -> dict[str, Path]:
    """Every ``*.manifest.json`` under ``output_dir`` by run id (the first found wins)."""
    found: dict[str, Path] = {}
    if not output_dir.is_dir():
        return found
    for folder, dirs, files in os.walk(output_dir):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(MANIFEST_SUFFIX):
                found.setdefault(name[: -len(MANIFEST_SUFFIX)], Path(folder) / name)
    return found


def _apply_manifest(row: RunRow, manifest: Mapping[str, Any]) -> None:
    stats = manifest.get("stats") or {}
    own = stats.get("newscrawl") or {}
    row.exit_code = manifest.get("exit_code", row.exit_code)
    row.reason = row.reason or manifest.get("reason")
    row.items = int(manifest.get("items") or row.items or 0)
    row.corrections = int(own.get("corrections") or 0)
    row.withdrawals = len(manifest.get("withdrawn") or ())
    row.requests = stats.get("requests")
    row.dropped = {str(k): int(v) for k, v in (stats.get("dropped_by_reason") or {}).items()}
    row.given_up = len(manifest.get("given_up") or ())
    parsed = own.get("articles_parsed")
    if parsed is not None:
        row.articles_parsed = int(parsed)
        if not row.coverage:
            row.coverage = {
                f: (own.get(f"field_present/{f}", 0) / parsed if parsed else None)
                for f in WATCHED_FIELDS
            }
    finished = parse_time(manifest.get("finished_at"))
    if row.finished is None and finished is not None:
        row.finished = finished


def _read_log(path: Path, pages: dict[str, PageRetries], run_id: str) -> int | None:
    """Retries of one run's log: pages named by Scrapy's retry lines (each retry at
    DEBUG, the last at ERROR) and the run's ``retry/count`` from the stats dump."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    count = 0
    failures: dict[str, int] = {}  # url → failed attempts in this run
    if "retry" not in text:
        return count
    for line in text.splitlines():
        m = _RETRY_RE.search(line)
        if m:
            kind, _, url, failed, why = m.groups()
            page = pages.setdefault(url, PageRetries(url))
            failures[url] = max(failures.get(url, 0), int(failed))
            if kind == "Gave up retrying":
                page.gave_up += 1
            page.last_reason = why.strip()
            stamp = _LOG_TIME_RE.match(line)
            page.last_seen = f"{stamp.group(0)} ({run_id})" if stamp else run_id
            if "TimeoutError" in why or "took longer than" in why:
                page.timed_out = True
            continue
        s = _STAT_RE.match(line)
        if s and s.group(1) == "retry/count":
            count = int(float(s.group(2)))
    for url, failed in failures.items():
        pages[url].runs += 1
        pages[url].retries += failed
    return count


def _floors(runs: list[RunRow]) -> None:
    """Each run's floor per field, as the layout verdict computes it: half the median
    coverage of the ``HISTORY_RUNS`` complete runs before it (those with at least
    ``MIN_ARTICLES_FOR_COVERAGE`` articles). A run with fewer articles than that is
    not judged on coverage: it has no floor."""
    history: list[RunRow] = []
    for row in runs:
        recent = history[-HISTORY_RUNS:]
        for name in COVERAGE_FIELDS:
            past = [
                h.coverage[name]
                for h in recent
                if h.articles_parsed >= MIN_ARTICLES_FOR_COVERAGE
                and h.coverage.get(name) is not None
            ]
            judged = past and row.articles_parsed >= MIN_ARTICLES_FOR_COVERAGE
            row.floor[name] = (
                COVERAGE_COLLAPSE_RATIO * statistics.median(v for v in past if v is not None)
                if judged
                else None
            )
        if row.status == "complete" and row.coverage:
            history.append(row)


def collect(
    output_dir: Path,
    state_db: Path,
    log_dir: Path | None,
    *,
    days: float | None,
    now: datetime | None = None,
) -> ReportData:
    """Everything the report draws, for the runs started in the last ``days`` days
    (all runs when None)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days) if days else None
    notes: list[str] = []

    db = open_state_readonly(state_db)
    runs: dict[str, RunRow] = {}
    given_up: list[GivenUpStory] = []
    if db is not None:
        try:
            runs = {r.run_id: r for r in _state_runs(db)}
            given_up = _given_up(db)
        finally:
            db.close()
    else:
        notes.append(f"No state database at {state_db}: runs are read from the manifests alone.")

    manifests = find_manifests(output_dir)
    ordered = sorted(runs.values(), key=lambda r: r.started)
    # Runs in the period, and the complete runs just before it (the floors need them).
    in_period = {r.run_id for r in ordered if since is None or r.started >= since}
    before = [r for r in ordered if r.run_id not in in_period and r.status == "complete"]
    wanted = in_period | {r.run_id for r in before[-HISTORY_RUNS:]}
    # Manifests of runs the state does not know (another state's, or no state).
    for run_id, path in manifests.items():
        if run_id in runs:
            continue
        start = run_start_from_id(run_id)
        if start is not None and since is not None and start < since:
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            notes.append(f"Unreadable manifest {path}: {exc}")
            continue
        start = parse_time(manifest.get("started_at")) or start
        if start is None or (since is not None and start < since):
            continue
        row = RunRow(
            run_id,
            start,
            parse_time(manifest.get("finished_at")),
            str(manifest.get("status") or "unknown"),
            manifest.get("reason"),
        )
        row.manifest_path = path
        _apply_manifest(row, manifest)
        _add_items(row, path, manifest)
        runs[run_id] = row
        in_period.add(run_id)
        wanted.add(run_id)

    for run_id in wanted:
        row = runs[run_id]
        found = manifests.get(run_id)
        if found is None or row.manifest_path is not None:
            continue
        path = found
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            notes.append(f"Unreadable manifest {path}: {exc}")
            continue
        row.manifest_path = path
        _apply_manifest(row, manifest)
        _add_items(row, path, manifest)

    every = sorted((runs[r] for r in wanted), key=lambda r: r.started)
    _floors(every)
    period = [r for r in every if r.run_id in in_period]

    pages: dict[str, PageRetries] = {}
    logs_read = 0
    if log_dir is not None and log_dir.is_dir():
        for row in period:
            path = log_dir / f"{row.run_id}.log"
            if path.exists():
                row.retries = _read_log(path, pages, row.run_id)
                logs_read += 1
    if since is not None:
        given_up = [g for g in given_up if g.given_up_at is None or g.given_up_at >= since]
    ranked = sorted(pages.values(), key=lambda p: (-p.retries, -p.gave_up, p.url))
    return ReportData(
        generated=now,
        since=since,
        runs=period,
        given_up=given_up,
        pages=ranked,
        logs_read=logs_read,
        log_dir=log_dir,
        state_found=db is not None,
        manifests_found=len(manifests),
        notes=notes,
    )


def _add_items(row: RunRow, path: Path, manifest: Mapping[str, Any]) -> None:
    """Items are read from complete manifests only (a failed run delivered nothing)."""
    if manifest.get("status") != "complete":
        return
    summary = read_manifest_items(path.parent, manifest)
    row.item_summary = summary
    from_items = summary.coverage()
    for name in COVERAGE_FIELDS:
        if row.coverage.get(name) is None and from_items[name] is not None:
            row.coverage[name] = from_items[name]
    if not row.articles_parsed:
        row.articles_parsed = summary.count


def by_day(values: Iterable[tuple[date, Any]]) -> dict[date, list[Any]]:
    grouped: dict[date, list[Any]] = defaultdict(list)
    for day, value in values:
        grouped[day].append(value)
    return grouped
