"""Link-spam detection for article body blocks and whole pages.

Why this exists: copies of ECNS pages met on the web, and pages served by hacked
servers, carry injected spam: "spider pool" lists of county names linking to
throw-away subdomains (``主站蜘蛛池模板: 天全县| 剑河县| …``), hidden blocks of
gambling links, keyword-stuffed anchor lists to other domains, pharma backlinks,
and sometimes a whole gambling page in the site's template. None of it may reach
a feed, and none of the real article text may be lost to it.

How it decides: :func:`block_features` measures a block once (link text shares,
off-site anchors, list shape, CJK share, sentence punctuation, vocabulary hits,
repetition, hidden style) into a :class:`BlockFeatures`; :func:`classify_block`
applies named thresholds to those features in a fixed order and returns the
first reason that holds. :func:`judge_page` (the spam stage's entry point) judges
every block, then the blocks in context (a run of blocks that are each one short
off-site link is a list injected one anchor a block), then cuts the spam anchors
slipped into real paragraphs out of them (:func:`cut_spam_anchors`: the anchor and
the pitch around it go, the paragraph's own sentences stay), then the page as a
whole: a page that keeps real news once its spam is out is an article with an
injection and is never dropped; one that does not is spam when its title, its
share of content spam, its off-site links or its sales pitch say so.
:func:`classify_page` is the page verdict alone.

Hidden blocks: ``newscrawl.extract.visibility.is_hidden_style`` reads
``Block.style``, the inline styles of the block and its ancestors, to which the
extraction adds the declarations of the page's CSS classes and ids that hide, so
that a block hidden by a class is judged as one hidden inline.

How well it does is measured, not asserted: ``python -m replica.spam_corpus eval``
runs a generated, labeled corpus through the crawler's extraction and this module
and prints precision and recall per spam form and the false positives on clean
text (``tests/test_spam_eval.py`` holds it to recall ≥ 99 % a form and no real
paragraph lost).

How to read a :class:`Verdict`: ``spam`` says whether to drop the block (or the
page); ``reason`` names the rule that fired, one of :data:`HIDDEN`,
:data:`SPIDER_POOL`, :data:`SPAM_VOCABULARY`, :data:`OFFSITE_LINKS`,
:data:`KEYWORD_STUFFING` for a block and :data:`SPAM_PAGE` for a page, and is
``None`` exactly when the verdict is clean.

The site is an English-language one: a block written mostly in Chinese is not
article prose there, while Chinese names inside English sentences
(``President Xi Jinping (习近平)``) are. English prose that merely mentions a
casino or a lottery is news and is kept; vocabulary counts against a block only
when the block is not ordinary prose (a link, a list, a keyword run, Chinese).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import filterfalse, pairwise
from typing import NamedTuple
from urllib.parse import urlsplit

from newscrawl.extract.visibility import is_hidden_style
from newscrawl.items import Block, Link

__all__ = [
    "CLEAN",
    "HIDDEN",
    "KEYWORD_STUFFING",
    "OFFSITE_LINKS",
    "REASONS",
    "SPAM_PAGE",
    "SPAM_VOCABULARY",
    "SPIDER_POOL",
    "BlockFeatures",
    "Verdict",
    "block_features",
    "classify_block",
    "classify_page",
    "cut_spam_anchors",
    "judge_page",
]

# --- Reasons ---------------------------------------------------------------------------

HIDDEN = "hidden"
SPIDER_POOL = "spider_pool"
OFFSITE_LINKS = "offsite_links"
SPAM_VOCABULARY = "spam_vocabulary"
KEYWORD_STUFFING = "keyword_stuffing"
SPAM_PAGE = "spam_page"
REASONS = (HIDDEN, SPIDER_POOL, OFFSITE_LINKS, SPAM_VOCABULARY, KEYWORD_STUFFING, SPAM_PAGE)


@dataclass(frozen=True)
class Verdict:
    """Whether a block or page is spam, and which rule said so (None when clean)."""

    spam: bool
    reason: str | None


CLEAN = Verdict(False, None)

# --- Thresholds --------------------------------------------------------------------------

# Spider pool: a list needs this many items; sentences rarely hold 5 pipe/slash items.
SPIDER_POOL_MIN_TOKENS = 5
# Chinese lists separated by spaces, 、 or ， need more items: four or five phrases can be
# verse ("床前明月光 疑是地上霜 …"); six short Chinese items in a row are a list, and a
# list of Chinese names or keywords is not article text on this English site.
SPIDER_POOL_MIN_SPACE_TOKENS = 6
# Nearly every item must be short: one long item means the separators sit in prose.
SPIDER_POOL_MIN_SHORT_SHARE = 0.9
# A list item longer than this many CJK characters is a phrase, not a name or keyword.
LIST_TOKEN_MAX_CJK_CHARS = 12
# A list item longer than this many Latin words is a phrase, not a name or keyword.
LIST_TOKEN_MAX_WORDS = 4
# At least half the items in Chinese makes a pipe/slash list a keyword list on an
# English site; Latin lists also need off-site links or spam terms ("Links | About Us").
SPIDER_POOL_MIN_CJK_TOKEN_SHARE = 0.5
# Off-site subdomains of one registered domain that mark a pool of throw-away hosts
# (a spam farm mints one subdomain per keyword; real citations repeat one host).
SPIDER_POOL_MIN_POOL_HOSTS = 3

# Off-site anchors: a cluster starts at three links (one or two are citations).
OFFSITE_MIN_ANCHORS = 3
# ...and their text must make up most of the block: prose with a link stays prose.
OFFSITE_MIN_TEXT_SHARE = 0.5
# ...and the words between the anchors must not be a sentence: "Data from the IMF, the
# World Bank and the WTO point to a recovery" cites three sources in ten words of its
# own with function words; "Partners: a | b | c" has one word around its links.
OFFSITE_SENTENCE_MIN_WORDS = 5

# Link items: a block that is nothing but a short off-site link (a ``<li>`` or ``<p>``
# of a list injected one anchor a block). Its anchor text covers this share of it...
LINK_ITEM_MIN_SHARE = 0.8
# ...and it is at most this long (characters without spaces): a name or keyword.
LINK_ITEM_MAX_CHARS = 40
# This many link items in a row are a list of backlinks, not article text; real articles
# link other stories on the site, and cite at most one or two sources a paragraph.
LINK_RUN_MIN_BLOCKS = 3

# Vocabulary: off-site anchor text covering this share of the block makes it a link,
# not prose, so one vocabulary hit suffices.
VOCAB_LINKED_MIN_SHARE = 0.5
# A block at least this Chinese is not prose on this English site.
VOCAB_CJK_MIN_SHARE = 0.5
# Outside prose, two different spam terms are needed: a single "Casino revenue" heading
# is news.
VOCAB_BARE_MIN_TERMS = 2
# A run of three different spam terms making up half its words is a keyword run even
# when it has a function word ("Casino, lottery and betting online").
VOCAB_DENSE_MIN_TERMS = 3
VOCAB_DENSE_MIN_SHARE = 0.5

# Prose: at least this many Latin words (shorter texts are headings, bylines, labels).
PROSE_MIN_WORDS = 3

# Keyword stuffing: judged on at least this many content tokens (shorter is a heading).
STUFFING_MIN_TOKENS = 8
# The three most frequent content tokens taking this share means a handful repeated;
# real paragraphs stay below 0.25, stuffed ones sit at 0.7 and above.
STUFFING_MIN_TOP_SHARE = 0.6
# The most frequent tokens that make up "a handful".
STUFFING_TOP_TERMS = 3
# ...and at most half the tokens distinct: short real sentences repeat a name or two
# ("U.S." twice) but stay above 0.6 distinct.
STUFFING_MAX_DISTINCT_SHARE = 0.5
# The same measures are also taken over the block's items (split on spaces, commas, 、,
# pipes, slashes, dashes): Chinese keywords overlap in their character pairs
# ("seo优化 网站优化 快速排名" spreads over seven pairs), but repeat whole as items. Only
# in text with fewer English function words than this share of its words: keyword runs
# have none, prose a third (and the token measure covers English stuffing).
ITEMS_MAX_FUNCTION_SHARE = 0.1

# Page. The question a page rule answers is whether what is left once the spam blocks are
# out is an article. A news block is a clean block of prose (see is_prose) of at least
# this many words, with no pitch word ("you", "claim", "click"…) and no non-newsworthy
# spam term; the leftovers of a spam page are pitches ("Claim your free spins"), slogans
# and labels...
PAGE_NEWS_MIN_WORDS = 6
# ...and news blocks holding this many words in all are an article: a lead, two captions
# (a real story's shortest text, a one-paragraph video lead, has 20 and more). A page
# that keeps them is never spam as a whole, whatever was injected into it; one stray line
# of a spam page ("All rights reserved. Copyright 2024 Lucky88 Group.") is not enough.
PAGE_MIN_NEWS_WORDS = 15
# Without that much news, the page is spam when content spam (vocabulary, off-site links,
# stuffing, lists of spam terms) is a strict majority of its text blocks (by count: a
# Chinese block holds in 12 characters what an English one says in 60)...
PAGE_MIN_SPAM_SHARE = 0.5
# ...or when its body is mostly off-site links: this many off-site anchors at least...
PAGE_MIN_OFFSITE_ANCHORS = 5
# ...whose text is at least this share of the body text...
PAGE_MIN_OFFSITE_TEXT_SHARE = 0.5
# ...or when the body is dense in spam terms: this many hits per 100 Latin words (a real
# offshore-gambling story: 3.7)...
PAGE_MIN_VOCAB_PER_100_WORDS = 5.0
# ...of at least this many distinct terms not newsworthy (news says "gambling", ads say
# "free spins" and "online casino")...
PAGE_MIN_STRONG_TERMS = 2
# ...written as a sales pitch: this many "you", "claim", "bonus", imperatives… per 100
# words (news reports in the third person; a crackdown story can be as dense in terms
# as an ad), or carrying this many content-spam blocks (its links to what it sells)...
PAGE_MIN_PITCH_PER_100_WORDS = 2.0
PAGE_MIN_SELLING_BLOCKS = 2
# ...or when its title is in English spam vocabulary (this many distinct terms, one of
# them not newsworthy: "Casino revenue rises" is a headline, "Casino bonus, free spins"
# is not) over a body that sells: a pitch word, a content-spam block, or no text at all.
# A headline about a crackdown on payday loans heads a body that reports, not sells.
TITLE_MIN_TERMS = 2
# A title at least this Chinese, holding a Chinese spam term, is spam whatever the body:
# the site titles its stories in English.
TITLE_MIN_CJK_SHARE = 0.5

# --- Site hosts ----------------------------------------------------------------------

# Domains of the site's family: their subdomains (image hosts, mirrors) are the site.
SITE_FAMILY_DOMAINS = ("ecns.cn", "cns.com.cn", "chinanews.com", "chinanews.com.cn")
# Social networks are share buttons, not backlinks: their links count for neither side.
NEUTRAL_DOMAINS = (
    "facebook.com",
    "twitter.com",
    "x.com",
    "weibo.com",
    "youtube.com",
    "instagram.com",
    "linkedin.com",
)
# Second-level labels under a country code that belong to the registry (abc.com.cn).
_REGISTRY_LABELS = frozenset({"com", "net", "org", "gov", "edu", "co", "ac"})

_ON, _OFF, _NEUTRAL = 0, 1, 2

# Block reasons that are the page's own content, as opposed to an injection.
_CONTENT_SPAM = frozenset({SPAM_VOCABULARY, OFFSITE_LINKS, KEYWORD_STUFFING})

# --- Patterns ------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*")

# URLs, bare domains and e-mail addresses: their slashes and dots are not list
# separators nor sentence ends.
_URL_RE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*:)?//\S*|\bwww\.\S+|\S+@\S+\.\w+|[^\s/]*\.[a-z]{2,}(?::\d+)?/\S*",
    re.IGNORECASE,
)
_PIPE_RE = re.compile(r"[|｜丨│¦]")
_LIST_SEP_RE = re.compile(r"[|｜丨│¦/／]")
# Items of a Chinese list: spaces, the enumeration comma 、, commas.
_CJK_LIST_SEP_RE = re.compile(r"[\s、，,]+")
# A label before a list ("主站蜘蛛池模板: ", "Links: ").
_LABEL_RE = re.compile(r"^[^:：]{0,20}[:：]\s*")
# A sentence end: Latin mark before a space or the end, or any Chinese full stop.
# (One character class first: the engine then skips to candidates in C, where an
# alternation of two is tried at every position, ~10 µs a paragraph.)
_SENTENCE_END_RE = re.compile(r"[.!?;。！？；](?:(?<=[。！？；])|(?=\s|$|[\"'”’)\]]))")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words: English prose has them, keyword runs and link lists do not.
_FUNCTION_WORDS = _words(
    "a an the of in on at to for from by with and or but is are was were be been has have"
    " had that this these those it its as not will would can could should said says he she"
    " they we his her their our who which than after before over under about into"
)
# Stop words left out of the repetition measure, so "the" and "of" never look stuffed.
_STOP_TOKENS = _FUNCTION_WORDS | _words("s also more most one two")

# Spam vocabulary, matched on lower-cased words (one set look-up a word, no regex
# alternation: a 100-term alternation tried at every position costs ~50 µs a paragraph).
# Newsworthy terms appear in real headlines and news sentences; strong ones (pharma
# brands, adult, loan sharks, casino marketing) almost never do.
# Second person and calls to action: ads address the reader, news reports on others.
_PITCH_WORDS = _words("you your yours claim register signup click bonus bonuses discount cheap")
# Ads also sell in the imperative: a sentence opening with one of these verbs ("Buy
# Viagra online", "Get payday loans", "Watch live cams") is a pitch. News sentences open
# with their subject, and these verbs inside a sentence ("to get", "will buy") are news.
_IMPERATIVES = (
    "buy get play watch meet order apply join download try enjoy win bet save call visit sign"
    " claim register click grab shop discover need"
)
_IMPERATIVE_RE = re.compile(
    rf"(?:^|[.!?]\s+)(?:{'|'.join(_IMPERATIVES.split())})\b",
    re.IGNORECASE,
)
_EN_NEWSWORTHY = _words(
    "casino casinos gambling gambler gamblers lottery lotteries betting poker jackpot"
    " jackpots bookmaker bookmakers pornography pornographic roulette baccarat"
)
_EN_STRONG = _words(
    "sportsbook sportsbooks blackjack lotto bet365 viagra cialis levitra kamagra"
    " sildenafil tadalafil xanax tramadol porn porno pornhub xxx hentai hookup hookups"
)
# Phrases whose words are harmless alone ("online", "free", "cash").
_EN_STRONG_PHRASES = tuple(
    tuple(phrase.split())
    for phrase in (
        "online casino",
        "online casinos",
        "casino bonus",
        "casino bonuses",
        "free spin",
        "free spins",
        "no deposit bonus",
        "slot machine",
        "slot machines",
        "online slot",
        "online slots",
        "online pharmacy",
        "pharmacy online",
        "without prescription",
        "without a prescription",
        "sex cam",
        "sex cams",
        "cam girl",
        "cam girls",
        "call girl",
        "call girls",
        "escort service",
        "escort services",
        "escort girls",
        "escort agency",
        "adult video",
        "adult videos",
        "adult dating",
        "adult site",
        "adult sites",
        "payday loan",
        "payday loans",
        "instant loan",
        "instant loans",
        "quick loan",
        "quick loans",
        "cash advance",
        "no credit check",
        "replica watches",
        "replica handbags",
        "cheap jerseys",
    )
)
_PHRASES_BY_FIRST: dict[str, tuple[tuple[str, ...], ...]] = {}
for _phrase in sorted(_EN_STRONG_PHRASES, key=len, reverse=True):
    _PHRASES_BY_FIRST[_phrase[0]] = (*_PHRASES_BY_FIRST.get(_phrase[0], ()), _phrase[1:])
_CJK_TERMS = (
    # gambling and lottery
    "蜘蛛池",
    "新葡京",
    "葡京娱乐",
    "开元棋牌",
    "棋牌",
    "百家乐",
    "太阳城",
    "六合彩",
    "时时彩",
    "北京赛车",
    "幸运飞艇",
    "彩票",
    "福彩",
    "体彩",
    "双色球",
    "大乐透",
    "彩金",
    "博彩",
    "赌场",
    "赌博",
    "赌球",
    "赌钱",
    "娱乐城",
    "真人视讯",
    "老虎机",
    "电子游艺",
    "投注",
    "下注",
    "威尼斯人",
    "金沙娱乐",
    "皇冠体育",
    "炸金花",
    # pharma
    "伟哥",
    "万艾可",
    "希爱力",
    "犀利士",
    "壮阳",
    "春药",
    "迷药",
    "催情",
    "延时喷剂",
    # adult
    "色情",
    "成人影片",
    "成人视频",
    "成人网站",
    "黄色网站",
    "裸聊",
    "约炮",
    "一夜情",
    "无码",
    "援交",
    "av女优",
    # loans and other black-market trades
    "网贷",
    "小额贷款",
    "无抵押贷款",
    "快速放款",
    "黑户贷款",
    "套现",
    "办证",
    "代开发票",
    "发票代开",
    "代孕",
    "刷单",
)
_CJK_VOCAB_RE = re.compile("|".join(sorted(_CJK_TERMS, key=len, reverse=True)))
# Lower-cased Latin words and digit runs, and CJK runs; in ASCII text the words
# alone are the same words.
_TOKEN_RE = re.compile(rf"[a-z][a-z0-9]*|[0-9]+|[{_CJK}]+")
_LATIN_TOKEN_RE = re.compile(r"[a-z][a-z0-9]*")
_CJK_RUN_RE = re.compile(f"[{_CJK}]+")
# Words counted as pitch (function words are not), words that are no content token
# (stop words, single letters), and the words a spam term or phrase starts with.
_PITCH_NOT_FUNCTION = _PITCH_WORDS - _FUNCTION_WORDS
_NOT_CONTENT = _STOP_TOKENS | frozenset(string.ascii_lowercase)
_VOCABULARY_WORDS = frozenset(_PHRASES_BY_FIRST) | _EN_NEWSWORTHY | _EN_STRONG
_POOL_LITERAL = "蜘蛛池"
# Item boundaries for the repetition of whole items (keyword stuffing), and what is
# trimmed off an item ("live!" is "live").
_ITEM_SPLIT_RE = re.compile(r"[\s,，、;；|｜丨/／]+|\s[-–—]\s")
_ITEM_TRIM = " .。!！?？:：\"'“”‘’()（）-–—"


# --- Features --------------------------------------------------------------------------


class BlockFeatures(NamedTuple):
    """What :func:`classify_block` looks at, measured once per block. (A tuple:
    made for every block of every page, at a fraction of a frozen dataclass's
    cost, which sets each of its 32 fields through ``object.__setattr__``.)"""

    chars: int  # non-space characters of the text
    words: int  # Latin words
    cjk_share: float  # CJK characters / letters, digits and CJK characters
    link_count: int  # anchors, wherever they point
    offsite_links: int  # anchors pointing to another domain
    link_text_share: float  # anchor text characters / text characters (capped at 1)
    offsite_text_share: float  # off-site anchor text characters / text characters
    offsite_vocab: bool  # an off-site anchor's own text holds spam vocabulary
    pool_hosts: int  # most off-site hosts under one registered domain
    separators: int  # pipes and slashes outside URLs
    list_kind: str  # "pipe", "slash", "space" or "" (not list-like)
    list_tokens: int  # items of the list
    short_token_share: float  # items short enough to be a name or keyword
    cjk_token_share: float  # items written in Chinese
    sentence_marks: int  # sentence ends (. ! ? ; 。 ！ ？ ；) outside URLs
    function_words: int  # English function words (the, of, in…)
    pitch_words: int  # second person and calls to action (you, your, claim, bonus…)
    vocab_terms: frozenset[str]  # distinct spam terms, lower-cased
    vocab_hits: int  # spam term occurrences
    strong_terms: frozenset[str]  # those not newsworthy (pharma, adult, loans, Chinese)
    vocab_cjk: bool  # a Chinese spam term
    content_tokens: int  # words and CJK bigrams, stop words left out
    repetition: float  # share of content tokens taken by the few most frequent
    distinct_share: float  # distinct content tokens / content tokens
    items: int  # items split on spaces, commas, 、, |, /, dashes (0: not measured, prose)
    item_repetition: float  # share of the items taken by the few most frequent
    item_distinct_share: float  # distinct items / items
    hidden: bool  # the inline styles hide the block
    pool_literal: bool  # the text says 蜘蛛池
    outside_words: int  # Latin words outside the block's anchors
    outside_function_words: int  # of those, English function words
    offsite_hosts: frozenset[str] = frozenset()  # host names of the off-site anchors

    @property
    def is_prose(self) -> bool:
        """Ordinary English text: mostly Latin, words with function words or a
        sentence end, and not mostly an off-site link."""
        return (
            self.cjk_share < VOCAB_CJK_MIN_SHARE
            and self.words >= PROSE_MIN_WORDS
            and (self.function_words > 0 or self.sentence_marks > 0)
            and self.offsite_text_share < VOCAB_LINKED_MIN_SHARE
        )

    @property
    def is_news(self) -> bool:
        """Prose that reads as news: long enough, addressing nobody, selling nothing
        (see PAGE_NEWS_MIN_WORDS). Only said of blocks kept clean."""
        return (
            self.is_prose
            and self.words >= PAGE_NEWS_MIN_WORDS
            and not self.pitch_words
            and not self.strong_terms
        )

    @property
    def is_link_item(self) -> bool:
        """Nothing but a short off-site link: one item of a list injected one anchor a
        block (see LINK_ITEM_MIN_SHARE)."""
        return (
            self.offsite_links > 0
            and self.offsite_text_share >= LINK_ITEM_MIN_SHARE
            and self.chars <= LINK_ITEM_MAX_CHARS
            and not self.is_prose
        )

    @property
    def links_in_sentence(self) -> bool:
        """The words around the anchors make a sentence (see OFFSITE_SENTENCE_MIN_WORDS)."""
        return self.outside_words >= OFFSITE_SENTENCE_MIN_WORDS and self.outside_function_words > 0


@dataclass(slots=True)
class _Scan:
    """One pass over a text's words: counts, content tokens and spam vocabulary."""

    words: int = 0
    function_words: int = 0
    pitch_words: int = 0
    content: list[str] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)
    hits: int = 0
    strong: set[str] = field(default_factory=set)
    cjk_term: bool = False


