"""The real ECNS article page in ../shared/reference/ecns, extracted as a user expects.

Runs where that folder exists (it is the real site's content and stays out of
the project).
"""

from __future__ import annotations

import pytest
from parsel import Selector

from newscrawl.extract import extract_article
from newscrawl.loaders import load_article
from newscrawl.pipelines.spam import site_hosts_for, strip_spam
from replica.localrun import REFERENCE_DIR

REFERENCE = REFERENCE_DIR
PAGE = REFERENCE / "article-detail-ihemrznk1748604.rendered.html"
URL = "https://www.ecns.cn/news/politics/2025-01-10/detail-ihemrznk1748604.shtml"

pytestmark = pytest.mark.skipif(not PAGE.exists(), reason=f"{REFERENCE} is not on this machine")


@pytest.fixture(scope="module")
def item() -> dict:
    raw = extract_article(Selector(text=PAGE.read_text(encoding="utf-8")), URL)
    loaded = dict(load_article(raw, url=URL, listing_date="Jan 10, 2025"))
    clean = strip_spam(loaded["title"], loaded.pop("body_blocks"), site_hosts_for(URL))
    return {**loaded, "body": clean.body, "images": clean.images, "removed": clean.removed}


def test_real_page_header_fields(item: dict) -> None:
    assert item["title"] == "Japanese PM looks forward to more exchanges with China"
    assert item["published"] == "2025-01-10T16:52:22+08:00"
    assert item["published_raw"] == "2025-01-10 16:52:22"
    assert item["source"] == "chinadaily.com.cn"
    assert item["editor"] == "Li Yan"
    assert item["section"] == "politics"
    assert item["article_id"] == "ihemrznk1748604"


def test_real_page_body_is_its_nine_paragraphs_without_share_buttons(item: dict) -> None:
    paragraphs = item["body"].split("\n\n")
    assert len(paragraphs) == 9
    assert paragraphs[0].startswith("Japanese Prime Minister Shigeru Ishiba met with")
    assert paragraphs[-1].endswith('to make efforts to that end," Iwaya said.')
    assert all(p == " ".join(p.split()) for p in paragraphs)
    assert item["images"] == []
    assert item["removed"] == []
