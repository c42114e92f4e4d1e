"""The run's measures for Prometheus, as a file node_exporter's textfile collector
reads (``--collector.textfile.directory``), written at the end of every run.

``write_textfile`` writes the whole file each time, atomically (a temporary file in
the same folder, then a rename: the collector never reads half a file; the
temporary name does not end in ``.prom``, so it is never collected). Every metric is
a gauge of the last run, in base units, named ``newscrawl_…``, except the
timestamps of the last run and of the last success, and the stories given up in
the state as a whole. A failed run updates the last run's metrics and keeps the
last success: from the previous file, or from the state's run history when there
is no previous file (a new folder, a new file name).
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import statistics
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newscrawl.folders import fsync_dir
from newscrawl.report.data import (
    COVERAGE_FIELDS,
    drop_category,
    open_state_readonly,
    parse_time,
    percentile,
    read_manifest_items,
)
from newscrawl.verdict import (
    COVERAGE_COLLAPSE_RATIO,
    HISTORY_RUNS,
    MIN_ARTICLES_FOR_COVERAGE,
    WATCHED_FIELDS,
)

PREFIX = "newscrawl_"
LAST_SUCCESS = f"{PREFIX}last_success_timestamp_seconds"
_LAST_SUCCESS_RE = re.compile(rf"^{LAST_SUCCESS}(?:\{{\}})? (\S+)", re.MULTILINE)
FRESHNESS_QUANTILES = (0.5, 0.95)

Labels = tuple[tuple[str, str], ...]


class _Family:
    def __init__(self, name: str, help_text: str) -> None:
        self.name = PREFIX + name
        self.help = help_text
        self.samples: list[tuple[Labels, float]] = []

    def add(self, value: float | int | None, **labels: str) -> None:
        if value is None:
            return
        self.samples.append((tuple(sorted(labels.items())), float(value)))

    def render(self) -> str:
        help_text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines = [f"# HELP {self.name} {help_text}", f"# TYPE {self.name} gauge"]
        for labels, value in self.samples:
            lines.append(f"{self.name}{_labels(labels)} {_value(value)}")
        return "\n".join(lines)


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _timestamp(value: Any) -> float | None:
    moment = parse_time(value)
    return moment.timestamp() if moment else None


def previous_last_success(path: Path) -> float | None:
    """The last success the file at ``path`` holds, if it exists and says."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    m = _LAST_SUCCESS_RE.search(text)
    if not m:
        return None
    try:
        value = float(m.group(1))
    except ValueError:
        return None
    return value if value > 0 else None


def _state_facts(
    db: sqlite3.Connection | None, run_id: str, started: float | None, finished: float
) -> dict[str, Any]:
    """From the state: the end of the last run before this one that delivered, the
    stories given up, and the coverage of the complete runs before this one (the
    floor the layout verdict judged it by)."""
    facts: dict[str, Any] = {"last_success": None, "given_up": None, "history": []}
    if db is None:
        return facts
    # The state writes its times as datetime.now(UTC).isoformat(): they sort as text.
    start = datetime.fromtimestamp(started, UTC).isoformat() if started else "9999"
    end = datetime.fromtimestamp(finished, UTC).isoformat()
    params = {"run": run_id, "start": start, "end": end, "n": HISTORY_RUNS}
    try:
        (last,) = db.execute(
            "SELECT max(coalesce(finished_at, delivered_at)) FROM runs"
            " WHERE status IN ('complete', 'recovered') AND run_id != :run"
            " AND coalesce(finished_at, delivered_at) <= :end",
            params,
        ).fetchone()
        facts["last_success"] = _timestamp(last)
        facts["history"] = [
            json.loads(m)
            for (m,) in db.execute(
                "SELECT metrics FROM runs WHERE status = 'complete' AND metrics IS NOT NULL"
                " AND run_id != :run AND started_at"
                " < coalesce((SELECT started_at FROM runs WHERE run_id = :run), :start)"
                " ORDER BY started_at DESC LIMIT :n",
                params,
            )
        ]
        (facts["given_up"],) = db.execute(
            "SELECT count(*) FROM stories WHERE given_up_at IS NOT NULL"
        ).fetchone()
    except (sqlite3.Error, ValueError):
        pass  # an older or damaged state: the metrics it would give are left out
    return facts


def _floor(history: Iterable[Mapping[str, Any]], name: str) -> float | None:
    past = [
        h["coverage"][name]
        for h in history
        if (h.get("articles_parsed") or 0) >= MIN_ARTICLES_FOR_COVERAGE
        and (h.get("coverage") or {}).get(name) is not None
    ]
    return COVERAGE_COLLAPSE_RATIO * statistics.median(past) if past else None


