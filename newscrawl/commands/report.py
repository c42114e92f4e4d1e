"""``scrapy report``: the operators' report of the recent runs, one HTML file.

Built from the state's run history and the manifests in the output folder (see
``newscrawl.report``); reads both without locking them, so it runs beside a
crawl. Opened from disk, it loads nothing from anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.locations import log_dir, output_dir, state_dir
from newscrawl.report import DEFAULT_DAYS, write_report

DEFAULT_NAME = "report.html"


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--out FILE.html] [--days N]"

    def short_desc(self) -> str:
        return "Write an HTML report of the recent runs (charts and tables, one file)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--out",
            metavar="FILE.html",
            help=f"where to write it (default: {DEFAULT_NAME} in the state folder)",
        )
        parser.add_argument(
            "--days",
            metavar="N",
            type=float,
            default=DEFAULT_DAYS,
            help=f"runs started in the last N days (default: {DEFAULT_DAYS:g}; 0: every run)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected argument(s): {' '.join(args)}", print_help=False)
        if opts.days < 0:
            raise UsageError("--days must be 0 (every run) or more", print_help=False)
        assert self.settings is not None
        state = state_dir(self.settings)
        out = Path(opts.out) if opts.out else state / DEFAULT_NAME
        try:
            written = write_report(
                out,
                output_dir(self.settings),
                state,
                log_dir(self.settings),
                days=opts.days or None,
            )
        except OSError as exc:
            sys.stderr.write(f"newscrawl: cannot write the report to {out}: {exc}\n")
            self.exitcode = 6
            return
        print(written.resolve())
