"""``scrapy ingest [OUTPUT_DIR] --into URL``: load the complete runs of an output
folder into a store (SQLite or PostgreSQL, ``newscrawl.stores``).

Each complete manifest the store has not applied is applied in run order, in one
transaction with the store's record of it: killed at any moment and run again,
the store ends as one uninterrupted ingest leaves it; run twice, the second
changes nothing. A file that differs from its manifest's sha256 stops the ingest
before anything of its run is applied.

On a terminal a progress bar (stories a second) goes to stderr, and a summary
line at the end; under cron (no terminal) a successful ingest prints nothing
(``-v`` prints the summary). A failure is one line on stderr and an exit code
(docs/STORES.md): 2 a bad command line or store URL, 6 the output is damaged or
unreadable, 9 the store is unreachable or failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, ClassVar, TextIO

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.locations import output_dir
from newscrawl.stores import (
    STORE_FAILED_EXIT,
    AppliedRun,
    BadStoreURL,
    IngestResult,
    OutputDamaged,
    StoreError,
    StoreUnavailable,
    ingest,
    redact,
)
from newscrawl.verdict import ExitCode

INTERRUPTED_EXIT = 130  # the shell's code for a Ctrl-C


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[OUTPUT_DIR] [--into URL] [-v]"

    def short_desc(self) -> str:
        return "Load the complete runs of the output folder into a store (SQLite, PostgreSQL)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--into",
            metavar="URL",
            help="the store: sqlite:///path/stories.sqlite3 or postgresql://user@host/db"
            " (default: the setting NEWSCRAWL_STORE_URL)",
        )
        parser.add_argument(
            "-v", "--verbose", action="store_true", help="print the summary line off a terminal too"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) > 1:
            raise UsageError(f"unexpected argument(s): {' '.join(args[1:])}", print_help=False)
        out = Path(args[0]) if args else output_dir(self.settings)
        url = opts.into or self.settings.get("NEWSCRAWL_STORE_URL")
        if not url:
            self.exitcode = fail(
                ExitCode.USAGE, "no store: give --into URL or set NEWSCRAWL_STORE_URL"
            )
            return
        if not out.is_dir():
            self.exitcode = fail(ExitCode.USAGE, f"no output folder {out}")
            return
        tty = sys.stderr.isatty()
        bar = ProgressBar(sys.stderr) if tty else None
        applied: list[AppliedRun] = []
        try:
            result = ingest(out, url, progress=bar, on_applied=applied.append)
        except BadStoreURL as exc:
            self.exitcode = fail(ExitCode.USAGE, str(exc), bar)
        except StoreUnavailable as exc:
            self.exitcode = fail(
                STORE_FAILED_EXIT, f"cannot reach the store: {exc}{_before(applied)}", bar
            )
        except StoreError as exc:
            self.exitcode = fail(
                STORE_FAILED_EXIT, f"the store failed: {exc}{_before(applied)}", bar
            )
        except OutputDamaged as exc:
            self.exitcode = fail(
                ExitCode.OUTPUT_FAILED,
                f"{exc}; nothing of that run or later ones applied{_before(applied)}",
                bar,
            )
        except KeyboardInterrupt:
            self.exitcode = fail(
                INTERRUPTED_EXIT,
                f"interrupted; the run in progress was rolled back{_before(applied)}",
                bar,
            )
        else:
            if bar is not None:
                bar.close()
            if tty or opts.verbose:
                sys.stderr.write(summary(result, redact(url)) + "\n")


def summary(result: IngestResult, url: str) -> str:
    if not result.runs:
        return f"newscrawl: ingest: nothing new for {url}"
    runs = len(result.runs)
    return (
        f"newscrawl: ingested {runs} {'run' if runs == 1 else 'runs'} into {url}:"
        f" {result.stories:,} stories ({result.changed:,} new or newer),"
        f" {result.withdrawals:,} {'withdrawal' if result.withdrawals == 1 else 'withdrawals'}"
    )


def _before(applied: list[AppliedRun]) -> str:
    return f" ({len(applied)} runs applied before it)" if applied else ""


def fail(code: int, message: str, bar: ProgressBar | None = None) -> int:
    """One line on stderr; the exit code."""
    if bar is not None:
        bar.close()
    sys.stderr.write(f"newscrawl: ingest FAILED (exit {int(code)}): {message}\n")
    return int(code)


class ProgressBar:
    """``[#####-----] 12,345/50,000 stories  6,123 stories/s`` on one terminal line,
    redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.drawn < 0.1:
            return
        self.drawn = now
        filled = self.WIDTH * done // total if total else self.WIDTH
        rate = done / (now - self.started) if now > self.started else 0.0
        self.stream.write(
            f"\r[{'#' * filled}{'-' * (self.WIDTH - filled)}] {done:,}/{total:,} stories"
            f"  {rate:,.0f} stories/s "
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False
