"""Pages the fault server serves instead of, or made from, the replica's own.

Two kinds. Generated pages stand in for pages the replica does not hold (an
off-site host's answer, the pages of an endless listing, a listing of 100,000
links). Transforms take a page of the replica as the server would send it (its
real anatomy: head, ``h1#contitle``, ``div.downinfo``, ``div#yanse`` between its
page-break comments, the share paragraph, sidebars, footer) and damage it the way
a server, a proxy or an attacker does: cut, padded, mis-encoded, nested too deep,
compressed into a bomb, its spans and paragraphs laced with markup.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from replica.text import TextGen

HTML_UTF8 = "text/html; charset=utf-8"
BODY_START_MARK = "<!--正文分页开始-->"
BODY_END_MARK = "<!--正文分页结束-->"
# Added to pages served as GBK or without a charset: characters outside ASCII,
# in a title and in an English paragraph the spam stage keeps.
CHINESE_TITLE_SUFFIX = "(北京)"
CHINESE_PARAGRAPH = (
    "Premier Li Qiang (李强) and Vice-Premier Ding Xuexiang (丁薛祥) attended the "
    "meeting in Beijing (北京), where “closer ties” were welcomed — officials said."
)
# Text inside <script> elements of hostile pages: it must never reach a text field.
SCRIPT_MARKER = "xss_marker_code"
# Bytes that are neither UTF-8 nor GB18030 (nor GBK, nor cp1252): a proxy's garbage.
UNDECODABLE_BYTES = b"\x81\x8d\x90\xff"
# How deep the nested ``<div>`` of a deep page go: past libxml2's limit (~2,048).
DEEP_NESTING = 3000
MIB = 1024 * 1024

# A listing item: href as written, title, listing date ("Jan 11, 2025").
ListItem = tuple[str, str, str]


# --- Generated pages ----------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedStory:
    title: str
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def generated_story(key: str) -> GeneratedStory:
    """Synthetic news text for a page the replica does not hold, deterministic for
    ``key`` and distinct between keys (titles carry the key's digest)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    story = TextGen(random.Random(digest)).story("politics")
    title = f"{story.title()} ({digest[:6]})"
    paragraphs = [story.lead()] + [" ".join(story.sentences(2)) for _ in range(3)]
    return GeneratedStory(title, tuple(paragraphs))


def article_page(
    title_html: str,
    paragraphs_html: Sequence[str],
    *,
    head_title: str | None = None,
    published: str = "2025-01-11 09:30:00",
    source: str = "China News Service",
    editor: str = "Li Yan",
) -> str:
    """An article page in the site's template, reduced to what extraction reads:
    ``h1#contitle``, the ``downinfo`` spans, ``div#yanse`` between its marks."""
    plain = head_title if head_title is not None else html.unescape(title_html)
    attr = html.escape(plain, quote=True)
    paragraphs = "\n".join(f"<p>{p}</p>" for p in paragraphs_html)
    return f"""<!DOCTYPE html>
<html lang="en-US"><head>
<meta charset="utf-8">
<meta name="twitter:title" content="{attr}">
<title>{attr}</title>
<!--publish at {published}-->
</head>
<body>
<h3 class="itemtit"><span>Politics</span></h3>
<h1 class="contitle" id="contitle">{title_html}</h1>
<div class="downinfo dottlne"><span>{published}</span><span>{source}</span>
<span>Editor  : {editor}</span></div>
<div class="content" id="yanse">
{BODY_START_MARK}
{paragraphs}
{BODY_END_MARK}
</div>
</body></html>
"""


def story_page(story: GeneratedStory, published: str = "2025-01-11 09:30:00") -> bytes:
    paragraphs = [html.escape(p, quote=False) for p in story.paragraphs]
    page = article_page(html.escape(story.title, quote=False), paragraphs, published=published)
    return page.encode("utf-8")


def listing_items_html(items: Iterable[ListItem]) -> str:
    return "".join(
        f'<li><h3><a href="{html.escape(href)}">{html.escape(title)}</a></h3><b>{date}</b></li>\n'
        for href, title, date in items
    )


def listing_page(items: Iterable[ListItem]) -> bytes:
    """A section listing page holding ``items`` in ``ul.bizlst``."""
    page = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Politics</title></head>
<body><div class="bdybox"><ul class="bizlst dashedlne mart5 overhid">
{listing_items_html(items)}</ul></div></body></html>
"""
    return page.encode("utf-8")


def offsite_page(host: str, path: str) -> bytes:
    """What an off-site host answers: a plausible story, which must never be delivered."""
    story = generated_story(f"offsite:{host}{path}")
    return story_page(GeneratedStory(f"Off-site page {story.title}", story.paragraphs))


ENDLESS_DAY = "2024-08-15"
ENDLESS_DATE = "Aug 15, 2024"
ENDLESS_PER_PAGE = 30


def endless_story_paths(section_path: str, page: int) -> list[str]:
    """The stories generated listing page ``page`` of an endless section lists."""
    return [
        f"{section_path}{ENDLESS_DAY}/detail-zend{page:04d}{i:02d}.shtml"
        for i in range(ENDLESS_PER_PAGE)
    ]


def endless_page(section_path: str, path: str) -> bytes | None:
    """A generated listing page past the real ones, or one of the stories it lists."""
    prefix = re.escape(section_path)
    m = re.fullmatch(rf"{prefix}index_(\d+)\.shtml", path)
    if m:
        items = [
            (p, generated_story(p).title, ENDLESS_DATE)
            for p in endless_story_paths(section_path, int(m.group(1)))
        ]
        return listing_page(items)
    if re.fullmatch(rf"{prefix}{ENDLESS_DAY}/detail-zend\d{{6}}\.shtml", path):
        return story_page(generated_story(path), published=f"{ENDLESS_DAY} 10:00:00")
    return None


def many_links_listing(day: str, count: int, *, date: str) -> bytes:
    """A listing page of ``count`` items, each a story link of the page's own section
    (``<day>/detail-<id>.shtml``, relative, as short as a link can be) to a page
    that does not exist: a listing template gone wrong, or an attacker's."""
    items = "".join(
        f"<li><h3><a href={day}/detail-zz{i:06d}.shtml>Story {i}</a></h3><b>{date}</b></li>\n"
        for i in range(count)
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en-US"><head><meta charset="utf-8"><title>Politics</title>'
        '</head>\n<body><div class="bdybox"><ul class="bizlst dashedlne mart5 overhid">\n'
        f"{items}</ul></div></body></html>\n"
    )
    return page.encode("utf-8")


# --- Listing transforms -------------------------------------------------------------


def inject_items(page: bytes, items: Iterable[ListItem]) -> bytes:
    """``page`` with ``items`` added on top of its first ``ul.bizlst``."""
    extra = listing_items_html(items).encode("utf-8")
    m = re.search(rb'<ul class="bizlst[^>]*>\n?', page)
    if m is None:
        raise ValueError("not a listing page: no ul.bizlst")
    return page[: m.end()] + extra + page[m.end() :]


def replace_listing_links(page: bytes, href_for: Callable[[int, str], str]) -> bytes:
    """``page`` with the href of each listing item ``i`` replaced by ``href_for(i, path)``."""
    counter = iter(range(1 << 30))

    def swap(m: re.Match[bytes]) -> bytes:
        path = urlsplit(html.unescape(m.group(2).decode())).path
        new = html.escape(href_for(next(counter), path)).encode()
        return m.group(1) + new + m.group(3)

    return re.sub(rb'(<li><h3><a href=")([^"]*)(")', swap, page)


# --- Article transforms: what a server or a proxy does to a page ---------------------

PADDING_UNIT = b"<p>Archive padding line for a very large page, not part of any story.</p>\n"


def pad_page(page: bytes, size: int) -> bytes:
    """``page`` grown to ``size`` bytes by a hidden block of paragraphs outside the
    article body, before ``</body>``."""
    at = page.rfind(b"</body>")
    at = len(page) if at < 0 else at
    wrapper = (b'<div class="padding" style="display:none">\n', b"</div>\n")
    room = max(0, size - len(page) - len(wrapper[0]) - len(wrapper[1]))
    padding = PADDING_UNIT * (room // len(PADDING_UNIT)) + b" " * (room % len(PADDING_UNIT))
    return page[:at] + wrapper[0] + padding + wrapper[1] + page[at:]


def cut_page(page: bytes) -> bytes:
    """``page`` cut in the middle of a paragraph of its body (or of the page, when it
    has no body marks), on a UTF-8 character boundary."""
    start, end = page.find(BODY_START_MARK.encode()), page.find(BODY_END_MARK.encode())
    if start < 0 or end < 0:
        at = len(page) // 2
    else:
        middle = (start + end) // 2
        p = page.rfind(b"<p", start, middle)
        close = page.find(b"</p>", max(p, start))
        at = (p + close) // 2 if 0 <= p < close else middle
    while at > 0 and page[at] & 0xC0 == 0x80:
        at -= 1
    return page[:at]


def without_document_end(page: bytes) -> bytes:
    """``page`` whole up to well past its body's end mark, its tail missing: cut at
    the footer, so there is no ``</body>`` or ``</html>``."""
    end = page.find(BODY_END_MARK.encode())
    footer = page.find(b'<div class="foottip">', max(end, 0))
    at = footer if footer > end >= 0 else page.rfind(b"</body>")
    return page[:at] if at > 0 else page


def deeply_nested(page: bytes, depth: int = DEEP_NESTING) -> bytes:
    """``page`` with ``depth`` nested, empty ``<div>`` at the start of its body, before
    its paragraphs: a tree deeper than libxml2 builds."""
    mark = BODY_START_MARK.encode()
    at = page.find(mark)
    if at < 0:
        raise ValueError("no body start mark")
    at += len(mark)
    nest = b'<div class="wrap">' * depth + b"</div>" * depth
    return page[:at] + b"\n" + nest + b"\n" + page[at:]


def undecodable(page: bytes) -> bytes:
    """``page`` (declared UTF-8) with :data:`UNDECODABLE_BYTES` in each body paragraph."""
    start, end = page.find(BODY_START_MARK.encode()), page.find(BODY_END_MARK.encode())
    if start < 0 or end < 0:
        return page[: len(page) // 2] + UNDECODABLE_BYTES + page[len(page) // 2 :]
    body = page[start:end].replace(b"<p>", b"<p>" + UNDECODABLE_BYTES + b" ")
    return page[:start] + body + page[end:]


def add_chinese(text: str) -> str:
    """An article page with :data:`CHINESE_TITLE_SUFFIX` at the end of its titles and
    :data:`CHINESE_PARAGRAPH` as the body's last paragraph."""
    text = text.replace("</h1>", f" {CHINESE_TITLE_SUFFIX}</h1>", 1)
    return text.replace(BODY_END_MARK, f"<p>{CHINESE_PARAGRAPH}</p>\n{BODY_END_MARK}", 1)


def gbk_page(page: bytes) -> bytes:
    """The page, with Chinese added, as GBK bytes; it still declares UTF-8."""
    return add_chinese(page.decode("utf-8")).encode("gbk", errors="xmlcharrefreplace")


def no_charset_page(page: bytes) -> bytes:
    """The page, with Chinese added, as UTF-8 bytes, its ``<meta charset>`` removed."""
    text = re.sub(r"<meta\s+charset=[^>]*>", "", add_chinese(page.decode("utf-8")), count=1)
    return text.encode("utf-8")


def chinese_utf8_page(page: bytes) -> bytes:
    """The page, with Chinese added, as UTF-8 bytes (served with another charset)."""
    return add_chinese(page.decode("utf-8")).encode("utf-8")


GZIP_MEMBER = 8 * MIB  # decompressed size of one padding member of a gzip bomb


@lru_cache(maxsize=4)
def _padding_member() -> bytes:
    return gzip.compress(b" " * GZIP_MEMBER, compresslevel=9, mtime=0)


@lru_cache(maxsize=8)
def gzip_bomb(page: bytes, size: int) -> bytes:
    """``page`` gzipped with about ``size`` bytes of spaces inside its body element:
    concatenated gzip members (a valid gzip stream, which every client decompresses
    whole), ~1 KB compressed per 1 MB."""
    at = page.rfind(b"</body>")
    at = len(page) if at < 0 else at
    members = max(1, size // GZIP_MEMBER)
    return b"".join(
        [
            gzip.compress(page[:at], mtime=0),
            _padding_member() * members,
            gzip.compress(page[at:], mtime=0),
        ]
    )


def endless_chunks(page: bytes, chunk_size: int = MIB) -> tuple[bytes, bytes]:
    """What an endless answer sends: the page up to ``</body>``, then the same
    ``chunk_size`` block of hidden padding over and over."""
    at = page.rfind(b"</body>")
    head = page[: at if at >= 0 else len(page)] + b'<div style="display:none">\n'
    return head, PADDING_UNIT * (chunk_size // len(PADDING_UNIT))


# --- Article edits: another story's content, or laced spans, in a replica page --------


def _first(pattern: str, text: str) -> re.Match[str]:
    m = re.search(pattern, text, flags=re.DOTALL)
    if m is None:
        raise ValueError(f"not a replica article page: no match for {pattern!r}")
    return m


def replace_title(page: str, title_html: str, plain: str) -> str:
    """The headline in ``h1#contitle``, ``<title>`` and ``twitter:title``."""
    attr = html.escape(plain, quote=True)
    page = re.sub(r"<title>.*?</title>", lambda _: f"<title>{attr}</title>", page, count=1)
    page = re.sub(
        r'(<meta name="twitter:title" content=")[^"]*(")',
        lambda m: m.group(1) + attr + m.group(2),
        page,
        count=1,
    )
    h1 = _first(r'(<h1 class="contitle" id="contitle">(?:<!--[^>]*-->)?\s*)(.*?)(</h1>)', page)
    return page[: h1.start(2)] + title_html + page[h1.end(2) :]


def body_paragraphs_html(page: str) -> list[str]:
    """The inner HTML of the ``<p>`` of the body, between the page-break marks."""
    start, end = page.find(BODY_START_MARK), page.find(BODY_END_MARK)
    return re.findall(r"<p>(.*?)</p>", page[start:end], flags=re.DOTALL)


def replace_body(page: str, body_html: str) -> str:
    """``body_html`` between the body's page-break marks."""
    start, end = page.find(BODY_START_MARK), page.find(BODY_END_MARK)
    if start < 0 or end < 0:
        raise ValueError("no body marks")
    start += len(BODY_START_MARK)
    return f"{page[:start]}\n{body_html}\n{page[end:]}"


def info_spans(page: str) -> str:
    """The spans of ``div.downinfo`` after its share widget (time, source, editor, app)."""
    return _first(r'<div class="downinfo[^>]*>.*?</script> </div>\s*(<span>.*?)</div>\n', page)[1]


def replace_info_spans(page: str, spans_html: str) -> str:
    m = _first(r'<div class="downinfo[^>]*>.*?</script> </div>\s*(<span>.*?)</div>\n', page)
    return page[: m.start(1)] + spans_html + page[m.end(1) :]


def with_story(page: bytes, title: str, paragraphs_html: Sequence[str]) -> bytes:
    """A replica article page carrying another story: its headline and its
    paragraphs (inner HTML), the rest of the page (head, spans, sidebars) as it was."""
    text = replace_title(page.decode("utf-8"), html.escape(title, quote=False), title)
    text = replace_body(text, "\n".join(f"<p>{p}</p>" for p in paragraphs_html))
    return text.encode("utf-8")