def _scan(text: str) -> _Scan:
    """Each count is one pass of C-level set lookups over the words (``map``,
    ``filterfalse``); the ordered walk that matching phrases needs runs only over a
    text holding a vocabulary word (few news paragraphs). A Python step per word of
    every paragraph was most of the spam stage's cost."""
    lower = text.lower()
    scan = _Scan()
    ascii_only = lower.isascii()
    tokens = _LATIN_TOKEN_RE.findall(lower) if ascii_only else _TOKEN_RE.findall(lower)
    words = tokens
    if not ascii_only:
        # Digit runs are not words; a CJK run counts by its character bigrams.
        words = [t for t in tokens if "a" <= t[0] <= "z"]
        for run in _CJK_RUN_RE.findall(lower):
            scan.content.extend([run[j : j + 2] for j in range(len(run) - 1)] or [run])
    scan.words = len(words)
    scan.function_words = sum(map(_FUNCTION_WORDS.__contains__, words))
    scan.pitch_words = sum(map(_PITCH_NOT_FUNCTION.__contains__, words))
    scan.content.extend(filterfalse(_NOT_CONTENT.__contains__, words))
    if not _VOCABULARY_WORDS.isdisjoint(words):
        _match_vocabulary(_TOKEN_RE.findall(lower) if ascii_only else tokens, scan)
    if not ascii_only:
        for m in _CJK_VOCAB_RE.finditer(lower):
            scan.hits += 1
            scan.terms.add(m.group())
            scan.strong.add(m.group())
            scan.cjk_term = True
    if scan.hits:  # imperatives only count where something is for sale
        scan.pitch_words += len(_IMPERATIVE_RE.findall(text))
    return scan


