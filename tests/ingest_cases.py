"""What every store does, as test cases: ``StoreCases`` is run once a store by
``tests/test_ingest_sqlite.py`` and ``tests/test_ingest_postgres.py``, which say
how to make an empty store (``new_store``) and how to search it.

Outputs are real crawls of the replica (``crawled_outputs``, made once a session)
and small synthetic runs written as the crawler writes them (``bench.ingest``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.ingest import StoryMaker, run_id_at, write_run
from newscrawl.consume import complete_manifests
from newscrawl.stores import StoreUnavailable, ingest, open_store, sqlite_path
from newscrawl.verdict import ExitCode
from replica import ReplicaServer, build_site
from replica.localrun import PROJECT_ROOT, crawl, read_jsonl, scrapy, scrapy_env

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MAKER = StoryMaker(seed=3, pool=300)
SECTIONS = {"sections": "politics,cns-wire"}

STORY_COLUMNS = (
    "article_id, url, section, title, published, published_raw, source, editor, body,"
    " images, crawled_at, content_hash, spam_removed, version, withdrawn_at,"
    " first_changed_at, last_changed_at, run_id"
)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def story(n: int, version: int = 1, crawled: float | None = None, **kw: Any) -> dict[str, Any]:
    """Story ``n``; ``crawled``: fetched that many hours after T0."""
    when = at(crawled) if crawled is not None else None
    return MAKER.story(n, version=version, crawled_at=when, paragraphs=(1, 3), **kw)


def gone(n: int, seen: float) -> dict[str, Any]:
    s = MAKER.story(n)
    return {
        "article_id": s["article_id"],
        "url": s["url"],
        "status": 404,
        "seen_at": at(seen).isoformat(),
    }


def run(out: Path, hours: float, stories: Iterable[dict[str, Any]], **kw: Any) -> Path:
    return write_run(out, at(hours), stories, n=int(hours * 100), **kw)


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with open_store(url) as store:
        rows = store.db.execute(sql).fetchall()  # type: ignore[attr-defined]
        store.db.commit()  # type: ignore[attr-defined]
        return [tuple(r) for r in rows]


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a store holds but its surrogate ids and when it ingested."""
    return {
        "stories": query(url, f"SELECT {STORY_COLUMNS} FROM stories ORDER BY article_id"),
        "withdrawals": query(
            url,
            "SELECT article_id, seen_at, url, status, run_id FROM withdrawals"
            " ORDER BY article_id, seen_at",
        ),
        "ingested_runs": query(
            url,
            "SELECT run_id, started_at, finished_at, stories, stories_changed, withdrawals,"
            " manifest FROM ingested_runs ORDER BY run_id",
        ),
    }


def applied_count(url: str) -> int:
    """How many runs the store has applied, read without waiting for an ingest."""
    sql = "SELECT count(*) FROM ingested_runs"
    if url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(sqlite_path(url), timeout=60)) as db:
            return int(db.execute(sql).fetchone()[0])
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        row = pg.execute(sql).fetchone()
        return int(row[0]) if row else 0


def story_state(url: str, n: int) -> tuple[int, bool, str] | None:
    """(version, withdrawn, title) of story ``n``."""
    article_id = MAKER.story(n)["article_id"]
    rows = query(
        url,
        f"SELECT version, withdrawn_at, title FROM stories WHERE article_id = '{article_id}'",
    )
    if not rows:
        return None
    version, withdrawn_at, title = rows[0]
    return version, withdrawn_at is not None, title


def start_ingest(out: Path, url: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "scrapy", "ingest", str(out), "--into", url]
    return subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=scrapy_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# -- real crawls of the replica, once a session ----------------------------------------


@dataclass(frozen=True)
class Crawled:
    first: Path  # the output folder after one crawl
    second: Path  # a copy of it after four stories were published and a second crawl


_crawled: dict[str, Crawled] = {}


