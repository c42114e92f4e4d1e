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
first reason that holds. :func:`classify_page` judges the page as a whole from
its title and its blocks' verdicts.

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
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from newscrawl.items import Block

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

# Hidden styles: offsets this far off-screen hide text; real layouts nudge by a few px/em.
OFFSCREEN_MIN_PX = 500.0
# The same in em/rem (500px at the usual 16px font size is about 30em).
OFFSCREEN_MIN_EM = 30.0

# Spider pool: a list needs this many items; sentences rarely hold 5 pipe/slash items.
SPIDER_POOL_MIN_TOKENS = 5
# Space-separated Chinese lists need more items: 4-5 space-separated phrases can be verse.
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
# Half the items ending in 县/市/区/旗… makes a space-separated list a place-name pool.
SPIDER_POOL_MIN_PLACE_SHARE = 0.5
# Off-site subdomains of one registered domain that mark a pool of throw-away hosts
# (a spam farm mints one subdomain per keyword; real citations repeat one host).
SPIDER_POOL_MIN_POOL_HOSTS = 3

# Off-site anchors: a cluster starts at three links (one or two are citations).
OFFSITE_MIN_ANCHORS = 3
# ...and their text must make up most of the block: prose with a link stays prose.
OFFSITE_MIN_TEXT_SHARE = 0.5

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

# Page: a strict majority of text blocks, by count and by characters, content spam
# (vocabulary, off-site links, stuffing: what a spam page is made of)...
PAGE_MIN_SPAM_SHARE = 0.5
# ...unless this much clean text remains: then it is a real article with an injection.
PAGE_MAX_CLEAN_CHARS = 400
# Body mostly off-site links: this many off-site anchors at least...
PAGE_MIN_OFFSITE_ANCHORS = 5
# ...whose text is at least this share of the body text.
PAGE_MIN_OFFSITE_TEXT_SHARE = 0.5
# A title with a non-newsworthy spam term over a body dense in spam terms: at least
# this many distinct terms in the body (a gambling-crackdown story repeats one or two)...
PAGE_MIN_VOCAB_TERMS = 4
# ...this many of them not newsworthy (news says "gambling", ads say "free spins")...
PAGE_MIN_STRONG_TERMS = 2
# ...at this many hits per 100 Latin words (a real offshore-gambling story: 3.7)...
PAGE_MIN_VOCAB_PER_100_WORDS = 5.0
# ...written as a sales pitch: this many "you", "claim", "bonus"… per 100 words (news
# reports in the third person; a crackdown story can be as dense in terms as an ad).
PAGE_MIN_PITCH_PER_100_WORDS = 2.0
# A title needs this many distinct English spam terms, one of them not newsworthy
# ("Casino revenue rises" is a headline; "Casino bonus, free spins" is not).
TITLE_MIN_TERMS = 2

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
# A label before a list ("主站蜘蛛池模板: ", "Links: ").
_LABEL_RE = re.compile(r"^[^:：]{0,20}[:：]\s*")
# A sentence end: Latin mark before a space or the end, or any Chinese full stop.
_SENTENCE_END_RE = re.compile(r"[.!?;](?=\s|$|[\"'”’)\]])|[。！？；]")
_PLACE_SUFFIX_RE = re.compile(f"[{_CJK}](?:县|市|区|旗|镇|乡|州|省|盟)$")

# Styles that hide a block.
_DISPLAY_NONE_RE = re.compile(r"(?:^|[;\s])display\s*:\s*none\b", re.IGNORECASE)
_VISIBILITY_RE = re.compile(r"(?:^|[;\s])visibility\s*:\s*(\w+)", re.IGNORECASE)
_FONT_SIZE_RE = re.compile(r"(?:^|[;\s])font-size\s*:\s*([0-9.]+)", re.IGNORECASE)
_ZERO_BOX_RE = re.compile(r"(?:^|[;\s])(?:max-)?(?:height|width)\s*:\s*0(?:\.0*)?(?![0-9.])", re.I)
_OVERFLOW_HIDDEN_RE = re.compile(r"(?:^|[;\s])overflow(?:-[xy])?\s*:\s*hidden\b", re.IGNORECASE)
_OPACITY_ZERO_RE = re.compile(r"(?:^|[;\s])opacity\s*:\s*0(?:\.0*)?(?![0-9.])", re.IGNORECASE)
_OFFSET_RE = re.compile(
    r"(?:^|[;\s])(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\s*([0-9.]+)\s*(px|em|rem)?",
    re.IGNORECASE,
)


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
# Lower-cased Latin words and digit runs, and CJK runs.
_TOKEN_RE = re.compile(rf"[a-z][a-z0-9]*|[0-9]+|[{_CJK}]+")
_POOL_LITERAL = "蜘蛛池"


