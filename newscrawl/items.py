"""The article item and the body block it is built from.

The item's exported fields are documented in README.md ("Output format").
``body_blocks`` is internal: the spam stage turns it into ``body`` and removes it,
so it never reaches a feed; so is ``revisit``, which the duplicate stage turns into
``version``.
"""

from __future__ import annotations

from dataclasses import dataclass

import scrapy


@dataclass(frozen=True, slots=True)
class Link:
    """An anchor inside a body block: where it points and the text it shows.

    ``start`` and ``end`` place that text in the block's (``block.text[start:end]``);
    -1 when not known (a link made by hand).
    """

    href: str
    text: str
    start: int = -1
    end: int = -1


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the body container (a paragraph, or a div holding text), with
    the features the spam detector needs beside its text.

    ``text`` is the block's own text, whitespace-collapsed (text of nested blocks
    belongs to those). ``style`` joins the inline ``style`` attributes of the block
    and of its ancestors inside the body container, outermost first, separated by
    ``;``, so a block inside ``<div style="display:none">`` carries that style.
    ``images`` holds the absolute URLs of the images the block shows.
    """

    text: str
    links: tuple[Link, ...] = ()
    style: str = ""
    images: tuple[str, ...] = ()


class ArticleItem(scrapy.Item):
    url = scrapy.Field()
    article_id = scrapy.Field()
    section = scrapy.Field()
    title = scrapy.Field()
    published = scrapy.Field()
    published_raw = scrapy.Field()
    source = scrapy.Field()
    editor = scrapy.Field()
    body = scrapy.Field()
    images = scrapy.Field()
    crawled_at = scrapy.Field()
    content_hash = scrapy.Field()
    spam_removed = scrapy.Field()
    version = scrapy.Field()
    # internal, removed by the spam stage
    body_blocks = scrapy.Field()
    # internal, removed by the duplicate stage: the item re-fetches a delivered story
    revisit = scrapy.Field()
    # internal, removed by the duplicate stage: the page's ETag and Last-Modified, kept
    # in the state for a conditional revisit
    validators = scrapy.Field()
