"""Link spam injected inside real paragraphs: the spam goes, the paragraph stays.

A hacked page slips an off-site anchor, sometimes with a few words selling it
("Play now at …"), into the site's own paragraphs. The anchor and its pitch are cut
out; the paragraph's own sentences are delivered as the page printed them, and the
cut is counted as a removal. A page is spam as a whole only when no real text
remains. Real paragraphs come from the shared reference folder.
"""

from __future__ import annotations

import json
import random
import re
from html import escape
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.drops import SpamPage
from newscrawl.items import Block, Link
from newscrawl.pipelines.spam import SpamPipeline, site_hosts_for, strip_spam
from newscrawl.spam import SPAM_VOCABULARY, cut_spam_anchors, judge_page
from replica.localrun import REFERENCE_DIR
from tests.test_hostile_extraction import URL, _Stats, ecns_page, extract

ARTICLES = REFERENCE_DIR / "politics-2024-articles.jsonl"
needs_articles = pytest.mark.skipif(not ARTICLES.exists(), reason=f"{ARTICLES} is not here")

CASINO = '<a href="http://casino-bet.example/">best online casino bonus</a>'
HOSTS = site_hosts_for(URL)


def real_articles() -> list[dict[str, Any]]:
    with ARTICLES.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def paragraphs_of(article: dict[str, Any]) -> list[str]:
    return [" ".join(p.split()) for p in article["body"].split("\n") if p.strip()]


def article_with(n: int) -> tuple[str, list[str]]:
    """The title and paragraphs of the first real article with ``n`` paragraphs."""
    for article in real_articles():
        paragraphs = paragraphs_of(article)
        if len(paragraphs) == n:
            return article["title"], paragraphs
    raise AssertionError(f"no real article has {n} paragraphs")


def page_of(title: str, paragraph_html: list[str]) -> str:
    return ecns_page(title=escape(title), body="".join(f"<p>{p}</p>" for p in paragraph_html))


def deliver(html: str) -> tuple[str, list[str]]:
    """The body the spam stage delivers, and the reasons of what it removed."""
    raw = extract(html)
    clean = strip_spam(raw.titles[0], raw.blocks, HOSTS)
    return clean.body, clean.removed


def sentence_ends(text: str) -> list[int]:
    return [m.end() for m in re.finditer(r"[.!?][\"”’']?(?= [A-Z\"“])", text)]


def inject(paragraph: str, spam: str, where: str, r: random.Random) -> str:
    """The paragraph (as HTML) with ``spam`` at its end, between two of its
    sentences, or between two of its words."""
    text = escape(paragraph, quote=False)
    if where == "end":
        return f"{text} {spam}"
    if where == "sentence":
        ends = sentence_ends(text)
        if ends:
            at = r.choice(ends)
            return f"{text[:at]} {spam}{text[at:]}"
        return f"{spam} {text}"
    spaces = [m.start() for m in re.finditer(" ", text)] or [len(text)]
    at = r.choice(spaces)
    return f"{text[:at]} {spam}{text[at:]}"


# --- the paragraph stays ------------------------------------------------------------------


@needs_articles
def test_an_anchor_in_two_of_seventeen_paragraphs_removes_the_anchor_only() -> None:
    title, paragraphs = article_with(17)
    html = [escape(p, quote=False) for p in paragraphs]
    html[3] = f"{html[3]} {CASINO}"  # at the end of a paragraph
    words = html[9].split(" ")
    html[9] = " ".join([*words[:6], CASINO, *words[6:]])  # inside a sentence
    body, removed = deliver(page_of(title, html))
    assert body.split("\n\n") == paragraphs
    assert removed == [SPAM_VOCABULARY, SPAM_VOCABULARY]


@needs_articles
def test_an_anchor_in_every_paragraph_leaves_the_article() -> None:
    title, paragraphs = article_with(17)
    r = random.Random(17)
    html = [inject(p, CASINO, "sentence", r) for p in paragraphs]
    body, removed = deliver(page_of(title, html))
    assert body.split("\n\n") == paragraphs
    assert len(removed) == 17


@needs_articles
@pytest.mark.parametrize(
    "pitch",
    [
        f"Play now at best casino {CASINO}!",
        f"Play now at {CASINO}.",
        f"{CASINO} - sign up today and claim your bonus!",
        f"Visit {CASINO} now.",
        f"Click here: {CASINO}",
        f"{CASINO}, {CASINO.replace('best online casino bonus', 'free spins')}",
    ],
)
def test_the_pitch_around_the_anchor_goes_with_it(pitch: str) -> None:
    title, paragraphs = article_with(17)
    html = [escape(p, quote=False) for p in paragraphs]
    first = next(i for i, p in enumerate(html) if sentence_ends(p))
    at = sentence_ends(html[first])[0]
    html[first] = f"{html[first][:at]} {pitch}{html[first][at:]}"  # after its first sentence
    html[5] = f"{html[5]} {pitch}"
    body, removed = deliver(page_of(title, html))
    assert body.split("\n\n") == paragraphs
    assert len(removed) == 2


