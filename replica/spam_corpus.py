"""A labeled link-spam corpus, generated, and the measurement of the detector on it.

Why it exists: a spam detector tuned on a handful of examples looks perfect on them and
fails on the next hacked page, or worse, eats real paragraphs: it must be measured, not
asserted. This module writes, from a seed, article pages in the replica's own template
(``replica.pages.render_article`` over copies of the replica's stories) whose
clean paragraphs are known, with one spam injection each, of one form, in one variant and
one position; and whole spam pages. Each page goes through what the crawler runs:
``extract_article`` on a ``parsel.Selector``, ``load_article``, then the spam stage
(``strip_spam``; ``judge_page`` for the per-block verdicts). So the numbers measure the
crawler, not the detector on hand-made blocks.

Labels: an extracted text block whose text is one of the page's clean paragraphs is
clean; any other text block can only come from the injection and is spam. A sample is
*caught* when no text outside its clean paragraphs reaches the emitted body (or, for a
whole spam page, when the page is dropped). A clean paragraph is a *false positive* when
it is missing from the emitted body, whether its block was removed or its page dropped.

Forms (:data:`FORMS`) and where each is injected (:data:`FORM_POSITIONS`):

- ``spider_pool_text``: place names or keywords separated by pipes, slashes or spaces
  (and 、 or ，), with or without a label (``主站蜘蛛池模板: ``);
- ``spider_pool_links``: the same as links to throw-away subdomains (one anchor each,
  adjacent anchors, ``<br>``, a ``<ul>`` or a ``<p>`` per anchor);
- ``hidden_style``: a block hidden by its inline style (``display:none``,
  ``visibility:hidden``, ``font-size:0``, zero height with ``overflow:hidden``,
  off-screen offsets, ``opacity:0``, ``clip``), holding spam or innocent-looking backlinks;
- ``hidden_class``: the same hidden by a class or id the page's ``<style>`` hides (in
  the head or next to the element), or by the ``hidden`` attribute;
- ``hidden_inline``: a hidden ``<span>``/``<a>``/``<font>`` loose in the body container
  or at the end of a real paragraph;
- ``offsite_anchors``: anchors to other domains with gambling, lottery, pharma, adult or
  loan vocabulary in Chinese or English, many of the terms in no vocabulary of the
  detector (and neutral backlink clusters, as lists: a sentence linking three sources
  without vice vocabulary reads as a real paragraph citing them, and is kept);
- ``keyword_stuffing``: a handful of terms repeated;
- ``spam_page``: a gambling, lottery, pharma, adult or loan page in the site's template,
  under a spam title, the news title the URL once had, or "Home"; its body links, a
  pitch, or both, sometimes with an innocuous line ("All rights reserved…").

Clean text: the replica's paragraphs, and the hard cases of the issue written here
(:data:`CLEAN_KINDS`): Chinese names in English sentences, city and province
enumerations, links to other ECNS stories, off-site citations, captions with credits,
sub-headings, bylines, datelines, news about gambling and drugs, slashes in numbers,
contact lines, short lines. And, where the shared reference file exists, the 447 real
article texts (kind ``real``), which must all be kept.

    python -m replica.spam_corpus eval [--seed 7] [--samples 300] [--misses 3] [--real F]
    python -m replica.spam_corpus dump DIR [--seed 7] [--samples 10]

Everything is deterministic for a seed; each sample draws from its own random stream, so
asking for more samples keeps the first ones unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import string
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from parsel import Selector

from newscrawl.drops import SpamPage
from newscrawl.extract import extract_article
from newscrawl.items import Block
from newscrawl.loaders import load_article
from newscrawl.normalize import normalize_space
from newscrawl.pipelines.spam import site_hosts_for, strip_spam
from newscrawl.spam import judge_page
from replica.localrun import REFERENCE_DIR
from replica.model import DELIVERED, SiteModel, Story, build_model, site_href
from replica.model import Block as ModelBlock
from replica.pages import render_article
from replica.text import (
    CITIES,
    COUNTRIES,
    PEOPLE,
    PEOPLE_CN,
    PROVINCES,
    StoryText,
    TextGen,
)

__all__ = [
    "CLEAN_KINDS",
    "FORMS",
    "FORM_POSITIONS",
    "REAL_ARTICLES",
    "Evaluation",
    "Sample",
    "corpus",
    "evaluate",
    "main",
    "real_samples",
]

REAL_ARTICLES = REFERENCE_DIR / "politics-2024-articles.jsonl"
DEFAULT_SEED = 7
DEFAULT_SAMPLES = 300
BASE_URL = "https://www.ecns.cn"

# --- Forms and positions ----------------------------------------------------------------

SPIDER_POOL_TEXT = "spider_pool_text"
SPIDER_POOL_LINKS = "spider_pool_links"
HIDDEN_STYLE = "hidden_style"
HIDDEN_CLASS = "hidden_class"
HIDDEN_INLINE = "hidden_inline"
OFFSITE_ANCHORS = "offsite_anchors"
KEYWORD_STUFFING = "keyword_stuffing"
SPAM_PAGE = "spam_page"
FORMS = (
    SPIDER_POOL_TEXT,
    SPIDER_POOL_LINKS,
    HIDDEN_STYLE,
    HIDDEN_CLASS,
    HIDDEN_INLINE,
    OFFSITE_ANCHORS,
    KEYWORD_STUFFING,
    SPAM_PAGE,
)

BODY_START = "body_start"  # first thing in the body container
BETWEEN = "between"  # between two real paragraphs
BODY_END = "body_end"  # after the last paragraph, before <!--正文分页结束-->
LOOSE = "loose"  # bare markup directly in the container, no wrapping block
IN_PARAGRAPH = "in_paragraph"  # at the end of a real paragraph (inline elements only)
AFTER_BODY_MARK = "after_body_mark"  # in the container, after <!--正文分页结束-->
AFTER_FOOTER = "after_footer"  # after the site's footer, outside the container
WHOLE_PAGE = "whole_page"
_ALL_IN = (BODY_START, BETWEEN, BODY_END, LOOSE, AFTER_BODY_MARK, AFTER_FOOTER)
FORM_POSITIONS: dict[str, tuple[str, ...]] = {
    SPIDER_POOL_TEXT: _ALL_IN,
    SPIDER_POOL_LINKS: _ALL_IN,
    HIDDEN_STYLE: (BODY_START, BETWEEN, BODY_END, AFTER_BODY_MARK, AFTER_FOOTER),
    HIDDEN_CLASS: (BODY_START, BETWEEN, BODY_END, AFTER_FOOTER),
    HIDDEN_INLINE: (LOOSE, IN_PARAGRAPH),
    OFFSITE_ANCHORS: _ALL_IN,
    KEYWORD_STUFFING: (BODY_START, BETWEEN, BODY_END, LOOSE, AFTER_FOOTER),
    SPAM_PAGE: (WHOLE_PAGE,),
}

CLEAN_KINDS = (
    "replica",
    "city_enumeration",
    "chinese_name",
    "ecns_link",
    "citation",
    "caption",
    "subheading",
    "byline",
    "dateline",
    "vice_news",
    "numbers",
    "contact",
    "short_line",
)

# --- Word lists (ours) ------------------------------------------------------------------

# Characters and suffixes of made-up county and city names for spider pools.
_PLACE_CHARS = "安宁平江山河阳城德兴华泰长永昌丰新东西南北中清源和泉林湖宝金桂云龙凤石海川溪岭武"
_PLACE_SUFFIXES = ("县", "县", "县", "市", "市", "区", "旗", "镇", "")
# Syllables of made-up place names in pinyin, for linked pools.
_PINYIN = [
    "an",
    "ba",
    "bei",
    "cang",
    "chang",
    "dao",
    "de",
    "feng",
    "gu",
    "hai",
    "he",
    "hua",
    "jian",
    "jin",
    "kang",
    "lan",
    "li",
    "long",
    "mei",
    "ning",
    "ping",
    "qi",
    "qing",
    "rui",
    "shan",
    "tai",
    "tian",
    "wen",
    "xi",
    "xin",
    "yang",
    "yong",
    "yun",
    "ze",
    "zhang",
    "zhen",
]
# Keywords of the kind spider pools and stuffed blocks carry (some in no vocabulary).
_CN_KEYWORDS = (
    "装修公司",
    "搬家公司",
    "网站优化",
    "快速排名",
    "手机批发",
    "二手车",
    "影视大全",
    "免费电影",
    "小说阅读",
    "整形医院",
    "代理记账",
    "公司注册",
    "留学中介",
    "高清壁纸",
    "澳门赌场",
    "网上赌博",
    "真人娱乐",
    "体育平台",
    "手机下注",
    "彩票平台",
    "棋牌游戏",
    "在线客服",
)
_CN_CITY_PREFIXES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "苏州", "")
_SPAM_WORDS: dict[str, tuple[str, ...]] = {
    "gambling_cn": (
        "澳门新葡京",
        "葡京娱乐场",
        "开元棋牌",
        "百家乐",
        "太阳城",
        "威尼斯人",
        "金沙娱乐",
        "皇冠体育",
        "真人视讯",
        "老虎机",
        "电子游艺",
        "体育投注",
        "网上赌博",
        "棋牌游戏",
        "捕鱼游戏",
        "亚博体育",
        "永利娱乐",
        "德州扑克",
        "炸金花",
        "娱乐城",
    ),
    "lottery_cn": (
        "六合彩",
        "时时彩",
        "北京赛车",
        "幸运飞艇",
        "快三",
        "双色球",
        "大乐透",
        "彩票平台",
        "彩票开奖",
        "福彩3D",
        "11选5",
        "分分彩",
        "彩票计划",
    ),
    "pharma_cn": (
        "伟哥",
        "万艾可",
        "希爱力",
        "犀利士",
        "必利劲",
        "壮阳药",
        "春药",
        "迷药",
        "催情水",
        "延时喷剂",
        "减肥药",
    ),
    "adult_cn": (
        "成人视频",
        "色情网站",
        "黄色网站",
        "裸聊",
        "约炮",
        "一夜情",
        "同城约会",
        "成人影片",
        "av女优",
        "上门服务",
    ),
    "loan_cn": (
        "网贷",
        "小额贷款",
        "无抵押贷款",
        "快速放款",
        "黑户贷款",
        "信用卡套现",
        "网络借贷",
        "秒批贷款",
        "急用钱",
    ),
    "casino_en": (
        "online casino",
        "best online casino",
        "casino bonus",
        "free spins",
        "no deposit bonus",
        "live roulette",
        "blackjack online",
        "slot machines",
        "real money slots",
        "sportsbook",
        "poker online",
        "baccarat strategy",
        "crypto casino",
        "jackpot games",
        "sports betting",
    ),
    "lottery_en": (
        "lottery results",
        "lotto numbers",
        "powerball tickets",
        "buy lottery online",
        "lottery prediction",
        "keno online",
        "scratch cards online",
        "win the jackpot",
    ),
    "pharma_en": (
        "buy viagra",
        "cheap cialis",
        "generic levitra",
        "kamagra oral jelly",
        "sildenafil 100mg",
        "tadalafil online",
        "buy xanax",
        "tramadol no prescription",
        "online pharmacy",
        "ed pills",
        "weight loss pills",
        "phentermine online",
    ),
    "adult_en": (
        "xxx videos",
        "free porn",
        "sex cams",
        "live cam girls",
        "adult dating",
        "hot singles",
        "escort service",
        "nude chat",
        "hentai",
    ),
    "loan_en": (
        "payday loans",
        "instant loans",
        "cash advance",
        "no credit check loans",
        "bad credit loans",
        "quick cash",
        "personal loans online",
        "same day loans",
        "title loans",
    ),
    # Backlinks without vice vocabulary: only their shape gives them away.
    "neutral_en": (
        "cheap flights",
        "hotel deals",
        "car rental",
        "visa service",
        "seo services",
        "web design",
        "cheap jerseys",
        "replica watches",
        "wedding dresses",
        "buy followers",
        "essay writing",
        "moving company",
    ),
}
_VICE_CATEGORIES = tuple(k for k in _SPAM_WORDS if k != "neutral_en")
_TLDS = (".com", ".net", ".cn", ".cc", ".vip", ".top", ".xyz", ".com.cn", ".info", ".biz")
# Handfuls of terms repeated by keyword stuffing.
_STUFFING_SETS = (
    ("cheap jerseys", "wholesale jerseys", "nfl jerseys"),
    ("seo services", "seo company", "best seo"),
    ("Beijing tours", "Beijing tour guide", "China tours"),
    ("replica watches", "rolex replica", "cheap watches"),
    ("online casino", "casino online", "best casino"),
    ("buy viagra", "viagra online", "cheap viagra"),
    ("payday loans", "loans online", "fast loans"),
    ("wedding dresses", "cheap wedding dresses", "bridal gowns"),
    ("装修公司", "北京装修", "装修"),
    ("搬家公司", "上海搬家", "搬家"),
    ("网站优化", "seo优化", "快速排名"),
    ("澳门赌场", "网上赌场", "赌场"),
    ("彩票", "彩票平台", "购彩"),
)
# Ways of hiding a block: (what it is, the declarations).
HIDING_STYLES = (
    ("display_none", "display:none"),
    ("display_none", "display: none;"),
    ("display_none", "DISPLAY:NONE"),
    ("display_none", "display:none !important"),
    ("visibility", "visibility:hidden"),
    ("visibility", "visibility: hidden; color:#333"),
    ("font_size_0", "font-size:0"),
    ("font_size_0", "font-size: 0px; line-height:0"),
    ("font_size_0", "font-size:0pt"),
    ("font_size_0", "font-size:1px"),
    ("zero_height", "height:0;overflow:hidden"),
    ("zero_height", "height: 0px; overflow: hidden;"),
    ("zero_height", "width:0;height:0;overflow:hidden"),
    ("zero_height", "max-height:0;overflow:hidden"),
    ("zero_height", "height:1px;width:1px;overflow:hidden"),
    ("offscreen", "position:absolute;left:-9999px"),
    ("offscreen", "position:absolute; top:-10000px; left:-10000px"),
    ("offscreen", "position:fixed;left:-3000px"),
    ("offscreen", "text-indent:-9999px;overflow:hidden"),
    ("offscreen", "text-indent:-999em"),
    ("offscreen", "margin-left:-5000px"),
    ("opacity", "opacity:0"),
    ("clip", "position:absolute;clip:rect(0,0,0,0)"),
    ("clip", "position:absolute; clip: rect(0 0 0 0)"),
)
_SEPARATORS = {
    "pipe": "| ",
    "pipe_spaced": " | ",
    "pipe_tight": "|",
    "fullwidth_pipe": "｜",
    "gun": "丨",
    "slash": "/",
    "slash_spaced": " / ",
    "fullwidth_slash": "／",
    "space": " ",
    "spaces": "  ",
    "dunhao": "、",
    "cn_comma": "，",
}
# Separators that only make a list of Chinese items (a pinyin list with them is prose).
_CJK_ONLY_SEPARATORS = frozenset({"dunhao", "cn_comma"})
_POOL_LABELS = ("", "", "", "主站蜘蛛池模板: ", "友情链接：", "站群: ", "热门城市：")

# Clean text: Chinese names of cities, terms, and other lists for the hard cases.
_CITY_CN = {
    "Beijing": "北京",
    "Shanghai": "上海",
    "Guangzhou": "广州",
    "Shenzhen": "深圳",
    "Chengdu": "成都",
    "Chongqing": "重庆",
    "Wuhan": "武汉",
    "Hangzhou": "杭州",
    "Nanjing": "南京",
    "Xi'an": "西安",
    "Tianjin": "天津",
    "Harbin": "哈尔滨",
}
_TERMS_CN = (
    ("Spring Festival", "春节"),
    ("Mid-Autumn Festival", "中秋节"),
    ("hutong", "胡同"),
    ("hukou", "户口"),
    ("new quality productive forces", "新质生产力"),
    ("common prosperity", "共同富裕"),
    ("Belt and Road", "一带一路"),
    ("Dragon Boat Festival", "端午节"),
)
_COUNTIES_PINYIN = ("Anji", "Deqing", "Tonglu", "Chun'an", "Xianju", "Sanmen", "Ninghai")
_EXTRA_HEADINGS = (
    "A new chapter",
    "Challenges remain",
    "Green growth",
    "Bridging the gap",
    "Key figures",
    "Mutual benefit",
    "Q&A",
)
_MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.")
_LONG_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
_CITATION_SITES = (
    ("https://www.un.org/en/", "a UN report"),
    ("http://www.gov.cn/zhengce/", "the central government's website"),
    ("https://www.imf.org/en/Publications", "the IMF"),
    ("https://www.worldbank.org/", "the World Bank"),
    ("https://www.wto.org/", "the WTO"),
    ("http://english.www.gov.cn/", "the State Council's website"),
    ("https://www.fmprc.gov.cn/eng/", "the foreign ministry"),
    ("http://www.xinhuanet.com/english/", "Xinhua"),
)


# --- Samples --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One page of the corpus and what a correct crawler makes of it.

    ``clean`` lists the page's clean text paragraphs in order, each with its kind;
    ``form`` is None for a clean page; ``spam_page`` says the page must be dropped.
    """

    name: str
    form: str | None
    variant: str
    position: str
    url: str
    html: str
    clean: tuple[tuple[str, str], ...]
    spam_page: bool = False


