"""Hostile and broken article pages, in the site's own template, through the
extraction, the loader and the validation stage: what reaches an item's text
fields is the text a reader sees, in the order the page shows it.

Pages are a saved fixture page (``tests/fixtures/pages``) with its headline, info
spans or body replaced; real ECNS paragraphs come from the shared reference folder
where it exists.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from newscrawl import state
from newscrawl.drops import ImplausibleBody, MissingTitle
from newscrawl.extract import RawArticle, extract_article
from newscrawl.extract.encoding import is_misdecoded, misdecoding_reason, redecode
from newscrawl.loaders import load_article
from newscrawl.pipelines.spam import site_hosts_for, strip_spam
from newscrawl.pipelines.validation import ValidationPipeline
from replica.localrun import REFERENCE_DIR
from tests.fixtures.regenerate import PAGES

TEMPLATE = (PAGES / "editor_two_spaces.html").read_text(encoding="utf-8")
URL = "https://www.ecns.cn/business/2024-09-03/detail-ihextova2979555.shtml"
TIME_SPAN = "<span>2024-09-03 12:10:26</span>"
SOURCE_SPAN = "<span>chinadaily.com.cn</span>"
EDITOR_SPAN = "<span>\n<!--xulan@chinanews.com.cn-->Editor  : Xu Lan</span>"
BODY_START = "<!--正文分页开始-->"
BODY_END = "<!--正文分页结束-->"


def ecns_page(
    *,
    title: str | None = None,
    source: str | None = None,
    editor: str | None = None,
    body: str | None = None,
) -> str:
    """The template page with its headline, source span, editor span or body (what
    stands between the body's start and end marks) replaced by raw HTML."""
    html = TEMPLATE
    if title is not None:
        html = re.sub(
            r'(<h1 class="contitle" id="contitle">).*?(</h1>)',
            lambda m: m.group(1) + title + m.group(2),
            html,
            count=1,
            flags=re.DOTALL,
        )
        # The fallbacks would stand in for an empty headline.
        html = re.sub(r'<meta name="twitter:title"[^>]*>', "", html)
        html = re.sub(r"<title>.*?</title>", "<title></title>", html, flags=re.DOTALL)
    for old, new in ((SOURCE_SPAN, source), (EDITOR_SPAN, editor)):
        if new is not None:
            assert old in html
            html = html.replace(old, new, 1)
    if body is not None:
        start = html.index(BODY_START) + len(BODY_START)
        html = html[:start] + body + html[html.index(BODY_END) :]
    return html


def extract(html: str) -> RawArticle:
    return extract_article(Selector(text=html), URL)


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


class _Crawler:
    def __init__(self) -> None:
        self.stats = _Stats()


def validated(html: str, crawler: _Crawler | None = None) -> dict[str, Any]:
    """The item the loader and the validation stage make of the page."""
    item = load_article(extract(html), url=URL, listing_date="Sept 3, 2024")
    ValidationPipeline(crawler or _Crawler()).process_item(item)  # type: ignore[arg-type]
    return dict(item)


def body_text(raw: RawArticle) -> str:
    return "\n\n".join(block.text for block in raw.blocks if block.text)


# --- invisible and bidi characters ---------------------------------------------------------


def test_a_bidi_override_in_the_headline_is_not_delivered() -> None:
    item = validated(ecns_page(title="\u202eOfficial statement\u202c gnp.exe"))
    assert item["title"] == "Official statement gnp.exe"


def test_a_headline_of_nothing_but_invisible_characters_is_missing() -> None:
    with pytest.raises(MissingTitle):
        validated(ecns_page(title="\u3164\u202e\u2066\u115f\u1160\uffa0\u200f\u2063"))


def test_invisible_characters_leave_source_editor_and_body() -> None:
    html = ecns_page(
        source="<span>\u2067Xinhua\u2069</span>",
        editor="<span>Editor  : \u200fLi\u3164 Yan\u202c</span>",
        body="<p>\u202aChina and\u180e Brazil\u2061 agreed.\u202c</p>",
    )
    item = validated(html)
    assert (item["source"], item["editor"]) == ("Xinhua", "Li Yan")
    assert [b.text for b in item["body_blocks"]] == ["China and Brazil agreed."]


def test_a_source_of_nothing_but_fillers_is_null() -> None:
    item = validated(ecns_page(source="<span>\u3164\uffa0</span>"))
    assert item["source"] is None


# --- script, style and other non-text content ---------------------------------------------

NON_TEXT = [
    "<script>alert('X-SCRIPT')</script>",
    "<style>.x-style{color:red}</style>",
    "<noscript>X-NOSCRIPT</noscript>",
    "<template>X-TEMPLATE</template>",
    "<svg><title>X-SVG-TITLE</title><text x='0'>X-SVG</text></svg>",
    "<math><mi>X</mi><mo>-</mo><mi>MATH</mi></math>",
]
NON_TEXT_IDS = ["script", "style", "noscript", "template", "svg", "math"]


def test_script_in_the_editor_span_is_not_the_editors_name() -> None:
    html = ecns_page(editor="<span>Editor  : Li <script>alert('EDITOR-SCRIPT')</script>Yan</span>")
    assert validated(html)["editor"] == "Li Yan"


def test_style_and_script_in_the_source_span_are_not_the_source() -> None:
    html = ecns_page(
        source="<span>Xinhua<style>.x{}</style><script>alert('SOURCE')</script></span>"
    )
    assert validated(html)["source"] == "Xinhua"


@pytest.mark.parametrize("markup", NON_TEXT, ids=NON_TEXT_IDS)
def test_no_text_field_carries_non_text_content(markup: str) -> None:
    html = ecns_page(
        title=f"Real {markup}headline",
        source=f"<span>Xin{markup}hua</span>",
        editor=f"<span>Editor  : Li {markup}Yan</span>",
        body=(
            f"{markup}<p>{markup}First paragraph.</p>"
            f'<p><img src="https://image.cns.com.cn/a.jpg">{markup}A photo (Photo/Xinhua)</p>'
            f"<div>{markup}<p>Last paragraph.</p></div>"
        ),
    )
    raw = extract(html)
    assert raw.titles[0] == "Real headline"
    assert (raw.source_raw, raw.editor_raw) == ("Xinhua", "Editor : Li Yan")
    assert [b.text for b in raw.blocks] == [
        "First paragraph.",
        "A photo (Photo/Xinhua)",
        "Last paragraph.",
    ]
    assert "X" not in repr(raw).replace("Xinhua", "")


# --- a body cut short by the parser -------------------------------------------------------

REFERENCE_PAGE = REFERENCE_DIR / "article-detail-ihemrznk1748604.rendered.html"
REFERENCE_URL = "https://www.ecns.cn/news/politics/2025-01-10/detail-ihemrznk1748604.shtml"
needs_reference = pytest.mark.skipif(
    not REFERENCE_PAGE.exists(), reason=f"{REFERENCE_DIR} is not on this machine"
)


def nested_after_lead(html: str, depth: int) -> str:
    """The page with its first paragraph as it was, and the rest of its body inside
    ``depth`` nested ``<div>`` elements."""
    lead_end = html.index("</p>", html.index(BODY_START)) + len("</p>")
    end = html.index(BODY_END)
    return html[:lead_end] + "<div>" * depth + html[lead_end:end] + "</div>" * depth + html[end:]


@needs_reference
def test_a_body_nested_3000_deep_does_not_reach_its_end_mark() -> None:
    real = REFERENCE_PAGE.read_text(encoding="utf-8")
    whole = extract_article(Selector(text=real), REFERENCE_URL)
    assert whole.body_end_reached
    assert len(whole.blocks) == 9
    # libxml2 stops building the tree near depth 2,048: the paragraphs below are lost,
    # and so is the end mark; the lead alone must not pass for the whole body.
    deep = extract_article(Selector(text=nested_after_lead(real, 3000)), REFERENCE_URL)
    assert not deep.body_end_reached
    assert [b.text for b in deep.blocks] == [whole.blocks[0].text]  # 390 of 2,801 characters
    assert deep.has_body_container


def test_a_template_page_nested_3000_deep_does_not_reach_its_end_mark() -> None:
    deep = extract(nested_after_lead(TEMPLATE, 3000))
    assert not deep.body_end_reached
    assert extract(nested_after_lead(TEMPLATE, 100)).body_end_reached


@pytest.mark.parametrize("path", sorted(PAGES.glob("*.html")), ids=lambda p: p.stem)
def test_every_fixture_page_reaches_its_body_end_mark(path: Path) -> None:
    raw = extract(path.read_text(encoding="utf-8"))
    assert raw.body_end_reached


def test_a_page_without_the_end_mark_does_not_reach_it() -> None:
    assert not extract(TEMPLATE.replace(BODY_END, "")).body_end_reached
    no_container = TEMPLATE.replace('id="yanse"', "").replace('class="content"', "")
    assert not extract(no_container).body_end_reached


# --- document order -------------------------------------------------------------------------


def delivered_body(html: str) -> str:
    raw = extract(html)
    return strip_spam(raw.titles[0], raw.blocks, site_hosts_for(URL)).body


def test_loose_text_in_the_body_container_keeps_its_place() -> None:
    html = ecns_page(body="<p>A</p>Loose B<br><p>C</p><b>D</b>")
    assert delivered_body(html) == "A\n\nLoose B\n\nC\n\nD"


def test_text_around_nested_blocks_keeps_its_place() -> None:
    body = (
        "Opening words<div>Intro <em>text</em><p>First.</p>between<p>Second.</p>"
        "after <a href='/news/x.shtml'>a link</a></div>closing words"
    )
    assert delivered_body(ecns_page(body=body)).split("\n\n") == [
        "Opening words",
        "Intro text",
        "First.",
        "between",
        "Second.",
        "after a link",
        "closing words",
    ]


def test_a_paragraph_with_a_hidden_inline_element_stays_whole() -> None:
    body = '<p>Real text <span style="display:none">hidden words</span>stays whole.</p><p>Next.</p>'
    raw = extract(ecns_page(body=body))
    assert [(b.text, b.style) for b in raw.blocks] == [
        ("Real text stays whole.", ""),
        ("hidden words", "display:none"),
        ("Next.", ""),
    ]


def test_inline_elements_nested_1500_deep_are_read() -> None:
    body = "<p>" + "<span>" * 1500 + "Deep text." + "</span>" * 1500 + "</p><p>Next.</p>"
    raw = extract(ecns_page(body=body))
    assert [b.text for b in raw.blocks] == ["Deep text.", "Next."]
    assert raw.body_end_reached


def test_a_deeply_nested_page_is_read_in_one_pass() -> None:
    html = nested_after_lead(TEMPLATE, 3000)
    selector = Selector(text=html)
    started = time.perf_counter()
    extract_article(selector, URL)
    # Block by block, each looking up its ancestors, this took 2.5 s.
    assert time.perf_counter() - started < 0.25


def test_each_link_knows_where_its_text_stands_in_the_block() -> None:
    body = (
        "<p>The casino <b>law</b> passed; see <a href='https://www.ecns.cn/a.shtml'>"
        "the <i>casino</i>  law</a> and <a href='http://x.example/'>casino</a>.</p>"
        "<p>No<a href='/b.shtml'>space</a>between <a href='/c.shtml'> </a>words.</p>"
    )
    raw = extract(ecns_page(body=body))
    found = [(b.text[link.start : link.end], link.text) for b in raw.blocks for link in b.links]
    assert found == [("the casino law",) * 2, ("casino",) * 2, ("space",) * 2, ("",) * 2]
    assert raw.blocks[0].links[1].start == len("The casino law passed; see the casino law and ")


@pytest.mark.parametrize("path", sorted(PAGES.glob("*.html")), ids=lambda p: p.stem)
def test_fixture_links_stand_where_their_text_is(path: Path) -> None:
    for block in extract(path.read_text(encoding="utf-8")).blocks:
        for link in block.links:
            assert block.text[link.start : link.end] == link.text


# --- implausible sizes ----------------------------------------------------------------------


def test_a_100000_character_editor_is_no_editor_and_is_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = _Crawler()
    html = ecns_page(editor=f"<span>Editor  : {'Li Yan ' * 14_285}Li</span>")
    with caplog.at_level(logging.WARNING, logger="newscrawl.pipelines.validation"):
        item = validated(html, crawler)
    assert item["editor"] is None
    assert crawler.stats.values["newscrawl/implausible_field/editor"] == 1
    assert "newscrawl/field_present/editor" not in crawler.stats.values
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert URL in record.getMessage() and "99997-character editor" in record.getMessage()


def test_a_source_over_200_characters_is_no_source() -> None:
    crawler = _Crawler()
    item = validated(ecns_page(source=f"<span>{'x' * 201}</span>"), crawler)
    assert item["source"] is None
    assert crawler.stats.values["newscrawl/implausible_field/source"] == 1


def test_names_at_the_limits_are_kept() -> None:
    crawler = _Crawler()
    html = ecns_page(source=f"<span>{'s' * 200}</span>", editor=f"<span>Editor: {'e' * 100}</span>")
    item = validated(html, crawler)
    assert (item["source"], item["editor"]) == ("s" * 200, "e" * 100)
    assert not any(key.startswith("newscrawl/implausible_field") for key in crawler.stats.values)


def test_one_warning_a_page_names_each_implausible_field(caplog: pytest.LogCaptureFixture) -> None:
    html = ecns_page(source=f"<span>{'s' * 300}</span>", editor=f"<span>Editor: {'e' * 500}</span>")
    with caplog.at_level(logging.WARNING, logger="newscrawl.pipelines.validation"):
        validated(html)
    [record] = caplog.records
    assert "300-character source" in record.getMessage()
    assert "500-character editor" in record.getMessage()


def test_a_body_over_a_million_characters_is_dropped_with_its_length() -> None:
    paragraph = "Exports rose in the first half of the year, the ministry said. " * 40
    body = f"<p>{paragraph}</p>" * 400  # 1,008,398 characters, blank lines between
    with pytest.raises(ImplausibleBody, match="1008398-character body") as drop:
        validated(ecns_page(body=body))
    assert drop.value.outcome == state.INVALID
    validated(ecns_page(body=f"<p>{paragraph}</p>" * 390))  # 983,188: kept


# --- charsets -------------------------------------------------------------------------------

# A replica paragraph with the Chinese names a story on this site prints beside their
# English forms.
CHINESE = (
    "President Xi Jinping (习近平) met Brazilian President Luiz Inacio Lula da Silva in "
    "Brasilia, the capital of Brazil (巴西利亚), on Wednesday."
)


def served(
    html: str, *, header: str | None, meta: str | None, encoding: str = "utf-8"
) -> HtmlResponse:
    """The page as Scrapy receives it: its bytes in ``encoding``, the charset of its
    Content-Type header and of its ``<meta charset>`` as given (None: none)."""
    html = html.replace('<meta charset="utf-8">', f'<meta charset="{meta}">' if meta else "")
    ctype = f"text/html; charset={header}" if header else "text/html"
    body = html.encode(encoding, errors="xmlcharrefreplace")  # (the footer's ©)
    return HtmlResponse(URL, body=body, headers={"Content-Type": ctype})


@pytest.mark.parametrize(
    ("header", "meta"),
    [("gbk", "gbk"), ("gbk", None), (None, "gbk"), ("GB2312", "utf-8"), ("utf-8", "gbk")],
)
def test_a_utf8_page_declared_gbk_is_read_as_utf8(header: str | None, meta: str | None) -> None:
    response = served(ecns_page(body=f"<p>{CHINESE}</p>"), header=header, meta=meta)
    fixed = redecode(response)
    assert misdecoding_reason(fixed) is None and not is_misdecoded(fixed)
    assert [b.text for b in extract_article(fixed.selector, URL).blocks] == [CHINESE]


@needs_reference
def test_the_real_page_served_as_utf8_but_declared_gbk_is_read_as_utf8() -> None:
    real = REFERENCE_PAGE.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in real
    response = served(real, header="gbk", meta="gbk")
    fixed = redecode(response)
    assert fixed.encoding == "utf-8" and misdecoding_reason(fixed) is None
    raw = extract_article(fixed.selector, REFERENCE_URL)
    assert raw.blocks[0].text.startswith("Japanese Prime Minister Shigeru Ishiba met with")
    assert "网上传播视听节目许可证" in fixed.text


@pytest.mark.parametrize("declared", ["gbk", "utf-8", None])
def test_gbk_bytes_are_read_as_gb18030_whatever_is_declared(declared: str | None) -> None:
    response = served(
        ecns_page(body=f"<p>{CHINESE}</p>"), header=declared, meta=declared, encoding="gbk"
    )
    fixed = redecode(response)
    assert misdecoding_reason(fixed) is None
    assert [b.text for b in extract_article(fixed.selector, URL).blocks] == [CHINESE]


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        ("gbk", "its bytes fit neither its declared charset (gbk) nor UTF-8 nor GB18030"),
        ("utf-8", "its bytes fit neither its declared charset (utf-8) nor GB18030"),
        ("gb18030", "its bytes fit neither its declared charset (gb18030) nor UTF-8"),
        (None, "it declares no charset, and its bytes fit neither UTF-8 nor GB18030"),
    ],
)
def test_bytes_that_fit_no_charset_say_which_were_tried(declared: str | None, reason: str) -> None:
    html = ecns_page(body=f"<p>{CHINESE}</p>").replace("(习近平)", "(\udcff\udcfe\udcfa)")
    response = HtmlResponse(
        URL,
        body=html.replace('<meta charset="utf-8">', "").encode("utf-8", "surrogateescape"),
        headers={"Content-Type": f"text/html; charset={declared}" if declared else "text/html"},
    )
    fixed = redecode(response)
    assert misdecoding_reason(fixed) == reason
    assert is_misdecoded(fixed)
