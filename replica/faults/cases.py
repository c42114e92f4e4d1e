"""The fault cases, one builder each, and their table ``CASES``.

A builder returns the runs (``model.Step``) of its case: the server's faults
during each, the exit codes that are right for it, local faults set up around it,
what happens to the crawl while it runs (a signal, a second crawl beside it); its
``Case`` names a check of what the case promises beyond the common ones. After
the hostile runs a clean run follows (the server without faults) unless the case
says otherwise: it must leave every story delivered exactly once
(``report.measure`` counts).

Pages are the replica's own (its real anatomy), damaged by the server
(``server.Rule``), or made from a page of the replica carrying other content
(``pages.with_story``, with a real ECNS text where ``../shared/reference/ecns/``
holds them). Cases of several runs crawl the smaller section (``model.WIRE``).
"""

from __future__ import annotations

import hashlib
import html
import os
import random
import re
import shutil
import signal
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replica.faults.launcher import Crawl, RunResult
from replica.faults.model import (
    WIRE,
    Case,
    Check,
    Context,
    Step,
    all_of,
    articles_requested,
    beside,
    counted,
    delivered_by,
    delivered_in_run,
    fields_are,
    logged,
    manifest_complete,
    no_offsite_request,
    no_text,
    not_delivered_in_run,
    path_set,
    requested,
    signal_when,
    stops_within,
)
from replica.faults.output import lines_naming, manifest_items
from replica.faults.pages import (
    CHINESE_PARAGRAPH,
    CHINESE_TITLE_SUFFIX,
    HTML_UTF8,
    MIB,
    SCRIPT_MARKER,
    ListItem,
    article_page,
    body_paragraphs_html,
    endless_story_paths,
    generated_story,
    info_spans,
    many_links_listing,
    replace_body,
    replace_info_spans,
    replace_title,
    with_story,
)
from replica.faults.server import (
    CLOSE,
    CUT,
    DECLARED_GBK,
    DEEP,
    EMPTY,
    ENDLESS,
    GBK,
    GZIP_BOMB,
    HANG,
    HUGE,
    NO_CHARSET,
    NO_DOCUMENT_END,
    REDIRECT_CHAIN,
    REDIRECT_LOOP,
    REDIRECT_OFFSITE,
    RESET,
    SHORT_BODY,
    SLOW,
    STATUS,
    UNDECODABLE,
    Faults,
    Rule,
)
from replica.localrun import PROJECT_ROOT, REFERENCE_DIR
from replica.realtexts import RealText, load_texts
from replica.text import TextGen

# Bounds the crawler must keep, whatever the pages.
MAX_RSS_MB = 250.0  # peak resident memory of a crawl, whatever the pages
MAX_LINKS_PER_LISTING = 200  # ECNS_MAX_LINKS_PER_LISTING: requests one listing page makes
STOP_WITHIN = 30.0  # seconds from SIGTERM to the end of the run
CLOSESPIDER_HUNG_WITHIN = 40.0  # seconds a run with CLOSESPIDER_TIMEOUT=10 may take, hung
KEEP_DAYS = 7  # NEWSCRAWL_DISCARDED_KEEP_DAYS
# The production download timeout, for cases where only other bounds may end a download.
PRODUCTION_DOWNLOAD_TIMEOUT = "180"


# -- server faults, recovered within Scrapy's retries ----------------------------------


def _resets(ctx: Context) -> list[Step]:
    paths = path_set(
        ctx.listing("politics", 2), ctx.stories("politics", 4), ctx.stories("cns-wire", 2)
    )
    return [Step(Faults(rules=[Rule(RESET, paths, times=2)]))]


def _closes(ctx: Context) -> list[Step]:
    paths = path_set(ctx.listing("cns-wire", 1), ctx.stories("politics", 4, 1))
    return [Step(Faults(rules=[Rule(CLOSE, paths, times=2)]))]


def _slow(ctx: Context) -> list[Step]:
    paths = path_set(ctx.listing("politics", 1), ctx.stories("cns-wire", 1))
    return [Step(Faults(rules=[Rule(SLOW, paths, times=1, seconds=3.0)]))]


def _five_hundreds(ctx: Context) -> list[Step]:
    rules = [
        Rule(
            STATUS, path_set(ctx.listing("politics", 3), ctx.stories("politics", 3)), 2, (500, 502)
        ),
        Rule(
            STATUS, path_set(ctx.listing("cns-wire", 2), ctx.stories("cns-wire", 3)), 2, (503, 500)
        ),
    ]
    return [Step(Faults(rules=rules))]


def _too_many(ctx: Context) -> list[Step]:
    # One path: the crawler's pause after a 429 costs seconds (see the report).
    paths = path_set(ctx.stories("politics", 1, 7))
    rule = Rule(STATUS, paths, times=1, statuses=(429,), headers=(("Retry-After", "1"),))
    return [Step(Faults(rules=[rule]))]


def _short_body(ctx: Context) -> list[Step]:
    paths = path_set(
        ctx.listing("politics", 3), ctx.stories("politics", 3), ctx.stories("cns-wire", 1)
    )
    return [Step(Faults(rules=[Rule(SHORT_BODY, paths, times=1)]))]


def _charset_override(ctx: Context, paths: Iterable[str]) -> None:
    """The stories at ``paths``, served with Chinese added (``pages.add_chinese``)."""
    for path in paths:
        record = ctx.record(path)
        ctx.overrides[path] = {
            "title": f"{record['title']} {CHINESE_TITLE_SUFFIX}",
            "body": f"{record['body']}\n\n{CHINESE_PARAGRAPH}",
        }


def _charset(action: str) -> Callable[[Context], list[Step]]:
    def build(ctx: Context) -> list[Step]:
        paths = ctx.stories("politics", 2, 3) + ctx.stories("cns-wire", 1, 3)
        _charset_override(ctx, paths)
        return [Step(Faults(rules=[Rule(action, frozenset(paths))]))]

    return build


def _robots(ctx: Context) -> list[Step]:
    ctx.expect_story = lambda r: (
        "politics" in r["listed_in"] and not r["path"].startswith("/cns-wire/")
    )
    robots = "User-agent: *\nDisallow: /cns-wire/\n"
    return [Step(Faults(robots_txt=robots))]


def _robots_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    asked = [p for p in ctx.server.paths_requested() if p.startswith("/cns-wire/")]
    if not asked:
        return []
    return [f"requested {len(asked)} path(s) robots.txt disallows, e.g. {asked[0]}"]


# -- faults recovered by the next run ------------------------------------------------


def _refused(ctx: Context) -> list[Step]:
    return [
        Step(None, frozenset({4}), message=r"(?i)no listing page|refused|unreachable"),
        Step(Faults()),
    ]


def _resets_beyond_retries(ctx: Context) -> list[Step]:
    """Stories of pages 2 and 3 only: page 1 then holds only known stories in the
    next run, as it does on the site between two runs."""
    paths = path_set(
        ctx.page_stories("politics", 2)[5:7],
        ctx.page_stories("politics", 3)[10:11],
        ctx.page_stories("cns-wire", 2)[3:5],
    )
    # Twisted retries a GET once by itself when a reused connection drops, so a
    # path that resets 10 times fails every attempt of Scrapy's.
    return [Step(Faults(rules=[Rule(RESET, paths, times=10)])), Step(Faults())]


def _cut(ctx: Context) -> list[Step]:
    paths = path_set(ctx.listing("cns-wire", 2), ctx.stories("politics", 4, 1))
    return [Step(Faults(rules=[Rule(CUT, paths, times=1)])), Step(Faults())]


