"""The HTTP(S) download handler: Scrapy's HTTP/1.1 handler, with two additions.

- Its downloads in flight can be cancelled at once: on ``stop_deadline_reached``
  (``newscrawl.stop``) each fails with ``DownloadStopped``, whatever
  ``DOWNLOAD_TIMEOUT`` says. Scrapy keeps no handle on a download once it has
  started, so the handler keeps one (the asyncio task of each download).
- A response larger than ``DOWNLOAD_MAXSIZE`` fails with ``ResponseTooLarge``,
  whose message says so. Scrapy's handler stops reading such a response (at once
  when its Content-Length says so, as soon as the bytes read pass the limit when
  it has none: chunked or read to the end of the connection) and fails it with a
  ``DownloadCancelledError``; when the body passed the limit its message is empty,
  and an errback had nothing to log.

A compressed response within the limit that grows past it when decompressed is
refused by Scrapy's ``HttpCompressionMiddleware`` (decompression stops at the
limit) with an ``IgnoreRequest`` that says so.
"""

from __future__ import annotations

import asyncio
import logging
import re

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import is_asyncio_available

from newscrawl.stop import DownloadStopped, stop_deadline_reached

logger = logging.getLogger(__name__)

# Scrapy's message when the Content-Length is over the limit.
EXPECTED_SIZE = re.compile(r"Expected to receive (\d+) bytes")


class ResponseTooLarge(IgnoreRequest):
    """A response larger than ``DOWNLOAD_MAXSIZE``: refused, and not retried within
    the run (Scrapy's RetryMiddleware leaves ``IgnoreRequest`` alone)."""

    def __init__(self, maxsize: int, detail: str) -> None:
        super().__init__(f"response larger than DOWNLOAD_MAXSIZE ({maxsize} bytes): {detail}")
        self.maxsize = maxsize


def too_large(exc: DownloadCancelledError, maxsize: int) -> ResponseTooLarge | None:
    """What a ``DownloadCancelledError`` of Scrapy's HTTP/1.1 handler means, when it
    means the size limit: with Scrapy's message when the Content-Length announced too
    much, with none when the body read passed the limit (nothing else cancels a
    download there without saying why: timeouts are ``DownloadTimeoutError``)."""
    message = str(exc)
    if not message:
        return ResponseTooLarge(maxsize, f"cut off after {maxsize} bytes")
    m = EXPECTED_SIZE.match(message)
    if m:
        return ResponseTooLarge(maxsize, f"Content-Length {m.group(1)}")
    return None


class HttpDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._in_flight: dict[Request, asyncio.Task[Response]] = {}
        crawler.signals.connect(self.cancel_in_flight, signal=stop_deadline_reached)

    async def download_request(self, request: Request) -> Response:
        if not is_asyncio_available():  # a Twisted reactor without asyncio: no handle
            return await self._download(request)
        task = asyncio.ensure_future(self._download(request))
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

    async def _download(self, request: Request) -> Response:
        try:
            return await super().download_request(request)
        except DownloadCancelledError as exc:
            maxsize = request.meta.get("download_maxsize", self._default_maxsize)
            refused = too_large(exc, maxsize)
            if refused is None:
                raise
            raise refused from exc

    def cancel_in_flight(self) -> None:
        tasks = [task for task in self._in_flight.values() if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            self._crawler.stats.inc_value("newscrawl/stop_cancelled_downloads", len(tasks))
            logger.info("Stopping: %d download(s) in flight cancelled", len(tasks))
