"""The duplicate stage: exact copies (URL, id, content) and near copies, within a
run and across runs, each dropped with its own reason naming the story it copies."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from newscrawl.drops import (
    Duplicate,
    DuplicateContent,
    DuplicateId,
    DuplicateNear,
    DuplicateUrl,
    Unchanged,
)
from newscrawl.hashes import letters_and_digits, revision_hash
from newscrawl.pipelines.duplicates import DuplicatesPipeline
from newscrawl.state import DUPLICATE, RecoveredStory, StateStore
from tests.test_neardup import STORY

LONG = "\n\n".join(STORY)  # eight sentences, one a paragraph

SITE = "https://www.ecns.cn/news/politics/2025-01-10/"
BODY = "\n\n".join(
    [
        "(ECNS) -- China and Germany agreed on Tuesday to deepen cooperation on green"
        " energy, according to a statement issued after talks in Berlin.",
        "The two sides signed 12 agreements covering wind power, hydrogen and battery"
        " recycling, worth about 3.4 billion euros in total.",
        "Officials said the deals would help both economies cut carbon emissions while"
        " keeping supply chains stable.",
        "German Economy Minister Anna Vogel described the talks as frank and productive.",
        "A second round of talks is scheduled to take place in Shanghai later this year.",
    ]
)
OTHER = "\n\n".join(
    [
        "Heavy snow closed 14 highways in northeast China on Sunday, local authorities said.",
        "More than 2,000 workers were sent to clear the roads, and rail services were"
        " increased to carry stranded travelers.",
        "Forecasters expect temperatures to drop by another eight degrees this week.",
    ]
)


PUBLISHED = "2025-01-10T09:30:00+08:00"
CRAWLED = "2025-01-10T03:00:00+00:00"  # 1.5 hours after publication


def item(n: int, body: str = BODY, title: str = "China, Germany deepen green cooperation") -> dict:
    article_id = f"iaaaaaaa{n:07d}"
    return {"url": f"{SITE}detail-{article_id}.shtml", "article_id": article_id,
            "title": title, "body": body, "published": PUBLISHED,
            "crawled_at": CRAWLED}  # fmt: skip


def unix(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


class Run:
    """One crawl's duplicate stage over the state folder, and what its end does."""

    def __init__(self, folder: Path, run_id: str) -> None:
        self.state = StateStore(folder, run_id)
        self.state.start_run()  # discards what dead runs left, near-duplicate rows too
        run = SimpleNamespace(state=self.state, aborted=False)
        self.stats: Counter[str] = Counter()
        stats = SimpleNamespace(inc_value=lambda key, count=1: self.stats.update({key: count}))
        crawler: Any = SimpleNamespace(stats=stats, get_extension=lambda cls: run)
        self.stage = DuplicatesPipeline.from_crawler(crawler)
        self.kept: list[dict] = []

    def process(self, it: dict) -> None:
        self.kept.append(self.stage.process_item(it))
        self.state.mark_written(it["url"])

    def drop(self, it: dict) -> Duplicate:
        with pytest.raises(Duplicate) as caught:
            self.stage.process_item(it)
        error = caught.value
        # What the spider does with a drop: record the copy and the story it copies.
        self.state.record(it["url"], error.outcome, detail=f"{type(error).__name__}: {error}")
        return error

    def deliver(self) -> None:
        """The run's end: files and manifest in place, stories delivered and promoted."""
        self.state.mark_delivered()


def test_exact_copies_keep_their_reasons(tmp_path: Path) -> None:
    run = Run(tmp_path, "r1")
    first = item(1)
    run.process(first)
    assert isinstance(run.drop(first), DuplicateUrl)
    assert isinstance(run.drop({**first, "url": f"{SITE}other.shtml"}), DuplicateId)
    content = run.drop(item(2))
    assert isinstance(content, DuplicateContent)
    assert first["url"] in str(content)


@pytest.mark.parametrize(
    "copy",
    [
        item(2, title="Beijing, Berlin sign green energy deals"),  # retitled
        item(2, body=BODY.replace("(ECNS) -- ", "")),  # lead dropped
        item(2, body=BODY + "\n\nTrade between the two countries rose 4 percent last year."),
        item(2, body=BODY.replace("\n\nOfficials said", "\nOfficials said").replace(",", "")),
    ],
    ids=["title edited", "lead removed", "sentence added", "punctuation"],
)
def test_a_near_copy_in_the_same_run_names_the_story_it_copies(tmp_path: Path, copy: dict) -> None:
    run = Run(tmp_path, "r1")
    first = item(1)
    run.process(first)
    dropped = run.drop(copy)
    assert type(dropped) is DuplicateNear
    assert dropped.outcome == DUPLICATE
    assert f"near copy of {first['url']}" in str(dropped)
    assert run.state.outcome(copy["url"]) == DUPLICATE


