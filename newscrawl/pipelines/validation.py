"""Stage 1: an item without a title, a body or a possible date goes no further."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itemadapter import ItemAdapter

from newscrawl.drops import ImpossibleDate, MissingBody, MissingPublished, MissingTitle
from newscrawl.normalize import SITE_TZ

# ECNS started in 1999 (its footer: "Copyright ©1999-…"); nothing it serves is older.
EARLIEST_PUBLISHED = datetime(1999, 1, 1, tzinfo=SITE_TZ)
# Time zones and clock skew put a fresh story up to a day "ahead" of the crawler.
FUTURE_TOLERANCE = timedelta(days=1)


class ValidationPipeline:
    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if not adapter.get("title"):
            raise MissingTitle("no headline in h1, twitter:title or <title>")
        if not any(block.text for block in adapter.get("body_blocks") or ()):
            raise MissingBody("the body container holds no text")
        published = adapter.get("published")
        raw = adapter.get("published_raw")
        if published is None:
            if raw:
                raise ImpossibleDate(f"{raw!r} is not a possible date")
            raise MissingPublished("no time on the page and no listing date")
        latest = adapter["crawled_at"] + FUTURE_TOLERANCE
        if not EARLIEST_PUBLISHED <= published <= latest:
            raise ImpossibleDate(f"{raw!r} is outside {EARLIEST_PUBLISHED:%Y} … crawl time + 1 day")
        return item
