"""Scrapy's own tools on the project: ``scrapy parse``, ``shell``, ``check`` and
``list`` build the spider as a crawl does, but only ``scrapy crawl`` is a run. After
a real run, the tools leave the output folder, the state and the run history byte
for byte as they were, and the next run costs what it would have cost without them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from replica.faults import Faults, FaultServer
from replica.localrun import FAST_LOCAL_SETTINGS, crawl, scrapy
from tests.conftest import Replica, crawl_stat

SECTIONS = {"sections": "politics"}
CONTRACT_PATH = "/news/politics/2025-01-10/detail-ihemrznk1748604.shtml"


def snapshot(*folders: Path) -> dict[str, str]:
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def tool(base_url: str, out: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A Scrapy tool pointed at the replica and the run's folders."""
    settings = {
        "ECNS_BASE_URL": base_url,
        "NEWSCRAWL_OUTPUT_DIR": str(out),
        "NEWSCRAWL_STATE_DIR": str(state),
        **FAST_LOCAL_SETTINGS,
    }
    return scrapy(*args, settings=settings, timeout=120)


def a_story_page(replica: Replica) -> bytes:
    story = next(r for r in replica.truth() if r["expect"] == "delivered")
    return (replica.root / "site" / story["path"].lstrip("/")).read_bytes()


def test_scrapy_tools_leave_output_state_and_history_as_they_were(
    replica: Replica, tmp_path: Path
) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    page = a_story_page(replica)
    faults = Faults(pages={CONTRACT_PATH: (page, "text/html; charset=utf-8")})
    with FaultServer(replica.root, faults) as server:
        first = crawl(server.base_url, out, state, spider_args=SECTIONS)
        assert first.returncode == 0, first.stderr[-2000:]
        shutil.copytree(out, tmp_path / "control-out")
        shutil.copytree(state, tmp_path / "control-state")
        before = snapshot(out, state)
        story = server.base_url + CONTRACT_PATH
        listing = server.base_url + "/news/politics/"
        tools = [
            ("parse", "--spider=ecns", story),
            ("parse", "--spider=ecns", "--pipelines", story),
            ("parse", "--spider=ecns", "-c", "parse_listing", "--cbkwargs",
             '{"section": "politics", "page": 1}', listing),
            ("shell", "--spider=ecns", "-c", "len(response.body)", story),
            ("check", "ecns"),
            ("list",),
        ]  # fmt: skip
        results = {args: tool(server.base_url, out, state, *args) for args in tools}
        assert snapshot(out, state) == before
        for args, result in results.items():
            assert result.returncode == 0, (args, result.stdout[-1500:], result.stderr[-3000:])
        parsed = results[("parse", "--spider=ecns", "--pipelines", story)].stdout
        assert "'body': " in parsed and "'version': 1" in parsed
        checked = results[("check", "ecns")]
        assert "Ran 3 contracts" in checked.stderr and "OK" in checked.stderr, checked.stderr
        next_run = crawl(server.base_url, out, state, spider_args=SECTIONS)
        control = crawl(
            server.base_url,
            tmp_path / "control-out",
            tmp_path / "control-state",
            spider_args=SECTIONS,
        )
    assert next_run.returncode == control.returncode == 0
    cost = crawl_stat(next_run.stderr, "downloader/request_count")
    assert cost == crawl_stat(control.stderr, "downloader/request_count")
