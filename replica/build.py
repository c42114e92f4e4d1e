"""Write the replica to disk: the static site under ``root/site/`` and the ground
truth at ``root/truth.jsonl``.

Why a swap instead of writing in place: a server may be serving ``root/site``
while the site is rebuilt (a crawl, then new stories published on top, then
another crawl). The new site is written next to the old one and moved into place
with two renames, so a request sees the old site or the new one, not half of each.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from replica.model import (
    DELIVERED,
    DUPLICATE,
    LISTINGS,
    MISSING_LISTINGS,
    PAGE_SIZE,
    SiteModel,
    Story,
    build_model,
    build_text_model,
)
from replica.pages import render_article, render_listing, render_rss
from replica.realtexts import RealText, load_texts

SITE_DIR = "site"
TRUTH_FILE = "truth.jsonl"


def listing_page_name(page: int) -> str:
    return "index.shtml" if page == 1 else f"index_{page}.shtml"


def render_site(model: SiteModel) -> dict[str, str]:
    """Every file of the site: its path (without the leading slash) and its text."""
    files: dict[str, str] = {}
    for story in model.pages():
        files[story.path.lstrip("/")] = render_article(story, model)
    for n, listing in enumerate(LISTINGS):
        if listing.slug in MISSING_LISTINGS:
            continue
        entries = model.listings[listing.slug]
        pages = [entries[i : i + PAGE_SIZE] for i in range(0, len(entries), PAGE_SIZE)] or [[]]
        for page, chunk in enumerate(pages, start=1):
            # Sidebar rotation of listing pages: apart from the article pages' ones.
            index = 7 * n + page
            path = listing.path.lstrip("/") + listing_page_name(page)
            files[path] = render_listing(listing, page, chunk, model, index)
    files["rss/rss.xml"] = render_rss(model)
    return files


def truth_record(story: Story) -> dict[str, Any]:
    """What the crawler must do with one story URL, and the item it must deliver."""
    record: dict[str, Any] = {
        "path": story.path,
        "article_id": story.article_id,
        "expect": story.expect,
        "section": story.section,
        "listing_date": story.listing_date,
    }
    if story.expect in (DELIVERED, DUPLICATE):
        no_time = "no_time" in story.variations
        published_raw = story.listing_date if no_time else story.time
        published = story.published
        if no_time:  # the crawler falls back on the listing date, at midnight
            published = published.replace(hour=0, minute=0, second=0)
        record.update(
            title=story.title,
            published=published.isoformat() + "+08:00",
            published_raw=published_raw,
            source=story.source or None,
            editor=story.editor,
            body=story.body_text(),
            images=story.images(),
        )
    if story.twin is not None:
        record["duplicate_of"] = story.twin.path
    if story.copy_of is not None:
        # A near copy: either of the pair may be the one delivered (a crawl can meet
        # the copy first), so it is a duplicate_of like an exact twin, and says which
        # edit made it.
        record["duplicate_of"] = record["copy_of"] = story.copy_of.path
        record["edit"] = story.edit
    record["listed_in"] = list(story.listed_in)
    record["variations"] = sorted(story.variations)
    return record


def build_site(
    root: Path,
    *,
    seed: int = 7,
    new_on_top: int = 0,
    scale: int = 1,
    new_copies: int = 0,
    texts: Path | Sequence[RealText] | None = None,
    reserve: int | None = None,
) -> Path:
    """(Re)write the replica under ``root``; returns ``root/site``.

    Deterministic for a seed. ``new_on_top=N`` publishes N new stories on top of
    the politics listing (and, with ``new_copies``, that many copies of older stories
    on top of their listings) and changes nothing else but the feed; ``scale``
    multiplies the number of stories.

    ``texts`` (a JSON Lines file, or texts already read) builds the stories from real
    texts instead (``build_text_model``); their last ``reserve`` texts are held back
    for ``new_on_top``, so build both sites with the same ``reserve``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if texts is None:
        if reserve is not None:
            raise ValueError("reserve holds back real texts: it needs texts")
        model = build_model(seed, new_on_top=new_on_top, scale=scale, new_copies=new_copies)
    else:
        if scale != 1:
            raise ValueError("scale applies to generated stories, not to real texts")
        loaded = load_texts(texts) if isinstance(texts, (str, Path)) else list(texts)
        model = build_text_model(
            loaded, seed, new_on_top=new_on_top, new_copies=new_copies, reserve=reserve
        )
    site = root / SITE_DIR
    staging = root / f".{SITE_DIR}.new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    made: set[Path] = set()
    for rel, text in render_site(model).items():
        path = staging / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(text.encode("utf-8"))
    old = root / f".{SITE_DIR}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    if site.exists():
        site.rename(old)
    staging.rename(site)
    shutil.rmtree(old, ignore_errors=True)

    truth = root / TRUTH_FILE
    tmp = truth.with_suffix(".jsonl.part")
    with tmp.open("w", encoding="utf-8") as f:
        for story in sorted(model.stories, key=lambda s: s.path):
            f.write(json.dumps(truth_record(story), ensure_ascii=False) + "\n")
    tmp.replace(truth)
    return site