def _redirect_loops(ctx: Context) -> list[Step]:
    """Politics page 2 redirects without end (Scrapy gives up after 20: an
    IgnoreRequest), cns-wire page 2 loops back on itself (the second visit is a
    duplicate request), and two stories of cns-wire page 1 redirect without end."""
    rules = [
        Rule(
            REDIRECT_CHAIN,
            path_set(ctx.listing("politics", 2), ctx.page_stories("cns-wire", 1)[4:6]),
        ),
        Rule(REDIRECT_LOOP, path_set(ctx.listing("cns-wire", 2))),
    ]
    return [Step(Faults(rules=rules)), Step(Faults())]


def _redirect_offsite(ctx: Context) -> list[Step]:
    stories = ctx.page_stories("politics", 1)[:2] + ctx.page_stories("politics", 3)[:2]
    rule = Rule(REDIRECT_OFFSITE, path_set(ctx.listing("cns-wire", 2), stories))
    return [Step(Faults(rules=[rule])), Step(Faults())]


def _offsite_listing(ctx: Context) -> list[Step]:
    return [Step(Faults(offsite_listing=ctx.listing("cns-wire", 1))), Step(Faults())]


MAX_PAGES_ENDLESS = 6


def _endless(ctx: Context) -> list[Step]:
    section = "/news/politics/"
    for page in range(ctx.last_page("politics") + 1, MAX_PAGES_ENDLESS + 1):
        for path in endless_story_paths(section, page):
            story = generated_story(path)
            ctx.extra_expected[path] = {"title": story.title, "body": story.body}
    return [Step(Faults(endless=section), spider_args={"max_pages": str(MAX_PAGES_ENDLESS)})]


def _endless_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    pages = {p for p in ctx.server.paths_requested() if re.fullmatch(r"/news/politics/index.*", p)}
    if len(pages) > MAX_PAGES_ENDLESS:
        return [f"paged {len(pages)} politics listing pages past max_pages={MAX_PAGES_ENDLESS}"]
    return []


# -- give-up: a story is given up only for its own page's fault, over time ------------

GIVE_UP_RUNS = 3  # hostile runs before the site recovers (the policy's minimum of runs)


def _every_article(
    action: str, expect: int, runs: int = GIVE_UP_RUNS, **rule: Any
) -> Callable[[Context], list[Step]]:
    """``runs`` runs in which every article page fails with ``action``."""

    def build(ctx: Context) -> list[Step]:
        ctx.sections = WIRE
        faults = Faults(rules=[Rule(action, ctx.article_paths(), **rule)])
        return [Step(faults, frozenset({expect})) for _ in range(runs)]

    return build


def _nothing_before_recovery(ctx: Context, runs: list[RunResult]) -> list[str]:
    early = [n for n in range(1, GIVE_UP_RUNS + 1) if delivered_by(ctx, runs, n)]
    return [f"run {n} delivered stories while every article failed" for n in early]


def _declared_gbk(ctx: Context) -> list[Step]:
    """Every article page whose headline and body the crawler reads from ``h1`` and
    the page-break marks: UTF-8 bytes, Chinese added, ``charset=gbk`` in the header."""
    ctx.sections = WIRE
    title_elsewhere = {"no_h1", "empty_h1", "title_tag_only"}
    paths = sorted(
        r["path"]
        for r in ctx.truth
        if r["expect"] in ("delivered", "duplicate") and not title_elsewhere & set(r["variations"])
    )
    _charset_override(ctx, paths)
    ctx.scratch["declared_gbk"] = paths
    faults = Faults(rules=[Rule(DECLARED_GBK, frozenset(paths))])
    return [Step(faults) for _ in range(GIVE_UP_RUNS)]


def _declared_gbk_in_run_1(ctx: Context) -> set[str]:
    return set(ctx.scratch["declared_gbk"]) & ctx.single_stories()


