"""Run ``scrapy crawl ecns`` against a local replica, as a user would, in a
subprocess: used by the demo, the end-to-end tests and the benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Real pages and texts of the site, beside the project (read where present, never copied in).
REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "reference" / "ecns"

# What a crawl of a replica on 127.0.0.1 does not need: politeness delays, robots
# (the replica has none, like the site) stay as configured unless overridden.
FAST_LOCAL_SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}


def scrapy_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a ``scrapy`` command of the project runs in."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings", **(env or {})}


def scrapy(
    *args: str,
    settings: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``scrapy ARGS -s KEY=VALUE …`` from the project folder, as a user types it."""
    cmd = [sys.executable, "-m", "scrapy", *args]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=scrapy_env(env), capture_output=True, text=True, timeout=timeout
    )


def crawl(
    base_url: str,
    output_dir: Path,
    state_dir: Path,
    *,
    spider_args: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl ecns`` with the given origin, folders, arguments and settings."""
    args = ["crawl", "ecns"]
    for key, value in (spider_args or {}).items():
        args += ["-a", f"{key}={value}"]
    merged = {
        "ECNS_BASE_URL": base_url,
        "NEWSCRAWL_OUTPUT_DIR": str(output_dir),
        "NEWSCRAWL_STATE_DIR": str(state_dir),
        **FAST_LOCAL_SETTINGS,
        **(settings or {}),
    }
    return scrapy(*args, *extra_args, settings=merged, env=env, timeout=timeout)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def read_items(output_dir: Path) -> list[dict]:
    """Every item in the complete ``*.jsonl`` files of a folder, in file order."""
    return [item for path in sorted(output_dir.glob("*.jsonl")) for item in read_jsonl(path)]
