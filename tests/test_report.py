"""The operators' report, built from a real run history: crawls of the replica with
new stories published between them, a correction, stories given up, a run that
failed (the site down: exit 4); then opened in real headless Chromium, which must
draw every chart with its data points and log no error. And the report over a
synthetic state of 10,000 runs builds in a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html

from newscrawl.report import build_report, write_report
from newscrawl.report.data import collect
from newscrawl.report.html import PER_RUN_LIMIT
from newscrawl.report.svg import TZ
from newscrawl.state import DB_NAME, SCHEMA
from replica.localrun import PROJECT_ROOT, crawl, read_jsonl, scrapy_env
from tests.conftest import Replica

CHROMIUM = "/usr/bin/chromium"
HOUR = 3600
CHARTS = (
    "runs-stories",
    "runs-requests",
    "runs-duration",
    "sections",
    "freshness",
    "drops",
    *(f"coverage-{f}" for f in ("title", "published", "source", "editor", "body", "images")),
    "given-up",
    "retries",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class History:
    output: Path
    state: Path
    exits: list[int]
    manifests: list[dict]  # in run order
    corrected_url: str

    @property
    def logs(self) -> Path:
        return self.state / "logs"


@pytest.fixture(scope="module")
def history(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> History:
    """Five runs: the first; new stories and a correction; a third that gives up the
    stories whose pages keep failing; the site down; new stories again."""
    work = tmp_path_factory.mktemp("report")
    output, state = work / "output", work / "state"
    # Give up after three complete runs, whatever the span of time.
    settings = {"NEWSCRAWL_GIVE_UP_DAYS": "0"}
    exits = []

    def run(base_url: str = replica.base_url) -> None:
        result = crawl(base_url, output, state, settings=settings)
        exits.append(result.returncode)

    run()
    first = json.loads(next(output.glob("*.manifest.json")).read_text())
    items = read_jsonl(output / first["files"][0]["path"])
    replica.rebuild(new_on_top=4)
    # A correction: a story delivered as if an hour after publication, 5 h ago, whose
    # text then changed on the site (README, Corrections).
    story = sorted(items, key=lambda item: item["url"])[0]
    page = replica.root / "site" / urlsplit(story["url"]).path.lstrip("/")
    word = next(
        w
        for w in re.findall(r"\b[a-z]{8,}\b", story["body"])
        if page.read_text(encoding="utf-8").count(w) == 1
    )
    page.write_text(page.read_text(encoding="utf-8").replace(word, word[:-1]), encoding="utf-8")
    now = int(time.time())
    with sqlite3.connect(state / DB_NAME) as db:
        db.execute(
            "UPDATE stories SET published_at = ?, fetched_at = ? WHERE url = ?",
            (now - 5 * HOUR, now - 4 * HOUR, story["url"]),
        )
    run()
    run()
    run(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    replica.rebuild(new_on_top=8)
    run()
    manifests = [json.loads(p.read_text()) for p in sorted(output.glob("*.manifest.json"))]
    # An operator archives the first run's files in a subfolder: the report finds
    # manifests recursively, their files relative to them.
    archive = output / "archive" / "first"
    archive.mkdir(parents=True)
    for name in [f"{first['run_id']}.manifest.json", *(f["path"] for f in first["files"])]:
        shutil.move(output / name, archive / name)
    return History(output, state, exits, manifests, story["url"])


def test_the_history_has_complete_runs_a_correction_give_ups_and_a_failure(
    history: History,
) -> None:
    assert history.exits == [0, 0, 0, 4, 0]
    statuses = [m["status"] for m in history.manifests]
    assert statuses == ["complete", "complete", "complete", "failed", "complete"]
    assert history.manifests[1]["stats"]["newscrawl"].get("corrections") == 1
    assert any(m["given_up"] for m in history.manifests)


def report_of(history: History, tmp_path: Path) -> tuple[Path, str]:
    out = write_report(
        tmp_path / "report.html", history.output, history.state, history.logs, days=None
    )
    return out, out.read_text(encoding="utf-8")


def test_the_report_names_every_run_its_verdict_and_the_failure_reason(
    history: History, tmp_path: Path
) -> None:
    _, page = report_of(history, tmp_path)
    doc = lxml_html.fromstring(page)
    for manifest in history.manifests:
        assert manifest["run_id"] in page
    failed = history.manifests[3]
    rows = doc.xpath("//h2[.='Runs over time']/following::table[1]//tr[@class='failed']")
    assert len(rows) == 1
    text = rows[0].text_content()
    assert failed["run_id"] in text and "failed (exit 4)" in text
    assert failed["reason"] in text


def test_the_report_counts_what_the_manifests_and_the_state_say(
    history: History, tmp_path: Path
) -> None:
    data = collect(history.output, history.state / DB_NAME, history.logs, days=None)
    by_id = {r.run_id: r for r in data.runs}
    assert list(by_id) == [m["run_id"] for m in history.manifests]
    for manifest in history.manifests:
        row = by_id[manifest["run_id"]]
        assert row.requests == manifest["stats"]["requests"]
        assert row.dropped == manifest["stats"]["dropped_by_reason"]
        assert row.corrections == manifest["stats"]["newscrawl"].get("corrections", 0)
        if manifest["status"] == "complete":
            assert row.item_summary is not None  # the archived one too
            folder = next(history.output.rglob(f"{manifest['run_id']}.manifest.json")).parent
            items = [i for f in manifest["files"] for i in read_jsonl(folder / f["path"])]
            assert row.item_summary.by_section == Counter(i["section"] for i in items)
            assert row.item_summary.count == manifest["items"]
    given_up = {u for m in history.manifests for u in (g["url"] for g in m["given_up"])}
    assert {g.url for g in data.given_up} == given_up
    # The failed run's log names the page whose retries ran out.
    assert any(p.url.endswith("/robots.txt") and p.gave_up for p in data.pages)
    assert by_id[history.manifests[3]["run_id"]].retries


PROBE = """<script>
window.__errors = [];
window.addEventListener("error", (e) => window.__errors.push("error: " + e.message));
const __consoleError = console.error;
console.error = (...args) => { window.__errors.push("console: " + args.join(" "));
  __consoleError(...args); };