def _match_vocabulary(tokens: Sequence[str], scan: _Scan) -> None:
    """Count the English spam terms and phrases of ``tokens`` (all of the text's,
    in order) into ``scan``; a word of a matched phrase is not a term of its own."""
    skip_until = 0
    for i, tok in enumerate(tokens):
        if i < skip_until or tok in _FUNCTION_WORDS:
            continue
        phrases = _PHRASES_BY_FIRST.get(tok)
        if phrases:
            matched = next(
                (rest for rest in phrases if tuple(tokens[i + 1 : i + 1 + len(rest)]) == rest),
                None,
            )
            if matched is not None:
                scan.hits += 1
                term = " ".join((tok, *matched))
                scan.terms.add(term)
                scan.strong.add(term)
                skip_until = i + 1 + len(matched)
                continue
        if tok in _EN_NEWSWORTHY:
            scan.hits += 1
            scan.terms.add(tok)
        elif tok in _EN_STRONG:
            scan.hits += 1
            scan.terms.add(tok)
            scan.strong.add(tok)


def block_features(block: Block, site_hosts: frozenset[str]) -> BlockFeatures:
    """Measure one block; see :class:`BlockFeatures` for the fields."""
    text = block.text
    chars = len(text) - text.count(" ")
    cjk = 0 if text.isascii() else len(_CJK_RE.findall(text))
    cjk_share = cjk_share_of(text) if cjk else 0.0

    link_chars = offsite_chars = offsite = pool_hosts = 0
    offsite_vocab = False
    off_hosts: set[str] = set()
    off_texts: list[str] = []
    outside = text
    if block.links:
        hosts = _site_hosts(site_hosts)
        for link in block.links:
            if link.text:
                outside = outside.replace(link.text, " ", 1)
            n = len(link.text) - link.text.count(" ")
            link_chars += n
            side, host = _link_side(link.href, hosts)
            if side == _OFF:
                offsite += 1
                offsite_chars += n
                off_hosts.add(host)
                if link.text:
                    off_texts.append(link.text)
        if len(off_hosts) >= SPIDER_POOL_MIN_POOL_HOSTS:
            pool_hosts = max(Counter(_registered_domain(h) for h in off_hosts).values())

    list_text = _URL_RE.sub(" ", text) if ("/" in text or "@" in text) else text
    separators = len(_LIST_SEP_RE.findall(list_text))
    kind, tokens = _list_tokens(list_text, separators, cjk_share)
    short = cjk_tokens = 0
    for token in tokens:
        if _is_short_token(token):
            short += 1
        if cjk and cjk_share_of(token) >= 0.5:
            cjk_tokens += 1
    n_tokens = len(tokens)

    scan = _scan(text)
    if off_texts:
        # Adjacent anchors run together in the block's text ("free spinsjackpot games"):
        # the anchors' own texts, read apart, hold the terms the run hides.
        anchors = _scan(" | ".join(off_texts))
        offsite_vocab = anchors.hits > 0
        if anchors.hits > scan.hits:
            scan.hits = anchors.hits
            scan.terms |= anchors.terms
            scan.strong |= anchors.strong
            scan.cjk_term = scan.cjk_term or anchors.cjk_term
    content = scan.content
    repetition, distinct_share = _repetition(content)
    items: list[str] = []
    if scan.function_words <= ITEMS_MAX_FUNCTION_SHARE * scan.words:
        items = [t for i in _ITEM_SPLIT_RE.split(text.lower()) if (t := i.strip(_ITEM_TRIM))]
    item_repetition, item_distinct_share = _repetition(items)
    if outside is text:
        outside_words, outside_function = scan.words, scan.function_words
    else:
        outside_latin = _LATIN_WORD_RE.findall(outside.lower())
        outside_words = len(outside_latin)
        outside_function = sum(1 for w in outside_latin if w in _FUNCTION_WORDS)

    return BlockFeatures(
        chars=chars,
        words=scan.words,
        cjk_share=cjk_share,
        link_count=len(block.links),
        offsite_links=offsite,
        link_text_share=min(1.0, link_chars / chars) if chars else 0.0,
        offsite_text_share=min(1.0, offsite_chars / chars) if chars else 0.0,
        offsite_vocab=offsite_vocab,
        pool_hosts=pool_hosts,
        separators=separators,
        list_kind=kind,
        list_tokens=n_tokens,
        short_token_share=short / n_tokens if n_tokens else 0.0,
        cjk_token_share=cjk_tokens / n_tokens if n_tokens else 0.0,
        sentence_marks=len(_SENTENCE_END_RE.findall(list_text)),
        function_words=scan.function_words,
        pitch_words=scan.pitch_words,
        vocab_terms=frozenset(scan.terms),
        vocab_hits=scan.hits,
        strong_terms=frozenset(scan.strong),
        vocab_cjk=scan.cjk_term,
        content_tokens=len(content),
        repetition=repetition,
        distinct_share=distinct_share,
        items=len(items),
        item_repetition=item_repetition,
        item_distinct_share=item_distinct_share,
        hidden=bool(block.style) and is_hidden_style(block.style),
        pool_literal=_POOL_LITERAL in text,
        outside_words=outside_words,
        outside_function_words=outside_function,
        offsite_hosts=frozenset(off_hosts),
    )


