"""The state store: known ground, claims, and delivery only after the file is in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newscrawl.state import (
    DB_NAME,
    DELIVERED,
    DUPLICATE,
    FAILED,
    INVALID,
    NOT_FOUND,
    REVISIT_MIN_INTERVAL_S,
    RecoveredStory,
    StateStore,
)

URL = "https://www.ecns.cn/news/politics/2025-01-10/detail-iaaaaaaa0000001.shtml"
OTHER = "https://www.ecns.cn/news/politics/2025-01-10/detail-iaaaaaaa0000002.shtml"


def run(tmp_path: Path, run_id: str) -> StateStore:
    store = StateStore(tmp_path, run_id)
    store.start_run()
    return store


def test_a_story_is_delivered_only_once_its_file_is_in_place(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    store.claim(URL, "iaaaaaaa0000001", "h1")
    store.mark_written(URL)
    assert store.outcome(URL) is None
    assert store.mark_delivered() == 1
    assert store.outcome(URL) == DELIVERED


def test_a_crashed_runs_claims_are_forgotten_by_the_next_run(tmp_path: Path) -> None:
    crashed = run(tmp_path, "r1")
    crashed.claim(URL, "iaaaaaaa0000001", "h1")
    crashed.mark_written(URL)
    crashed.flush()  # its batch of writes committed,
    crashed.db.close()  # then killed before its file was renamed
    store = StateStore(tmp_path, "r2")
    assert store.start_run() == 1
    assert store.outcome(URL) is None
    assert store.find_copy(URL, "iaaaaaaa0000001", "h1") is None
    status = store.db.execute("SELECT status FROM runs WHERE run_id = 'r1'").fetchone()[0]
    assert status == "crashed"


def test_claimed_but_unwritten_stories_are_not_marked_delivered(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    store.claim(URL, "iaaaaaaa0000001", "h1")
    assert store.mark_delivered() == 0
    assert store.outcome(URL) is None


def test_copies_match_by_url_id_or_content_within_and_across_runs(tmp_path: Path) -> None:
    first = run(tmp_path, "r1")
    first.claim(URL, "iaaaaaaa0000001", "h1")
    assert first.find_copy(URL, None, "x").kind == "url"
    assert first.find_copy(OTHER, "iaaaaaaa0000001", "x").kind == "id"
    match = first.find_copy(OTHER, "iaaaaaaa0000002", "h1")
    assert (match.kind, match.url) == ("content", URL)
    first.mark_written(URL)
    first.mark_delivered()
    first.end_run("complete", None, 1, {})
    second = run(tmp_path, "r2")
    assert second.find_copy(OTHER, "iaaaaaaa0000002", "h1").kind == "content"
    assert second.find_copy(OTHER, "iaaaaaaa0000002", "h2") is None


def test_a_later_outcome_never_overwrites_a_delivery(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    store.claim(URL, "iaaaaaaa0000001", "h1")
    store.mark_written(URL)
    store.mark_delivered()
    store.record(URL, DUPLICATE, detail="same url")
    store.record(OTHER, INVALID, detail="no body")
    assert store.outcome(URL) == DELIVERED
    assert store.outcome(OTHER) == INVALID


def test_a_failed_run_leaves_nothing_pending(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    store.claim(URL, "iaaaaaaa0000001", "h1")
    store.mark_written(URL)
    store.end_run("failed", "site unreachable", 0, {})
    assert store.db.execute("SELECT count(*) FROM pending").fetchone()[0] == 0
    assert store.outcome(URL) is None


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- revisits ---------------------------------------------------------------------

HOUR = 3600
WINDOW = 48 * HOUR


def deliver(store: StateStore, url: str, published_at: int, fetched_at: int) -> None:
    store.claim(url, None, url, revision="r", published_at=published_at, fetched_at=fetched_at)
    store.mark_written(url)
    store.mark_delivered()


def test_revisits_come_ever_less_often_and_end_with_the_window(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    published = 1_000_000
    deliver(store, URL, published, fetched_at=published + HOUR // 2)
    due = [h for h in range(60) if store.due_revisits(published + h * HOUR, WINDOW)]
    # Never sooner than the minimum interval after the fetch; then until the window ends.
    assert due[0] == (HOUR // 2 + REVISIT_MIN_INTERVAL_S + HOUR - 1) // HOUR
    assert due[-1] == 47
    # Each unchanged revisit pushes the next one back by the story's age then.
    store.revisited(URL, published + 10 * HOUR, "r")
    assert not store.due_revisits(published + 19 * HOUR, WINDOW)
    assert store.due_revisits(published + 20 * HOUR, WINDOW) == [URL]


def test_a_page_dated_in_the_future_ages_from_its_fetch(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    fetched = 1_000_000
    deliver(store, URL, published_at=fetched + 365 * 24 * HOUR, fetched_at=fetched)
    assert store.due_revisits(fetched + 3 * HOUR, WINDOW) == [URL]
    assert not store.due_revisits(fetched + WINDOW + HOUR, WINDOW)


def test_only_delivered_stories_are_revisited(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    store.claim(URL, None, "h", published_at=0, fetched_at=0)  # claimed, never written
    store.record(OTHER, DUPLICATE)
    store.mark_delivered()
    assert store.due_revisits(3 * HOUR, WINDOW) == []


def test_a_database_from_before_revisits_gets_their_columns(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.executescript(
        """CREATE TABLE stories (url TEXT PRIMARY KEY, article_id TEXT, content_hash TEXT,
               outcome TEXT NOT NULL, detail TEXT, attempts INTEGER NOT NULL DEFAULT 1,
               run_id TEXT NOT NULL, recorded_at TEXT NOT NULL);
           CREATE TABLE pending (run_id TEXT NOT NULL, url TEXT NOT NULL, article_id TEXT,
               content_hash TEXT, written INTEGER NOT NULL DEFAULT 0,
               PRIMARY KEY (run_id, url));"""
    )
    db.execute("INSERT INTO stories VALUES (?, NULL, 'h', 'delivered', NULL, 1, 'r0', 'x')", (URL,))
    db.commit()
    db.close()
    store = run(tmp_path, "r1")
    assert store.delivered(URL) is not None and store.delivered(URL).version == 1
    assert store.due_revisits(10**10, 10**10) == []  # no publication time: never revisited
    deliver(store, OTHER, published_at=0, fetched_at=0)
    assert store.delivered(OTHER).revision == "r"


def test_a_recovered_run_keeps_its_versions(tmp_path: Path) -> None:
    store = run(tmp_path, "r1")
    story = RecoveredStory(URL, None, "h", version=3, revision="r", published_at=5, fetched_at=9)
    assert store.recover_delivered_run("r0", [story]) == 1
    delivered = store.delivered(URL)
    assert (delivered.version, delivered.revision) == (3, "r")


# -- giving up --------------------------------------------------------------------

DAY = 24 * HOUR
SPAN = 7 * DAY


def fail_in_run(tmp_path: Path, run_id: str, now: int, outcome: str, *, complete: bool) -> list:
    """One run in which URL's page fails with ``outcome``; returns what it gave up."""
    store = run(tmp_path, run_id)
    store.record(URL, outcome, detail="no body")
    given_up = store.give_up_due(now, SPAN) if complete else []
    if complete:
        store.count_failures(now, given_up)
    store.end_run("complete" if complete else "failed", None, 0, {})
    store.close()
    return given_up


