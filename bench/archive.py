"""Benchmark 2: what one scheduled run costs as the archive of delivered stories grows.

The scenario is the hourly run: the site published 10 stories since the last run
(``new_on_top=10`` on the politics listing), everything else is known. The state
comes from a real first run over the replica (``bench.seed``), then 1,000, 10,000
or 100,000 more delivered stories are seeded. A second series also keeps in the
output folder the manifests and files of the earlier runs that delivered them
(one run per 10 stories), because every run reads that folder at start-up to
recover killed runs.

Sizes are interleaved (1k 10k 100k 100k 10k 1k …) so drift does not masquerade as
growth. The target: ≤ 10 + 2 × sections + 1 requests, and the same time at 1k
and 100k.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.crawls import AS_IS, CrawlResult, Variant, run_ecns, section_args
from bench.measure import median
from bench.replicas import build
from bench.report import Section, Target, table
from bench.seed import copy_state, first_runs, seed_past_runs, seed_stories
from bench.server import static_server
from newscrawl.urls import SECTION_PATHS

NEW_STORIES = 10
STORIES_PER_PAST_RUN = 10
SAME_TIME_TOLERANCE = 0.10  # "the same time": within 10 % (median of the repeats)


@dataclass(frozen=True)
class ArchiveRun:
    series: str
    size: int
    result: CrawlResult

    @property
    def listing_pages(self) -> int:
        return int(self.result.stats.get("newscrawl", {}).get("listing_pages", 0))

    @property
    def articles(self) -> int:
        return int(self.result.stats.get("newscrawl", {}).get("articles_requested", 0))


def _slug(series: str) -> str:
    return series.replace(" + ", "-").replace(" ", "-")


def request_limit(sections: int) -> int:
    return NEW_STORIES + 2 * sections + 1


def run(
    work: Path,
    *,
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000),
    repeat: int = 2,
    scale: int = 1,
    server: str = "nginx",
    with_past_runs: bool = True,
    sections: str = "",
    variant: Variant = AS_IS,
) -> Section:
    root = work / "replica"
    build(root, scale=scale)
    crawled = len(sections.split(",")) if sections else len(SECTION_PATHS)
    args = section_args(sections)
    runs: list[ArchiveRun] = []
    series = ["stories"] + (["stories + past runs"] if with_past_runs else [])
    with static_server(root, server) as srv:
        made = first_runs(srv.base_url, work / "first-runs", args, variant)
        first, template, template_manifest = made.first, made.state, made.manifest
        build(root, scale=scale, new_on_top=NEW_STORIES)  # swapped in under the server
        order = [*sizes, *reversed(sizes)] * math.ceil(repeat / 2)
        order = order[: len(sizes) * repeat]
        near_seeded = False
        # Series interleaved too (each size, each series in turn): a drift of the
        # machine over the benchmark's minute then weighs on both alike.
        for i, size in enumerate(order):
            for name in series:
                # The seeded state (and past runs' output) of each size is made once,
                # then copied for each run: a run changes its state.
                seeded = work / "seeded" / f"{_slug(name)}-{size}"
                if not (seeded / "state").exists():
                    state = copy_state(template, seeded / "state")
                    near_seeded = seed_stories(state, srv.base_url, size)
                    (seeded / "output").mkdir(parents=True)
                    if name != "stories":
                        past = size // STORIES_PER_PAST_RUN
                        seed_past_runs(state, seeded / "output", template_manifest, past)
                run_dir = work / f"{_slug(name)}-{size}-{i}"
                shutil.rmtree(run_dir, ignore_errors=True)
                state = copy_state(seeded / "state", run_dir / "state")
                shutil.copytree(seeded / "output", run_dir / "output")
                # The copies (up to 200 MB and 20,000 files) written out before the
                # crawl starts, not by the kernel while it runs: that writeback made
                # the wall time of the largest sizes vary by a fifth between runs.
                os.sync()
                result = run_ecns(
                    srv.base_url,
                    run_dir,
                    state_dir=state,
                    spider_args=args,
                    variant=variant,
                )
                runs.append(ArchiveRun(name, size, result))
        server_name = srv.name

    this = f"python -m bench archive --sizes {','.join(map(str, sizes))} --repeat {repeat}"
    this += f" --sections {sections}" if sections else ""
    this += " --no-past-runs" if not with_past_runs else ""
    this += variant.cli()
    section = Section(
        f"2. Scheduled run finding {NEW_STORIES} new stories, archive of 1k–100k stories "
        f"(replica scale {scale}: {first.items} stories known from earlier runs; {crawled} "
        f"sections; server {server_name}; {repeat} runs a size, interleaved)"
    )
    section.add(
        f"The state: a first run ({first.requests} requests), then runs on the unchanged "
        f"replica until no failed page is retried ({', '.join(map(str, made.settle_requests))} "
        "requests). "
        "Seeded stories are delivered rows in `stories`"
        + (
            ", each with a delivered near-duplicate fingerprint (the index's own add and"
            " promote, over a generated body)."
            if near_seeded
            else " (the near-duplicate index did not take them all: see bench/seed.py)."
        )
    )
    rows = []
    medians: dict[tuple[str, int], tuple[float, float, float]] = {}
    for name in series:
        for size in sizes:
            group = [r for r in runs if r.series == name and r.size == size]
            walls = [r.result.cost.wall_s for r in group]
            cpus = [r.result.cost.cpu_s for r in group]
            rss = [r.result.cost.max_rss_mb for r in group]
            medians[name, size] = (median(walls), median(cpus), median(rss))
            g = group[0]
            past = size // STORIES_PER_PAST_RUN if name != "stories" else 0
            rows.append(
                [name, size, past, g.result.requests, g.listing_pages, g.articles,
                 g.result.items, median(walls), median(cpus), median(rss), g.result.status]
            )  # fmt: skip
    section.add(
        table(
            [
                "series",
                "stories seeded",
                "past runs",
                "requests",
                "listing pages",
                "articles",
                "items",
                "wall s",
                "CPU s",
                "peak RSS MB",
                "status",
            ],
            rows,
        )
    )
    limit = request_limit(crawled)
    worst = max(r.result.requests for r in runs)
    small, big = sizes[0], sizes[-1]
    lines = [f"Request limit: {NEW_STORIES} + 2 × {crawled} + 1 = {limit}; most made: {worst}."]
    for name in series:
        w0, c0, _ = medians[name, small]
        w1, c1, _ = medians[name, big]
        lines.append(
            f"{name}: {big:,} vs {small:,} stories: wall × {w1 / w0:.2f}, CPU × {c1 / c0:.2f}"
        )
        section.targets.append(
            Target(
                f"scheduled run: same time at {small:,} and {big:,} stories ({name})",
                f"wall × {w1 / w0:.2f}, CPU × {c1 / c0:.2f}",
                max(w1 / w0, c1 / c0) <= 1 + SAME_TIME_TOLERANCE,
            )
        )
        section.summary.append(
            (f"scheduled run wall / CPU s, {small:,} → {big:,} stories ({name})",
             f"{w0:.2f} / {c0:.2f} → {w1:.2f} / {c1:.2f}", this)
        )  # fmt: skip
    section.targets.insert(
        0,
        Target(
            f"scheduled run with {NEW_STORIES} new stories ≤ {limit} requests",
            f"{worst} requests",
            worst <= limit,
        ),
    )
    section.summary.insert(0, ("scheduled run requests (10 new stories)", str(worst), this))
    section.add("\n".join(lines))
    section.add(f"Command: `{this}`\n\nCrawl: `{runs[-1].result.command}`")
    return section
