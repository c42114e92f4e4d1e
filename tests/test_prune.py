"""``scrapy prune``: old runs go, manifest first; runs a store has not applied stay
with ``--only-ingested-by``; never while a crawl holds the output folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.ingest import write_run
from newscrawl.commands.prune import Plan, Removed, parse_age
from newscrawl.consume import find_manifests, read_manifest
from newscrawl.folders import OUTPUT_LOCK_NAME, acquire_lock, release_lock
from newscrawl.stores import ingest
from newscrawl.verdict import ExitCode
from replica.localrun import scrapy
from tests.ingest_cases import at, story

DAY = 86400


def aged(out: Path) -> list[Path]:
    """Two runs of 40 and 35 days ago (one in a dated folder), one failed 60 days
    ago, one of yesterday: each a manifest and its files."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    made = [
        write_run(out, now - timedelta(days=40), [story(1), story(2)], n=1, file_items=1),
        write_run(out, now - timedelta(days=35), [story(3)], n=2, dated=True),
        write_run(out, now - timedelta(days=60), [story(4)], n=3, status="failed"),
        write_run(out, now - timedelta(days=1), [story(5)], n=4, dated=True),
    ]
    return made


def files_of(manifest: Path) -> list[Path]:
    return sorted(manifest.parent.glob(manifest.name.removesuffix(".manifest.json") + "-*.jsonl"))


def test_old_runs_go_with_their_files_and_emptied_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old, dated, failed, recent = aged(out)
    gone = [p for m in (old, dated, failed) for p in (m, *files_of(m))]
    kept = [recent, *files_of(recent)]
    result = scrapy("prune", str(out), "--older-than", "30d", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("newscrawl: pruned 3 runs older than 30d (4 files,")
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in kept)
    assert not dated.parent.exists() and recent.parent.exists()


def test_runs_the_store_has_not_applied_stay(tmp_path: Path) -> None:
    out, store = tmp_path / "out", f"sqlite:///{tmp_path / 's.sqlite3'}"
    old, dated, failed, _ = aged(out)
    ingest(out, store)
    late = write_run(out, at(-24 * 400), [story(9)], n=9)  # a year old, never ingested
    dry = scrapy("prune", str(out), "--older-than", "30d", "--only-ingested-by", store, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = dry.stdout.split()
    assert str(late) not in listed and str(old) in listed and str(failed) in listed
    assert old.exists()  # a dry run removes nothing
    result = scrapy("prune", str(out), "--older-than", "30d", "--only-ingested-by", store, "-v")
    assert result.returncode == 0, result.stderr
    assert "kept 1 not yet ingested by" in result.stderr
    assert late.exists() and all(p.exists() for p in files_of(late))
    assert not old.exists() and not dated.exists() and not failed.exists()


def test_a_prune_while_a_crawl_holds_the_folder_exits_3_touching_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    aged(out)
    before = sorted(find_manifests(out))
    acquire_lock(out, OUTPUT_LOCK_NAME)  # this test process plays the running crawl
    try:
        result = scrapy("prune", str(out), "--older-than", "1d")
    finally:
        release_lock(out)
    assert result.returncode == ExitCode.LOCKED
    (line,) = result.stderr.splitlines()
    assert "prune FAILED (exit 3)" in line and "the prune stops" in line
    assert sorted(find_manifests(out)) == before


def test_a_store_that_cannot_be_read_removes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    aged(out)
    before = sorted(find_manifests(out))
    store = f"sqlite:///{tmp_path / 'missing' / 's.sqlite3'}"
    result = scrapy("prune", str(out), "--older-than", "1d", "--only-ingested-by", store)
    assert result.returncode == 9
    assert sorted(find_manifests(out)) == before
    bad_age = scrapy("prune", str(out), "--older-than", "a month")
    assert bad_age.returncode == ExitCode.USAGE and "--older-than" in bad_age.stderr


def test_a_prune_killed_midway_leaves_no_manifest_naming_a_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    aged(out)

    class Killed(BaseException):
        pass

    def die(self: Removed, path: Path) -> None:
        raise Killed  # the first file of the first run: its manifest is gone already

    plan = Plan(out, time.time() - 30 * DAY, None)
    original = Removed.file
    Removed.file = die  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            plan.carry_out()
    finally:
        Removed.file = original  # type: ignore[method-assign]
    named = {f.path for p in find_manifests(out) for f in read_manifest(p).files}
    assert all(path.exists() for path in named)
    leftovers = [p for p in out.rglob("*.jsonl") if p not in named]
    assert leftovers  # the killed prune's files, named by no manifest
    for path in leftovers:  # as old as the run they belonged to
        os.utime(path, (time.time() - 40 * DAY, time.time() - 40 * DAY))
    Plan(out, time.time() - 30 * DAY, None).carry_out()
    assert not any(p.exists() for p in leftovers)
    assert len(find_manifests(out)) == 1


def test_ages() -> None:
    assert parse_age("30d") == 30 * DAY
    assert parse_age("12h") == 12 * 3600
    assert parse_age("1.5w") == 1.5 * 7 * DAY
    for bad in ("30", "d", "-1d", "30 days"):
        with pytest.raises(ValueError):
            parse_age(bad)
