"""Benchmark 1: throughput and CPU per page of the full crawl, beside the minimal
spider and the parse ceiling, interleaved in one run.

Why interleaved (A B C, C B A, …) and quoted as ratios: these machines drift
30–40 % in speed within an hour (LESSONS.md), so absolute numbers from two runs
cannot be compared, while a ratio from neighbouring measurements can. Each round
reverses the order so neither crawler always runs first after a pause.

CPU per page is the crawler process's whole CPU time (user + system, from
``os.wait4``), start-up included, divided by the responses it received: what a
shared server pays. Pages per second is responses over the process's wall time.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.crawls import (
    AS_IS,
    CrawlResult,
    Variant,
    child_env,
    run_ecns,
    run_minimal,
    section_args,
    shell_command,
)
from bench.measure import median, run_measured
from bench.replicas import build
from bench.report import Section, Target, table
from bench.server import static_server
from replica.localrun import PROJECT_ROOT

CPU_RATIO_TARGET = 1.3
ECNS_ARGS = {"max_pages": "100000"}  # page every listing to its end


@dataclass(frozen=True)
class ParseRun:
    pages: int
    cpu_s: float  # the extraction loop only

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.cpu_s

    @property
    def cpu_per_1000(self) -> float:
        return 1000 * self.cpu_s / self.pages


def run_parse(
    root: Path, work: Path, sections: str = "", project: Path = PROJECT_ROOT
) -> tuple[ParseRun, str]:
    """``python -m bench.parse_ceiling`` in a process of its own, like the crawls,
    with ``newscrawl`` from ``project`` (its working folder)."""
    out = work / "parse.json"
    cmd = [sys.executable, "-m", "bench.parse_ceiling", str(root), "--json", str(out)]
    cmd += ["--sections", sections] if sections else []
    cost = run_measured(cmd, cwd=project, env=child_env(), log_path=work / "parse.log", timeout=600)
    if cost.returncode != 0:
        raise RuntimeError(f"parse ceiling failed; see {work}/parse.log")
    data = json.loads(out.read_text())
    return ParseRun(data["pages"], data["cpu_s"]), shell_command(cmd)


def listed_articles(root: Path) -> int:
    """How many story URLs the replica's listings link to (404s included)."""
    with (root / "truth.jsonl").open(encoding="utf-8") as f:
        return sum(1 for line in f if json.loads(line)["listed_in"])