def _repetition(tokens: Sequence[str]) -> tuple[float, float]:
    """The share of ``tokens`` taken by the STUFFING_TOP_TERMS most frequent, and the
    share of distinct ones; (0, 0) below STUFFING_MIN_TOKENS tokens."""
    if len(tokens) < STUFFING_MIN_TOKENS:
        return 0.0, 0.0
    # The counts alone (not most_common's (token, count) pairs), and the Counter's size
    # for the distinct tokens: it runs twice on every block of every article.
    counts = Counter(tokens)
    top = sorted(counts.values(), reverse=True)[:STUFFING_TOP_TERMS]  # (C, not heapq)
    return sum(top) / len(tokens), len(counts) / len(tokens)


def cjk_share_of(text: str) -> float:
    """CJK characters / letters, digits and CJK characters of ``text``: punctuation left
    out, so a Chinese list separated by ，and 、 reads as Chinese as one with spaces."""
    if text.isascii():  # (most titles and blocks)
        return 0.0
    n = sum(1 for ch in text if ch.isalnum())
    return len(_CJK_RE.findall(text)) / n if n else 0.0


def _list_tokens(text: str, separators: int, cjk_share: float) -> tuple[str, list[str]]:
    """The items of ``text`` read as a list: split on pipes or slashes when there are
    enough of them, else on spaces, 、 and commas when the text is Chinese."""
    if separators >= SPIDER_POOL_MIN_TOKENS - 1:
        kind = "pipe" if len(_PIPE_RE.findall(text)) * 2 >= separators else "slash"
        parts = _LIST_SEP_RE.split(_LABEL_RE.sub("", text, count=1))
    elif cjk_share >= 1 - VOCAB_CJK_MIN_SHARE / 2 and len(_CJK_LIST_SEP_RE.findall(text)) >= 2:
        kind = "space"
        parts = _CJK_LIST_SEP_RE.split(_LABEL_RE.sub("", text, count=1))
    else:
        return "", []
    return kind, [t for t in (p.strip() for p in parts) if t]