def test_a_near_copy_in_a_later_run_is_dropped(tmp_path: Path) -> None:
    first = Run(tmp_path, "r1")
    original = item(1)
    first.process(original)
    first.process(item(2, body=OTHER, title="Snow closes highways"))
    first.deliver()

    second = Run(tmp_path, "r2")
    copy = item(3, body=BODY.replace("(ECNS) -- ", "") + "\n\nBoth sides hailed the result.")
    assert f"near copy of {original['url']}" in str(second.drop(copy))
    # The copy is recorded: a third run knows its URL without fetching it again.
    second.deliver()
    assert StateStore(tmp_path, "r3").outcome(copy["url"]) == DUPLICATE


def test_a_story_of_a_run_that_died_is_delivered_again(tmp_path: Path) -> None:
    dead = Run(tmp_path, "r1")
    dead.process(item(1))
    dead.state.flush()  # its batch of writes committed,
    dead.state.db.close()  # then killed before its file was in place

    again = Run(tmp_path, "r2")
    again.process(item(1))  # the same story: neither an exact nor a near copy now
    again.process(item(2, body=OTHER, title="Snow closes highways"))
    assert len(again.kept) == 2


def test_near_copies_of_a_run_recovered_from_its_manifest_are_still_caught(
    tmp_path: Path,
) -> None:
    killed = Run(tmp_path, "r1")
    killed.process(first := item(1))  # written, manifest complete, then killed
    killed.state.flush()  # a run commits its batch before it writes its manifest
    killed.state.db.close()
    state = StateStore(tmp_path, "r2")
    story = RecoveredStory(first["url"], first["article_id"], "h", revision="r")
    state.recover_delivered_run("r1", [story])
    later = Run(tmp_path, "r3")
    copy = item(2, body=BODY + "\n\nTrade between the two countries rose 4 percent last year.")
    assert isinstance(later.drop(copy), DuplicateNear)


def cut(*paragraphs: int) -> str:
    return "\n\n".join(p for i, p in enumerate(LONG.split("\n\n")) if i not in paragraphs)


def test_a_story_met_after_its_copy_still_catches_its_later_copies(tmp_path: Path) -> None:
    # Run 1 delivers a copy (first paragraph cut); run 2 meets the story itself,
    # drops it as that copy's near copy and keeps its text; run 3 meets another copy
    # of the story (two other paragraphs cut), too far from the first copy alone.
    first = Run(tmp_path, "r1")
    first.process(copy := item(1, body=cut(0)))
    first.deliver()
    second = Run(tmp_path, "r2")
    assert isinstance(second.drop(item(2, body=LONG)), DuplicateNear)
    second.deliver()
    third = Run(tmp_path, "r3")
    later = third.drop(item(3, body=cut(1, 2), title="Another headline"))
    assert isinstance(later, DuplicateNear) and f"near copy of {copy['url']}" in str(later)


def test_distinct_stories_pass(tmp_path: Path) -> None:
    run = Run(tmp_path, "r1")
    run.process(item(1))
    run.process(item(2, body=OTHER, title="Snow closes highways"))
    same_topic = item(
        3,
        body="\n\n".join(
            [
                "Beijing and Berlin pledged on Tuesday to expand their partnership in"
                " renewable energy, a joint statement said after talks in the German capital.",
                "The two sides signed 12 agreements covering wind power, hydrogen and battery"
                " recycling, worth about 3.4 billion euros in total.",
                "Vogel called the meeting productive and said a joint working group would"
                " convene again in June.",
            ]
        ),
        title="Beijing, Berlin urged to consolidate partnership",
    )
    run.process(same_topic)
    assert [it["article_id"] for it in run.kept] == [
        "iaaaaaaa0000001",
        "iaaaaaaa0000002",
        "iaaaaaaa0000003",
    ]
    assert all(it["content_hash"] for it in run.kept)


def test_the_near_drop_is_its_own_reason() -> None:
    # Scrapy counts drops by exception class: item_dropped_reasons_count/DuplicateNear.
    assert issubclass(DuplicateNear, Duplicate)
    assert DuplicateNear.__name__ == "DuplicateNear"
    assert DuplicateNear.outcome == DUPLICATE