def test_the_cut_leaves_no_double_space_nor_stray_punctuation() -> None:
    cases = {
        f"Officials said on Monday {CASINO} that exports rose.": (
            "Officials said on Monday that exports rose."
        ),
        f"Exports rose, {CASINO}, the ministry said on Monday.": (
            "Exports rose, the ministry said on Monday."
        ),
        f"Exports rose ({CASINO}) in the first half of the year.": (
            "Exports rose in the first half of the year."
        ),
        f"Exports rose in the first half of the year: {CASINO}.": (
            "Exports rose in the first half of the year."
        ),
        f"{CASINO}: Exports rose in the first half, the ministry said.": (
            "Exports rose in the first half, the ministry said."
        ),
        f"Exports rose. {CASINO}. The ministry said so on Monday.": (
            "Exports rose. The ministry said so on Monday."
        ),
    }
    for html, expected in cases.items():
        body, removed = deliver(page_of("Exports rise", [html]))
        assert (body, removed) == (expected, [SPAM_VOCABULARY])


# --- what is spam stays spam ------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        # A pitch sentence wrapped around its anchor: nothing of it is the article's.
        "For more information on the event, see the "
        '<a href="http://casino-reviews.example.net/">best online casino reviews</a> today.',
        f"Try {CASINO} and {CASINO} today, or see {CASINO} for more.",
        f"Partners: {CASINO} | {CASINO} | {CASINO}",
        f"Welcome bonus for new players: {CASINO}",
    ],
)
def test_a_paragraph_that_is_all_pitch_is_removed_whole(html: str) -> None:
    lead = "A delegation from Peru arrived in Nanjing on Sunday for an eight-day visit."
    body, removed = deliver(page_of("Peru delegation visits Nanjing", [lead, html]))
    assert body == lead
    assert len(removed) == 1


def test_a_spam_page_is_still_dropped() -> None:
    pitch = [
        f"Play at the best online casino today and claim your free spins: {CASINO}.",
        f"Our sportsbook gives you the best odds: {CASINO}.",
    ]
    with pytest.raises(SpamPage):
        deliver(page_of("Best online casino bonus and free spins", pitch))


def test_the_page_judgement_counts_what_the_cut_leaves() -> None:
    text = (
        "Xi made the remarks on Wednesday in a congratulatory letter best online casino "
        "bonus to the 2024 Gala Dinner of the U.S.-China Business Council."
    )
    start = text.index("best online")
    link = Link("http://casino-bet.example/", "best online casino bonus", start, start + 23)
    judgement = judge_page("Xi sends letter", [Block(text=text, links=(link,))], HOSTS)
    assert judgement.page.spam is False
    assert judgement.blocks[0].reason == SPAM_VOCABULARY
    assert judgement.kept[0] is not None
    assert judgement.kept[0].text == text.replace("best online casino bonus ", "")


def test_the_spam_stage_counts_each_cut_as_a_removal() -> None:
    lead = "A delegation from Peru arrived in Nanjing on Sunday for an eight-day visit."
    raw = extract(page_of("Peru delegation visits Nanjing", [f"{lead} {CASINO}", lead]))
    item = {"title": "Peru delegation visits Nanjing", "body_blocks": list(raw.blocks)}
    crawler = _Crawler()
    SpamPipeline(crawler).process_item(item)  # type: ignore[arg-type]
    assert item["body"] == f"{lead}\n\n{lead}"
    assert item["spam_removed"] == 1
    assert crawler.stats.values == {f"newscrawl/spam_removed/{SPAM_VOCABULARY}": 1}


class _Settings:
    def get(self, key: str) -> str:
        return {"ECNS_BASE_URL": "https://www.ecns.cn"}[key]


class _Crawler:
    def __init__(self) -> None:
        self.stats = _Stats()
        self.settings = _Settings()


# --- every real text ----------------------------------------------------------------------


@needs_articles
@pytest.mark.parametrize("where", ["end", "sentence", "word"])
def test_every_real_article_survives_an_anchor_in_its_paragraphs(where: str) -> None:
    """Each of the 447 real articles with the anchor (alone, or with a pitch) in
    every third paragraph, at the end, between sentences or between two words: the
    delivered body is the article's own text, to the character."""
    r = random.Random(where)
    pitches = [CASINO, f"Play now at {CASINO}!", f"{CASINO} - sign up today!"]
    wrong = []
    for article in real_articles():
        paragraphs = paragraphs_of(article)
        html = [
            inject(p, r.choice(pitches) if where != "word" else CASINO, where, r)
            if i % 3 == 0
            else escape(p, quote=False)
            for i, p in enumerate(paragraphs)
        ]
        try:
            body, _ = deliver(page_of(article["title"], html))
        except SpamPage:
            body = "(dropped)"
        if body.split("\n\n") != paragraphs:
            wrong.append(article["url"])
    assert wrong == []


# --- robustness ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["Xi", "said", "the", "talks", "play", "now", "at", "casino", "free", "spins", ",",
             ".", "!", ":", "(", ")", '"', "|", "-", "you", "visit", "today", "bonus", "交流"]
        ),
        max_size=30,
    ),
    anchors=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 4)), max_size=4),
)  # fmt: skip
def test_a_cut_never_invents_text(words: list[str], anchors: list[tuple[int, int]]) -> None:
    text = " ".join(words)
    links = []
    for first, length in anchors:
        chunk = " ".join(words[first : first + length])
        if chunk:
            start = len(" ".join(words[:first])) + (1 if first else 0)
            href = f"http://spam{first}.example/"
            links.append(Link(href, chunk, start, start + len(chunk)))
    block = Block(text=text, links=tuple(links))
    cut = cut_spam_anchors(block, HOSTS)
    if cut is not None:
        kept = cut[0].text
        assert kept == " ".join(kept.split()) and kept
        # Only removed: what is left is the text's characters, in order.
        rest = iter(text.replace(" ", ""))
        assert all(char in rest for char in kept.replace(" ", ""))
