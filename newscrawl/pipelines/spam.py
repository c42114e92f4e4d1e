"""Stage 2: link spam out of the body; pages that are spam as a whole dropped.

The detector (``newscrawl.spam``) judges each block of the body container; this
stage keeps the clean ones, composes ``body`` and ``images`` from them, counts
each removal under ``newscrawl/spam_removed/<reason>`` and records the number
removed in the item (``spam_removed``).
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import SpamPage
from newscrawl.extract.body import compose_body
from newscrawl.spam import classify_block, classify_page
from newscrawl.urls import SITE_HOSTS, origin_of


class SpamPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        origin_host = origin_of(crawler.settings.get("ECNS_BASE_URL"))[1].lower()
        self.site_hosts = SITE_HOSTS | {origin_host}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpamPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        blocks = adapter.pop("body_blocks")
        page = classify_page(adapter["title"], blocks, self.site_hosts)
        if page.spam:
            raise SpamPage(f"the page is spam as a whole ({page.reason})")
        kept = []
        for block in blocks:
            verdict = classify_block(block, self.site_hosts)
            if verdict.spam:
                self.stats.inc_value(f"newscrawl/spam_removed/{verdict.reason}")
            else:
                kept.append(block)
        if not any(block.text for block in kept):
            raise SpamPage(f"no text left after removing {len(blocks)} spam blocks")
        adapter["body"], adapter["images"] = compose_body(kept)
        adapter["spam_removed"] = len(blocks) - len(kept)
        return item
