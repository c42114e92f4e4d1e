# ruff: noqa: E501  (markup lines are as long as the site's; wrapping them would change the pages)
"""HTML (and RSS) of the replica, rendered from the model.

Why the markup looks like this: it follows the structure of a saved real ECNS
article page (head metas, ``h3.itemtit``, ``h1#contitle`` with its comment,
``div.downinfo`` with the share widget then the spans, ``div#yanse.content``
with the video-player comments and the page-break comments, the centered share
paragraph, "Related news", the photo carousel, the sidebars, media partners,
footer, and the final empty ``display:none`` div), so that a crawler written
against the replica meets the site's real anchors and traps. The text is ours.

Rendering is plain string formatting over precomputed boilerplate: benchmarks
build thousands of pages.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Collection, Sequence
from datetime import timedelta, timezone
from email.utils import format_datetime
from html import escape
from urllib.parse import quote

from replica import spam
from replica.model import (
    DELIVERED,
    DUPLICATE,
    EDITOR_STYLES,
    NO_BODY_EXPECT,
    Entry,
    Listing,
    SiteModel,
    Story,
    site_href,
)

BEIJING = timezone(timedelta(hours=8))
SITE = "https://www.ecns.cn"
SIDEBAR_ITEMS = 5  # links in "Most popular in 24h" and in "Top news"
CAROUSEL_ITEMS = 12  # gallery links in the photo carousel under an article
VIDEO_ITEMS = 2  # links in the "Video" sidebar
RSS_ITEMS = 20
# Sidebars use these link forms in turn (mostly protocol-relative, as on the site).
SIDEBAR_FORMS = ("protocol", "protocol", "https", "relative", "protocol", "http")
# Stand-in for the share widget's inline QR image: bytes of our own, about the size
# of the real one, so pages weigh about what real pages weigh.
_QR = base64.b64encode(b"\x89PNG\r\n\x1a\n" + random.Random(2025).randbytes(4200)).decode()


def _t(text: str) -> str:
    return escape(text, quote=False)


def _a(text: str) -> str:
    return escape(text, quote=True)


# --- Boilerplate --------------------------------------------------------------------

_CSS = """        <link rel="stylesheet" type="text/css" href="/css/master.css" media="all">
        <link rel="stylesheet" type="text/css" href="/css/layout.css" media="all">
        <link rel="stylesheet" type="text/css" href="/css/focus.css" media="all">
        <link rel="stylesheet" type="text/css" href="//image.cns.com.cn/ecns_editor/static/video-js8.16.1.css">
        <link rel="stylesheet" type="text/css" href="//image.cns.com.cn/ecns_editor/static/ecns_content.css">
        <script src="//image.cns.com.cn/ecns_editor/static/video8.16.1.min.js"></script>
        <script type="text/javascript" src="/js/jquery.min.js"></script>
        <script type="text/javascript" src="/js/date.js"></script>
        <!--<script type="text/javascript" src="js/head.js"></script> -->
        <script type="text/javascript" src="//image.cns.com.cn/ecns_editor/static/head1.js"></script>
        <script src="/js/slide.js" type="text/javascript"></script>
"""

# A mobile redirect in the spirit of the site's (ours, shortened).
_MOBILE_JS = """<script>
var wap_url = "http://www.ecns.cn/m%s";
var query = window.location.search;
function relativePath() { // the path of the current page
    var parts = document.location.toString().split("//");
    var rel = parts[1].substring(parts[1].indexOf("/"));
    return rel.indexOf("?") != -1 ? rel.split("?")[0] : rel;
}
if (query == '' && wap_url) {
    var agent = navigator.userAgent;
    var mobiles = ['Windows CE', 'iPod', 'Symbian', 'iPhone', 'BlackBerry', 'Android'];
    for (var i = 0; i < mobiles.length; i++) {
        if (agent.indexOf(mobiles[i]) > -1 && relativePath().indexOf("/m/") != 0) {
            location = wap_url;
            break;
        }
    }
}
</script>"""

_HEADER = """    <div id="navout" style="width: 100%;top: 0;left: 0;z-index: 99999">
        <div class="headertop">
    <div class="floatrgt" id="imghover">
        <span><a href="mailto:en@chinanews.com.cn" rel="mail"><img src="/images/head/mail.gif" alt=""></a></span>
        <span><a href="/rss/rss.xml" rel="rss"><img src="/images/head/rss.gif" alt=""></a></span>
        <script type="text/javascript">