def render_textfile(
    manifest: Mapping[str, Any],
    *,
    manifest_dir: Path | None,
    state_db_path: Path | None,
    previous_success: float | None = None,
    now: datetime | None = None,
) -> str:
    """The textfile's content for the run ``manifest`` describes (see ``write_textfile``)."""
    now = now or datetime.now(UTC)
    stats = manifest.get("stats") or {}
    own = stats.get("newscrawl") or {}
    status = manifest.get("status") or "failed"
    complete = status == "complete"
    exit_code = manifest.get("exit_code")
    run_id = str(manifest.get("run_id") or "")
    finished = _timestamp(manifest.get("finished_at")) or now.timestamp()
    started = _timestamp(manifest.get("started_at"))

    db = open_state_readonly(state_db_path) if state_db_path is not None else None
    try:
        facts = _state_facts(db, run_id, started, finished)
    finally:
        if db is not None:
            db.close()
    last_success = finished if complete else previous_success or facts["last_success"] or 0.0

    items = None
    if complete and manifest_dir is not None and manifest.get("files"):
        items = read_manifest_items(Path(manifest_dir), manifest)

    f: dict[str, _Family] = {}

    def family(name: str, help_text: str) -> _Family:
        return f.setdefault(name, _Family(name, help_text))

    family("last_run_timestamp_seconds", "When the last run ended (Unix time), failed or not.").add(
        finished
    )
    family(
        "last_success_timestamp_seconds",
        "When the last complete run ended (Unix time); a failed run keeps it; 0: none known.",
    ).add(last_success)
    family("last_run_success", "1 if the last run was complete, 0 if it failed.").add(
        1 if complete else 0
    )
    family("last_run_exit_code", "Exit code of the last run (0 complete; README, Exit codes).").add(
        exit_code if exit_code is not None else (0 if complete else 1)
    )
    family("last_run_duration_seconds", "Seconds from the last run's start to its end.").add(
        finished - started if started is not None else None
    )
    delivered = int(manifest.get("items") or 0) if complete else 0
    family(
        "last_run_stories_delivered",
        "Stories the last run delivered (new stories and corrections; 0 when it failed).",
    ).add(delivered)
    family(
        "last_run_corrections",
        "Corrections the last run delivered: stories delivered again as a later version.",
    ).add(int(own.get("corrections") or 0) if complete else 0)
    family("last_run_withdrawals", "Withdrawn stories the last run's manifest names.").add(
        len(manifest.get("withdrawn") or ()) if complete else 0
    )
    family("last_run_requests", "HTTP requests the last run sent, retries included.").add(
        stats.get("requests")
    )
    family("last_run_articles_parsed", "Article pages the last run parsed.").add(
        own.get("articles_parsed")
    )
    dropped = family(
        "last_run_items_dropped",
        "Items the last run dropped, by reason (the drop's class) and category"
        " (duplicate, spam, validation, schema, other).",
    )
    for reason, count in sorted((stats.get("dropped_by_reason") or {}).items()):
        dropped.add(count, reason=str(reason), category=drop_category(str(reason)))
    responses = family("last_run_http_responses", "HTTP responses of the last run, by status code.")
    for code, count in sorted((stats.get("responses_by_status") or {}).items()):
        responses.add(count, code=str(code))
    family(
        "last_run_stories_given_up", "Stories the last run gave up (their page kept failing)."
    ).add(len(manifest.get("given_up") or ()))
    family(
        "stories_given_up", "Stories given up in the state, all runs (scrapy giveup lists them)."
    ).add(facts["given_up"])

    if items is not None:
        sections = family(
            "last_run_section_stories_delivered",
            "Stories the last run delivered, by section.",
        )
        for section, count in sorted(items.by_section.items()):
            sections.add(count, section=section)
        if items.freshness_hours:
            fresh = family(
                "last_run_freshness_seconds",
                "Seconds from publication to delivery of the last run's new stories"
                " (corrections left out), at the quantile.",
            )
            for q in FRESHNESS_QUANTILES:
                fresh.add(percentile(items.freshness_hours, q) * 3600, quantile=f"{q:g}")

    coverage = family(
        "last_run_field_coverage_ratio",
        "Share (0-1) of the last run's articles with the field: title, published, editor,"
        " body of the parsed articles (what the verdict judges), source and images of the"
        " delivered ones.",
    )
    parsed = own.get("articles_parsed")
    for name in WATCHED_FIELDS:
        if parsed:
            coverage.add(own.get(f"field_present/{name}", 0) / parsed, field=name)
    if items is not None and items.count:
        for name in COVERAGE_FIELDS:
            if name not in WATCHED_FIELDS:
                coverage.add(items.present[name] / items.count, field=name)
    floor = family(
        "last_run_field_coverage_floor_ratio",
        f"The layout verdict's floor for a watched field: {COVERAGE_COLLAPSE_RATIO:g} x the"
        f" median coverage of the {HISTORY_RUNS} complete runs before the last; under it a"
        " run fails with exit 7.",
    )
    for name in WATCHED_FIELDS:
        floor.add(_floor(facts["history"], name), field=name)

    return "\n".join(fam.render() for fam in f.values() if fam.samples) + "\n"


def write_textfile(
    path: Path | str,
    manifest: Mapping[str, Any],
    state_db_path: Path | str | None,
    manifest_dir: Path | str | None = None,
) -> None:
    """Write the run's metrics to ``path`` (a ``*.prom`` file in node_exporter's
    textfile folder), atomically.

    ``manifest``: the run's manifest as written (``started_at``/``finished_at`` as
    datetimes or ISO strings); a run that ends without one passes what it knows,
    at least ``status`` and ``exit_code``. ``state_db_path``: the state's SQLite file
    (read-only here). ``manifest_dir``: the folder the manifest's file paths are
    relative to (the output folder), for the stories per section and freshness.
    Raises ``OSError`` when the file cannot be written.
    """
    target = Path(path)
    page = render_textfile(
        manifest,
        manifest_dir=Path(manifest_dir) if manifest_dir is not None else None,
        state_db_path=Path(state_db_path) if state_db_path is not None else None,
        previous_success=previous_last_success(target),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(page.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o644)  # node_exporter runs as another user
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