@dataclass(frozen=True)
class _Spam:
    """One injection: its markup, how it reads when loose, and the CSS it needs."""

    variant: str
    html: str  # wrapped in its block element(s)
    loose: str  # bare inline markup (for the LOOSE and IN_PARAGRAPH positions)
    css: str = ""  # a <style> rule the page must carry (hidden_class)
    css_in_body: bool = False  # the rule sits in the body, before the element


def _throwaway_label(r: random.Random) -> str:
    return "".join(r.choices(string.ascii_lowercase + string.digits, k=r.randint(2, 6)))


def _spam_domain(r: random.Random) -> str:
    stem = "".join(r.choices(string.ascii_lowercase, k=r.randint(3, 7)))
    if r.random() < 0.5:
        stem += str(r.randint(1, 999))
    return stem + r.choice(_TLDS)


def _place_name(r: random.Random) -> str:
    return "".join(r.sample(_PLACE_CHARS, r.choice((1, 2, 2, 2, 3)))) + r.choice(_PLACE_SUFFIXES)


def _pinyin_name(r: random.Random) -> str:
    return "".join(r.sample(_PINYIN, r.choice((1, 2, 2)))).capitalize()


def _cn_keyword(r: random.Random) -> str:
    return r.choice(_CN_CITY_PREFIXES) + r.choice(_CN_KEYWORDS)


