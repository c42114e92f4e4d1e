"""A run that cannot start fails loudly, with its own exit code, and never resets
the state: output folder unusable, state database locked or corrupted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from newscrawl.state import DB_NAME
from newscrawl.verdict import ExitCode
from replica.localrun import crawl
from tests.conftest import Replica

SECTIONS = {"sections": "business"}


def test_an_output_path_that_is_a_file_fails_with_the_output_code(
    replica: Replica, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder")
    result = crawl(replica.base_url, out, tmp_path / "state", spider_args=SECTIONS)
    assert result.returncode == ExitCode.OUTPUT_FAILED
    assert "cannot write to the output folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupted_state_database_fails_and_is_left_as_it_was(
    replica: Replica, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    garbage = b"this is not an sqlite database" * 100
    (state / DB_NAME).write_bytes(garbage)
    result = crawl(replica.base_url, tmp_path / "out", state, spider_args=SECTIONS)
    assert result.returncode == ExitCode.STATE_FAILED, result.stderr[-2000:]
    assert "cannot use the state database" in result.stderr
    assert (state / DB_NAME).read_bytes() == garbage
    assert not list((tmp_path / "out").glob("*.jsonl"))


def test_a_state_database_locked_by_another_program_fails_the_run(
    replica: Replica, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = crawl(replica.base_url, tmp_path / "out", state, spider_args=SECTIONS)
    assert first.returncode == 0, first.stderr[-2000:]
    holder = sqlite3.connect(state / DB_NAME, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = crawl(replica.base_url, tmp_path / "out", state, spider_args=SECTIONS)
    finally:
        holder.close()
    assert result.returncode == ExitCode.STATE_FAILED, result.stderr[-2000:]
    assert "database is locked" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"sections": "politics,nope"}, "unknown section(s) nope; choose from politics"),
        ({"section": "politics"}, "unknown argument(s) section; the arguments are sections"),
        ({"max_pages": "0"}, "max_pages must be a whole number of pages, 1 or more, got '0'"),
        ({"since": "2025-02-30"}, "since must be a date like 2025-01-31, got '2025-02-30'"),
    ],
    ids=["unknown section", "misspelt argument", "max_pages", "since"],
)
def test_a_bad_spider_argument_is_a_usage_error_in_one_line(
    tmp_path: Path, arguments: dict[str, str], message: str
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    result = crawl("http://127.0.0.1:9", out, state, spider_args=arguments)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.startswith(f"newscrawl: FAILED (exit 2): ecns: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not out.exists() and not state.exists()
