"""Corrections end to end: recent delivered stories are fetched again, and one
whose text changed is delivered again with the next ``version``; the same page,
or one changed only in case, is not; a story past the revisit window is not
fetched at all.

The replica's stories are dated in the past, so the test makes four of them
recent in the state (publication and last fetch times), as if the first run had
crawled them an hour after publication, then edits their pages on disk.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newscrawl.state import DB_NAME
from replica.localrun import crawl, read_jsonl
from tests.conftest import Replica, crawl_stat

HOUR = 3600
SECTIONS = {"sections": "politics"}


@dataclass
class Run:
    result: subprocess.CompletedProcess[str]
    items: list[dict]

    def stat(self, name: str) -> int:
        return crawl_stat(self.result.stderr, name)


@dataclass
class Story:
    item: dict  # as the first run delivered it
    page: Path

    def edit(self, old: str, new: str) -> None:
        html = self.page.read_text(encoding="utf-8")
        assert html.count(old) == 1, old
        self.page.write_text(html.replace(old, new), encoding="utf-8")


def a_word_of(story: Story) -> str:
    """A long word of the body that the page holds once (so only the body changes)."""
    html = story.page.read_text(encoding="utf-8")
    words = re.findall(r"\b[a-z]{8,}\b", story.item["body"])
    return next(w for w in words if html.count(w) == 1)


@pytest.fixture(scope="module")
def runs(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("corrections")
    output, state = work / "output", work / "state"

    def run() -> Run:
        before = set(output.glob("*.jsonl"))
        result = crawl(replica.base_url, output, state, spider_args=SECTIONS)
        files = sorted(set(output.glob("*.jsonl")) - before)
        return Run(result, [item for path in files for item in read_jsonl(path)])

    first = run()
    assert first.result.returncode == 0, first.result.stderr[-3000:]
    site = replica.root / "site"
    stories = [
        Story(item, site / urlsplit(item["url"]).path.lstrip("/"))
        for item in sorted(first.items, key=lambda item: item["url"])
    ]
    corrected, same, recased, too_old, gone = stories[:5]
    now = int(time.time())
    with sqlite3.connect(state / DB_NAME) as db:
        for story in (corrected, same, recased, gone):  # published 5 h ago, fetched 1 h later
            db.execute(
                "UPDATE stories SET published_at = ?, fetched_at = ? WHERE url = ?",
                (now - 5 * HOUR, now - 4 * HOUR, story.item["url"]),
            )
        db.execute(  # past the 48-hour window
            "UPDATE stories SET published_at = ?, fetched_at = ? WHERE url = ?",
            (now - 50 * HOUR, now - 49 * HOUR, too_old.item["url"]),
        )
    word = a_word_of(corrected)
    corrected.edit(word, word[:-1])
    word = a_word_of(recased)
    recased.edit(word, word.upper())
    word = a_word_of(too_old)
    too_old.edit(word, word[:-1])
    page = gone.page.read_bytes()
    gone.page.unlink()  # taken down after delivery: HTTP 404
    second = run()
    third = run()

    def due_again() -> None:  # as if its next revisit had come
        with sqlite3.connect(state / DB_NAME) as db:
            db.execute(
                "UPDATE stories SET fetched_at = ? WHERE url = ?",
                (now - 4 * HOUR, gone.item["url"]),
            )

    due_again()
    fourth = run()  # gone again, in a later run: withdrawn
    gone.page.write_bytes(page)  # put back
    due_again()
    fifth = run()
    return {
        "first": first,
        "second": second,
        "third": third,
        "fourth": fourth,
        "fifth": fifth,
        "corrected": corrected,
        "gone": gone,
        "output": output,
    }


def newest_manifest(output: Path) -> dict:
    return json.loads(sorted(output.glob("*.manifest.json"))[-1].read_text())


def test_runs_with_revisits_exit_zero(runs: dict) -> None:
    for name in ("second", "third"):
        assert runs[name].result.returncode == 0, runs[name].result.stderr[-3000:]


def test_only_the_changed_recent_story_is_delivered_again(runs: dict) -> None:
    first, second, corrected = runs["first"], runs["second"], runs["corrected"]
    assert all(item["version"] == 1 for item in first.items)
    assert [item["url"] for item in second.items] == [corrected.item["url"]]
    again = second.items[0]
    assert again["version"] == 2
    assert again["article_id"] == corrected.item["article_id"]
    assert again["body"] != corrected.item["body"]
    assert again["title"] == corrected.item["title"]


def test_revisits_are_counted_and_cost_one_request_each(runs: dict) -> None:
    second = runs["second"]
    assert second.stat("newscrawl/revisits_requested") == 4
    assert second.stat("newscrawl/revisits_unchanged") == 2
    assert second.stat("newscrawl/corrections") == 1
    assert second.stat("newscrawl/revisits_gone") == 1
    # The listing's known first page, and the four revisits: nothing else.
    listings, robots = (
        second.stat("newscrawl/listing_pages"),
        second.stat("robotstxt/request_count"),
    )
    assert listings == 1
    assert second.stat("downloader/request_count") == listings + 4 + robots


def test_a_story_gone_after_delivery_is_reported_and_not_fetched_at_every_run(
    runs: dict,
) -> None:
    second = runs["second"]
    assert re.search(r"Delivered story \S+ is gone \(HTTP 404\)", second.result.stderr)
    assert runs["third"].stat("newscrawl/revisits_requested") == 0  # due on its schedule


def test_the_next_run_does_not_revisit_what_was_just_fetched(runs: dict) -> None:
    third = runs["third"]
    assert third.stat("newscrawl/revisits_requested") == 0
    assert third.items == []


def test_a_story_gone_on_one_revisit_is_not_yet_withdrawn(runs: dict) -> None:
    assert runs["second"].stat("newscrawl/withdrawn") == 0
    assert "is gone (HTTP 404): withdrawn if a later run" in runs["second"].result.stderr


def test_a_story_gone_again_in_a_later_run_is_withdrawn_in_its_manifest(runs: dict) -> None:
    fourth, gone = runs["fourth"], runs["gone"]
    assert fourth.result.returncode == 0, fourth.result.stderr[-3000:]
    assert fourth.stat("newscrawl/withdrawn") == 1
    manifests = sorted(runs["output"].glob("*.manifest.json"))
    withdrawn = json.loads(manifests[3].read_text())["withdrawn"]
    assert [(w["article_id"], w["url"], w["status"]) for w in withdrawn] == [
        (gone.item["article_id"], gone.item["url"], 404)
    ]
    assert ", 1 withdrawn," in fourth.result.stderr.splitlines()[-1]


def test_a_withdrawn_story_that_comes_back_is_delivered_again_as_the_next_version(
    runs: dict,
) -> None:
    fifth, gone = runs["fifth"], runs["gone"]
    assert fifth.result.returncode == 0, fifth.result.stderr[-3000:]
    assert [(i["url"], i["version"]) for i in fifth.items] == [(gone.item["url"], 2)]
    assert newest_manifest(runs["output"])["withdrawn"] == []


def test_a_revisit_is_conditional_and_a_page_not_modified_costs_no_body(runs: dict) -> None:
    # The unchanged page is answered 304 to its Last-Modified; the edited ones, 200.
    second = runs["second"]
    assert second.stat("newscrawl/revisits_not_modified") == 1
    assert second.stat("downloader/response_status_count/304") == 1
