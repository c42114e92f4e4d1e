"""robots.txt as RFC 9309 reads it: a 5xx or unreachable robots.txt disallows
everything (after Scrapy's retries), a 4xx one allows everything.

Each test runs ``scrapy crawl ecns`` against a server on 127.0.0.1 whose
robots.txt answers as the test says, and looks at what reached the server.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from newscrawl.verdict import ExitCode
from replica.faults.report import tracebacks
from replica.localrun import FAST_LOCAL_SETTINGS, PROJECT_ROOT, read_items, scrapy_env
from tests.conftest import Replica, crawl_stat
from tests.hostile import Answer, HostileServer, story_paths

LISTING = "/news/sci-tech/index.shtml"
ROBOTS = "/robots.txt"


@pytest.fixture
def server(replica: Replica) -> Iterator[HostileServer]:
    with HostileServer(replica.root / "site") as server:
        yield server


def crawl(base_url: str, tmp_path: Path) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "ecns", "-a", "sections=sci-tech"]
    settings = {
        "ECNS_BASE_URL": base_url,
        "NEWSCRAWL_OUTPUT_DIR": str(out),
        "NEWSCRAWL_STATE_DIR": str(tmp_path / "state"),
        **FAST_LOCAL_SETTINGS,
    }
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = scrapy_env()
    result = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=90
    )
    return result.returncode, result.stderr, out


@pytest.mark.parametrize(
    ("answer", "status", "said"),
    [
        (HostileServer.status(503), 503, "robots.txt unavailable (HTTP 503)"),
        (HostileServer.status(500), 500, "robots.txt unavailable (HTTP 500)"),
        (HostileServer.hang_up, 0, "robots.txt unavailable (unreachable: "),
    ],
    ids=["503", "500", "unreachable"],
)
def test_a_robots_txt_that_fails_keeps_every_other_request_from_the_site(
    server: HostileServer, tmp_path: Path, answer: Answer, status: int, said: str
) -> None:
    server.answers[ROBOTS] = answer
    code, log, out = crawl(server.base_url, tmp_path)
    # Scrapy's RetryMiddleware retried it (RETRY_TIMES = 2); nothing else was asked.
    assert set(server.paths()) == {ROBOTS}, server.paths()
    assert server.paths().count(ROBOTS) == 3
    assert crawl_stat(log, "newscrawl/robots_txt_unavailable") == 1, log[-3000:]
    assert crawl_stat(log, "newscrawl/robots_txt_status") == status
    assert crawl_stat(log, "newscrawl/robots_txt_refused") >= 1
    assert said in log
    assert read_items(out) == []
    assert code != ExitCode.OK, log[-3000:]
    unhandled, _ = tracebacks(log)
    assert unhandled == []


@pytest.mark.parametrize("status", [404, 403, 410])
def test_a_robots_txt_answering_4xx_allows_everything(
    server: HostileServer, replica: Replica, tmp_path: Path, status: int
) -> None:
    """Even when the error page's body reads like rules that disallow everything."""
    server.answers[ROBOTS] = HostileServer.status(
        status, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n"
    )
    code, log, out = crawl(server.base_url, tmp_path)
    assert code == ExitCode.OK, log[-3000:]
    stories = story_paths(replica.root / "site", LISTING)
    delivered = {item["url"].removeprefix(server.base_url) for item in read_items(out)}
    assert delivered == set(stories)
    assert crawl_stat(log, "newscrawl/robots_txt_unavailable") == 0
    assert server.paths().count(ROBOTS) == 1


def test_robots_txt_rules_still_apply(
    server: HostileServer, replica: Replica, tmp_path: Path
) -> None:
    stories = story_paths(replica.root / "site", LISTING)
    forbidden = stories[0]
    server.answers[ROBOTS] = HostileServer.body(
        f"User-agent: *\nDisallow: {forbidden}\n".encode(), {"Content-Type": "text/plain"}
    )
    code, log, out = crawl(server.base_url, tmp_path)
    assert code == ExitCode.OK, log[-3000:]
    assert forbidden not in server.paths()
    delivered = {item["url"].removeprefix(server.base_url) for item in read_items(out)}
    assert delivered == set(stories[1:])
