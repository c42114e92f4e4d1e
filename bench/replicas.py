"""Replicas for the benchmarks, built in a process of their own; the big one built
once and reused while the generator is unchanged.

Why a process of its own: building holds the whole site in memory (3 GB for the
backfill's 50k pages), and a process keeps that memory; every crawl the benchmark
spawns afterwards would inherit that RSS in its ``ru_maxrss`` (see
``bench.measure``), and the machine would hold it for nothing.

Why a cache: the backfill's 50k-page replica takes about a minute and 3 GB of
memory to build; rebuilding it on every ``make bench`` would spend a sixth of the
ten-minute budget on something that does not change. The cache key is the seed,
the scale, ``new_on_top`` and a hash of the generator's source, so an edited
generator rebuilds. A build interrupted half-way leaves no ``complete`` marker
and is rebuilt.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import replica

MARKER = "complete"


def generator_hash() -> str:
    digest = hashlib.sha256()
    package = Path(replica.__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build(root: Path, *, scale: int = 1, new_on_top: int = 0, seed: int = 7) -> Path:
    """``build_site`` in a subprocess (``python -m replica build``)."""
    cmd = [sys.executable, "-m", "replica", "build", str(root)]
    cmd += ["--scale", str(scale), "--new", str(new_on_top), "--seed", str(seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return root


def cached_replica(
    cache: Path, *, scale: int, new_on_top: int = 0, seed: int = 7
) -> tuple[Path, float]:
    """The replica root, and how long it took to build (0 when it was cached)."""
    key = f"seed{seed}-scale{scale}-new{new_on_top}-{generator_hash()}"
    root = cache / key
    if (root / MARKER).exists():
        return root, 0.0
    for stale in cache.glob(f"seed{seed}-scale{scale}-new{new_on_top}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    started = time.perf_counter()
    build(root, seed=seed, scale=scale, new_on_top=new_on_top)
    (root / MARKER).write_text(key)
    return root, time.perf_counter() - started
