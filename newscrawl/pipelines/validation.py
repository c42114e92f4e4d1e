"""Stage 1: an item without a title, a body or a possible date goes no further,
nor one whose headline is implausibly long.

It also counts, for every parsed article, which watched fields it has
(``newscrawl/field_present/<field>``): the run's verdict compares that coverage
with recent runs to notice a site redesign (``newscrawl.verdict``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import (
    ImplausibleTitle,
    ImpossibleDate,
    MissingBody,
    MissingPublished,
    MissingTitle,
)
from newscrawl.normalize import SITE_TZ
from newscrawl.verdict import WATCHED_FIELDS

# ECNS started in 1999 (its footer: "Copyright ©1999-…"); nothing it serves is older.
EARLIEST_PUBLISHED = datetime(1999, 1, 1, tzinfo=SITE_TZ)
# Time zones and clock skew put a fresh story up to a day "ahead" of the crawler.
FUTURE_TOLERANCE = timedelta(days=1)
# ECNS headlines run to about 150 characters; ten times that is no headline.
TITLE_MAX_CHARS = 1500


class ValidationPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        self._count_coverage(adapter)
        title = adapter.get("title")
        if not title:
            raise MissingTitle("no headline in h1, twitter:title or <title>")
        if len(title) > TITLE_MAX_CHARS:
            raise ImplausibleTitle(f"a {len(title)}-character headline")
        if not any(block.text for block in adapter.get("body_blocks") or ()):
            raise MissingBody("the body container holds no text")
        raw = adapter.get("published_raw")
        if adapter.get("published") is None:
            if raw:
                raise ImpossibleDate(f"{raw!r} is not a possible date")
            raise MissingPublished("no time on the page and no listing date")
        published = datetime.fromisoformat(adapter["published"])
        latest = datetime.fromisoformat(adapter["crawled_at"]) + FUTURE_TOLERANCE
        if not EARLIEST_PUBLISHED <= published <= latest:
            raise ImpossibleDate(f"{raw!r} is outside {EARLIEST_PUBLISHED:%Y} … crawl time + 1 day")
        return item

    def _count_coverage(self, adapter: ItemAdapter) -> None:
        self.stats.inc_value("newscrawl/articles_parsed")
        present = {
            "title": bool(adapter.get("title")),
            "published": adapter.get("published") is not None,
            "editor": bool(adapter.get("editor")),
            "body": any(block.text for block in adapter.get("body_blocks") or ()),
        }
        for field in WATCHED_FIELDS:
            if present[field]:
                self.stats.inc_value(f"newscrawl/field_present/{field}")
