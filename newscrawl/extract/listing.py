"""The items of a section listing page (``ul.bizlst li``): link, title, date.

Sidebars, "Top news" and the navigation carry links too; only the listing's
own items lead to the articles a section publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsel import Selector

from newscrawl.normalize import normalize_space


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
