"""``scrapy prune [OUTPUT_DIR] --older-than 30d [--only-ingested-by URL]``: remove
old runs' manifests and files from the output folder.

A run is old when its manifest's ``finished_at`` is older than the age given
(``30d``, ``12h``, ``90m``, ``2w``). Its manifest goes first, then its files: a
prune killed midway leaves no manifest naming a missing file, only files no
manifest names, which the next prune removes once they are as old (the crawler's
own recovery sets aside unnamed files of the output folder too). With
``--only-ingested-by URL`` a complete run that store has not applied is kept,
whatever its age (failed runs, which no store applies, go when old). Folders left
empty (dated ``YYYY/MM/DD/`` ones) are removed.

The output folder's lock is taken first: a prune while a crawl runs exits with 3
and touches nothing. Exit codes: 0, 2 a bad command line or store URL, 3 locked,
6 a file could not be removed, 9 the store is unreachable or failed (nothing
removed). A successful prune prints its summary on a terminal (``-v``: always).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.consume import (
    Manifest,
    OutputDamaged,
    find_manifests,
    parse_time,
    read_manifest,
    run_id_of,
)
from newscrawl.folders import OUTPUT_LOCK_NAME, FolderLocked, acquire_lock, fsync_dir, release_lock
from newscrawl.locations import output_dir
from newscrawl.stores import STORE_FAILED_EXIT, BadStoreURL, StoreError, open_store, redact
from newscrawl.verdict import ExitCode

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
AGE_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
# A run's output file: its run id, then the file's number.
RUN_FILE_RE = re.compile(r"^(?P<run_id>[a-z0-9_]+-\d{8}T\d{6}Z-[0-9a-f]{4})-\d{4}\.jsonl$")


def parse_age(text: str) -> float:
    """``30d`` → seconds; ValueError otherwise."""
    m = AGE_RE.match(text.strip())
    if m is None:
        raise ValueError(f"--older-than takes a number and a unit (s, m, h, d, w), got {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


class Command(ScrapyCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[OUTPUT_DIR] --older-than AGE [--only-ingested-by URL] [--dry-run] [-v]"

    def short_desc(self) -> str:
        return "Remove old runs' manifests and files from the output folder"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--older-than", metavar="AGE", help="runs that finished longer ago: 30d, 12h, 2w"
        )
        parser.add_argument(
            "--only-ingested-by",
            metavar="URL",
            help="keep every complete run this store has not applied",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")
        parser.add_argument(
            "-v", "--verbose", action="store_true", help="print the summary line off a terminal too"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) > 1:
            raise UsageError(f"unexpected argument(s): {' '.join(args[1:])}", print_help=False)
        if not opts.older_than:
            self.exitcode = fail(ExitCode.USAGE, "give --older-than AGE, e.g. --older-than 30d")
            return
        try:
            age = parse_age(opts.older_than)
        except ValueError as exc:
            self.exitcode = fail(ExitCode.USAGE, str(exc))
            return
        out = Path(args[0]) if args else output_dir(self.settings)
        if not out.is_dir():
            self.exitcode = fail(ExitCode.USAGE, f"no output folder {out}")
            return
        try:
            acquire_lock(out, OUTPUT_LOCK_NAME)
        except FolderLocked as exc:
            self.exitcode = fail(ExitCode.LOCKED, str(exc).replace("this run", "the prune"))
            return
        try:
            self.exitcode = self._prune(out, age, opts)
        finally:
            release_lock(out)

    def _prune(self, out: Path, age: float, opts: argparse.Namespace) -> int:
        applied: set[str] | None = None
        if opts.only_ingested_by:
            try:
                with open_store(opts.only_ingested_by) as store:
                    applied = store.applied_runs()
            except BadStoreURL as exc:
                return fail(ExitCode.USAGE, str(exc))
            except StoreError as exc:
                return fail(STORE_FAILED_EXIT, f"cannot read the store, nothing removed: {exc}")
        plan = Plan(out, time.time() - age, applied)
        if opts.dry_run:
            named = set()
            for manifest in plan.old:
                print(manifest.path)
                for f in manifest.files:
                    print(f.path)
                    named.add(f.path)
            for path in plan.orphans():
                if path not in named:
                    print(path)
            return 0
        try:
            removed = plan.carry_out()
        except OSError as exc:
            return fail(ExitCode.OUTPUT_FAILED, f"cannot remove {exc.filename}: {exc.strerror}")
        if sys.stderr.isatty() or opts.verbose:
            kept = ""
            if plan.not_ingested and opts.only_ingested_by:
                kept = (
                    f"; kept {plan.not_ingested} not yet ingested by"
                    f" {redact(opts.only_ingested_by)}"
                )
            sys.stderr.write(
                f"newscrawl: pruned {removed.runs} runs older than {opts.older_than}"
                f" ({removed.files} files, {removed.bytes / 1e6:,.1f} MB){kept}"
                + (f"; {len(plan.unreadable)} unreadable manifests left" if plan.unreadable else "")
                + "\n"
            )
        return 0


class Removed:
    def __init__(self) -> None:
        self.runs = 0
        self.files = 0
        self.bytes = 0

    def file(self, path: Path) -> None:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return
        self.files += 1
        self.bytes += size


class Plan:
    """What a prune removes: the old runs (``old``), then the old files no manifest
    names (``orphans``)."""

    def __init__(self, out: Path, horizon: float, applied: set[str] | None) -> None:
        self.out = out
        self.horizon = horizon
        self.old: list[Manifest] = []
        self.unreadable: list[Path] = []
        self.not_ingested = 0
        for path in find_manifests(out):
            try:
                manifest = read_manifest(path)
            except OutputDamaged:
                self.unreadable.append(path)  # left alone: what it names is unknown
                continue
            if _finished(manifest) >= horizon:
                continue
            if applied is not None and manifest.complete and manifest.run_id not in applied:
                self.not_ingested += 1
                continue
            self.old.append(manifest)

    def carry_out(self) -> Removed:
        removed = Removed()
        folders: set[Path] = set()
        for manifest in self.old:
            # The manifest first: a prune killed here leaves unnamed files, never
            # a manifest naming a file that is gone.
            manifest.path.unlink(missing_ok=True)
            fsync_dir(manifest.path.parent)
            removed.runs += 1
            for f in manifest.files:
                removed.file(f.path)
                folders.add(f.path.parent)
            folders.add(manifest.path.parent)
        for path in self.orphans():
            removed.file(path)
            folders.add(path.parent)
        self._remove_empty(folders)
        return removed

    def orphans(self) -> list[Path]:
        """Run files older than the horizon whose run has no manifest left (a prune
        or a crawl killed midway): no manifest can name them any more."""
        gone = {m.run_id for m in self.old}
        manifests = {run_id_of(p) for p in find_manifests(self.out)} - gone
        found = []
        for folder, dirs, names in os.walk(self.out):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                m = RUN_FILE_RE.match(name)
                if m is None or m["run_id"] in manifests:
                    continue
                path = Path(folder, name)
                try:
                    if path.stat().st_mtime < self.horizon:
                        found.append(path)
                except FileNotFoundError:
                    continue
        return sorted(found)

    def _remove_empty(self, folders: set[Path]) -> None:
        root = self.out.resolve()
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            here = folder.resolve()
            while here != root and root in here.parents:
                try:
                    here.rmdir()
                except OSError:
                    break  # not empty
                here = here.parent


def _finished(manifest: Manifest) -> float:
    """When the run ended (its ``finished_at``; its start, or the manifest's age,
    when that is missing)."""
    for key in ("finished_at", "started_at"):
        try:
            return parse_time(manifest.data.get(key)).timestamp()
        except (TypeError, ValueError):
            continue
    return manifest.path.stat().st_mtime


def fail(code: int, message: str) -> int:
    sys.stderr.write(f"newscrawl: prune FAILED (exit {int(code)}): {message}\n")
    return int(code)
