"""Benchmark 4: a scheduled run that finds nothing new, against the minimal spider
fetching the same listing pages.

Why: most hourly runs find little or nothing; their cost is start-up (imports,
settings, the state database, recovery, the log file) and shut-down (manifest,
verdict), not crawling. ``ecns`` runs on the state of a real first run over an
unchanged replica, so it fetches page 1 of each section, finds only known stories
and stops; the minimal spider (``follow=false``) fetches the same page 1s and
parses them. Runs alternate (A B B A …); the medians are compared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.crawls import AS_IS, CrawlResult, Variant, run_ecns, run_minimal, section_args
from bench.measure import median
from bench.replicas import build
from bench.report import Section, Target, table
from bench.seed import copy_state, first_runs
from bench.server import static_server

WALL_RATIO_TARGET = 1.3


def run(
    work: Path,
    *,
    repeat: int = 5,
    scale: int = 1,
    server: str = "nginx",
    sections: str = "",
    variant: Variant = AS_IS,
) -> Section:
    args = section_args(sections)
    root = work / "replica"
    build(root, scale=scale)
    ecns: list[CrawlResult] = []
    minimal: list[CrawlResult] = []
    with static_server(root, server) as srv:
        made = first_runs(srv.base_url, work / "first-runs", args, variant)
        template = made.state
        for i in range(repeat):
            order = ("ecns", "minimal") if i % 2 == 0 else ("minimal", "ecns")
            for name in order:
                run_dir = work / f"{name}-{i}"
                shutil.rmtree(run_dir, ignore_errors=True)
                if name == "ecns":
                    state = copy_state(template, run_dir / "state")
                    ecns.append(
                        run_ecns(
                            srv.base_url,
                            run_dir,
                            state_dir=state,
                            spider_args=args,
                            variant=variant,
                        )
                    )
                else:
                    minimal.append(
                        run_minimal(
                            srv.base_url,
                            run_dir,
                            spider_args={**args, "follow": "false"},
                            project=variant.project,
                        )
                    )
        server_name = srv.name

    this = f"python -m bench startup --repeat {repeat}"
    this += f" --sections {sections}" if sections else ""
    this += variant.cli()
    section = Section(
        f"4. Empty scheduled run vs minimal spider on the same listing pages "
        f"(server {server_name}; {repeat} runs each, alternating)"
    )
    rows = []
    for c in (ecns[0], minimal[0]):
        group = ecns if c.crawler == "ecns" else minimal
        rows.append(
            [c.crawler, c.requests, c.items, median([g.cost.wall_s for g in group]),
             min(g.cost.wall_s for g in group), median([g.cost.cpu_s for g in group]),
             median([g.cost.max_rss_mb for g in group]), c.status]
        )  # fmt: skip
    section.add(
        table(
            [
                "crawler",
                "requests",
                "items",
                "wall s (median)",
                "wall s (best)",
                "CPU s",
                "peak RSS MB",
                "status",
            ],
            rows,
        )
    )
    wall_ratio = median([c.cost.wall_s for c in ecns]) / median([c.cost.wall_s for c in minimal])
    cpu_ratio = median([c.cost.cpu_s for c in ecns]) / median([c.cost.cpu_s for c in minimal])
    section.add(
        f"ecns / minimal: wall × {wall_ratio:.2f} (target ≤ {WALL_RATIO_TARGET}), "
        f"CPU × {cpu_ratio:.2f}\n\n"
        f"The state: a first run ({made.first.requests} requests), then runs on the unchanged "
        f"replica until none retried a failed page "
        f"({', '.join(map(str, made.settle_requests))} requests): the measured runs find "
        "nothing to fetch but page 1 of each section."
    )
    section.add(
        f"Command: `{this}`\n\necns: `{ecns[-1].command}`\n\nminimal: `{minimal[-1].command}`"
    )
    section.targets.append(
        Target(
            f"empty run wall ≤ {WALL_RATIO_TARGET} × minimal spider's",
            f"{wall_ratio:.2f} ×",
            wall_ratio <= WALL_RATIO_TARGET,
        )
    )
    section.summary += [
        ("empty run wall s (ecns)", f"{median([c.cost.wall_s for c in ecns]):.2f}", this),
        ("empty run wall s (minimal)", f"{median([c.cost.wall_s for c in minimal]):.2f}", this),
        ("empty run wall ratio", f"{wall_ratio:.2f}", this),
    ]
    return section