# -- revisits: corrections delivered again, the same page not ---------------------


def revisit(it: dict, **changes: str) -> dict:
    return {**it, "crawled_at": "2025-01-10T07:00:00+00:00", "revisit": True, **changes}


def test_a_new_story_is_version_1_and_the_state_keeps_what_revisits_need(tmp_path: Path) -> None:
    run = Run(tmp_path, "r1")
    run.process(first := item(1))
    assert first["version"] == 1
    run.deliver()
    row = run.state.db.execute(
        "SELECT version, revision, published_at, fetched_at FROM stories WHERE url = ?",
        (first["url"],),
    ).fetchone()
    assert row[0] == 1 and len(row[1]) == 64
    assert row[2:] == (unix(PUBLISHED), unix(CRAWLED))


def test_a_revisit_that_finds_the_same_text_delivers_nothing(tmp_path: Path) -> None:
    run = Run(tmp_path, "r1")
    run.process(first := item(1))
    run.deliver()
    again = Run(tmp_path, "r2")
    # Whitespace, punctuation and case are not corrections.
    same = revisit(first, body=BODY.replace(", ", " , ").replace("Berlin.", "BERLIN!"))
    with pytest.raises(Unchanged):
        again.stage.process_item(same)
    assert "revisit" not in same
    assert again.stats["newscrawl/revisits_unchanged"] == 1
    fetched = again.state.db.execute(
        "SELECT fetched_at FROM stories WHERE url = ?", (first["url"],)
    ).fetchone()[0]
    assert fetched == unix(same["crawled_at"])  # the next revisit is due later
    assert again.state.delivered(first["url"]).version == 1


@pytest.mark.parametrize(
    "change",
    [
        {"body": BODY.replace("12 agreements", "13 agreements")},
        {"body": BODY + "\n\nThe talks were postponed from December."},
        {"title": "China, Germany deepen green energy cooperation"},
    ],
    ids=["number corrected", "sentence added", "title corrected"],
)
def test_a_corrected_story_is_delivered_again_with_the_next_version(
    tmp_path: Path, change: dict
) -> None:
    run = Run(tmp_path, "r1")
    run.process(first := item(1))
    run.deliver()
    second = Run(tmp_path, "r2")
    second.process(corrected := revisit(first, **change))
    assert corrected["version"] == 2 and corrected["article_id"] == first["article_id"]
    assert "revisit" not in corrected and second.stats["newscrawl/corrections"] == 1
    second.deliver()
    assert second.state.delivered(first["url"]).version == 2
    # The next revisit compares with version 2: unchanged now.
    third = Run(tmp_path, "r3")
    with pytest.raises(Unchanged):
        third.stage.process_item(revisit(corrected))


def test_a_correction_of_a_run_that_died_keeps_its_version_number(tmp_path: Path) -> None:
    run = Run(tmp_path, "r1")
    run.process(first := item(1))
    run.deliver()
    died = Run(tmp_path, "r2")
    died.process(revisit(first, body=BODY.replace("12", "13")))  # never delivered
    died.state.flush()
    died.state.db.close()
    retry = Run(tmp_path, "r3")
    retry.process(corrected := revisit(first, body=BODY.replace("12", "13")))
    assert corrected["version"] == 2


def test_a_plain_copy_of_a_corrected_story_is_still_a_copy(tmp_path: Path) -> None:
    run = Run(tmp_path, "r1")
    run.process(first := item(1))
    run.deliver()
    second = Run(tmp_path, "r2")
    second.process(revisit(first, body=BODY.replace("12 agreements", "13 agreements")))
    second.deliver()
    third = Run(tmp_path, "r3")
    assert isinstance(third.drop(first), DuplicateUrl)  # not a revisit: the URL is known


def test_the_revision_hash_keeps_exactly_the_letters_and_digits_case_folded() -> None:
    # Stored in the state: the definition must not drift, or every revisit of a
    # story delivered before the change would count as a correction.
    title, body = "Xi’s visit — “a new chapter”", "Café_owners  in Straße 3.4%\n北京 ½"
    expected = "xisvisitanewchapter\ncafeownersinstrasse34北京½".replace("cafe", "café")
    assert revision_hash(title, body) == hashlib.sha256(expected.encode()).hexdigest()
    # What is kept is what str.isalnum keeps, over every code point.
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    folded = every.casefold()
    assert letters_and_digits(every) == "".join(filter(str.isalnum, folded)).encode()