def run(
    work: Path,
    *,
    scale: int = 12,
    rounds: int = 3,
    server: str = "nginx",
    sections: str = "",
    variant: Variant = AS_IS,
) -> Section:
    root = work / f"replica-s{scale}"
    build(root, scale=scale)
    listed = listed_articles(root)
    ecns: list[CrawlResult] = []
    minimal: list[CrawlResult] = []
    parse: list[ParseRun] = []
    commands: dict[str, str] = {}
    with static_server(root, server) as srv:
        for r in range(rounds):
            order = ["ecns", "minimal", "parse"]
            for name in order if r % 2 == 0 else reversed(order):
                run_dir = work / f"round{r + 1}-{name}"
                shutil.rmtree(run_dir, ignore_errors=True)
                run_dir.mkdir(parents=True)
                if name == "ecns":
                    ecns.append(
                        run_ecns(
                            srv.base_url,
                            run_dir,
                            spider_args={**ECNS_ARGS, **section_args(sections)},
                            variant=variant,
                        )
                    )
                    commands["ecns"] = ecns[-1].command
                elif name == "minimal":
                    minimal.append(
                        run_minimal(
                            srv.base_url,
                            run_dir,
                            spider_args=section_args(sections),
                            project=variant.project,
                        )
                    )
                    commands["minimal"] = minimal[-1].command
                else:
                    result, commands["parse"] = run_parse(root, run_dir, sections, variant.project)
                    parse.append(result)
        server_name = srv.name

    this = f"python -m bench throughput --scale {scale} --rounds {rounds} --server {server}"
    this += f" --sections {sections}" if sections else ""
    this += variant.cli()
    section = Section(
        f"1. Full crawl vs minimal spider vs parse ceiling (scale {scale}: {listed:,} listed "
        f"articles, {ecns[0].pages:,} responses; server: {server_name}; {rounds} rounds "
        "interleaved)"
    )
    rows = []
    for i in range(rounds):
        for c in (ecns[i], minimal[i]):
            rows.append(
                [i + 1, c.crawler, c.pages, c.items, c.cost.wall_s, c.pages_per_s, c.cost.cpu_s,
                 c.cpu_per_1000, c.cost.max_rss_mb, c.status]
            )  # fmt: skip
        p = parse[i]
        rows.append(
            [i + 1, "parse", p.pages, "–", "–", p.pages_per_s, p.cpu_s, p.cpu_per_1000, "–", "ok"]
        )
    section.add(
        table(
            [
                "round",
                "run",
                "pages",
                "items",
                "wall s",
                "pages/s",
                "CPU s",
                "CPU s/1000 pages",
                "peak RSS MB",
                "status",
            ],
            rows,
        )
    )
    cpu_ratios = [e.cpu_per_1000 / m.cpu_per_1000 for e, m in zip(ecns, minimal, strict=True)]
    parse_ratios = [e.cpu_per_1000 / p.cpu_per_1000 for e, p in zip(ecns, parse, strict=True)]
    speed_ratios = [e.pages_per_s / m.pages_per_s for e, m in zip(ecns, minimal, strict=True)]
    cpu_ratio = median(cpu_ratios)
    medians = {
        "ecns": (median([c.pages_per_s for c in ecns]), median([c.cpu_per_1000 for c in ecns])),
        "minimal": (
            median([c.pages_per_s for c in minimal]),
            median([c.cpu_per_1000 for c in minimal]),
        ),
        "parse": (median([p.pages_per_s for p in parse]), median([p.cpu_per_1000 for p in parse])),
    }
    section.add(
        table(
            ["median of rounds", "pages/s", "CPU s/1000 pages", "command"],
            [
                ["ecns (full crawl)", *medians["ecns"], this],
                ["minimal spider", *medians["minimal"], this],
                ["parse ceiling (1 core, CPU)", *medians["parse"], this],
            ],
        )
    )
    fmt = ", ".join
    section.add(
        "Ratios, per round then median:\n"
        f"- ecns / minimal, CPU per page: {fmt(f'{x:.2f}' for x in cpu_ratios)} → "
        f"**{cpu_ratio:.2f}** (target ≤ {CPU_RATIO_TARGET})\n"
        f"- ecns / minimal, pages/s: {fmt(f'{x:.2f}' for x in speed_ratios)} → "
        f"{median(speed_ratios):.2f}\n"
        f"- ecns / parse ceiling, CPU per page: {fmt(f'{x:.1f}' for x in parse_ratios)} → "
        f"{median(parse_ratios):.1f}"
    )
    section.add(
        "Commands (the port is the benchmark's server):\n"
        + "\n".join(f"- {name}: `{cmd}`" for name, cmd in commands.items())
    )
    section.targets.append(
        Target(
            f"full crawl CPU/page ≤ {CPU_RATIO_TARGET} × minimal spider's",
            f"{cpu_ratio:.2f} × (median of {rounds})",
            cpu_ratio <= CPU_RATIO_TARGET if not math.isnan(cpu_ratio) else None,
        )
    )
    section.summary += [
        ("full crawl pages/s", f"{medians['ecns'][0]:.0f}", this),
        ("full crawl CPU s / 1000 pages", f"{medians['ecns'][1]:.2f}", this),
        ("minimal spider pages/s", f"{medians['minimal'][0]:.0f}", this),
        ("minimal spider CPU s / 1000 pages", f"{medians['minimal'][1]:.2f}", this),
        ("parse ceiling pages/s (CPU, 1 core)", f"{medians['parse'][0]:.0f}", this),
        ("full / minimal CPU per page", f"{cpu_ratio:.2f}", this),
    ]
    return section
