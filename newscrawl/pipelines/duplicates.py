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

A revisit (the spider re-fetching a delivered story to catch corrections) is not
a copy of itself: it is delivered again, ``version`` one higher, when its
``revision_hash`` differs from the delivered version's, and dropped as
``Unchanged`` otherwise. Every other story leaves this stage with ``version`` 1.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import DUPLICATE_BY_KIND, DuplicateNear, NotWritten, Unchanged
from newscrawl.hashes import content_hash, revision_hash, unix_seconds
from newscrawl.neardup import Fingerprint, NearDuplicateIndex
from newscrawl.run import Run
from newscrawl.state import StateStore, describe_error

# A page's ETag and Last-Modified, as the spider read them (None when absent).
Validators = tuple[str | None, str | None]


class DuplicatesPipeline:
    """Without a run (``scrapy parse --pipelines``) there is nothing to compare with:
    an item gets its content hash and version 1, as the first delivery of a story."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = crawler.get_extension(Run)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicatesPipeline:
        return cls(crawler)

    @property
    def state(self) -> StateStore:
        assert self.run is not None
        return self.run.state

    @property
    def near(self) -> NearDuplicateIndex:
        """The run's near-duplicate index, kept by the state beside the exact keys."""
        return self.state.near

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        adapter["content_hash"] = content_hash(adapter["title"], adapter["body"])
        revisit = adapter.pop("revisit", False)
        validators = adapter.pop("validators", None) or (None, None)
        run = self.run
        if run is None:
            adapter["version"] = 1
            return item
        if run.aborted:
            raise NotWritten("the run is stopping: it cannot deliver")
        try:
            if revisit:
                return self._revisit(adapter, item, validators)
            return self._check(adapter, item, validators)
        except sqlite3.Error as exc:
            message = f"the state database failed: {describe_error(exc)}"
            raise run.abort("state_errors", message) from None

    def _check(self, adapter: ItemAdapter, item: Any, validators: Validators) -> Any:
        state = self.state
        keys = (adapter["url"], adapter.get("article_id"), adapter["content_hash"])
        match = state.find_copy(*keys)
        if match is not None:
            raise DUPLICATE_BY_KIND[match.kind](f"same {match.kind} as {match.url}")
        # After the exact checks: a retitled copy has a new content_hash, not a new body.
        fingerprint = Fingerprint(adapter["body"])
        near = self.near.find_fingerprint(fingerprint, state.run_id, exclude_url=adapter["url"])
        if near is not None:
            # Kept as one more text of the story it copies: a later copy made from
            # this one's text may be too far from the story's first text alone.
            self.near.add_fingerprint(near.url, fingerprint, state.run_id, copy=True)
            raise DuplicateNear(f"near copy of {near.url} ({near.resemblance.describe()})")
        return self._claim(adapter, item, fingerprint, validators, version=1)

    def _revisit(self, adapter: ItemAdapter, item: Any, validators: Validators) -> Any:
        """A delivered story fetched again: a new version if its text changed. No
        copy checks: the story was found original when first delivered."""
        state = self.state
        known = state.delivered(adapter["url"])
        if known is None:  # not delivered after all (its run was undone): a story
            return self._check(adapter, item, validators)
        revision = revision_hash(adapter["title"], adapter["body"])
        if known.withdrawn:  # taken down, and back: delivered again, live again
            self.crawler.stats.inc_value("newscrawl/withdrawn_returned")
        elif known.revision in (None, revision):
            state.revisited(adapter["url"], unix_seconds(adapter["crawled_at"]), revision)
            self.crawler.stats.inc_value("newscrawl/revisits_unchanged")
            raise Unchanged(f"version {known.version} is unchanged")
        else:
            self.crawler.stats.inc_value("newscrawl/corrections")
        fingerprint = Fingerprint(adapter["body"])
        return self._claim(adapter, item, fingerprint, validators, known.version + 1, revision)

    def _claim(
        self,
        adapter: ItemAdapter,
        item: Any,
        fingerprint: Fingerprint,
        validators: Validators,
        version: int,
        revision: str | None = None,
    ) -> Any:
        """Reserve the story for this run, with what a later revisit compares."""
        adapter["version"] = version
        state = self.state
        state.claim(
            adapter["url"],
            adapter.get("article_id"),
            adapter["content_hash"],
            version=version,
            revision=revision or revision_hash(adapter["title"], adapter["body"]),
            published_at=unix_seconds(adapter["published"]),
            fetched_at=unix_seconds(adapter["crawled_at"]),
            etag=validators[0],
            last_modified=validators[1],
        )
        self.near.add_fingerprint(adapter["url"], fingerprint, state.run_id)
        return item
