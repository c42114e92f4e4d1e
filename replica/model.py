"""What the replica site holds, before any HTML: stories, their variations, the
section listings that link them, and the sidebars.

Why a model apart from the HTML: the ground truth (``truth.jsonl``) and the pages
are both derived from it, so what a page shows and what the crawler is expected
to deliver cannot drift apart. Each body paragraph carries its HTML and the text
the crawler must extract from it.

Everything here is deterministic for a seed. ``new_on_top`` stories are drawn from
their own random streams and never appear on the pages of the other stories, so
publishing them changes only the politics listing and the feed.

Near copies (a story re-published at another id with an ``(ECNS) -- `` lead, a
sentence or two added or cut, punctuation respelled or a new headline; the edits are
in ``edits.py``) come from their own random streams, after the stories are drawn, so
they leave the other stories' text as it was.

``build_text_model`` builds the same kind of site around real texts (one story a
text) instead of generated ones: a near-duplicate detector must be tested on prose
it was not tuned on.

The constants at the top are guesses about the real site (page size, which
sections are missing or empty, how often each variation occurs); change them
freely, the tests count what the model produces.
"""

from __future__ import annotations

import math
import random
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

from replica import spam
from replica.edits import NEAR_COPY_EDITS, donor_bodies, near_copy, units
from replica.realtexts import RealText
from replica.text import EDITORS, StoryText, TextGen

# --- Guesses about the site ------------------------------------------------------------

PAGE_SIZE = 30  # listing items a page
# Stories are spread over this window (Beijing time); listings run newest first.
DATE_START = datetime(2024, 9, 1)
DATE_DAYS = 133  # up to 2025-01-11
# Stories published by ``new_on_top`` start here, after everything else, one every
# NEW_STORY_GAP.
NEW_STORIES_START = datetime(2025, 1, 12, 8, 5, 0)
NEW_STORY_GAP = timedelta(minutes=47)
# Listing date month names: the site prints "Sept" for September.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Listing:
    """A section listing: its slug, path, label, and the stories it holds at scale 1,
    by the path they live under (a listing also lists other sections' stories)."""

    slug: str
    path: str
    label: str
    stories: dict[str, int]


LISTINGS = (
    Listing(
        "politics",
        "/news/politics/",
        "Politics",
        {
            "/news/politics/": 95,
            "/news/cns-wire/": 4,
            "/news/": 2,
            "/business/": 2,
            "/news/economy/": 1,
            "/cns-wire/": 1,
        },
    ),
    Listing("society", "/news/society/", "Society", {"/news/society/": 26}),
    Listing("economy", "/news/economy/", "Economy", {"/news/economy/": 24}),
    Listing("sci-tech", "/news/sci-tech/", "Sci-tech", {"/news/sci-tech/": 7}),
    Listing("cns-wire", "/cns-wire/", "Ecns Wire", {"/cns-wire/": 34, "/news/cns-wire/": 14}),
    Listing("business", "/business/", "Business", {"/business/": 42}),
    Listing("travel", "/travel/", "Travel", {}),  # an empty section: index with no items
    Listing("voices", "/voices/", "Voices", {}),
    Listing("photo", "/photo/", "Photo", {"/hd/": 6}),
    Listing("video", "/video/", "Video", {"/video/": 4}),
)
# Sections whose index is a 404 (a section that disappeared).
MISSING_LISTINGS = frozenset({"voices"})
# Stories linked only from sidebars and "Related news", at scale 1, by path.
SIDEBAR_ONLY = {
    "/news/politics/": 2,
    "/news/society/": 1,
    "/news/economy/": 1,
    "/cns-wire/": 1,
    "/news/cns-wire/": 1,
    "/news/": 1,
    "/business/": 1,
    "/hd/": 5,
    "/video/": 2,
}
PATH_LABELS = {
    "/news/politics/": "Politics",
    "/news/society/": "Society",
    "/news/economy/": "Economy",
    "/news/sci-tech/": "Sci-tech",
    "/news/cns-wire/": "Ecns Wire",
    "/cns-wire/": "Ecns Wire",
    "/news/": "News",
    "/business/": "Business",
    "/hd/": "Photo",
    "/video/": "Video",
}
# Which word lists a story under a path draws from ("mixed": any news topic).
PATH_TOPICS = {
    "/news/politics/": "politics",
    "/news/society/": "society",
    "/news/economy/": "economy",
    "/news/sci-tech/": "sci-tech",
    "/business/": "economy",
    "/hd/": "culture",
    "/video/": "culture",
}
MIXED_TOPICS = ("politics", "economy", "society", "sci-tech")

# Link forms of the site's own URLs, and how often listings use each.
LINK_FORMS = {"https": 45, "protocol": 25, "http": 10, "relative": 20}
SOURCES = {
    "Xinhua": 30,
    "chinadaily.com.cn": 20,
    "China News Service": 15,
    "Global Times": 10,
    "CGTN": 5,
    "People's Daily Online": 5,
    "China Daily": 5,
}
ECNS_SOURCE = "ecns.cn"
BYLINE_SOURCES = ("chinadaily.com.cn", "Global Times")
# Editor span spellings (``{name}`` is replaced): the first is the common one.
EDITOR_STYLES = {
    "editor_two_spaces": "Editor  : {name}",
    "editor_one_space": "Editor : {name}",
    "editor_no_space": "Editor:{name}",
    "editor_fullwidth": "Editor：{name}",
    "editor_nbsp": "Editor&nbsp;: {name}",
    "editor_web": "Web Editor: {name}",
}
EDITOR_STYLE_WEIGHTS = {
    "editor_two_spaces": 85,
    "editor_one_space": 6,
    "editor_no_space": 2,
    "editor_fullwidth": 2,
    "editor_nbsp": 2,
    "editor_web": 3,
}
EDITOR_STYLE_MIN = 2  # each spelling occurs at least this often at scale 1

