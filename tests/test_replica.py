"""The offline replica of www.ecns.cn: what it serves and what its ground truth says.

Why these tests: the crawler's own tests trust the replica to hold every quirk of
the real site (ECNS-SITE.md) and its ``truth.jsonl`` to say exactly what a correct
crawl delivers. These pin both: each variation occurs, counted from the generated
pages themselves; the truth agrees with the pages; the site is deterministic;
``new_on_top`` shifts only the politics listing; near copies differ from their
originals by their edit alone; a replica built from a file of texts makes one story
of each; and the server speaks real HTTP (404s, content types, keep-alive) on
127.0.0.1.
"""

from __future__ import annotations

import collections
import http.client
import json
import random
import re
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from parsel import Selector

from replica import ReplicaServer, build_site, edits
from replica import text as replica_text
from replica.localrun import REFERENCE_DIR
from replica.model import (
    EDITOR_STYLE_MIN,
    EDITOR_STYLES,
    LISTINGS,
    MISSING_LISTINGS,
    NEAR_COPIES,
    PAGE_SIZE,
    VARIATION_COUNTS,
    build_model,
    default_reserve,
    plain_text,
)
from replica.realtexts import RealText, load_texts

REFERENCE = REFERENCE_DIR
# The real export, beside the project (never copied into it).
REAL_TEXTS = REFERENCE_DIR / "politics-2024-articles.jsonl"
ARTICLE_PATH_RE = re.compile(r"^/(?:[a-z-]+/)+\d{4}-\d{2}-\d{2}/detail-i[a-z]{7}\d{7}\.shtml$")
LISTING_DATE_RE = re.compile(
    r"^(?:Jan|Feb|Mar|Apr|May|June|July|Aug|Sept|Oct|Nov|Dec) [1-9]\d?, \d{4}$"
)
BODY_START, BODY_END = "<!--正文分页开始-->", "<!--正文分页结束-->"
SITE_HOSTS = {"www.ecns.cn", ""}
CREDIT_RE = re.compile(
    r"\((?:Photo/Xinhua|Photo: China News Service/ [A-Z][a-z]+ [A-Z][a-z]+|[A-Z ]+/[A-Z ]+)\)$"
)


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replica")
    build_site(path)
    return path


