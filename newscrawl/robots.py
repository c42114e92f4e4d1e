"""robots.txt as RFC 9309 reads it, in place of Scrapy's ``RobotsTxtMiddleware``.

Scrapy parses whatever body a robots.txt request returns, a 5xx error page
included, and allows everything when the request fails: a site whose robots.txt
is down is crawled as if it had none. RFC 9309 (2.3.1):

- 2xx: the rules apply (Scrapy's parsing, ``Crawl-delay`` included);
- 4xx ("unavailable"): no rules, everything allowed (the body of a 404 page is
  not parsed as rules);
- 5xx, or no answer at all ("unreachable"): everything disallowed, until it
  answers. 429 counts as unreachable too: a host that asks to slow down is not
  telling that it has no rules.

The robots.txt request goes through the downloader middlewares like any other,
so Scrapy's RetryMiddleware retries it on 5xx and 429 (``RETRY_TIMES``) and the
PolitenessMiddleware honours its Retry-After first. When it still fails, every
other request of the run to that host is refused with ``RobotsTxtUnavailable``
(an ``IgnoreRequest``: ``robots.txt unavailable (HTTP 503)``), nothing more is
sent, and the stats say so: ``newscrawl/robots_txt_unavailable`` = 1,
``newscrawl/robots_txt_status`` = the status (0: unreachable),
``newscrawl/robots_txt_refused`` = requests refused. The next run asks again.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from newscrawl.stop import DownloadStopped

logger = logging.getLogger(__name__)


class RobotsTxtUnavailable(IgnoreRequest):
    """A request refused because the host's robots.txt could not be read."""

    def __init__(self, status: int, detail: str = "") -> None:
        said = f"HTTP {status}" if status else f"unreachable: {detail}" if detail else "unreachable"
        super().__init__(f"robots.txt unavailable ({said})")
        self.status = status


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # netloc → (status, detail) of its robots.txt, for hosts where it failed
        self.unavailable: dict[str, tuple[int, str]] = {}

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        failed = self.unavailable.get(urlparse_cached(request).netloc)
        if failed is not None:
            self._stats.inc_value("newscrawl/robots_txt_refused")
            refusal = RobotsTxtUnavailable(*failed)
            logger.debug("%s refused: %s", request, refusal)
            raise refusal
        super().process_request_2(rp, request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{status}")
            self._refuse_all(netloc, status)
            return
        if 400 <= status < 500:
            response = response.replace(body=b"")  # no rules: everything allowed
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, DownloadStopped):
            # The run is stopping: what waits for robots.txt is dropped anyway.
            super()._robots_error(exc, netloc)
            return
        if not isinstance(exc, IgnoreRequest):
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._refuse_all(netloc, 0, f"{type(exc).__name__}: {exc}")

    def _refuse_all(self, netloc: str, status: int, detail: str = "") -> None:
        self.unavailable[netloc] = (status, detail)
        self._stats.set_value("newscrawl/robots_txt_unavailable", 1)
        self._stats.set_value("newscrawl/robots_txt_status", status)
        logger.error(
            "%s: %s; nothing else is requested from it in this run (RFC 9309)",
            netloc,
            RobotsTxtUnavailable(status, detail),
        )
        waiting = self._parsers[netloc]
        self._parsers[netloc] = None
        if isinstance(waiting, Deferred):
            waiting.callback(None)
