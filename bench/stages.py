"""What each stage of ``ecns`` costs per article, outside Scrapy: where the gap
between the full crawl and the minimal spider goes.

Why: the throughput benchmark gives one ratio for the whole process; a profile
of the crawl is distorted by the profiler (it inflates Python-heavy code several
times more than C code such as SQLite). This runs the real code of each stage,
in order, over the article pages of a replica read from disk, and times each
with the process's CPU clock: decoding and extraction (shared with the minimal
spider), the spider's own page checks, the item loader (against the plain dict
the minimal spider builds), then every pipeline of ``ITEM_PIPELINES`` as
configured, with a real state database in a temporary folder and the real
output files. It is a diagnostic, not one of the four benchmarks::

    python -m bench.stages REPLICA_ROOT [--limit 3000] [-s KEY=VALUE ...] [--detail]

The numbers are CPU µs per article; their sum is below the crawl's CPU per page,
which also pays for Scrapy's engine, downloads, logging and start-up. ``--detail``
also times the parts of the duplicate and output stages (``DETAIL``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.misc import load_object

from bench.minimal_spider import minimal_item
from bench.parse_ceiling import crawled_pages
from newscrawl.extract import extract_article
from newscrawl.extract.encoding import is_misdecoded, is_truncated, redecode
from newscrawl.loaders import load_article
from newscrawl.state import StateStore
from newscrawl.urls import canonical_url

SITE_ORIGIN = "http://127.0.0.1"
# ``--detail``: the parts of the duplicate and output stages, timed where they are
# defined (module, attribute path). Parts are included in their stage's time.
DETAIL = (
    ("newscrawl.state", "StateStore.find_copy"),
    ("newscrawl.state", "StateStore.claim"),
    ("newscrawl.state", "StateStore.mark_written"),
    ("newscrawl.neardup", "Fingerprint.__init__"),
    ("newscrawl.neardup", "NearDuplicateIndex.find_fingerprint"),
    ("newscrawl.neardup", "NearDuplicateIndex.add_fingerprint"),
    ("newscrawl.neardup", "_savepoint.__exit__"),
    ("newscrawl.pipelines.duplicates", "content_hash"),
    ("newscrawl.pipelines.duplicates", "revision_hash"),
    ("newscrawl.spam", "judge_page"),
    ("scrapy.exporters", "JsonLinesItemExporter.export_item"),
)


class _Run:
    """The parts of ``newscrawl.run.Run`` the pipelines use, on a real state."""

    def __init__(self, folder: Path) -> None:
        self.run_id = "bench-20260101T000000Z-0000"
        self.state = StateStore(folder / "state", self.run_id)
        self.state.start_run()
        self.output = folder / "output"
        self.output.mkdir()
        self.aborted = False
        self.files: list[tuple[Path, int]] = []

    def file_path(self, number: int) -> Path:
        return self.output / f"{self.run_id}-{number:04d}.jsonl"

    def add_file(self, path: Path, items: int) -> None:
        self.files.append((path, items))

    def abort(self, key: str, message: str) -> DropItem:
        raise RuntimeError(f"{key}: {message}")


def _crawler(folder: Path, overrides: dict[str, str]) -> Any:
    settings = Settings()
    settings.setmodule("newscrawl.settings", priority="project")
    settings.set("ECNS_BASE_URL", SITE_ORIGIN, priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    crawler = SimpleNamespace(settings=settings)
    crawler.stats = MemoryStatsCollector(crawler)
    run = _Run(folder)
    crawler.run = run
    crawler.get_extension = lambda cls: run  # the pipelines' way to the run
    return crawler


def _pipelines(crawler: Any) -> list[tuple[str, Any]]:
    configured = crawler.settings.getwithbase("ITEM_PIPELINES")
    ordered = sorted((order, path) for path, order in configured.items() if order is not None)
    return [
        (path.rsplit(".", 1)[-1], load_object(path).from_crawler(crawler)) for _, path in ordered
    ]


def _time_parts(spent: dict[str, float], clock: Callable[[], float]) -> None:
    """Wrap each ``DETAIL`` function so its CPU time adds up under ``  part: name``."""
    for module_name, path in DETAIL:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        original = getattr(owner, name, None)
        if original is None:  # not in this version of the code
            continue
        label = f"  part: {path}"

        def wrapper(*args: Any, _f: Any = original, _label: str = label, **kw: Any) -> Any:
            t0 = clock()
            try:
                return _f(*args, **kw)
            finally:
                spent[_label] += clock() - t0

        setattr(owner, name, wrapper)
        for module in list(sys.modules.values()):  # names imported before the wrap
            if not parents and getattr(module, name, None) is original:
                setattr(module, name, wrapper)


def measure(
    root: Path, limit: int, overrides: dict[str, str], detail: bool = False
) -> dict[str, Any]:
    _, articles = crawled_pages(root)
    articles = articles[:limit] if limit else articles
    site = root / "site"
    pages = [(f"{SITE_ORIGIN}/{p.relative_to(site).as_posix()}", p.read_bytes()) for p in articles]
    spent: dict[str, float] = defaultdict(float)
    dropped: dict[str, int] = defaultdict(int)
    clock = time.process_time

    @contextmanager
    def timer(name: str) -> Iterator[None]:
        t0 = clock()
        try:
            yield
        finally:
            spent[name] += clock() - t0

    if detail:
        _time_parts(spent, clock)
    with tempfile.TemporaryDirectory(prefix="newscrawl-stages-") as tmp:
        crawler = _crawler(Path(tmp), overrides)
        pipelines = _pipelines(crawler)
        for _, pipeline in pipelines:
            if hasattr(pipeline, "open_spider"):
                pipeline.open_spider()
        gc.collect()
        gc_before = sum(s["collected"] for s in gc.get_stats())
        t_start = clock()
        for url, body in pages:
            with timer("response + text decoding (both)"):
                response = HtmlResponse(url, body=body, encoding="utf-8")
                response.text  # noqa: B018 (decoded once, cached: the selector's text)
            with timer("spider page checks (ecns only)"):
                response = redecode(response)
                is_misdecoded(response)
                is_truncated(response)
            with timer("selector + extract_article (both)"):
                raw = extract_article(response.selector, canonical_url(url, SITE_ORIGIN) or url)
            with timer("minimal spider's dict (for comparison)"):
                minimal_item(raw, url, None)
            with timer("item loader (ecns)"):
                item: Any = load_article(raw, url=url, listing_date=None)
            for name, pipeline in pipelines:
                try:
                    with timer(name):
                        item = pipeline.process_item(item)
                except DropItem as exc:
                    dropped[type(exc).__name__] += 1
                    break
        for _, pipeline in pipelines:
            if hasattr(pipeline, "close_spider"):
                with timer("close_spider"):
                    pipeline.close_spider()
        total = clock() - t_start
        crawler.run.state.close()
    n = len(pages)
    return {
        "articles": n,
        "dropped": dict(dropped),
        "us_per_article": {name: 1e6 * s / n for name, s in spent.items()},
        "loop_us_per_article": 1e6 * total / n,
        "gc_collected": sum(s["collected"] for s in gc.get_stats()) - gc_before,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stages")
    parser.add_argument("root", type=Path, help="a replica root (with site/ and truth.jsonl)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many articles")
    parser.add_argument("-s", "--setting", action="append", default=[], help="KEY=VALUE")
    parser.add_argument("--json", type=Path, help="write the result here as JSON")
    parser.add_argument("--detail", action="store_true", help="time the parts of stages too")
    args = parser.parse_args(argv)
    overrides = dict(s.split("=", 1) for s in args.setting)
    result = measure(args.root, args.limit, overrides, args.detail)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(f"{result['articles']} articles; dropped: {result['dropped']}")
    for name, us in result["us_per_article"].items():
        print(f"{us:9.1f} µs  {name}")
    print(f"{result['loop_us_per_article']:9.1f} µs  whole loop, per article")
    return 0


if __name__ == "__main__":
    sys.exit(main())