def _anchor(href: str, text: str, r: random.Random) -> str:
    attrs = ""
    if r.random() < 0.3:
        attrs += ' target="_blank"'
    if r.random() < 0.15:
        attrs += f' title="{escape(text)}"'
    inner = escape(text, quote=False)
    if r.random() < 0.1:
        inner = f"<strong>{inner}</strong>"
    return f'<a href="{href}"{attrs}>{inner}</a>'


def _wrap(r: random.Random, inner: str) -> str:
    tag = r.choice(("p", "p", "div", "p"))
    return f"<{tag}>{inner}</{tag}>"


def _spider_pool(r: random.Random, linked: bool, *, inline: bool = False) -> _Spam:
    """A list of names or keywords; ``inline`` keeps it to inline markup (no ``<li>``
    or ``<p>`` a name), for use inside another element."""
    kind = r.choice(("places", "places", "keywords", "mixed") + (("pinyin",) if linked else ()))
    sep_name = r.choice(
        tuple(k for k in _SEPARATORS if kind != "pinyin" or k not in _CJK_ONLY_SEPARATORS)
    )
    sep = _SEPARATORS[sep_name]
    count = r.randint(6, 40)
    names: list[str] = []
    for _ in range(count):
        pick = kind if kind != "mixed" else r.choice(("places", "keywords"))
        if pick == "places":
            names.append(_place_name(r))
        elif pick == "keywords":
            names.append(_cn_keyword(r))
        else:
            names.append(_pinyin_name(r))
    label = r.choice(_POOL_LABELS) if kind != "pinyin" else r.choice(("", "Links: "))
    trailing = sep.strip() if r.random() < 0.4 else ""
    if not linked:
        text = escape(label + sep.join(names) + trailing, quote=False)
        return _Spam(f"{kind}/{sep_name}", _wrap(r, text), text)
    domain = _spam_domain(r)
    modes = ("all", "most", "adjacent", "br") + (() if inline else ("li", "p_each"))
    mode = r.choice(modes)
    anchors = []
    for name in names:
        if mode == "most" and r.random() < 0.3:
            anchors.append(escape(name, quote=False))
        else:
            href = f"http://{_throwaway_label(r)}.{domain}/"
            if r.random() < 0.2:
                href += r.choice(("index.html", "?id=" + str(r.randint(1, 9999)), "news/"))
            anchors.append(_anchor(href, name, r))
    variant = f"{kind}/{mode}/{sep_name}"
    if mode == "li":
        items = "".join(f"<li>{a}</li>" for a in anchors)
        return _Spam(f"{kind}/li", f"<ul>{items}</ul>", items)
    if mode == "p_each":
        paras = "".join(f"<p>{a}</p>" for a in anchors)
        return _Spam(f"{kind}/p_each", f"<div>{paras}</div>", paras)
    joiner = {"adjacent": "", "br": "<br>"}.get(mode, escape(sep, quote=False))
    inner = escape(label, quote=False) + joiner.join(anchors) + trailing
    return _Spam(
        variant if mode not in ("adjacent", "br") else f"{kind}/{mode}", _wrap(r, inner), inner
    )


def _anchors(r: random.Random, category: str, count: int, one_domain: bool) -> list[str]:
    words = _SPAM_WORDS[category]
    texts = (
        [r.choice(words) for _ in range(count)] if count > len(words) else r.sample(words, count)
    )
    domain = _spam_domain(r)
    out = []
    for text in texts:
        host = domain if one_domain else _spam_domain(r)
        prefix = "www." if r.random() < 0.5 else ""
        path = r.choice(
            ("", "", "index.html", f"?{_throwaway_label(r)}", f"{_throwaway_label(r)}/")
        )
        scheme = r.choice(("http", "https"))
        out.append(_anchor(f"{scheme}://{prefix}{host}/{path}", text, r))
    return out


def _offsite_anchors(r: random.Random) -> _Spam:
    category = r.choice((*_VICE_CATEGORIES, "neutral_en"))
    count = r.randint(3, 10)
    anchors = _anchors(r, category, count, one_domain=r.random() < 0.3)
    joiners = ("none", "space", "dunhao", "pipe", "br", "dash", "comma", "li")
    # Links inside a sentence of their own words only with vice vocabulary: without it
    # such a paragraph reads as a real one citing three sources, and is kept on purpose.
    joiner_name = r.choice(joiners + (("prose",) if category != "neutral_en" else ()))
    intro = r.choice(("", "", "友情链接：", "Partners: ", "Sponsored links: ", "推荐："))
    variant = f"{category}/{joiner_name}"
    if joiner_name == "li":
        items = "".join(f"<li>{a}</li>" for a in anchors)
        return _Spam(variant, f"<ul>{items}</ul>", items)
    if joiner_name == "prose":
        # Mostly links, with a few words around them.
        a = anchors
        inner = f"Try {a[0]} and {a[1]} today, or see {' '.join(a[2:])} for more."
        return _Spam(variant, _wrap(r, inner), inner)
    joiner = {
        "none": "",
        "space": " ",
        "dunhao": "、",
        "pipe": " | ",
        "br": "<br>",
        "dash": " - ",
        "comma": ", ",
    }[joiner_name]
    inner = escape(intro, quote=False) + joiner.join(anchors)
    return _Spam(variant, _wrap(r, inner), inner)


