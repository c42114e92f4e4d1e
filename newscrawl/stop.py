"""A graceful stop that ends within a bounded time.

Why Scrapy's own stop can take many minutes: a stop (SIGTERM, one SIGINT, the
``CLOSESPIDER_TIMEOUT`` run-time limit, any ``close_spider``) makes the engine wait
until every request it handed to the downloader is done
(``ExecutionEngine.close_spider_async`` awaits its slot's ``inprogress`` set)
before it closes the downloader and sends ``spider_closed``, where the run writes
its files and manifest. Those requests are

- downloads in flight, which end at ``DOWNLOAD_TIMEOUT`` (180 s, then a retry
  that is dropped) when the server never answers;
- requests waiting in a download slot's queue, sent one ``slot.delay`` apart:
  after a ``Retry-After`` the delay is that wait (up to ``NEWSCRAWL_MAX_RETRY_AFTER``,
  600 s) for every one of them;
- requests waiting in a downloader middleware for robots.txt.

No signal says that a close has begun, so ``StopDeadline`` looks twice a second.
Once a close has begun it leaves ``NEWSCRAWL_STOP_GRACE`` seconds to the downloads
in flight, then

- cancels them (``newscrawl.handlers.HttpDownloadHandler`` listens to
  ``stop_deadline_reached``), independently of ``DOWNLOAD_TIMEOUT``;
- drops what waits in the download slots' queues, and ``StopDeadlineMiddleware``
  drops every request that reaches the downloader after that.

A slot whose next request could not leave before the grace ends (a ``Retry-After``
or ``Crawl-delay`` wait) has its queue dropped at once.

A dropped or cancelled request of the spider is handed back to the engine, which
schedules it and drops it with the scheduler's queue when the spider closes: the
spider's callbacks and errbacks never see it, so the spider knows it as a request
that got no answer because the run stopped early (not the story's fault), and the
next run fetches it. Requests the spider does not answer (robots.txt, with
``NO_CALLBACK``) fail with ``DownloadStopped``.

Stats: ``newscrawl/stop_cancelled_downloads`` (downloads in flight cancelled),
``newscrawl/stop_dropped_requests`` (requests dropped before they were sent).
"""

from __future__ import annotations

import logging
import time
from typing import Self

from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import (
    AsyncioLoopingCall,
    CallLaterResult,
    call_later,
    create_looping_call,
)
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Sent once the grace period of a stop is over: what is still being downloaded is
# cancelled, what waits to be sent is dropped.
stop_deadline_reached = object()

# How often StopDeadline looks whether the engine has begun to close (seconds).
POLL_INTERVAL = 0.5


class DownloadStopped(IgnoreRequest):
    """A request dropped or a download cancelled because the run is stopping."""

    def __init__(self, *, in_flight: bool = False) -> None:
        what = "download cancelled" if in_flight else "request dropped"
        super().__init__(f"{what}: the run is stopping")
        self.in_flight = in_flight


def engine_closing(crawler: Crawler) -> bool:
    """Whether the engine has begun to close the spider. Scrapy 2.19 sends no signal
    for it; its engine slot's ``closing`` is set from that moment on."""
    engine = crawler.engine
    if engine is None:
        return False
    slot = getattr(engine, "_slot", None)
    return slot is not None and slot.closing is not None


def back_to_engine(request: Request) -> Request:
    """The request as the engine takes it back: scheduled again, never to be sent
    (the engine is closing), dropped with the scheduler's queue. ``dont_filter``:
    the duplicate filter would drop it at once, and the spider would take that drop
    for another request of the same page answering it."""
    return request.replace(dont_filter=True)


class StopDeadline:
    """Extension: bounds the time from the start of a close to ``spider_closed``."""

    def __init__(self, crawler: Crawler, grace: float) -> None:
        self.crawler = crawler
        self.grace = grace
        self.deadline: float | None = None  # monotonic time the grace ends
        self.expired = False
        self._poll: AsyncioLoopingCall | LoopingCall | None = None
        self._timer: CallLaterResult | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        grace = crawler.settings.getfloat("NEWSCRAWL_STOP_GRACE", 20.0)
        if grace < 0:
            raise NotConfigured("NEWSCRAWL_STOP_GRACE is negative: stops are not bounded")
        return cls(crawler, grace)

    def spider_opened(self) -> None:
        self._poll = create_looping_call(self._check)
        self._poll.start(POLL_INTERVAL, now=False)

    def spider_closed(self) -> None:
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        if self.deadline is None:
            if not engine_closing(self.crawler):
                return
            self.deadline = time.monotonic() + self.grace
            logger.info(
                "Stopping: downloads in flight have %.0f s to finish, then they are "
                "cancelled and the requests still waiting are dropped",
                self.grace,
            )
            self._timer = call_later(self.grace, self.expire)
        if not self.expired:
            self._drop_slots_past(self.deadline)

    def _slots(self) -> dict[str, Slot]:
        engine = self.crawler.engine
        return engine.downloader.slots if engine is not None else {}

    def _drop_slots_past(self, deadline: float) -> None:
        """Drop the queues of slots whose next request could not leave before the
        grace ends (the slot waits out a Retry-After or a Crawl-delay)."""
        for key, slot in self._slots().items():
            if slot.queue and slot.lastseen + slot.delay > deadline:
                logger.info("Stopping: %s waits %.0f s before its next request", key, slot.delay)
                self._drop(slot)

    def _drop(self, slot: Slot) -> None:
        dropped = 0
        while slot.queue:
            _request, deferred = slot.queue.popleft()
            deferred.errback(Failure(DownloadStopped()))
            dropped += 1
        if dropped:
            self.crawler.stats.inc_value("newscrawl/stop_dropped_requests", dropped)

    def expire(self) -> None:
        """The grace is over: cancel what is in flight, drop what waits."""
        self._timer = None
        self.expired = True
        waiting = sum(len(slot.queue) for slot in self._slots().values())
        logger.warning(
            "Stopping: the %.0f s of grace are over: the downloads in flight are cancelled "
            "and %d waiting request(s) dropped; later runs fetch them",
            self.grace,
            waiting,
        )
        self.crawler.signals.send_catch_log(stop_deadline_reached)
        for slot in self._slots().values():
            self._drop(slot)


class StopDeadlineMiddleware:
    """Downloader middleware, the last before the downloader (highest order):
    after the grace of a stop, refuses every request that reaches it, and hands the
    spider's dropped and cancelled requests back to the engine (see the module)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.expired = False
        crawler.signals.connect(self.deadline_reached, signal=stop_deadline_reached)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def deadline_reached(self) -> None:
        self.expired = True

    def process_request(self, request: Request) -> Request | None:
        if not self.expired:
            return None
        self.crawler.stats.inc_value("newscrawl/stop_dropped_requests")
        if request.callback is NO_CALLBACK:
            raise DownloadStopped()
        return back_to_engine(request)

    def process_exception(
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if isinstance(exception, DownloadStopped) and request.callback is not NO_CALLBACK:
            return back_to_engine(request)
        return None
