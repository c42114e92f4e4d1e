"""Discovery beyond plain paging: the RSS feed for frequent runs, and backfill
down to a date (``since``). Runs ``scrapy crawl ecns`` against the replica."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from parsel import Selector

from newscrawl.extract import extract_feed
from newscrawl.normalize import parse_site_datetime
from newscrawl.state import DB_NAME
from replica import ReplicaServer, build_site
from replica.localrun import crawl, read_items
from tests.conftest import Replica, crawl_stat

POLITICS = {"sections": "politics"}


def paths(items: list[dict]) -> list[str]:
    return [urlsplit(item["url"]).path for item in items]


def feed_paths(replica: Replica) -> set[str]:
    xml = (replica.root / "site" / "rss" / "rss.xml").read_text(encoding="utf-8")
    return {urlsplit(e.href).path for e in extract_feed(Selector(text=xml, type="xml"))}


def test_feed_entries_carry_the_publication_day_in_the_sites_zone() -> None:
    xml = """<rss><channel><item><title>A</title>
      <link>https://www.ecns.cn/news/2025-01-12/detail-iabcdefg1234567.shtml</link>
      <pubDate>Sat, 11 Jan 2025 17:30:00 +0000</pubDate></item></channel></rss>"""
    (entry,) = extract_feed(Selector(text=xml, type="xml"))
    assert entry.date_raw == "Jan 12, 2025"  # 01:30 on the 12th in Beijing
    assert entry.title == "A"


def test_rss_discovers_the_feeds_stories_and_listings_do_not_deliver_them_again(
    replica: Replica, tmp_path: Path
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    first = crawl(replica.base_url, out, state, spider_args={"rss": "true", "sections": "travel"})
    assert first.returncode == 0, first.stderr[-2000:]
    from_feed = paths(read_items(out))
    offered = {s["path"] for s in replica.truth() if s["expect"] in ("delivered", "duplicate")}
    assert from_feed and set(from_feed) == feed_paths(replica) & offered
    second = crawl(replica.base_url, out, state, spider_args={"rss": "true"})
    assert second.returncode == 0, second.stderr[-2000:]
    everything = paths(read_items(out))
    assert len(everything) == len(set(everything))
    assert set(from_feed) < set(everything)


def test_backfill_since_a_date_pages_down_to_that_date_and_no_further(
    replica: Replica, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = crawl(
        replica.base_url,
        out,
        tmp_path / "state",
        spider_args={"sections": "politics", "since": "2025-01-01"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    since = date(2025, 1, 1)
    expected = {
        s["path"]
        for s in replica.truth()
        if s["expect"] == "delivered"
        and "politics" in s.get("listed_in", ())
        and parse_site_datetime(s["listing_date"]).date() >= since
    }
    assert expected and set(paths(read_items(out))) == expected
    assert "older than 2025-01-01, stop paging" in result.stderr


def test_a_story_listed_again_on_the_next_page_is_not_a_failure(tmp_path: Path) -> None:
    # New stories push the listing down while a run pages it: the first story of
    # page 1 shows again on page 2. The repeat request is dropped by the scheduler;
    # the story was answered already, so the section is still paged to its end and
    # the next run stops at known ground.
    root = tmp_path / "replica"
    build_site(root)
    listing = root / "site" / "news" / "politics"
    first_entry = re.search(r"<li><h3>.*?</li>", (listing / "index.shtml").read_text())
    assert first_entry is not None
    page_2 = (listing / "index_2.shtml").read_text()
    page_2 = page_2.replace("<li><h3>", first_entry.group(0) + "\n<li><h3>", 1)
    (listing / "index_2.shtml").write_text(page_2)
    state = tmp_path / "state"
    with ReplicaServer(root) as server:
        result = crawl(server.base_url, tmp_path / "out", state, spider_args=POLITICS)
        assert result.returncode == 0, result.stderr[-2000:]
        assert crawl_stat(result.stderr, "dupefilter/filtered") >= 1  # the repeat dropped
        with sqlite3.connect(state / DB_NAME) as db:
            assert db.execute("SELECT paged_to_end FROM sections").fetchall() == [(1,)]
        again = crawl(server.base_url, tmp_path / "out", state, spider_args=POLITICS)
        assert crawl_stat(again.stderr, "newscrawl/listing_pages") == 1, again.stderr[-2000:]
