"""State for the scheduled-run benchmarks: a real first run, then an archive seeded
in bulk.

Why a real first run: the replica's own stories must be known the way production
knows them (delivered, duplicate, spam page, and the not-found and no-body pages
recorded as retryable), with the run history the verdict compares against and
every section marked as paged to its end. Only the bulk of the archive, stories
that no listing leads to any more, is seeded directly: 100,000 rows in one
transaction take about a second, crawling them would take minutes.

Seeded URLs live under ``/news/archive/2019-…/detail-bench…`` on the same origin,
so they share the table and its indexes with the replica's stories and never
collide with them.

Every seeded story also gets a delivered fingerprint in the near-duplicate index
(``newscrawl.neardup``), made by the index itself (``add`` then ``promote``) from
a generated body of ten-odd sentences of random words: the index grows with the
archive in production, so a benchmark that left it empty would miss whatever
scans it, and seeding through the index's own methods follows its layout. The
bodies share no sentence with the replica's stories: a lookup finds their keys
in the key filter only by chance. About 150 µs a story.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bench.crawls import AS_IS, CrawlResult, Variant, run_ecns
from newscrawl.neardup import NearDuplicateIndex
from newscrawl.state import DB_NAME

SEED_RUN_ID = "ecns-20190101T000000Z-0000"
# Random words for the seeded bodies: enough that no two bodies share a sentence.
WORDS = ["".join(random.Random(n).choices("abcdefghijklmnopqrstuvwxyz", k=3 + n % 7))
         for n in range(5000)]  # fmt: skip


SETTLE_RUNS = 4  # newscrawl retries a failing story in up to 3 runs, then gives it up


@dataclass(frozen=True)
class Template:
    """The state every measured run starts from, and how it was made."""

    state: Path
    manifest: Path  # the first run's manifest (a model for seeded past runs)
    first: CrawlResult  # the first run: every story of the replica
    settle_requests: list[int]  # requests of each later run, until nothing is retried


def first_runs(
    base_url: str, work: Path, spider_args: dict[str, str], variant: Variant = AS_IS
) -> Template:
    """A first run over the replica, then runs on the unchanged replica until one
    fetches nothing but page 1 of each section and robots.txt: the pages that fail
    (404s, pages without a body) are retried by the next runs, up to three, and an
    hourly crawler's steady state is past that. Each run is checked complete."""
    first = run_ecns(base_url, work / "run-1", spider_args=spider_args, variant=variant)
    if not first.status.startswith("complete"):
        raise RuntimeError(f"the first run failed: {first.status}; see {work}/run-1")
    state = work / "run-1" / "state"
    settle: list[int] = []
    for n in range(2, 2 + SETTLE_RUNS):
        run = run_ecns(
            base_url, work / f"run-{n}", state_dir=state, spider_args=spider_args, variant=variant
        )
        if not run.status.startswith("complete"):
            raise RuntimeError(f"settling run {n} failed: {run.status}; see {work}/run-{n}")
        settle.append(run.requests)
        if run.stats.get("newscrawl", {}).get("articles_requested", 0) == 0:
            break
    manifest = next((work / "run-1" / "output").glob("*.manifest.json"))
    return Template(state, manifest, first, settle)


def copy_state(template: Path, target: Path) -> Path:
    """A fresh copy of a state folder (the database only: no lock, no logs)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
        if (template / name).exists():
            shutil.copy2(template / name, target / name)
    return target


def seeded_url(base_url: str, i: int) -> str:
    day = f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}"
    return f"{base_url.rstrip('/')}/news/archive/{day}/detail-bench{i:010d}.shtml"


def seed_stories(state_dir: Path, base_url: str, count: int) -> bool:
    """Add ``count`` delivered stories that no listing of the replica links to.
    Returns whether near-duplicate fingerprints were seeded too."""

    def rows() -> object:
        for i in range(count):
            aid = f"bench{i:010d}"
            digest = hashlib.sha256(aid.encode()).hexdigest()
            url = seeded_url(base_url, i)
            yield (url, aid, digest, "delivered", SEED_RUN_ID, "2019-01-01T00:00:00+00:00")

    db = sqlite3.connect(state_dir / DB_NAME, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        index = NearDuplicateIndex(db)  # before BEGIN: it creates its tables if missing
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO stories (url, article_id, content_hash, outcome, run_id, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows(),  # type: ignore[arg-type]
        )
        near = _seed_neardup(index, base_url, count)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return near


def seeded_body(rng: random.Random) -> str:
    """Ten-odd sentences of random words, in paragraphs of two."""
    sentences = [
        " ".join(rng.choices(WORDS, k=rng.randint(8, 24))).capitalize() + "."
        for _ in range(rng.randint(8, 14))
    ]
    return "\n".join(" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2))


def _seed_neardup(index: NearDuplicateIndex, base_url: str, count: int) -> bool:
    """Delivered fingerprints for the seeded stories (inside the caller's
    transaction): added as the seed run's, then promoted, as a run's end does."""
    rng = random.Random(count)
    for i in range(count):
        index.add(seeded_url(base_url, i), seeded_body(rng), SEED_RUN_ID)
    return index.promote(SEED_RUN_ID) == count


def seed_past_runs(state_dir: Path, output_dir: Path, template_manifest: Path, runs: int) -> None:
    """``runs`` earlier complete runs, as production leaves them: a manifest and its
    (here empty) file in the output folder, a delivered row in ``runs``.

    Every run start reads the output folder to recover killed runs
    (``newscrawl.run.Run._recover``), so the folder's size is part of what a
    scheduled run costs as the archive grows.
    """
    manifest = json.loads(template_manifest.read_text(encoding="utf-8"))
    output_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(state_dir / DB_NAME, isolation_level=None)
    try:
        db.execute("BEGIN")
        for n in range(runs):
            day, second = divmod(n, 86400)
            run_id = f"ecns-2019{1 + day // 28 % 12:02d}{1 + day % 28:02d}T{second // 3600:02d}"
            run_id += f"{second // 60 % 60:02d}{second % 60:02d}Z-{n % 65536:04x}"
            name = f"{run_id}-0001.jsonl"
            (output_dir / name).touch()
            manifest.update(run_id=run_id, files=[{"path": name, "items": 10, "sha256": "0" * 64}])
            (output_dir / f"{run_id}.manifest.json").write_text(
                json.dumps(manifest, indent=2), encoding="utf-8"
            )
            db.execute(
                "INSERT INTO runs (run_id, started_at, finished_at, status, items, delivered_at)"
                " VALUES (?, '2019-01-01T00:00:00+00:00', '2019-01-01T00:00:01+00:00',"
                " 'complete', 10, '2019-01-01T00:00:01+00:00')",
                (run_id,),
            )
        db.execute("COMMIT")
    finally:
        db.close()
