"""One story, one URL: link forms, sections and ids."""

from __future__ import annotations

import pytest

from newscrawl import urls
from newscrawl.urls import article_id, canonical_url, listing_page_url, section_slug

LIVE = "https://www.ecns.cn"
REPLICA = "http://127.0.0.1:8765"
PATH = "/news/politics/2025-01-10/detail-ihemrznk1748604.shtml"


@pytest.mark.parametrize(
    "href",
    [
        f"//www.ecns.cn{PATH}",
        f"http://www.ecns.cn{PATH}",
        f"https://www.ecns.cn{PATH}",
        PATH,
        f"https://WWW.ECNS.CN{PATH}#top",
        f"http://www.ecns.cn/m{PATH}",
        f"https://www.ecns.cn{PATH}?pc",
    ],
)
@pytest.mark.parametrize("base", [LIVE, REPLICA])
def test_every_link_form_of_a_story_gives_one_canonical_url(href: str, base: str) -> None:
    assert canonical_url(href, base, page_url=f"{base}/news/politics/index.shtml") == base + PATH


@pytest.mark.parametrize(
    "href",
    [
        "http://tqx.xyz123.cn/",
        "https://www.chinadaily.com.cn/a.html",
        "mailto:en@chinanews.com.cn",
        "javascript:;",
        "",
        "http://[broken/news/politics/2025-01-10/detail-iabcdefg1234567.shtml",
    ],
)
def test_links_leaving_the_site_have_no_canonical_url(href: str) -> None:
    assert canonical_url(href, REPLICA) is None


def test_relative_links_resolve_against_the_page() -> None:
    page = f"{REPLICA}/news/politics/index_2.shtml"
    assert canonical_url("2025-01-10/detail-iabcdefg1234567.shtml", REPLICA, page) == (
        f"{REPLICA}/news/politics/2025-01-10/detail-iabcdefg1234567.shtml"
    )


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("/news/politics/2025-01-10/detail-iabcdefg1234567.shtml", "politics"),
        ("/news/cns-wire/2025-01-10/detail-iabcdefg1234567.shtml", "cns-wire"),
        ("/cns-wire/2025-01-10/detail-iabcdefg1234567.shtml", "cns-wire"),
        ("/news/2025-01-10/detail-iabcdefg1234567.shtml", "news"),
        ("/business/2025-01-10/detail-iabcdefg1234567.shtml", "business"),
        ("/news/economy/2025-01-10/detail-iabcdefg1234567.shtml", "economy"),
        ("/hd/2025-01-10/detail-iabcdefg1234567.shtml", "hd"),
    ],
)
def test_section_slug_comes_from_the_article_path(path: str, slug: str) -> None:
    assert section_slug(LIVE + path) == slug
    assert article_id(LIVE + path) == "iabcdefg1234567"


def test_non_article_urls_have_no_id_or_section() -> None:
    assert article_id(f"{LIVE}/news/politics/index.shtml") is None
    assert section_slug(f"{LIVE}/about.shtml") is None


def test_listing_pages_are_index_then_index_n() -> None:
    assert listing_page_url(REPLICA, "/cns-wire/", 1) == f"{REPLICA}/cns-wire/index.shtml"
    assert listing_page_url(REPLICA, "/news/politics/", 3) == (
        f"{REPLICA}/news/politics/index_3.shtml"
    )


@pytest.mark.parametrize(
    "base", ["https://www.ecns.cn", "http://127.0.0.1:8000", "http://LOCALHOST:8"]
)
def test_a_story_url_taken_as_written_is_what_the_full_normalization_gives(base: str) -> None:
    # canonical_url returns a story URL on the origin unparsed; any link must come
    # out as the general path (join, checks, w3lib) makes it.
    paths = [
        "/news/politics/2024-12-06/detail-iheakyvw1983334.shtml",
        "/cns-wire/2025-01-10/detail-ihexyz0001.shtml",
        "/2018/05/03/detail-hayqvmxs6521.shtml",
        "/m/news/politics/2024-12-06/detail-iheakyvw1983334.shtml",
        "/news/Politics/2024-12-06/detail-iheakyvw1983334.shtml",
        "/news/politics/2024-12-06/detail-ihe%20kyvw.shtml",
        "/news/politics/./2024-12-06/detail-iheakyvw1983334.shtml",
        "/news/politics/index.shtml",
    ]
    hosts = [base, base.upper(), "https://www.ecns.cn", "http://ecns.cn", "//www.ecns.cn", ""]
    tails = ["", "?from=home", "#top", " ", "\n"]
    page = base + "/news/politics/index.shtml"
    for path in paths:
        for host in hosts:
            for tail in tails:
                href = f" {host}{path}{tail}"
                expected = urls._canonical(href.strip(), base, page)
                assert canonical_url(href, base, page) == expected, href