<!--
function submitFun() {
var word=document.getElementsByName('q')[0].value;
if (word==''){ alert('key word!'); return false; }
window.open("http://search.ecns.cn/search.do?q="+encodeURIComponent(word));
}
-->
</script>
        <span class="inputbox"><input class="inputwid" type="text" value="Search Ecns" name="q" id="q"><a href="#" target="_self" onclick="submitFun()"><input class="search" type="image" src="/images/head/search.gif" alt=""></a></span>
        <span><a href="http://twitter.com/Echinanews" rel="twitter"><img src="/images/head/twitter.gif" alt=""></a></span>
        <span><a href="https://www.facebook.com/echinanews" rel="facebook"><img src="/images/head/facebook.gif" alt=""></a></span>
    </div>
    <a href="/"><img src="/images/head/logo.gif" alt=""></a>
</div>
        <div class="mainnavbox posr">
            <div class="mainnavins">
                <span class="floatrgt"><span>
    </span> <a href="//www.chinanews.com/">中文</a></span>
                <ul class="mainnav inblock">
                    <li><a href="/">Home</a></li><li><a href="/news/">News</a></li><li><a href="/cns-wire/">Ecns Wire</a></li><li><a href="/business/">Business</a></li><li><a href="/travel/">Travel</a></li><li><a href="/photo/">Photo</a></li><li><a href="/video/">Video</a></li><li><a href="/voices/">Voices</a></li>
                </ul>
            </div>
            <div class="rgtbg" style="width: 51px;">RIGHT BG</div>
        </div>
    </div>
    <div class="linebox mart30">LINE</div>
"""

_TEXT_TOOL = (
    '<div class="textfont"><i>Text:</i><em>A</em><em class="hover" style="font-size: 16px;">A</em>'
    '<em style="font-size: 18px;">A</em><a href="javascript:;" onclick="print()">Print</a></div>'
)

_APP_SPAN = """<span>
<!--app--><a href="//www.ecns.cn/app/ecns/index.shtml" style="color:#c30000; font-weight:bold; font-size:12px;">ECNS App Download</a><!--app-->
</span>"""

_SHARE_P = """                                            <p style="text-align:center;">
                                                <a href="//www.facebook.com/echinanews" target="_blank"><img src="//www.ecns.cn/part/2015/07/2015-07-23/U435P886T30D169F196DT20150723092203.jpg"></a>
                                                <a href="//twitter.com/Echinanews" target="_blank"><img src="//www.ecns.cn/part/2015/07/2015-07-23/U435P886T30D169F203DT20150723092203.jpg"></a>
                                            </p>
"""

_PAGE_SCRIPTS = """                <script type="text/javascript" src="/js/article.js"></script>
                <script type="text/javascript" src="/js/newstab.js"></script>
                <script type="text/javascript" src="/js/scroll.js"></script>
                <script type="text/javascript" src="/js/slidecont.js"></script>
"""

_FOOTER = """    <div class="linebox">LINE</div>
<div class="bdybox linksbox">
    <b>Media partners:</b>
    <a target="_blank" href="http://english.peopledaily.com.cn/">People's Daily</a>  |
<a target="_blank" href="http://www.xinhuanet.com/english/home.htm">Xinhua</a>  |
<a target="_blank" href="https://www.cgtn.com/">CGTN</a>  |
<a target="_blank" href="http://www.chinadaily.com.cn/">China Daily</a>
</div> <script>
function writerights() {
    var year = mydate.getYear();
    document.write(year > 200 ? year : 1900 + year);
}
</script>

