"""``scrapy giveup``: an operator lists the stories given up and takes them back."""

from __future__ import annotations

import subprocess
from pathlib import Path

from newscrawl.state import INVALID, StateStore
from replica.localrun import scrapy

URL = "https://www.ecns.cn/news/politics/2025-01-10/detail-iaaaaaaa0000001.shtml"
DAY = 86400


def giveup(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return scrapy("giveup", *args, settings={"NEWSCRAWL_STATE_DIR": str(state)})


def give_up(state: Path) -> None:
    for day in range(8):
        store = StateStore(state, f"r{day}")
        store.start_run()
        store.record(URL, INVALID, detail="MissingBody: no body")
        now = day * DAY
        store.count_failures(now, store.give_up_due(now, 7 * DAY))
        store.end_run("complete", None, 0, {})
        store.close()


def test_the_stories_given_up_are_listed_with_their_reason(tmp_path: Path) -> None:
    give_up(tmp_path)
    result = giveup(tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(URL + "\t")
    assert "failed in 8 runs" in line and line.endswith("MissingBody: no body")


def test_a_story_taken_back_is_fetched_again(tmp_path: Path) -> None:
    give_up(tmp_path)
    result = giveup(tmp_path, "--retry", URL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 stories taken back")
    assert giveup(tmp_path).stdout == ""
    assert not StateStore(tmp_path, "check").settled(URL)
