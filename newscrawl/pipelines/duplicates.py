"""Stage 3: one item per story, within the run and against every earlier run.

A story is a copy when an earlier delivered story, or one already claimed in
this run, has the same canonical URL, the same article id, or the same
``content_hash`` (the same story published twice at two ids). Lookups are
indexed queries on the state database, so memory stays flat however many
stories are known.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import DUPLICATE_BY_KIND


def content_hash(title: str, body: str) -> str:
    """A stable hash of the normalized title and body (both already
    whitespace-collapsed by the loader and the spam stage)."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


class DuplicatesPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicatesPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        adapter["content_hash"] = content_hash(adapter["title"], adapter["body"])
        state = self.crawler.spider.state
        keys = (adapter["url"], adapter.get("article_id"), adapter["content_hash"])
        match = state.find_copy(*keys)
        if match is not None:
            raise DUPLICATE_BY_KIND[match.kind](f"same {match.kind} as {match.url}")
        state.claim(*keys)
        return item
