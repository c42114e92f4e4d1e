"""Politeness on the live site: Retry-After and robots.txt Crawl-delay honoured.

A small real HTTP server on 127.0.0.1 serves the replica's files and
misbehaves as each test asks, recording when each path was requested.
"""

from __future__ import annotations

import http.server
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from newscrawl.middlewares import parse_retry_after
from replica.localrun import crawl, read_items
from tests.conftest import Replica


class ScriptedServer:
    """Serves a folder; ``answers[path]`` lists (status, headers) to give first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.robots: str | None = None
        self.hits: list[tuple[float, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append((time.monotonic(), self.path))
                scripted = server.answers.get(self.path)
                if scripted:
                    status, headers = scripted.pop(0)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                if self.path == "/robots.txt" and server.robots is not None:
                    body = server.robots.encode()
                else:
                    file = server.root / self.path.lstrip("/")
                    if not file.is_file():
                        self.send_response(404)
                        self.end_headers()
                        return
                    body = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def times(self, path: str) -> list[float]:
        return [t for t, p in self.hits if p == path]


@pytest.fixture
def scripted(replica: Replica) -> Iterator[ScriptedServer]:
    server = ScriptedServer(replica.root / "site")
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30)), now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_429_with_retry_after_is_retried_only_after_that_wait(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    listing = "/news/sci-tech/index.shtml"
    scripted.answers[listing] = [(429, {"Retry-After": "2"})]
    out = tmp_path / "out"
    result = crawl(scripted.base_url, out, tmp_path / "state", spider_args={"sections": "sci-tech"})
    assert result.returncode == 0, result.stderr[-2000:]
    first, retry = scripted.times(listing)
    # Times are taken where the server reads the request: on a loaded machine a
    # hit may be read late. A crawler that ignored the header would retry at once.
    assert retry - first >= 1.5
    assert read_items(out), "the retried listing led to its stories"
    assert "'newscrawl/retry_after_honoured': 1" in result.stderr


def test_robots_crawl_delay_spaces_every_request(scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.robots = "User-agent: *\nCrawl-delay: 0.5\n"
    out, state = tmp_path / "out", tmp_path / "state"
    result = crawl(scripted.base_url, out, state, spider_args={"sections": "sci-tech"})
    assert result.returncode == 0, result.stderr[-2000:]
    times = [t for t, path in scripted.hits if path != "/robots.txt"]
    assert len(times) >= 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # On average at least the delay; each gap at least most of it (a hit read late
    # by a loaded server shortens the next gap). Without it, gaps are milliseconds.
    assert times[-1] - times[0] >= 0.5 * len(gaps) * 0.95, gaps
    assert min(gaps) >= 0.3, gaps
