"""Downloader middleware: politeness Scrapy does not do by itself.

- ``Retry-After`` on 429 and 503: the host's download slot waits that long
  (capped by ``NEWSCRAWL_MAX_RETRY_AFTER``) before the retry and the requests
  after it, then returns to its delay (scrapy #3849, #4424).
- ``Crawl-delay`` in robots.txt: the slot never sends faster than it asks,
  whatever AutoThrottle computes (scrapy #892).
- A wait longer than the run has left before ``CLOSESPIDER_TIMEOUT`` stops the run
  at once (close reason ``retry_after_past_deadline`` or
  ``crawl_delay_past_deadline``, stats of the same names under ``newscrawl/``):
  waiting it out would end the run anyway, later and with nothing more done; the
  next run carries on. The slot keeps the wait, so nothing more is sent to the
  host, and ``newscrawl.stop.StopDeadline`` drops what waits in it.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from newscrawl.stop import engine_closing

logger = logging.getLogger(__name__)

BACKOFF_STATUSES = frozenset({429, 503})


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PolitenessMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("NEWSCRAWL_MAX_RETRY_AFTER")
        self.user_agent = crawler.settings.get("USER_AGENT")
        self.run_limit = crawler.settings.getfloat("CLOSESPIDER_TIMEOUT")
        self.opened_at = time.monotonic()
        self.closing: Deferred[None] | None = None
        self.crawl_delay: dict[str, float] = {}  # slot key → robots.txt Crawl-delay
        # slot key → (until, delay before, jitter before)
        self.paused: dict[str, tuple[float, float, float]] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessMiddleware:
        return cls(crawler)

    def spider_opened(self) -> None:
        self.opened_at = time.monotonic()  # where CLOSESPIDER_TIMEOUT counts from

    def time_left(self) -> float | None:
        """Seconds the run has left before CLOSESPIDER_TIMEOUT (None: no limit)."""
        if self.run_limit <= 0:
            return None
        return self.opened_at + self.run_limit - time.monotonic()

    def past_deadline(self, what: str, key: str, wait: float) -> bool:
        """Stop the run when a wait of ``wait`` s outlasts it (see the module)."""
        left = self.time_left()
        if left is None or wait <= left or engine_closing(self.crawler):
            return False  # no limit, time enough, or the run is stopping already
        reason = f"{what}_past_deadline"
        self.crawler.stats.inc_value(f"newscrawl/{reason}")
        logger.warning(
            "%s asks to wait %.0f s (%s) and the run has %.0f s left before "
            "CLOSESPIDER_TIMEOUT: stopping now, the next run carries on",
            key,
            wait,
            "Retry-After" if what == "retry_after" else "Crawl-delay",
            max(left, 0.0),
        )
        if self.closing is None and self.crawler.engine is not None:
            self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
        return True

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if delay:
            key = urlparse_cached(request).hostname or ""
            self.crawl_delay[key] = min(delay, self.max_wait)
            self.crawler.stats.set_value("newscrawl/robots_crawl_delay", delay)
            logger.info("robots.txt asks for Crawl-delay %s s on %s: honoured", delay, key)
            self.past_deadline("crawl_delay", key, self.crawl_delay[key])

    def _slot(self, request: Request) -> tuple[str, Any]:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        return key, downloader.slots.get(key)

    def process_request(self, request: Request) -> None:
        key, slot = self._slot(request)
        if slot is None:
            return
        floor = self.crawl_delay.get(key, 0.0)
        paused = self.paused.get(key)
        if paused and time.monotonic() >= paused[0]:
            del self.paused[key]
            slot.delay = max(paused[1], floor)
            slot.jitter = paused[2]
        elif slot.delay < floor:
            slot.delay = floor
        if floor:
            slot.jitter = 0.0  # a random delay would go below the floor

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in BACKOFF_STATUSES:
            return response
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            return response
        wait = min(wait, self.max_wait)
        key, slot = self._slot(request)
        if slot is not None:
            _, delay, jitter = self.paused.get(key, (0.0, slot.delay, slot.jitter))
            slot.delay = max(slot.delay, wait)
            # Scrapy draws each delay between 0.5 and 1.5 times ``slot.delay``: the
            # retry could come at half the wait the host asked for.
            slot.jitter = 0.0
            self.paused[key] = (time.monotonic() + wait, delay, jitter)
        if not self.past_deadline("retry_after", key, wait):
            self.crawler.stats.inc_value("newscrawl/retry_after_honoured")
            logger.info("%s answered %d, Retry-After %.0f s: waiting", key, response.status, wait)
        return response
