"""What a scheduler relies on: the lock, the exit codes, the manifest, a graceful
stop, and exactly-once delivery however runs are killed.

Each test runs ``scrapy crawl ecns`` as a subprocess against the replica (or a
server that misbehaves on purpose), all on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newscrawl.folders import OUTPUT_LOCK_NAME, acquire_lock, release_lock
from newscrawl.verdict import ExitCode
from replica.localrun import PROJECT_ROOT, crawl, read_jsonl, scrapy_env
from tests.conftest import Replica

SECTIONS = {"sections": "politics,cns-wire,business"}


def manifests(output: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(output.glob("*.manifest.json"))]


def delivered_stories(output: Path) -> list[str]:
    """What a consumer that reads only files named in complete manifests receives."""
    urls = []
    for manifest in manifests(output):
        if manifest["status"] == "complete":
            for f in manifest["files"]:
                urls += [item["url"] for item in read_jsonl(output / f["path"])]
    return urls


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_error_site() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers 500 to everything."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal error")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_complete_run_writes_a_manifest_naming_its_files(
    replica: Replica, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = crawl(replica.base_url, out, tmp_path / "state", spider_args=SECTIONS)
    assert result.returncode == ExitCode.OK, result.stderr[-2000:]
    (manifest,) = manifests(out)
    assert manifest["status"] == "complete" and manifest["exit_code"] == 0
    assert manifest["spider_arguments"]["sections"] == SECTIONS["sections"]
    assert manifest["started_at"] < manifest["finished_at"]
    files = manifest["files"]
    assert [f["path"] for f in files] == sorted(p.name for p in out.glob("*.jsonl"))
    assert sum(f["items"] for f in files) == manifest["items"] > 0
    stats = manifest["stats"]
    assert stats["requests"] > manifest["items"]
    assert stats["responses_by_status"]["200"] > 0
    assert stats["dropped_by_reason"]["SpamPage"] >= 1


def test_output_rotates_by_item_count(replica: Replica, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = crawl(
        replica.base_url,
        out,
        tmp_path / "state",
        spider_args=SECTIONS,
        settings={"NEWSCRAWL_FILE_MAX_ITEMS": "25"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (manifest,) = manifests(out)
    counts = [f["items"] for f in manifest["files"]]
    assert len(counts) > 2 and all(c == 25 for c in counts[:-1]) and 0 < counts[-1] <= 25
    for f in manifest["files"]:
        assert len(read_jsonl(out / f["path"])) == f["items"]


def test_a_second_run_on_a_locked_state_exits_at_once_touching_nothing(
    replica: Replica, tmp_path: Path
) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    acquire_lock(state)  # this test process plays the run in progress
    try:
        before = sorted(p.name for p in state.iterdir())
        result = crawl(replica.base_url, out, state, spider_args=SECTIONS)
    finally:
        release_lock(state)
    assert result.returncode == ExitCode.LOCKED
    assert "another run" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in state.iterdir()) == before


def test_an_unreachable_site_fails_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = crawl(f"http://127.0.0.1:{free_port()}", out, tmp_path / "state", spider_args=SECTIONS)
    assert result.returncode == ExitCode.SITE_UNREACHABLE, result.stderr[-2000:]
    (manifest,) = manifests(out)
    assert manifest["status"] == "failed" and "no listing page" in manifest["reason"]


def test_500s_everywhere_fail_the_run(server_error_site: str, tmp_path: Path) -> None:
    result = crawl(
        server_error_site,
        tmp_path / "out",
        tmp_path / "state",
        spider_args=SECTIONS,
        settings={"RETRY_TIMES": "1"},
    )
    assert result.returncode == ExitCode.SITE_UNREACHABLE, result.stderr[-2000:]


def hijacked(html: str) -> str:
    """Every story link pointed at another host, as injected spam does."""
    site_link = r'href="(?:https?:)?(?://www\.ecns\.cn)?/'
    return re.sub(site_link, 'href="https://spam.example/', html)


@pytest.mark.parametrize(
    "change",
    [lambda html: html.replace("bizlst", "newslist"), hijacked],
    ids=["template changed", "every link off-site"],
)
def test_a_changed_listing_template_fails_the_run_naming_the_section(
    replica: Replica, tmp_path: Path, change: Callable[[str], str]
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    first = crawl(replica.base_url, out, state, spider_args=SECTIONS)
    assert first.returncode == 0, first.stderr[-2000:]
    listing = replica.root / "site" / "news" / "politics" / "index.shtml"
    original = listing.read_text(encoding="utf-8")
    assert change(original) != original
    listing.write_text(change(original), encoding="utf-8")
    try:
        second = crawl(replica.base_url, out, state, spider_args=SECTIONS)
    finally:
        listing.write_text(original, encoding="utf-8")
    assert second.returncode == ExitCode.LAYOUT_CHANGED, second.stderr[-2000:]
    failed = manifests(out)[-1]
    assert failed["status"] == "failed"
    assert "politics" in failed["reason"] and "0 stories" in failed["reason"]


def test_a_changed_article_template_fails_the_run_naming_the_field(
    replica: Replica, tmp_path: Path
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    assert crawl(replica.base_url, out, state, spider_args=SECTIONS).returncode == 0
    replica.rebuild(new_on_top=12)
    truth = {s["path"] for s in replica.truth()}
    site = replica.root / "site"
    new_pages = [
        site / p.lstrip("/")
        for p in truth
        if (site / p.lstrip("/")).exists() and "Editor" in (site / p.lstrip("/")).read_text()
    ]
    for page in new_pages:  # the editor span is renamed on every page
        page.write_text(page.read_text().replace("Editor", "Redaktion"), encoding="utf-8")
    try:
        second = crawl(replica.base_url, out, state, spider_args=SECTIONS)
    finally:
        replica.rebuild()
    assert second.returncode == ExitCode.LAYOUT_CHANGED, second.stderr[-2000:]
    failed = manifests(out)[-1]
    assert failed["reason"].startswith("field editor")
    # nothing of the failed run is delivered: the next (fixed) run delivers it
    assert len(delivered_stories(out)) == len(set(delivered_stories(out)))


def start_crawl(
    base_url: str,
    out: Path,
    state: Path,
    log: Path,
    env: dict[str, str] | None = None,
    **settings: str,
) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "ecns", "-a", "sections=politics,cns-wire"]
    merged = {
        "ECNS_BASE_URL": base_url,
        "NEWSCRAWL_OUTPUT_DIR": str(out),
        "NEWSCRAWL_STATE_DIR": str(state),
        "AUTOTHROTTLE_ENABLED": "False",
        "NEWSCRAWL_FILE_MAX_ITEMS": "20",
        **settings,
    }
    for key, value in merged.items():
        cmd += ["-s", f"{key}={value}"]
    full_env = scrapy_env(env)
    with log.open("ab") as stderr:
        return subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=stderr
        )


def test_sigterm_stops_gracefully_with_complete_files_and_manifest(
    replica: Replica, tmp_path: Path
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    log = tmp_path / "crawl.log"
    proc = start_crawl(replica.base_url, out, state, log, DOWNLOAD_DELAY="0.02")
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == ExitCode.OK, log.read_text()[-2000:]
    (manifest,) = manifests(out)
    assert manifest["status"] == "complete" and manifest["close_reason"] == "shutdown"
    assert list(out.glob("*.part")) == []
    stopped_early = len(delivered_stories(out))
    finish = crawl(replica.base_url, out, state, spider_args={"sections": "politics,cns-wire"})
    assert finish.returncode == 0, finish.stderr[-2000:]
    urls = delivered_stories(out)
    assert 0 < stopped_early < len(urls)
    assert len(urls) == len(set(urls))


def test_runs_killed_at_random_moments_deliver_every_story_exactly_once(
    replica: Replica, tmp_path: Path
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    rng = random.Random(20261126)
    for _ in range(6):
        proc = start_crawl(
            replica.base_url, out, state, tmp_path / "kill.log", DOWNLOAD_DELAY="0.01"
        )
        time.sleep(rng.uniform(0.8, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    final = crawl(replica.base_url, out, state, spider_args={"sections": "politics,cns-wire"})
    assert final.returncode == 0, final.stderr[-2000:]
    reference = crawl(
        replica.base_url,
        tmp_path / "ref-out",
        tmp_path / "ref-state",
        spider_args={"sections": "politics,cns-wire"},
    )
    assert reference.returncode == 0, reference.stderr[-2000:]
    # A story and its copy count as one: of the pair, whichever a run meets first
    # is delivered (requests of one listing page are answered in any order).
    original = {s["path"]: s["duplicate_of"] for s in replica.truth() if "duplicate_of" in s}

    def stories(urls: list[str]) -> list[str]:
        paths = [urlsplit(url).path for url in urls]
        return [original.get(path, path) for path in paths]

    expected = set(stories(delivered_stories(tmp_path / "ref-out")))
    delivered = stories(delivered_stories(out))
    duplicated = [story for story, n in Counter(delivered).items() if n > 1]
    assert duplicated == []
    assert set(delivered) == expected


def test_each_run_writes_its_own_log_file(replica: Replica, tmp_path: Path) -> None:
    state = tmp_path / "state"
    for _ in range(2):
        result = crawl(replica.base_url, tmp_path / "out", state, spider_args=SECTIONS)
        assert result.returncode == 0, result.stderr[-2000:]
    logs = sorted((state / "logs").glob("*.log"))
    assert len(logs) == 2
    assert "Spider closed (finished)" in logs[-1].read_text(encoding="utf-8")


def test_deleting_the_state_folder_delivers_every_story_again(
    replica: Replica, tmp_path: Path
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    first = crawl(replica.base_url, out, state, spider_args=SECTIONS)
    assert first.returncode == 0, first.stderr[-2000:]
    delivered = sorted(delivered_stories(out))
    assert delivered
    shutil.rmtree(state)  # the documented reset
    again = crawl(replica.base_url, out, state, spider_args=SECTIONS)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Recovered run" not in again.stderr
    newest = manifests(out)[-1]
    assert newest["status"] == "complete"
    redelivered = [i["url"] for f in newest["files"] for i in read_jsonl(out / f["path"])]
    # A story and its copy count as one: whichever a run meets first is delivered.
    original = {s["path"]: s["duplicate_of"] for s in replica.truth() if "duplicate_of" in s}

    def stories(urls: list[str]) -> list[str]:
        return sorted(original.get(urlsplit(u).path, urlsplit(u).path) for u in urls)

    assert stories(redelivered) == stories(delivered)


def test_a_run_on_an_output_folder_another_run_is_writing_exits_at_once(
    replica: Replica, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    acquire_lock(out, OUTPUT_LOCK_NAME)  # a run with another state plays the live one
    live_part = out / "ecns-20261206T040000Z-abcd-0001.jsonl.part"
    live_part.write_text("{}\n")
    try:
        result = crawl(replica.base_url, out, tmp_path / "other-state", spider_args=SECTIONS)
    finally:
        release_lock(out)
    assert result.returncode == ExitCode.LOCKED, result.stderr[-2000:]
    assert "another run" in result.stderr
    assert live_part.read_text() == "{}\n"
    assert not list(out.glob("*.discarded"))


def test_set_aside_files_and_probes_are_removed_once_old(replica: Replica, tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    out.mkdir()
    old = time.time() - 8 * 86400
    aged = out / "ecns-20261101T000000Z-0001-0001.jsonl.discarded"
    recent = out / "ecns-20261205T000000Z-0002-0001.jsonl.part.discarded"
    probe = out / ".newscrawl-probe-12345"
    for path in (aged, recent, probe):
        path.write_text("x")
    os.utime(aged, (old, old))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = crawl(replica.base_url, out, state, spider_args=SECTIONS, env={"TMPDIR": str(tmp)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (aged.exists(), recent.exists(), probe.exists()) == (False, True, False)
    assert list(tmp.iterdir()) == []


def test_a_killed_run_leaves_nothing_in_the_temporary_folder(
    replica: Replica, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = start_crawl(
        replica.base_url,
        tmp_path / "out",
        tmp_path / "state",
        tmp_path / "kill.log",
        DOWNLOAD_DELAY="0.05",
        env={"TMPDIR": str(tmp)},
    )
    time.sleep(3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert list(tmp.iterdir()) == []
