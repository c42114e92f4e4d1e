"""The two crawlers the benchmarks compare, as measured processes.

- ``ecns``: ``scrapy crawl ecns`` exactly as ``replica.localrun.crawl`` runs it
  (project settings, every pipeline, the run's files, manifest, state and log),
  with only politeness lowered for a local server (``FAST_LOCAL_SETTINGS``).
- ``minimal``: ``scrapy runspider bench/minimal_spider.py`` from an empty folder,
  so no project setting applies, with the settings that shape a crawl set as the
  project sets them (concurrency, robots.txt, reactor, log level): the ratio then
  measures what the crawler does per page, not a different crawl.

Why not ``localrun.crawl`` itself: it uses ``subprocess.run``, which gives no
rusage; ``bench.measure.run_measured`` gets exact CPU and peak RSS from
``os.wait4`` and can sample ``/proc`` while the crawl runs.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Cost, run_measured
from newscrawl.settings import CONCURRENT_ITEMS, CONCURRENT_REQUESTS_PER_DOMAIN
from replica.localrun import FAST_LOCAL_SETTINGS, PROJECT_ROOT

MINIMAL_SPIDER = Path(__file__).resolve().parent / "minimal_spider.py"
# What shapes a crawl, set for the minimal spider as the project sets it.
MINIMAL_SETTINGS: dict[str, str] = {
    **FAST_LOCAL_SETTINGS,
    "ROBOTSTXT_OBEY": "True",
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENT_REQUESTS_PER_DOMAIN),
    "CONCURRENT_ITEMS": str(CONCURRENT_ITEMS),
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "False",
    "FEED_EXPORT_ENCODING": "utf-8",
}
CRAWL_TIMEOUT = 900.0


@dataclass(frozen=True)
class Variant:
    """Which ``ecns`` a benchmark runs: the project as it is, or a copy of it holding
    a prototype of a change (``project``), with extra Scrapy settings. This is how
    a change is measured against the minimal spider before it is made."""

    project: Path = PROJECT_ROOT
    settings: tuple[tuple[str, str], ...] = ()

    def cli(self) -> str:
        """The ``python -m bench`` options that select this variant."""
        words = [w for key, value in self.settings for w in ("-s", f"{key}={value}")]
        if self.project != PROJECT_ROOT:
            words += ["--project", str(self.project)]
        return (" " + shlex.join(words)) if words else ""


AS_IS = Variant()


@dataclass(frozen=True)
class CrawlResult:
    """One crawl: its cost, what it fetched and delivered, and how to rerun it."""

    crawler: str  # "ecns" or "minimal"
    cost: Cost
    requests: int  # requests downloaded, robots.txt included
    pages: int  # responses received (listing pages, articles, 404s, robots.txt)
    items: int
    status: str  # the manifest's status (ecns), "ok"/"failed" (minimal)
    command: str
    stats: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.cost.wall_s

    @property
    def cpu_per_1000(self) -> float:
        return 1000 * self.cost.cpu_s / self.pages if self.pages else float("nan")


BENCH_ROOT = Path(__file__).resolve().parent.parent  # the folder holding ``bench``


def child_env(*first: Path, settings_module: str | None = None) -> dict[str, str]:
    """The environment of a measured process: ``first`` folders, then the one holding
    ``bench`` (for ``bench.probe``, ``bench.gc_tuning``), on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    paths = [*map(str, first), str(BENCH_ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if settings_module:
        env["SCRAPY_SETTINGS_MODULE"] = settings_module
    return env


def section_args(sections: str) -> dict[str, str]:
    """The ``sections`` spider argument (both spiders take it); empty: all sections."""
    return {"sections": sections} if sections else {}


def _setting_args(settings: Mapping[str, str]) -> list[str]:
    return [arg for key, value in settings.items() for arg in ("-s", f"{key}={value}")]


def shell_command(cmd: list[str], env_prefix: str = "") -> str:
    """The command as a user would type it (the venv's python shortened)."""
    words = ["python" if w == sys.executable else w for w in cmd]
    return env_prefix + shlex.join(words)


def run_ecns(
    base_url: str,
    work: Path,
    *,
    state_dir: Path | None = None,
    spider_args: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    sampler: Callable[[int, dict[str, int]], None] | None = None,
    timeout: float = CRAWL_TIMEOUT,
    variant: Variant = AS_IS,
) -> CrawlResult:
    """``scrapy crawl ecns`` into ``work/output`` (state ``work/state`` unless given),
    run from ``variant.project`` with ``variant.settings`` added."""
    output = work / "output"
    state = state_dir or work / "state"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "ecns"]
    for key, value in (spider_args or {}).items():
        cmd += ["-a", f"{key}={value}"]
    cmd += _setting_args(
        {
            "ECNS_BASE_URL": base_url,
            "NEWSCRAWL_OUTPUT_DIR": str(output),
            "NEWSCRAWL_STATE_DIR": str(state),
            **FAST_LOCAL_SETTINGS,
            **dict(variant.settings),
            **(settings or {}),
        }
    )
    # ``python -m scrapy`` puts the working folder first on sys.path, so the
    # project's own ``newscrawl`` is the one imported.
    env = child_env(settings_module="newscrawl.settings")
    cost = run_measured(
        cmd,
        cwd=variant.project,
        env=env,
        log_path=work / "crawl.log",
        timeout=timeout,
        sampler=sampler,
    )
    manifests = sorted(output.glob("*.manifest.json"))
    if not manifests:
        raise RuntimeError(f"ecns wrote no manifest (exit {cost.returncode}); see {work}/crawl.log")
    manifest = json.loads(manifests[-1].read_text(encoding="utf-8"))
    stats = manifest["stats"]
    return CrawlResult(
        crawler="ecns",
        cost=cost,
        requests=int(stats["requests"]),
        pages=sum(stats["responses_by_status"].values()),
        items=int(manifest["items"]),
        status=f"{manifest['status']} (exit {cost.returncode})",
        command=shell_command(cmd, "SCRAPY_SETTINGS_MODULE=newscrawl.settings "),
        stats=stats,
    )


def run_minimal(
    base_url: str,
    work: Path,
    *,
    spider_args: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    timeout: float = CRAWL_TIMEOUT,
    project: Path = PROJECT_ROOT,
) -> CrawlResult:
    """The minimal spider, run from ``work`` (no ``scrapy.cfg`` there or above),
    importing ``newscrawl`` from ``project``: the extraction code of the ``ecns``
    it is compared with."""
    work.mkdir(parents=True, exist_ok=True)
    stats_path = work / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(MINIMAL_SPIDER)]
    args = {"base_url": base_url, **(spider_args or {}), "stats_path": str(stats_path)}
    for key, value in args.items():
        cmd += ["-a", f"{key}={value}"]
    cmd += ["-O", str(work / "items.jsonl")]
    cmd += _setting_args({**MINIMAL_SETTINGS, **(settings or {})})
    env = child_env(project)
    cost = run_measured(cmd, cwd=work, env=env, log_path=work / "crawl.log", timeout=timeout)
    if not stats_path.exists():
        raise RuntimeError(f"minimal spider failed (exit {cost.returncode}); see {work}/crawl.log")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    return CrawlResult(
        crawler="minimal",
        cost=cost,
        requests=int(stats.get("downloader/request_count", 0)),
        pages=int(stats.get("downloader/response_count", 0)),
        items=int(stats.get("item_scraped_count", 0)),
        status="ok" if cost.returncode == 0 else f"failed (exit {cost.returncode})",
        command=shell_command(cmd),
        stats=stats,
    )