# Title variations (at most one a story).
TITLE_VARIATIONS = (
    "title_amp",  # "&amp;" in the headline
    "title_apos_entity",  # "&#39;"
    "title_quot",  # "&quot;"
    "title_nbsp",  # a non-breaking space between two words
    "title_em",  # an inner <em>
    "title_spaces",  # runs of spaces/newlines, a Unicode space
    "no_h1",  # no h1: twitter:title holds the headline
    "empty_h1",  # an h1 holding only its comment: twitter:title holds the headline
    "title_tag_only",  # neither h1 nor twitter:title: only <title>
)
# How many stories carry each variation at scale 1.
VARIATION_COUNTS = {
    "title_amp": 3,
    "title_apos_entity": 4,
    "title_quot": 2,
    "title_nbsp": 2,
    "title_em": 2,
    "title_spaces": 2,
    "no_h1": 2,
    "empty_h1": 1,
    "title_tag_only": 1,
    "no_time": 4,  # no time span: the listing date is the publication date
    "source_empty": 3,
    "no_editor": 3,
    "leading_empty_p": 4,
    "ecns_lead": 4,  # besides the Ecns Wire stories that naturally start so
    "byline": 4,
    "subheading": 5,
    "photo": 8,
    "photo_no_caption": 2,
    "body_link": 5,
    "strong": 4,
    "br": 3,
    "nbsp": 4,
    "chinese_name": 4,
    "city_list": 5,
    "spam_spider_pool": 3,
    "spam_hidden_div": 3,
    "spam_offsite_links": 3,
    "spam_after_footer": 4,
}
# Share of each variation placed on stories of the politics listing, so that a crawl
# limited to politics still meets every variation.
POLITICS_SHARE = 0.6
# Special stories at scale 1: (listing, count).
SPAM_PAGES = (("politics", 1),)
NOT_FOUND = (("politics", 1), ("business", 1))
NO_BODY = (("politics", 1), ("society", 1))
DUPLICATE_PAIRS = 2  # in politics: published twice, two ids, the same day
CROSS_POSTS = ("/cns-wire/", "/news/cns-wire/")  # Ecns Wire stories also listed in politics
LISTED_TWICE = 1  # politics stories listed twice on one page, under two link forms
ECNS_LEAD_SHARE = 0.4  # Ecns Wire stories that start "(ECNS) -- "
# Near copies: a story re-published at another id with one edit (edits.py), a copy
# of each kind at scale 1, some in politics, some in Ecns Wire. The copy lives under
# another section's path (a politics story re-posted as Ecns Wire and back), the
# same day or the next.
NEAR_COPIES = 1  # of each edit kind, a scale
NEAR_COPY_DELAY = (timedelta(minutes=20), timedelta(hours=30))
COPY_PREFIXES = {
    "/news/politics/": ("/news/cns-wire/", "/cns-wire/"),
    "/news/cns-wire/": ("/cns-wire/", "/news/politics/"),
    "/cns-wire/": ("/news/cns-wire/", "/news/politics/"),
}
# In the generated replica, a copy is listed in its original's listing, on the same
# page: a crawl pages newest first but fetches a page's stories oldest first, so it
# meets the original first and the end-to-end tests know which one it delivers.
# Originals are older than this, out of the feed and of the tests' backfill window.
NEAR_COPY_ORIGINALS_BEFORE = datetime(2024, 12, 20)
# Originals whose body a copy could not carry as it is (photos and their captions).
NOT_COPIED = frozenset({"photo", "photo_no_caption"})
SHARE_OF_NO_RELATED = 0.2  # article pages without a "Related news" list
TITLE_ATTEMPTS = 60  # tries at a headline no other story has

# Expectations in truth.jsonl.
DELIVERED = "delivered"
DUPLICATE = "duplicate"
SPAM_PAGE = "spam_page"
NOT_FOUND_EXPECT = "not_found"
NO_BODY_EXPECT = "no_body"
NOT_LISTED = "not_listed"


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of the body container.

    ``html`` is what the page prints; ``text`` the paragraph text the crawler
    must deliver (None for empty paragraphs, photos and spam); ``image`` the src of
    a photo as written and ``caption`` its caption text.
    """

    html: str
    text: str | None = None
    image: str | None = None
    caption: str | None = None


@dataclass(eq=False)
class Story:
    path_prefix: str  # "/news/politics/", "/news/" (stories directly under /news/), "/hd/" …
    published: datetime  # Beijing time, naive
    topic: str
    listed_in: list[str] = field(default_factory=list)
    expect: str = DELIVERED
    article_id: str = ""
    title: str = ""
    source: str = ""  # "" prints an empty span
    editor: str | None = None
    editor_style: str | None = None
    variations: set[str] = field(default_factory=set)
    blocks: list[Block] = field(default_factory=list)
    related: list[Story] = field(default_factory=list)
    twin: Story | None = None  # the first copy, for a duplicate
    copy_of: Story | None = None  # the story a near copy re-publishes with an edit
    edit: str | None = None  # which edit (a key of edits.NEAR_COPY_EDITS)
    text: StoryText | None = None  # the story's cast and subject, for its title and body
    listing_title: str | None = None  # what listings show, when not the page's title
    no_body_bare: bool = False  # a no_body page without even the share paragraph
    sidebar_index: int = 0  # which sidebar rotation the page shows
    new: bool = False  # published by new_on_top

    @property
    def kind(self) -> str:
        return {"/hd/": "gallery", "/video/": "video"}.get(self.path_prefix, "article")

    @property
    def date(self) -> str:
        return f"{self.published:%Y-%m-%d}"

    @property
    def time(self) -> str:
        return f"{self.published:%Y-%m-%d %H:%M:%S}"

    @property
    def path(self) -> str:
        return f"{self.path_prefix}{self.date}/detail-{self.article_id}.shtml"

    @property
    def section(self) -> str:
        """The section slug the crawler derives from the path."""
        parts = [p for p in self.path_prefix.split("/") if p]
        return parts[1] if parts[0] == "news" and len(parts) > 1 else parts[0]

    @property
    def label(self) -> str:
        return PATH_LABELS[self.path_prefix]

    @property
    def listing_date(self) -> str | None:
        return listing_date(self.published) if self.listed_in else None

    @property
    def has_page(self) -> bool:
        return self.expect != NOT_FOUND_EXPECT

    @property
    def is_regular(self) -> bool:
        """An ordinary delivered article: a candidate for the variations."""
        return (
            self.expect == DELIVERED
            and self.kind == "article"
            and len(self.listed_in) == 1
            and "duplicate" not in self.variations
            and not self.new
        )

    def body_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks if b.text)

    def images(self) -> list[dict[str, str | None]]:
        return [{"src": b.image, "caption": b.caption} for b in self.blocks if b.image]

    def description(self) -> str:
        for block in self.blocks:
            if block.text and len(block.text) > 60:
                return block.text
        return self.title


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a listing page."""

    story: Story
    href: str
    title_html: str


@dataclass
class SiteModel:
    stories: list[Story]  # base stories, then the new ones
    listings: dict[str, list[Entry]]  # by listing slug, newest first
    popular_pool: list[Story]
    top_pool: list[Story]
    photo_pool: list[Story]
    video_pool: list[Story]
    seed: int

    def pages(self) -> list[Story]:
        return [s for s in self.stories if s.has_page]


def listing_date(when: datetime) -> str:
    """``Jan 9, 2025``, ``Sept 3, 2024``: the day is not zero-padded."""
    return f"{MONTHS[when.month - 1]} {when.day}, {when.year}"


def site_href(path: str, form: str) -> str:
    """A link to the site's own ``path`` in one of its forms (never the replica's host:
    the crawler maps ecns.cn onto whatever origin it crawls)."""
    if form == "https":
        return f"https://www.ecns.cn{path}"
    if form == "http":
        return f"http://www.ecns.cn{path}"
    if form == "protocol":
        return f"//www.ecns.cn{path}"
    return path


def _source_emptied_and_editor(rng: random.Random, s: Story) -> None:
    """After its source is chosen: emptied if the story's variations say so, and an
    editor (and the spelling of the line) unless they say there is none."""
    if "source_empty" in s.variations:
        s.source = ""
    if "no_editor" not in s.variations:
        s.editor = rng.choice(EDITORS)
        s.editor_style = _weighted(rng, EDITOR_STYLE_WEIGHTS)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _random_time(rng: random.Random) -> datetime:
    day = DATE_START + timedelta(days=rng.randrange(DATE_DAYS))
    return day + timedelta(seconds=rng.randint(6 * 3600, 23 * 3600 + 3599))


def _topic(rng: random.Random, path_prefix: str) -> str:
    return PATH_TOPICS.get(path_prefix) or rng.choice(MIXED_TOPICS)


def _sorted_newest_first(stories: Sequence[Story]) -> list[Story]:
    return sorted(stories, key=lambda s: (s.published, s.article_id), reverse=True)


# --- Building the model ----------------------------------------------------------------