def _is_short_token(token: str) -> bool:
    """A name or keyword: few words or few characters, no sentence inside, and
    made of letters (digits alone are numbers, dates, ratios)."""
    if _SENTENCE_END_RE.search(token.rstrip(".")):
        return False
    cjk = len(_CJK_RE.findall(token))
    if cjk:
        return cjk <= LIST_TOKEN_MAX_CJK_CHARS and len(token) <= 2 * LIST_TOKEN_MAX_CJK_CHARS
    words = _LATIN_WORD_RE.findall(token)
    return 0 < len(words) <= LIST_TOKEN_MAX_WORDS


@lru_cache(maxsize=64)
def _site_hosts(site_hosts: frozenset[str]) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in site_hosts if h.strip())


@lru_cache(maxsize=4096)
def _link_side(href: str, hosts: frozenset[str]) -> tuple[int, str]:
    """Whether ``href`` points to the site, off it, or neither (no host: mailto,
    javascript, fragments; social share buttons), with its host name."""
    try:
        parts = urlsplit(href.strip())
        netloc = parts.netloc.lower().rsplit("@", 1)[-1]
        hostname = (parts.hostname or "").rstrip(".")
    except ValueError:
        return _NEUTRAL, ""
    if not hostname or parts.scheme not in ("http", "https", ""):
        return _NEUTRAL, ""
    if netloc in hosts or hostname in hosts:
        return _ON, hostname
    if _in_domains(hostname, SITE_FAMILY_DOMAINS) or _in_domains(hostname, hosts):
        return _ON, hostname
    if _in_domains(hostname, NEUTRAL_DOMAINS):
        return _NEUTRAL, hostname
    return _OFF, hostname


def _in_domains(hostname: str, domains: Iterable[str]) -> bool:
    return any(hostname == d or hostname.endswith("." + d) for d in domains)


def _registered_domain(hostname: str) -> str:
    """The registrable part of a host name, approximately: ``tqx.abc123.cn`` gives
    ``abc123.cn``, ``a.b.com.cn`` gives ``b.com.cn``."""
    labels = hostname.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _REGISTRY_LABELS:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


# --- Verdicts ----------------------------------------------------------------------------


def classify_block(block: Block, site_hosts: frozenset[str]) -> Verdict:
    """Judge one body block; the first rule that holds names the reason."""
    if not block.text and not block.links and not block.images:
        return CLEAN
    return verdict_from_features(block_features(block, site_hosts))


def verdict_from_features(f: BlockFeatures) -> Verdict:
    """The rules of :func:`classify_block`, in order, over measured features."""
    if f.hidden:
        return Verdict(True, HIDDEN)
    if f.chars == 0:
        return CLEAN
    if _is_spider_pool(f):
        return Verdict(True, SPIDER_POOL)
    if _is_vocabulary_spam(f):
        return Verdict(True, SPAM_VOCABULARY)
    if (
        f.offsite_links >= OFFSITE_MIN_ANCHORS
        and f.offsite_text_share >= OFFSITE_MIN_TEXT_SHARE
        and not f.links_in_sentence
    ):
        return Verdict(True, OFFSITE_LINKS)
    if _is_stuffed(f.repetition, f.distinct_share) or _is_stuffed(
        f.item_repetition, f.item_distinct_share
    ):
        return Verdict(True, KEYWORD_STUFFING)
    return CLEAN


def _is_stuffed(repetition: float, distinct_share: float) -> bool:
    """A handful of terms repeated (both shares are 0 below STUFFING_MIN_TOKENS)."""
    return (
        repetition >= STUFFING_MIN_TOP_SHARE and 0.0 < distinct_share <= STUFFING_MAX_DISTINCT_SHARE
    )