def _stuffing(r: random.Random) -> _Spam:
    terms = r.choice(_STUFFING_SETS)
    handful = list(terms[: r.randint(2, len(terms))])
    count = r.randint(10, 36)
    words = [r.choice(handful) for _ in range(count)]
    sep_name = r.choice(("space", "comma", "dunhao", "dash", "cn_comma"))
    sep = {"space": " ", "comma": ", ", "dunhao": "、", "dash": " - ", "cn_comma": "，"}[sep_name]
    text = sep.join(words) + (r.choice((".", "。", "")) if r.random() < 0.5 else "")
    cjk = "cn" if not terms[0].isascii() else "en"
    inner = escape(text, quote=False)
    if r.random() < 0.2:
        link = f'<a href="http://www.{_spam_domain(r)}/">{escape(handful[0], quote=False)}</a>'
        inner = link + sep + inner
    return _Spam(f"{cjk}/{sep_name}", _wrap(r, inner), inner)


def _hidden_content(r: random.Random) -> tuple[str, list[str]]:
    """What a hidden block holds: its name and its pieces (one a block when split)."""
    what = r.choice(("gambling_links", "pool", "en_links", "backlinks", "keywords"))
    if what == "gambling_links":
        category = r.choice(("gambling_cn", "lottery_cn"))
        anchors = _anchors(r, category, r.randint(4, 12), one_domain=r.random() < 0.5)
        return what, anchors
    if what == "pool":
        return what, [_spider_pool(r, linked=True, inline=True).loose]
    if what == "en_links":
        category = r.choice(("casino_en", "pharma_en", "loan_en", "adult_en", "lottery_en"))
        return what, _anchors(r, category, r.randint(3, 8), one_domain=r.random() < 0.5)
    if what == "backlinks":
        # Innocent-looking: one to three links in a sentence; only the hiding tells.
        anchors = _anchors(r, "neutral_en", r.randint(1, 3), one_domain=True)
        city = r.choice(CITIES)
        return what, [f"Looking for {' and '.join(anchors)} in {city}? We can help."]
    words = r.sample(_SPAM_WORDS["neutral_en"], 4)
    return what, [escape(" ".join(words), quote=False)]


def _hidden_markup(r: random.Random, attr: str) -> tuple[str, str, str, str]:
    """Hidden content carrying ``attr`` (a style, class, id or ``hidden`` attribute):
    the variant as a block, its markup, the variant as an inline element, its markup."""
    what, pieces = _hidden_content(r)
    wrapper = r.choice(("div", "p", "div_p", "ul_li", "div_div", "section"))
    joined = " ".join(pieces)
    if wrapper == "div_p":
        html = f"<div {attr}>{''.join(f'<p>{p}</p>' for p in pieces)}</div>"
    elif wrapper == "ul_li":
        html = f"<ul {attr}>{''.join(f'<li>{p}</li>' for p in pieces)}</ul>"
    elif wrapper == "div_div":
        html = f"<div {attr}><div>{joined}</div></div>"
    elif wrapper in ("div", "section"):
        html = f"<{wrapper} {attr}>{joined}</{wrapper}>"
    else:
        html = f"<p {attr}>{joined}</p>"
    tag = r.choice(("span", "font", "span", "a"))
    if tag == "a":  # an anchor cannot hold anchors: hide a run of plain words
        words = escape(r.choice(_SPAM_WORDS["casino_en"]))
        inline = f'<a href="http://www.{_spam_domain(r)}/" {attr}>{words}</a>'
    else:
        inline = f"<{tag} {attr}>{joined}</{tag}>"
    inline_what = "casino_words" if tag == "a" else what
    return f"{what}/{wrapper}", html, f"{inline_what}/{tag}", inline


def _hidden_style(r: random.Random) -> _Spam:
    how, style = r.choice(HIDING_STYLES)
    variant, html, _, inline = _hidden_markup(r, f'style="{style}"')
    return _Spam(f"{how}/{variant}", html, inline)


def _hidden_class(r: random.Random) -> _Spam:
    how, style = r.choice(HIDING_STYLES)
    name = r.choice(string.ascii_lowercase) + _throwaway_label(r)
    selector_kind = r.choice(("class", "tag_class", "id", "class_of_many", "hidden_attr"))
    if selector_kind == "hidden_attr":  # <div hidden>: no CSS at all
        how = "hidden_attr"
        variant, html, _, inline = _hidden_markup(r, "hidden")
        return _Spam(f"{how}/{variant}", html, inline)
    if selector_kind == "id":
        attr, selector = f'id="{name}"', f"#{name}"
    elif selector_kind == "class_of_many":
        attr, selector = f'class="clearfix {name} mt10"', f".{name}"
    else:
        attr, selector = f'class="{name}"', f".{name}"
    variant, html, _, inline = _hidden_markup(r, attr)
    if selector_kind == "tag_class":
        tag = html[1 : html.index(" ")]
        selector = f"{tag}.{name}"
    css = f"{selector}{{{style}}}" if r.random() < 0.5 else f"{selector} {{ {style}; }}"
    in_body = r.random() < 0.5
    where = "body_css" if in_body else "head_css"
    return _Spam(f"{how}/{selector_kind}/{where}/{variant}", html, inline, css, in_body)


def _hidden_inline(r: random.Random) -> _Spam:
    how, style = r.choice(HIDING_STYLES)
    _, _, variant, inline = _hidden_markup(r, f'style="{style}"')
    return _Spam(f"{how}/{variant}", inline, inline)


_FORM_MAKERS: dict[str, Callable[[random.Random], _Spam]] = {
    SPIDER_POOL_TEXT: lambda r: _spider_pool(r, linked=False),
    SPIDER_POOL_LINKS: lambda r: _spider_pool(r, linked=True),
    HIDDEN_STYLE: _hidden_style,
    HIDDEN_CLASS: _hidden_class,
    HIDDEN_INLINE: _hidden_inline,
    OFFSITE_ANCHORS: _offsite_anchors,
    KEYWORD_STUFFING: _stuffing,
}


# --- Whole spam pages ---------------------------------------------------------------------