def build_model(
    seed: int = 7, *, new_on_top: int = 0, scale: int = 1, new_copies: int = 0
) -> SiteModel:
    """The whole site for a seed: ``scale`` multiplies every count above,
    ``new_on_top`` adds that many politics stories newer than all the others, and
    ``new_copies`` that many copies of older stories among them (near copies of each
    kind in turn, and an exact one), as a second run meets them."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if new_on_top < 0 or new_copies < 0:
        raise ValueError("new_on_top and new_copies must not be negative")
    rng = random.Random(seed)
    stories: list[Story] = []
    for listing in LISTINGS:
        for prefix, count in listing.stories.items():
            for _ in range(count * scale):
                stories.append(
                    Story(prefix, _random_time(rng), _topic(rng, prefix), [listing.slug])
                )
    for prefix, count in SIDEBAR_ONLY.items():
        for _ in range(count * scale):
            story = Story(prefix, _random_time(rng), _topic(rng, prefix), expect=NOT_LISTED)
            stories.append(story)

    _assign_special_roles(rng, stories, scale)
    prefixes = _assign_ids(rng, stories)
    tg = TextGen(rng)
    _assign_titles(tg, stories)
    _assign_variations(rng, stories, scale)
    _assign_info(rng, stories, scale)
    leading = 0
    for story in stories:
        story.blocks = _make_body(story, tg, stories, leading)
        leading += "leading_empty_p" in story.variations
    for twin_story in stories:
        if twin_story.twin is not None:
            twin_story.blocks = list(twin_story.twin.blocks)
    _assign_related(rng, stories)
    # Near copies come from their own random stream, after the stories are drawn:
    # adding them leaves every other story's text as it was.
    listings = _add_near_copies(seed, rng, stories, scale)
    pools = _make_pools(rng, stories, scale)
    for i, story in enumerate(stories):
        story.sidebar_index = i

    new = [_new_story(seed, k, prefixes, stories) for k in range(new_on_top)]
    new += _new_copies(seed, new_copies, stories, NEW_STORIES_START, len(stories) + len(new))
    _publish_on_top(listings, new)
    return SiteModel(stories + new, listings, *pools, seed=seed)


def _pick(rng: random.Random, candidates: Sequence[Story], count: int) -> list[Story]:
    return rng.sample(list(candidates), min(count, len(candidates)))


def _assign_special_roles(rng: random.Random, stories: list[Story], scale: int) -> None:
    def plain(slug: str, prefix: str | None = None) -> list[Story]:
        return [
            s
            for s in stories
            if s.listed_in == [slug]
            and s.expect == DELIVERED
            and s.twin is None
            and (prefix is None or s.path_prefix == prefix)
        ]

    home = {"politics": "/news/politics/", "business": "/business/", "society": "/news/society/"}
    for slug, count in SPAM_PAGES:
        for s in _pick(rng, plain(slug, home[slug]), count * scale):
            s.expect = SPAM_PAGE
    for slug, count in NOT_FOUND:
        for s in _pick(rng, plain(slug, home[slug]), count * scale):
            s.expect = NOT_FOUND_EXPECT
    for i, (slug, count) in enumerate(NO_BODY):
        for s in _pick(rng, plain(slug, home[slug]), count * scale):
            s.expect = NO_BODY_EXPECT
            s.no_body_bare = i % 2 == 1
    # Published twice: the second copy takes the first's day, a few minutes later.
    candidates = [s for s in plain("politics", "/news/politics/") if s.published.hour < 22]
    chosen = _pick(rng, candidates, DUPLICATE_PAIRS * scale * 2)
    for first, second in zip(chosen[::2], chosen[1::2], strict=True):
        second.published = first.published + timedelta(minutes=rng.randint(3, 50))
        second.topic = first.topic
        second.twin = first
        second.expect = DUPLICATE
        second.variations.add("duplicate")
        first.variations.add("duplicate")
    for prefix in CROSS_POSTS:
        for s in _pick(rng, plain("cns-wire", prefix), scale):
            s.listed_in.append("politics")
            s.variations.add("cross_posted")


def _assign_ids(rng: random.Random, stories: list[Story]) -> set[str]:
    """``i`` + 7 letters + 7 digits; the letters change every ten days, the digits
    grow with time (as on the site). Returns the letter prefixes used."""
    prefixes: dict[int, str] = {}
    counters: dict[int, int] = {}
    for story in sorted(stories, key=lambda s: s.published):
        bucket = (story.published - DATE_START).days // 10
        if bucket not in prefixes:
            while True:
                prefix = "he" + "".join(rng.choices(string.ascii_lowercase, k=5))
                if prefix not in prefixes.values():
                    break
            prefixes[bucket] = prefix
            counters[bucket] = rng.randint(100_000, 4_000_000)
        counters[bucket] += rng.randint(3, 90)
        story.article_id = f"i{prefixes[bucket]}{counters[bucket]:07d}"
    return set(prefixes.values())


def _assign_titles(tg: TextGen, stories: list[Story]) -> None:
    seen: set[str] = set()
    for story in stories:
        if story.twin is not None or story.expect == SPAM_PAGE:
            continue
        story.text, title = _unique_title(tg, story.topic, seen)
        if tg.rng.random() < 0.08:
            title = title.replace("'", "\u2019")  # editors paste curly apostrophes
        seen.add(title)
        story.title = title
    for story in stories:
        if story.twin is not None:
            story.title = story.twin.title
        elif story.expect == SPAM_PAGE:
            # A hacked URL: listed under the news title it once had.
            story.listing_title = _unique_title(tg, story.topic, seen)[1]
            story.title = spam.gambling_title(tg.rng)


def _unique_title(tg: TextGen, topic: str, seen: set[str]) -> tuple[StoryText, str]:
    """A story's text and a headline no other story has, when one can be found: the
    cast and subject are drawn again after a few tries, and after many a repeated
    headline is accepted (the site repeats headlines too; bodies still differ)."""
    text = tg.story(topic)
    title = text.title()
    for attempt in range(1, TITLE_ATTEMPTS):
        if title not in seen:
            break
        if attempt % 4 == 0:
            text = tg.story(topic)
        title = text.title()
    return text, title


# Headlines written for the title variations that need a character in them.
_TITLE_WITH = {
    "title_amp": (
        "Q&A: {person} on {topic}",
        "{city} R&D spending rises {pct} pct",
        "Science & technology week opens in {city}",
        "Trade & investment ties with {country} deepen",
    ),
    "title_apos_entity": (
        "China's {topic} drives growth in {province}",
        "{city}'s new plan for {topic} wins praise",
        "Experts hail {country}'s role in {topic}",
        "Spokesperson: China's door will only open wider",
    ),
    "title_quot": (
        'Envoy calls {topic} a "bridge of friendship"',
        '"Open door" to {topic} benefits {country}: official',
    ),
}


def _assign_variations(rng: random.Random, stories: list[Story], scale: int) -> None:
    regular = [s for s in stories if s.is_regular]
    in_politics = [s for s in regular if s.listed_in == ["politics"]]
    elsewhere = [s for s in regular if s.listed_in != ["politics"]]
    headline_free = set(regular)  # stories without a title or date variation yet

    def choose(
        name: str,
        count: int,
        *,
        exclusive: bool = False,
        avoid: frozenset[str] = frozenset(),
        pools: tuple[list[Story], list[Story]] = (in_politics, elsewhere),
        share: float = POLITICS_SHARE,
    ) -> None:
        n_first = math.ceil(count * share)
        for pool, n in zip(pools, (n_first, count - n_first), strict=True):
            usable = [
                s
                for s in pool
                if (not exclusive or s in headline_free) and not (s.variations & avoid)
            ]
            for s in _pick(rng, usable, n):
                s.variations.add(name)
                if exclusive:
                    headline_free.discard(s)

    # A story printing no time is dated by its listing: one of them in September,
    # where the listing prints "Sept".
    september = [s for s in in_politics if s.published.month == 9]
    choose("no_time", scale, exclusive=True, pools=(september, []), share=1.0)
    choose("no_time", (VARIATION_COUNTS["no_time"] - 1) * scale, exclusive=True)
    for name in TITLE_VARIATIONS:
        choose(name, VARIATION_COUNTS[name] * scale, exclusive=True)
    for name, count in VARIATION_COUNTS.items():
        if name in TITLE_VARIATIONS or name == "no_time":
            continue
        # An empty source span on a page without a time span would leave the crawler
        # nothing to tell the spans apart by: keep those apart.
        avoid = frozenset({"no_time"}) if name == "source_empty" else frozenset()
        choose(name, count * scale, avoid=avoid)
    for s in stories:
        for name, templates in _TITLE_WITH.items():
            if name in s.variations and s.text is not None:
                s.title = s.text.fill(rng.choice(templates))


def _assign_info(rng: random.Random, stories: list[Story], scale: int) -> None:
    """Source and editor of every page."""
    pages = [s for s in stories if s.has_page and s.expect != SPAM_PAGE and s.twin is None]
    for s in pages:
        if s.path_prefix in ("/cns-wire/", "/news/cns-wire/") and rng.random() < ECNS_LEAD_SHARE:
            s.variations.add("ecns_lead")
        if "ecns_lead" in s.variations:
            s.source = ECNS_SOURCE
        elif "byline" in s.variations:
            s.source = rng.choice(BYLINE_SOURCES)
        elif s.kind != "article":
            s.source = rng.choice(("China News Service", ECNS_SOURCE))
        else:
            s.source = _weighted(rng, SOURCES)
        _source_emptied_and_editor(rng, s)
    # Every spelling at least EDITOR_STYLE_MIN times, first among politics stories.
    with_editor = [s for s in pages if s.editor and s.is_regular]
    with_editor.sort(key=lambda s: (s.listed_in != ["politics"], rng.random()))
    position = 0
    for style in EDITOR_STYLES:
        have = sum(1 for s in with_editor if s.editor_style == style)
        for _ in range(max(0, EDITOR_STYLE_MIN * scale - have)):
            while with_editor[position].editor_style != "editor_two_spaces":
                position += 1
            with_editor[position].editor_style = style
            position += 1
    for s in stories:
        if s.twin is not None:
            s.source, s.editor, s.editor_style = s.twin.source, s.twin.editor, s.twin.editor_style
        if s.editor_style:
            s.variations.add(s.editor_style)


# --- Bodies ------------------------------------------------------------------------


def _text_html(text: str) -> str:
    return escape(text, quote=False)


def _para(html: str, text: str, style: str = "") -> Block:
    attr = f' style="{style}"' if style else ""
    return Block(f"<p{attr}>{html}</p>", " ".join(text.split()))


def _plain(text: str) -> Block:
    return _para(_text_html(text), text)


def _image_src(rng: random.Random, story: Story, chinanews: bool) -> str:
    if chinanews:
        uid = uuid.UUID(int=rng.getrandbits(128), version=4)
        return f"https://image.chinanews.com/cspimp/{story.published:%Y/%m-%d}/{uid}_big.JPG"
    key = "".join(rng.choices(string.ascii_letters + string.digits, k=4))
    return (
        f"//image.cns.com.cn/ecns_editor/transform/{story.published:%Y%m%d}/"
        f"{key}-{story.article_id[1:8]}{rng.randint(1_000_000, 9_999_999)}.jpg"
    )


def _photo(
    rng: random.Random, text: StoryText, story: Story, caption: bool, chinanews: bool
) -> list[Block]:
    """An image-only paragraph, and its caption paragraph ending in a credit."""
    src = _image_src(rng, story, chinanews)
    style = ' style="text-align: center;"' if rng.random() < 0.6 else ""
    img = f'<img src="{src}" alt="" />' if rng.random() < 0.5 else f'<img src="{src}">'
    if not caption:
        return [Block(f"<p{style}>{img}</p>", image=src)]
    words = text.caption()
    cap_style = "text-align: center;" if style else ""
    return [
        Block(f"<p{style}>{img}</p>", image=src, caption=words),
        _para(_text_html(words), words, cap_style),
    ]


def _leading_empties(rng: random.Random, ordinal: int) -> list[Block]:
    """Empty paragraphs at the top of a body: the first one alternates between the
    two common forms from story to story, so both always occur."""
    first = ("<p></p>", "<p>&nbsp;</p>")[ordinal % 2]
    forms = ("<p></p>", "<p>&nbsp;</p>", "<p> </p>", "<p><br></p>", "<p>\u3000</p>")
    return [Block(first)] + [Block(rng.choice(forms)) for _ in range(rng.randint(0, 2))]


def _decorated_paragraph(
    sentences: list[str], variation: str, link: tuple[str, str] | None = None
) -> Block:
    """A paragraph whose HTML carries an inline variation, and its expected text."""
    text = " ".join(sentences)
    parts = [_text_html(s) for s in sentences]
    if variation == "strong":
        parts[0] = f"<strong>{parts[0]}</strong>"
        html = " ".join(parts)
    elif variation == "br" and len(parts) > 1:
        html = "<br>\n".join(parts)
    elif variation == "br":
        html = parts[0] + "<br>\n"
    elif variation == "nbsp":
        html = "&nbsp; ".join(parts) if len(parts) > 1 else parts[0].replace(" ", "&nbsp;", 2)
    elif variation == "body_link" and link is not None:
        href, title = link
        text = f"{text} ECNS earlier reported on the subject: {title}."
        anchor = f'<a href="{href}">{_text_html(title)}</a>'
        parts.append(f"ECNS earlier reported on the subject: {anchor}.")
        html = " ".join(parts)
    else:
        html = " ".join(parts)
    return _para(html, text)


def _link_target(rng: random.Random, story: Story, stories: Sequence[Story]) -> tuple[str, str]:
    listed = [s for s in stories if s.expect == DELIVERED and s.listed_in and s is not story]
    targets = [s for s in listed if s.published < story.published] or listed
    target = rng.choice(targets)
    return site_href(target.path, _weighted(rng, LINK_FORMS)), target.title


def _make_body(
    story: Story, tg: TextGen, stories: Sequence[Story], leading: int = 0
) -> list[Block]:
    """The body blocks of a story; ``leading`` counts the stories before it that
    start with empty paragraphs."""
    rng = tg.rng
    if story.expect in (NOT_FOUND_EXPECT, NO_BODY_EXPECT) or story.twin is not None:
        return []
    if story.expect == SPAM_PAGE:
        return [Block(f"<p>{html}</p>") for html in spam.gambling_body(rng)]
    v = story.variations
    text = story.text or tg.story(story.topic)
    if story.kind == "gallery":
        blocks = [_plain(text.lead())] if rng.random() < 0.5 else []
        for _ in range(rng.randint(3, 5)):
            blocks += _photo(rng, text, story, caption=True, chinanews=rng.random() < 0.3)
        return blocks
    if story.kind == "video":
        src = f"https://video.chinanews.com/flv/{story.published:%Y/%m/%d}/{story.article_id}.mp4"
        player = (
            f'<div class="video-box"><video id="video_{story.article_id}" class="video-js" '
            f'controls preload="none" poster="{_image_src(rng, story, True)}">'
            f'<source src="{src}" type="video/mp4"></video></div>'
        )
        return [Block(player), *[_plain(text.lead()) for _ in range(rng.randint(1, 2))]]

    # Prose paragraphs, then the variations woven in.
    paragraphs: list[list[str]] = [[text.lead(), *text.sentences(rng.randint(0, 1))]]
    for _ in range(rng.randint(3, 6)):
        paragraphs.append(text.sentences(rng.randint(1, 3)))
    if "ecns_lead" in v:
        paragraphs[0][0] = "(ECNS) -- " + paragraphs[0][0]
    if "city_list" in v:
        paragraphs[rng.randint(1, len(paragraphs) - 1)].append(text.city_enumeration())
    if "chinese_name" in v:
        paragraphs[rng.randint(1, len(paragraphs) - 1)].insert(0, text.chinese_name_sentence())

    inline = [name for name in ("strong", "br", "nbsp", "body_link") if name in v]
    slots = rng.sample(range(1, len(paragraphs)), min(len(inline), len(paragraphs) - 1))
    decorations = dict(zip(slots, inline, strict=False))
    link = _link_target(rng, story, stories) if "body_link" in v else None
    blocks: list[Block] = []
    for i, sentences in enumerate(paragraphs):
        if i in decorations:
            if len(sentences) < 2:  # a <br> or an nbsp sits between two sentences
                sentences.append(text.sentence())
            blocks.append(_decorated_paragraph(sentences, decorations[i], link))
        else:
            blocks.append(_plain(" ".join(sentences)))

    if "subheading" in v:
        for _ in range(rng.randint(1, 2)):
            heading = text.subheading()
            html = f"<strong>{heading}</strong>" if rng.random() < 0.5 else heading
            blocks.insert(rng.randint(2, len(blocks)), _para(html, heading))
    if "photo" in v or "photo_no_caption" in v:
        photos: list[Block] = []
        if "photo" in v:
            for _ in range(rng.randint(1, 2)):
                photos += _photo(rng, text, story, caption=True, chinanews=rng.random() < 0.35)
        if "photo_no_caption" in v:
            photos += _photo(rng, text, story, caption=False, chinanews=rng.random() < 0.35)
        at = 0 if rng.random() < 0.6 else rng.randint(1, len(blocks) - 1)
        # A photo is never placed right before another photo's caption.
        while at < len(blocks) and blocks[at].text and at > 0 and blocks[at - 1].image:
            at += 1
        blocks[at:at] = photos
    if "byline" in v:
        blocks.insert(0, _plain(text.byline()))

    # Spam injected into the body container, between or after real paragraphs.
    for name, make in (
        ("spam_hidden_div", lambda: Block(spam.hidden_div(rng))),
        ("spam_spider_pool", lambda: Block(f"<p>{spam.spider_pool(rng)}</p>")),
        ("spam_offsite_links", lambda: Block(spam.offsite_paragraph(rng))),
    ):
        if name in v:
            # The hidden block sits between paragraphs; the others also at the end.
            between = rng.randint(1, len(blocks) - 1)
            at = between if name == "spam_hidden_div" else rng.choice((len(blocks), between))
            while 0 < at < len(blocks) and blocks[at - 1].image:
                at += 1  # keep a photo next to its caption
            blocks.insert(at, make())
    if "leading_empty_p" in v:
        blocks[0:0] = _leading_empties(rng, leading)
    return blocks


def _assign_related(rng: random.Random, stories: list[Story]) -> None:
    """Up to two older stories of the same path, listed or sidebar-only."""
    by_prefix: dict[str, list[Story]] = {}
    for s in sorted(stories, key=lambda s: s.published):
        if s.expect in (DELIVERED, NOT_LISTED) and s.kind == "article":
            by_prefix.setdefault(s.path_prefix, []).append(s)
    for story in stories:
        if not story.has_page or story.kind != "article" or rng.random() < SHARE_OF_NO_RELATED:
            continue
        older = [s for s in by_prefix.get(story.path_prefix, []) if s.published < story.published]
        story.related = rng.sample(older[-20:], min(2, len(older)))


def _make_listings(rng: random.Random, stories: list[Story], scale: int) -> dict[str, list[Entry]]:
    listings: dict[str, list[Entry]] = {}
    for listing in LISTINGS:
        listed = _sorted_newest_first([s for s in stories if listing.slug in s.listed_in])
        if listing.slug == "politics":
            # Stories listed twice on one page: both entries on the same page, so
            # never the last item of a page.
            twice = [
                s
                for i, s in enumerate(listed)
                if i % PAGE_SIZE < PAGE_SIZE - 2 and s.is_regular and not s.variations & {"no_time"}
            ]
            for s in _pick(rng, twice, LISTED_TWICE * scale):
                s.variations.add("listed_twice")
        entries = []
        for story in listed:
            if "cross_posted" in story.variations:
                # The same story under two forms, one in each listing.
                form = "https" if listing.slug == "politics" else "relative"
            else:
                form = _weighted(rng, LINK_FORMS)
            title_html = escape(story.listing_title or story.title, quote=False)
            if rng.random() < 0.3:
                title_html = title_html.replace("'", "&#39;")
            entries.append(Entry(story, site_href(story.path, form), title_html))
            if "listed_twice" in story.variations:
                other = "http" if form != "http" else "protocol"
                entries.append(Entry(story, site_href(story.path, other), title_html))
        listings[listing.slug] = entries
    return listings


def _make_pools(
    rng: random.Random, stories: list[Story], scale: int
) -> tuple[list[Story], list[Story], list[Story], list[Story]]:
    """Stories the sidebars rotate through: every sidebar-only story, and a sample of
    listed ones (a crawler following sidebars would leave its sections)."""
    articles = [s for s in stories if s.kind == "article"]
    sidebar_only = [s for s in articles if s.expect == NOT_LISTED]
    listed = [s for s in articles if s.expect == DELIVERED and s.listed_in]
    pools = []
    for _ in range(2):
        # Sidebar-only and listed stories alternate, so every sidebar shows both.
        only, others = list(sidebar_only), _pick(rng, listed, len(sidebar_only))
        rng.shuffle(only)
        pools.append([s for pair in zip(only, others, strict=True) for s in pair])
    popular, top = pools
    photos = _sorted_newest_first([s for s in stories if s.kind == "gallery" and s.has_page])
    videos = _sorted_newest_first([s for s in stories if s.kind == "video" and s.has_page])
    return popular, top, photos, videos


def _new_story(seed: int, k: int, base_prefixes: set[str], base: list[Story]) -> Story:
    """The k-th story published by ``new_on_top``: its own random stream, so the first
    four of ``new_on_top=8`` are the four of ``new_on_top=4``."""
    rng = random.Random(f"{seed}:new:{k}")
    prefix_rng = random.Random(f"{seed}:new-prefix")
    while True:
        prefix = "he" + "".join(prefix_rng.choices(string.ascii_lowercase, k=5))
        if prefix not in base_prefixes:
            break
    story = Story(
        "/news/politics/",
        NEW_STORIES_START + k * NEW_STORY_GAP,
        "politics",
        ["politics"],
        article_id=f"i{prefix}{1_000_000 + 37 * k:07d}",
        new=True,
    )
    tg = TextGen(rng)
    story.text, story.title = _unique_title(tg, "politics", {s.title for s in base})
    story.source = _weighted(rng, SOURCES)
    story.editor = rng.choice(EDITORS)
    story.editor_style = _weighted(rng, EDITOR_STYLE_WEIGHTS)
    story.variations.add(story.editor_style)
    story.blocks = _make_body(story, tg, base)
    older = [s for s in base if s.path_prefix == "/news/politics/" and s.expect == DELIVERED]
    story.related = rng.sample(older, 2)
    story.sidebar_index = len(base) + k
    return story


# --- Near copies -------------------------------------------------------------------


def plain_text(story: Story) -> str:
    """The story's paragraphs, one a line: what an editor re-publishing it starts from."""
    return "\n".join(b.text for b in story.blocks if b.text)