def _is_spider_pool(f: BlockFeatures) -> bool:
    if f.pool_literal or f.pool_hosts >= SPIDER_POOL_MIN_POOL_HOSTS:
        return True
    if not f.list_kind or f.short_token_share < SPIDER_POOL_MIN_SHORT_SHARE:
        return False
    # A pool lists many different names; a handful repeated is keyword stuffing.
    if _is_stuffed(f.item_repetition, f.item_distinct_share):
        return False
    # Links all on the site make the list the site's own navigation.
    if f.link_count and f.offsite_links == 0 and f.link_text_share >= OFFSITE_MIN_TEXT_SHARE:
        return False
    linked = f.offsite_links * 2 >= f.list_tokens
    if f.list_kind == "space":
        return f.list_tokens >= SPIDER_POOL_MIN_SPACE_TOKENS and f.sentence_marks <= 1
    if f.list_tokens < SPIDER_POOL_MIN_TOKENS or f.sentence_marks > 1:
        return False
    # A Latin list without off-site links or spam terms is harmless text ("Links | About
    # Us | Jobs", tags): the site's own chrome uses pipes too.
    return f.cjk_token_share >= SPIDER_POOL_MIN_CJK_TOKEN_SHARE or linked or bool(f.vocab_terms)


def _is_vocabulary_spam(f: BlockFeatures) -> bool:
    if not f.vocab_hits:
        return False
    if f.offsite_vocab or f.offsite_text_share >= VOCAB_LINKED_MIN_SHARE:
        return True
    if f.vocab_cjk and f.cjk_share >= VOCAB_CJK_MIN_SHARE:
        return True
    n_terms = len(f.vocab_terms)
    if n_terms >= VOCAB_DENSE_MIN_TERMS and f.vocab_hits >= VOCAB_DENSE_MIN_SHARE * f.words:
        return True
    return not f.is_prose and n_terms >= VOCAB_BARE_MIN_TERMS


@dataclass(frozen=True)
class PageJudgement:
    """The verdict on a page, and on each of its blocks in order (measured once).

    ``kept`` holds, for each block, what of it is delivered: the block itself when it
    is clean; a spam block with its off-site spam anchors and their pitch cut out
    when what is left is a paragraph of the article (see :func:`cut_spam_anchors`);
    None when the block goes.
    """

    page: Verdict
    blocks: tuple[Verdict, ...]
    kept: tuple[Block | None, ...] = ()


def classify_page(title: str, blocks: Sequence[Block], site_hosts: frozenset[str]) -> Verdict:
    """Judge a whole page; see :func:`judge_page`."""
    return judge_page(title, blocks, site_hosts).page


def judge_page(title: str, blocks: Sequence[Block], site_hosts: frozenset[str]) -> PageJudgement:
    """Judge each block, then the page as a whole.

    Blocks are judged alone (:func:`verdict_from_features`), then in context: a run of
    LINK_RUN_MIN_BLOCKS or more blocks that are each nothing but a short off-site link
    is a list of backlinks injected one anchor a block (``<ul><li><a>…``), and all of
    it is spam. A spam block that is a real paragraph with spam anchors slipped in keeps
    its own text once they are cut out (:func:`cut_spam_anchors`; ``kept``).

    The page is spam when its title is Chinese with a spam term, or when too little news
    (see PAGE_MIN_NEWS_WORDS) is left once the spam is out and one of these
    holds: its title is in English spam vocabulary over a body that sells, content spam
    is most of its text, off-site links are most of its text, or its text is a pitch
    dense in spam terms. A page
    that keeps its news is a real article with an injection: its spam blocks go and
    its text stays. Hidden blocks and plain spider-pool lists never make a page spam:
    they are what hacked servers inject into real pages.
    """
    features = [block_features(b, site_hosts) if b.text else None for b in blocks]
    verdicts = [
        verdict_from_features(f) if f is not None else classify_block(b, site_hosts)
        for b, f in zip(blocks, features, strict=True)
    ]
    _flag_link_runs(blocks, features, verdicts)
    kept: list[Block | None] = list(blocks)
    news = list(features)  # what the page rules count as the block's news
    for i, (block, verdict) in enumerate(zip(blocks, verdicts, strict=True)):
        if not verdict.spam:
            continue
        kept[i] = news[i] = None
        if verdict.reason != HIDDEN and block.links:
            cut = cut_spam_anchors(block, site_hosts)
            if cut is not None:
                kept[i], news[i] = cut
    spam = _page_is_spam(_scan(title), cjk_share_of(title), features, verdicts, news)
    return PageJudgement(Verdict(True, SPAM_PAGE) if spam else CLEAN, tuple(verdicts), tuple(kept))


def _flag_link_runs(
    blocks: Sequence[Block], features: Sequence[BlockFeatures | None], verdicts: list[Verdict]
) -> None:
    """Mark runs of link items (see LINK_RUN_MIN_BLOCKS) as spam, in place: a spider
    pool when the run's hosts are throw-away subdomains of one domain or its items
    are Chinese, else off-site links. Blocks with neither text nor images do not
    break a run; an image does."""
    run: list[int] = []
    for i in [*range(len(blocks)), -1]:
        f = features[i] if i >= 0 else None
        if f is not None and f.is_link_item:
            run.append(i)
            continue
        if i >= 0 and f is None and not blocks[i].images:
            continue
        if len(run) >= LINK_RUN_MIN_BLOCKS:
            items = [features[j] for j in run]
            hosts = {h for item in items if item for h in item.offsite_hosts}
            domains = Counter(_registered_domain(h) for h in hosts)
            cjk = sum(1 for item in items if item and item.cjk_share >= VOCAB_CJK_MIN_SHARE)
            throwaway = max(domains.values(), default=0) >= SPIDER_POOL_MIN_POOL_HOSTS
            reason = SPIDER_POOL if throwaway or cjk * 2 >= len(run) else OFFSITE_LINKS
            for j in run:
                if not verdicts[j].spam:
                    verdicts[j] = Verdict(True, reason)
        run = []


