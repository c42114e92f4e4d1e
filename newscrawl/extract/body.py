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

from newscrawl.extract.visibility import is_hidden_style, style_from_rules
from newscrawl.items import Block, Link
from newscrawl.normalize import normalize_parts, normalize_space

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


class _Run:
    """The text of one block as it is read: its parts, the anchors and images in
    it, and the hidden inline elements met inside it (blocks of their own, put
    right after it)."""

    __slots__ = ("hidden", "hidden_run", "images", "links", "open", "parts", "style")

    def __init__(self, style: str, hidden_run: bool, open_links: list[list] | None = None) -> None:
        self.style = style
        self.hidden_run = hidden_run  # the run of a hidden inline element
        self.parts: list[str] = []
        self.links: list[tuple[str, int, int]] = []  # href, its parts (first, end)
        # [href, social, first part] of the anchors open around the text being read:
        # text inside an anchor is link text, whichever block it falls in.
        self.open: list[list] = [[href, social, 0] for href, social, _ in open_links or ()]
        self.images: list[str] = []
        self.hidden: list[Block] = []

    def close_links(self) -> None:
        end = len(self.parts)
        self.links.extend((href, first, end) for href, _, first in self.open)

    def emit(self, out: list[Block]) -> None:
        """Put the run's block (when it holds anything) and its hidden blocks into
        ``out``, and start the run afresh: what follows is a paragraph of its own."""
        if self.open:
            self.close_links()
            for entry in self.open:
                entry[2] = 0
        if not (self.links or self.images or self.hidden):
            if self.parts:
                text = normalize_space("".join(self.parts))
                if text:
                    out.append(Block(text=text, style=self.style))
                self.parts = []
            return
        block = self.block()
        if block.text or block.images or (self.hidden_run and block.links):
            out.append(block)
        out.extend(self.hidden)
        self.parts, self.links, self.images, self.hidden = [], [], [], []

    def block(self) -> Block:
        if not self.links:
            text = normalize_space("".join(self.parts))
            return Block(text=text, style=self.style, images=tuple(self.images))
        text, starts, ends = normalize_parts(self.parts)
        links = []
        for href, first, end in self.links:
            start = min(starts[first], ends[end])
            links.append(Link(href=href, text=text[start : ends[end]], start=start, end=ends[end]))
        return Block(text=text, links=tuple(links), style=self.style, images=tuple(self.images))


def _is_social(href: str) -> bool:
    host = re.sub(r"^[a-z]+://", "", href.lower()).split("/", 1)[0]
    return bool(SOCIAL_HOST_RE.search(host))


def _own_style(el: etree._Element, rules: Mapping[str, str]) -> str:
    """The element's hiding class/id rules, then its inline style (which wins); the
    ``hidden`` attribute hides like ``display:none``."""
    ruled = style_from_rules(rules, el.get("class"), el.get("id")) if rules else ""
    if el.get("hidden") is not None:
        ruled = f"display:none;{ruled}" if ruled else "display:none"
    inline = (el.get("style") or "").strip()
    return f"{ruled};{inline}" if ruled and inline else ruled or inline


# What an element's end does (see extract_blocks).
_INLINE, _BLOCK, _HIDDEN, _ANCHOR = range(4)


def extract_blocks(
    container: etree._Element, page_url: str, rules: Mapping[str, str] | None = None
) -> tuple[list[Block], bool]:
    """The blocks of the body container in document order, up to the body's end
    comment, and whether that comment was reached.

    A block element (BLOCK_TAGS) starts a block; the text around it in its parent
    (loose text in the container, a div's words before and after its paragraphs)
    makes blocks of its own, in place. An inline element whose own style hides it
    makes a block of its own, put after the block it sits in, whose text stays out
    of that block. Each block's ``style`` joins the styles of the elements it sits
    in, outermost first. Blocks with neither text nor images are left out (hidden
    ones are kept when they hold links).

    One pass over the tree (``lxml.etree.iterwalk``), never recursive: a hostile
    page may nest elements thousands deep. The end comment is reached only when it
    is inside the parsed container: a parser that gave up on a deeply nested page
    (libxml2 stops building the tree near depth 2,048) leaves a container that
    ends early, without it.
    """
    rules = rules or {}
    blocks: list[Block] = []
    # One frame for each open element: what its end does, its inherited style, and
    # for an anchor its entry among the open links.
    frames: list[tuple[int, str, list | None]] = []
    runs = [_Run(_own_style(container, rules), hidden_run=False)]
    # Where the innermost block's run is in ``runs``: text goes only to it and to the
    # hidden runs above it, so a new block need only emit those.
    block_runs = [0]
    end_reached = False
    walker = etree.iterwalk(container, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if event == "start":
            if node is container:
                frames.append((_BLOCK, runs[0].style, None))
                if node.text:
                    runs[0].parts.append(node.text)
                continue
            tag = node.tag
            if tag in SKIP_TAGS:
                walker.skip_subtree()
                frames.append((_INLINE, "", None))
                continue
            own = _own_style(node, rules)
            parent_style = frames[-1][1]
            style = f"{parent_style};{own}" if parent_style and own else parent_style or own
            run = runs[-1]
            if tag in BLOCK_TAGS:
                for open_run in runs[block_runs[-1] :]:
                    open_run.emit(blocks)
                block_runs.append(len(runs))
                runs.append(_Run(style, hidden_run=False, open_links=run.open))
                frames.append((_BLOCK, style, None))
            elif own and is_hidden_style(own):
                runs.append(_Run(style, hidden_run=True, open_links=run.open))
                frames.append((_HIDDEN, style, None))
                if tag == "a":
                    run = runs[-1]
                    href = urljoin(page_url, (node.get("href") or "").strip())
                    run.open.append([href, _is_social(href), len(run.parts)])
            elif tag == "a":
                href = urljoin(page_url, (node.get("href") or "").strip())
                entry = [href, _is_social(href), len(run.parts)]
                run.open.append(entry)
                frames.append((_ANCHOR, style, entry))
            else:
                frames.append((_INLINE, style, None))
                if tag == "br":
                    run.parts.append(" ")
                elif tag == "img":
                    src = urljoin(page_url, (node.get("src") or "").strip())
                    # Share buttons and banners are images inside links to social
                    # sites; only http(s) images are photos (not data:, javascript:).
                    in_social = any(entry[1] for entry in run.open)
                    if not in_social and src.startswith(("http://", "https://")):
                        run.images.append(src)
            if node.text:
                runs[-1].parts.append(node.text)
            continue
        if event == "end":
            kind, _, opened = frames.pop()
            if node is container:
                break
            if kind == _BLOCK:
                runs.pop().emit(blocks)
                block_runs.pop()
            elif kind == _HIDDEN:
                hidden = runs.pop()
                hidden.close_links()
                inner = hidden.block()
                if inner.text or inner.links:
                    runs[-1].hidden.append(inner)
                runs[-1].hidden.extend(hidden.hidden)
            elif kind == _ANCHOR:
                run = runs[-1]
                for i, candidate in enumerate(run.open):
                    if opened is not None and candidate is opened:
                        run.links.append((opened[0], opened[2], len(run.parts)))
                        del run.open[i]
                        break
        elif event == "comment" and BODY_END_MARK in (node.text or ""):
            end_reached = True
            break
        if node.tail:  # an element's end, a comment, a processing instruction
            runs[-1].parts.append(node.tail)
    for run in runs:
        run.emit(blocks)
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