def _copy_blocks(body: str) -> list[Block]:
    """A copy's body as the page prints it: a ``<p>`` a line, an empty one for a blank
    line (the punctuation edit doubles line breaks)."""
    lines = body.strip("\n").split("\n")
    return [_plain(line.strip()) if line.strip() else Block("<p></p>") for line in lines]


def _copyable(story: Story) -> bool:
    return (
        story.is_regular
        and story.path_prefix in COPY_PREFIXES
        and not story.variations & NOT_COPIED
        and any(b.text for b in story.blocks)
    )


def _home(prefix: str) -> str:
    """The listing a story under ``prefix`` belongs to."""
    return "cns-wire" if prefix in ("/cns-wire/", "/news/cns-wire/") else "politics"


def _bucket(when: datetime) -> int:
    return (when - DATE_START).days // 10


class _Ids:
    """The ids of a model's stories, to give stories added among them ids as the site
    would: the letters of their ten days, digits just above those of the stories
    published before them (ids grow with time)."""

    def __init__(self, stories: Sequence[Story]) -> None:
        self.used = {s.article_id for s in stories}
        self.letters = {s.article_id[1:8] for s in stories}
        self.buckets: dict[int, list[tuple[datetime, int, str]]] = {}
        for s in stories:
            if s.article_id and not s.new:
                entry = (s.published, int(s.article_id[8:]), s.article_id[1:8])
                self.buckets.setdefault(_bucket(s.published), []).append(entry)

    def fresh(self, rng: random.Random, published: datetime) -> str:
        same = self.buckets.get(_bucket(published))
        if same:
            prefix = same[0][2]
            earlier = [n for when, n, _ in same if when <= published]
            number = max(earlier) if earlier else min(n for _, n, _ in same) - 50
        else:
            prefix = "he" + "".join(rng.choices(string.ascii_lowercase, k=5))
            while prefix in self.letters:
                prefix = "he" + "".join(rng.choices(string.ascii_lowercase, k=5))
            number = rng.randint(100_000, 4_000_000)
        number += 1
        while f"i{prefix}{number:07d}" in self.used:
            number += 1
        self.used.add(f"i{prefix}{number:07d}")
        self.letters.add(prefix)
        return f"i{prefix}{number:07d}"


