"""Where a run writes: the output folder and the state folder, from the settings."""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import BaseSettings


def output_dir(settings: BaseSettings) -> Path:
    return Path(settings.get("NEWSCRAWL_OUTPUT_DIR") or "output")


def state_dir(settings: BaseSettings) -> Path:
    """``NEWSCRAWL_STATE_DIR``, or by default a folder beside the output folder
    named after it (``output`` → ``output-state``), so two output folders never
    share one state."""
    configured = settings.get("NEWSCRAWL_STATE_DIR")
    if configured:
        return Path(configured)
    out = output_dir(settings).resolve()
    return out.with_name(out.name + "-state")


def log_dir(settings: BaseSettings) -> Path | None:
    """``NEWSCRAWL_LOG_DIR``: one log file per run there; by default ``logs`` in the
    state folder; empty to write none."""
    configured = settings.get("NEWSCRAWL_LOG_DIR", "default")
    if not configured:
        return None
    if configured == "default":
        return state_dir(settings) / "logs"
    return Path(configured)