@pytest.fixture(scope="module")
def truth(root: Path) -> list[dict]:
    with (root / "truth.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def by_path(truth: list[dict]) -> dict[str, dict]:
    return {r["path"]: r for r in truth}


@pytest.fixture(scope="module")
def root_new4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same site after four new politics stories were published on top."""
    path = tmp_path_factory.mktemp("replica-new4")
    build_site(path, new_on_top=4)
    return path


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[ReplicaServer]:
    with ReplicaServer(root) as running:
        yield running


def read(root: Path, path: str) -> str:
    return (root / "site" / path.lstrip("/")).read_text(encoding="utf-8")


def tree(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@dataclass
class ListingItem:
    href: str
    path: str
    title: str
    date: str


def listing_pages(root: Path, slug: str) -> list[list[ListingItem]]:
    """The items of each page of a section listing, in order, until the files end."""
    listing = next(x for x in LISTINGS if x.slug == slug)
    pages = []
    for n in range(1, 1000):
        name = "index.shtml" if n == 1 else f"index_{n}.shtml"
        file = root / "site" / listing.path.lstrip("/") / name
        if not file.exists():
            break
        sel = Selector(text=file.read_text(encoding="utf-8"))
        pages.append(
            [
                ListingItem(
                    href=li.css("h3 a::attr(href)").get(),
                    path=urlsplit(li.css("h3 a::attr(href)").get()).path,
                    title=" ".join(li.css("h3 a").xpath("string()").get().split()),
                    date=li.css("b::text").get(),
                )
                for li in sel.css("ul.bizlst > li")
            ]
        )
    return pages


def link_form(href: str) -> str:
    if href.startswith("https://"):
        return "https"
    if href.startswith("http://"):
        return "http"
    return "protocol" if href.startswith("//") else "relative"


@dataclass
class ArticlePage:
    """What an article page prints, read back with parsel and lxml (independently of
    the replica's model and of the crawler's extraction)."""

    h1_html: str | None
    h1_text: str | None
    twitter_title: str | None
    title_tag: str
    publish_comment: str | None
    spans: list[str]  # downinfo span texts (whitespace-collapsed), app link left out
    span_html: list[str]
    body_html: str  # the body container, up to the end-of-body comment
    body: list[str]  # paragraphs an honest reader keeps: no spam, no empties
    images: list[dict[str, str | None]]
    after_body: str  # from the end of the body container to the end of the page


def _space(text: str) -> str:
    return " ".join(text.split())


def _is_offsite(href: str) -> bool:
    host = urlsplit(href).hostname or ""
    return host not in SITE_HOSTS and not host.endswith(("ecns.cn", "cns.com.cn"))


def read_article(html: str) -> ArticlePage:
    sel = Selector(text=html)
    h1 = sel.css("h1#contitle")
    spans = sel.css("div.downinfo > span")
    # The body container as the page prints it (not re-serialized), up to the end of
    # the body: the end comment, or the container's end on a page without one.
    start = html.index('<div class="content" id="yanse">')
    end = html.find(BODY_END, start)
    body_html = html[start : end if end >= 0 else html.index("<!--旧系统", start)]
    body: list[str] = []
    images: list[dict[str, str | None]] = []
    blocks = Selector(text=body_html).xpath("//div[@id='yanse']//p")
    pending_image: dict[str, str | None] | None = None
    for p in blocks:
        text = _space(p.xpath("string()").get())
        hidden = p.xpath("ancestor::*[contains(@style, 'display:none')]")
        anchors = p.css("a")
        offsite_only = anchors and all(_is_offsite(a.attrib.get("href", "")) for a in anchors)
        offsite_only = offsite_only and _space("".join(a.xpath("string()").get() for a in anchors))
        if hidden or text.startswith("主站蜘蛛池模板") or (offsite_only and len(anchors) >= 3):
            continue
        if pending_image is not None and text and CREDIT_RE.search(text):
            pending_image["caption"] = text
        pending_image = None
        for src in p.css("img::attr(src)").getall():
            pending_image = {"src": src, "caption": None}
            images.append(pending_image)
        if text:
            body.append(text)
    comment = re.search(r"<!--publish at ([^>]*?)-->", html)
    h1_raw = re.search(r'<h1 class="contitle" id="contitle">.*?</h1>', html, re.S)
    downinfo = html[html.find('<div class="downinfo') : start]
    return ArticlePage(
        h1_html=h1_raw.group(0) if h1_raw else None,
        h1_text=_space(h1.xpath("string()").get()) if h1 else None,
        twitter_title=sel.css("meta[name='twitter:title']::attr(content)").get(),
        title_tag=sel.css("head title::text").get(),
        publish_comment=comment.group(1) if comment else None,
        spans=[_space(s.xpath("string()").get()) for s in spans if "App Download" not in s.get()],
        span_html=re.findall(r"<span>(?:(?!</span>).)*</span>", downinfo, re.S),
        body_html=body_html,
        body=body,
        images=images,
        after_body=html[html.index("<!--旧系统", start) :],
    )


@pytest.fixture(scope="module")
def articles(root: Path, truth: list[dict]) -> dict[str, ArticlePage]:
    return {
        r["path"]: read_article(read(root, r["path"])) for r in truth if r["expect"] != "not_found"
    }


def with_variation(truth: list[dict], name: str) -> list[dict]:
    return [r for r in truth if name in r["variations"]]


# --- Determinism and size ------------------------------------------------------------------


def test_build_is_deterministic_for_a_seed(root: Path, tmp_path: Path) -> None:
    again = build_site(tmp_path / "again")
    assert tree(again) == tree(root / "site")
    assert (tmp_path / "again" / "truth.jsonl").read_bytes() == (root / "truth.jsonl").read_bytes()


def test_another_seed_gives_another_site(root: Path, tmp_path: Path) -> None:
    other = build_site(tmp_path / "other", seed=8)
    assert tree(other) != tree(root / "site")


def test_scale_one_is_a_small_site(root: Path, truth: list[dict]) -> None:
    pages = list((root / "site").rglob("detail-*.shtml"))
    assert 250 <= len(pages) <= 350
    assert len(truth) == len({r["path"] for r in truth})
    assert {r["path"] for r in truth if r["expect"] != "not_found"} == {
        "/" + str(p.relative_to(root / "site")) for p in pages
    }


def test_section_listings_have_the_expected_number_of_pages(root: Path) -> None:
    counts = {x.slug: len(listing_pages(root, x.slug)) for x in LISTINGS}
    assert counts["politics"] == 4
    assert 0 < len(listing_pages(root, "politics")[-1]) < PAGE_SIZE  # the last one partial
    assert counts["cns-wire"] == 2 and counts["business"] == 2
    assert counts["economy"] == 1 and counts["society"] == 1
    for slug in ("sci-tech", "photo", "video"):
        assert counts[slug] == 1 and 0 < len(listing_pages(root, slug)[0]) < 10
    # A section with no stories has an index with no items; a missing one has none.
    assert listing_pages(root, "travel") == [[]]
    assert "bizlst" in read(root, "/travel/index.shtml")
    assert all(counts[slug] == 0 for slug in MISSING_LISTINGS)


def test_scale_multiplies_the_stories_and_a_rebuild_replaces_the_site(tmp_path: Path) -> None:
    site = build_site(tmp_path, scale=2)
    assert 500 <= len(list(site.rglob("detail-*.shtml"))) <= 700
    assert len(listing_pages(tmp_path, "politics")) == 8  # 2 x 108 items
    build_site(tmp_path)
    assert len(list(site.rglob("detail-*.shtml"))) < 350
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "truth.jsonl"]


# --- Listings ------------------------------------------------------------------------------


def test_listing_pages_hold_at_most_30_items_newest_first(root: Path, by_path: dict) -> None:
    split_pages = 0
    for listing in LISTINGS:
        items = [item for page in listing_pages(root, listing.slug) for item in page]
        for page in listing_pages(root, listing.slug):
            assert len(page) <= PAGE_SIZE
        published = [by_path[item.path]["path"].split("/")[-2] for item in items]
        assert published == sorted(published, reverse=True), listing.slug
        for n in range(1, len(listing_pages(root, listing.slug)) + 1):
            name = "index.shtml" if n == 1 else f"index_{n}.shtml"
            html = read(root, listing.path + name)
            split_pages += html.count('<ul class="bizlst dashedlne mart5 overhid">') == 2
    assert split_pages >= 2  # some pages split their items across two lists


def test_listing_dates_look_like_the_sites(root: Path, by_path: dict) -> None:
    dates = [i.date for p in listing_pages(root, "politics") for i in p]
    assert all(LISTING_DATE_RE.match(d) for d in dates)
    assert any(d.startswith("Sept ") for d in dates)
    assert any(re.match(r"\w+ [1-9], ", d) for d in dates)  # the day is not zero-padded
    for item in (i for p in listing_pages(root, "politics") for i in p):
        assert by_path[item.path]["listing_date"] == item.date


def test_politics_lists_stories_of_other_sections(root: Path) -> None:
    paths = [i.path for p in listing_pages(root, "politics") for i in p]
    prefixes = collections.Counter(re.sub(r"\d{4}-\d\d-\d\d/detail-.*", "", p) for p in paths)
    assert prefixes["/news/politics/"] > 80
    for other in ("/news/cns-wire/", "/cns-wire/", "/business/", "/news/economy/", "/news/"):
        assert prefixes[other] >= 1, other


def test_links_mix_site_forms_and_never_name_the_replica_host(root: Path) -> None:
    forms = collections.Counter(
        link_form(i.href)
        for slug in ("politics", "cns-wire")
        for p in listing_pages(root, slug)
        for i in p
    )
    assert set(forms) == {"https", "http", "protocol", "relative"}
    for file in (root / "site").rglob("*"):
        if file.is_file():
            assert "127.0.0.1" not in file.read_text(encoding="utf-8")


def test_cross_posted_story_is_listed_in_politics_and_cns_wire_under_two_forms(
    root: Path, truth: list[dict]
) -> None:
    crossed = with_variation(truth, "cross_posted")
    assert len(crossed) >= 2
    politics = {i.path: i.href for p in listing_pages(root, "politics") for i in p}
    wire = {i.path: i.href for p in listing_pages(root, "cns-wire") for i in p}
    for r in crossed:
        assert r["path"].startswith(("/cns-wire/", "/news/cns-wire/"))
        assert link_form(politics[r["path"]]) != link_form(wire[r["path"]])
        assert r["expect"] == "delivered" and sorted(r["listed_in"]) == ["cns-wire", "politics"]


def test_a_story_is_listed_twice_on_one_page_under_two_forms(root: Path, truth: list[dict]) -> None:
    twice = with_variation(truth, "listed_twice")
    assert twice
    for r in twice:
        pages = [p for p in listing_pages(root, "politics") if any(i.path == r["path"] for i in p)]
        assert len(pages) == 1
        hrefs = [i.href for i in pages[0] if i.path == r["path"]]
        assert len(hrefs) == 2 and link_form(hrefs[0]) != link_form(hrefs[1])


def test_story_published_twice_has_two_ids_the_same_day_title_and_text(
    root: Path, truth: list[dict], by_path: dict
) -> None:
    copies = [r for r in truth if r["expect"] == "duplicate" and "edit" not in r]
    assert len(copies) >= 2
    listed = {i.path for p in listing_pages(root, "politics") for i in p}
    for copy in copies:
        first = by_path[copy["duplicate_of"]]
        assert first["expect"] == "delivered"
        assert first["article_id"] != copy["article_id"]
        assert first["published"][:10] == copy["published"][:10]
        assert (first["title"], first["body"]) == (copy["title"], copy["body"])
        assert {first["path"], copy["path"]} <= listed


def test_sidebars_link_other_stories_and_sidebar_only_stories_exist(
    root: Path, truth: list[dict]
) -> None:
    only = [r for r in truth if r["expect"] == "not_listed"]
    assert len(only) >= 10
    listed = {i.path for x in LISTINGS for p in listing_pages(root, x.slug) for i in p}
    linked: set[str] = set()
    for file in (root / "site").rglob("*.shtml"):
        sel = Selector(text=file.read_text(encoding="utf-8"))
        linked.update(urlsplit(h).path for h in sel.css("a::attr(href)").getall())
    politics_page = Selector(text=read(root, "/news/politics/index.shtml"))
    sidebar = {urlsplit(h).path for h in politics_page.css("ul.newslst02 a::attr(href)").getall()}
    assert len(sidebar) >= 8 and sidebar.isdisjoint(
        i.path for i in listing_pages(root, "politics")[0]
    )
    assert sidebar & {r["path"] for r in only}  # a crawler following sidebars gets caught
    for r in only:
        assert r["listing_date"] is None and r["path"] not in listed
        assert r["path"] in linked and (root / "site" / r["path"].lstrip("/")).exists()


# --- Article pages: every variation, counted from the pages --------------------------------


def test_every_configured_variation_occurs_in_the_truth(truth: list[dict]) -> None:
    counts = collections.Counter(v for r in truth for v in r["variations"])
    for name, minimum in VARIATION_COUNTS.items():
        assert counts[name] >= minimum, name
    for style in EDITOR_STYLES:
        assert counts[style] >= EDITOR_STYLE_MIN, style
    # Most variations are met on politics stories, for crawls limited to politics.
    for name in VARIATION_COUNTS:
        assert any("politics" in r["listed_in"] for r in with_variation(truth, name)), name


def test_titles_vary_as_on_the_site(truth: list[dict], articles: dict[str, ArticlePage]) -> None:
    pages = {r["path"]: articles[r["path"]] for r in truth if r["expect"] == "delivered"}
    h1s = [p.h1_html for p in pages.values() if p.h1_html]
    assert all("<!--中文稿子链接-->\n" in h for h in h1s)
    assert sum("&amp;" in h for h in h1s) >= 3
    assert sum("&#39;" in h for h in h1s) >= 3
    assert sum("&quot;" in h for h in h1s) >= 2
    assert sum("&nbsp;" in h for h in h1s) >= 2
    assert sum("<em>" in h for h in h1s) >= 2
    assert sum(bool(re.search(r"\S {2,}\n\s+\S", h)) for h in h1s) >= 2
    assert sum("\u2002" in h for h in h1s) >= 1
    no_h1 = [p for p in pages.values() if not p.h1_text]
    assert sum(p.twitter_title is not None for p in no_h1) >= 3  # h1 missing or empty
    assert sum(p.twitter_title is None for p in no_h1) == 1  # only <title> left
    assert sum(p.h1_html is not None for p in no_h1) >= 1  # an h1 holding only its comment


def test_downinfo_spans_vary_as_on_the_site(truth: list[dict], articles: dict) -> None:
    spans = [articles[r["path"]].span_html for r in truth if r["expect"] == "delivered"]
    editors = [s for page in spans for s in page if "Editor" in s]
    assert all(re.search(r"<!--[a-z]+@chinanews\.com\.cn-->", s) for s in editors)
    for label in (
        "Editor  : ",
        "Editor : ",
        "Editor:",
        "Editor：",
        "Editor&nbsp;: ",
        "Web Editor: ",
    ):
        assert sum(f"-->{label}" in s for s in editors) >= 2, label
    assert sum(not any("Editor" in s for s in page) for page in spans) >= 3
    texts = [articles[r["path"]].spans for r in truth if r["expect"] == "delivered"]
    timeless = [t for t in texts if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t[0])]
    assert len(timeless) >= 4
    assert sum("" in t[:2] for t in texts) >= 3  # an empty source span
    sources = collections.Counter(t[1] for t in texts if len(t) > 1)
    for source in ("Xinhua", "chinadaily.com.cn", "China News Service", "Global Times", "ecns.cn"):
        assert sources[source] >= 1, source


def test_bodies_vary_as_on_the_site(truth: list[dict], articles: dict) -> None:
    pages = [articles[r["path"]] for r in truth if r["expect"] == "delivered"]
    bodies = [p.body_html for p in pages]
    assert all("<!--新视频播放器1显示start-->" in b and BODY_START in b for b in bodies)
    starts = [b.split(BODY_START)[1].lstrip() for b in bodies]
    assert sum(s.startswith("<p></p>") for s in starts) >= 2
    assert sum(s.startswith("<p>&nbsp;</p>") for s in starts) >= 2
    assert sum(any(x.startswith("(ECNS) -- ") for x in p.body) for p in pages) >= 5
    assert (
        sum(
            bool(re.fullmatch(r"By [A-Z]\w+ [A-Z]\w+( in [\w']+)?", p.body[0]))
            for p in pages
            if p.body
        )
        >= 4
    )
    assert sum(any(len(x) < 30 and not x.startswith("By ") for x in p.body) for p in pages) >= 5
    assert sum("<strong>" in b for b in bodies) >= 4
    assert sum(bool(re.search(r"[.\"]<br>\n[A-Z\"]", b)) for b in bodies) >= 3
    assert sum(bool(re.search(r"[a-z.]&nbsp;", b)) for b in bodies) >= 4
    assert (
        sum(bool(re.search(r"[A-Z][a-z]+ [A-Z][a-z]+ \([\u4e00-\u9fff]{2,3}\)", b)) for b in bodies)
        >= 4
    )
    assert sum(bool(re.search(r"(?:[A-Z][\w']+, )+[A-Z][\w']+ and [A-Z]", b)) for b in bodies) >= 5
    ecns_links = r'<a href="(?:https?:)?(?://www\.ecns\.cn)?/[^"]+/detail-[^"]+">'
    assert sum(bool(re.search(ecns_links, b)) for b in bodies) >= 5
    images = [i for p in pages for i in p.images]
    assert sum("//image.cns.com.cn/ecns_editor/transform/" in i["src"] for i in images) >= 3
    assert sum(i["src"].startswith("https://image.chinanews.com/cspimp/") for i in images) >= 2
    captions = [i["caption"] for i in images if i["caption"]]
    assert any(c.endswith("(Photo/Xinhua)") for c in captions)
    assert any("(Photo: China News Service/ " in c for c in captions)
    assert any(re.search(r"\([A-Z ]+/[A-Z ]+\)$", c) for c in captions)
    assert sum(i["caption"] is None for i in images) >= 2


def test_article_pages_follow_the_real_template(root: Path, truth: list[dict]) -> None:
    r = next(
        r
        for r in truth
        if r["expect"] == "delivered"
        and r["section"] == "politics"
        and "spam_after_footer" not in r["variations"]
    )
    html = read(root, r["path"])
    order = [
        '<meta charset="utf-8">',
        '<meta name="twitter:title"',
        "<title>",
        "<!--publish at ",
        '<h3 class="itemtit mart20 bitemblue">',
        '<h1 class="contitle" id="contitle"><!--中文稿子链接-->\n',
        '<div class="downinfo dottlne"',
        'id="share_1"',
        '<div class="content" id="yanse">',
        "<!--新视频播放器1显示start-->",
        BODY_START,
        BODY_END,
        '<p style="text-align:center;">',
        '<a href="//www.facebook.com/echinanews" target="_blank"><img',
        "<span>Photo</span>",
        "Most popular in 24h",
        "Top news",
        "<span>Video</span>",
        "Media partners:",
        "Copyright ©1999-2025 Chinanews.com",
        '<div style="display:none">\n\n</div>',
    ]
    positions = [html.find(marker) for marker in order]
    assert all(p >= 0 for p in positions), [
        m for m, p in zip(order, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    assert html.count('class="content"') == 1


# --- Spam ----------------------------------------------------------------------------------


def test_link_spam_sits_inside_the_body_and_after_the_footer(
    truth: list[dict], articles: dict
) -> None:
    bodies = {r["path"]: articles[r["path"]].body_html for r in truth if r["expect"] == "delivered"}
    pool = [b for b in bodies.values() if "主站蜘蛛池模板: " in b]
    assert len(pool) >= 3
    assert all(
        re.search(r'<a href="http://[a-z]{2,4}\.[a-z0-9-]+\.(?:cn|com)/">[\u4e00-\u9fff]+</a>\|', b)
        for b in pool
    )
    assert sum('<div style="display:none"><a href="http://www.' in b for b in bodies.values()) >= 3
    offsite_only = re.compile(
        r"<p>(?:<a href=\"https?://(?!www\.ecns\.cn)[^\"]+\">[^<]+</a> ?){4,}</p>"
    )
    assert sum(bool(offsite_only.search(b)) for b in bodies.values()) >= 3
    for r in truth:
        if r["expect"] == "delivered":
            # Spam never reaches the expected body.
            assert (
                "蜘蛛池" not in r["body"] and "澳门" not in r["body"] and "casino" not in r["body"]
            )
    footers = [articles[r["path"]].after_body for r in with_variation(truth, "spam_after_footer")]
    assert len(footers) >= 4
    for tail in footers:
        footbot = tail.index('<div class="bdybox footbot">')
        assert "主站蜘蛛池模板" in tail[footbot:]
        hidden = tail[tail.rindex('<div style="display:none">') :]
        assert "主站蜘蛛池模板" in hidden and "http://www." in hidden


def test_a_listed_url_is_a_whole_gambling_page(root: Path, truth: list[dict]) -> None:
    spam_pages = [r for r in truth if r["expect"] == "spam_page"]
    assert len(spam_pages) == 1 and spam_pages[0]["listing_date"]
    page = read_article(read(root, spam_pages[0]["path"]))
    assert re.search("新葡京|百家乐|棋牌|娱乐|彩", page.title_tag)
    assert page.twitter_title == page.title_tag
    links = Selector(text=page.body_html).css("a::attr(href)").getall()
    assert len(links) >= 10 and all(_is_offsite(h) for h in links)
    listed = [
        i for p in listing_pages(root, "politics") for i in p if i.path == spam_pages[0]["path"]
    ]
    assert listed and not re.search("[\u4e00-\u9fff]", listed[0].title)  # listed under a news title


# --- Pages to drop -------------------------------------------------------------------------


def test_a_listed_link_is_missing_and_a_listed_page_has_no_body(
    root: Path, truth: list[dict], articles: dict
) -> None:
    listed = {i.path for x in LISTINGS for p in listing_pages(root, x.slug) for i in p}
    missing = [r for r in truth if r["expect"] == "not_found"]
    assert missing and all(r["path"] in listed for r in missing)
    assert not any((root / "site" / r["path"].lstrip("/")).exists() for r in missing)
    empty = [r for r in truth if r["expect"] == "no_body"]
    assert len(empty) >= 2 and all(r["path"] in listed for r in empty)
    for r in empty:
        page = articles[r["path"]]
        assert (
            page.body == [] and "<p>" not in page.body_html.split("<!--新视频播放器1显示end-->")[1]
        )
        assert page.h1_text  # a real-looking page otherwise


# --- Ground truth --------------------------------------------------------------------------


def test_truth_paths_ids_and_sections_follow_the_site(truth: list[dict]) -> None:
    sections = {
        "/news/politics/": "politics",
        "/news/society/": "society",
        "/news/economy/": "economy",
        "/news/sci-tech/": "sci-tech",
        "/news/cns-wire/": "cns-wire",
        "/cns-wire/": "cns-wire",
        "/business/": "business",
        "/hd/": "hd",
        "/video/": "video",
        "/news/": "news",
    }
    seen = collections.Counter()
    for r in truth:
        assert ARTICLE_PATH_RE.match(r["path"]), r["path"]
        assert r["path"].endswith(f"/detail-{r['article_id']}.shtml")
        prefix = re.sub(r"\d{4}-\d\d-\d\d/detail-.*", "", r["path"])
        assert r["section"] == sections[prefix]
        seen[r["section"]] += 1
    assert set(seen) == set(sections.values())
    assert len({r["article_id"] for r in truth}) == len(truth)


def truth_page_mismatches(truth: list[dict], articles: dict[str, ArticlePage]) -> list[str]:
    """Where a delivered (or duplicate) story's truth and its page disagree; [] when
    they agree everywhere."""
    bad: list[str] = []
    for r in truth:
        if r["expect"] not in ("delivered", "duplicate"):
            continue
        page, path = articles[r["path"]], r["path"]
        title = page.h1_text or _space(page.twitter_title or "") or _space(page.title_tag)
        if title != r["title"]:
            bad.append(f"{path}: title")
        if "no_time" in r["variations"]:
            dated = r["published_raw"] == r["listing_date"]
            dated = dated and r["published"].endswith("T00:00:00+08:00")
            source = page.spans[0]
        else:
            dated = page.spans[0] == r["published_raw"] == page.publish_comment
            dated = dated and r["published"] == r["published_raw"].replace(" ", "T") + "+08:00"
            source = page.spans[1]
        if not dated:
            bad.append(f"{path}: published")
        if source != (r["source"] or ""):
            bad.append(f"{path}: source")
        editor = next((s for s in page.spans if "Editor" in s), None)
        name = re.sub(r"^(?:Web )?Editor\s*[:：]\s*", "", editor) if editor else None
        if name != r["editor"]:
            bad.append(f"{path}: editor")
        if page.body != r["body"].split("\n\n"):
            bad.append(f"{path}: body")
        if page.images != r["images"]:
            bad.append(f"{path}: images")
    return bad


def test_truth_agrees_with_what_the_pages_print(truth: list[dict], articles: dict) -> None:
    assert truth_page_mismatches(truth, articles) == []
    assert sum(1 for r in truth if r["expect"] in ("delivered", "duplicate")) > 240


def test_pages_without_a_time_are_dated_by_their_listing(truth: list[dict]) -> None:
    timeless = with_variation(truth, "no_time")
    assert len(timeless) >= 4
    assert any(r["published_raw"].startswith("Sept ") for r in timeless)
    for r in timeless:
        assert LISTING_DATE_RE.match(r["published_raw"])


def test_body_text_is_ours_not_the_sites() -> None:
    articles_file = REFERENCE / "politics-2024-articles.jsonl"
    if not articles_file.exists():
        pytest.skip("the reference copies are not on this machine")
    reference = articles_file.read_text(encoding="utf-8").lower()
    templates = (
        *replica_text.LEADS,
        *replica_text.SENTENCES,
        *replica_text.QUOTES,
        *replica_text.CITY_ENUM,
        *replica_text.CN_NAME_SENTENCES,
        *replica_text.OUTCOMES,
        *(t for titles in replica_text.TITLES.values() for t in titles),
    )
    # The fixed runs of words between the slots of our templates (stock phrases
    # such as "percent year on year" are shorter than this).
    runs = [r.strip() for t in templates for r in re.split(r"\{\w+\}", t)]
    assert len(runs) > 100
    assert not [r for r in runs if len(r) >= 25 and r.lower() in reference]


# --- new_on_top ----------------------------------------------------------------------------


def test_new_on_top_shifts_politics_page_one_by_exactly_the_new_items(
    root: Path, truth: list[dict], root_new4: Path
) -> None:
    before = [i for p in listing_pages(root, "politics") for i in p]
    after = [i for p in listing_pages(root_new4, "politics") for i in p]
    assert [i.href for i in after[4:]] == [i.href for i in before]
    page_one_before = listing_pages(root, "politics")[0]
    page_one_after = listing_pages(root_new4, "politics")[0]
    assert [i.href for i in page_one_after[4:]] == [i.href for i in page_one_before[:26]]

    with (root_new4 / "truth.jsonl").open(encoding="utf-8") as f:
        new_truth = {r["path"]: r for r in map(json.loads, f)}
    old_paths = {r["path"] for r in truth}
    new = [new_truth[i.path] for i in after[:4]]
    assert all(r["path"] not in old_paths and r["expect"] == "delivered" for r in new)
    assert {r["article_id"] for r in new}.isdisjoint(r["article_id"] for r in truth)
    assert max(r["published"] for r in truth if r.get("published")) < min(
        r["published"] for r in new
    )
    assert [r["published"] for r in new] == sorted((r["published"] for r in new), reverse=True)
    assert {p: new_truth[p] for p in old_paths} == {r["path"]: r for r in truth}

    old_files, new_files = tree(root / "site"), tree(root_new4 / "site")
    changed = {f for f in old_files if old_files[f] != new_files.get(f)}
    assert changed <= {f"news/politics/index{s}.shtml" for s in ("", "_2", "_3", "_4")} | {
        "rss/rss.xml"
    }
    assert set(new_files) - set(old_files) == {r["path"].lstrip("/") for r in new}


def test_new_stories_are_the_same_whatever_the_count(root_new4: Path, tmp_path: Path) -> None:
    two = build_site(tmp_path, new_on_top=2)
    pages_two = {p: b for p, b in tree(two).items() if "2025-01-12" in p}
    pages_four = {p: b for p, b in tree(root_new4 / "site").items() if "2025-01-12" in p}
    assert len(pages_two) == 2 and pages_two.items() <= pages_four.items()


# --- The feed ------------------------------------------------------------------------------


def test_rss_is_valid_rss2_of_the_newest_stories(root: Path, by_path: dict) -> None:
    channel = ET.fromstring(read(root, "/rss/rss.xml")).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert 15 <= len(items) <= 25
    dates = []
    for item in items:
        link = item.findtext("link") or ""
        assert link.startswith("https://www.ecns.cn/")
        record = by_path[urlsplit(link).path]
        assert record["expect"] in ("delivered", "duplicate")
        assert item.findtext("title") == record["title"]
        pub = item.findtext("pubDate") or ""
        assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0800", pub)
        dates.append(parsedate_to_datetime(pub))
    assert dates == sorted(dates, reverse=True)
    newest = max(r["path"].split("/")[-2] for r in by_path.values() if r["listing_date"])
    assert f"{dates[0]:%Y-%m-%d}" == newest


# --- Over HTTP -----------------------------------------------------------------------------


def fetch(url: str) -> tuple[int, str, bytes]:
    assert urlsplit(url).hostname == "127.0.0.1"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        try:
            return error.code, error.headers["Content-Type"], error.read()
        finally:
            error.close()


def test_server_serves_the_site_as_utf8_html_and_xml(server: ReplicaServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
    status, ctype, body = fetch(server.base_url + "/news/politics/index.shtml")
    assert (status, ctype) == (200, "text/html; charset=utf-8") and b"bizlst" in body
    status, _, same = fetch(server.base_url + "/news/politics/")
    assert (status, same) == (200, body)
    status, ctype, _ = fetch(server.base_url + "/rss/rss.xml")
    assert status == 200 and "xml" in ctype


def test_page_after_the_last_listing_page_is_a_404(server: ReplicaServer, root: Path) -> None:
    for listing in LISTINGS:
        if listing.slug in MISSING_LISTINGS:
            continue
        last = len(listing_pages(root, listing.slug))
        name = "index.shtml" if last == 1 else f"index_{last}.shtml"
        assert fetch(f"{server.base_url}{listing.path}{name}")[0] == 200
        status, ctype, body = fetch(f"{server.base_url}{listing.path}index_{last + 1}.shtml")
        assert status == 404 and ctype.startswith("text/html") and b"<html>" in body


def test_missing_pages_are_real_404s(server: ReplicaServer, truth: list[dict]) -> None:
    assert fetch(server.base_url + "/robots.txt")[0] == 404
    assert fetch(server.base_url + "/voices/index.shtml")[0] == 404
    assert fetch(server.base_url + "/news/")[0] == 404  # no directory listings
    for r in truth:
        if r["expect"] == "not_found":
            assert fetch(server.base_url + r["path"])[0] == 404


def test_server_keeps_connections_alive(server: ReplicaServer, truth: list[dict]) -> None:
    url = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        sockets = set()
        for r in truth[:5]:
            if r["expect"] == "not_found":
                continue
            conn.request("GET", r["path"])
            response = conn.getresponse()
            assert response.status == 200 and response.version == 11
            assert (response.getheader("Connection") or "").lower() != "close"
            response.read()
            sockets.add(id(conn.sock))
        assert len(sockets) == 1
    finally:
        conn.close()


def test_rebuilding_while_serving_serves_the_new_site(tmp_path: Path) -> None:
    build_site(tmp_path)
    with ReplicaServer(tmp_path) as running:
        before = fetch(running.base_url + "/news/politics/index.shtml")[2]
        build_site(tmp_path, new_on_top=1)
        after = fetch(running.base_url + "/news/politics/index.shtml")[2]
    assert before != after and after.count(b"Jan 12, 2025") == 1


def test_command_line_builds_and_serves(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "replica", "build", str(tmp_path), "--seed", "3"]
    done = subprocess.run([*cmd, "--new", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "truth:" in done.stderr
    assert (tmp_path / "site" / "news" / "politics" / "index.shtml").exists()
    with ReplicaServer(tmp_path / "site") as running:  # the site folder itself works too
        assert fetch(running.base_url + "/news/politics/index.shtml")[0] == 200


# --- Near copies ---------------------------------------------------------------------------


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _without_lead(body: str) -> str:
    return re.sub(r"^\s*\(ECNS\)\s*[-—]+\s*", "", body)


def check_edit(first: dict, copy: dict) -> None:
    """The copy differs from its original by its edit, and by nothing else."""
    kind = copy["edit"]
    sentences = collections.Counter(s for _, s in edits.units(first["body"]))
    copied = collections.Counter(s for _, s in edits.units(copy["body"]))
    if kind == "retitled":
        assert copy["body"] == first["body"] and copy["title"] != first["title"]
        return
    assert copy["title"] == first["title"], kind
    if kind == "lead_added":
        assert copy["body"] != first["body"]
        assert _without_lead(copy["body"]) == _without_lead(first["body"])
    elif kind == "punctuation":
        assert copy["body"] != first["body"] and _letters(copy["body"]) == _letters(first["body"])
    elif kind.endswith("added"):
        n = 2 if kind.startswith("two") else 1
        assert sentences - copied == collections.Counter()
        assert sum((copied - sentences).values()) == n, copy["path"]
    else:
        n = 2 if kind.startswith("two") else 1
        assert copied - sentences == collections.Counter()
        assert sum((sentences - copied).values()) == n, copy["path"]


def test_edit_functions_make_the_kinds_of_copy_ecns_makes() -> None:
    body = "\n".join(
        [
            'China and Peru signed 22 deals on Thursday, the U.S. envoy said. "Good," he said.',
            "Trade reached 1,200 billion yuan. It grew 9 percent.",
            "The talks ended on Friday.",
        ]
    )
    rng = random.Random(1)
    assert edits.ecns_lead(rng, body).startswith("(ECNS)")
    assert edits.ecns_lead(rng, "(ECNS) -- " + body) == body
    assert len(edits.units(edits.cut_sentences(rng, body, 2) or "")) == len(edits.units(body)) - 2
    assert edits.cut_sentences(rng, "One sentence.", 1) is None
    added = edits.add_sentences(rng, body, ["A donor sentence here."], 2)
    assert added.count("A donor sentence here.") == 2
    respelled = edits.punctuation(rng, body)
    assert respelled != body and _letters(respelled) == _letters(body)
    assert edits.retitle(rng, "Beijing, Berlin vow to bolster cooperation") != (
        "Beijing, Berlin vow to bolster cooperation"
    )
    # A story too short for the edit is not copied so; a copy keeps the title unless
    # it is retitled.
    assert edits.near_copy("sentence_cut", rng, "T", "One. Two.", []) is None
    made = edits.near_copy("lead_added", rng, "T", body, [])
    assert made is not None and made[0] == "T"


def test_near_copies_of_every_kind_republish_a_story_on_its_listing_page(
    root: Path, truth: list[dict], by_path: dict
) -> None:
    copies = [r for r in truth if r.get("edit")]
    kinds = collections.Counter(r["edit"] for r in copies)
    assert kinds == {kind: NEAR_COPIES for kind in edits.NEAR_COPY_EDITS}
    pages = {
        slug: [{i.path for i in page} for page in listing_pages(root, slug)]
        for slug in ("politics", "cns-wire")
    }
    for copy in copies:
        first = by_path[copy["copy_of"]]
        assert copy["expect"] == "duplicate" and copy["duplicate_of"] == first["path"]
        assert first["expect"] == "delivered" and first["article_id"] != copy["article_id"]
        # At another path (another section's), the same day or the next.
        assert copy["path"].split("/20")[0] != first["path"].split("/20")[0]
        delay = datetime.fromisoformat(copy["published"]) - datetime.fromisoformat(
            first["published"]
        )
        assert timedelta(0) < delay <= timedelta(hours=30), copy["path"]
        # In its original's listing, on the same page: a crawl meets the original first.
        (slug,) = first["listed_in"]
        assert copy["listed_in"] == [slug]
        assert any({copy["path"], first["path"]} <= page for page in pages[slug])
        check_edit(first, copy)
    assert {r["listed_in"][0] for r in copies} == {"politics", "cns-wire"}


def test_every_exact_twin_shares_a_listing_page_with_its_first_copy(
    root: Path, truth: list[dict]
) -> None:
    pages = [{i.path for i in page} for page in listing_pages(root, "politics")]
    twins = [r for r in truth if r.get("duplicate_of") and "edit" not in r]
    assert twins
    for twin in twins:
        assert any({twin["path"], twin["duplicate_of"]} <= page for page in pages)


def test_new_copies_republish_older_stories_on_top(truth: list[dict], tmp_path: Path) -> None:
    build_site(tmp_path, new_on_top=4, new_copies=8)
    with (tmp_path / "truth.jsonl").open(encoding="utf-8") as f:
        after = {r["path"]: r for r in map(json.loads, f)}
    before = {r["path"]: r for r in truth}
    assert {p: after[p] for p in before} == before
    added = [r for p, r in after.items() if p not in before]
    copies = [r for r in added if r.get("duplicate_of")]
    assert len(added) == 12 and len(copies) == 8
    assert {r.get("edit") for r in copies} == {*edits.NEAR_COPY_EDITS, None}
    newest_before = max(r["published"] for r in truth if r.get("published"))
    for copy in copies:
        first = before[copy["duplicate_of"]]
        assert first["expect"] == "delivered" and copy["published"] > newest_before
        if "edit" in copy:
            check_edit(first, copy)
        else:  # the exact one: the same story at another id
            assert (copy["title"], copy["body"]) == (first["title"], first["body"])
        (slug,) = copy["listed_in"]
        assert copy["path"] in {i.path for i in listing_pages(tmp_path, slug)[0]}


# --- A replica built from texts ------------------------------------------------------------


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file of texts in the format of the real export, written from another seed's
    stories (our own text: the real export is not on every machine)."""
    model = build_model(3)
    rows = [
        {
            "title": s.title,
            "listing_date": s.listing_date,
            "url": "https://www.ecns.cn" + s.path,
            "body": plain_text(s),
        }
        for s in model.stories
        if s.is_regular and s.listed_in[0] in ("politics", "cns-wire") and plain_text(s)
    ]
    path = tmp_path_factory.mktemp("texts") / "texts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_truth(root: Path) -> list[dict]:
    with (root / "truth.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def check_text_replica(root: Path, texts: list[RealText], reserve: int) -> list[dict]:
    """One story a text (but the held-back ones), dated and placed by it, with near
    copies of every kind and exact twins; the truth agrees with the pages."""
    truth = read_truth(root)
    base = texts[: len(texts) - reserve]
    own = [r for r in truth if not r.get("duplicate_of")]
    assert len(own) == len(base)
    assert collections.Counter(r["body"] for r in own) == collections.Counter(
        edits.collapse(t.body) for t in base
    )
    by_body = {edits.collapse(t.body): t for t in base}
    for r in own:
        text = by_body[r["body"]]
        assert r["title"] == text.title
        assert r["published"][:10] == str(text.day)
        assert r["path"].startswith(text.path_prefix)
        assert r["listed_in"][0] == ("cns-wire" if "cns-wire" in text.path_prefix else "politics")
    by_path = {r["path"]: r for r in truth}
    copies = [r for r in truth if r.get("edit")]
    assert {r["edit"] for r in copies} == set(edits.NEAR_COPY_EDITS)
    for copy in copies:
        check_edit(by_path[copy["copy_of"]], copy)
    twins = [r for r in truth if r.get("duplicate_of") and "edit" not in r]
    assert twins and all(by_path[r["duplicate_of"]]["body"] == r["body"] for r in twins)
    pages = {
        r["path"]: read_article(read(root, r["path"]))
        for r in truth
        if r["expect"] in ("delivered", "duplicate")
    }
    assert truth_page_mismatches(truth, pages) == []
    return truth


def test_a_replica_from_texts_makes_a_story_of_each_text(texts_file: Path, tmp_path: Path) -> None:
    texts = load_texts(texts_file)
    build_site(tmp_path, texts=texts_file, reserve=10)
    truth = check_text_replica(tmp_path, texts, reserve=10)
    variations = collections.Counter(v for r in truth for v in r["variations"])
    for name in ("no_time", "title_em", "strong", "br", "nbsp", "spam_hidden_div", "duplicate"):
        assert variations[name] >= 1, name
    assert "cross_posted" in variations


def test_new_stories_from_texts_are_the_held_back_texts(texts_file: Path, tmp_path: Path) -> None:
    texts = load_texts(texts_file)
    build_site(tmp_path / "one", texts=texts_file, reserve=10)
    build_site(tmp_path / "two", texts=texts_file, reserve=10, new_on_top=6, new_copies=8)
    before = {r["path"]: r for r in read_truth(tmp_path / "one")}
    after = {r["path"]: r for r in read_truth(tmp_path / "two")}
    assert {p: after[p] for p in before} == before
    added = [r for p, r in after.items() if p not in before]
    new = [r for r in added if not r.get("duplicate_of")]
    assert sorted(r["body"] for r in new) == sorted(edits.collapse(t.body) for t in texts[-10:-4])
    assert len(added) - len(new) == 8
    assert min(r["published"] for r in added) > max(r["published"] for r in before.values())
    with pytest.raises(ValueError, match="held back"):
        build_site(tmp_path / "three", texts=texts_file, reserve=5, new_on_top=6)


@pytest.mark.skipif(not REAL_TEXTS.exists(), reason=f"no real texts at {REAL_TEXTS}")
def test_a_replica_from_the_real_texts(tmp_path: Path) -> None:
    texts = load_texts(REAL_TEXTS)
    assert len(texts) == 447
    build_site(tmp_path, texts=REAL_TEXTS)
    truth = check_text_replica(tmp_path, texts, reserve=default_reserve(len(texts)))
    assert sum(1 for r in truth if r.get("edit")) >= 20


def test_command_line_builds_from_texts(texts_file: Path, tmp_path: Path) -> None:
    from replica.__main__ import main

    args = ["build", str(tmp_path), "--texts", str(texts_file), "--reserve", "6"]
    assert main([*args, "--new", "3", "--new-copies", "2"]) == 0
    assert len(read_truth(tmp_path)) > 100
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no body"}\n', encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["build", str(tmp_path / "x"), "--texts", str(bad)])