_PITCH: dict[str, tuple[str, ...]] = {
    "casino_en": (
        "Welcome to {brand}, the most trusted online casino in Asia. Sign up today and claim "
        "your welcome bonus.",
        "Play blackjack, roulette and baccarat for real money, with fast withdrawals and "
        "24/7 support.",
        "New players get {n} free spins and a {n}% deposit bonus on their first deposit.",
        "Download our app and bet on football, basketball and esports anywhere you are.",
    ),
    "pharma_en": (
        "Buy Viagra and Cialis online at the lowest prices. No prescription needed, discreet "
        "shipping worldwide.",
        "Our online pharmacy offers generic Levitra and sildenafil with fast delivery.",
        "Order now and save {n}% on your first order. Cheap tadalafil, free pills with "
        "every order.",
    ),
    "loan_en": (
        "Need cash fast? Get payday loans up to ${n}00 with instant approval and no credit check.",
        "Apply online in minutes and receive your cash advance the same day.",
        "Bad credit? Our quick loans are approved in {n} minutes. Click to apply now.",
    ),
    "adult_en": (
        "Meet hot singles in your area tonight. Free registration for adult dating.",
        "Watch live sex cams and xxx videos free, no sign-up required.",
        "Thousands of cam girls online now. Click here to join free.",
    ),
    "gambling_cn": (
        "{a}是亚洲知名的{b}平台，提供{c}、{d}等游戏，注册即送{n}元彩金。",
        "{a}官方网站，{b}首存优惠，24小时在线客服，提款秒到账。",
        "{a}、{b}、{c}，尽在{d}，手机下注，安全稳定。",
    ),
    "lottery_cn": (
        "{a}计划免费提供，{b}开奖结果实时更新，{c}稳赚不赔。",
        "{a}官方平台，{b}、{c}在线购买，中奖秒到账。",
    ),
    "pharma_cn": (
        "正品{a}官方直销，{b}货到付款，隐私包装，{c}当天发货。",
        "{a}、{b}效果怎么样？专家推荐{c}，无效退款。",
    ),
    "loan_cn": (
        "{a}，{b}，身份证即可办理，{c}当天到账。",
        "急用钱找我们：{a}、{b}，不看征信，{c}。",
    ),
}
_PAGE_TITLES: dict[str, tuple[str, ...]] = {
    "casino_en": (
        "Best Online Casino {year} | {n} Free Spins & Bonus",
        "{brand} Casino – Play Slots and Blackjack for Real Money",
        "Online Casino Bonus, Free Spins and Sportsbook Betting",
    ),
    "pharma_en": (
        "Buy Cialis Online – Cheap Generic Viagra Without Prescription",
        "Online Pharmacy: Viagra, Levitra, Kamagra at Lowest Prices",
    ),
    "loan_en": (
        "Payday Loans Online – Instant Approval, No Credit Check",
        "Quick Loans and Cash Advance: Payday Loans in Minutes",
    ),
    "adult_en": (
        "Free Sex Cams and Adult Dating – Meet Singles Tonight",
        "XXX Videos and Live Cam Girls – Porn Free",
    ),
    "gambling_cn": ("{a}官方网站-{b}-{c}【首页】", "{a}|{b}|{c}", "{a}-{b}官网"),
    "lottery_cn": ("{a}计划-{b}开奖直播-{c}官网", "{a}_{b}_{c}在线"),
    "pharma_cn": ("{a}官网-正品{b}-{c}专卖",),
    "loan_cn": ("{a}-{b}-{c}平台",),
}


# Lines a spam page's template carries besides its pitch: no spam term, no "you".
_STRAY_LINES = (
    "All rights reserved. Copyright {year} {brand} Entertainment Group.",
    "Customer service is available 24 hours a day, seven days a week.",
    "Terms and conditions apply to all of the offers on this page.",
    "The company is licensed and regulated in the Philippines.",
)


def _spam_page(r: random.Random, original_title: str) -> tuple[str, str, list[ModelBlock]]:
    kind = r.choice(tuple(_PITCH))
    words = _SPAM_WORDS[kind] if kind in _SPAM_WORDS else _SPAM_WORDS["gambling_cn"]
    fill = {
        "brand": r.choice(("Lucky", "Golden", "Royal", "VIP", "Mega")) + str(r.randint(7, 999)),
        "n": str(r.randint(10, 500)),
        "year": str(r.randint(2024, 2026)),
    }

    def filled(template: str) -> str:
        a, b, c, d = (r.choice(words) for _ in range(4))
        return template.format(a=a, b=b, c=c, d=d, **fill)

    title_mode = r.choice(("spam_title", "spam_title", "original_title", "generic_title"))
    body_mode = r.choice(("links", "pitch_links", "pitch"))
    if title_mode != "spam_title" and body_mode == "pitch":
        body_mode = "pitch_links"  # a news title over a body of prose needs links to tell
    if title_mode == "spam_title":
        title = filled(r.choice(_PAGE_TITLES[kind]))
    elif title_mode == "original_title":
        title = original_title
    else:
        title = r.choice(("Home", "Welcome", "首页", "Index"))
    link_category = kind if kind in _SPAM_WORDS else r.choice(("gambling_cn", "casino_en"))
    blocks: list[ModelBlock] = []
    if body_mode in ("pitch", "pitch_links"):
        templates = _PITCH[kind]
        # Each pitch paragraph once: spam templates do not repeat a paragraph.
        for template in r.sample(templates, r.randint(2, len(templates))):
            blocks.append(ModelBlock(f"<p>{escape(filled(template), quote=False)}</p>"))
    if body_mode in ("links", "pitch_links"):
        for _ in range(r.randint(2, 5) if body_mode == "links" else r.randint(2, 3)):
            anchors = _anchors(r, link_category, r.randint(3, 8), one_domain=r.random() < 0.4)
            blocks.append(ModelBlock(_wrap(r, r.choice((" ", "", " | ")).join(anchors))))
        if body_mode == "links" and r.random() < 0.5:
            blocks.insert(
                0, ModelBlock(f"<p>{escape(filled(r.choice(_PITCH[kind])), quote=False)}</p>")
            )
    r.shuffle(blocks)
    if r.random() < 0.4:  # one innocuous line, as spam templates end
        blocks.append(ModelBlock(f"<p>{escape(filled(r.choice(_STRAY_LINES)))}</p>"))
        body_mode += "+stray"
    return f"{kind}/{title_mode}/{body_mode}", title, blocks


# --- Clean text ---------------------------------------------------------------------------


def _enum(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1]


