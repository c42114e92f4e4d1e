"""A Scrapy extension to try garbage-collector settings on a real crawl.

Why: a crawl's peak memory is largely response↔selector reference cycles
waiting for the cyclic collector (LESSONS.md), so the collector's thresholds
trade CPU for memory. This lets the backfill benchmark measure that trade on
the real crawler without touching its code::

    python -m bench backfill -s 'EXTENSIONS={"bench.gc_tuning.GcTuning": 0}' \\
        -s BENCH_GC_THRESHOLD=200,10,10 -s BENCH_GC_FREEZE=True

``BENCH_GC_FREEZE`` moves everything alive once the spider opens (modules,
settings, compiled schemas) to the permanent generation, so full collections
stop walking it. The project now does that itself (``newscrawl.extensions.GcFreeze``,
on by default); ``-s EXTENSIONS=...`` replaces the project's extensions, so a run
with this one alone measures the crawler without its freeze.
"""

from __future__ import annotations

import gc
import logging
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class GcTuning:
    def __init__(self, threshold: tuple[int, ...] | None, freeze: bool) -> None:
        self.threshold = threshold
        self.freeze = freeze

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        raw = crawler.settings.get("BENCH_GC_THRESHOLD")
        threshold = tuple(int(x) for x in str(raw).split(",")) if raw else None
        ext = cls(threshold, crawler.settings.getbool("BENCH_GC_FREEZE"))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        return ext

    def opened(self) -> None:
        if self.threshold:
            gc.set_threshold(*self.threshold)
        if self.freeze:
            gc.collect()
            gc.freeze()
        logger.info(
            "gc: threshold %s, frozen %d objects", gc.get_threshold(), gc.get_freeze_count()
        )