def test_failures_in_failed_runs_never_count_towards_giving_up(tmp_path: Path) -> None:
    for day in range(30):
        assert fail_in_run(tmp_path, f"r{day}", day * DAY, FAILED, complete=False) == []
    assert not StateStore(tmp_path, "x").settled(URL)


def test_a_page_failing_in_complete_runs_is_given_up_only_after_the_span(
    tmp_path: Path,
) -> None:
    # Hourly runs: a day of failures is 24 runs, and the story is still fetched.
    for hour in range(24):
        assert fail_in_run(tmp_path, f"h{hour}", hour * HOUR, INVALID, complete=True) == []
    assert not StateStore(tmp_path, "x").settled(URL)
    given_up = fail_in_run(tmp_path, "late", SPAN, INVALID, complete=True)
    assert [(g.url, g.detail, g.failed_runs) for g in given_up] == [(URL, "no body", 25)]
    store = StateStore(tmp_path, "y")
    assert store.settled(URL)
    assert [g.url for g in store.given_up()] == [URL]


def test_a_few_runs_over_a_long_span_are_not_enough_to_give_up(tmp_path: Path) -> None:
    assert fail_in_run(tmp_path, "a", 0, FAILED, complete=True) == []
    assert fail_in_run(tmp_path, "b", 30 * DAY, FAILED, complete=True) == []
    assert len(fail_in_run(tmp_path, "c", 31 * DAY, FAILED, complete=True)) == 1


def test_a_listed_404_is_never_given_up(tmp_path: Path) -> None:
    for day in range(30):
        assert fail_in_run(tmp_path, f"r{day}", day * DAY, NOT_FOUND, complete=True) == []
    assert not StateStore(tmp_path, "x").settled(URL)


def test_a_given_up_story_is_taken_back_and_its_sections_paged_again(tmp_path: Path) -> None:
    for day in range(8):
        fail_in_run(tmp_path, f"r{day}", day * DAY, INVALID, complete=True)
    store = run(tmp_path, "undo")
    store.set_paged_to_end("politics", True)
    assert store.settled(URL)
    assert store.retry_given_up([OTHER]) == 0
    assert store.retry_given_up([URL]) == 1
    assert not store.settled(URL)
    assert not store.paged_to_end("politics")
    assert store.given_up() == []
