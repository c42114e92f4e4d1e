"""Plain-text tables for the benchmark's output, in Markdown so they paste into
the README as they are."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, columns padded so it also reads well in a terminal."""
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def commit_of(folder: Path) -> str:
    """The commit a folder is checked out at, ``-dirty`` if tracked files changed."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return head + ("-dirty" if changed else "")


def machine_line(project: Path | None = None) -> str:
    where = f"; crawler: {project} ({commit_of(project)})" if project is not None else ""
    # The load says whether the machine was quiet: another process on 2 cores moves
    # every number (the ratios less than the absolute ones).
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores (nproc), {cpu_model()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"load average (1, 5, 15 min): {load}; "
        f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}{where}"
    )


@dataclass
class Target:
    """One of the benchmark's targets and whether this run met it."""

    name: str
    measured: str
    holds: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "holds", False: "FAILS", None: "not run"}[self.holds]


@dataclass
class Section:
    """One benchmark's printed result: its tables, notes and commands."""

    title: str
    body: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    summary: list[tuple[str, str, str]] = field(default_factory=list)  # (what, value, command)

    def add(self, text: str) -> None:
        self.body.append(text)

    def render(self) -> str:
        return "\n\n".join([f"## {self.title}", *self.body])
