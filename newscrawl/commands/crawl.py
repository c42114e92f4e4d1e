"""``scrapy crawl``, with an exit status a scheduler can act on.

Scrapy's own command exits 0 on most failures (scrapy #1231, #3653). This one
checks the command line and the settings, takes the state and output folders'
locks before anything starts (a second run exits at once with
``ExitCode.LOCKED``, touching nothing), enables the run (``newscrawl.run.Run``),
runs the spider as Scrapy does, and exits with the code of the run's verdict
(``newscrawl.verdict``). Spiders that record no verdict exit as under Scrapy.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from scrapy.commands import crawl
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newscrawl.config import check_settings
from newscrawl.folders import (
    OUTPUT_LOCK_NAME,
    FolderLocked,
    SetupFailed,
    acquire_lock,
    preflight,
    release_lock,
)
from newscrawl.locations import output_dir, state_dir
from newscrawl.run import Run
from newscrawl.verdict import ExitCode


class Command(crawl.Command):
    def short_desc(self) -> str:
        return "Run a spider; exit non-zero when the run failed (see README, Exit codes)"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Everything that can go wrong before a crawl, checked before Scrapy starts
        its crawler process (and its log): a bad command line or setting, a locked or
        unusable folder ends in one line on stderr and its exit code (``fail``)."""
        try:
            super().process_options(args, opts)
        except UsageError as exc:  # Scrapy's answer to a bad -a, -s or -o
            fail(ExitCode.USAGE, f"{exc} (scrapy crawl -h lists the options)")
        assert self.settings is not None
        options = [a for a in args if a.startswith("-")]
        if options:
            fail(ExitCode.USAGE, f"unknown option {options[0]} (scrapy crawl -h lists them)")
        if len(args) != 1:
            fail(ExitCode.USAGE, "give exactly one spider name, e.g. scrapy crawl ecns")
        loader = get_spider_loader(self.settings)
        try:
            spidercls = loader.load(args[0])
        except KeyError:
            fail(
                ExitCode.USAGE, f"no spider named {args[0]!r} (spiders: {', '.join(loader.list())})"
            )
        try:
            check_settings(self.settings)
            check = getattr(spidercls, "check_arguments", None)
            if check is not None:
                check(**opts.spargs)
        except ValueError as exc:
            fail(ExitCode.USAGE, f"{args[0]}: {exc}")
        self.folders = state_dir(self.settings), output_dir(self.settings)
        state, out = self.folders
        try:
            acquire_lock(state)
            preflight(out, state)
            acquire_lock(out, OUTPUT_LOCK_NAME)
        except FolderLocked as exc:
            fail(ExitCode.LOCKED, str(exc))
        except SetupFailed as exc:
            fail(exc.exit_code, str(exc))
        except OSError as exc:
            fail(ExitCode.STATE_FAILED, f"cannot use the state folder {state}: {exc}")
        # The run (newscrawl.run.Run) is an extension this command alone enables.
        self.settings.set("NEWSCRAWL_RUN", True, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        state, out = self.folders
        try:
            crawler = self._create_crawler(args[0])
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            release_lock(out)
            release_lock(state)
        if self.crawler_process.bootstrap_failed:
            fail(ExitCode.ERROR, "the crawl could not start (see the log above)")
        run = crawler.get_extension(Run)
        code = crawler.stats.get_value("newscrawl/exit_code")
        if run is None:  # not a newscrawl spider: as under Scrapy
            self.exitcode = int(code or ExitCode.OK)
            return
        if code is None or run.summary is None:
            fail(ExitCode.CRAWL_ERRORS, "the run ended without a verdict (see log)")
        # The last line of every run, whatever happened (cron mails it).
        sys.stderr.write(run.summary + "\n")
        self.exitcode = int(code)


def fail(code: ExitCode, message: str) -> NoReturn:
    """End the command: one line on stderr, exit ``code``."""
    sys.stderr.write(f"newscrawl: FAILED (exit {int(code)}): {message}\n")
    sys.exit(int(code))
