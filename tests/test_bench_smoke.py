"""The benchmarks (``python -m bench``) in miniature, so their code does not rot.

Why a test at all: benchmarks are run by hand, rarely, and break silently when
the crawler's stats, manifest or settings change under them. This runs each of
the four once on the smallest replica, one section, with the Twisted server (no
nginx needed), and checks that they measured something sensible. No timing
thresholds: CI machines are too noisy for them, and the real targets are judged
by ``make bench`` on a quiet machine.
"""

from __future__ import annotations

from pathlib import Path

from bench import archive, backfill, stages, startup, throughput
from bench.__main__ import summary
from bench.crawls import Variant
from bench.report import Section

SECTION = "politics"  # one section keeps every crawl to about a second
DISK_DUPEFILTER = "newscrawl.dupefilter.DiskDupeFilter"


def test_benchmarks_run_end_to_end(tmp_path: Path) -> None:
    done: list[Section] = []

    speed = throughput.run(tmp_path / "t", scale=1, rounds=1, server="twisted", sections=SECTION)
    done.append(speed)
    assert "| 1     | ecns" in speed.render()
    assert "| 1     | minimal" in speed.render()

    # The per-stage diagnostic (python -m bench.stages), on the same replica.
    parts = stages.measure(tmp_path / "t" / "replica-s1", limit=20, overrides={}, detail=True)
    assert parts["articles"] == 20
    assert parts["us_per_article"]["DuplicatesPipeline"] > 0
    assert parts["us_per_article"]["  part: StateStore.claim"] > 0

    runs = archive.run(
        tmp_path / "a", sizes=(10,), repeat=1, scale=1, server="twisted", sections=SECTION
    )
    done.append(runs)
    requests = next(t for t in runs.targets if "requests" in t.name)
    assert requests.holds is not None
    assert "complete (exit 0)" in runs.render()

    # With the on-disk dupefilter, so that it runs in a real crawl too.
    disk_dupefilter = Variant(settings=(("DUPEFILTER_CLASS", DISK_DUPEFILTER),))
    memory = backfill.run(
        tmp_path / "b",
        tmp_path / "cache",
        items=60,
        server="twisted",
        sections=SECTION,
        variant=disk_dupefilter,
    )
    done.append(memory)
    assert "peak RSS MB at 60" in memory.render()
    assert "complete (exit 0)" in memory.render()

    empty = startup.run(tmp_path / "s", repeat=1, server="twisted", sections=SECTION)
    done.append(empty)
    assert "| ecns" in empty.render() and "| minimal" in empty.render()

    report = summary(done, 1.0)
    assert report.count("python -m bench") >= 4
    assert all(t.holds is not None for s in done for t in s.targets)