window.addEventListener("load", () => {
  for (const fig of document.querySelectorAll("figure[data-chart]")) {
    const svg = fig.querySelector("svg");
    if (!svg) continue;
    const box = svg.getBoundingClientRect();
    fig.setAttribute("data-svg-size", Math.round(box.width) + "x" + Math.round(box.height));
    let drawn = 0;
    for (const mark of svg.querySelectorAll(".mark")) {
      const b = mark.getBoundingClientRect();
      if (b.width > 0 && b.height > 0) drawn++;
    }
    fig.setAttribute("data-marks-drawn", String(drawn));
  }
  const out = document.createElement("pre");
  out.id = "probe-errors";
  out.textContent = JSON.stringify(window.__errors);
  document.body.appendChild(out);
});
</script>"""


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def test_chromium_draws_every_chart_with_its_points_and_logs_no_error(
    history: History, tmp_path: Path
) -> None:
    out, page = report_of(history, tmp_path)
    # Self-contained: no script, nothing fetched (stylesheets, images, fonts, frames).
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|\bsrc=", page, re.I)
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    result = chromium(
        ["--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], tmp_path / "profile1"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    dom = lxml_html.fromstring(result.stdout)
    assert json.loads(dom.get_element_by_id("probe-errors").text_content()) == []

    figures = {f.get("data-chart"): f for f in dom.xpath("//figure[@data-chart]")}
    assert set(figures) == set(CHARTS)
    for name, fig in figures.items():
        assert fig.get("data-empty") is None, f"{name}: no data"
        width, height = map(int, fig.get("data-svg-size").split("x"))
        assert width > 300 and height > 50, name
        marks = fig.xpath(".//svg//*[contains(concat(' ', @class, ' '), ' mark ')]")
        assert marks and int(fig.get("data-marks-drawn")) == len(marks), name

    def values(name: str, series: str) -> list[float]:
        return [
            float(m.get("data-value"))
            for m in figures[name].xpath(f".//*[@data-series='{series}']")
            if "mark" in m.get("class", "").split()
        ]

    runs = history.manifests
    complete = [m for m in runs if m["status"] == "complete"]
    # One mark a run and the failed run marked, in each per-run chart.
    assert values("runs-requests", "requests") == [m["stats"]["requests"] for m in runs]
    assert len(values("runs-requests", "failed")) == 1
    new = [m["items"] - m["stats"]["newscrawl"].get("corrections", 0) for m in complete]
    assert values("runs-stories", "new stories") == [n for n in new if n]
    assert values("runs-stories", "corrections") == [1]
    assert len(values("coverage-editor", "editor")) == len(complete)
    assert len(values("coverage-editor", "failed")) == 1
    sections = Counter(
        i["section"]
        for m in complete
        for f in m["files"]
        for i in read_jsonl(next(history.output.rglob(f["path"])))
    )
    for section, count in sections.items():
        assert sum(values("sections", section)) == count
    assert len(values("freshness", "median")) == len(values("freshness", "95th percentile")) >= 1
    drops = Counter()
    for m in runs:
        drops.update(m["stats"]["dropped_by_reason"])
    drawn = Counter()
    for mark in figures["drops"].xpath(".//rect[@data-series]"):
        drawn[mark.get("data-series").split(" (")[0]] += float(mark.get("data-value"))
    assert drawn == drops
    given_up = sum(len(m["given_up"]) for m in runs)
    assert sum(float(m.get("data-value")) for m in figures["given-up"].xpath(".//rect")) == given_up

    shot = tmp_path / "report.png"
    result = chromium(
        ["--hide-scrollbars", "--window-size=1000,2600", f"--screenshot={shot}", out.as_uri()],
        tmp_path / "profile2",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    keep = os.environ.get("NEWSCRAWL_REPORT_SCREENSHOT")  # docs/report.png is made so
    if keep:
        shutil.copyfile(shot, keep)


def test_scrapy_report_writes_the_file_and_prints_its_path(
    history: History, tmp_path: Path
) -> None:
    out = tmp_path / "sub" / "ops.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "report",
            "--out",
            str(out),
            "--days",
            "2",
            "-s",
            f"NEWSCRAWL_OUTPUT_DIR={history.output}",
            "-s",
            f"NEWSCRAWL_STATE_DIR={history.state}",
        ],
        cwd=PROJECT_ROOT,
        env=scrapy_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out.resolve())
    page = out.read_text(encoding="utf-8")
    assert history.manifests[-1]["run_id"] in page
    assert not list(out.parent.glob("*.part"))


# -- a long history ---------------------------------------------------------------


def synthetic_history(root: Path, runs: int) -> tuple[Path, Path, datetime]:
    """A state of ``runs`` hourly runs (one in 50 failed), each with its manifest and
    a file of three items, as the crawler writes them."""
    output, state = root / "output", root / "state"
    output.mkdir(parents=True)
    state.mkdir()
    end = datetime(2026, 6, 1, tzinfo=UTC)
    start = end - timedelta(hours=runs)
    db = sqlite3.connect(state / DB_NAME)
    db.executescript(SCHEMA)
    rows = []
    sections = ("politics", "society", "economy")
    for n in range(runs):
        started = start + timedelta(hours=n)
        finished = started + timedelta(seconds=40 + n % 30)
        run_id = f"ecns-{started:%Y%m%dT%H%M%SZ}-{n % 65536:04x}"
        failed = n % 50 == 49
        metrics = {
            "articles_parsed": 0 if failed else 12,
            "coverage": {
                f: None if failed else 0.9 + (n % 10) / 100
                for f in ("title", "published", "editor", "body")
            },
            "listing_items": {},
        }
        status = "failed" if failed else "complete"
        reason = "no listing page could be fetched (3 failed after retries)" if failed else None
        rows.append(
            (
                run_id,
                started.isoformat(),
                finished.isoformat(),
                status,
                reason,
                0 if failed else 3,
                json.dumps(metrics),
            )
        )
        files = []
        if not failed:
            name = f"{run_id}-0001.jsonl"
            with (output / name).open("w", encoding="utf-8") as f:
                for k in range(3):
                    published = started - timedelta(hours=1 + k)
                    f.write(
                        json.dumps(
                            {
                                "url": f"https://www.ecns.cn/news/{n}-{k}.shtml",
                                "section": sections[(n + k) % 3],
                                "title": "t",
                                "published": published.astimezone(TZ).isoformat(),
                                "source": "Xinhua" if k else None,
                                "editor": "Li Yan",
                                "body": "b",
                                "images": [],
                                "crawled_at": finished.isoformat(),
                                "version": 1,
                            }
                        )
                        + "\n"
                    )
            files.append({"path": name, "items": 3, "sha256": "0" * 64})
        manifest = {
            "manifest_version": 1,
            "run_id": run_id,
            "started_at": started.isoformat(),
            "finished_at": finished.isoformat(),
            "status": status,
            "reason": reason,
            "exit_code": 4 if failed else 0,
            "items": 0 if failed else 3,
            "files": files,
            "given_up": [],
            "stats": {
                "requests": 40 + n % 7,
                "dropped_by_reason": {"DuplicateUrl": n % 3},
                "newscrawl": {"corrections": n % 2},
            },
        }
        (output / f"{run_id}.manifest.json").write_text(json.dumps(manifest))
    db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, NULL, ?)", rows)
    db.commit()
    db.close()
    return output, state, end


def test_a_report_over_10000_runs_builds_in_under_5_seconds(tmp_path: Path) -> None:
    output, state, end = synthetic_history(tmp_path, 10_000)
    started = time.perf_counter()
    page = build_report(output, state, days=None, now=end)
    took = time.perf_counter() - started
    assert took < 5, f"{took:.1f} s"
    doc = lxml_html.fromstring(page)
    # Past PER_RUN_LIMIT runs, one point a day: 10,000 hours are 417 or 418 days.
    assert PER_RUN_LIMIT < 10_000
    requests = doc.xpath("//figure[@data-chart='runs-requests']//rect[@data-series='requests']")
    assert 417 <= len(requests) <= 418
    assert sum(float(r.get("data-value")) for r in requests) == sum(
        40 + n % 7 for n in range(10_000)
    )
    failed = doc.xpath("//h3[starts-with(., 'Failed runs')]")[0].text_content()
    assert failed == "Failed runs (200)"
    # The default period, 30 days: hourly runs, one point a day.
    page = build_report(output, state, now=end)
    doc = lxml_html.fromstring(page)
    requests = doc.xpath("//figure[@data-chart='runs-requests']//rect[@data-series='requests']")
    assert len(requests) in (30, 31)
