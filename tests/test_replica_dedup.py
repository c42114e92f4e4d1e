"""Duplicate detection end to end: a replica with exact
twins, cross-posts and near copies of every kind, crawled twice by the real
crawler; no exact duplicate and no near copy emitted, no distinct story lost.

Run on the generated replica everywhere, and on the 447 real ECNS texts where
``../shared/reference/ecns/`` exists (never copied into the project). The
evaluation itself is tested on made-up runs, so a failing crawler would be seen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from replica import dedup_check
from replica.dedup_check import Report, evaluate
from replica.edits import NEAR_COPY_EDITS
from replica.localrun import REFERENCE_DIR

REAL_TEXTS = REFERENCE_DIR / "politics-2024-articles.jsonl"


def test_the_generated_replica_crawled_twice_emits_no_copy_and_loses_no_story(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dedup_check.main(["--work", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "exact duplicates emitted: 0 (target 0)" in printed
    assert "near copies emitted: 0 (target 0)" in printed
    assert "recall 100.00%" in printed and "result: PASS" in printed


@pytest.fixture(scope="module")
def real_texts_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    if not REAL_TEXTS.exists():
        pytest.skip(f"the real texts are not at {REAL_TEXTS}")
    return dedup_check.run_check(tmp_path_factory.mktemp("dedup"), texts=REAL_TEXTS)


def test_a_replica_of_the_real_texts_crawled_twice_emits_no_exact_copy_and_loses_no_story(
    real_texts_report: Report,
) -> None:
    report = real_texts_report
    summary = "\n".join(report.lines())
    assert report.groups == 447, summary  # every text is one distinct story
    assert report.near_pairs >= 2 * len(NEAR_COPY_EDITS) and report.twins >= 2, summary
    assert report.exact_emitted == 0 and report.unexpected == 0, summary
    assert report.lost == 0 and report.recall >= dedup_check.RECALL_TARGET, summary
    assert report.exit_codes == [0, 0] and report.items[1] > 0, summary


def test_a_replica_of_the_real_texts_crawled_twice_emits_no_near_copy(
    real_texts_report: Report,
) -> None:
    assert real_texts_report.near_emitted == 0, "\n".join(real_texts_report.lines())


# --- the evaluation on made-up runs ---------------------------------------------------------


def record(path: str, expect: str = "delivered", **extra: object) -> dict:
    return {"path": path, "expect": expect, "listed_in": ["politics"], **extra}


def item(path: str, title: str = "T", body: str = "B") -> dict:
    return {"url": "http://127.0.0.1:1" + path, "title": title, "body": body}


TRUTH = [
    record("/a"),
    record("/a2", "duplicate", duplicate_of="/a"),  # an exact twin
    record("/b"),
    record("/b2", "duplicate", duplicate_of="/b", copy_of="/b", edit="sentence_added"),
    record("/c"),
    record("/spam", "spam_page"),
]


def test_either_of_a_pair_may_be_the_one_delivered() -> None:
    runs = [([item("/a2"), item("/b2", body="B plus")], "", 0), ([item("/c")], "", 0)]
    report = evaluate("made up", TRUTH, runs)
    assert report.passed and report.groups == 3 and report.recall == 1.0


def test_copies_emitted_and_stories_lost_are_counted_and_named() -> None:
    log = "2026 x [scrapy] WARNING: Dropped DuplicateNear: http://h/c: near copy of http://h/b"
    runs = [
        ([item("/a"), item("/b"), item("/spam")], log, 0),
        ([item("/a2"), item("/b2", body="B plus"), item("/a")], "", 5),
    ]
    report = evaluate("made up", TRUTH, runs)
    assert (report.exact_emitted, report.near_emitted, report.lost, report.unexpected) == (
        2,
        1,
        1,
        1,
    )
    assert not report.passed and report.exit_codes == [0, 5]
    kinds = [f.kind for f in report.findings]
    assert kinds.count("exact duplicate emitted") == 2 and "near copy emitted" in kinds
    lost = next(f.text for f in report.findings if f.kind == "lost")
    assert lost.startswith("/c: Dropped DuplicateNear") and "near copy of" in lost
    assert "result: FAIL" in "\n".join(report.lines())
