"""Benchmark 3: memory over a long backfill, sampled while the crawl runs.

Why sample ``/proc`` instead of reading Scrapy's ``memusage/max``: that stat is
sampled every 60 s and misses short peaks (LESSONS.md). The kernel's ``VmHWM``
(peak RSS so far) is exact; reading it when the crawl passes 10k, 25k and 50k
items tells whether memory grows with the crawl. Items are counted from the
run's own output files (``*.jsonl.part``, then ``*.jsonl``) as they grow.

The replica is built at the scale that lists the wanted number of deliverable
stories (255 a scale unit) and is cached between runs of the benchmark: building
50k pages takes about a minute and 3 GB of memory, crawling them three to four
minutes. A page generator serving on the fly was considered and not used: the
files are built once, nginx serves them for free, and the pages are the replica's
own, variations and all.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.crawls import AS_IS, CrawlResult, Variant, run_ecns, section_args
from bench.replicas import cached_replica
from bench.report import Section, Target, table
from bench.server import static_server

DELIVERED_PER_SCALE = 255  # deliverable stories per scale unit of the replica
PEAK_TARGET_MB = 250.0
GROWTH_TARGET = 0.10
SAMPLE_EVERY = 0.25  # seconds
BACKFILL_ARGS = {"since": "2000-01-01", "max_pages": "100000"}


@dataclass
class Sample:
    t: float
    items: int
    rss_mb: float
    hwm_mb: float


@dataclass
class RssSampler:
    """Called by ``run_measured`` while the crawl runs: counts the items in the
    output folder and reads the crawler's RSS; keeps the sample where each mark
    was first passed."""

    output_dir: Path
    marks: Sequence[int]
    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    at_mark: dict[int, Sample] = field(default_factory=dict)
    _counted: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → (offset, lines)
    _last: float = 0.0

    def items(self) -> int:
        """Lines written so far, reading each file only past what was counted."""
        if not self.output_dir.is_dir():
            return 0
        for entry in os.scandir(self.output_dir):
            if not entry.name.endswith((".jsonl", ".jsonl.part")):
                continue
            key = entry.name.removesuffix(".part")
            offset, lines = self._counted.get(key, (0, 0))
            try:
                with open(entry.path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
            except FileNotFoundError:  # renamed from .part meanwhile: next time
                continue
            self._counted[key] = (offset + len(chunk), lines + chunk.count(b"\n"))
        return sum(lines for _, lines in self._counted.values())

    def __call__(self, pid: int, status: dict[str, int]) -> None:
        now = time.monotonic()
        if now - self._last < SAMPLE_EVERY or "VmHWM" not in status:
            return
        self._last = now
        sample = Sample(
            now - self.started, self.items(), status["VmRSS"] / 1024, status["VmHWM"] / 1024
        )
        self.samples.append(sample)
        for mark in self.marks:
            if sample.items >= mark and mark not in self.at_mark:
                self.at_mark[mark] = sample


def scale_for(items: int) -> int:
    return max(1, math.ceil(items / DELIVERED_PER_SCALE))


def backfill(
    base_url: str,
    work: Path,
    marks: Sequence[int],
    variant: Variant = AS_IS,
    sections: str = "",
) -> tuple[CrawlResult, RssSampler]:
    """One backfill from an empty state, RSS sampled as the items pass ``marks``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sampler = RssSampler(work / "output", marks)
    result = run_ecns(
        base_url,
        work,
        spider_args={**BACKFILL_ARGS, **section_args(sections)},
        sampler=sampler,
        variant=variant,
    )
    return result, sampler


def parse_marks(items: int) -> list[int]:
    """10k, 25k, 50k for 50,000 items: a fifth, a half and all of it."""
    return sorted({max(1, items // 5), max(1, items // 2), items})


def run(
    work: Path,
    cache: Path,
    *,
    items: int = 50_000,
    server: str = "nginx",
    variant: Variant = AS_IS,
    sections: str = "",
) -> Section:
    marks = parse_marks(items)
    scale = scale_for(items)
    root, built_s = cached_replica(cache, scale=scale)
    with static_server(root, server) as srv:
        result, sampler = backfill(srv.base_url, work, marks, variant, sections)
        server_name = srv.name
    this = f"python -m bench backfill --items {items} --server {server}"
    this += variant.cli()
    this += f" --sections {sections}" if sections else ""
    built = f"built in {built_s:.0f} s" if built_s else "cached"
    section = Section(
        f"3. Backfill of {items:,} items (replica scale {scale}, {built}; server {server_name})"
    )
    peaks = [_peak_at(sampler, result, m) for m in marks]
    growth = peaks[-1] / peaks[0] - 1 if peaks[0] else float("nan")
    headers = ["items", "wall s", "pages/s", "CPU s/1000 pages"]
    headers += [f"peak RSS MB at {m:,}" for m in marks]
    headers += ["peak RSS MB (run)", f"growth {marks[0]:,}→{marks[-1]:,}", "status"]
    row = [result.items, result.cost.wall_s, result.pages_per_s, result.cpu_per_1000, *peaks]
    row += [result.cost.max_rss_mb, f"{100 * growth:+.1f} %", result.status]
    section.add(table(headers, [row]))
    section.add(
        "RSS while crawling (items: MB): "
        + "  ".join(f"{s.items:,}: {s.rss_mb:.0f}" for s in _thin(sampler.samples, 12))
    )
    section.add(f"Command: `{this}`\n\nCrawl: `{result.command}`")
    section.targets += [
        Target(
            f"backfill peak RSS ≤ {PEAK_TARGET_MB:.0f} MB",
            f"{result.cost.max_rss_mb:.0f} MB",
            result.cost.max_rss_mb <= PEAK_TARGET_MB,
        ),
        Target(
            f"backfill peak RSS growth {marks[0]:,}→{marks[-1]:,} < {100 * GROWTH_TARGET:.0f} %",
            f"{100 * growth:+.1f} %",
            growth < GROWTH_TARGET if not math.isnan(growth) else None,
        ),
    ]
    for m, peak in zip(marks, peaks, strict=True):
        section.summary.append((f"backfill peak RSS MB at {m:,} items", f"{peak:.0f}", this))
    section.summary.append(
        ("backfill peak RSS MB, whole run (close included)", f"{result.cost.max_rss_mb:.0f}", this)
    )
    return section


def _peak_at(sampler: RssSampler, result: CrawlResult, mark: int) -> float:
    """Peak RSS (MB) when the crawl had delivered ``mark`` items; for the last mark
    reached only as the crawl ended, the process's peak over the whole run."""
    sample = sampler.at_mark.get(mark)
    if sample is not None:
        return sample.hwm_mb
    if result.items >= mark:
        return result.cost.max_rss_mb
    return float("nan")


def _thin(samples: list[Sample], n: int) -> list[Sample]:
    if len(samples) <= n:
        return samples
    step = (len(samples) - 1) / (n - 1)
    return [samples[round(i * step)] for i in range(n)]