# --- Features --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockFeatures:
    """What :func:`classify_block` looks at, measured once per block."""

    chars: int  # non-space characters of the text
    words: int  # Latin words
    cjk_share: float  # CJK characters / non-space characters
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
    place_token_share: float  # items ending in a place suffix (县, 市, 区, 旗…)
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
    hidden: bool  # the inline styles hide the block
    pool_literal: bool  # the text says 蜘蛛池

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
    lower = text.lower()
    scan = _Scan()
    content = scan.content
    tokens = _TOKEN_RE.findall(lower)
    skip_until = 0
    for i, tok in enumerate(tokens):
        first = tok[0]
        if first >= "\u3400":  # a CJK run: character bigrams
            if len(tok) == 1:
                content.append(tok)
            else:
                content.extend([tok[j : j + 2] for j in range(len(tok) - 1)])
            continue
        if first <= "9":  # digits
            continue
        scan.words += 1
        if tok in _FUNCTION_WORDS:
            scan.function_words += 1
            continue
        if tok in _PITCH_WORDS:
            scan.pitch_words += 1
        if tok not in _STOP_TOKENS and len(tok) > 1:
            content.append(tok)
        if i < skip_until:
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
    if not lower.isascii():
        for m in _CJK_VOCAB_RE.finditer(lower):
            scan.hits += 1
            scan.terms.add(m.group())
            scan.strong.add(m.group())
            scan.cjk_term = True
    return scan


def block_features(block: Block, site_hosts: frozenset[str]) -> BlockFeatures:
    """Measure one block; see :class:`BlockFeatures` for the fields."""
    text = block.text
    chars = len(text) - text.count(" ")
    cjk = 0 if text.isascii() else len(_CJK_RE.findall(text))
    cjk_share = cjk / chars if chars else 0.0

    link_chars = offsite_chars = offsite = pool_hosts = 0
    offsite_vocab = False
    if block.links:
        hosts = _site_hosts(site_hosts)
        off_hosts: set[str] = set()
        for link in block.links:
            n = len(link.text) - link.text.count(" ")
            link_chars += n
            side, host = _link_side(link.href, hosts)
            if side == _OFF:
                offsite += 1
                offsite_chars += n
                off_hosts.add(host)
                if not offsite_vocab and link.text and _scan(link.text).hits:
                    offsite_vocab = True
        if len(off_hosts) >= SPIDER_POOL_MIN_POOL_HOSTS:
            pool_hosts = max(Counter(_registered_domain(h) for h in off_hosts).values())

    list_text = _URL_RE.sub(" ", text) if ("/" in text or "@" in text) else text
    separators = len(_LIST_SEP_RE.findall(list_text))
    kind, tokens = _list_tokens(list_text, separators, cjk_share)
    short = cjk_tokens = places = 0
    for token in tokens:
        if _is_short_token(token):
            short += 1
        if cjk and cjk_share_of(token) >= 0.5:
            cjk_tokens += 1
            if _PLACE_SUFFIX_RE.search(token):
                places += 1
    n_tokens = len(tokens)

    scan = _scan(text)
    content = scan.content
    repetition = distinct_share = 0.0
    if len(content) >= STUFFING_MIN_TOKENS:
        top = Counter(content).most_common(STUFFING_TOP_TERMS)
        repetition = sum(c for _, c in top) / len(content)
        distinct_share = len(set(content)) / len(content)

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
        place_token_share=places / n_tokens if n_tokens else 0.0,
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
        hidden=bool(block.style) and is_hidden_style(block.style),
        pool_literal=_POOL_LITERAL in text,
    )


def cjk_share_of(text: str) -> float:
    """CJK characters / non-space characters of ``text``."""
    n = len(text) - text.count(" ")
    return len(_CJK_RE.findall(text)) / n if n else 0.0


def is_hidden_style(style: str) -> bool:
    """Whether inline styles (outermost first, ``;``-joined) hide the element:
    ``display:none``, ``visibility:hidden``, ``font-size:0``, ``opacity:0``, a zero
    height or width with ``overflow:hidden``, or a large negative offset."""
    if _DISPLAY_NONE_RE.search(style) or _OPACITY_ZERO_RE.search(style):
        return True
    # An inner element can undo visibility and font size: the last declaration wins.
    visibility = _VISIBILITY_RE.findall(style)
    if visibility and visibility[-1].lower() in ("hidden", "collapse"):
        return True
    sizes = _FONT_SIZE_RE.findall(style)
    if sizes and _as_float(sizes[-1]) == 0.0:
        return True
    if _ZERO_BOX_RE.search(style) and _OVERFLOW_HIDDEN_RE.search(style):
        return True
    for number, unit in _OFFSET_RE.findall(style):
        value = _as_float(number)
        limit = OFFSCREEN_MIN_PX if unit.lower() in ("", "px") else OFFSCREEN_MIN_EM
        if value is not None and value >= limit:
            return True
    return False


def _as_float(number: str) -> float | None:
    try:
        return float(number)
    except ValueError:
        return None


