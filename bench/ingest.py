"""Benchmark: ``ingest`` of a large output into SQLite (with FTS5) and PostgreSQL
(with its GIN-indexed tsvector): stories a second and peak RSS, at 10,000 and at
50,000 stories (memory must stay flat: the output is streamed).

    python -m bench.ingest [--sizes 10000,50000] [--stores sqlite,postgres]

The output is synthetic but realistic: one backfill run per size, files of 10,000
stories (the crawler's ``NEWSCRAWL_FILE_MAX_ITEMS``), bodies of a few KB composed
from the replica's text generator (``replica.text.TextGen``), written as the
crawler writes them (files, then a manifest with their sha256). Each ingest runs in
a process of its own (``bench.measure``: VmHWM is that process's peak); the rate is
the ingest's own time (what follows Python's start-up), into an empty store.
PostgreSQL is a server this benchmark starts (``tests/postgres.py``).

Targets: ≥ 5,000 stories/s into each store, peak RSS < 150 MB.

The writer of synthetic outputs (``StoryMaker``, ``write_run``) is also what the
ingest tests build their outputs with.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.measure import run_measured
from bench.report import Section, Target, machine_line, table
from replica.localrun import PROJECT_ROOT
from replica.text import TOPICS, TextGen

SIZES = (10_000, 50_000)
STORES = ("sqlite", "postgres")
FILE_ITEMS = 10_000
TARGET_RATE = 5_000  # stories a second
TARGET_RSS_MB = 150
SITE = "https://www.ecns.cn"
SECTIONS = ("politics", "society", "economy", "sci-tech", "cns-wire")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SITE_ZONE = timezone(timedelta(hours=8))


class StoryMaker:
    """Stories as the crawler delivers them, from a seed: titles and paragraphs
    drawn once from ``TextGen``, bodies of 4 to 12 of them (1.5 to 5 KB)."""

    def __init__(self, seed: int = 1, pool: int = 2_000) -> None:
        rng = random.Random(seed)
        tg = TextGen(rng)
        kinds = list(TOPICS)
        self.rng = rng
        self.titles: list[str] = []
        self.paragraphs: list[str] = []
        for i in range(pool):
            text = tg.story(kinds[i % len(kinds)])
            self.titles.append(text.title())
            self.paragraphs.append(" ".join([text.lead(), *text.sentences(2)]))

    def story(
        self,
        number: int,
        *,
        version: int = 1,
        crawled_at: datetime | None = None,
        paragraphs: tuple[int, int] = (4, 12),
    ) -> dict[str, Any]:
        rng = random.Random(number * 1_000 + version)
        article_id = f"iaaa{number:011d}"
        section = SECTIONS[number % len(SECTIONS)]
        published = EPOCH + timedelta(minutes=number)
        crawled = crawled_at or published + timedelta(hours=1, seconds=version)
        body = "\n\n".join(rng.choice(self.paragraphs) for _ in range(rng.randint(*paragraphs)))
        title = rng.choice(self.titles)
        if version > 1:
            title += f" (updated {version})"
        local = published.astimezone(_SITE_ZONE)
        return {
            "url": f"{SITE}/news/{section}/{local:%Y-%m-%d}/detail-{article_id}.shtml",
            "article_id": article_id,
            "section": section,
            "title": title,
            "published": local.isoformat(),
            "published_raw": f"{local:%Y-%m-%d %H:%M:%S}",
            "source": rng.choice(["Xinhua", "China News Service", "ECNS", None]),
            "editor": rng.choice(["Li Yan", "Zhang Wei", None]),
            "body": body,
            "images": [{"url": f"{SITE}/img/{article_id}.jpg", "caption": "A view. (Photo/Xinhua)"}]
            if number % 4 == 0
            else [],
            "crawled_at": crawled.isoformat(),
            "content_hash": hashlib.sha256((title + body).encode()).hexdigest(),
            "spam_removed": number % 3,
            "version": version,
        }

    def stories(self, numbers: Iterable[int], **kwargs: Any) -> Iterator[dict[str, Any]]:
        for n in numbers:
            yield self.story(n, **kwargs)


def run_id_at(started: datetime, n: int) -> str:
    return f"ecns-{started:%Y%m%dT%H%M%SZ}-{n % 0x10000:04x}"


def write_run(
    folder: Path,
    started: datetime,
    stories: Iterable[dict[str, Any]],
    *,
    n: int = 0,
    file_items: int = FILE_ITEMS,
    withdrawn: Sequence[dict[str, Any]] = (),
    status: str = "complete",
    dated: bool = False,
) -> Path:
    """A run's files and manifest as the crawler writes them (the manifest last);
    ``dated`` puts them in ``YYYY/MM/DD/`` below ``folder``. Returns the manifest."""
    run_id = run_id_at(started, n)
    where = folder / f"{started:%Y/%m/%d}" if dated else folder
    where.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    out = None
    digest = hashlib.sha256()
    count = 0

    def close() -> None:
        if out is not None:
            out.close()
            files[-1].update(items=count, sha256=digest.hexdigest())

    for story in stories:
        if out is None or count == file_items:
            close()
            name = f"{run_id}-{len(files) + 1:04d}.jsonl"
            out = (where / name).open("wb")
            files.append({"path": name})
            digest, count = hashlib.sha256(), 0
        line = json.dumps(story, ensure_ascii=False).encode() + b"\n"
        out.write(line)
        digest.update(line)
        count += 1
    close()
    manifest = {
        "manifest_version": 1,
        "run_id": run_id,
        "spider": "ecns",
        "spider_arguments": {},
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=5)).isoformat(),
        "status": status,
        "reason": None if status == "complete" else "synthetic failure",
        "close_reason": "finished",
        "exit_code": 0 if status == "complete" else 5,
        "items": sum(f["items"] for f in files),
        "files": files,
        "given_up": [],
        "stats": {},
    }
    if withdrawn:
        manifest["withdrawn"] = list(withdrawn)
    path = where / f"{run_id}.manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


# -- the benchmark ------------------------------------------------------------------

CHILD = """
import json, sys, time
from newscrawl.stores import ingest
started = time.perf_counter()
result = ingest(sys.argv[1], sys.argv[2])
print(json.dumps({"stories": result.stories, "seconds": time.perf_counter() - started}))
"""


def measure(output: Path, url: str, log: Path) -> tuple[int, float, float, float]:
    """One ingest in a process of its own: stories, seconds, stories/s, peak RSS MB."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    cost = run_measured(
        [sys.executable, "-c", CHILD, str(output), url],
        cwd=PROJECT_ROOT,
        env=env,
        log_path=log,
        timeout=1_800,
    )
    if cost.returncode != 0:
        raise RuntimeError(f"ingest failed (exit {cost.returncode}): {log.read_text()[-2000:]}")
    done = json.loads(log.read_text().strip().splitlines()[-1])
    return done["stories"], done["seconds"], done["stories"] / done["seconds"], cost.max_rss_mb


