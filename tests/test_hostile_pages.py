"""Pages that are broken or hostile: wrong charset, script in the headline,
an absurd headline. Output stays data; bad pages are dropped with a reason."""

from __future__ import annotations

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from newscrawl.drops import ImplausibleTitle
from newscrawl.extract import extract_article
from newscrawl.extract.encoding import is_misdecoded, is_truncated, redecode
from newscrawl.items import Block
from newscrawl.loaders import load_article
from newscrawl.pipelines.validation import ValidationPipeline

URL = "https://www.ecns.cn/news/politics/2025-01-10/detail-iabcdefg1234567.shtml"


def page(title: str, body: str = "<p>Some text.</p>", charset: str = "utf-8") -> str:
    return (
        f'<html><head><meta charset="{charset}"></head><body>'
        f'<h1 id="contitle">{title}</h1><div class="downinfo"><span>2025-01-10 16:52:22</span>'
        f'</div><div class="content" id="yanse">{body}</div></body></html>'
    )


def test_gbk_bytes_in_a_page_declared_utf8_are_decoded_as_gbk() -> None:
    body = page("标题 Title", "<p>中文段落 text.</p>").encode("gbk")
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    fixed = redecode(response)
    raw = extract_article(fixed.selector, URL)
    assert raw.titles[0] == "标题 Title"
    assert raw.blocks[0].text == "中文段落 text."


def test_a_valid_utf8_page_is_left_alone() -> None:
    response = HtmlResponse(URL, body=page("Title ü").encode(), encoding="utf-8")
    assert redecode(response) is response


def test_script_inside_the_headline_is_not_text() -> None:
    raw = extract_article(Selector(text=page("Real <script>alert(1)</script>headline")), URL)
    assert raw.titles[0] == "Real headline"


class _Stats:
    def inc_value(self, *args: object) -> None:
        pass


class _Crawler:
    stats = _Stats()


def validate(title: str, text: str) -> None:
    raw = extract_article(Selector(text=page(title)), URL)
    item = load_article(raw, url=URL, listing_date=None)
    item["title"] = title
    item["body_blocks"] = [Block(text=text)]
    ValidationPipeline(_Crawler()).process_item(item)  # type: ignore[arg-type]


def test_a_megabyte_headline_is_dropped_with_its_reason() -> None:
    with pytest.raises(ImplausibleTitle, match="1000000-character headline"):
        validate("x" * 1_000_000, "Some text.")


def test_bytes_that_fit_no_charset_are_reported_not_decoded_wrong() -> None:
    body = page("Title").encode() + b"\xff\xfe\xfa broken"
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert is_misdecoded(redecode(response))


def test_invalid_character_references_leave_no_trace_in_the_text() -> None:
    raw = extract_article(Selector(text=page("Tit&#xD800;le &#0;here")), URL)
    assert raw.titles[0] == "Title here"


def test_a_page_cut_inside_its_body_is_truncated() -> None:
    whole = page("Title", "<!--正文分页开始--><p>Text.</p><!--正文分页结束-->")
    assert not is_truncated(HtmlResponse(URL, body=whole.encode(), encoding="utf-8"))
    cut = whole[: whole.index("Text.") + 3]
    assert is_truncated(HtmlResponse(URL, body=cut.encode(), encoding="utf-8"))


def test_javascript_and_data_images_are_not_photos() -> None:
    body = '<p><img src="javascript:alert(1)"><img src="data:image/png;base64,AA"></p><p>x</p>'
    raw = extract_article(Selector(text=page("Title", body)), URL)
    assert all(not block.images for block in raw.blocks)


def test_an_empty_headline_element_is_no_headline() -> None:
    html = '<html><head><title></title></head><body><h1 id="contitle"></h1></body></html>'
    assert extract_article(Selector(text=html), URL).titles == ()
    html = html.replace("<title></title>", "<title>Real headline</title>")
    assert extract_article(Selector(text=html), URL).titles == ("Real headline",)
