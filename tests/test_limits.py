"""Bounded resources: one hostile answer (a huge page, a gzip bomb, an endless
chunked body) costs a run neither its memory nor its other stories.

``DOWNLOAD_MAXSIZE`` (4 MiB) caps a response as sent and once decompressed; the
story behind it reaches the spider's errback with a failure that says why, is
recorded as failed and retried by later runs. Each test runs ``scrapy crawl ecns``
in a subprocess against a server on 127.0.0.1 and reads the crawl's peak RSS
(VmHWM) from /proc.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newscrawl import settings as project_settings
from replica.localrun import FAST_LOCAL_SETTINGS, PROJECT_ROOT, read_items, scrapy_env
from tests.conftest import Replica
from tests.hostile import Answer, HostileServer, story_paths

LISTING = "/news/sci-tech/index.shtml"
MAX_RSS_MB = 250
MAXSIZE = 4 * 1024 * 1024


def gzip_bomb(expanded: int = 1024**3) -> bytes:
    """~1 MB of gzip that expands to ``expanded`` bytes of zeros: gzip members of
    1 MiB each, one after the other (a gzip stream may hold several)."""
    member = gzip.compress(bytes(1024 * 1024), compresslevel=9)
    return member * (expanded // (1024 * 1024))


@pytest.fixture
def server(replica: Replica) -> Iterator[HostileServer]:
    with HostileServer(replica.root / "site") as server:
        yield server


@pytest.fixture
def stories(replica: Replica) -> list[str]:
    return story_paths(replica.root / "site", LISTING)


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak RSS so far (VmHWM), in MB; None once it has exited.

    Not ``wait4``'s ``ru_maxrss``: a child started with vfork (as subprocess does)
    carries the parent's peak into it at exec, and pytest's is the larger."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(m.group(1)) / 1024 if m else None


def crawl_measured(
    base_url: str, tmp_path: Path, **overrides: str
) -> tuple[int | None, float, str, Path]:
    """Exit code (None: killed after 90 s), peak RSS in MB, log and output folder of
    a crawl of sci-tech."""
    out, log = tmp_path / "out", tmp_path / "crawl.log"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "ecns", "-a", "sections=sci-tech"]
    settings = {
        "ECNS_BASE_URL": base_url,
        "NEWSCRAWL_OUTPUT_DIR": str(out),
        "NEWSCRAWL_STATE_DIR": str(tmp_path / "state"),
        **FAST_LOCAL_SETTINGS,
        **overrides,
    }
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = scrapy_env()
    peak = 0.0
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
        )
        deadline = time.monotonic() + 90
        while proc.poll() is None:
            peak = max(peak, peak_rss_mb(proc.pid) or 0.0)  # a high-water mark: no peak missed
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                return None, peak, log.read_text(errors="replace"), out
            time.sleep(0.02)
    return proc.returncode, peak, log.read_text(errors="replace"), out


CASES: dict[str, Callable[[HostileServer, bytes], Answer]] = {
    "50mb-page": lambda server, page: server.sized(50 * 1024 * 1024, page),
    "gzip-bomb": lambda server, page: server.body(
        gzip_bomb(), {"Content-Encoding": "gzip", "Content-Type": "text/html; charset=utf-8"}
    ),
    "endless-chunked": lambda server, page: server.endless_chunked(),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_answer_is_refused_without_taking_the_memory_or_the_other_stories(
    server: HostileServer, stories: list[str], tmp_path: Path, case: str
) -> None:
    hostile = stories[0]
    page = (server.site / hostile.lstrip("/")).read_bytes()
    server.answers[hostile] = CASES[case](server, page)
    code, peak_mb, log, out = crawl_measured(server.base_url, tmp_path)
    assert code == 0, log[-3000:]
    assert peak_mb < MAX_RSS_MB, f"peak RSS {peak_mb:.0f} MB"
    delivered = {item["url"].removeprefix(server.base_url) for item in read_items(out)}
    assert delivered == set(stories[1:])
    # The spider's errback says why the story was not fetched.
    (line,) = [line for line in log.splitlines() if "not fetched" in line]
    assert hostile in line and f"DOWNLOAD_MAXSIZE ({MAXSIZE}" in line, line


def test_an_oversized_response_fails_with_a_message_that_says_so(
    server: HostileServer, stories: list[str], tmp_path: Path
) -> None:
    """Both ways Scrapy's handler stops reading: a Content-Length over the limit, and
    a body without one that grows past it."""
    page = (server.site / stories[0].lstrip("/")).read_bytes()
    server.answers[stories[0]] = server.sized(5 * 1024 * 1024, page)
    server.answers[stories[1]] = server.endless_chunked()
    code, _, log, _ = crawl_measured(server.base_url, tmp_path)
    assert code == 0, log[-3000:]
    failures = {
        m.group(1): m.group(2)
        for m in re.finditer(r"Article \S+?(/news/\S+) not fetched: (.*)", log)
    }
    assert failures == {
        stories[0]: f"response larger than DOWNLOAD_MAXSIZE ({MAXSIZE} bytes): "
        f"Content-Length {5 * 1024 * 1024}",
        stories[1]: f"response larger than DOWNLOAD_MAXSIZE ({MAXSIZE} bytes): "
        f"cut off after {MAXSIZE} bytes",
    }


def test_the_limits_leave_room_for_every_real_page() -> None:
    """The largest real ECNS page is ~50 KB: the limit is far above it, the warning
    too, and Scrapy's defaults (1 GiB, 32 MiB) are not what the project runs with."""
    assert project_settings.DOWNLOAD_MAXSIZE == MAXSIZE
    assert project_settings.DOWNLOAD_WARNSIZE == 1024 * 1024
