"""Injected link spam, the way hacked copies of ECNS pages carry it.

Why it exists: the crawler must drop spam inside the body container and ignore
spam after the footer without losing real paragraphs (see ECNS-SITE.md, "Link
spam"). These functions write the markup forms seen in the wild: a "spider pool"
of county names linking to throw-away subdomains, a hidden ``display:none``
block of gambling links, a paragraph made only of off-site anchors, and a whole
gambling page in the site's template.

The name and word lists are our own and are guesses; change them freely.
"""

from __future__ import annotations

import random
import string
from html import escape

POOL_LABEL = "主站蜘蛛池模板: "
# County and city names for the spider pool (real-sounding, our own list).
COUNTY_NAMES = (
    "安吉县",
    "德清县",
    "桐庐县",
    "淳安县",
    "建德市",
    "诸暨市",
    "嵊州市",
    "新昌县",
    "天台县",
    "仙居县",
    "温岭市",
    "三门县",
    "宁海县",
    "象山县",
    "余姚市",
    "慈溪市",
    "海宁市",
    "桐乡市",
    "平湖市",
    "嘉善县",
    "长兴县",
    "龙泉市",
    "庆元县",
    "云和县",
    "遂昌县",
    "松阳县",
    "青田县",
    "缙云县",
    "武义县",
    "浦江县",
    "磐安县",
    "兰溪市",
    "凤凰县",
    "吉首市",
    "龙山县",
    "乌审旗",
    "达拉特旗",
    "准格尔旗",
    "和静县",
    "尼勒克",
    "岑巩县",
    "石阡",
)
# Throw-away domains under which a spider pool mints one subdomain per name.
POOL_DOMAINS = ("xyz123.cn", "qqm8.cn", "zhanqun77.com", "5kbq.cn")
GAMBLING_TERMS = (
    "澳门新葡京",
    "开元棋牌",
    "百家乐",
    "太阳城娱乐",
    "六合彩",
    "时时彩",
    "北京赛车",
    "真人视讯",
    "皇冠体育",
    "威尼斯人娱乐",
    "金沙娱乐城",
    "老虎机",
    "电子游艺",
    "体育投注",
)
GAMBLING_DOMAINS = ("xpj8888.com", "kyqp77.net", "bjl-365.com", "tyc99.cc", "hg0088.vip")
ENGLISH_SPAM_ANCHORS = (
    "online casino bonus",
    "free spins no deposit",
    "buy cialis online",
    "cheap viagra without prescription",
    "payday loans no credit check",
    "replica watches",
)
ENGLISH_SPAM_DOMAINS = (
    "best-casino-777.com",
    "rx-cheap-meds.net",
    "quick-loan-now.biz",
    "luxe-replica.shop",
)


def _subdomain(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 4)))


def spider_pool(rng: random.Random, *, count: int = 24, link_share: float = 0.6) -> str:
    """``主站蜘蛛池模板: 天全县| 剑河县| …``, some names linked to throw-away hosts."""
    domain = rng.choice(POOL_DOMAINS)
    parts = []
    for name in rng.sample(COUNTY_NAMES, count):
        if rng.random() < link_share:
            parts.append(f'<a href="http://{_subdomain(rng)}.{domain}/">{name}</a>')
        else:
            parts.append(name)
    return POOL_LABEL + "| ".join(parts) + "|"


def gambling_links(rng: random.Random, count: int = 8) -> str:
    """A run of anchors with gambling keywords, each to another domain."""
    return "".join(
        f'<a href="http://www.{rng.choice(GAMBLING_DOMAINS)}/?{_subdomain(rng)}" '
        f'target="_blank">{term}</a>'
        for term in rng.sample(GAMBLING_TERMS, count)
    )


def hidden_div(rng: random.Random) -> str:
    """A ``display:none`` block of gambling links, as injected between paragraphs."""
    return f'<div style="display:none">{gambling_links(rng)}</div>'


def offsite_paragraph(rng: random.Random) -> str:
    """A ``<p>`` made only of off-site anchors with gambling and pharma text."""
    anchors = [
        f'<a href="https://{rng.choice(ENGLISH_SPAM_DOMAINS)}/{_subdomain(rng)}">{escape(text)}</a>'
        for text in rng.sample(ENGLISH_SPAM_ANCHORS, 4)
    ]
    anchors += [
        f'<a href="http://www.{rng.choice(GAMBLING_DOMAINS)}/">{term}</a>'
        for term in rng.sample(GAMBLING_TERMS, 2)
    ]
    rng.shuffle(anchors)
    return "<p>" + " ".join(anchors) + "</p>"


def after_footer(rng: random.Random) -> tuple[str, str]:
    """Markup appended after the footer: a visible spider pool, and the content of
    the final ``display:none`` div (empty on clean pages)."""
    visible = f"<p>{spider_pool(rng, count=30)}</p>\n"
    hidden = f"\n{spider_pool(rng, count=16)}\n{gambling_links(rng, 10)}\n"
    return visible, hidden


def gambling_title(rng: random.Random) -> str:
    terms = rng.sample(GAMBLING_TERMS, 4)
    return f"{terms[0]}官方网站-{terms[1]}-{terms[2]}-{terms[3]}【首页】"


def gambling_body(rng: random.Random) -> list[str]:
    """The inner HTML of the paragraphs of a whole gambling page."""
    paragraphs = []
    for _ in range(3):
        a, b, c, d = rng.sample(GAMBLING_TERMS, 4)
        paragraphs.append(
            f"{a}是亚洲最受欢迎的{b}平台，提供{c}、{d}等服务，注册即送彩金，24小时在线客服。"
        )
    for _ in range(3):
        paragraphs.append(gambling_links(rng, 6))
    paragraphs.append(
        " ".join(
            f'<a href="https://{rng.choice(ENGLISH_SPAM_DOMAINS)}/">{escape(text)}</a>'
            for text in rng.sample(ENGLISH_SPAM_ANCHORS, 5)
        )
    )
    return paragraphs