def _not_yet_published(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    path = ctx.plain_stories("cns-wire", 1)[0]
    faults = Faults(rules=[Rule(STATUS, frozenset({path}), statuses=(404,))])
    return [Step(faults) for _ in range(GIVE_UP_RUNS)]


# -- link spam inside real paragraphs -------------------------------------------------

CASINO_ANCHOR = (
    '<a href="https://best-casino-777.com/vip?ref=news" target="_blank">online casino bonus</a>'
)
SPAM_PARAGRAPHS = 17


@lru_cache(maxsize=2)
def real_text(paragraphs: int) -> RealText:
    """A real ECNS text of ``paragraphs`` paragraphs (from the reference export beside
    the project, where it is), else a generated one of the same length."""
    export = REFERENCE_DIR / "politics-2024-articles.jsonl"
    if export.is_file():
        for text in load_texts(export):
            if len(text.paragraphs) == paragraphs:
                return text
    story = TextGen(random.Random(f"real-text-{paragraphs}")).story("politics")
    body = "\n".join([story.lead()] + [" ".join(story.sentences(2)) for _ in range(paragraphs - 1)])
    return RealText(story.title(), body)


def _with_anchor(paragraph: str) -> str:
    """The paragraph (HTML) with :data:`CASINO_ANCHOR` after its first sentence."""
    escaped = html.escape(paragraph, quote=False)
    m = re.search(r"[.!?][\"”’]? (?=[A-Z\"“‘(])", escaped)
    if m is None:
        return f"{escaped} {CASINO_ANCHOR}"
    return f"{escaped[: m.end()]}{CASINO_ANCHOR} {escaped[m.end() :]}"


def _spam_in_paragraphs(every: bool) -> Callable[[Context], list[Step]]:
    """A story with a real text of 17 paragraphs in an Ecns Wire page of the
    replica, an off-site casino anchor injected after the first sentence of two
    paragraphs (``every``: of each), listed on top of the section's page 1."""

    def build(ctx: Context) -> list[Step]:
        text = real_text(SPAM_PARAGRAPHS)
        paragraphs = [" ".join(p.split()) for p in text.paragraphs]
        many = [i for i, p in enumerate(paragraphs) if re.search(r"[.!?][\"”’]? [A-Z]", p)]
        spammed = set(range(len(paragraphs))) if every else {many[2], many[-3]}
        ctx.sections = WIRE
        donor = ctx.plain_stories("cns-wire", 1)[0]
        path = donor.rsplit("/", 1)[0] + (
            "/detail-zspamall17.shtml" if every else "/detail-zspam2of17.shtml"
        )
        page = with_story(
            ctx.page_bytes(donor),
            text.title,
            [
                _with_anchor(p) if i in spammed else html.escape(p, quote=False)
                for i, p in enumerate(paragraphs)
            ],
        )
        date = ctx.record(donor)["listing_date"]
        ctx.extra_expected[path] = {"title": text.title, "body": "\n\n".join(paragraphs)}
        faults = Faults(
            extra_items={ctx.listing("cns-wire", 1): [(path, text.title, date)]},
            pages={path: (page, HTML_UTF8)},
        )
        return [Step(faults)]

    return build


# -- a tree deeper than the parser builds ---------------------------------------------


def _deep_nesting(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    path = ctx.plain_stories("cns-wire", 2)[0]
    ctx.scratch["deep"] = [path]
    return [Step(Faults(rules=[Rule(DEEP, frozenset({path}))]))]


# -- a reset: the state folder deleted ------------------------------------------------


def _reset(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    ctx.times = 2

    def delete_state(c: Context) -> None:
        # The runs' files and manifests (the output folder's lock file is each run's).
        c.scratch["files_before_reset"] = {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in c.out.iterdir()
            if not p.name.startswith(".")
        }
        shutil.rmtree(c.state)

    return [Step(), Step(setup=delete_state)]


def _reset_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = []
    if len(runs) < 2:
        return ["no run after the reset"]
    again = runs[1]
    if "Recovered run" in again.stderr:
        problems.append("the run after the reset logs 'Recovered run' (it read the old manifests)")
    first = {ctx.story_key(p) for p in delivered_by(ctx, runs, 1)}
    second = {ctx.story_key(p) for p in delivered_by(ctx, runs, 2)}
    if first - second:
        problems.append(
            f"the run after the reset did not deliver {len(first - second)} of the"
            f" {len(first)} stories again, e.g. {sorted(first - second)[0]}"
        )
    stories = [
        ctx.story_key(urlsplit(i["url"]).path) for i in manifest_items(ctx.out, again.manifest)
    ]
    if len(stories) != len(set(stories)):
        problems.append("the run after the reset delivered a story twice")
    for name, digest in ctx.scratch.get("files_before_reset", {}).items():
        path = ctx.out / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"the run after the reset changed or moved {name}")
    return problems


# -- a page whose body is whole, its document tail missing ------------------------------


def _no_document_end(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    paths = ctx.plain_stories("cns-wire", 1)[1:4]
    ctx.scratch["no_end"] = paths
    return [Step(Faults(rules=[Rule(NO_DOCUMENT_END, frozenset(paths))]))]


# -- bounded resources ------------------------------------------------------------------

BIG_PAGE_SETTINGS = {"DOWNLOAD_TIMEOUT": "30"}  # only the size bound may end these downloads
# A crawl past twice its bound has failed it: killed there, it costs the suite less time.
BIG_CEILING = 2 * MAX_RSS_MB


def _oversized(action: str, size: int) -> Callable[[Context], list[Step]]:
    """One story of Ecns Wire's page 1 served as ``action`` (a page of ``size`` bytes,
    whole or decompressed; endless)."""

    def build(ctx: Context) -> list[Step]:
        ctx.sections = WIRE
        path = ctx.plain_stories("cns-wire", 1)[3]
        ctx.scratch["oversized"] = [path]
        rule = Rule(action, frozenset({path}), size=size)
        return [Step(Faults(rules=[rule]), settings=BIG_PAGE_SETTINGS, rss_ceiling_mb=BIG_CEILING)]

    return build


OVERSIZED_REASON = r"(?i)size|large|bytes|MB|MiB"


def _oversized_checks(*also: str) -> Check:
    """The pages in ``ctx.scratch["oversized"]`` (and under the keys ``also``) are not
    read in run 1: not delivered, counted, logged with a reason; every other story is."""
    return all_of(
        not_delivered_in_run(1, "oversized", "a page past DOWNLOAD_MAXSIZE is not read"),
        counted(1, "oversized", *also),
        *(logged(1, key, OVERSIZED_REASON) for key in ("oversized", *also)),
        _others_in_run_1,
    )


def _others_in_run_1(ctx: Context, runs: list[RunResult]) -> list[str]:
    """Every expected story but the damaged ones is delivered by run 1."""
    skip = set(ctx.scratch.get("oversized", ())) | set(ctx.scratch.get("behind", ()))
    missing = sorted(ctx.single_stories() - skip - delivered_by(ctx, runs, 1))
    if not missing:
        return []
    return [f"run 1 did not deliver {len(missing)} other stories, e.g. {missing[0]}"]


def _huge_pages(size: int) -> Callable[[Context], list[Step]]:
    """One article and Ecns Wire's listing page 2 padded to ``size`` bytes."""

    def build(ctx: Context) -> list[Step]:
        ctx.sections = WIRE
        article = ctx.plain_stories("cns-wire", 1)[2]
        ctx.scratch["oversized"] = [article]
        ctx.scratch["listing"] = [ctx.listing("cns-wire", 2)]
        # The stories paged after listing page 2 are delivered by the next run.
        ctx.scratch["behind"] = [
            p
            for page in range(2, ctx.last_page("cns-wire") + 1)
            for p in ctx.page_stories("cns-wire", page)
        ]
        paths = path_set(ctx.listing("cns-wire", 2), article)
        rule = Rule(HUGE, paths, size=size)
        return [Step(Faults(rules=[rule]), settings=BIG_PAGE_SETTINGS, rss_ceiling_mb=BIG_CEILING)]

    return build


LINKS_DAY = "2025-01-11"


def _many_links(ctx: Context) -> list[Step]:
    """The page after the last of politics lists 100,000 story links (5.4 MB: past
    DOWNLOAD_MAXSIZE, so the size bound may be what stops it), the one after the
    last of cns-wire 2,000 (110 KB, an ordinary size: only the links bound stops it):
    links to pages that do not exist."""
    pages = {}
    for section, count in (("politics", 100_000), ("cns-wire", 2_000)):
        listing = ctx.listing(section, ctx.last_page(section) + 1)
        pages[listing] = (many_links_listing(LINKS_DAY, count, date="Jan 11, 2025"), HTML_UTF8)
    # A graceful stop bounds the run should the links be followed (the rest is
    # delivered by the next run); the crawler bounds it long before.
    return [
        Step(
            Faults(pages=pages),
            settings={"CLOSESPIDER_TIMEOUT": "10"},
            timeout=30,
            rss_ceiling_mb=BIG_CEILING,
        )
    ]


def _links_followed(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = []
    for prefix in ("/news/politics/", "/cns-wire/"):
        made = sum(
            1
            for h in runs[0].hits
            if urlsplit(h.path).path.startswith(f"{prefix}{LINKS_DAY}/detail-zz")
        )
        if made > MAX_LINKS_PER_LISTING:
            problems.append(
                f"run 1 requested {made} links of the {prefix} listing of many links"
                f" (at most {MAX_LINKS_PER_LISTING})"
            )
    return problems


def _long_editor(ctx: Context) -> list[Step]:
    """A story whose editor span holds 100,000 characters."""
    ctx.sections = WIRE
    path = ctx.plain_stories("cns-wire", 1)[1]
    page = ctx.page_bytes(path).decode("utf-8")
    spans = info_spans(page)
    long_name = ("Li Yan " * 14_286)[:100_000]
    spans = re.sub(
        r"(<span>\s*<!--[^>]*-->)[^<]*(</span>)",
        lambda m: f"{m.group(1)}Editor  : {long_name}{m.group(2)}",
        spans,
        count=1,
    )
    ctx.scratch["fields"] = {path: {"editor": None}}
    page = replace_info_spans(page, spans)
    return [Step(Faults(pages={path: (page.encode("utf-8"), HTML_UTF8)}))]


# -- prompt stop ------------------------------------------------------------------------


def _sigterm_during(
    rule_of: Callable[[str], Rule], **settings: str
) -> Callable[[Context], list[Step]]:
    """SIGTERM once the server got the faulty request (half a second later)."""

    def build(ctx: Context) -> list[Step]:
        ctx.sections = WIRE
        path = ctx.page_stories("cns-wire", 1)[0]
        return [
            Step(
                Faults(rules=[rule_of(path)]),
                settings={"DOWNLOAD_TIMEOUT": PRODUCTION_DOWNLOAD_TIMEOUT, **settings},
                during=signal_when(requested([path])),
                stop_within=STOP_WITHIN,
            )
        ]

    return build


def _hung_server(ctx: Context) -> list[Step]:
    """The server stops answering after 25 requests (robots.txt, a listing page, some
    stories): every later request hangs."""
    ctx.sections = WIRE
    return [
        Step(
            Faults(hang_after=25),
            settings={
                "CLOSESPIDER_TIMEOUT": "10",
                "DOWNLOAD_TIMEOUT": PRODUCTION_DOWNLOAD_TIMEOUT,
            },
            timeout=CLOSESPIDER_HUNG_WITHIN,
        )
    ]


# -- hostile text in a replica page -------------------------------------------------------

INVISIBLE = (
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u3164",
)


def _own_page(
    ctx: Context, section: str, page_no: int, edit: Callable[[str, dict[str, Any]], str]
) -> str:
    """Serve a plain story's own page edited by ``edit(page, truth record)``;
    returns its path."""
    ctx.sections = WIRE
    path = ctx.plain_stories(section, page_no)[0]
    page = edit(ctx.page_bytes(path).decode("utf-8"), ctx.record(path))
    ctx.scratch.setdefault("pages", {})[path] = (page.encode("utf-8"), HTML_UTF8)
    return path


def _script_in_spans(ctx: Context) -> list[Step]:
    def edit(page: str, record: dict[str, Any]) -> str:
        spans = info_spans(page)
        spans = re.sub(
            r"(<span>\s*<!--[^>]*-->)[^<]*(</span>)",
            lambda m: (
                f"{m.group(1)}Editor  : Li <script>alert('EDITOR-SCRIPT')</script>Yan{m.group(2)}"
            ),
            spans,
            count=1,
        )
        source = html.escape(record["source"], quote=False)
        spans = spans.replace(
            f"<span>{source}</span>",
            f"<span><style>.src{{color:#333}} /* SOURCE-STYLE */</style>{source}"
            f'<script>var s = "SOURCE-SCRIPT";</script></span>',
            1,
        )
        return replace_info_spans(page, spans)

    path = _own_page(ctx, "cns-wire", 1, edit)
    ctx.scratch["fields"] = {path: {"editor": "Li Yan", "source": ctx.record(path)["source"]}}
    return [Step(Faults(pages=ctx.scratch["pages"]))]


def _svg_mathml(ctx: Context) -> list[Step]:
    svg = (
        '<svg width="12" height="12" viewBox="0 0 12 12"><title>SVG-TITLE</title>'
        '<desc>SVG-DESC</desc><text x="0" y="10">SVG-TEXT</text></svg>'
    )
    math = "<math><mi>MATHML-X</mi><mo>=</mo><mn>2</mn><mtext>MATHML-TEXT</mtext></math>"

    def edit(page: str, record: dict[str, Any]) -> str:
        paragraphs = body_paragraphs_html(page)
        inline = [_after_first_space(p, f" {svg} ") for p in paragraphs[:1]]
        inline += [_after_first_space(p, f" {math} ") for p in paragraphs[1:2]]
        parts = [f"<p>{p}</p>" for p in inline + paragraphs[2:]]
        parts.insert(2, '<svg class="chart" width="300" height="40"><text>SVG-BLOCK</text></svg>')
        return replace_body(page, "\n".join(parts))

    _own_page(ctx, "cns-wire", 1, edit)
    return [Step(Faults(pages=ctx.scratch["pages"]))]


def _after_first_space(text: str, insert: str) -> str:
    at = text.find(" ")
    return text if at < 0 else text[:at] + insert + text[at + 1 :]


def _bidi(ctx: Context) -> list[Step]:
    chars = iter(INVISIBLE * 50)

    def lace(text: str) -> str:
        """A bidi or invisible character after each of the first three spaces."""
        for _ in range(3):
            text = re.sub(
                r" (?=[^\u202e\u2066-\u2069\u200e\u200f\u061c\u3164])",
                " " + next(chars),
                text,
                count=1,
            )
        return text

    def edit(page: str, record: dict[str, Any]) -> str:
        title = html.escape(record["title"], quote=False)
        page = replace_title(page, lace(title), lace(record["title"]))
        spans = info_spans(page)
        spans = spans.replace(
            record["published_raw"], record["published_raw"].replace(" ", "\u200e "), 1
        )
        source = html.escape(record["source"], quote=False)
        spans = spans.replace(f"<span>{source}</span>", f"<span>\u2067{source}\u2069</span>", 1)
        spans = re.sub(
            r"(<span>\s*<!--[^>]*-->)([^<]*)(</span>)",
            lambda m: m.group(1) + m.group(2).replace(": ", ": \u202e", 1) + "\u3164" + m.group(3),
            spans,
            count=1,
        )
        page = replace_info_spans(page, spans)
        return replace_body(
            page, "\n".join(f"<p>{lace(p)}</p>" for p in body_paragraphs_html(page))
        )

    path = _own_page(ctx, "cns-wire", 1, edit)
    record = ctx.record(path)
    ctx.scratch["fields"] = {
        path: {k: record[k] for k in ("title", "body", "source", "editor", "published_raw")}
    }
    return [Step(Faults(pages=ctx.scratch["pages"]))]


def _bare_text(ctx: Context) -> list[Step]:
    """The first, third and last paragraphs as bare text in the body container."""

    def edit(page: str, record: dict[str, Any]) -> str:
        paragraphs = body_paragraphs_html(page)
        bare = {0, 2, len(paragraphs) - 1}
        parts = [p if i in bare else f"<p>{p}</p>" for i, p in enumerate(paragraphs)]
        return replace_body(page, "\n".join(parts))

    path = _own_page(ctx, "cns-wire", 1, edit)
    if len(body_paragraphs_html(ctx.page_bytes(path).decode("utf-8"))) < 4:
        raise ValueError(f"{path}: too few paragraphs for bare text around them")
    return [Step(Faults(pages=ctx.scratch["pages"]))]


# -- two runs, one output folder -------------------------------------------------------


def _shared_output(ctx: Context) -> list[Step]:
    """Run A, slowed by a few slow pages and writing a file every 10 stories; once
    it has a file in place, run B starts with another state folder on the same
    output folder."""
    other_state = ctx.state.with_name("state-b")
    ctx.allowed.append(other_state)
    slow = path_set(ctx.page_stories("politics", 3)[:2], ctx.page_stories("cns-wire", 2)[:2])

    def a_file_in_place(c: Context) -> bool:
        return any(c.out.glob("*.jsonl"))

    return [
        Step(
            Faults(rules=[Rule(SLOW, slow, times=1, seconds=4.0)]),
            settings={"NEWSCRAWL_FILE_MAX_ITEMS": "10", "DOWNLOAD_TIMEOUT": "10"},
            during=beside(Step(state=other_state, expect_exit=frozenset({3})), a_file_in_place),
        )
    ]


def _shared_output_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = [f"{p.name} was moved aside" for p in sorted(ctx.out.glob("*.discarded"))]
    second: Crawl | None = ctx.scratch.get("beside")
    if second is None:
        problems.append("the second run never started: the first ended before a file was in place")
    elif second.ended is None or runs[0].ended is None or second.ended > runs[0].ended:
        problems.append("the second run ended after the first: it did not meet a running first run")
    return problems + manifest_complete(1)(ctx, runs)


# -- robots.txt ---------------------------------------------------------------------------


def _robots_503(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    rule = Rule(STATUS, frozenset({"/robots.txt"}), statuses=(503,))
    return [Step(Faults(rules=[rule]), frozenset({4}), message=r"(?i)robots\.txt")]


def _only_robots_asked(ctx: Context, runs: list[RunResult]) -> list[str]:
    other = sorted({urlsplit(h.path).path for h in runs[0].hits} - {"/robots.txt"})
    if not other:
        return []
    return [
        f"run 1 requested {len(other)} other path(s) while robots.txt answered 503, e.g. {other[0]}"
    ]


# -- debris ---------------------------------------------------------------------------------

OLD_DEBRIS = (
    "ecns-20250101T000000Z-0a0a-0001.jsonl.part",
    "ecns-20250101T000000Z-0b0b-0001.jsonl.discarded",
    ".newscrawl-probe-4242",
)
YOUNG_DEBRIS = "ecns-20250102T000000Z-0c0c-0001.jsonl.discarded"


def _debris(ctx: Context) -> list[Step]:
    ctx.sections = WIRE

    def plant(c: Context) -> None:
        now = time.time()
        for name, days in [*((n, KEEP_DAYS + 3) for n in OLD_DEBRIS), (YOUNG_DEBRIS, 1)]:
            path = c.out / name
            path.write_text('{"debris": true}\n', encoding="utf-8")
            os.utime(path, (now - days * 86400, now - days * 86400))

    return [
        Step(
            expect_exit=frozenset({-signal.SIGKILL}),
            during=signal_when(articles_requested(20), signal.SIGKILL),
        ),
        Step(setup=plant),
    ]


def _debris_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = [f"{p.name} left in TMPDIR" for p in sorted(ctx.tmp.glob("newscrawl-seen-*"))]
    for name in OLD_DEBRIS:
        left = sorted(ctx.out.glob(f"{name}*"))
        problems += [f"{p.name} ({KEEP_DAYS + 3} days old) was not removed" for p in left]
    if not (ctx.out / YOUNG_DEBRIS).exists():
        problems.append(f"{YOUNG_DEBRIS} (1 day old) was removed")
    return problems


# -- messages ------------------------------------------------------------------------------


def _not_fetched_reasons(ctx: Context) -> list[Step]:
    """One story larger than DOWNLOAD_MAXSIZE, sent without a length (the download is
    cancelled half-way), one whose every answer is shorter than its length."""
    ctx.sections = WIRE
    cancelled, lost = ctx.plain_stories("cns-wire", 1)[4], ctx.plain_stories("cns-wire", 2)[2]
    ctx.scratch["reasons"] = [cancelled, lost]
    rules = [
        Rule(HUGE, frozenset({cancelled}), size=2 * MIB, chunked=True),
        Rule(SHORT_BODY, frozenset({lost})),
    ]
    return [Step(Faults(rules=rules), settings={"DOWNLOAD_MAXSIZE": str(MIB)})]


def _reasons_given(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = []
    for path in ctx.scratch["reasons"]:
        pattern = rf"Article {re.escape(ctx.url(path))} not fetched: (.*)$"
        reasons = [m.group(1).strip() for m in re.finditer(pattern, runs[0].stderr, re.MULTILINE)]
        if not reasons:
            problems.append(f"run 1 logs no 'Article {path} not fetched: …'")
        elif not all(reasons):
            problems.append(f"run 1 logs 'Article {path} not fetched:' with no reason")
    return problems


def _robots_all_listings(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    robots = "User-agent: *\n" + "".join(
        f"Disallow: {ctx.listing(s).removesuffix('index.shtml')}index\n" for s in ctx.sections
    )
    return [Step(Faults(robots_txt=robots), frozenset({4, 7}), message=r"(?i)robots\.txt")]


def _reason_names(pattern: str, not_pattern: str | None = None) -> Check:
    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        manifest = runs[0].manifest
        reason = str(manifest.get("reason") if manifest else None)
        if not re.search(pattern, reason) or (not_pattern and re.search(not_pattern, reason)):
            return [f"run 1's reason is {reason!r}, want one matching /{pattern}/"]
        return []

    return check


def _listings_offsite(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    listings = [ctx.listing(s, page) for s in ctx.sections for page in range(1, 3)]
    rule = Rule(REDIRECT_OFFSITE, frozenset(listings))
    # The reason is the manifest's (every log names RedirectMiddleware at start-up).
    return [Step(Faults(rules=[rule]), frozenset({4, 7}))]


def _article_redirects(ctx: Context) -> list[Step]:
    ctx.sections = WIRE
    loop = ctx.page_stories("cns-wire", 1)[3:5]
    chain = ctx.page_stories("cns-wire", 2)[:2]
    offsite = ctx.page_stories("cns-wire", 1)[10:12]
    ctx.scratch["redirected"] = loop + chain + offsite
    ctx.scratch["loop_or_offsite"] = loop + offsite
    rules = [
        Rule(REDIRECT_LOOP, frozenset(loop)),
        Rule(REDIRECT_CHAIN, frozenset(chain)),
        Rule(REDIRECT_OFFSITE, frozenset(offsite)),
    ]
    return [Step(Faults(rules=rules))]


def _redirects_reported(ctx: Context, runs: list[RunResult]) -> list[str]:
    run, problems = runs[0], []
    for path in ctx.scratch["redirected"]:
        if not any(
            re.search(r"(?i)redirect", line) for line in lines_naming(run.stderr, ctx.url(path))
        ):
            problems.append(f"run 1 logs no line naming {path} and its redirect")
    stats = (run.manifest or {}).get("stats", {}).get("newscrawl", {})
    counted = sum(
        v for k, v in stats.items() if re.search(r"redirect|loop|offsite", k) and isinstance(v, int)
    )
    want = len(ctx.scratch["loop_or_offsite"])
    if counted < want:
        problems.append(
            f"run 1's stats count {counted} stories redirected in a loop or off the site"
            f" (newscrawl/*redirect*, *loop*, *offsite*), want {want}"
        )
    return problems


# -- hostile content ------------------------------------------------------------------

HOSTILE_DAY = "/news/politics/2025-01-11/"


def _hostile(ctx: Context, pages: dict[str, bytes], *, must: Iterable[str] = ()) -> list[Step]:
    """Serve ``pages`` and list them on top of politics page 1. Those in ``must`` are
    stories that must be delivered; the others may be delivered or dropped."""
    items: list[ListItem] = [
        (path, f"Hostile page {i}", "Jan 11, 2025") for i, path in enumerate(pages)
    ]
    required = set(must)
    for path in pages:
        if path in required:
            ctx.extra_expected.setdefault(path, None)
        else:
            ctx.optional.add(path)
    faults = Faults(
        extra_items={ctx.listing("politics", 1): items},
        pages={path: (body, HTML_UTF8) for path, body in pages.items()},
    )
    return [Step(faults)]


def _control_characters(ctx: Context) -> list[Step]:
    """Two pages. The first is valid UTF-8 holding control characters (raw and as
    entities) and surrogate and NUL entities: it is a story, it must be delivered,
    clean. The second holds bytes that are not UTF-8 at all (surrogates encoded in
    UTF-8, an overlong form, stray bytes): delivered clean or dropped, never raw."""
    title = (
        "Harbour &#x1;authority&#x7; reports &#xD800;record&#xDFFF; cargo &#0;volumes "
        "&#x1b;[31m&#x7f;&#x9f; \x01\x02\x1b\x7f\x08 in Ningbo"
    )
    story = generated_story("control")
    paragraphs = [
        "Cargo\x01 throughput\x02 at the port rose 4.1 percent\x1b[0m in the first\x7f "
        "eleven months &#x8;&#xFFFE;&#xDBFF;&#xDC00;&#xB; of the year, the authority said.",
        "Shipping lines\x0c added\x0b routes \x1c\x1d\u2028\u2029 to Southeast Asia.",
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    valid = article_page(title, paragraphs, head_title="Harbour \x01authority\x7f reports")
    raw = b"\xed\xa0\x80\xed\xbf\xbf\xc0\xaf\x80\xff\xfe"  # surrogates in UTF-8, overlong, stray
    story = generated_story("control-raw")
    paragraphs = [
        "Raw bytes follow: @RAW@ and a NUL \x00 then more text.",
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    invalid = article_page(f"Port @RAW@ statistics {story.title}", paragraphs)
    valid_path = f"{HOSTILE_DAY}detail-hostilectrl01.shtml"
    pages = {
        valid_path: valid.encode("utf-8"),
        f"{HOSTILE_DAY}detail-hostilectrl02.shtml": invalid.encode("utf-8").replace(b"@RAW@", raw),
    }
    return _hostile(ctx, pages, must=[valid_path])


def _huge_title(ctx: Context) -> list[Step]:
    title = ("Officials discuss port logistics and regional trade " * 20000)[:1_000_000]
    story = generated_story("hugetitle")
    paragraphs = [html.escape(p, quote=False) for p in story.paragraphs]
    page = article_page(title, paragraphs).encode("utf-8")
    return _hostile(ctx, {f"{HOSTILE_DAY}detail-hostiletitle01.shtml": page})


def _script_elements(ctx: Context) -> list[Step]:
    m = SCRIPT_MARKER
    title = (
        f'Ministry opens <script>var {m} = 1; alert("{m}")</script>new trade office'
        f"<style>.{m} {{ color: red }}</style>"
    )
    story = generated_story("script")
    paragraphs = [
        f'The office <script>document.write("{m}")</script>will serve exporters in the region.',
        f"<img src=\"javascript:alert('{m}')\" onerror=\"alert('{m}')\">Officials said the "
        "plan was agreed in May after months of talks.",
        f"<a href=\"javascript:alert('{m}')\">Read more</a> about the trade office and its "
        "services for small firms.",
        f'<iframe src="javascript:alert(1)">{m}</iframe>More support is expected next year.',
        f'<svg onload="alert(1)"><script>{m}</script></svg>The ministry will report in June.',
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    path = f"{HOSTILE_DAY}detail-hostilescript01.shtml"
    body = "\n\n".join(
        [
            "The office will serve exporters in the region.",
            "Officials said the plan was agreed in May after months of talks.",
            "Read more about the trade office and its services for small firms.",
            "More support is expected next year.",
            "The ministry will report in June.",
            *story.paragraphs,
        ]
    )
    page = article_page(title, paragraphs, head_title="Ministry opens new trade office")
    steps = _hostile(ctx, {path: page.encode("utf-8")}, must=[path])
    ctx.extra_expected[path] = {"title": "Ministry opens new trade office", "body": body}
    return steps


def _escaped_markup(ctx: Context) -> list[Step]:
    title = "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; Minister visits new port"
    story = generated_story("escaped")
    paragraphs = [
        "The text &lt;script&gt;alert(1)&lt;/script&gt; was shown on a screen, officials said.",
        "&lt;img src=x onerror=alert(1)&gt; A second sentence follows with more detail.",
        "&lt;IFRAME SRC=&quot;javascript:alert(1)&quot;&gt;&lt;/IFRAME&gt; ends the page.",
        *(html.escape(p, quote=False) for p in story.paragraphs),
    ]
    path = f"{HOSTILE_DAY}detail-hostileescaped01.shtml"
    return _hostile(ctx, {path: article_page(title, paragraphs).encode("utf-8")}, must=[path])


# Links crafted to make a careless crawler write outside its folders.
ESCAPE_HREFS = (
    f"{HOSTILE_DAY}detail-..%2F..%2Fx.shtml",
    f"{HOSTILE_DAY}detail-..%2F..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2Fescaped.shtml",
    f"{HOSTILE_DAY}detail-%2e%2e%2f%2e%2e%2fescape.shtml",
    f"{HOSTILE_DAY}../../../../../escape.shtml",
    f"{HOSTILE_DAY}detail-..\\..\\..\\x.shtml",
    f"{HOSTILE_DAY}detail-abc%00def.shtml",
    f"{HOSTILE_DAY}detail-abc%0a..%2fdef.shtml",
    f"{HOSTILE_DAY}detail-{'a' * 200}.shtml",
    f"{HOSTILE_DAY}detail-{'b' * 5000}.shtml",
)
ESCAPE_NAMES = ("x.shtml", "escaped.shtml", "escape.shtml", "def.shtml")


def _path_escape(ctx: Context) -> list[Step]:
    items = [(href, f"Path probe {i}", "Jan 11, 2025") for i, href in enumerate(ESCAPE_HREFS)]
    faults = Faults(
        extra_items={ctx.listing("politics", 1): items}, serve_unknown_articles=HOSTILE_DAY
    )
    ctx.scratch["escape_any"] = True
    return [Step(faults)]


def _path_escape_check(ctx: Context, runs: list[RunResult]) -> list[str]:
    problems = []
    for folder in (PROJECT_ROOT, Path(tempfile.gettempdir()), ctx.tmp, ctx.work.parent):
        for name in ESCAPE_NAMES:
            if (folder / name).exists():
                problems.append(f"{folder / name} exists")
    return problems


# -- local faults ----------------------------------------------------------------------


def _root() -> bool:
    return os.geteuid() == 0


def _read_only_output(ctx: Context) -> list[Step]:
    def setup(c: Context) -> None:
        c.out.mkdir(parents=True, exist_ok=True)
        c.out.chmod(0o500)

    def teardown(c: Context) -> None:
        c.out.chmod(0o700)

    # Root writes through mode bits: its crawl runs without CAP_DAC_OVERRIDE.
    env = {"NEWSCRAWL_FAULT_DROP_DAC": "1"} if _root() else {}
    return [
        Step(
            expect_exit=frozenset({6}),
            env=env,
            setup=setup,
            teardown=teardown,
            message=r"(?i)permission denied|not writable|cannot write",
        ),
        Step(),
    ]


def _output_is_a_file(ctx: Context) -> list[Step]:
    def setup(c: Context) -> None:
        c.out.parent.mkdir(parents=True, exist_ok=True)
        c.out.write_text("a file where the output folder should be\n", encoding="utf-8")

    def teardown(c: Context) -> None:
        c.out.unlink()

    return [
        Step(
            expect_exit=frozenset({6}),
            setup=setup,
            teardown=teardown,
            message=r"(?i)not a directory|exists|not writable|cannot write",
        ),
        Step(),
    ]


DISK_BYTES = 64 * 1024


def _disk_full(ctx: Context) -> list[Step]:
    from replica.faults.launcher import ENOSPC_HOOK

    hooks = ctx.work / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "sitecustomize.py").write_text(ENOSPC_HOOK, encoding="utf-8")
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")])),
        "NEWSCRAWL_FAULT_ENOSPC_DIR": str(ctx.out),
        "NEWSCRAWL_FAULT_ENOSPC_BYTES": str(DISK_BYTES),
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ beside the hook
    }
    return [
        Step(expect_exit=frozenset({6}), env=env, message=r"(?i)no space left|disk full"),
        Step(),
    ]


FILE_SIZE_LIMIT = 128 * 1024


def _file_size_limit(ctx: Context) -> list[Step]:
    return [
        # Which file reaches the limit first decides the code: 6 (output) or 8 (state).
        Step(
            expect_exit=frozenset({6, 8}),
            env={"NEWSCRAWL_FAULT_FSIZE": str(FILE_SIZE_LIMIT)},
            message=r"(?i)file too large|disk is full|no space",
        ),
        Step(),
    ]


def _db(ctx: Context) -> Path:
    return ctx.state / "newscrawl.sqlite3"


def _state_locked(ctx: Context) -> list[Step]:
    def lock(c: Context) -> None:
        con = sqlite3.connect(_db(c), isolation_level=None, timeout=0)
        con.execute("BEGIN EXCLUSIVE")
        c.held.append(con)

    def unlock(c: Context) -> None:
        while c.held:
            con = c.held.pop()
            con.rollback()
            con.close()

    return [
        Step(sections=("politics",)),
        Step(
            expect_exit=frozenset({8}),
            setup=lock,
            teardown=unlock,
            message=r"(?i)locked",
        ),
        Step(),
    ]


def _state_corrupted(ctx: Context) -> list[Step]:
    def corrupt(c: Context) -> None:
        with _db(c).open("r+b") as f:
            f.write(b"\xde\xad\xbe\xef garbage, not a database header " * 3)
        c.scratch["db_sha"] = hashlib.sha256(_db(c).read_bytes()).hexdigest()

    return [
        Step(sections=("politics",)),
        Step(
            expect_exit=frozenset({8}),
            setup=corrupt,
            message=r"(?i)not a database|corrupt|malformed",
        ),
    ]


def _state_kept(ctx: Context, runs: list[RunResult]) -> list[str]:
    db = _db(ctx)
    if not db.is_file():
        return ["the state database is gone after the failed run"]
    if hashlib.sha256(db.read_bytes()).hexdigest() != ctx.scratch.get("db_sha"):
        return ["the corrupted state database was changed (silently reset?)"]
    return []


# --- The cases ------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    Case("connection-reset", "server", "TCP resets (2 a path) are retried", _resets),
    Case("connection-closed", "server", "closes without an answer (2 a path) are retried", _closes),
    Case("slow-response", "server", "answers slower than DOWNLOAD_TIMEOUT are retried", _slow),
    Case("5xx-burst", "server", "500/502/503 twice a path, retried", _five_hundreds),
    Case("429-retry-after", "server", "429 with Retry-After is waited for and retried", _too_many),
    Case("truncated-length", "server", "Content-Length longer than the body: retried", _short_body),
    Case(
        "10mb-page",
        "resource",
        "a 10 MB article and listing page are not read (counted, logged); the next run has all",
        _huge_pages(10 * MIB),
        check=_oversized_checks("listing"),
        promise="not in run 1 (counted); every story once by run 2",
        max_rss_mb=MAX_RSS_MB,
    ),
    Case("gbk-declared-utf8", "server", "GBK bytes declared UTF-8: text intact", _charset(GBK)),
    Case("no-charset", "server", "no charset anywhere: text intact", _charset(NO_CHARSET)),
    Case(
        "robots-disallow",
        "server",
        "robots.txt disallows /cns-wire/: never requested, the rest delivered",
        _robots,
        check=_robots_check,
        promise="every politics story once, no /cns-wire/ request",
        clean_after=False,  # the site's robots.txt stays: a clean run is the same run
    ),
    Case("connection-refused", "next-run", "site down: exit 4, the next run delivers", _refused),
    Case(
        "resets-beyond-retries",
        "next-run",
        "pages failing past the retries are delivered by the next run",
        _resets_beyond_retries,
    ),
    Case(
        "truncated-mid-paragraph",
        "next-run",
        "a page cut mid-paragraph (right length) is not delivered cut; the next run has it",
        _cut,
    ),
    Case(
        "redirect-loop",
        "next-run",
        "redirect loops and endless chains end; the next run delivers what they hid",
        _redirect_loops,
    ),
    Case(
        "redirect-offsite",
        "next-run",
        "redirects to another domain are not followed; the next run delivers",
        _redirect_offsite,
        check=no_offsite_request,
        promise="every story once, nothing off-site",
    ),
    Case(
        "listing-all-offsite",
        "next-run",
        "a listing whose items all point off-site: nothing off-site fetched",
        _offsite_listing,
        check=no_offsite_request,
        promise="every story once, nothing off-site",
    ),
    Case(
        "endless-listing",
        "server",
        f"a listing that never ends stops at max_pages={MAX_PAGES_ENDLESS}",
        _endless,
        check=_endless_check,
        promise=f"every story up to page {MAX_PAGES_ENDLESS} once, no page past it",
    ),
    Case(
        "control-characters",
        "hostile",
        "control characters and lone surrogates never reach the output",
        _control_characters,
    ),
    Case("1mb-title", "hostile", "a 1 MB title: the run survives, output valid", _huge_title),
    Case(
        "script-elements",
        "hostile",
        "<script>/<style>/<iframe> inside h1 and p: their code never reaches a field",
        _script_elements,
    ),
    Case(
        "escaped-markup",
        "hostile",
        "&lt;script&gt; shown as text is delivered as that text (fields are plain text)",
        _escaped_markup,
        shows_markup_as_text=True,
    ),
    Case(
        "path-escape-ids",
        "hostile",
        "ids and paths crafted to escape the output folder write nothing outside it",
        _path_escape,
        check=_path_escape_check,
    ),
    Case(
        "output-read-only",
        "local",
        "output folder not writable: exit 6, the next run delivers",
        _read_only_output,
    ),
    Case(
        "output-path-is-a-file",
        "local",
        "the output folder is a file: exit 6, the next run delivers",
        _output_is_a_file,
    ),
    Case("disk-full", "local", "ENOSPC on the output disk: exit 6, next run delivers", _disk_full),
    Case(
        "file-size-limit",
        "local",
        f"RLIMIT_FSIZE {FILE_SIZE_LIMIT // 1024} KB, EFBIG on any file: exit 6|8, next run ok",
        _file_size_limit,
    ),
    Case(
        "state-locked",
        "local",
        "state database locked by another program: exit 8, nothing lost or reset",
        _state_locked,
    ),
    Case(
        "state-corrupted",
        "local",
        "state database corrupted: exit 8, a clear message, the file left as it is",
        _state_corrupted,
        recoverable=False,
        check=_state_kept,
        promise="the state file untouched",
        clean_after=False,  # it stays corrupted: every run exits 8 until the operator acts
    ),
    # -- give-up: only for a fault of the story's own page, over time (policy A)
    Case(
        "giveup-500-three-runs",
        "next-run",
        "every article answers 500 in three runs: each fails, the recovered site's run delivers",
        _every_article(STATUS, 5, statuses=(500,)),
        check=_nothing_before_recovery,
        promise="nothing in runs 1-3; every story once by run 4",
    ),
    Case(
        "giveup-empty-200-three-runs",
        "next-run",
        "every article is an empty 200 in three runs: each fails (not 0), then all delivered",
        _every_article(EMPTY, 5),
        check=_nothing_before_recovery,
        promise="nothing in runs 1-3; every story once by run 4",
    ),
    Case(
        "declared-gbk-utf8-bytes",
        "server",
        "UTF-8 article pages declared charset=gbk (three runs): decoded as UTF-8 in run 1",
        _declared_gbk,
        check=delivered_in_run(1, _declared_gbk_in_run_1),
        promise="every story once by run 1, text intact",
    ),
    Case(
        "listed-404-until-published",
        "next-run",
        "a listed story answers 404 in three runs, then is published: delivered then",
        _not_yet_published,
        promise="every story once by run 4 (the late one in run 4)",
    ),
    # -- link spam inside real paragraphs (B)
    Case(
        "spam-anchor-in-2-of-17",
        "hostile",
        "a casino anchor inside 2 of 17 real paragraphs: anchor text removed, sentences kept",
        _spam_in_paragraphs(every=False),
        promise="every story once, that one without the anchor text",
    ),
    Case(
        "spam-anchor-in-every-paragraph",
        "hostile",
        "a casino anchor in each of 17 real paragraphs: delivered, not dropped as spam",
        _spam_in_paragraphs(every=True),
        promise="every story once, that one without the anchor text",
    ),
    # -- a tree deeper than the parser builds (C)
    Case(
        "deep-nesting-3000-divs",
        "next-run",
        "3,000 nested <div> before the paragraphs: not delivered short, counted; next run whole",
        _deep_nesting,
        check=all_of(
            not_delivered_in_run(1, "deep", "the parser dropped what followed the nesting"),
            counted(1, "deep"),
            logged(1, "deep", r"."),
        ),
        promise="not in run 1 (counted); every story once, whole, by run 2",
    ),
    # -- reset (D)
    Case(
        "reset-state-folder",
        "local",
        "the state folder deleted: the next run delivers every story again, recovers nothing",
        _reset,
        check=_reset_check,
        promise="every story twice: run 1, and again in run 2",
    ),
    # -- a page whose document tail is missing (E)
    Case(
        "document-tail-missing",
        "server",
        "body whole (end mark), no </body></html> on any request: delivered",
        _no_document_end,
        check=delivered_in_run(1, lambda c: c.scratch["no_end"]),
        promise="every story once by run 1",
    ),
    # -- every article page broken in one run (F)
    Case(
        "all-articles-empty",
        "next-run",
        "every article page an empty 200: exit 5; the next run delivers",
        _every_article(EMPTY, 5, runs=1),
    ),
    Case(
        "all-articles-cut",
        "next-run",
        "every article page cut short (matching length): exit 5; the next run delivers",
        _every_article(CUT, 5, runs=1),
    ),
    Case(
        "all-articles-undecodable",
        "next-run",
        "every article page holds bytes of no charset: exit 5; the next run delivers",
        _every_article(UNDECODABLE, 5, runs=1),
    ),
    # -- bounded resources (G; 10mb-page above)
    Case(
        "3mb-page",
        "resource",
        "a 3 MB article and listing page are read whole",
        _huge_pages(3 * MIB),
        check=delivered_in_run(1, lambda c: c.single_stories()),
        promise="every story once by run 1",
        max_rss_mb=MAX_RSS_MB,
    ),
    Case(
        "50mb-page",
        "resource",
        "a 50 MB article: not read (counted, logged), memory bounded",
        _oversized(HUGE, 50 * MIB),
        check=_oversized_checks(),
        promise="not in run 1 (counted); every story once by run 2",
        max_rss_mb=MAX_RSS_MB,
    ),
    Case(
        "gzip-bomb",
        "resource",
        "an article gzipped to 1 MB that inflates to 1 GB: not read, memory bounded",
        _oversized(GZIP_BOMB, 1_000_000_000),
        check=_oversized_checks(),
        promise="not in run 1 (counted); every story once by run 2",
        max_rss_mb=MAX_RSS_MB,
    ),
    Case(
        "endless-chunked",
        "resource",
        "an article answer that never ends (chunked, 128 MB/s): cut, memory bounded",
        _oversized(ENDLESS, 0),
        check=_oversized_checks(),
        promise="not in run 1 (counted); every story once by run 2",
        max_rss_mb=MAX_RSS_MB,
    ),
    Case(
        "listing-100k-links",
        "resource",
        f"listings of 100,000 and 2,000 links: at most {MAX_LINKS_PER_LISTING} requests each",
        _many_links,
        check=all_of(_links_followed, delivered_in_run(1, lambda c: c.single_stories())),
        promise="every story once by run 1",
        max_rss_mb=MAX_RSS_MB,
    ),
    Case(
        "editor-100k-chars",
        "resource",
        "an editor span of 100,000 characters: editor null, the story delivered",
        _long_editor,
        check=fields_are(1),
        promise="every story once, that one's editor null",
    ),
    # -- prompt stop (H)
    Case(
        "sigterm-hung-download",
        "stop",
        f"SIGTERM while a download hangs: the run ends within {STOP_WITHIN:.0f} s, complete",
        _sigterm_during(lambda path: Rule(HANG, frozenset({path}))),
        check=all_of(manifest_complete(1), stops_within(1, STOP_WITHIN)),
        promise=f"ends <{STOP_WITHIN:.0f} s after SIGTERM; every story once by run 2",
        idle=True,
    ),
    Case(
        "sigterm-retry-after",
        "stop",
        f"SIGTERM during Retry-After: 600: the run ends within {STOP_WITHIN:.0f} s, complete",
        _sigterm_during(
            lambda path: Rule(STATUS, frozenset({path}), headers=(("Retry-After", "600"),)),
            NEWSCRAWL_MAX_RETRY_AFTER="600",
        ),
        check=all_of(manifest_complete(1), stops_within(1, STOP_WITHIN)),
        promise=f"ends <{STOP_WITHIN:.0f} s after SIGTERM; every story once by run 2",
        idle=True,
    ),
    Case(
        "closespider-timeout-hung",
        "stop",
        f"CLOSESPIDER_TIMEOUT=10 on a hung server: the run ends within"
        f" {CLOSESPIDER_HUNG_WITHIN:.0f} s",
        _hung_server,
        check=manifest_complete(1),
        promise=f"run 1 ends <{CLOSESPIDER_HUNG_WITHIN:.0f} s; every story once by run 2",
        idle=True,
    ),
    # -- hostile text in the replica's pages (I)
    Case(
        "script-in-info-spans",
        "hostile",
        "<script>/<style> inside the editor and source spans: never in editor or source",
        _script_in_spans,
        check=all_of(fields_are(1), no_text("EDITOR-SCRIPT", "SOURCE-SCRIPT", "SOURCE-STYLE")),
        promise="every story once, editor 'Li Yan'",
    ),
    Case(
        "svg-mathml-in-body",
        "hostile",
        "SVG and MathML inside and between paragraphs: their text never in the body",
        _svg_mathml,
        check=no_text("SVG-", "MATHML-"),
    ),
    Case(
        "bidi-invisible-chars",
        "hostile",
        "bidi controls and invisible characters in every field: never delivered",
        _bidi,
        check=fields_are(1),
        promise="every story once, fields without them",
    ),
    Case(
        "bare-text-order",
        "hostile",
        "text directly in the body container, outside <p>: kept in document order",
        _bare_text,
        promise="every story once, paragraphs in order",
    ),
    # -- two runs on one output folder (J)
    Case(
        "shared-output-two-states",
        "local",
        "a second run, other state, same output folder: exit 3; the first completes untouched",
        _shared_output,
        check=_shared_output_check,
        promise="no file moved aside; every story once",
    ),
    # -- robots.txt failing (K)
    Case(
        "robots-503",
        "next-run",
        "robots.txt answers 503: nothing else requested, exit 4; the next run delivers",
        _robots_503,
        check=_only_robots_asked,
        promise="run 1 asks robots.txt only; every story once by run 2",
    ),
    # -- debris (L)
    Case(
        "debris-after-sigkill",
        "local",
        f"after a SIGKILL: no newscrawl-seen-* left in TMPDIR; debris older than {KEEP_DAYS}"
        " days removed",
        _debris,
        check=_debris_check,
        promise=f"no debris past {KEEP_DAYS} days; every story once by run 2",
        clean_after=False,
    ),
    # -- messages (M)
    Case(
        "not-fetched-reasons",
        "message",
        "a cancelled and a data-loss download: 'Article <url> not fetched: <reason>'",
        _not_fetched_reasons,
        check=_reasons_given,
        promise="a reason for each; every story once by run 2",
    ),
    Case(
        "robots-disallow-all-listings",
        "message",
        "robots.txt disallows every listing: the reason names robots.txt",
        _robots_all_listings,
        check=_reason_names(r"robots\.txt", r"all 404"),
        promise="reason names robots.txt; every story once by run 2",
    ),
    Case(
        "listings-redirect-offsite",
        "message",
        "every listing redirects off the site: the reason names the redirect",
        _listings_offsite,
        check=all_of(_reason_names(r"(?i)redirect"), no_offsite_request),
        promise="reason names the redirect; every story once by run 2",
    ),
    Case(
        "redirect-messages",
        "message",
        "article redirect loops, chains and off-site redirects: a warning with the URL, a stat",
        _article_redirects,
        check=all_of(_redirects_reported, no_offsite_request),
        promise="a warning and a stat each; every story once by run 2",
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}
