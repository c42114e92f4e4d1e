"""Bad command lines and bad settings end in one line on stderr, with the exit code
the README gives, before anything is written: no banner, no usage block, no
traceback, no output or state folder created."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newscrawl.verdict import ExitCode
from replica.faults.server import STATUS, Faults, FaultServer, Rule
from replica.localrun import scrapy
from tests.conftest import Replica


def folders(tmp_path: Path) -> list[str]:
    return [
        "-s",
        f"NEWSCRAWL_OUTPUT_DIR={tmp_path / 'out'}",
        "-s",
        f"NEWSCRAWL_STATE_DIR={tmp_path / 'state'}",
        "-s",
        "ECNS_BASE_URL=http://127.0.0.1:9",  # nothing listens: nothing may be fetched
    ]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["crawl", "nosuch"], ExitCode.USAGE, "no spider named 'nosuch' (spiders: ecns)"),
        (["crawl", "ecns", "--frobnicate"], ExitCode.USAGE, "unknown option --frobnicate"),
        (["crawl"], ExitCode.USAGE, "give exactly one spider name"),
        (["crawl", "ecns", "-a", "rss=maybe"], ExitCode.USAGE, "rss must be true or false"),
        (["crawl", "ecns", "-a", "section=politics"], ExitCode.USAGE, "unknown argument(s)"),
        (["crawl", "ecns", "-a", "max_pages=0"], ExitCode.USAGE, "max_pages must be"),
        (["crawl", "ecns", "-a", "since=yesterday"], ExitCode.USAGE, "since must be a date"),
        (["crawl", "ecns", "-a", "nonsense"], ExitCode.USAGE, "-a"),
        (
            ["crawl", "ecns", "-s", "NEWSCRAWL_FILE_MAX_ITEMS=abc"],
            ExitCode.USAGE,
            "NEWSCRAWL_FILE_MAX_ITEMS must be a whole number",
        ),
        (
            ["crawl", "ecns", "-s", "ECNS_BASE_URL=127.0.0.1:8000"],
            ExitCode.USAGE,
            "ECNS_BASE_URL must be an origin",
        ),
        (
            ["crawl", "ecns", "-s", "ROBOTSTXT_OBEY=perhaps"],
            ExitCode.USAGE,
            "ROBOTSTXT_OBEY must be True or False",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_bad_command_line_is_one_line_and_touches_nothing(
    tmp_path: Path, args: list[str], code: ExitCode, says: str
) -> None:
    result = scrapy(
        *args,
        *folders(tmp_path)[:4],
        *([] if any(a.startswith("ECNS_BASE_URL") for a in args) else folders(tmp_path)[4:]),
    )
    assert result.returncode == code, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("newscrawl: ") and says in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


def test_a_state_folder_that_is_a_file_is_the_state_code_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    result = scrapy("crawl", "ecns", *folders(tmp_path))
    assert result.returncode == ExitCode.STATE_FAILED, result.stderr[-2000:]
    (line,) = result.stderr.splitlines()
    assert "cannot use the state folder" in line


def test_an_output_folder_that_cannot_be_made_is_the_output_code_in_one_line(
    tmp_path: Path,
) -> None:
    result = scrapy(
        "crawl",
        "ecns",
        "-s",
        "NEWSCRAWL_OUTPUT_DIR=/proc/newscrawl-out",
        "-s",
        f"NEWSCRAWL_STATE_DIR={tmp_path / 'state'}",
        "-s",
        "ECNS_BASE_URL=http://127.0.0.1:9",
    )
    assert result.returncode == ExitCode.OUTPUT_FAILED, result.stderr[-2000:]
    (line,) = result.stderr.splitlines()
    assert "cannot write to the output folder /proc/newscrawl-out" in line


def test_the_contact_setting_reaches_the_user_agent(tmp_path: Path) -> None:
    # The add-on composes the User-Agent for each crawler, which `scrapy shell` shows.
    shell = scrapy(
        "shell",
        "-c",
        "settings['USER_AGENT']",
        "-s",
        "NEWSCRAWL_CONTACT=mailto:ops@example.org",
        "-s",
        "LOG_LEVEL=ERROR",
    )
    assert shell.stdout.strip().endswith("(+mailto:ops@example.org)"), shell.stderr[-2000:]


def test_a_user_agent_set_by_the_user_wins(tmp_path: Path) -> None:
    shell = scrapy(
        "shell",
        "-c",
        "settings['USER_AGENT']",
        "-s",
        "USER_AGENT=my-archive-bot/2.0",
        "-s",
        "LOG_LEVEL=ERROR",
    )
    assert shell.stdout.strip() == "my-archive-bot/2.0", shell.stderr[-2000:]


# --- a run's own exit codes: its stderr is its summary line, and nothing else when the
# log is off (`-s LOG_ENABLED=False`) ---------------------------------------------------


def run_once(replica: Replica, base_url: str, tmp_path: Path, *extra: str):
    return scrapy(
        "crawl",
        "ecns",
        "-a",
        "sections=politics",
        "-s",
        f"NEWSCRAWL_OUTPUT_DIR={tmp_path / 'out'}",
        "-s",
        f"NEWSCRAWL_STATE_DIR={tmp_path / 'state'}",
        "-s",
        f"ECNS_BASE_URL={base_url}",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "RETRY_TIMES=0",
        "-s",
        "LOG_ENABLED=False",
        *extra,
    )


def politics_stories(replica: Replica) -> frozenset[str]:
    return frozenset(r["path"] for r in replica.truth() if "politics" in r.get("listed_in", ()))


@pytest.mark.parametrize(
    ("fault", "code", "line"),
    [
        (
            "none",
            ExitCode.OK,
            r"^newscrawl: complete, \d+ new stories, 0 corrections, 0 withdrawn, \d+ requests",
        ),
        ("down", ExitCode.SITE_UNREACHABLE, r"^newscrawl: FAILED \(exit 4\): no listing page"),
        ("articles 500", ExitCode.CRAWL_ERRORS, r"^newscrawl: FAILED \(exit 5\): \d+ of \d+ pages"),
        ("listings 404", ExitCode.LAYOUT_CHANGED, r"^newscrawl: FAILED \(exit 7\): no section"),
        ("bad pipeline", ExitCode.ERROR, r"^newscrawl: FAILED \(exit 1\): the crawl could not"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v[:3] else None,
)
def test_a_run_ends_with_its_code_and_one_summary_line(
    replica: Replica, tmp_path: Path, fault: str, code: ExitCode, line: str
) -> None:
    extra: list[str] = []
    rules = []
    if fault == "articles 500":
        rules = [Rule(STATUS, politics_stories(replica), statuses=(500,))]
    elif fault == "listings 404":
        listings = frozenset({"/news/politics/", "/news/politics/index.shtml"})
        rules = [Rule(STATUS, listings, statuses=(404,))]
    elif fault == "bad pipeline":
        extra = ["-s", 'ITEM_PIPELINES={"newscrawl.no_such_module.Pipeline": 1}']
    with FaultServer(replica.root, Faults(rules=rules)) as server:
        base = "http://127.0.0.1:9" if fault == "down" else server.base_url
        result = run_once(replica, base, tmp_path, *extra)
    assert result.returncode == code, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert re.match(line, lines[0]), lines[0]