def _near_copy_story(
    rng: random.Random,
    original: Story,
    kind: str,
    made: tuple[str, str],
    *,
    prefix: str,
    listed_in: list[str],
    published: datetime,
    article_id: str,
) -> Story:
    title, body = made
    copy = Story(
        prefix,
        published,
        original.topic,
        listed_in,
        expect=DUPLICATE,
        article_id=article_id,
        title=" ".join(title.split()),
        copy_of=original,
        edit=kind,
    )
    # Whoever re-posts it: the agency's own copy when it carries the lead.
    copy.source = ECNS_SOURCE if body.lstrip().startswith("(ECNS)") else original.source
    copy.editor = rng.choice(EDITORS)
    copy.editor_style = "editor_two_spaces"
    copy.variations |= {"near_copy", copy.editor_style}
    copy.blocks = _copy_blocks(body)
    return copy


class _NearCopier:
    """Makes near copies of a model's stories (one copy an original at most) and adds
    them to its story list."""

    def __init__(
        self,
        rng: random.Random,
        stories: list[Story],
        originals_before: datetime | None = NEAR_COPY_ORIGINALS_BEFORE,
    ) -> None:
        self.rng = rng
        self.stories = stories
        self.originals_before = originals_before
        # Sentences an editor adds come from other stories of the site (a sample: the
        # donors' sentences are counted, and large replicas have thousands).
        bodies = [s for s in stories if s.expect == DELIVERED and s.blocks]
        sample = rng.sample(bodies, min(DONOR_SAMPLE, len(bodies)))
        self.donors = donor_bodies([plain_text(s) for s in sample])
        self.copied: set[Story] = set()
        self.ids = _Ids(stories)
        self.pools: dict[str, list[Story]] = {}
        for s in stories:
            if _copyable(s) and (originals_before is None or s.published < originals_before):
                self.pools.setdefault(s.listed_in[0], []).append(s)

    def candidates(self, home: str) -> list[Story]:
        return [s for s in self.pools.get(home, ()) if s not in self.copied]

    def copy(self, kind: str, home: str, *, same_listing: bool) -> Story:
        """A copy with edit ``kind`` of a story listed in ``home``, published after it,
        in its listing (``same_listing``) or in the listing of the copy's own path."""
        rng = self.rng
        pool = self.candidates(home) or self.candidates("politics")
        # Stories in random order (a few suffice: most stories take most edits).
        tries = rng.sample(pool, min(len(pool), 40))
        for original in [*tries, *(s for s in pool if s not in tries)]:
            made = near_copy(kind, rng, original.title, plain_text(original), self.donors)
            if made is not None:
                break
        else:
            raise ValueError(f"no story left to copy with the edit {kind!r}")
        prefixes = COPY_PREFIXES[original.path_prefix]
        if same_listing:
            listing = next(x for x in LISTINGS if x.slug == original.listed_in[0])
            prefixes = tuple(p for p in prefixes if p in listing.stories) or prefixes
        else:  # often another section, sometimes its own
            prefixes = (*prefixes, original.path_prefix)
        prefix = rng.choice(prefixes)
        low, high = NEAR_COPY_DELAY
        delay = timedelta(seconds=rng.randint(int(low.total_seconds()), int(high.total_seconds())))
        published = original.published + delay
        copy = _near_copy_story(
            rng,
            original,
            kind,
            made,
            prefix=prefix,
            listed_in=list(original.listed_in) if same_listing else [_home(prefix)],
            published=published,
            article_id=self.ids.fresh(rng, published),
        )
        self.stories.append(copy)
        self.copied.add(original)
        return copy

    def replace(self, old: Story) -> Story:
        """Another copy of the same kind in the same listing, of another story; the
        old original may be copied again later."""
        self.stories.remove(old)
        new = self.copy(old.edit or "", old.listed_in[0], same_listing=True)
        if old.copy_of is not None:
            self.copied.discard(old.copy_of)
        return new