def _page_is_spam(
    title: _Scan,
    title_cjk_share: float,
    features: Sequence[BlockFeatures | None],
    verdicts: Sequence[Verdict],
    kept: Sequence[BlockFeatures | None],
) -> bool:
    """The page rules of :func:`judge_page`, over measured blocks and their verdicts;
    ``kept`` measures what of each block is delivered (None: nothing). A spam block
    whose spam anchors were cut out is measured by what is left of it: the page is
    judged on what it would deliver, not on the injection."""
    if title.cjk_term and title_cjk_share >= TITLE_MIN_CJK_SHARE:
        return True
    text_blocks = spam_blocks = text_chars = 0
    offsite = offsite_chars = words = vocab_hits = news_words = pitch = 0
    strong: set[str] = set()
    for f, verdict, delivered in zip(features, verdicts, kept, strict=True):
        if f is None:
            continue
        if delivered is not None:
            if verdict.spam:  # what is left once its spam anchors are cut out
                f, verdict = delivered, CLEAN
            if f.is_news:
                news_words += f.words
        text_blocks += 1
        text_chars += f.chars
        offsite += f.offsite_links
        offsite_chars += round(f.offsite_text_share * f.chars)
        words += f.words
        vocab_hits += f.vocab_hits
        pitch += f.pitch_words
        strong |= f.strong_terms
        if verdict.reason in _CONTENT_SPAM or (f.vocab_hits and verdict.reason == SPIDER_POOL):
            spam_blocks += 1
    if news_words >= PAGE_MIN_NEWS_WORDS:
        return False  # a real article remains: drop its spam blocks, keep the rest
    title_is_spam = len(title.terms) >= TITLE_MIN_TERMS and bool(title.strong)
    if title_is_spam and (not text_chars or pitch or spam_blocks):
        return True
    if not text_chars:
        return False
    return (
        spam_blocks > PAGE_MIN_SPAM_SHARE * text_blocks
        or (
            offsite >= PAGE_MIN_OFFSITE_ANCHORS
            and offsite_chars >= PAGE_MIN_OFFSITE_TEXT_SHARE * text_chars
        )
        or (
            len(strong) >= PAGE_MIN_STRONG_TERMS
            and vocab_hits * 100 >= PAGE_MIN_VOCAB_PER_100_WORDS * max(words, 1)
            and (
                pitch * 100 >= PAGE_MIN_PITCH_PER_100_WORDS * max(words, 1)
                or spam_blocks >= PAGE_MIN_SELLING_BLOCKS
            )
        )
    )


# --- Spam cut out of a paragraph ---------------------------------------------------------

# What is left once more spam anchors than this are cut out must be prose to be kept: a
# heading or a short line with an anchor or two slipped in is the article's, the names
# left between the anchors of a spider pool ("Zhang | <a>…</a> | Haibei") are not.
CUT_MAX_ANCHORS_OUTSIDE_PROSE = 2

# A hacked page slips an off-site anchor into the site's own paragraphs, often with a few
# words selling it: "Play now at <a>…</a>!", "<a>…</a> - sign up today". The anchor goes
# with the run of selling words around it. What makes a word part of such a run: spam
# vocabulary and pitch words wherever they stand, an imperative where it opens a sentence
# or a clause...
# ("you" and "your" are not among them: quotes in news address people too.)
_RUN_TRIGGERS = _EN_NEWSWORTHY | _EN_STRONG | (_PITCH_WORDS - _words("you your yours"))
_RUN_IMPERATIVES = _words(_IMPERATIVES)
# ...and the words a pitch strings them together with. These go only as far as the
# farthest word above, or when nothing else is left of their sentence ("today!").
_RUN_GLUE = _FUNCTION_WORDS | _words(
    "now here today best top free online real money big new great site sites website game"
    " games win more up out our spin spins slot slots deposit welcome exclusive official cash"
    " jackpot prize prizes odds player players see check also read link links partner"
    " partners sponsor sponsors sponsored recommended friends ad ads you your yours"
)
_RUN_WORDS = _RUN_TRIGGERS | _RUN_IMPERATIVES | _RUN_GLUE
# Words no sentence ends with: a cut that leaves one with nothing but run words after it
# has left a pitch without its object ("For more, see the <a>…</a> today."), and the
# sentence goes.
_DANGLING = _words("the a an our your my their this these those at of from with via")
_RUN_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# What may stand between the words of a run: spaces, commas, colons, dashes, pipes.
_RUN_GAP_RE = re.compile(r"[\s,，、:：|｜/／·&+\-–—]*")
# The end of a sentence or of the text after a run: its gap, its end mark.
_RUN_END_RE = re.compile(r"[\s,，、:：|｜/／·&+\-–—]*(?P<mark>[.!?。！？]+|$)")
_SENTENCE_BOUND_RE = re.compile(r"[.!?;。！？；](?:(?<=[。！？；])|(?=\s|$|[\"'”’)\]]))[\"'”’)\]]*")
# Punctuation a cut may leave behind. Separators go when nothing follows them; closing
# marks attach to the word before; brackets and quotes emptied by the cut go.
_CUT_SEPARATORS = ",;:|/-–—·、，；：｜／ "
_CUT_SENTENCE_ENDS = ".!?。！？"
_CUT_APART = "|/-–—·｜／ "
_CUT_CLOSERS = ".,;:!?)]}”’。，；：！？、）"
_CUT_OPENERS = "([{“‘（"
_CUT_PAIRS = {"(": ")", "[": "]", "{": "}", "“": "”", "‘": "’", "（": "）", '"': '"'}


def cut_spam_anchors(
    block: Block, site_hosts: frozenset[str]
) -> tuple[Block, BlockFeatures] | None:
    """The block with its off-site spam anchors and their pitch cut out, and its
    features, when what is left is a paragraph of the article; None when it is not.

    Spam anchors are the off-site ones whose own text holds spam vocabulary or whose
    host is one of a pool (SPIDER_POOL_MIN_POOL_HOSTS subdomains of one domain), and
    the off-site anchors next to them. Each goes with the selling words around it
    (see _RUN_TRIGGERS), and a sentence goes whole when nothing but such words, or a
    word that cannot end it, is left of it: a pitch wrapped around its anchor is not
    the article's. What is left is kept when it is clean, not mostly Chinese (not
    prose on this English site), reads as news if it still names spam terms, and is
    prose unless at most CUT_MAX_ANCHORS_OUTSIDE_PROSE anchors were cut (a heading
    with an anchor appended is the article's; what a list of anchors leaves is not).
    """
    text = block.text
    spans, anchors = _spam_anchor_spans(block, site_hosts)
    if not spans:
        return None
    words = list(_RUN_WORD_RE.finditer(text))
    cuts = [_extend_over_run(text, words, start, end) for start, end in spans]
    cuts = _merge_spans(cuts + _broken_sentences(text, words, cuts))
    pieces = []
    position = 0
    for start, end in cuts:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    kept_text = pieces[0]
    for piece in pieces[1:]:
        kept_text = _join_cut(kept_text, piece)
    kept_text = " ".join(kept_text.split())
    if not kept_text:
        return None
    links = []  # the anchors the cuts left (their places in the new text unknown)
    for link in block.links:
        start, end = _link_span(text, link)
        if start >= 0 and not any(s < end and start < e for s, e in cuts):
            links.append(Link(link.href, link.text))
    kept = Block(text=kept_text, links=tuple(links), style=block.style, images=block.images)
    f = block_features(kept, site_hosts)
    if (
        verdict_from_features(f).spam
        or f.cjk_share >= VOCAB_CJK_MIN_SHARE
        or (f.vocab_hits and not f.is_news)
        or (anchors > CUT_MAX_ANCHORS_OUTSIDE_PROSE and not f.is_prose)
    ):
        return None
    return kept, f


def _link_span(text: str, link: Link) -> tuple[int, int]:
    """Where the link's text stands in the block's text: its recorded place, or (for a
    link made by hand) the first occurrence; (-1, -1) when it is not there."""
    if 0 <= link.start <= link.end <= len(text) and text[link.start : link.end] == link.text:
        return link.start, link.end
    found = text.find(link.text) if link.text else -1
    return (found, found + len(link.text)) if found >= 0 else (-1, -1)


