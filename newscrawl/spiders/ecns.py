"""``scrapy crawl ecns``: section listings → article pages → items.

The spider pages through each section's listing (``index.shtml``,
``index_2.shtml``, …) and requests the stories its items link to, in whatever
section their path lies. It stops paging a section at a 404, an empty page,
``max_pages``, or a page whose stories are all known from earlier runs (unless
the previous run stopped half-way through that section). Stories a finished
run delivered (or found to be copies or spam) are not fetched again, except
recent delivered stories, revisited now and then for corrections
(``NEWSCRAWL_REVISIT_HOURS``; ``StateStore.due_revisits`` says which).

The run around the crawl (lock, state, files, manifest, verdict) is the
extension ``newscrawl.run.Run``, enabled by ``scrapy crawl`` only; the spider
reads and records known ground through it. Under ``scrapy parse``, ``shell`` or
``check`` there is no run: nothing is known and nothing is kept (``NoState``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer
from twisted.python.failure import Failure

from newscrawl.extract import ListingEntry, extract_article, extract_feed, extract_listing
from newscrawl.extract.body import BODY_END_MARK
from newscrawl.extract.encoding import is_truncated, misdecoding_reason, redecode
from newscrawl.items import ArticleItem
from newscrawl.loaders import load_article
from newscrawl.normalize import parse_site_datetime
from newscrawl.robots import RobotsTxtUnavailable
from newscrawl.run import Run
from newscrawl.state import FAILED, INVALID, NO_STATE, NOT_FOUND, NoState, StateStore
from newscrawl.stop import DownloadStopped
from newscrawl.urls import (
    SECTION_PATHS,
    article_id,
    canonical_url,
    listing_page_url,
    origin_of,
)

logger = logging.getLogger(__name__)

FEED_PATH = "/rss/rss.xml"


def parse_since(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"since must be a date like 2025-01-31, got {value!r}") from None


def parse_max_pages(value: str | int | None) -> int | None:
    if value is None:
        return None
    try:
        pages = int(value)
    except ValueError:
        pages = 0
    if pages < 1:
        raise ValueError(f"max_pages must be a whole number of pages, 1 or more, got {value!r}")
    return pages


def parse_flag(value: str | None) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"rss must be true or false, got {value!r}")


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def http_status(failure: Failure) -> int | None:
    """The HTTP status of a failure Scrapy's HttpErrorMiddleware raised, else None."""
    error = failure.value
    return error.response.status if isinstance(error, HttpError) else None


def describe_failure(failure: Failure) -> str:
    """What went wrong with a download, in words: the exception's message, or its
    kind when it carries none (a cancelled download, a connection lost)."""
    status = http_status(failure)
    if status is not None:
        return f"HTTP {status}"
    message = failure.getErrorMessage().strip()
    if failure.check(defer.CancelledError):
        return message or "download cancelled (larger than DOWNLOAD_MAXSIZE, or stopped)"
    if message and failure.check(IgnoreRequest):  # said in words already
        return message
    kind = failure.type.__name__ if failure.type else "error"
    return f"{kind}: {message}" if message else kind


def requested_url(request: scrapy.Request) -> str:
    """The URL the spider asked for, before any redirect."""
    return request.meta.get("redirect_urls", [request.url])[0]


@dataclass
class Awaited:
    """A story's requests not yet answered, and the sections that listed it."""

    requests: int = 0
    sections: set[str] = field(default_factory=set)


def parse_sections(value: str | None) -> list[str]:
    if not value:
        return list(SECTION_PATHS)
    slugs = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in slugs if s not in SECTION_PATHS]
    if unknown:
        raise ValueError(
            f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTION_PATHS)}"
        )
    return slugs


