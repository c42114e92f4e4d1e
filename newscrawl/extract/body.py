"""The body container (``div#yanse``) as an ordered list of blocks, and the
body text and photos composed back from the blocks that are kept.

Blocks keep what the spam detector needs (links, inherited inline styles,
images) beside their text, so spam is judged per block before anything is
joined. Only what precedes the ``<!--正文分页结束-->`` comment belongs to the
article: the share-button paragraph and anything injected after it do not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urljoin

from lxml import etree

from newscrawl.items import Block, Link
from newscrawl.normalize import normalize_space
from newscrawl.spam import is_hidden_style, style_from_rules

BODY_START_MARK = "正文分页开始"
BODY_END_MARK = "正文分页结束"

# Elements whose text forms a block of its own; inline elements belong to the
# block that contains them.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "section", "article", "center", "table", "tr", "td", "th", "dl", "dt", "dd",
        "figure", "figcaption", "pre", "form",
    }
)  # fmt: skip
# Elements whose content is no text a reader sees: code, styles, markup for other
# renderers (SVG and MathML draw their text; it is not the article's), embedded
# documents and players. Their text reaches no field; their tail is text.
SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "video"}
)

# A caption ends in a parenthesised credit: "(Photo/Xinhua)",
# "(XUE WEI/FOREIGN MINISTRY)", "(Photo: China News Service/ Ke Ning)".
CAPTION_CREDIT_RE = re.compile(r"\((?:[^()]*/[^()]*|\s*photo\b[^()]*)\)\s*$", re.IGNORECASE)
SOCIAL_HOST_RE = re.compile(r"(?:^|\.)(?:facebook\.com|twitter\.com|x\.com|weibo\.com)$")


def _is_comment(node: etree._Element) -> bool:
    return isinstance(node, etree._Comment)


def visible_text(el: etree._Element) -> str:
    """The element's text as a reader sees it, whitespace-collapsed: the content of
    SKIP_TAGS left out (their tails kept), a ``<br>`` read as a space."""
    parts: list[str] = []
    walker = etree.iterwalk(el, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if event == "start":
            if node.tag in SKIP_TAGS:
                walker.skip_subtree()
            elif node.text:
                parts.append(node.text)
            if node.tag == "br":
                parts.append(" ")
        elif node is not el and node.tail:  # an element's end, a comment, an instruction
            parts.append(node.tail)
    return normalize_space("".join(parts))


class _BlockBuilder:
    """Collects one block's own text, links and images, skipping nested blocks."""

    def __init__(self, page_url: str, rules: Mapping[str, str], style: str = "") -> None:
        self.page_url = page_url
        self.rules = rules
        self.style = style
        self.parts: list[str] = []
        self.links: list[Link] = []
        self.images: list[str] = []
        self.hidden: list[Block] = []

    def visit(self, el: etree._Element, in_social_link: bool = False) -> None:
        if el.text:
            self.parts.append(el.text)
        for child in el:
            if not (_is_comment(child) or isinstance(child, etree._ProcessingInstruction)):
                tag = child.tag if isinstance(child.tag, str) else ""
                if tag in BLOCK_TAGS or tag in SKIP_TAGS:
                    pass  # a nested block is a block of its own
                elif tag == "br":
                    self.parts.append(" ")
                elif (own := _own_style(child, self.rules)) and is_hidden_style(own):
                    inner = _BlockBuilder(self.page_url, self.rules, f"{self.style};{own}")
                    inner.visit(child, in_social_link)
                    self.hidden.append(inner.block(inner.style))
                    self.hidden.extend(inner.hidden)
                elif tag == "a":
                    self._visit_link(child, in_social_link)
                elif tag == "img":
                    self._add_image(child, in_social_link)
                else:
                    self.visit(child, in_social_link)
            if child.tail:
                self.parts.append(child.tail)

    def _visit_link(self, a: etree._Element, in_social_link: bool) -> None:
        href = urljoin(self.page_url, (a.get("href") or "").strip())
        start = len(self.parts)
        social = in_social_link or _is_social(href)
        self.visit(a, social)
        self.links.append(Link(href=href, text=normalize_space("".join(self.parts[start:]))))

    def _add_image(self, img: etree._Element, in_social_link: bool) -> None:
        src = urljoin(self.page_url, (img.get("src") or "").strip())
        # Share buttons and banners are images inside links to social sites; only
        # http(s) images are photos (not data:, javascript: or other schemes).
        if not in_social_link and src.startswith(("http://", "https://")):
            self.images.append(src)

    def block(self, style: str) -> Block:
        return Block(
            text=normalize_space("".join(self.parts)),
            links=tuple(self.links),
            style=style,
            images=tuple(self.images),
        )


def _is_social(href: str) -> bool:
    host = re.sub(r"^[a-z]+://", "", href.lower()).split("/", 1)[0]
    return bool(SOCIAL_HOST_RE.search(host))


def _own_style(el: etree._Element, rules: Mapping[str, str]) -> str:
    """The element's hiding class/id rules, then its inline style (which wins); the
    ``hidden`` attribute hides like ``display:none``."""
    ruled = style_from_rules(rules, el.get("class"), el.get("id"))
    if el.get("hidden") is not None:
        ruled = f"display:none;{ruled}" if ruled else "display:none"
    inline = (el.get("style") or "").strip()
    return f"{ruled};{inline}" if ruled and inline else ruled or inline


def _inherited_style(
    el: etree._Element, container: etree._Element, rules: Mapping[str, str]
) -> str:
    styles = []
    node: etree._Element | None = el
    while node is not None:
        style = _own_style(node, rules)
        if style:
            styles.append(style)
        if node is container:
            break
        node = node.getparent()
    return ";".join(reversed(styles))


def extract_blocks(
    container: etree._Element, page_url: str, rules: Mapping[str, str] | None = None
) -> tuple[list[Block], bool]:
    """The blocks of the body container in document order, up to the body's end
    comment; blocks with neither text nor images are left out. And whether that
    comment was reached: a parser that gave up on a deeply nested page (libxml2
    stops building the tree near depth 2,048) leaves a container that ends early,
    without it."""
    blocks = []
    end_reached = False
    for node in container.iter():
        if _is_comment(node):
            if BODY_END_MARK in (node.text or ""):
                end_reached = True
                break
            continue
        tag = node.tag if isinstance(node.tag, str) else ""
        if node is not container and tag not in BLOCK_TAGS:
            continue
        if any(a.tag in SKIP_TAGS for a in node.iterancestors()):
            continue
        style = _inherited_style(node, container, rules or {})
        builder = _BlockBuilder(page_url, rules or {}, style)
        builder.visit(node)
        block = builder.block(style)
        if block.text or block.images:
            blocks.append(block)
        blocks.extend(b for b in builder.hidden if b.text or b.links)
    return blocks, end_reached


def compose_body(blocks: Sequence[Block]) -> tuple[str, list[dict[str, str | None]]]:
    """The body text (paragraphs joined by a blank line) and the photos with
    their captions, from the blocks kept.

    A photo's caption is the text of its own block, or else the block right
    after it when that block ends in a credit such as ``(Photo/Xinhua)``.
    """
    paragraphs = [b.text for b in blocks if b.text]
    images: list[dict[str, str | None]] = []
    for i, block in enumerate(blocks):
        if not block.images:
            continue
        caption = block.text or None
        if caption is None and i + 1 < len(blocks):
            following = blocks[i + 1]
            if following.text and not following.images and CAPTION_CREDIT_RE.search(following.text):
                caption = following.text
        images.extend({"url": src, "caption": caption} for src in block.images)
    return "\n\n".join(paragraphs), images