def _spam_anchor_spans(
    block: Block, site_hosts: frozenset[str]
) -> tuple[list[tuple[int, int]], int]:
    """Where the block's spam anchors stand in its text (see cut_spam_anchors), merged
    where only separators or run words stand between them; and how many they are."""
    hosts = _site_hosts(site_hosts)
    offsite: list[tuple[int, int, str, str]] = []  # start, end, host, text
    for link in block.links:
        side, host = _link_side(link.href, hosts)
        if side != _OFF or not link.text:
            continue
        start, end = _link_span(block.text, link)
        if start >= 0:
            offsite.append((start, end, host, link.text))
    if not offsite:
        return [], 0
    domains = Counter(_registered_domain(h) for h in {host for _, _, host, _ in offsite})
    pools = {d for d, n in domains.items() if n >= SPIDER_POOL_MIN_POOL_HOSTS}
    spam = [
        (s, e)
        for s, e, host, text in offsite
        if _scan(text).hits or _registered_domain(host) in pools
    ]
    if not spam:
        return [], 0
    # Off-site anchors right next to spam ones are of the same injection.
    others = sorted((s, e) for s, e, _, _ in offsite if (s, e) not in spam)
    grown = True
    while grown and others:
        grown = False
        for other in others:
            if any(_joinable(block.text, *sorted((other, s))) for s in spam):
                spam.append(other)
                others.remove(other)
                grown = True
                break
    spans = _merge_spans(spam)
    merged = [spans[0]]
    for start, end in spans[1:]:
        if _joinable(block.text, merged[-1], (start, end)):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged, len(spam)


def _joinable(text: str, first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether only separators and run words stand between two spans."""
    gap = text[first[1] : second[0]]
    if first[1] > second[0]:
        return True
    rest = _RUN_WORD_RE.sub(lambda m: " " if m.group().lower() in _RUN_WORDS else "\0", gap)
    return bool(_RUN_GAP_RE.fullmatch(rest))


def _merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _opens_clause(text: str, position: int) -> bool:
    """Whether a word at ``position`` opens the text, a sentence or a clause (after a
    colon, a pipe, or a dash set off by spaces)."""
    before = text[:position].rstrip(" \"'“‘(")
    if not before:
        return True
    last = before[-1]
    if last in ".!?。！？:：|｜":
        return True
    return last in "-–—" and (len(before) < 2 or before[-2].isspace())


def _is_trigger(text: str, word: re.Match[str]) -> bool:
    """A word of a pitch: spam vocabulary, a pitch word, or an imperative that opens a
    clause or is capitalized ("(Photo/Xinhua) Play now at")."""
    lower = word.group().lower()
    return lower in _RUN_TRIGGERS or (
        lower in _RUN_IMPERATIVES
        and (word.group()[0].isupper() or _opens_clause(text, word.start()))
    )


def _extend_over_run(
    text: str, words: Sequence[re.Match[str]], start: int, end: int
) -> tuple[int, int]:
    """The span grown over the run words next to it, as far as the farthest trigger
    on each side (see _RUN_TRIGGERS), never past a sentence's end. A run with a
    trigger takes the glue words between it and its sentence's start ("Now at") or
    end ("sign up today"), and an exclamation mark ending it, which is the pitch's
    (a full stop may be the sentence's, and stays)."""
    new_start = cursor = start
    triggered = False
    for word in reversed([w for w in words if w.end() <= start]):
        if not _RUN_GAP_RE.fullmatch(text, word.end(), cursor):
            break
        if word.group().lower() not in _RUN_WORDS:
            break
        if _is_trigger(text, word):
            new_start, triggered = word.start(), True
        cursor = word.start()
    if triggered and _opens_clause(text, cursor):
        new_start = cursor
    left_pitch = triggered
    new_end = cursor = end
    triggered = False
    for word in (w for w in words if w.start() >= end):
        if not _RUN_GAP_RE.fullmatch(text, cursor, word.start()):
            break
        if word.group().lower() not in _RUN_WORDS:
            break
        if _is_trigger(text, word):
            new_end, triggered = word.end(), True
        cursor = word.end()
    if not triggered:
        cursor = end
    if (triggered or left_pitch) and (m := _RUN_END_RE.match(text, cursor)):
        exclaims = "!" in m.group("mark") or "！" in m.group("mark")
        new_end = m.end() if exclaims else max(new_end, m.start("mark"))
    return new_start, new_end


def _broken_sentences(
    text: str, words: Sequence[re.Match[str]], cuts: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The sentences a cut leaves broken: nothing but run words left of them, or a
    word that cannot end a sentence (see _DANGLING) left right before their end."""
    # A sentence ends after its end mark and the closing quotes or brackets after it.
    bounds = [0, *(m.end() for m in _SENTENCE_BOUND_RE.finditer(text)), len(text)]
    broken = []
    for a, b in pairwise(bounds):
        inside = [(max(s, a), min(e, b)) for s, e in cuts if s < b and e > a]
        if not inside:
            continue
        left = [
            w
            for w in words
            if a <= w.start() < b and not any(s <= w.start() < e for s, e in inside)
        ]
        if not any(w.group().lower() not in _RUN_WORDS for w in left):
            broken.append((a, b))
            continue
        for s, e in inside:
            before = [w for w in left if w.end() <= s]
            after = [w for w in left if w.start() >= e]
            if (
                before
                and before[-1].group().lower() in _DANGLING
                and all(w.group().lower() in _RUN_WORDS for w in after)
            ):
                broken.append((a, b))
                break
    return broken


def _join_cut(left: str, right: str) -> str:
    """The text on both sides of a cut joined as a reader expects: one space, no
    separator left hanging, no bracket or quote left empty, no doubled full stop."""
    left, right = left.rstrip(), right.lstrip()
    while left and right and left[-1] in _CUT_PAIRS and right[0] == _CUT_PAIRS[left[-1]]:
        left, right = left[:-1].rstrip(), right[1:].lstrip()
    if not left:
        return right.lstrip(_CUT_SEPARATORS + _CUT_SENTENCE_ENDS)
    if not right:  # what ends the paragraph before an appended anchor is its own
        return left.rstrip(_CUT_APART)
    if right[0] in _CUT_CLOSERS or right[0] in _CUT_SEPARATORS or _closes_quote(right):
        left = left.rstrip(_CUT_SEPARATORS)
        if not left or left[-1] in _CUT_SENTENCE_ENDS:
            right = right.lstrip(_CUT_SEPARATORS + _CUT_SENTENCE_ENDS)
            return f"{left} {right}".strip()
        # A dash, pipe or slash stands apart; a comma or a full stop attaches.
        return left + right if right[0] not in _CUT_APART else f"{left} {right}"
    if left[-1] in _CUT_OPENERS or (left[-1] == '"' and (len(left) == 1 or left[-2].isspace())):
        return left + right
    return f"{left} {right}"


def _closes_quote(text: str) -> bool:
    """A straight double quote that closes (a space, a mark or the end after it)."""
    return text[0] == '"' and (len(text) == 1 or text[1].isspace() or text[1] in _CUT_CLOSERS)