<div class="foottip">
    <div class="bdybox tipins">
    <a class="floatrgt" href="#" target="_self">Back to top</a>
        <a href="//www.chinanews.com.cn/common/footer/aboutus.shtml">About Us</a> |
        <a href="/jobs.shtml">Jobs</a> |
        <a href="/contactus.shtml">Contact Us</a> |
        <a href="/privacy-policy.shtml">Privacy Policy</a>
    </div>
</div>

<div class="bdybox footbot">
    <div class="floatrgt">
        <div class="overhid floatlft">Copyright ©1999-2025 Chinanews.com. All rights reserved.<br>Reproduction in whole or in part without permission is prohibited.<br>[<a href="/news/xuke.html">网上传播视听节目许可证（0106168)</a>] [<a href="https://beian.miit.gov.cn">京ICP证040655号</a>] <br>[<a href="https://beian.miit.gov.cn">京ICP备05004340号-1</a>]</div>
    </div>
    <a href="/"><img src="/images/head/logo.gif" alt=""></a>
</div>
"""

_END = """
    <script src="//image.cns.com.cn/ecns_editor/static/ecns_content.js"></script>


</body></html>
"""


# --- Pieces -------------------------------------------------------------------------


def _rotate(pool: Sequence[Story], start: int, count: int, skip: Collection[Story]) -> list[Story]:
    """``count`` stories of ``pool`` from ``start`` on, wrapping, none of ``skip`` (the
    page's own stories: sidebars link to other stories)."""
    picked: list[Story] = []
    for i in range(len(pool)):
        story = pool[(start + i) % len(pool)]
        if story not in skip:
            picked.append(story)
            if len(picked) == count:
                break
    return picked


def _sidebar_href(story: Story, i: int) -> str:
    return site_href(story.path, SIDEBAR_FORMS[i % len(SIDEBAR_FORMS)])


def _sidebars(model: SiteModel, index: int, skip: Collection[Story]) -> str:
    """The right column: "Most popular in 24h", "Top news", "Video"."""
    popular = "".join(
        f'<li class="font22" style="line-height:24px;"><em></em><a href="{_sidebar_href(s, index + i)}">'
        f'{_t(s.title)}</a><div class="clear"></div></li>'
        for i, s in enumerate(_rotate(model.popular_pool, index * 3, SIDEBAR_ITEMS, skip))
    )
    top = "".join(
        f'<li><em></em> <a href="{_sidebar_href(s, index + i + 1)}">{_t(s.title)}</a>'
        f'<div class="clear"></div></li>'
        for i, s in enumerate(_rotate(model.top_pool, index * 2, SIDEBAR_ITEMS, skip))
    )
    videos = "".join(
        f'<li><a href="{_sidebar_href(s, i)}"><img src="https://image.chinanews.com/cspimp/'
        f'{s.published:%Y/%m-%d}/{s.article_id}_big.JPG" width="258" height="172" alt=""></a>'
        f'<h3><a href="{_sidebar_href(s, i)}">{_t(s.title)}</a></h3><em><a href="'
        f'{_sidebar_href(s, i)}"><img src="/images/bg/bo.png" alt=""></a></em></li>'
        for i, s in enumerate(_rotate(model.video_pool, index, VIDEO_ITEMS, skip))
    )
    return f"""        <div class="overhid">
            <h3 class="itemtit mart20"><span>Most popular in 24h</span></h3>
            <ul class="newslst02 font16 mart5" id="rank24">{popular}</ul>
            <h3 class="itemtit mart20"><a class="m" href="/top_news/">More</a><span>Top news</span></h3>
            <ul class="newslst02 font16 mart5">
                <!--include virtual="/part/6/19.html" -->
{top}
            </ul>
            <h3 class="itemtit mart20"><a class="m" href="/video/">More</a><span>Video</span></h3>
            <div class="picshowins posr" id="picshowins">
                <span class="buttonlft" id="buttonlft"><img src="/images/bg/lftbutt.gif" alt=""></span>
                <div class="widout imgctrl" id="imgctrl">
                    <ul class="picshowlist picwraper movielst inblock">
                        <!--include virtual="/part/6/20.html" -->
                        {videos}
                    </ul>
                </div>
                <span class="buttonrgt" id="buttonrgt"><img src="/images/bg/rgtbutt.gif" alt=""></span>
            </div>
        </div>
"""


def _carousel(model: SiteModel, index: int, skip: Collection[Story]) -> str:
    stories = _rotate(model.photo_pool, index * 2, CAROUSEL_ITEMS, skip)
    uls = []
    for half in (stories[: len(stories) // 2], stories[len(stories) // 2 :]):
        items = "".join(
            f'<li><a href="{_sidebar_href(s, i)}"><img src="//image.cns.com.cn/ecns_editor/'
            f'transform/{s.published:%Y%m%d}/{s.article_id[-7:]}.jpg" width="190" height="127" '
            f'alt="{_a(s.title)}"></a><h3><a href="{_sidebar_href(s, i)}">{_t(s.title)}</a></h3></li>'
            for i, s in enumerate(half)
        )
        uls.append(
            f'            <ul class="picshowlist inblock">\n                {items}            </ul>\n'
        )
    return f"""                  <div class="overhid">
        <div class="picshowtit mart30"><span class="picbutt"></span><a class="frt" href="/photo/">More</a><span>Photo</span></div>
        <div class="picshowins posr disblock" id="picshow01">
            <span class="buttonlft" id="lft01"><img src="/images/bg/lftbutt02.gif" alt=""></span>
            <div class="wid641 imgctrl" id="ctrl01">
            <div class="contctrl" id="contctrl">
{"".join(uls)}            </div>
            </div>
            <span class="buttonrgt" id="rgt01"><img src="/images/bg/rgtbutt02.gif" alt=""></span>
        </div>
        </div>
                <script type="text/javascript" src="/js/lastline.js"></script>
"""


def _related(story: Story) -> str:
    items = "".join(
        f"""                                         <li>
                        <p><a href="http://www.ecns.cn{r.path}">{_t(r.title)}</a></p><span>{r.date}</span></li>
"""
        for r in story.related
    )
    block = (
        '                                <h3 class="itemtit mart20"><span>Related news</span></h3>\n'
        f'                <ul class="newslst02 newslst04 font16 mart5">\n{items}'
        "                                     </ul>\n"
        if items
        else ""
    )
    return (
        "                <!--旧系统的相关报道start-->\n"
        "                                 <!--旧系统的相关报道end-->\n"
        "                <!--新系统的相关报道start-->\n"
        f"{block}"
        "                                <!--新系统的相关报道end-->\n"
    )


def _share_widget(story: Story) -> str:
    url = quote(SITE + story.path, safe="")
    title = quote(story.title, safe="")
    return (
        '<div class="floatrgt bshare-custom icon-little" index="0"><link rel="stylesheet" '
        'href="//www.chinanews.com.cn/part/cns_public/122/share.min.css">\n'
        '<div id="share_1" class="share-component social-share">'
        '<a class="social-share-icon icon-weibo" href="https://service.weibo.com/share/share.php'
        f'?url={url}&amp;title={title}&amp;appkey=" target="_blank"></a>'
        '<a class="social-share-icon icon-wechat" href="javascript:;" tabindex="-1">'
        '<div class="wechat-qrcode"><h4>微信扫一扫：分享</h4><div class="qrcode">'
        f'<img src="data:image/png;base64,{_QR}"></div><div class="help"><p>微信里点“发现”，扫一下</p>'
        "<p>二维码便可将本文分享至朋友圈。</p></div></div></a>"
        '<a class="social-share-icon icon-facebook" href="https://www.facebook.com/sharer/sharer.php'
        f'?u={url}&amp;title={title}" target="_blank"></a>'
        '<a class="social-share-icon icon-twitter" href="https://twitter.com/intent/tweet'
        f'?text={title}&amp;url={url}" target="_blank"></a></div>\n'
        '<script src="//www.chinanews.com.cn/part/cns_public/123/jquery.share.min.js"></script>\n'
        "    <script>\n"
        "\t\t$(function(){ $('#share_1').share({sites: ['weibo','wechat','facebook','twitter']}); })\n"
        "    </script> </div>\n"
    )


def _title_html(story: Story) -> str:
    """The headline as the h1 prints it, with the story's title variation."""
    v = story.variations
    html = _t(story.title)
    if "title_apos_entity" in v:
        return html.replace("'", "&#39;")
    if "title_quot" in v:
        return html.replace('"', "&quot;")
    words = html.split(" ")
    mid = max(1, len(words) // 2)
    head, tail = " ".join(words[:mid]), " ".join(words[mid:])
    if "title_nbsp" in v:
        return f"{head}&nbsp;{tail}"
    if "title_em" in v:
        return f"{head} <em>{words[mid]}</em> {' '.join(words[mid + 1 :])}".rstrip()
    if "title_spaces" in v:
        # A run of spaces and a newline, and a Unicode space pasted from a word processor.
        return f"{head}  \n        {tail.replace(' ', chr(0x2002) + ' ', 1)}   \n"
    return html


def _h1(story: Story) -> str:
    v = story.variations
    if v & {"no_h1", "title_tag_only"}:
        return ""
    inner = "" if "empty_h1" in v else _title_html(story)
    return (
        '            <h1 class="contitle" id="contitle"><!--中文稿子链接-->\n'
        f"                {inner}</h1>\n"
    )


def _downinfo(story: Story) -> str:
    spans = []
    if "no_time" not in story.variations:
        spans.append(f"<span>{story.time}</span>")
    spans.append(f"<span>{_t(story.source)}</span>")
    if story.editor and story.editor_style:
        email = story.editor.lower().replace(" ", "") + "@chinanews.com.cn"
        label = EDITOR_STYLES[story.editor_style].format(name=story.editor)
        spans.append(f"<span>\n<!--{email}-->{label}</span>")
    spans.append(_APP_SPAN)
    return (
        '            <div class="downinfo dottlne" style="line-height:41px;overflow:visible;">\n'
        f"                {_share_widget(story)}                {''.join(spans)}</div>\n"
    )


def _content(story: Story) -> str:
    blocks = story.blocks
    player = ""
    if story.kind == "video" and blocks:
        player, blocks = blocks[0].html, blocks[1:]
    if story.expect == NO_BODY_EXPECT and story.no_body_bare:
        return (
            '                            <div class="content" id="yanse">\n'
            "                                            <!--新视频播放器1显示start-->\n"
            "                                            <!--新视频播放器1显示end-->\n"
            "                </div>\n"
        )
    body = "\n".join(b.html for b in blocks)
    return (
        '                            <div class="content" id="yanse">\n'
        "                                            <!--新视频播放器1显示start-->\n"
        f"                         {player}\n"
        "                                                <!--新视频播放器1显示end-->\n"
        "                                                                                                                            <!--正文分页开始-->\n"
        f"                                        {body}"
        "                                                                                    <!--正文分页结束-->\n"
        f"{_SHARE_P}"
        "                </div>\n"
    )


def _head(title: str, twitter_title: str | None, description: str, extra: str) -> str:
    twitter = (
        f'        <meta name="twitter:title" content="{_a(twitter_title)}">\n'
        if twitter_title is not None
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en-US"><head>\n'
        '            <meta charset="utf-8">\n'
        "        <!--twitter-->\n"
        '        <meta name="twitter:card" content="summary_large_image">\n'
        '        <meta name="twitter:site" content="@Echinanews">\n'
        f"{twitter}"
        f'        <meta name="twitter:description" content="{_a(description)}">\n'
        '        <meta name="twitter:image" content="">\n'
        "        <!--twitter-->\n"
        f"        <title>{_t(title)}</title>\n"
        f"{_CSS}{extra}</head>\n"
    )


# --- Pages --------------------------------------------------------------------------


def render_article(story: Story, model: SiteModel) -> str:
    v = story.variations
    twitter_title = None if "title_tag_only" in v else story.title
    extra = (
        f"        <!--publish at {story.time}-->\n"
        '        <script src="//www.ecns.cn/part/5/86/baidupv.js"></script>\n'
        f"{_MOBILE_JS % story.path}"
    )
    after_footer, hidden = "", "\n\n"
    if "spam_after_footer" in v:
        after_footer, hidden = spam.after_footer(random.Random(f"{model.seed}:{story.article_id}"))
    index = story.sidebar_index
    return (
        _head(story.title, twitter_title, story.description(), extra)
        + "\n\t\n\n\n<body>\n"
        + _HEADER
        + '    <div class="bdybox" style="overflow:visible;">\n'
        + '        <div class="bdylft floatlft marr20" style="overflow:visible;">\n'
        + f'            <h3 class="itemtit mart20 bitemblue">{_TEXT_TOOL}<span>{story.label}</span></h3>\n'
        + _h1(story)
        + _downinfo(story)
        + _content(story)
        + _related(story)
        + _PAGE_SCRIPTS
        + _carousel(model, index, {story})
        + "        </div>\n"
        + _sidebars(model, index, {story})
        + "    </div>\n"
        + _FOOTER
        + after_footer
        + f'<div style="display:none">{hidden}</div>\n'
        + _END
    )


def _listing_items(entries: Sequence[Entry]) -> str:
    return "".join(
        f'<li><h3><a href="{e.href}">{e.title_html}</a></h3><b>{e.story.listing_date}</b></li>\n'
        for e in entries
    )


def render_listing(
    listing: Listing, page: int, entries: Sequence[Entry], model: SiteModel, index: int
) -> str:
    """A listing page: its items in one ``ul.bizlst`` or split across two."""
    if page % 2 == 1 and len(entries) > 10:
        half = len(entries) // 2
        groups = [entries[:half], entries[half:]]
    else:
        groups = [entries]
    uls = "".join(
        f'            <ul class="bizlst dashedlne mart5 overhid">\n{_listing_items(g)}            </ul>\n'
        for g in groups
    )
    title = listing.label if page == 1 else f"{listing.label} - page {page}"
    return (
        _head(f"{title} - ECNS", None, f"{listing.label} news from ECNS", "")
        + "\n<body>\n"
        + _HEADER
        + '    <div class="bdybox" style="overflow:visible;">\n'
        + '        <div class="bdylft floatlft marr20" style="overflow:visible;">\n'
        + f'            <h3 class="itemtit mart20 bitemblue"><span>{listing.label}</span></h3>\n'
        + uls
        + "        </div>\n"
        + _sidebars(model, index, {e.story for e in entries})
        + "    </div>\n"
        + _FOOTER
        + '<div style="display:none">\n\n</div>\n'
        + _END
    )


def render_rss(model: SiteModel) -> str:
    """RSS 2.0 of the newest stories that any listing links to and that exist."""
    stories = sorted(
        (s for s in model.stories if s.listed_in and s.expect in (DELIVERED, DUPLICATE)),
        key=lambda s: (s.published, s.article_id),
        reverse=True,
    )[:RSS_ITEMS]

    def rfc822(story: Story) -> str:
        return format_datetime(story.published.replace(tzinfo=BEIJING))

    items = "".join(
        "<item>\n"
        f"<title>{_t(s.title)}</title>\n"
        f"<link>{SITE}{s.path}</link>\n"
        f"<description>{_t(s.description())}</description>\n"
        f"<pubDate>{rfc822(s)}</pubDate>\n"
        f'<guid isPermaLink="true">{SITE}{s.path}</guid>\n'
        "</item>\n"
        for s in stories
    )
    built = rfc822(stories[0]) if stories else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0">\n<channel>\n'
        "<title>ECNS</title>\n"
        f"<link>{SITE}/</link>\n"
        "<description>News from China, in English</description>\n"
        "<language>en-us</language>\n"
        f"<lastBuildDate>{built}</lastBuildDate>\n"
        f"{items}</channel>\n</rss>\n"
    )
