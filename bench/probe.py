"""A diagnostic Scrapy extension: what is in memory while a crawl runs.

Why: a peak RSS says how much, not what. Every ``BENCH_PROBE_INTERVAL`` seconds
this logs the scheduler's queue length, the dupefilter's fingerprint count,
requests in the downloader, items being processed, objects tracked by the cyclic
garbage collector and the RSS, so growth can be pinned on a structure. Enable it
on any crawl::

    scrapy crawl ecns -s 'EXTENSIONS={"bench.probe.MemoryProbe": 0}'

(from the project folder, so that ``bench`` is importable). It is off in the
benchmark's own measurements.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

logger = logging.getLogger(__name__)


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class MemoryProbe:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("BENCH_PROBE_INTERVAL", 5.0)
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        probe = cls(crawler)
        crawler.signals.connect(probe.opened, signal=signals.spider_opened)
        crawler.signals.connect(probe.closed, signal=signals.spider_closed)
        return probe

    def opened(self) -> None:
        self.loop = task.LoopingCall(self.log)
        self.loop.start(self.interval, now=False)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.log()

    def snapshot(self) -> dict[str, Any]:
        engine = self.crawler.engine
        assert engine is not None
        slot = engine._slot
        scheduler = slot.scheduler if slot is not None else None
        dupefilter = getattr(scheduler, "df", None)
        # The private set: the public property copies it (and is deprecated).
        fingerprints = getattr(dupefilter, "_fingerprints", None)
        stats = self.crawler.stats
        return {
            "items": stats.get_value("item_scraped_count", 0),
            "responses": stats.get_value("response_received_count", 0),
            "scheduled": len(scheduler) if scheduler is not None else None,
            "fingerprints": len(fingerprints) if fingerprints is not None else None,
            "downloader_active": len(engine.downloader.active),
            "scraper_active": len(engine.scraper.slot.active) if engine.scraper.slot else None,
            "gc_tracked": len(gc.get_objects()),
            "gc_counts": gc.get_count(),
            "rss_mb": round(_rss_mb(), 1),
        }

    def log(self) -> None:
        logger.info("bench probe %s", json.dumps(self.snapshot()))