class _Clean:
    """Hard clean paragraphs of the kinds the issue lists, and the replica's own."""

    def __init__(self, r: random.Random, model: SiteModel, story: Story) -> None:
        self.r = r
        self.model = model
        self.story = story
        # A text of the sample's own random stream (the model's StoryText draws from the
        # model's stream and pops its sentence pools), with the story's cast and subject.
        self.text = StoryText(TextGen(r), story.text.kind if story.text else "politics")
        if story.text is not None:
            self.text.fields = dict(story.text.fields)

    def paragraph(self, kind: str) -> list[tuple[str, str, str]]:
        """(kind, html, expected text) of one or more blocks of ``kind``."""
        html, text = getattr(self, "_" + kind)()
        if kind == "caption":
            return [("photo", html, ""), (kind, f"<p>{escape(text, quote=False)}</p>", text)]
        return [(kind, html, normalize_space(text))]

    def _p(self, text: str) -> tuple[str, str]:
        return f"<p>{escape(text, quote=False)}</p>", text

    def _city_enumeration(self) -> tuple[str, str]:
        r, t = self.r, self.text
        form = r.randrange(7)
        cities = r.sample(CITIES, r.randint(3, 9))
        if form == 0:
            return self._p(t.city_enumeration())
        if form == 1:
            return self._p(f"The new routes link {_enum(cities)}.")
        if form == 2:
            names = [p.removesuffix(" Province") for p in r.sample(PROVINCES[:15], r.randint(3, 6))]
            return self._p(f"Provinces including {_enum(names)} have set up similar funds.")
        if form == 3:
            return self._p(_enum(cities[:4]))
        if form == 4:
            named = r.sample(tuple(_CITY_CN), 3)
            listed = _enum([f"{c} ({_CITY_CN[c]})" for c in named])
            return self._p(f"Stops along the way include {listed}.")
        if form == 5:
            return self._p(f"Flights on the {'/'.join(cities[:3])} routes resumed on Monday.")
        counties = _enum(r.sample(_COUNTIES_PINYIN, 3))
        return self._p(f"Counties such as {counties} have joined the program.")

    def _chinese_name(self) -> tuple[str, str]:
        r, t = self.r, self.text
        form = r.randrange(4)
        if form == 0:
            return self._p(t.chinese_name_sentence())
        if form == 1:
            a, b = r.sample(PEOPLE, 2)
            return self._p(f"{a} ({PEOPLE_CN[a]}) and {b} ({PEOPLE_CN[b]}) attended the ceremony.")
        if form == 2:
            en, cn = r.choice(_TERMS_CN)
            return self._p(f"The idea of '{en}' ({cn}) came up again and again during the talks.")
        name = r.choice(PEOPLE)
        return self._p(f"{name} {PEOPLE_CN[name]}")

    def _ecns_link(self) -> tuple[str, str]:
        r = self.r
        others = [s for s in self.model.stories if s.expect == DELIVERED and s is not self.story]
        picks = r.sample(others, 3)
        forms = ("https", "http", "protocol", "relative")

        def link(s: Story) -> str:
            href = site_href(s.path, r.choice(forms))
            if r.random() < 0.15:
                href = f"https://m.ecns.cn{s.path}"
            return f'<a href="{href}">{escape(s.title, quote=False)}</a>'

        form = r.randrange(5)
        if form == 0:
            sentence = self.text.sentence()
            html = f"{escape(sentence, quote=False)} ECNS earlier reported: {link(picks[0])}."
            text = f"{sentence} ECNS earlier reported: {picks[0].title}."
        elif form == 1:
            html, text = f"Read more: {link(picks[0])}", f"Read more: {picks[0].title}"
        elif form == 2:
            html, text = link(picks[0]), picks[0].title
        elif form == 3:
            html = "Related: " + " | ".join(link(s) for s in picks)
            text = "Related: " + " | ".join(s.title for s in picks)
        else:
            html = "<br>".join(link(s) for s in picks)
            text = " ".join(s.title for s in picks)
        return f"<p>{html}</p>", text

    def _citation(self) -> tuple[str, str]:
        r = self.r
        sites = r.sample(_CITATION_SITES, 3)
        a = [f'<a href="{h}">{escape(t, quote=False)}</a>' for h, t in sites]
        t = [t for _, t in sites]
        form = r.randrange(4)
        if form == 0:
            html = f"According to {a[0]}, the number of visitors rose sharply last year."
            text = f"According to {t[0]}, the number of visitors rose sharply last year."
        elif form == 1:
            html = f"The full text is available on {a[0]}, and a summary on {a[1]}."
            text = f"The full text is available on {t[0]}, and a summary on {t[1]}."
        elif form == 2:
            html = f"Data from {a[0]}, {a[1]} and {a[2]} point to a steady recovery in trade."
            text = f"Data from {t[0]}, {t[1]} and {t[2]} point to a steady recovery in trade."
        else:
            url = sites[0][0]
            html = text = f"Source: {url}"
        return f"<p>{html}</p>", text

    def _caption(self) -> tuple[str, str]:
        key = "".join(self.r.choices(string.ascii_lowercase, k=6))
        src = f"//image.cns.com.cn/ecns_editor/transform/20241105/{key}.jpg"
        return f'<p style="text-align: center;"><img src="{src}"></p>', self.text.caption()

    def _subheading(self) -> tuple[str, str]:
        r = self.r
        heading = r.choice(_EXTRA_HEADINGS) if r.random() < 0.4 else self.text.subheading()
        inner = escape(heading, quote=False)
        return (
            f"<p><strong>{inner}</strong></p>" if r.random() < 0.5 else f"<p>{inner}</p>"
        ), heading

    def _byline(self) -> tuple[str, str]:
        r = self.r
        a, b = r.sample(PEOPLE, 2)
        form = r.randrange(5)
        text = (
            self.text.byline(),
            f"By {a} and {b}",
            f"By {a.upper()} | China Daily",
            f"By {a}, {b} | chinadaily.com.cn",
            f"Contributed by {a}",
        )[form]
        return self._p(text)

    def _dateline(self) -> tuple[str, str]:
        r, t = self.r, self.text
        city = r.choice(CITIES)
        day = r.randint(1, 28)
        form = r.randrange(3)
        if form == 0:
            return self._p(f"{city.upper()}, {r.choice(_MONTHS)} {day} (Xinhua) -- {t.lead()}")
        if form == 1:
            return self._p(f"(ECNS) -- {t.lead()}")
        return self._p(f"{city}, {r.choice(_LONG_MONTHS)} {day}, {r.randint(2023, 2025)}")

    def _vice_news(self) -> tuple[str, str]:
        r = self.r
        province = r.choice(PROVINCES)
        n, pct = r.randint(3, 900), f"{r.randint(1, 40)}.{r.randint(1, 9)}"
        return self._p(
            r.choice(
                (
                    f"Police in {province} have smashed an online gambling ring that took bets "
                    f"worth {n} million yuan, the Ministry of Public Security said.",
                    f"Macao's gross gaming revenue from casinos rose {pct} percent year on year, "
                    "the city's gaming regulator said.",
                    f"Sales of sports lottery and welfare lottery tickets reached {n} billion "
                    "yuan in the first half.",
                    f"{n} suspects were detained for selling counterfeit Viagra and other drugs "
                    "without a prescription.",
                    "The campaign targets illegal online lending platforms, including payday "
                    "loans that charge excessive interest.",
                    f"Authorities also shut down {n} websites spreading pornography and "
                    "gambling content.",
                    "Cross-border gambling and telecom fraud have caused heavy losses to "
                    "families, officials said.",
                    "Casino revenue rebounds",
                    "Crackdown on online gambling",
                )
            )
        )

    def _numbers(self) -> tuple[str, str]:
        r = self.r
        c1, c2 = r.sample(CITIES, 2)
        return self._p(
            r.choice(
                (
                    f"The 72/144-hour visa-free transit policy covers {r.randint(20, 60)} ports.",
                    f"Trains between {c1} and {c2} run at up to 350 km/h.",
                    "The ratio stood at 1/3, against 2/5 a year earlier.",
                    "A 24/7 hotline has been opened for travelers.",
                    f"Gold: {r.randint(1, 40)} | Silver: {r.randint(1, 30)} | "
                    f"Bronze: {r.randint(1, 30)} | Total: {r.randint(40, 99)}",
                    "Passengers from Hong Kong/Macao/Taiwan can apply online.",
                )
            )
        )

    def _contact(self) -> tuple[str, str]:
        r = self.r
        name = r.choice(PEOPLE)
        mail = name.lower().replace(" ", "") + "@chinadaily.com.cn"
        return self._p(r.choice((f"Contact the writer at {mail}", f"({name}/mfa.gov.cn)", mail)))

    def _short_line(self) -> tuple[str, str]:
        r = self.r
        country = r.choice(COUNTRIES)
        return self._p(
            r.choice(
                (
                    "Colleagues,",
                    "Friends,",
                    "Thank you.",
                    "Q: What comes next?",
                    "A: More cooperation.",
                    f"Long live the friendship between China and {country}! Long live!",
                )
            )
        )


_HARD_KINDS = CLEAN_KINDS[1:]


# --- Pages --------------------------------------------------------------------------------

_SPAM_VARIATIONS = frozenset(
    {"spam_spider_pool", "spam_hidden_div", "spam_offsite_links", "spam_after_footer"}
)
_BODY_END_MARK = "<!--正文分页结束-->"


@dataclass(frozen=True)
class _Base:
    model: SiteModel
    stories: tuple[Story, ...]


_BASES: dict[int, _Base] = {}


def _base(seed: int) -> _Base:
    """The replica's stories whose pages can carry a sample (built once a seed)."""
    if seed not in _BASES:
        model = build_model(seed)
        stories = tuple(
            s
            for s in model.stories
            if s.expect == DELIVERED
            and s.twin is None
            and not s.new
            and not (s.variations & _SPAM_VARIATIONS)
            and any(b.text for b in s.blocks)
        )
        _BASES[seed] = _Base(model, stories)
    return _BASES[seed]


def _body(story: Story) -> list[tuple[str, str, str]]:
    """(kind, html, expected text) of the story's own blocks."""
    return [("replica" if b.text else "other", b.html, b.text or "") for b in story.blocks]


def _render(
    base: _Base,
    story: Story,
    body: Sequence[tuple[str, str, str]],
    *,
    title: str | None = None,
    head_css: str = "",
    after_mark: str = "",
    after_footer: str = "",
) -> str:
    blocks = [ModelBlock(html, text or None) for _, html, text in body]
    variations = {v for v in story.variations if v not in _SPAM_VARIATIONS}
    if title is not None:
        variations = set()  # a plain h1 holding the given title
    page = dataclasses.replace(
        story, blocks=blocks, variations=variations, title=story.title if title is None else title
    )
    html = render_article(page, base.model)
    if head_css:
        html = html.replace("</head>", f"<style>{head_css}</style>\n</head>", 1)
    if after_mark:
        html = html.replace(_BODY_END_MARK, _BODY_END_MARK + after_mark, 1)
    if after_footer:
        html = html.replace("</body>", after_footer + "\n</body>", 1)
    return html


