"""Shared fixtures: a replica of the site built into a temporary folder and served
on 127.0.0.1 (tests never touch the internet)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from replica import ReplicaServer, build_site


def crawl_stat(log: str, name: str) -> int:
    """A counter from the stats Scrapy dumps at the end of a crawl's log (0 if absent)."""
    m = re.search(rf"'{re.escape(name)}': (\d+)", log)
    return int(m.group(1)) if m else 0


@dataclass
class Replica:
    root: Path
    base_url: str

    def truth(self) -> list[dict]:
        with (self.root / "truth.jsonl").open(encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def rebuild(self, **kwargs: int) -> None:
        build_site(self.root, **kwargs)


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    root = tmp_path_factory.mktemp("replica")
    build_site(root)
    with ReplicaServer(root) as server:
        yield Replica(root, server.base_url)


# Modules that run `scrapy crawl`, scrapyd or a build in subprocesses against servers
# on 127.0.0.1: the slow layer (`pytest -m "not slow"` runs the rest in seconds).
SLOW_MODULES = frozenset(
    {
        "test_bench_smoke",
        "test_command_line",
        "test_corrections",
        "test_crawl",
        "test_crawl_into_store",
        "test_discovery",
        "test_faults",
        "test_giveup_command",
        "test_ingest_postgres",
        "test_ingest_sqlite",
        "test_limits",
        "test_metrics",
        "test_packaging",
        "test_politeness",
        "test_prune",
        "test_report",
        "test_robots",
        "test_scheduled_runs",
        "test_scrapy_tools",
        "test_scrapyd",
        "test_setup_failures",
        "test_stop",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