class EcnsSpider(scrapy.Spider):
    name = "ecns"
    # From the settings, in ``from_crawler``.
    base_url: str
    allowed_domains: list[str]
    max_pages: int
    max_links: int
    revisit_hours: float

    def __init__(
        self,
        sections: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        rss: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sections = parse_sections(sections)
        self.max_pages_arg = parse_max_pages(max_pages)
        self.since = parse_since(since)
        self.use_rss = parse_flag(rss)
        # Sections paged past known ground (set when the crawl starts); stories
        # requested and not yet answered, with the sections that listed them (a story
        # that never gets an answer must not hide below known ground); sections the
        # next run must page again.
        self.full_paging: set[str] = set()
        self.unanswered: dict[str, Awaited] = {}
        self.incomplete_sections: set[str] = set()
        self.spider_args = {
            "sections": ",".join(self.sections),
            "max_pages": max_pages,
            "since": since,
            "rss": self.use_rss,
        }

    @staticmethod
    def check_arguments(
        sections: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        rss: str | None = None,
        **others: str,
    ) -> None:
        """Raise ValueError on what ``__init__`` would refuse, and on an argument it
        does not know (a typo such as ``section=`` would crawl every section): the
        crawl command checks before it starts anything. Arguments starting with
        ``_`` are schedulers' (scrapyd's ``_job``)."""
        unknown = sorted(name for name in others if not name.startswith("_"))
        if unknown:
            raise ValueError(
                f"unknown argument(s) {', '.join(unknown)}; "
                "the arguments are sections, max_pages, since, rss"
            )
        parse_sections(sections)
        parse_max_pages(max_pages)
        parse_since(since)
        parse_flag(rss)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("ECNS_BASE_URL").rstrip("/")
        spider.allowed_domains = [origin_of(spider.base_url)[1].split(":")[0]]
        spider.max_pages = spider.max_pages_arg or settings.getint("ECNS_MAX_PAGES")
        spider.max_links = settings.getint("ECNS_MAX_LINKS_PER_LISTING")
        spider.revisit_hours = settings.getfloat("NEWSCRAWL_REVISIT_HOURS")
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.request_scheduled, signal=signals.request_scheduled)
        return spider

    @property
    def state(self) -> StateStore | NoState:
        """Known ground: the run's state in a scheduled run, else nothing known."""
        run = self.crawler.get_extension(Run)
        return run.state if run is not None else NO_STATE

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # Known ground ends paging only where the last run paged the section to its
        # end; a backfill (since=) pages past it down to its date.
        self.full_paging = {
            s for s in self.sections if self.since or not self.state.paged_to_end(s)
        }
        for section in self.sections:
            self.state.set_paged_to_end(section, False)
        if self.use_rss:
            yield scrapy.Request(f"{self.base_url}{FEED_PATH}", callback=self.parse_feed)
        for section in self.sections:
            yield self.listing_request(section, 1)
        for request in self.revisit_requests():
            yield request

    def revisit_requests(self) -> Iterator[scrapy.Request]:
        """Recent delivered stories due for a look at whether they were corrected."""
        if self.revisit_hours <= 0:
            return
        due = self.state.due_revisits(int(time.time()), int(self.revisit_hours * 3600))
        self.crawler.stats.set_value("newscrawl/revisits_requested", len(due))
        for url in due:
            self.await_answer(url)
            # Conditional: a page the site says is not modified costs no body (304).
            etag, last_modified = self.state.validators(url)
            headers = {
                name: value
                for name, value in (("If-None-Match", etag), ("If-Modified-Since", last_modified))
                if value
            }
            yield scrapy.Request(
                url,
                headers=headers,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"revisit": True},
                meta={"handle_httpstatus_list": [304]},
                dont_filter=True,  # fetched before, by an earlier run: not a repeat
            )

    def listing_request(self, section: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            listing_page_url(self.base_url, SECTION_PATHS[section], page),
            callback=self.parse_listing,
            errback=self.listing_failed,
            cb_kwargs={"section": section, "page": page},
        )

    def parse_listing(
        self, response: Response, section: str, page: int
    ) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        stats.inc_value("newscrawl/listing_pages")
        entries = extract_listing(response.selector) if isinstance(response, TextResponse) else []
        # Only links to stories on this site count: a listing hijacked to point
        # elsewhere must look empty to the verdict, not healthy.
        stories = self.site_stories(response, entries)
        if page == 1:
            stats.set_value(f"newscrawl/listing_items/{section}", len(stories))
        if isinstance(response, TextResponse) and is_truncated(response):
            logger.warning("%s: listing %s was cut short", section, response.url)
            stats.inc_value("newscrawl/listings_truncated")
            self.incomplete_sections.add(section)  # the next run pages it again
        if not stories:
            logger.info("%s: page %d lists no stories, end of section", section, page)
            self.section_done(section)
            return
        fresh = [(url, e) for url, e in stories if not self.older_than_since(e)]
        unseen = yield from self.story_requests(fresh, section)
        if self.since and not fresh:
            logger.info("%s: page %d is older than %s, stop paging", section, page, self.since)
            self.section_done(section)
            return
        if unseen == 0 and section not in self.full_paging:
            logger.info("%s: page %d holds only known stories, stop paging", section, page)
            self.section_done(section)
        elif page >= self.max_pages:
            logger.warning("%s: stopped at max_pages=%d", section, self.max_pages)
            stats.inc_value("newscrawl/max_pages_reached")
            self.section_done(section)
        else:
            yield self.listing_request(section, page + 1)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        entries = extract_feed(response.selector) if isinstance(response, TextResponse) else []
        self.crawler.stats.set_value("newscrawl/feed_items", len(entries))
        yield from self.story_requests(self.site_stories(response, entries), None)

    def site_stories(
        self, response: Response, entries: list[ListingEntry]
    ) -> list[tuple[str, ListingEntry]]:
        """The entries that link to a story on this site, with its canonical URL; at
        most ``ECNS_MAX_LINKS_PER_LISTING`` of them (a page listing more is broken
        or hostile: the rest are skipped, said and counted)."""
        if len(entries) > self.max_links:
            logger.warning(
                "%s lists %d links, more than ECNS_MAX_LINKS_PER_LISTING=%d: the rest are skipped",
                response.url,
                len(entries),
                self.max_links,
            )
            self.crawler.stats.inc_value(
                "newscrawl/listing_links_over_limit", len(entries) - self.max_links
            )
            entries = entries[: self.max_links]
        stories = []
        for entry in entries:
            url = canonical_url(entry.href, self.base_url, response.url)
            if url is None or article_id(url) is None:
                self.crawler.stats.inc_value("newscrawl/listing_links_skipped")
                logger.debug("%s: not a story on this site: %s", response.url, entry.href)
            else:
                stories.append((url, entry))
        return stories

    def story_requests(
        self, stories: list[tuple[str, ListingEntry]], section: str | None
    ) -> Generator[scrapy.Request, None, int]:
        """Requests for the ``stories`` that no finished run dealt with for good;
        returns how many of them were never seen at all."""
        stats = self.crawler.stats
        unseen = 0
        for url, entry in stories:
            if self.state.outcome(url) is None:
                unseen += 1
            elif self.state.settled(url):
                stats.inc_value("newscrawl/known_stories_skipped")
                continue
            stats.inc_value("newscrawl/articles_requested")
            self.await_answer(url, (section,) if section else ())
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"listing_date": entry.date_raw},
                # Before the next listing page (Scrapy's queue is LIFO per priority):
                # the queue then holds one page's stories, not a backfill's backlog.
                priority=1,
            )
        return unseen

    def await_answer(self, url: str, sections: Iterable[str] = ()) -> None:
        """One more request for ``url`` awaits its answer; ``sections`` listed it."""
        awaited = self.unanswered.setdefault(url, Awaited())
        awaited.requests += 1
        awaited.sections.update(sections)

    def answered(self, url: str) -> set[str]:
        """The sections that listed ``url``, now that one of its requests is answered
        (or dropped); forgotten once none is left waiting."""
        awaited = self.unanswered.get(url)
        if awaited is None:
            return set()
        awaited.requests -= 1
        if awaited.requests <= 0:
            del self.unanswered[url]
        return awaited.sections

    def request_dropped(self, request: scrapy.Request) -> None:
        """A request the scheduler refused as a repeat. A story listed twice (in two
        sections, or on two pages as the listing shifts) is requested twice, and the
        first request answers for the repeat. A redirect to a page already requested
        (a loop) leaves its story or listing without an answer: a failure."""
        redirects = request.meta.get("redirect_urls")
        if request.callback == self.parse_article:
            sections = self.answered(requested_url(request))
            if redirects:
                self.redirect_failed(request, sections, "redirect_loops", "already requested")
        elif request.callback == self.parse_listing and redirects:
            self.redirect_failed(request, set(), "redirect_loops", "already requested")

    def request_scheduled(self, request: scrapy.Request) -> None:
        """Scrapy's OffsiteMiddleware drops a redirect off the site when it is
        scheduled, with no errback and no signal: the spider says it here."""
        redirects = request.meta.get("redirect_urls")
        host = urlparse_cached(request).hostname or ""
        if not redirects or any(
            host == domain or host.endswith(f".{domain}") for domain in self.allowed_domains
        ):
            return
        if request.callback == self.parse_article:
            sections = self.answered(requested_url(request))
            self.redirect_failed(request, sections, "redirects_offsite", "off the site")
        elif request.callback == self.parse_listing:
            self.redirect_failed(request, set(), "redirects_offsite", "off the site")

    def redirect_failed(
        self, request: scrapy.Request, sections: set[str], stat: str, where: str
    ) -> None:
        """A story or listing whose redirects lead nowhere it can be fetched."""
        chain = " -> ".join([*request.meta.get("redirect_urls", []), request.url])
        reason = f"redirected to a page {where} ({chain})"
        stats = self.crawler.stats
        if request.callback == self.parse_listing:
            section = request.cb_kwargs["section"]
            stats.inc_value("newscrawl/listing_errors")
            stats.inc_value(
                "newscrawl/listings_redirected_offsite"
                if stat == "redirects_offsite"
                else "newscrawl/listing_redirect_loops"
            )
            logger.warning(
                "%s: listing %s not fetched: %s", section, requested_url(request), reason
            )
            self.incomplete_sections.add(section)
            return
        stats.inc_value(f"newscrawl/article_{stat}")
        stats.inc_value("newscrawl/article_download_errors")
        logger.warning("Article %s not fetched: %s", requested_url(request), reason)
        self.story_not_fetched(requested_url(request), sections, reason)

    def older_than_since(self, entry: ListingEntry) -> bool:
        if self.since is None:
            return False
        listed = parse_site_datetime(entry.date_raw)
        return listed is not None and listed.date() < self.since

    def section_done(self, section: str) -> None:
        self.state.set_paged_to_end(section, True)

    def parse_article(
        self, response: Response, listing_date: str | None = None, revisit: bool = False
    ) -> Iterator[ArticleItem | scrapy.Request]:
        """An article page → its item (``body_blocks`` become ``body`` in the spam
        stage), or nothing when the page cannot be delivered (recorded, retried).

        @story /news/politics/2025-01-10/detail-ihemrznk1748604.shtml
        @returns items 1 1
        @returns requests 0 0
        @scrapes url article_id section title published published_raw body_blocks crawled_at
        """
        request = response.request
        assert request is not None  # a response a callback gets has its request
        url = canonical_url(response.url, self.base_url) or request.url
        sections = self.answered(requested_url(request))
        if response.status == 304:  # a conditional revisit: unchanged
            self.crawler.stats.inc_value("newscrawl/revisits_not_modified")
            self.crawler.stats.inc_value("newscrawl/revisits_unchanged")
            self.state.revisited(url, int(time.time()), revision=None)
            return
        if not isinstance(response, TextResponse):
            self.page_failed(url, "not an HTML page", sections)
            return
        response = redecode(response)
        misdecoded = misdecoding_reason(response)
        if misdecoded:
            self.page_failed(url, misdecoded, sections)
            return
        if is_truncated(response):
            retry = self.refetch(response, sections)
            if retry is not None:
                yield retry
                return
            if not response.body:
                self.page_failed(url, "an empty page (HTTP 200, no content)", sections)
                return
            if BODY_END_MARK not in response.text:
                self.page_failed(url, "cut short in transfer (its body never ends)", sections)
                return
            # The article's body is whole; only the document's tail is missing, on
            # every fetch: the site serves it that way, and the story is all there.
            self.crawler.stats.inc_value("newscrawl/articles_without_document_end")
            logger.info("Article %s has no document end (</html>); its body is whole", url)
        try:
            raw = extract_article(response.selector, url)
        except Exception as exc:  # a malformed page must not end the run
            logger.exception("Cannot extract %s", url)
            self.page_failed(url, f"extraction error: {exc!r}", sections)
            return
        if not raw.body_end_reached and BODY_END_MARK in response.text:
            # libxml2 builds no deeper than ~2,048 levels: what lies deeper is not in
            # the tree, and the body would be delivered cut short.
            self.page_failed(
                url,
                "the parser stopped before the body's end (elements nested too deep)",
                sections,
            )
            return
        item = load_article(raw, url=url, listing_date=listing_date)
        if revisit:
            item["revisit"] = True
        item["validators"] = (
            _header(response, b"ETag"),
            _header(response, b"Last-Modified"),
        )
        yield item

    def refetch(self, response: TextResponse, sections: set[str]) -> scrapy.Request | None:
        """The same request again, for a page that arrived cut short (a download
        Scrapy saw as whole); None once ``RETRY_TIMES`` refetches were spent."""
        request = response.request
        assert request is not None
        done = request.meta.get("refetches", 0)
        if done >= self.crawler.settings.getint("RETRY_TIMES"):
            return None
        self.crawler.stats.inc_value("newscrawl/articles_refetched")
        logger.info("Article %s arrived cut short: fetching it again", response.url)
        self.await_answer(requested_url(request), sections)
        return request.replace(dont_filter=True, meta={**request.meta, "refetches": done + 1})

    def page_failed(self, url: str, reason: str, sections: set[str] | None = None) -> None:
        """A page that arrived but cannot be delivered: logged with its reason,
        counted (the verdict fails a run where most pages fail), retried by later
        runs (its sections paged past known ground), given up only as the state's
        rule says."""
        self.crawler.stats.inc_value("newscrawl/article_pages_failed")
        logger.warning("Article %s failed: %s", url, reason)
        self.state.record(url, INVALID, article_id=article_id(url), detail=reason)
        self.incomplete_sections.update(sections or ())

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        sections = self.answered(requested_url(request))
        if failure.check(RobotsTxtUnavailable, DownloadStopped):
            # The run may fetch nothing (robots.txt) or is stopping: not the story's
            # fault; its sections are paged again by the next run.
            self.incomplete_sections.update(sections)
            return
        status = http_status(failure)
        if status is not None:
            self.crawler.stats.inc_value(f"newscrawl/article_http_{status}")
            logger.info("Article %s: HTTP %d", request.url, status)
            if status in (404, 410) and request.cb_kwargs.get("revisit"):
                # Perhaps taken down after delivery: withdrawn once a later run's
                # revisit confirms it (one bad answer is not a take-down); revisited on
                # the schedule, and delivered again should it come back.
                self.crawler.stats.inc_value("newscrawl/revisits_gone")
                if self.state.gone(request.url, status, int(time.time())):
                    self.crawler.stats.inc_value("newscrawl/withdrawn")
                    logger.warning(
                        "Delivered story %s is gone again (HTTP %d): withdrawn", request.url, status
                    )
                else:
                    logger.info(
                        "Delivered story %s is gone (HTTP %d): withdrawn if a later run"
                        " finds it gone too",
                        request.url,
                        status,
                    )
                return
            if status in (404, 410):
                # Perhaps listed before it is published: fetched again while listed.
                self.state.record(request.url, NOT_FOUND, article_id=article_id(request.url))
                return
            reason = f"HTTP {status}"
        else:
            reason = describe_failure(failure)
            if failure.check(IgnoreRequest):
                self.crawler.stats.inc_value("newscrawl/article_requests_refused")
            logger.warning("Article %s not fetched: %s", requested_url(request), reason)
        self.crawler.stats.inc_value("newscrawl/article_download_errors")
        self.story_not_fetched(requested_url(request), sections, reason)

    def story_not_fetched(self, url: str, sections: set[str], reason: str) -> None:
        """Record the failure; its sections are not paged to the end, so the next run
        goes past known ground to fetch it again."""
        self.state.record(url, FAILED, article_id=article_id(url), detail=reason)
        self.incomplete_sections.update(sections)

    def listing_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        section, page = request.cb_kwargs["section"], request.cb_kwargs["page"]
        stats = self.crawler.stats
        if failure.check(RobotsTxtUnavailable, DownloadStopped):
            # Not the section's fault: it is paged again by the next run.
            logger.info("%s: listing %s not fetched: %s", section, request.url, failure.value)
            self.incomplete_sections.add(section)
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            logger.warning("%s: %s forbidden by robots.txt", section, request.url)
            stats.inc_value("newscrawl/listings_forbidden")
            self.section_done(section)
            return
        if http_status(failure) == 404:
            if page == 1:
                logger.warning("%s: listing %s not found", section, request.url)
                stats.inc_value("newscrawl/missing_sections")
            else:
                logger.info("%s: page %d not found, end of section", section, page)
                stats.inc_value("newscrawl/listing_pages")
            self.section_done(section)
            return
        stats.inc_value("newscrawl/listing_errors")
        self.incomplete_sections.add(section)
        logger.error(
            "%s: listing %s not fetched: %s",
            section,
            requested_url(request),
            describe_failure(failure),
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[ArticleItem | scrapy.Request]:
        """An article page: the default callback, for ``scrapy parse --spider=ecns URL``
        and ``scrapy shell``; the crawl itself names its callbacks."""
        return self.parse_article(response)

    def closed(self, reason: str) -> None:
        """Stories still unanswered when the crawl ends: a story whose request was
        dropped unanswered (a redirect off the site) failed; a stop before the end is
        not the story's fault, and its sections are paged again by the next run."""
        for url, awaited in self.unanswered.items():
            if reason == "finished":
                self.story_not_fetched(url, awaited.sections, "no answer")
            else:
                self.incomplete_sections.update(awaited.sections)
        for section in self.incomplete_sections:
            self.state.set_paged_to_end(section, False)
