"""``scrapy giveup``: the stories the crawler gave up, and taking them back.

A story is given up when its own page kept failing in complete runs over
``NEWSCRAWL_GIVE_UP_DAYS`` (``newscrawl.state.StateStore.give_up_due``). An operator
lists them here, and after fixing the cause (or to try once more) takes them back:
the next run fetches them again.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.folders import FolderLocked, acquire_lock, release_lock
from newscrawl.locations import state_dir
from newscrawl.state import DB_NAME, StateStore
from newscrawl.verdict import ExitCode


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--retry URL ... | --retry-all]"

    def short_desc(self) -> str:
        return "List the stories given up; --retry takes them back for the next run"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--retry", metavar="URL", nargs="+", default=[], help="take these stories back"
        )
        parser.add_argument(
            "--retry-all", action="store_true", help="take every story given up back"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected argument(s): {' '.join(args)}", print_help=False)
        assert self.settings is not None
        folder = state_dir(self.settings)
        if not (folder / DB_NAME).exists():
            sys.stderr.write(f"newscrawl: no state in {folder}: nothing was given up\n")
            return
        try:
            acquire_lock(folder)  # a running crawl must not see its ground change
        except FolderLocked as exc:
            sys.stderr.write(f"newscrawl: {exc}\n")
            self.exitcode = ExitCode.LOCKED
            return
        store = StateStore(folder, "giveup")
        try:
            if opts.retry or opts.retry_all:
                taken = store.retry_given_up(None if opts.retry_all else opts.retry)
                print(f"{taken} stories taken back; the next run fetches them again")
                unknown = len(opts.retry) - taken
                if unknown > 0 and not opts.retry_all:
                    sys.stderr.write(f"newscrawl: {unknown} of the URLs were not given up\n")
                return
            for story in store.given_up():
                since = datetime.fromtimestamp(story.first_failed_at, UTC)
                when = datetime.fromtimestamp(story.given_up_at or 0, UTC)
                print(
                    f"{story.url}\tgiven up {when:%Y-%m-%dT%H:%MZ}\t"
                    f"failed in {story.failed_runs} runs since {since:%Y-%m-%dT%H:%MZ}\t"
                    f"{story.detail or story.outcome}"
                )
        finally:
            store.close()
            release_lock(folder)