def _list_tokens(text: str, separators: int, cjk_share: float) -> tuple[str, list[str]]:
    """The items of ``text`` read as a list: split on pipes or slashes when there are
    enough of them, else on spaces when the text is Chinese."""
    if separators >= SPIDER_POOL_MIN_TOKENS - 1:
        kind = "pipe" if len(_PIPE_RE.findall(text)) * 2 >= separators else "slash"
        parts = _LIST_SEP_RE.split(_LABEL_RE.sub("", text, count=1))
    elif cjk_share >= 1 - VOCAB_CJK_MIN_SHARE / 2 and text.count(" ") >= 2:
        kind = "space"
        parts = _LABEL_RE.sub("", text, count=1).split(" ")
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
    if f.offsite_links >= OFFSITE_MIN_ANCHORS and f.offsite_text_share >= OFFSITE_MIN_TEXT_SHARE:
        return Verdict(True, OFFSITE_LINKS)
    if (
        f.content_tokens >= STUFFING_MIN_TOKENS
        and f.repetition >= STUFFING_MIN_TOP_SHARE
        and f.distinct_share <= STUFFING_MAX_DISTINCT_SHARE
    ):
        return Verdict(True, KEYWORD_STUFFING)
    return CLEAN


def _is_spider_pool(f: BlockFeatures) -> bool:
    if f.pool_literal or f.pool_hosts >= SPIDER_POOL_MIN_POOL_HOSTS:
        return True
    if not f.list_kind or f.short_token_share < SPIDER_POOL_MIN_SHORT_SHARE:
        return False
    # Links all on the site make the list the site's own navigation.
    if f.link_count and f.offsite_links == 0 and f.link_text_share >= OFFSITE_MIN_TEXT_SHARE:
        return False
    linked = f.offsite_links * 2 >= f.list_tokens
    if f.list_kind == "space":
        return f.list_tokens >= SPIDER_POOL_MIN_SPACE_TOKENS and (
            f.place_token_share >= SPIDER_POOL_MIN_PLACE_SHARE or linked or f.vocab_cjk
        )
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
    """The verdict on a page, and on each of its blocks in order (measured once)."""

    page: Verdict
    blocks: tuple[Verdict, ...]


def classify_page(title: str, blocks: Sequence[Block], site_hosts: frozenset[str]) -> Verdict:
    """Judge a whole page; see :func:`judge_page`."""
    return judge_page(title, blocks, site_hosts).page


def judge_page(title: str, blocks: Sequence[Block], site_hosts: frozenset[str]) -> PageJudgement:
    """Judge a whole page: spam when its title is in spam vocabulary, when spam
    content makes up most of its body, when its body is mostly off-site links, or
    when a title with spam vocabulary heads a body dense in it and written as a
    sales pitch.

    Hidden blocks and plain spider-pool lists do not make a page spam: they are
    what hacked servers inject into real pages, and the blocks are dropped alone.
    """
    title_scan = _scan(title)
    title_is_spam = title_scan.cjk_term or (
        len(title_scan.terms) >= TITLE_MIN_TERMS and title_scan.strong
    )

    text_blocks = spam_blocks = 0
    text_chars = spam_chars = clean_chars = 0
    offsite = offsite_chars = words = vocab_hits = pitch = 0
    body_terms: set[str] = set()
    body_strong: set[str] = set()
    verdicts: list[Verdict] = []
    for block in blocks:
        if not block.text:
            verdicts.append(classify_block(block, site_hosts))
            continue
        f = block_features(block, site_hosts)
        verdict = verdict_from_features(f)
        verdicts.append(verdict)
        text_blocks += 1
        text_chars += f.chars
        offsite += f.offsite_links
        offsite_chars += round(f.offsite_text_share * f.chars)
        words += f.words
        vocab_hits += f.vocab_hits
        pitch += f.pitch_words
        body_terms |= f.vocab_terms
        body_strong |= f.strong_terms
        if not verdict.spam:
            clean_chars += f.chars
        elif verdict.reason in _CONTENT_SPAM or (f.vocab_hits and verdict.reason == SPIDER_POOL):
            spam_blocks += 1
            spam_chars += f.chars
    body_is_spam = text_chars > 0 and (
        (
            spam_blocks > PAGE_MIN_SPAM_SHARE * text_blocks
            and spam_chars > PAGE_MIN_SPAM_SHARE * text_chars
            and clean_chars < PAGE_MAX_CLEAN_CHARS
        )
        or (
            offsite >= PAGE_MIN_OFFSITE_ANCHORS
            and offsite_chars >= PAGE_MIN_OFFSITE_TEXT_SHARE * text_chars
        )
        or (
            title_scan.strong
            and len(body_terms) >= PAGE_MIN_VOCAB_TERMS
            and len(body_strong) >= PAGE_MIN_STRONG_TERMS
            and vocab_hits * 100 >= PAGE_MIN_VOCAB_PER_100_WORDS * max(words, 1)
            and pitch * 100 >= PAGE_MIN_PITCH_PER_100_WORDS * max(words, 1)
        )
    )
    page = Verdict(True, SPAM_PAGE) if title_is_spam or body_is_spam else CLEAN
    return PageJudgement(page, tuple(verdicts))
