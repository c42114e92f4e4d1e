"""The HTTP(S) download handler: Scrapy's HTTP/1.1 handler whose downloads in
flight can be cancelled at once: on ``stop_deadline_reached`` (``newscrawl.stop``)
each fails with ``DownloadStopped``, whatever ``DOWNLOAD_TIMEOUT`` says. Scrapy
keeps no handle on a download once it has started, so the handler keeps one (the
asyncio task of each download).
"""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import is_asyncio_available

from newscrawl.stop import DownloadStopped, stop_deadline_reached

logger = logging.getLogger(__name__)


class HttpDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._in_flight: dict[Request, asyncio.Task[Response]] = {}
        crawler.signals.connect(self.cancel_in_flight, signal=stop_deadline_reached)

    async def download_request(self, request: Request) -> Response:
        if not is_asyncio_available():  # a Twisted reactor without asyncio: no handle
            return await super().download_request(request)
        task = asyncio.ensure_future(super().download_request(request))
        self._in_flight[request] = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current and current.cancelling()):
                raise DownloadStopped(in_flight=True) from None
            raise  # this coroutine itself is being cancelled
        finally:
            self._in_flight.pop(request, None)

    def cancel_in_flight(self) -> None:
        tasks = [task for task in self._in_flight.values() if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            self._crawler.stats.inc_value("newscrawl/stop_cancelled_downloads", len(tasks))
            logger.info("Stopping: %d download(s) in flight cancelled", len(tasks))
