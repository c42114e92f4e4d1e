"""Bad command lines and bad settings end in one line on stderr, with the exit code
the README gives, before anything is written: no banner, no usage block, no
traceback, no output or state folder created."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawl.verdict import ExitCode
from replica.localrun import PROJECT_ROOT


def scrapy(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    cmd = [sys.executable, "-m", "scrapy", *args]
    full_env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings", **(env or {})}
    return subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


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
        tmp_path,
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
    result = scrapy(tmp_path, "crawl", "ecns", *folders(tmp_path))
    assert result.returncode == ExitCode.STATE_FAILED, result.stderr[-2000:]
    (line,) = result.stderr.splitlines()
    assert "cannot use the state folder" in line


def test_an_output_folder_that_cannot_be_made_is_the_output_code_in_one_line(
    tmp_path: Path,
) -> None:
    result = scrapy(
        tmp_path,
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
        tmp_path,
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
        tmp_path,
        "shell",
        "-c",
        "settings['USER_AGENT']",
        "-s",
        "USER_AGENT=my-archive-bot/2.0",
        "-s",
        "LOG_LEVEL=ERROR",
    )
    assert shell.stdout.strip() == "my-archive-bot/2.0", shell.stderr[-2000:]
