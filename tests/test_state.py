"""The state store: known ground, claims, and delivery only after the file is in place."""

from __future__ import annotations

from pathlib import Path

from newscrawl.state import DELIVERED, DUPLICATE, INVALID, StateStore

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
    crashed.db.close()  # killed before its file was renamed
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