# Tries at placing every copy on its original's listing page (a few are enough at
# scale 1; at large scales a few pairs may be left straddling two pages).
PLACEMENT_ATTEMPTS = 50
PLACEMENT_PATIENCE = 20  # tries without fewer split pairs before settling, at scale 1
# Stories whose sentences near copies may add.
DONOR_SAMPLE = 300


def _split_pairs(listings: dict[str, list[Entry]]) -> list[Story]:
    """The copies (near or exact) listed on another page than their original."""
    split: list[Story] = []
    for entries in listings.values():
        page_of = {id(e.story): i // PAGE_SIZE for i, e in enumerate(entries)}
        for e in entries:
            first = e.story.copy_of or e.story.twin
            if (
                first is not None
                and page_of.get(id(first), page_of[id(e.story)]) != page_of[id(e.story)]
            ):
                split.append(e.story)
    return split


def _add_near_copies(
    seed: int, rng: random.Random, stories: list[Story], scale: int
) -> dict[str, list[Entry]]:
    """Near copies of the generated stories (each edit kind, ``NEAR_COPIES`` a scale,
    some in Ecns Wire), and the listings holding them.

    Each copy is put on its original's listing page, and so is each exact twin
    (copies push stories down the pages): a crawl fetches a page's stories oldest
    first, so it meets the original first and the end-to-end tests know which of
    the two it delivers. A copy split from its original is made again (of another
    story), and so is one copy drawn at random for each split twin (to shift it),
    then the listings are drawn again from the same random state. Should a pair
    still straddle two pages (large scales), a crawl meets the copy first, which
    the truth allows: either of a pair may be the one delivered."""
    snapshot = rng.getstate()
    copy_rng = random.Random(f"{seed}:near-copies")
    copier = _NearCopier(copy_rng, stories)
    copies = [
        copier.copy(kind, "cns-wire" if i % 3 == 2 else "politics", same_listing=True)
        for i, kind in enumerate(list(NEAR_COPY_EDITS) * (NEAR_COPIES * scale))
    ]
    by_date = sorted(stories, key=lambda s: s.published)
    best, stale = len(stories), 0
    for attempt in range(PLACEMENT_ATTEMPTS):
        listings = _make_listings(rng, stories, scale)
        split = _split_pairs(listings)
        best, stale = (len(split), 0) if len(split) < best else (best, stale + 1)
        # Done, or no better for a while (large replicas, for benchmarks: there
        # which of a pair is delivered does not matter).
        patience = max(3, PLACEMENT_PATIENCE // scale)
        if not split or stale >= patience or attempt == PLACEMENT_ATTEMPTS - 1:
            break
        redo = [s for s in split if s.copy_of is not None]
        redo += [copy_rng.choice(copies) for s in split if s.twin is not None]
        for old in dict.fromkeys(redo):
            copies[copies.index(old)] = copier.replace(old)
        rng.setstate(snapshot)
        for s in stories:
            s.variations.discard("listed_twice")
    for copy in copies:
        older = [
            s
            for s in by_date
            if s.path_prefix == copy.path_prefix
            and s.expect == DELIVERED
            and s.kind == "article"
            and s.published < copy.published
        ]
        copy.related = copy_rng.sample(older[-20:], min(2, len(older)))
    return listings


# Copies published on top for a second run: each near edit in turn, then an exact copy.
NEW_COPY_KINDS = (*NEAR_COPY_EDITS, "exact")


def _new_prefix(seed: int, stories: Sequence[Story]) -> str:
    """The id letters of stories published on top (not those of any older story)."""
    known = {s.article_id[1:8] for s in stories}
    prefix_rng = random.Random(f"{seed}:new-prefix")
    while True:
        prefix = "he" + "".join(prefix_rng.choices(string.ascii_lowercase, k=5))
        if prefix not in known:
            return prefix


def _new_copies(
    seed: int, count: int, stories: Sequence[Story], start: datetime, first_index: int
) -> list[Story]:
    """``count`` copies of older stories published on top, among the new stories: a
    second run meets copies of what the first run delivered. The k-th copy is the
    same whatever ``count`` (its own random stream, originals taken in turn)."""
    prefix = _new_prefix(seed, stories)
    copier = _NearCopier(random.Random(f"{seed}:new-copies"), list(stories), None)
    out: list[Story] = []
    for k in range(count):
        rng = random.Random(f"{seed}:new-copy:{k}")
        copier.rng = rng
        kind = NEW_COPY_KINDS[k % len(NEW_COPY_KINDS)]
        home = "cns-wire" if k % 3 == 2 and copier.candidates("cns-wire") else "politics"
        copy = copier.copy("retitled" if kind == "exact" else kind, home, same_listing=False)
        copier.stories.remove(copy)
        if kind == "exact":  # the same story published again at another id
            original = copy.copy_of
            assert original is not None
            copy.copy_of, copy.edit, copy.twin = None, None, original
            copy.title, copy.blocks = original.title, list(original.blocks)
            copy.source = original.source
            copy.variations = {"duplicate", copy.editor_style or ""}
        copy.published = start + k * NEW_STORY_GAP + timedelta(minutes=23)
        copy.article_id = f"i{prefix}{1_000_019 + 37 * k:07d}"
        copy.new = True
        copy.sidebar_index = first_index + k
        out.append(copy)
    return out


def _publish_on_top(listings: dict[str, list[Entry]], new: Sequence[Story]) -> None:
    """New stories on top of their listings, newest first."""
    for story in sorted(new, key=lambda s: (s.published, s.article_id)):
        href = site_href(story.path, "https")
        listings[story.listed_in[0]].insert(0, Entry(story, href, escape(story.title, quote=False)))


# --- A replica built from real texts -------------------------------------------------

# Near copies and exact twins a text, and texts held back for ``new_on_top`` when no
# reserve is given (a first build must hold back what a second publishes on top).
TEXT_NEAR_COPY_SHARE = 0.05
TEXT_TWIN_SHARE = 1 / 200  # two pairs in the real 447-text politics export
TEXT_CROSS_POSTS = 2  # Ecns Wire stories also listed in politics
TEXT_RESERVE_SHARE = 0.1
# The markup variations that make sense around a real text, in stories a hundred:
# those that add no words to it (bylines, subheadings, captions and body links
# would put our text into theirs). A headline variation on a character applies only
# to headlines holding it.
TEXT_VARIATIONS = {
    "title_amp": 1.0,
    "title_apos_entity": 2.0,
    "title_quot": 1.0,
    "title_nbsp": 1.0,
    "title_em": 1.0,
    "title_spaces": 1.0,
    "no_h1": 1.0,
    "empty_h1": 0.5,
    "title_tag_only": 0.5,
    "no_time": 2.0,
    "source_empty": 1.5,
    "no_editor": 1.5,
    "leading_empty_p": 2.0,
    "strong": 2.0,
    "br": 1.5,
    "nbsp": 2.0,
    "photo_no_caption": 1.0,
    "spam_spider_pool": 1.5,
    "spam_hidden_div": 1.5,
    "spam_offsite_links": 1.5,
    "spam_after_footer": 2.0,
}
_TITLE_NEEDS = {"title_amp": "&", "title_apos_entity": "'", "title_quot": '"'}


def default_reserve(texts: int) -> int:
    return int(texts * TEXT_RESERVE_SHARE)


def build_text_model(
    texts: Sequence[RealText],
    seed: int = 7,
    *,
    new_on_top: int = 0,
    new_copies: int = 0,
    reserve: int | None = None,
) -> SiteModel:
    """The site built around real texts: one story a text (politics, or Ecns Wire for
    texts from there), dated by their listing dates, with the markup variations that
    fit a real text, exact twins, cross-posts and near copies made from the texts.

    The last ``reserve`` texts are held back: ``new_on_top`` (at most ``reserve``)
    publishes the first of them on top of their listings, and ``new_copies`` copies of
    older stories among them, as the site looks at a second run. Deterministic for
    the texts and a seed."""
    reserve = default_reserve(len(texts)) if reserve is None else reserve
    if not 0 <= reserve < len(texts):
        raise ValueError(f"reserve must be between 0 and {len(texts) - 1}")
    if new_on_top < 0 or new_copies < 0:
        raise ValueError("new_on_top and new_copies must not be negative")
    if new_on_top > reserve:
        raise ValueError(
            f"{new_on_top} new stories need as many texts held back (reserve {reserve})"
        )
    rng = random.Random(seed)
    base, held = texts[: len(texts) - reserve], texts[len(texts) - reserve :]
    days = sorted(d for d in (t.day for t in base) if d is not None)
    first_day = datetime.combine(days[0], datetime.min.time()) if days else DATE_START
    span = (days[-1] - days[0]).days + 1 if days else DATE_DAYS
    stories: list[Story] = []
    paragraphs: dict[Story, list[str]] = {}
    for t in base:
        day = datetime.combine(t.day, datetime.min.time()) if t.day else None
        day = day or first_day + timedelta(days=rng.randrange(span))
        when = day + timedelta(seconds=rng.randint(6 * 3600, 23 * 3600 + 3599))
        story = Story(t.path_prefix, when, "politics", [_home(t.path_prefix)], title=t.title)
        stories.append(story)
        paragraphs[story] = t.paragraphs

    # Exact twins: published again a few minutes later at another id.
    regular = [s for s in stories if s.listed_in == ["politics"] and s.published.hour < 22]
    for first in _pick(rng, regular, math.ceil(len(base) * TEXT_TWIN_SHARE)):
        second = Story(
            first.path_prefix,
            first.published + timedelta(minutes=rng.randint(3, 50)),
            first.topic,
            list(first.listed_in),
            expect=DUPLICATE,
            title=first.title,
            twin=first,
        )
        first.variations.add("duplicate")
        second.variations.add("duplicate")
        stories.append(second)
    wire = [s for s in stories if s.listed_in == ["cns-wire"]]
    for s in _pick(rng, wire, TEXT_CROSS_POSTS):
        s.listed_in.append("politics")
        s.variations.add("cross_posted")

    _assign_ids(rng, stories)
    _assign_text_variations(rng, stories, paragraphs)
    leading = 0
    for s in stories:
        if s.twin is None:
            s.blocks = _text_blocks(rng, s, paragraphs[s], leading)
            leading += "leading_empty_p" in s.variations
    for s in stories:
        if s.twin is not None:
            s.source, s.editor, s.editor_style = s.twin.source, s.twin.editor, s.twin.editor_style
            s.blocks = list(s.twin.blocks)
        if s.editor_style:
            s.variations.add(s.editor_style)

    copier = _NearCopier(random.Random(f"{seed}:near-copies"), stories, originals_before=None)
    count = max(len(NEAR_COPY_EDITS), round(len(base) * TEXT_NEAR_COPY_SHARE))
    kinds = list(NEAR_COPY_EDITS)
    for i in range(count):
        home = "cns-wire" if i % 4 == 3 and copier.candidates("cns-wire") else "politics"
        copier.copy(kinds[i % len(kinds)], home, same_listing=False)

    _assign_related(rng, stories)
    listings = _make_listings(rng, stories, 1)
    listed = [s for s in stories if s.expect == DELIVERED and s.listed_in]
    popular, top = (_pick(rng, listed, 10) for _ in range(2))
    for i, story in enumerate(stories):
        story.sidebar_index = i

    start = datetime.combine(max(s.published for s in stories).date(), datetime.min.time())
    start += timedelta(days=1, hours=8, minutes=5)
    new_prefix = _new_prefix(seed, stories)
    new = [
        _new_text_story(seed, k, t, new_prefix, start, stories)
        for k, t in enumerate(held[:new_on_top])
    ]
    new += _new_copies(seed, new_copies, stories, start, len(stories) + len(new))
    _publish_on_top(listings, new)
    return SiteModel(stories + new, listings, popular, top, [], [], seed=seed)


def _assign_text_variations(
    rng: random.Random, stories: list[Story], paragraphs: dict[Story, list[str]]
) -> None:
    """Markup variations, source and editor of the stories made from texts."""
    own = [s for s in stories if s.twin is None]
    regular = [s for s in own if s.is_regular]
    headline_free = set(regular)
    for name, per_hundred in TEXT_VARIATIONS.items():
        count = math.ceil(len(own) * per_hundred / 100)
        exclusive = name.startswith("title_") or name in ("no_h1", "empty_h1", "no_time")
        pool = [
            s
            for s in regular
            if (not exclusive or s in headline_free)
            and _TITLE_NEEDS.get(name, "") in s.title
            and (name not in ("title_nbsp", "title_em", "title_spaces") or len(s.title.split()) > 2)
            and not (name == "source_empty" and "no_time" in s.variations)
            and not (name == "no_time" and "source_empty" in s.variations)
        ]
        if name in ("br", "nbsp"):  # a <br> or an nbsp sits between two sentences
            pool = [s for s in pool if any(len(units(p)) > 1 for p in paragraphs[s])]
        for s in _pick(rng, pool, count):
            s.variations.add(name)
            if exclusive:
                headline_free.discard(s)
    for s in own:
        if paragraphs[s][0].startswith("(ECNS)"):
            s.variations.add("ecns_lead")
            s.source = ECNS_SOURCE
        else:
            s.source = _weighted(rng, SOURCES)
        _source_emptied_and_editor(rng, s)


def _image_only(rng: random.Random, story: Story) -> Block:
    src = _image_src(rng, story, chinanews=rng.random() < 0.35)
    style = ' style="text-align: center;"' if rng.random() < 0.6 else ""
    return Block(f'<p{style}><img src="{src}" alt="" /></p>', image=src)


def _text_blocks(
    rng: random.Random, story: Story, paragraphs: list[str], leading: int = 0
) -> list[Block]:
    """The body blocks of a real text: its paragraphs, with the story's inline
    variations, a photo without caption, link spam and leading empty paragraphs."""
    v = story.variations
    decorations: dict[int, str] = {}
    order = rng.sample(range(len(paragraphs)), len(paragraphs))
    for name in ("strong", "br", "nbsp"):
        if name not in v:
            continue
        for i in order:
            if i not in decorations and (name == "strong" or len(units(paragraphs[i])) > 1):
                decorations[i] = name
                break
    blocks = [
        _decorated_paragraph([u[1] for u in units(p)], decorations[i])
        if i in decorations
        else _plain(p)
        for i, p in enumerate(paragraphs)
    ]
    if "photo_no_caption" in v:
        blocks.insert(
            0 if rng.random() < 0.6 else rng.randint(0, len(blocks)), _image_only(rng, story)
        )
    for name, make in (
        ("spam_hidden_div", lambda: Block(spam.hidden_div(rng))),
        ("spam_spider_pool", lambda: Block(f"<p>{spam.spider_pool(rng)}</p>")),
        ("spam_offsite_links", lambda: Block(spam.offsite_paragraph(rng))),
    ):
        if name in v:
            between = rng.randint(1, len(blocks) - 1) if len(blocks) > 1 else 1
            at = between if name == "spam_hidden_div" else rng.choice((len(blocks), between))
            blocks.insert(at, make())
    if "leading_empty_p" in v:
        blocks[0:0] = _leading_empties(rng, leading)
    return blocks


def _new_text_story(
    seed: int, k: int, text: RealText, prefix: str, start: datetime, base: list[Story]
) -> Story:
    """The k-th held-back text published on top: its own random stream, so the first
    of ``new_on_top=8`` are those of ``new_on_top=4``."""
    rng = random.Random(f"{seed}:new:{k}")
    story = Story(
        text.path_prefix,
        start + k * NEW_STORY_GAP,
        "politics",
        [_home(text.path_prefix)],
        article_id=f"i{prefix}{1_000_000 + 37 * k:07d}",
        title=text.title,
        new=True,
    )
    story.source = (
        ECNS_SOURCE if text.body.lstrip().startswith("(ECNS)") else _weighted(rng, SOURCES)
    )
    story.editor = rng.choice(EDITORS)
    story.editor_style = _weighted(rng, EDITOR_STYLE_WEIGHTS)
    story.variations.add(story.editor_style)
    story.blocks = _text_blocks(rng, story, text.paragraphs)
    older = [s for s in base if s.path_prefix == story.path_prefix and s.expect == DELIVERED]
    story.related = rng.sample(older, min(2, len(older)))
    story.sidebar_index = len(base) + k
    return story
