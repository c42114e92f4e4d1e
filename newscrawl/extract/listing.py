"""The items of a section listing page (``ul.bizlst li``) and of the RSS feed:
link, title, date.

Sidebars, "Top news" and the navigation carry links too; only the listing's
own items lead to the articles a section publishes.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from parsel import Selector

from newscrawl.normalize import SITE_TZ, normalize_space


@dataclass(frozen=True, slots=True)
class ListingEntry:
    href: str  # as written in the page: relative, //host/…, http(s)://…
    title: str
    date_raw: str | None  # "Jan 9, 2025"


def extract_listing(selector: Selector) -> list[ListingEntry]:
    entries = []
    for li in selector.css("ul.bizlst > li"):
        href = li.css("h3 a::attr(href)").get()
        if not href:
            continue
        entries.append(
            ListingEntry(
                href=href.strip(),
                title=normalize_space(li.css("h3 a").xpath("string()").get()),
                date_raw=normalize_space(li.css("b").xpath("string()").get()) or None,
            )
        )
    return entries


def extract_feed(selector: Selector) -> list[ListingEntry]:
    """The items of the RSS feed (``/rss/rss.xml``) as listing entries; the
    publication day stands in for a listing date."""
    entries = []
    for item in selector.xpath("//*[local-name()='item']"):
        href = normalize_space(item.xpath("string(*[local-name()='link'])").get())
        if not href:
            continue
        entries.append(
            ListingEntry(
                href=href,
                title=normalize_space(item.xpath("string(*[local-name()='title'])").get()),
                date_raw=_feed_day(item.xpath("string(*[local-name()='pubDate'])").get()),
            )
        )
    return entries


def _feed_day(pub_date: str | None) -> str | None:
    """``Sun, 12 Jan 2025 10:26:00 +0800`` → ``Jan 12, 2025`` (the day in the site's zone)."""
    try:
        moment = email.utils.parsedate_to_datetime(normalize_space(pub_date))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(SITE_TZ)
    return f"{moment:%b} {moment.day}, {moment.year}"