def run(work: Path, *, sizes: Sequence[int] = SIZES, stores: Sequence[str] = STORES) -> Section:
    maker = StoryMaker()
    section = Section("Ingest: stories a second and peak memory")
    rows = []
    results: dict[tuple[str, int], tuple[float, float]] = {}
    with ExitStack() as stack:
        server = None
        if "postgres" in stores:
            from tests.postgres import postgres_server

            server = stack.enter_context(postgres_server())
        for size in sizes:
            output = work / f"out-{size}"
            if not output.exists():
                write_run(output, EPOCH, maker.stories(range(size)))
            mb = sum(p.stat().st_size for p in output.glob("*.jsonl")) / 1e6
            for store in stores:
                if store == "sqlite":
                    db = work / f"stories-{size}.sqlite3"
                    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                        leftover.unlink(missing_ok=True)
                    url = f"sqlite:///{db}"
                else:
                    assert server is not None
                    url = server.new_database()
                n, seconds, rate, rss = measure(output, url, work / f"{store}-{size}.log")
                results[(store, size)] = (rate, rss)
                rows.append([store, f"{n:,}", f"{mb:.0f} MB", f"{seconds:.1f}", rate, rss])
    section.add(table(["store", "stories", "output", "seconds", "stories/s", "peak RSS MB"], rows))
    command = "python -m bench.ingest --sizes " + ",".join(str(s) for s in sizes)
    section.add(f"`{command}`")
    for store in stores:
        rates = [results[(store, s)][0] for s in sizes]
        peaks = [results[(store, s)][1] for s in sizes]
        section.targets.append(
            Target(
                f"ingest into {store} ≥ {TARGET_RATE:,} stories/s",
                f"{min(rates):,.0f}",
                min(rates) >= TARGET_RATE,
            )
        )
        section.targets.append(
            Target(
                f"ingest into {store}: peak RSS < {TARGET_RSS_MB} MB, flat",
                " → ".join(f"{p:.0f}" for p in peaks) + " MB",
                max(peaks) < TARGET_RSS_MB,
            )
        )
        section.summary.append((f"ingest into {store}, stories/s", f"{min(rates):,.0f}", command))
    return section


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    p.add_argument("--stores", default=",".join(STORES))
    p.add_argument("--work", type=Path, help="keep the outputs and stores here")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    stores = [s for s in args.stores.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="newscrawl-ingest-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(machine_line(PROJECT_ROOT), flush=True)
        section = run(work, sizes=sizes, stores=stores)
        print(section.render())
        for t in section.targets:
            print(f"- {t.name}: {t.measured} ({t.verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
