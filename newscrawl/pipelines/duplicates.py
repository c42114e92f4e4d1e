"""Stage 3: one item per story, within the run and against every earlier run.

A story is a copy when an earlier delivered story, or one already claimed in
this run, has the same canonical URL, the same article id, or the same
``content_hash`` (the same story published twice at two ids), or when it is a
near copy of one: the same body with small edits (an ``(ECNS) -- `` lead, a
sentence or two added or cut, punctuation, a new headline; see
``newscrawl.neardup``). Lookups are indexed queries on the state database, so
memory stays flat however many stories are known.

Each copy raises its own ``Duplicate`` subclass (``DuplicateUrl``, ``DuplicateId``,
``DuplicateContent``, ``DuplicateNear``) naming the story it copies: Scrapy counts
it under ``item_dropped_reasons_count/<class>``, and the spider records the copy's
URL as a duplicate, so the next run does not fetch it again.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import DUPLICATE_BY_KIND, DuplicateNear, NotWritten
from newscrawl.neardup import Fingerprint, NearDuplicateIndex
from newscrawl.state import describe_error


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

    @property
    def near(self) -> NearDuplicateIndex:
        """The run's near-duplicate index, kept by the state beside the exact keys."""
        return self.crawler.spider.state.near

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        adapter["content_hash"] = content_hash(adapter["title"], adapter["body"])
        run = self.crawler.spider.run
        if run.aborted:
            raise NotWritten("the run is stopping: it cannot deliver")
        try:
            return self._check(adapter, item)
        except sqlite3.Error as exc:
            message = f"the state database failed: {describe_error(exc)}"
            raise run.abort(self.crawler, "state_errors", message) from None

    def _check(self, adapter: ItemAdapter, item: Any) -> Any:
        state = self.crawler.spider.state
        keys = (adapter["url"], adapter.get("article_id"), adapter["content_hash"])
        match = state.find_copy(*keys)
        if match is not None:
            raise DUPLICATE_BY_KIND[match.kind](f"same {match.kind} as {match.url}")
        # After the exact checks: a retitled copy has a new content_hash, not a new body.
        fingerprint = Fingerprint(adapter["body"])
        near = self.near.find_fingerprint(fingerprint, state.run_id, exclude_url=adapter["url"])
        if near is not None:
            raise DuplicateNear(f"near copy of {near.url} ({near.resemblance.describe()})")
        state.claim(*keys)
        self.near.add_fingerprint(adapter["url"], fingerprint, state.run_id)
        return item
