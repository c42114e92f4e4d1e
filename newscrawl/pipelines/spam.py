"""Stage 2: link spam out of the body; pages that are spam as a whole dropped.

The detector (``newscrawl.spam``) judges the page and each block of the body
container; ``strip_spam`` keeps the clean blocks, and the paragraphs whose spam
anchors could be cut out, and composes ``body`` and ``images`` from them. The
stage counts each removal (a block, or a cut inside one) under
``newscrawl/spam_removed/<reason>`` and records the number removed in the item
(``spam_removed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from newscrawl.drops import SpamPage
from newscrawl.extract.body import compose_body
from newscrawl.items import Block
from newscrawl.spam import judge_page
from newscrawl.urls import SITE_HOSTS, origin_of


@dataclass(frozen=True, slots=True)
class CleanBody:
    body: str
    images: list[dict[str, str | None]]
    removed: list[str]  # the reason for each block removed


def strip_spam(title: str, blocks: Sequence[Block], site_hosts: frozenset[str]) -> CleanBody:
    """The body without its spam: spam blocks removed, spam anchors cut out of the
    paragraphs they were slipped into (each counts as one removal). Raises
    ``SpamPage`` when the page is spam as a whole, or nothing but spam."""
    judgement = judge_page(title, blocks, site_hosts)
    if judgement.page.spam:
        raise SpamPage("the page is spam as a whole")
    removed = [verdict.reason or "spam" for verdict in judgement.blocks if verdict.spam]
    kept = [block for block in judgement.kept if block is not None]
    if not any(block.text for block in kept):
        raise SpamPage(f"no text left after removing {len(removed)} spam blocks")
    body, images = compose_body(kept)
    return CleanBody(body, images, removed)


def site_hosts_for(base_url: str) -> frozenset[str]:
    """The hosts that are the site: its own names and the crawled origin."""
    return SITE_HOSTS | {origin_of(base_url)[1].lower()}


class SpamPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.site_hosts = site_hosts_for(crawler.settings.get("ECNS_BASE_URL"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpamPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        clean = strip_spam(adapter["title"], adapter.pop("body_blocks"), self.site_hosts)
        for reason in clean.removed:
            self.stats.inc_value(f"newscrawl/spam_removed/{reason}")
        adapter["body"], adapter["images"] = clean.body, clean.images
        adapter["spam_removed"] = len(clean.removed)
        return item