def crawled_outputs(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """Two crawls of the replica, the second after four new stories: the output after
    the first, and after both (copied, so that tests may ingest either)."""
    if "done" in _crawled:
        return _crawled["done"]
    import shutil

    root = tmp_path_factory.mktemp("ingest-replica")
    build_site(root / "site")
    out, state = root / "out", root / "state"
    with ReplicaServer(root / "site") as server:
        first = crawl(server.base_url, out, state, spider_args=SECTIONS)
        assert first.returncode == 0, first.stderr[-2000:]
        shutil.copytree(out, root / "first")
        build_site(root / "site", new_on_top=4)
        second = crawl(server.base_url, out, state, spider_args=SECTIONS)
        assert second.returncode == 0, second.stderr[-2000:]
    _crawled["done"] = Crawled(root / "first", out)
    return _crawled["done"]


def delivered(output: Path) -> list[dict[str, Any]]:
    return [
        item for m in complete_manifests(output) for f in m.files for item in read_jsonl(f.path)
    ]


class StoreCases:
    """The cases; a subclass gives ``new_store`` and ``search``."""

    # A fresh, empty store's URL.
    new_store: Callable[[], str]

    def search(self, url: str, words: str) -> list[str]:
        """The article ids of live stories matching ``words`` (full-text)."""
        raise NotImplementedError

    # -- real crawls ------------------------------------------------------------------

    def test_a_crawl_is_loaded_whole_and_the_next_adds_its_new_stories(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        crawled = crawled_outputs(tmp_path_factory)
        url = self.new_store()
        first = ingest(crawled.first, url)
        items = delivered(crawled.first)
        assert first.stories == len(items) == first.changed > 100
        rows = query(url, f"SELECT {STORY_COLUMNS} FROM stories ORDER BY article_id")
        by_id = {row[0]: row for row in rows}
        assert sorted(by_id) == sorted(item["article_id"] for item in items)
        for item in items:
            row = by_id[item["article_id"]]
            assert row[1:4] == (item["url"], item["section"], item["title"])
            assert row[5:9] == (item["published_raw"], item["source"], item["editor"], item["body"])
            images = row[9] if isinstance(row[9], list) else json.loads(row[9])
            assert images == item["images"]
            assert row[13] == item["version"] and row[14] is None
        word = max(items[0]["title"].split(), key=len)
        assert items[0]["article_id"] in self.search(url, word)

        second = ingest(crawled.second, url)
        assert [r.stories for r in second.runs] == [4]
        assert len(query(url, "SELECT article_id FROM stories")) == len(items) + 4
        before = dump(url)
        again = ingest(crawled.second, url)
        assert again.runs == [] and dump(url) == before

    # -- versions and withdrawals -------------------------------------------------------

    def test_the_highest_version_is_kept_whatever_order_manifests_come_in(
        self, tmp_path: Path
    ) -> None:
        out, url = tmp_path / "out", self.new_store()
        run(out, 1, [story(1), story(2)])
        run(out, 2, [story(1, version=2, crawled=2)])
        result = ingest(out, url)
        assert [r.changed for r in result.runs] == [2, 1]
        assert story_state(url, 1) == (2, False, story(1, version=2)["title"])
        # A manifest of an earlier run shows up late: story 1 stays at version 2.
        late = run(out, 0.5, [story(1), story(3)])
        result = ingest(out, url)
        assert [(r.run_id, r.stories, r.changed) for r in result.runs] == [
            (late.name.removesuffix(".manifest.json"), 2, 1)
        ]
        assert story_state(url, 1) == (2, False, story(1, version=2)["title"])
        assert story_state(url, 3) is not None
        # The search index follows the row: the correction's title is found.
        assert MAKER.story(1)["article_id"] in self.search(url, "updated")

    def test_a_withdrawal_takes_a_story_down_and_a_higher_version_brings_it_back(
        self, tmp_path: Path
    ) -> None:
        out, url = tmp_path / "out", self.new_store()
        run(out, 1, [story(1), story(2)])
        run(out, 2, [], withdrawn=[gone(1, seen=2), gone(99, seen=2)])
        result = ingest(out, url)
        assert [r.withdrawals for r in result.runs] == [0, 2]
        assert story_state(url, 1) == (1, True, story(1)["title"])
        assert story_state(url, 2) == (1, False, story(2)["title"])
        assert story_state(url, 99) is None  # never delivered: the withdrawal is kept
        assert len(query(url, "SELECT * FROM withdrawals")) == 2
        withdrawn_at, last_changed = query(
            url,
            "SELECT withdrawn_at, last_changed_at FROM stories"
            f" WHERE article_id = '{MAKER.story(1)['article_id']}'",
        )[0]
        assert withdrawn_at == last_changed
        assert MAKER.story(1)["article_id"] not in self.search(url, story(1)["title"])
        run(out, 3, [story(1, version=2, crawled=3)])
        ingest(out, url)
        assert story_state(url, 1) == (2, False, story(1, version=2)["title"])

    def test_a_story_delivered_late_arrives_withdrawn_when_a_later_run_saw_it_gone(
        self, tmp_path: Path
    ) -> None:
        out, url = tmp_path / "out", self.new_store()
        run(out, 2, [], withdrawn=[gone(5, seen=2)])
        ingest(out, url)
        run(out, 1, [story(5, crawled=1), story(6, crawled=1)])  # late
        ingest(out, url)
        assert story_state(url, 5) == (1, True, story(5)["title"])
        assert story_state(url, 6) == (1, False, story(6)["title"])

    def test_manifests_in_dated_folders_and_flat_ones_are_read_in_run_order(
        self, tmp_path: Path
    ) -> None:
        out, url = tmp_path / "out", self.new_store()
        run(out, 1, [story(1)])
        dated = run(out, 30, [story(1, version=2, crawled=30)], dated=True)
        run(out, 50, [story(2)], status="failed")
        result = ingest(out, url)
        assert [r.run_id for r in result.runs] == [run_id_at(at(1), 100), run_id_at(at(30), 3000)]
        assert query(url, "SELECT manifest FROM ingested_runs ORDER BY run_id")[1] == (
            dated.relative_to(out).as_posix(),
        )
        assert dated.relative_to(out).parts[:3] == ("2026", "03", "02")
        assert story_state(url, 2) is None  # a failed run delivers nothing

    def test_two_ingests_at_once_apply_each_run_once(self, tmp_path: Path) -> None:
        out, url, reference = tmp_path / "out", self.new_store(), self.new_store()
        for hour in range(6):  # each run also corrects the same ten stories
            corrections = [story(i, version=hour + 2, crawled=hour) for i in range(10)]
            run(out, hour, [*corrections, *(story(100 + hour * 50 + i) for i in range(50))])
        ingest(out, reference)
        results: list[Any] = []
        threads = [
            threading.Thread(target=lambda: results.append(ingest(out, url))) for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        applied = sorted(r.run_id for result in results for r in result.runs)
        assert applied == sorted(r[0] for r in query(url, "SELECT run_id FROM ingested_runs"))
        assert len(applied) == 6
        assert dump(url) == dump(reference)

    # -- damage and failures -----------------------------------------------------------

    def test_a_tampered_file_stops_the_ingest_before_its_run(self, tmp_path: Path) -> None:
        out, url = tmp_path / "out", self.new_store()
        run(out, 1, [story(1)])
        second = run(out, 2, [story(2), story(3)])
        run(out, 3, [story(4)])
        files = json.loads(second.read_text())["files"]
        victim = second.parent / files[0]["path"]
        original = victim.read_bytes()
        victim.write_bytes(original.replace(b"\n", b" \n", 1))  # still JSON, other bytes
        result = scrapy("ingest", str(out), "--into", url)
        assert result.returncode == ExitCode.OUTPUT_FAILED
        (line,) = result.stderr.splitlines()
        assert victim.name in line and "sha256" in line, line
        assert [r[0] for r in query(url, "SELECT run_id FROM ingested_runs")] == [
            run_id_at(at(1), 100)
        ]
        assert [story_state(url, n) is not None for n in (1, 2, 3, 4)] == [
            True,
            False,
            False,
            False,
        ]
        victim.write_bytes(original)
        assert ingest(out, url).stories == 3

    def test_killed_ingests_end_as_one_uninterrupted_ingest(self, tmp_path: Path) -> None:
        """SIGKILL at random moments, again and again (the first while the command
        starts, the others once 1 to 4 more runs are applied, at a random moment of
        the next run's transaction); then one ingest to the end."""
        out, url, reference = tmp_path / "out", self.new_store(), self.new_store()
        runs, size = 24, 300
        for r in range(runs):
            stories = [story(r * size + i, crawled=r) for i in range(size)]
            withdrawn = []
            if r % 5 == 4:  # corrections and take-downs of earlier runs' stories
                stories += [story((r - 3) * size + i, version=2, crawled=r) for i in range(20)]
                withdrawn = [gone((r - 2) * size + i, seen=r + 0.5) for i in range(5)]
            run(out, r, stories, withdrawn=withdrawn)
        order = [m.run_id for m in complete_manifests(out)]

        # How long an ingest takes to start, and then to apply one run.
        started = time.monotonic()
        whole = scrapy("ingest", str(out), "--into", reference)
        assert whole.returncode == 0, whole.stderr
        took = time.monotonic() - started
        started = time.monotonic()
        assert scrapy("ingest", str(out), "--into", reference).returncode == 0
        startup = time.monotonic() - started
        per_run = max(took - startup, 0.1) / runs
        rng = random.Random(int(os.environ.get("KILL_SEED", "7")))
        kills = midway = 0
        open_store(url).close()  # its tables, for applied_count
        for cycle in range(30):
            before = applied_count(url)
            proc = start_ingest(out, url)
            if cycle == 0:
                time.sleep(rng.uniform(0.1, startup))  # while it starts
            else:
                # Once a few more runs are applied, at a random moment of the next.
                target = min(before + rng.randint(1, 4), runs)
                deadline = time.monotonic() + 60
                while applied_count(url) < target and proc.poll() is None:
                    assert time.monotonic() < deadline
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, per_run))
            running = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            applied = [r[0] for r in query(url, "SELECT run_id FROM ingested_runs")]
            # Whole runs only, in run order; each brings `size` new stories.
            assert sorted(applied) == sorted(order[: len(applied)])
            assert query(url, "SELECT count(*) FROM stories")[0][0] == size * len(applied)
            if running:
                kills += 1
                midway += 0 < len(applied) < runs
            if (kills >= 6 and midway >= 5) or len(applied) == runs:
                break
        assert kills >= 6 and midway >= 5, (kills, midway, startup, per_run)
        final = scrapy("ingest", str(out), "--into", url)
        assert final.returncode == 0, final.stderr
        assert dump(url) == dump(reference)
        assert scrapy("ingest", str(out), "--into", url).returncode == 0
        assert dump(url) == dump(reference)

    def test_a_store_that_cannot_be_reached_fails_in_one_line(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        run(out, 1, [story(1)])
        url = self.unreachable(tmp_path)
        with pytest.raises(StoreUnavailable):
            ingest(out, url)
        result = scrapy("ingest", str(out), "--into", url)
        assert result.returncode == 9
        (line,) = result.stderr.splitlines()
        assert line.startswith("newscrawl: ingest FAILED (exit 9): cannot reach the store")

    def unreachable(self, tmp_path: Path) -> str:
        raise NotImplementedError
