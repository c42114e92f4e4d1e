"""``scrapy crawl``, with an exit status a scheduler can act on.

Scrapy's own command exits 0 on most failures (scrapy #1231, #3653). This one
takes the state folder's lock before anything starts (a second run exits at
once with ``ExitCode.LOCKED``, touching nothing), runs the spider as Scrapy
does, and exits with the code of the run's verdict (``newscrawl.verdict``).
Spiders that record no verdict exit as under Scrapy.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import crawl
from scrapy.exceptions import UsageError

from newscrawl.locations import output_dir, state_dir
from newscrawl.run import (
    OUTPUT_LOCK_NAME,
    Run,
    SetupFailed,
    StateLocked,
    acquire_lock,
    preflight,
    release_lock,
)
from newscrawl.verdict import ExitCode


class Command(crawl.Command):
    def short_desc(self) -> str:
        return "Run a spider; exit non-zero when the run failed (see README, Exit codes)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. scrapy crawl ecns")
        assert self.settings is not None and self.crawler_process is not None
        spidercls = self.crawler_process.spider_loader.load(args[0])
        check = getattr(spidercls, "check_arguments", None)
        if check is not None:
            try:  # a usage error, said in one line, before anything starts
                check(**opts.spargs)
            except ValueError as exc:
                raise UsageError(f"{args[0]}: {exc}", print_help=False) from None
        folder, out = state_dir(self.settings), output_dir(self.settings)
        try:
            acquire_lock(folder)
        except StateLocked as exc:
            sys.stderr.write(f"newscrawl: {exc}\n")
            self.exitcode = ExitCode.LOCKED
            return
        try:
            preflight(out, folder)
            acquire_lock(out, OUTPUT_LOCK_NAME)
            # The run (newscrawl.run.Run) is an extension this command alone enables.
            self.settings.set("NEWSCRAWL_RUN", True, priority="cmdline")
            crawler = self._create_crawler(args[0])
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        except SetupFailed as exc:
            sys.stderr.write(f"newscrawl: {exc}\n")
            self.exitcode = exc.exit_code
            return
        except StateLocked as exc:
            sys.stderr.write(f"newscrawl: {exc}\n")
            self.exitcode = ExitCode.LOCKED
            return
        finally:
            release_lock(out)
            release_lock(folder)
        if self.crawler_process.bootstrap_failed:
            self.exitcode = ExitCode.ERROR
            return
        code = crawler.stats.get_value("newscrawl/exit_code")
        if code is None and crawler.get_extension(Run) is not None:
            # A newscrawl run that never reached its verdict did not succeed.
            sys.stderr.write("newscrawl: the run ended without a verdict (see log)\n")
            code = ExitCode.CRAWL_ERRORS
        self.exitcode = int(code or ExitCode.OK)
