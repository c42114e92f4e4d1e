"""The fault suite's own machinery, without a crawl: that each fault the server
serves is the fault its case claims (a bomb inflates, an endless answer does not
end, a deep page is deeper than the parser builds, undecodable bytes fit no
charset), that a page made from the replica keeps its anatomy, and that the
launcher's watch (peak memory, the memory ceiling, a signal and the time to stop)
does what the cases rely on."""

from __future__ import annotations

import gzip
import http.client
import io
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from parsel import Selector

from replica import build_site
from replica.faults import Context, Faults, FaultServer, Rule
from replica.faults.launcher import Crawl
from replica.faults.pages import (
    BODY_END_MARK,
    BODY_START_MARK,
    MIB,
    UNDECODABLE_BYTES,
    body_paragraphs_html,
    deeply_nested,
    gzip_bomb,
    info_spans,
    many_links_listing,
    undecodable,
    with_story,
    without_document_end,
)
from replica.faults.report import read_truth
from replica.faults.server import DECLARED_GBK, ENDLESS, GZIP_BOMB
from replica.server import site_dir_of

# The crawler's cap on a download, for the sizes of the pages meant to stay under it.
DOWNLOAD_MAXSIZE = 4 * MIB


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fault-server")
    build_site(root)
    return root


@pytest.fixture(scope="module")
def ctx(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Context:
    work = tmp_path_factory.mktemp("ctx")
    server = FaultServer(site)
    return Context(work, site_dir_of(site), read_truth(site), server, work / "out", work / "st")


@pytest.fixture
def server(site: Path) -> Iterator[FaultServer]:
    with FaultServer(site) as s:
        yield s


def a_story(ctx: Context) -> tuple[str, bytes]:
    path = ctx.plain_stories("cns-wire", 1)[0]
    return path, ctx.page_bytes(path)


@contextmanager
def get(server: FaultServer, path: str, timeout: float = 5) -> Iterator[http.client.HTTPResponse]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        yield conn.getresponse()
    finally:
        conn.close()


def inflated_size(data: bytes, limit: int = 1 << 40) -> int:
    """How many bytes ``data`` (gzip, any number of members) inflates to, up to ``limit``."""
    inflated = 0
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        while inflated < limit and (chunk := f.read1(1 << 20)):
            inflated += len(chunk)
    return inflated


# --- pages ----------------------------------------------------------------------------


def test_a_gzip_bomb_is_small_and_inflates_to_its_size(ctx: Context) -> None:
    _, page = a_story(ctx)
    bomb = gzip_bomb(page, 64 * MIB)
    inflated = inflated_size(bomb)
    assert 64 * MIB <= inflated <= 64 * MIB + 2 * len(page)
    assert len(bomb) < inflated / 500


def test_a_deeply_nested_page_loses_its_paragraphs_in_the_parser(ctx: Context) -> None:
    """The fault is real: past libxml2's depth the body's paragraphs are gone."""
    _, page = a_story(ctx)
    whole = Selector(text=page.decode("utf-8")).xpath("//div[@id='yanse']//p")
    deep = Selector(text=deeply_nested(page).decode("utf-8")).xpath("//div[@id='yanse']//p")
    assert len(whole) > 3
    assert len(deep) < len(whole)


def test_undecodable_bytes_fit_neither_utf8_nor_gb18030(ctx: Context) -> None:
    _, page = a_story(ctx)
    broken = undecodable(page)
    assert broken.count(UNDECODABLE_BYTES) == len(body_paragraphs_html(page.decode("utf-8")))
    for charset in ("utf-8", "gb18030", "cp1252"):
        with pytest.raises(UnicodeDecodeError):
            broken.decode(charset)


def test_a_page_without_its_document_tail_keeps_its_body_whole(ctx: Context) -> None:
    _, page = a_story(ctx)
    cut = without_document_end(page)
    assert BODY_END_MARK.encode() in cut and len(cut) < len(page)
    assert b"</body>" not in cut and b"</html>" not in cut


def test_a_story_in_a_replica_page_keeps_the_page_anatomy(ctx: Context) -> None:
    _, page = a_story(ctx)
    made = with_story(page, "A headline & more", ["First <b>one</b>.", "Second."]).decode()
    assert "<title>A headline &amp; more</title>" in made
    assert 'name="twitter:title" content="A headline &amp; more"' in made
    assert body_paragraphs_html(made) == ["First <b>one</b>.", "Second."]
    assert info_spans(made) == info_spans(page.decode("utf-8"))
    for anchor in ('id="contitle"', 'class="downinfo', 'id="yanse"', BODY_START_MARK, "foottip"):
        assert anchor in made


def test_listings_of_many_links_are_the_sizes_the_cases_claim() -> None:
    big = many_links_listing("2025-01-11", 100_000, date="Jan 11, 2025")
    small = many_links_listing("2025-01-11", 2_000, date="Jan 11, 2025")
    assert Selector(text=small.decode()).css("ul.bizlst > li h3 a::attr(href)").getall()[:1] == [
        "2025-01-11/detail-zz000000.shtml"
    ]
    assert big.count(b"<li>") == 100_000
    assert len(small) < DOWNLOAD_MAXSIZE // 10


# --- the server -------------------------------------------------------------------------


def test_a_page_declared_gbk_is_utf8_bytes(ctx: Context, server: FaultServer) -> None:
    path, _ = a_story(ctx)
    server.set_faults(Faults(rules=[Rule(DECLARED_GBK, frozenset({path}))]))
    with get(server, path) as answer:
        assert answer.getheader("Content-Type") == "text/html; charset=gbk"
        assert "北京" in answer.read().decode("utf-8")


def test_a_gzip_bomb_is_served_compressed(ctx: Context, server: FaultServer) -> None:
    path, _ = a_story(ctx)
    server.set_faults(Faults(rules=[Rule(GZIP_BOMB, frozenset({path}), size=16 * MIB)]))
    with get(server, path) as answer:
        body = answer.read()
    assert answer.getheader("Content-Encoding") == "gzip"
    assert len(body) < MIB and inflated_size(body, 8 * MIB) >= 8 * MIB


def test_an_endless_answer_does_not_end(ctx: Context, server: FaultServer) -> None:
    path, _ = a_story(ctx)
    server.set_faults(Faults(rules=[Rule(ENDLESS, frozenset({path}), rate=16 * MIB)]))
    received = 0
    with get(server, path) as answer:
        assert answer.getheader("Transfer-Encoding") == "chunked"
        while received < 4 * MIB:
            chunk = answer.read(1 << 16)
            assert chunk, "the endless answer ended"
            received += len(chunk)


def test_a_wedged_server_answers_then_holds_every_later_request(
    ctx: Context, server: FaultServer
) -> None:
    path, _ = a_story(ctx)
    server.set_faults(Faults(hang_after=1))
    with get(server, path) as answer:
        assert answer.status == 200
    with pytest.raises(TimeoutError), get(server, path, timeout=0.5) as held:
        held.read()
    server.release_hung()


# --- the launcher's watch ---------------------------------------------------------------


def python_crawl(tmp_path: Path, code: str, **watch: float) -> Crawl:
    """A ``Crawl`` whose child is ``python -c code`` instead of a crawl."""
    crawl = Crawl(
        "http://127.0.0.1:9",
        tmp_path / "out",
        tmp_path / "st",
        spider_args={},
        settings={},
        **watch,
    )
    crawl.cmd = [sys.executable, "-c", code]
    return crawl.start()


def test_the_watch_records_peak_memory_and_kills_past_the_ceiling(tmp_path: Path) -> None:
    grow = (
        "import time\nblocks = []\n"
        "while True:\n    blocks.append(bytearray(8 << 20)); time.sleep(0.01)"
    )
    result = python_crawl(tmp_path, grow, rss_ceiling_mb=200, timeout=30).wait()
    assert result.exit_code is None and "memory" in (result.killed or "")
    assert result.peak_rss_mb is not None and result.peak_rss_mb > 200


def test_the_watch_times_a_stop_after_a_signal(tmp_path: Path) -> None:
    crawl = python_crawl(tmp_path, "import time\ntime.sleep(30)", timeout=30)
    time.sleep(0.3)
    crawl.send(signal.SIGTERM)
    result = crawl.wait()
    assert result.exit_code == -signal.SIGTERM and result.signalled == "SIGTERM"
    assert result.stop_seconds is not None and result.stop_seconds < 5


def test_the_watch_kills_a_run_that_does_not_stop_in_time(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    stubborn = (
        "import pathlib, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"pathlib.Path({str(ready)!r}).touch()\ntime.sleep(30)"
    )
    crawl = python_crawl(tmp_path, stubborn, timeout=30, stop_within=1)
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    crawl.send(signal.SIGTERM)
    result = crawl.wait()
    assert result.exit_code is None and "after SIGTERM" in (result.killed or "")
    assert result.stop_seconds is not None and 1 <= result.stop_seconds < 5
