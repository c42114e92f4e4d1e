"""The operators' report: one self-contained HTML file built from the state's run
history and the manifests in the output folder (``scrapy report``).

``build_report`` returns the page; ``write_report`` writes it atomically. The
data is read read-only (``newscrawl.report.data``), the page drawn with inline SVG
(``newscrawl.report.svg``, ``newscrawl.report.html``): nothing is fetched when it
is opened, from disk or from a web server.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from newscrawl.folders import write_atomically
from newscrawl.report.data import ReportData, collect
from newscrawl.report.html import render
from newscrawl.state import DB_NAME

DEFAULT_DAYS = 30.0


def build_report(
    output_dir: Path,
    state_dir: Path,
    log_dir: Path | None = None,
    *,
    days: float | None = DEFAULT_DAYS,
    now: datetime | None = None,
) -> str:
    """The report's HTML for the runs started in the last ``days`` days (every run
    when ``days`` is None or 0). ``log_dir`` holds the runs' log files (retries)."""
    data = collect(Path(output_dir), Path(state_dir) / DB_NAME, log_dir, days=days, now=now)
    return render(data)


def write_report(
    out: Path,
    output_dir: Path,
    state_dir: Path,
    log_dir: Path | None = None,
    *,
    days: float | None = DEFAULT_DAYS,
    now: datetime | None = None,
) -> Path:
    """Build the report and write it to ``out`` (whole or not at all)."""
    page = build_report(output_dir, state_dir, log_dir, days=days, now=now)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, page.encode("utf-8"))
    return out


__all__ = ["DEFAULT_DAYS", "ReportData", "build_report", "collect", "render", "write_report"]
