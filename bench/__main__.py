"""``python -m bench``: the crawler's four benchmarks and the ingest's, one run, one report.

    python -m bench                      # all five (under 10 minutes), then the summary
    python -m bench throughput [--scale 12] [--rounds 9]
    python -m bench archive [--sizes 1000,10000,100000] [--repeat 3]
    python -m bench backfill [--items 50000]
    python -m bench startup [--repeat 5]
    python -m bench ingest [--ingest-sizes 10000,50000]

Common options: ``--server nginx|twisted`` (nginx when installed, else Twisted),
``--work DIR`` (kept; default a temporary folder, removed), ``--cache DIR`` (the
backfill's replica, reused while the generator is unchanged), ``--sections a,b``
(crawl only those), ``-s KEY=VALUE`` (a Scrapy setting for ``ecns``) and
``--project DIR`` (run ``ecns`` from another copy of the project): how a change is
measured against the minimal spider before it is made.

Every section prints the command that reproduces it; the summary at the end is a
Markdown table with the machine and the date, to paste into README.md. Where the
full crawl's cost per page goes, stage by stage: ``python -m bench.stages REPLICA
--detail`` (not part of ``make bench``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import archive, backfill, ingest, startup, throughput
from bench.crawls import Variant
from bench.report import Section, machine_line, table
from bench.server import nginx_binary
from replica.localrun import PROJECT_ROOT

BENCHMARKS = ("throughput", "archive", "backfill", "startup", "ingest")
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "newscrawl-bench-cache"


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",") if s)


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("benchmark", nargs="?", default="all", choices=["all", *BENCHMARKS])
    p.add_argument("--server", choices=["nginx", "twisted"], default="nginx")
    p.add_argument("--work", type=Path, help="keep the runs' files here")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--sections", default="", help="crawl only these sections (default: all)")
    p.add_argument("--scale", type=int, default=12, help="throughput: replica scale")
    p.add_argument("--rounds", type=int, default=9, help="throughput: interleaved rounds")
    p.add_argument("--sizes", type=_sizes, default=(1_000, 10_000, 100_000),
                   help="archive: stories seeded")  # fmt: skip
    p.add_argument("--repeat", type=int, default=0,
                   help="archive: runs a size (2); startup: runs each (5)")  # fmt: skip
    p.add_argument("--no-past-runs", action="store_true",
                   help="archive: skip the series with earlier runs' manifests")  # fmt: skip
    p.add_argument("--items", type=int, default=50_000, help="backfill: items to crawl")
    p.add_argument("--ingest-sizes", type=_sizes, default=ingest.SIZES,
                   help="ingest: stories in the outputs ingested")  # fmt: skip
    p.add_argument("-s", "--setting", type=_setting, action="append", default=[],
                   help="a Scrapy setting for ecns, KEY=VALUE (repeatable)")  # fmt: skip
    p.add_argument("--project", type=Path,
                   help="run ecns from this copy of the project (a prototype)")  # fmt: skip
    return p


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Unwind the context managers: servers stopped, temporary folders removed.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.server == "nginx" and not nginx_binary():
        print("nginx not found (apt-get install -y nginx): serving with Twisted", flush=True)
    chosen = list(BENCHMARKS) if args.benchmark == "all" else [args.benchmark]
    with tempfile.TemporaryDirectory(prefix="newscrawl-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        variant = Variant(args.project or PROJECT_ROOT, tuple(args.setting))
        runners: dict[str, Callable[[], Section]] = {
            "throughput": lambda: throughput.run(
                work / "throughput",
                scale=args.scale,
                rounds=args.rounds,
                server=args.server,
                sections=args.sections,
                variant=variant,
            ),
            "archive": lambda: archive.run(
                work / "archive",
                sizes=args.sizes,
                repeat=args.repeat or 3,
                server=args.server,
                with_past_runs=not args.no_past_runs,
                sections=args.sections,
                variant=variant,
            ),
            "backfill": lambda: backfill.run(
                work / "backfill",
                args.cache,
                items=args.items,
                server=args.server,
                variant=variant,
                sections=args.sections,
            ),
            "ingest": lambda: ingest.run(work / "ingest", sizes=args.ingest_sizes),
            "startup": lambda: startup.run(
                work / "startup",
                repeat=args.repeat or 5,
                server=args.server,
                sections=args.sections,
                variant=variant,
            ),
        }
        print(f"# newscrawl benchmarks\n\n{machine_line(variant.project)}\n", flush=True)
        sections = []
        started = time.perf_counter()
        for name in chosen:
            t0 = time.perf_counter()
            section = runners[name]()
            sections.append(section)
            print(section.render(), flush=True)
            print(f"\n({name}: {time.perf_counter() - t0:.0f} s)\n", flush=True)
        print(summary(sections, time.perf_counter() - started, variant.project))
    return 0


def summary(sections: list[Section], took: float, project: Path | None = None) -> str:
    """The table for README.md: what was measured, the targets, and the commands."""
    measured = table(
        ["measure", "value", "command"],
        [row for s in sections for row in s.summary],
    )
    targets = table(
        ["target", "measured", "verdict"],
        [[t.name, t.measured, t.verdict] for s in sections for t in s.targets],
    )
    return (
        f"## Summary\n\n{machine_line(project)}; benchmark took {took / 60:.1f} min\n\n"
        f"{measured}\n\n{targets}\n"
    )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sys.exit(main())