def _clean_of(body: Sequence[tuple[str, str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((kind, text) for kind, _, text in body if text)


def _with_hard(
    r: random.Random, base: _Base, story: Story, count: int
) -> list[tuple[str, str, str]]:
    body = _body(story)
    clean = _Clean(r, base.model, story)
    for _ in range(count):
        at = r.randint(0, len(body))
        # Never between a photo and its caption.
        while 0 < at < len(body) and body[at - 1][0] == "photo":
            at += 1
        body[at:at] = clean.paragraph(r.choice(_HARD_KINDS))
    return body


def _spam_sample(seed: int, form: str, i: int) -> Sample:
    r = random.Random(f"{seed}:{form}:{i}")
    base = _base(seed)
    story = r.choice(base.stories)
    url = BASE_URL + story.path
    name = f"{form}-{i:04d}"
    if form == SPAM_PAGE:
        variant, title, blocks = _spam_page(r, story.title)
        body = [("spam", b.html, "") for b in blocks]
        html = _render(base, story, body, title=title)
        return Sample(name, form, variant, WHOLE_PAGE, url, html, (), spam_page=True)
    positions = FORM_POSITIONS[form]
    position = positions[i % len(positions)]
    spam = _FORM_MAKERS[form](r)
    body = _with_hard(r, base, story, r.choice((0, 0, 1, 2)))
    head_css = "" if spam.css_in_body else spam.css
    markup = spam.html
    if spam.css_in_body:
        markup = f"<style>{spam.css}</style>{markup}"
    after_mark = after_footer = ""
    if position in (BODY_START, BETWEEN, BODY_END, LOOSE):
        if position == BODY_START:
            at = 0
        elif position == BODY_END:
            at = len(body)
        else:
            at = r.randint(1, max(1, len(body) - 1))
        piece = spam.loose if position == LOOSE else markup
        if position == LOOSE and spam.css_in_body:
            piece = f"<style>{spam.css}</style>{piece}"
        body.insert(at, ("spam", piece, ""))
    elif position == IN_PARAGRAPH:
        candidates = [k for k, (kind, html, t) in enumerate(body) if t and html.endswith("</p>")]
        k = r.choice(candidates)
        kind, html, text = body[k]
        body[k] = (kind, html[: -len("</p>")] + " " + spam.loose + "</p>", text)
    elif position == AFTER_BODY_MARK:
        after_mark = markup
    else:
        after_footer = markup
    html = _render(
        base, story, body, head_css=head_css, after_mark=after_mark, after_footer=after_footer
    )
    return Sample(name, form, spam.variant, position, url, html, _clean_of(body))


def _replica_sample(seed: int, i: int) -> Sample:
    """The i-th replica page as the replica prints it, without its spam."""
    base = _base(seed)
    story = base.stories[i]
    body = _body(story)
    html = _render(base, story, body)
    return Sample(
        f"replica-{i:04d}", None, "replica", "", BASE_URL + story.path, html, _clean_of(body)
    )


def _hard_sample(seed: int, i: int) -> Sample:
    """A replica page with hard clean cases woven in, or a story about gambling or
    drugs under a headline about it."""
    r = random.Random(f"{seed}:hard:{i}")
    base = _base(seed)
    story = r.choice(base.stories)
    url = BASE_URL + story.path
    clean = _Clean(r, base.model, story)
    title = None
    if r.random() < 0.2:  # a story about gambling or drugs, under a news title about it
        body = [("replica", b.html, b.text or "") for b in story.blocks[:1]]
        for _ in range(r.randint(3, 5)):
            body += clean.paragraph("vice_news")
        title = r.choice(
            (
                "Police bust online gambling ring",
                "Macao casino revenue up in November",
                "Lottery sales rise in first half",
                "Fake Viagra sellers detained",
                "Crackdown on illegal payday loans and online gambling",
            )
        )
    else:
        body = _with_hard(r, base, story, r.randint(3, 7))
    html = _render(base, story, body, title=title)
    return Sample(f"hard-{i:04d}", None, "hard", "", url, html, _clean_of(body))


def corpus(seed: int = DEFAULT_SEED, samples: int = DEFAULT_SAMPLES) -> Iterator[Sample]:
    """``samples`` pages of every form, every replica page once, and ``samples`` pages
    with hard clean cases, in a fixed order."""
    for form in FORMS:
        for i in range(samples):
            yield _spam_sample(seed, form, i)
    for i in range(len(_base(seed).stories)):
        yield _replica_sample(seed, i)
    for i in range(samples):
        yield _hard_sample(seed, i)


def real_samples(path: Path = REAL_ARTICLES, seed: int = DEFAULT_SEED) -> Iterator[Sample]:
    """The real article texts, each rendered into the replica's template (in memory:
    nothing of them is written into the project)."""
    base = _base(seed)
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if not line.strip():
                continue
            article = json.loads(line)
            paragraphs = [normalize_space(p) for p in article["body"].split("\n")]
            body = [("real", f"<p>{escape(p, quote=False)}</p>", p) for p in paragraphs if p]
            story = base.stories[n % len(base.stories)]
            html = _render(base, story, body, title=article["title"])
            yield Sample(f"real-{n:04d}", None, "real", "", article["url"], html, _clean_of(body))


# --- Running the crawler's stages ---------------------------------------------------------


@dataclass
class _Outcome:
    """What the crawler made of one sample."""

    dropped: bool
    body: list[str]
    spam_blocks: int = 0
    spam_flagged: int = 0
    clean_flagged: int = 0
    lost: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, reason, text)
    leaked: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def caught(self) -> bool:
        return not self.leaked


def run_sample(sample: Sample) -> _Outcome:
    """Extract, load and judge the page as the crawler does, and compare with its labels."""
    raw = extract_article(Selector(text=sample.html), sample.url)
    item = load_article(raw, url=sample.url, listing_date=None)
    title = item.get("title") or ""
    blocks: list[Block] = list(item.get("body_blocks") or [])
    hosts = site_hosts_for(sample.url)
    judgement = judge_page(title, blocks, hosts)
    try:
        body = strip_spam(title, blocks, hosts).body
        dropped = False
    except SpamPage:
        body, dropped = "", True
    paragraphs = body.split("\n\n") if body else []
    outcome = _Outcome(dropped, paragraphs)

    remaining = Counter(text for _, text in sample.clean)
    flagged_reason: dict[str, str] = {}
    for block, verdict in zip(blocks, judgement.blocks, strict=True):
        if not block.text:
            continue
        if remaining[block.text] > 0:
            remaining[block.text] -= 1
            if verdict.spam:
                outcome.clean_flagged += 1
                flagged_reason[block.text] = verdict.reason or ""
        else:
            outcome.spam_blocks += 1
            if verdict.spam:
                outcome.spam_flagged += 1
                outcome.reasons[verdict.reason or ""] += 1
    if dropped:
        outcome.reasons["spam_page"] += 1
    emitted = Counter(paragraphs)
    for kind, text in sample.clean:
        if emitted[text] > 0:
            emitted[text] -= 1
        else:
            reason = "page dropped" if dropped else flagged_reason.get(text, "not extracted")
            outcome.lost.append((kind, reason, text))
    outcome.leaked = list(emitted.elements())
    return outcome


# --- Evaluation ---------------------------------------------------------------------------


@dataclass
class FormResult:
    """Counts of one spam form."""

    samples: int = 0
    caught: int = 0
    spam_blocks: int = 0
    spam_flagged: int = 0
    clean_flagged: int = 0
    pages_dropped: int = 0
    misses: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # name, variant, pos, text
    by_position: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.caught / self.samples if self.samples else 1.0

    @property
    def precision(self) -> float:
        flagged = self.spam_flagged + self.clean_flagged
        return self.spam_flagged / flagged if flagged else 1.0


@dataclass
class CleanResult:
    """Clean paragraphs: how many, and which were lost."""

    paragraphs: Counter[str] = field(default_factory=Counter)  # by kind
    lost: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, kind, reason, text
    pages: int = 0
    pages_dropped: int = 0
    bodies: int = 0  # pages that must be delivered
    bodies_exact: int = 0

    @property
    def total(self) -> int:
        return sum(self.paragraphs.values())

    @property
    def fp_rate(self) -> float:
        return len(self.lost) / self.total if self.total else 0.0


@dataclass
class Evaluation:
    """Everything :func:`evaluate` measured; ``clean`` counts the clean paragraphs of
    every page, clean or carrying spam."""

    seed: int
    samples: int
    forms: dict[str, FormResult]
    clean: CleanResult
    real: CleanResult | None
    real_path: Path | None = REAL_ARTICLES
    spam_pages_dropped: int = 0
    other_pages_dropped: int = 0

    @property
    def spam_page_precision(self) -> float:
        dropped = self.spam_pages_dropped + self.other_pages_dropped
        return self.spam_pages_dropped / dropped if dropped else 1.0


def _account_clean(result: CleanResult, sample: Sample, outcome: _Outcome) -> None:
    result.pages += 1
    result.bodies += 1
    result.pages_dropped += outcome.dropped
    expected = [text for _, text in sample.clean]
    result.bodies_exact += outcome.body == expected
    for kind, _ in sample.clean:
        result.paragraphs[kind] += 1
    for kind, reason, text in outcome.lost:
        result.lost.append((sample.name, kind, reason, text))


def evaluate(
    seed: int = DEFAULT_SEED, samples: int = DEFAULT_SAMPLES, real_path: Path | None = REAL_ARTICLES
) -> Evaluation:
    """Run the crawler's stages over the corpus (and the real texts where the file
    exists) and count."""
    forms = {form: FormResult() for form in FORMS}
    clean = CleanResult()
    evaluation = Evaluation(seed, samples, forms, clean, None, real_path=real_path)
    for sample in corpus(seed, samples):
        outcome = run_sample(sample)
        if sample.form is None:
            _account_clean(clean, sample, outcome)
            evaluation.other_pages_dropped += outcome.dropped
            continue
        result = forms[sample.form]
        result.samples += 1
        result.reasons.update(outcome.reasons)
        if sample.spam_page:
            caught = outcome.dropped
            evaluation.spam_pages_dropped += outcome.dropped
        else:
            caught = outcome.caught
            evaluation.other_pages_dropped += outcome.dropped
            result.pages_dropped += outcome.dropped
            result.spam_blocks += outcome.spam_blocks
            result.spam_flagged += outcome.spam_flagged
            result.clean_flagged += outcome.clean_flagged
            _account_clean(clean, sample, outcome)
        result.caught += caught
        position = result.by_position[sample.position]
        position[0] += 1
        position[1] += caught
        if not caught:
            text = outcome.leaked[0] if outcome.leaked else "(page kept)"
            result.misses.append((sample.name, sample.variant, sample.position, text))
    if real_path is not None and real_path.exists():
        real = CleanResult()
        for sample in real_samples(real_path, seed):
            _account_clean(real, sample, run_sample(sample))
        evaluation.real = real
    return evaluation


# --- Report -----------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def command(seed: int, samples: int, real_path: Path | None = REAL_ARTICLES) -> str:
    """The shell command that reproduces an evaluation."""
    cmd = f"python -m replica.spam_corpus eval --seed {seed} --samples {samples}"
    return cmd if real_path == REAL_ARTICLES else f"{cmd} --real {real_path}"


def report(ev: Evaluation, misses: int = 3, out: Callable[[str], object] = print) -> None:
    """Print the tables: precision and recall per form, false positives on clean text."""
    out(f"Link-spam detector on the generated corpus (seed {ev.seed}, {ev.samples} samples a form)")
    out("")
    out(
        f"{'form':<18} {'samples':>7} {'recall':>8} {'precision':>9} {'spam blocks':>11} "
        f"{'flagged':>7} {'clean flagged':>13}  reasons"
    )
    for form, r in ev.forms.items():
        precision = ev.spam_page_precision if form == SPAM_PAGE else r.precision
        blocks = "-" if form == SPAM_PAGE else str(r.spam_blocks)
        flagged = "-" if form == SPAM_PAGE else str(r.spam_flagged)
        reasons = ", ".join(f"{k} {v}" for k, v in r.reasons.most_common())
        out(
            f"{form:<18} {r.samples:>7} {_pct(r.recall):>8} {_pct(precision):>9} "
            f"{blocks:>11} {flagged:>7} {r.clean_flagged:>13}  {reasons}"
        )
    out("")
    out("recall by position:")
    for form, r in ev.forms.items():
        cells = "  ".join(f"{pos} {c}/{n}" for pos, (n, c) in sorted(r.by_position.items()))
        out(f"  {form:<18} {cells}")
    out("")
    c = ev.clean
    out(
        f"clean paragraphs (replica and hard cases): {c.total}, lost {len(c.lost)} "
        f"({_pct(c.fp_rate).strip()}); pages {c.pages}, dropped as spam {c.pages_dropped}; "
        f"bodies exact {c.bodies_exact}/{c.bodies}"
    )
    lost_by_kind = Counter(kind for _, kind, _, _ in c.lost)
    out(
        "  by kind: "
        + ", ".join(f"{k} {lost_by_kind[k]}/{n}" for k, n in sorted(c.paragraphs.items()))
    )
    if ev.real is None:
        out(f"real texts: {ev.real_path} not present, skipped")
    else:
        rr = ev.real
        out(
            f"real texts ({rr.pages} articles, {rr.total} paragraphs): lost {len(rr.lost)}, "
            f"pages dropped {rr.pages_dropped}, bodies exact {rr.bodies_exact}/{rr.bodies}"
        )
    shown = [(f, m) for f, r in ev.forms.items() for m in r.misses[:misses]]
    if misses and shown:
        out("")
        out("misses (spam that reached the body, or spam pages kept):")
        for form, (name, variant, pos, text) in shown:
            out(f"  {form} {name} [{variant} @ {pos}]: {text[:110]}")
    lost = c.lost[: misses * 3] + (ev.real.lost[: misses * 3] if ev.real else [])
    if misses and lost:
        out("")
        out("clean paragraphs lost:")
        for name, kind, reason, text in lost:
            out(f"  {name} [{kind}, {reason}]: {text[:110]}")
    out("")
    out(f"reproduce: {command(ev.seed, ev.samples, ev.real_path)}")


def dump(directory: Path, seed: int, samples: int) -> None:
    """Write the corpus pages and their labels, to look at them."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "labels.jsonl").open("w", encoding="utf-8") as fh:
        for sample in corpus(seed, samples):
            (directory / f"{sample.name}.html").write_text(sample.html, encoding="utf-8")
            record = dataclasses.asdict(sample)
            del record["html"]
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote the corpus (seed {seed}, {samples} samples a form) to {directory}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replica.spam_corpus", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="measure the detector and print the tables")
    ev.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ev.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="samples a form")
    ev.add_argument("--misses", type=int, default=3, help="misses and losses shown a form")
    ev.add_argument(
        "--real", type=Path, default=REAL_ARTICLES, help="real article texts (JSON lines)"
    )
    dp = sub.add_parser("dump", help="write the corpus pages and labels to a folder")
    dp.add_argument("directory", type=Path)
    dp.add_argument("--seed", type=int, default=DEFAULT_SEED)
    dp.add_argument("--samples", type=int, default=10)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.directory, args.seed, args.samples)
        return 0
    report(evaluate(args.seed, args.samples, args.real), args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
