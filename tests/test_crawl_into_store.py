"""One cron line crawls and loads: with NEWSCRAWL_STORE_URL a complete run applies its
manifest to the store through ``scrapy ingest``'s code, and ends by writing its
Prometheus textfile; a store that is down leaves the manifest pending (exit 9) for
the next run or ingest to apply."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newscrawl.verdict import ExitCode
from replica.localrun import crawl
from tests.conftest import Replica

SECTIONS = {"sections": "politics"}


def stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM stories").fetchone()[0]


def test_a_crawl_loads_its_stories_and_a_store_down_leaves_them_pending(
    replica: Replica, tmp_path: Path
) -> None:
    out, state, db = tmp_path / "out", tmp_path / "state", tmp_path / "stories.sqlite3"
    metrics = tmp_path / "newscrawl.prom"
    down = crawl(
        replica.base_url,
        out,
        state,
        spider_args=SECTIONS,
        settings={"NEWSCRAWL_STORE_URL": f"sqlite:///{tmp_path}/no/such/folder/x.sqlite3"},
    )
    assert down.returncode == ExitCode.STORE_PENDING, down.stderr[-2000:]
    assert "NOT loaded into the store" in down.stderr.splitlines()[-1]
    loaded = crawl(
        replica.base_url,
        out,
        state,
        spider_args=SECTIONS,
        settings={"NEWSCRAWL_STORE_URL": f"sqlite:///{db}", "NEWSCRAWL_METRICS_FILE": str(metrics)},
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stderr.splitlines()[-1].endswith("; loaded into the store")
    # The first run's stories, pending since the store was down, are in the store now.
    assert stored(db) > 50
    assert "newscrawl_last_success_timestamp_seconds" in metrics.read_text()
