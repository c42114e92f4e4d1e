"""The baseline: a minimal Scrapy spider that crawls the same pages and extracts
the same fields as ``scrapy crawl ecns``, into a plain JSONL feed.

Why it exists: the full crawler's cost per page is only meaningful against what
plain Scrapy costs on the same pages, measured in the same run (the machines
drift 30–40 % within an hour). It uses the project's own extraction functions
(``newscrawl.extract``) and the two cheap normalizers, so the difference between
the two is exactly what the crawler adds around extraction: the item loader, the
pipelines (validation, spam, duplicates, JSON Schema, atomic output), the state
database, the run's manifest and verdict, the per-run log file.

It follows only the listings (``ul.bizlst``), pages each section until a 404 or a
page without stories, like ``ecns``; it knows nothing of earlier runs.
``follow=false`` fetches page 1 of each section and stops: the pages an empty
scheduled run of ``ecns`` fetches (benchmark 4).

Run it with ``scrapy runspider`` from a folder without ``scrapy.cfg`` (so none of
the project's settings apply), e.g.::

    scrapy runspider bench/minimal_spider.py -a base_url=http://127.0.0.1:8000 \\
        -O items.jsonl -s DOWNLOAD_DELAY=0 -s CONCURRENT_REQUESTS_PER_DOMAIN=4
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from newscrawl.extract import RawArticle, extract_article, extract_listing
from newscrawl.extract.body import compose_body
from newscrawl.normalize import parse_editor, parse_site_datetime
from newscrawl.urls import SECTION_PATHS, article_id, canonical_url, listing_page_url


def minimal_item(raw: RawArticle, url: str, listing_date: str | None) -> dict[str, Any]:
    """The item of an extracted article: the fields of ``ecns``, built as a plain dict
    with the two cheap normalizers (also what ``bench.stages`` compares the item
    loader with)."""
    body, images = compose_body(raw.blocks)
    published_raw = raw.time_raw or listing_date or raw.publish_comment_raw
    published = parse_site_datetime(published_raw)
    return {
        "url": url,
        "article_id": article_id(url),
        "title": raw.titles[0] if raw.titles else None,
        "published": published.isoformat() if published else None,
        "published_raw": published_raw,
        "source": raw.source_raw or None,
        "editor": parse_editor(raw.editor_raw),
        "body": body,
        "images": images,
    }


class MinimalSpider(scrapy.Spider):
    name = "minimal"

    def __init__(
        self,
        base_url: str = "",
        sections: str = "",
        max_pages: str = "100000",
        follow: str = "true",
        stats_path: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not base_url:
            raise ValueError("give -a base_url=http://127.0.0.1:PORT")
        self.base_url = base_url.rstrip("/")
        self.section_slugs = [s for s in sections.split(",") if s] or list(SECTION_PATHS)
        self.max_pages = int(max_pages)
        self.follow = follow.lower() in ("1", "true", "yes")
        self.stats_path = stats_path

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for section in self.section_slugs:
            yield self.listing(section, 1)

    def listing(self, section: str, page: int) -> scrapy.Request:
        url = listing_page_url(self.base_url, SECTION_PATHS[section], page)
        return scrapy.Request(url, self.parse_listing, cb_kwargs={"section": section, "page": page})

    def parse_listing(
        self, response: Response, section: str, page: int
    ) -> Iterator[scrapy.Request]:
        entries = extract_listing(response.selector)
        if not entries or not self.follow:
            return
        for entry in entries:
            url = canonical_url(entry.href, self.base_url, response.url)
            if url is not None and article_id(url) is not None:
                yield scrapy.Request(
                    url, self.parse_article, cb_kwargs={"listing_date": entry.date_raw}
                )
        if page < self.max_pages:
            yield self.listing(section, page + 1)

    def parse_article(
        self, response: Response, listing_date: str | None
    ) -> Iterator[dict[str, Any]]:
        raw = extract_article(response.selector, response.url)
        yield minimal_item(raw, response.url, listing_date)

    def closed(self, reason: str) -> None:
        """Write Scrapy's stats as JSON, for the benchmark to count pages."""
        if self.stats_path:
            stats = self.crawler.stats.get_stats()
            with open(self.stats_path, "w", encoding="utf-8") as f:
                json.dump(stats, f, default=str)
