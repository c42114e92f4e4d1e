"""Stage 1: an item without a title, a body or a possible date goes no further,
nor one whose headline or body is implausibly long; an implausibly long editor or
source is no editor or source (null, counted and logged, never cut).

It also counts, for every parsed article, which watched fields it has
(``newscrawl/field_present/<field>``): the run's verdict compares that coverage
with recent runs to notice a site redesign (``newscrawl.verdict``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import (
    ImplausibleBody,
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
# Far above any real ECNS value, so that only a broken or hostile page reaches them:
# editors' names run to 2-40 characters, so a longer "name" is no editor...
EDITOR_MAX_CHARS = 100
# ...sources ("Xinhua", "chinadaily.com.cn", "China News Service") stay under 60...
SOURCE_MAX_CHARS = 200
# ...and bodies under 60 KB: a million characters is no article.
BODY_MAX_CHARS = 1_000_000
# The fields that become null when longer than their limit.
FIELD_MAX_CHARS = {"source": SOURCE_MAX_CHARS, "editor": EDITOR_MAX_CHARS}

logger = logging.getLogger(__name__)


class ValidationPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        self._drop_implausible_fields(adapter)
        self._count_coverage(adapter)
        title = adapter.get("title")
        if not title:
            raise MissingTitle("no headline in h1, twitter:title or <title>")
        if len(title) > TITLE_MAX_CHARS:
            raise ImplausibleTitle(f"a {len(title)}-character headline")
        blocks = [block.text for block in adapter.get("body_blocks") or () if block.text]
        if not blocks:
            raise MissingBody("the body container holds no text")
        # The body as the spam stage composes it: paragraphs joined by a blank line.
        body_chars = sum(map(len, blocks)) + 2 * (len(blocks) - 1)
        if body_chars > BODY_MAX_CHARS:
            raise ImplausibleBody(f"a {body_chars}-character body")
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

    def _drop_implausible_fields(self, adapter: ItemAdapter) -> None:
        """Null each field longer than its limit (FIELD_MAX_CHARS), count it under
        ``newscrawl/implausible_field/<field>``, and say so in one warning a page."""
        found = []
        for field, limit in FIELD_MAX_CHARS.items():
            value = adapter.get(field)
            if value and len(value) > limit:
                adapter[field] = None
                self.stats.inc_value(f"newscrawl/implausible_field/{field}")
                found.append(f"a {len(value)}-character {field}")
        if found:
            logger.warning(
                "Article %s: %s, over the limit; left null", adapter.get("url"), ", ".join(found)
            )

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
