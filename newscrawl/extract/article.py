"""The raw fields of an article page, as the page prints them.

``extract_article`` reads a page and returns strings and blocks; it does not
normalize or validate (the loader and the pipelines do). It is pure: the same
page gives the same result, which is what the fixture tests pin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsel import Selector

from newscrawl.extract.body import extract_blocks, visible_text
from newscrawl.extract.visibility import hiding_rules
from newscrawl.items import Block
from newscrawl.normalize import SITE_TIME_RE, normalize_space, parse_editor

TITLE_XPATHS = (
    "//h1[@id='contitle' or contains(concat(' ', normalize-space(@class), ' '), ' contitle ')]",
    "//meta[@name='twitter:title']/@content",
    "//head/title",
)
PUBLISH_COMMENT_RE = re.compile(r"publish at\s+(\d{4}-\d{1,2}-\d{1,2}[\d: ]*?)\s*-->")
BODY_CONTAINER_XPATH = (
    "//div[@id='yanse'] | //div[contains(concat(' ', normalize-space(@class), ' '), ' content ')]"
)


@dataclass(frozen=True, slots=True)
class RawArticle:
    titles: tuple[str, ...]  # candidates, best first: h1, twitter:title, <title>
    time_raw: str | None  # "2025-01-10 16:52:22" from div.downinfo, if printed
    publish_comment_raw: str | None  # from <!--publish at …--> in the head
    source_raw: str | None  # the source span's text ("" when the span is empty)
    editor_raw: str | None  # the editor span's text ("Editor  : Li Yan")
    blocks: tuple[Block, ...]
    has_body_container: bool
    # The blocks were read up to the body's end mark (<!--正文分页结束-->) inside the
    # container. False when the page has no such mark there, or when the parser gave
    # up before it (libxml2 drops what lies deeper than ~2,048 levels): a page whose
    # source holds the mark but whose extraction did not reach it was cut short.
    body_end_reached: bool = False


def _info_spans(selector: Selector) -> tuple[str | None, str | None, str | None]:
    """Time, source and editor from the spans of ``div.downinfo``.

    The spans come in the order time, source, editor, app link, but a page may
    lack the time or the editor, so each span is recognized by its content;
    the source is the first span that is none of the others.
    """
    time_raw = source_raw = editor_raw = None
    for span in selector.xpath("//div[contains(@class, 'downinfo')]/span"):
        text = visible_text(span.root)
        if time_raw is None and SITE_TIME_RE.fullmatch(text):
            time_raw = text
        elif editor_raw is None and parse_editor(text) is not None:
            editor_raw = text
        elif "app download" in text.lower() or "editor" in text.lower():
            continue
        elif source_raw is None:
            source_raw = text
    return time_raw, source_raw, editor_raw


def _visible_text(selector: Selector, xpath: str) -> str:
    """The text of the first node ``xpath`` finds, without the content of script,
    style, SVG and the like (a hostile headline may carry a ``<script>``)."""
    found = selector.xpath(xpath)
    if not found:
        return ""
    if isinstance(found[0].root, str):  # an attribute (twitter:title's content)
        return normalize_space(found[0].root)
    return visible_text(found[0].root)


def extract_article(selector: Selector, url: str) -> RawArticle:
    titles = tuple(text for xpath in TITLE_XPATHS if (text := _visible_text(selector, xpath)))
    time_raw, source_raw, editor_raw = _info_spans(selector)
    comment = selector.xpath("//head/comment()").re_first(PUBLISH_COMMENT_RE)
    containers = selector.xpath(BODY_CONTAINER_XPATH)
    rules = hiding_rules("\n".join(selector.xpath("//style/text()").getall()))
    blocks, end_reached = (
        extract_blocks(containers[0].root, url, rules) if containers else ([], False)
    )
    return RawArticle(
        titles=titles,
        time_raw=time_raw,
        publish_comment_raw=normalize_space(comment) or None,
        source_raw=source_raw,
        editor_raw=editor_raw,
        blocks=tuple(blocks),
        has_body_container=bool(containers),
        body_end_reached=end_reached,
    )
