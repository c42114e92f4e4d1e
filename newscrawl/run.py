"""One scheduled run: its lock, its files, its manifest, its verdict.

A run takes an exclusive lock on its state folder (a second run started
meanwhile stops at once, touching nothing), recovers what a killed run left,
collects the files the output stage renames into place, and at the end writes
``<run id>.manifest.json`` beside them and records the verdict. Stories become
delivered in the state only after a complete manifest names their file, so a
consumer that reads only the files named in complete manifests sees every story
exactly once, however runs are killed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.serialize import ScrapyJSONEncoder

from newscrawl.drops import NotWritten
from newscrawl.pipelines.duplicates import revision_hash, unix_seconds
from newscrawl.state import RecoveredStory, StateStore, describe_error
from newscrawl.verdict import ExitCode, Verdict, judge, run_metrics

logger = logging.getLogger(__name__)

LOCK_NAME = "run.lock"
MANIFEST_SUFFIX = ".manifest.json"
PART_SUFFIX = ".part"
DISCARDED_SUFFIX = ".discarded"
MANIFEST_VERSION = 1
# Only files named like a run's own are ever moved aside: a user's
# ``-O output/x.jsonl`` is not ours to touch.
RUN_FILE_RE = re.compile(
    r"^(?P<run_id>[a-z0-9_]+-\d{8}T\d{6}Z-[0-9a-f]{4})(?:-\d{4}\.jsonl|\.manifest\.json)"
)

# Locks this process holds, by folder: the crawl command takes the lock before
# Scrapy starts, and the run it starts takes it again without blocking itself.
_held_locks: dict[Path, IO[str]] = {}


class StateLocked(RuntimeError):
    """Another process is running a crawl on the same state folder."""


class SetupFailed(RuntimeError):
    """The run cannot start: its output folder or its state is unusable."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def preflight(output_dir: Path, state_dir: Path) -> None:
    """Check, before any crawling, that the output folder takes files and that the
    state database opens; raise ``SetupFailed`` with a clear message otherwise.
    A state that cannot be read is never reset: the operator decides."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / f".newscrawl-probe-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise SetupFailed(
            ExitCode.OUTPUT_FAILED, f"cannot write to the output folder {output_dir}: {exc}"
        ) from None
    try:
        store = StateStore(state_dir, "preflight")
        try:
            # Another program's transaction would stop this run's first write.
            store.db.execute("BEGIN IMMEDIATE")
            store.db.execute("ROLLBACK")
        finally:
            store.close()
    except sqlite3.Error as exc:
        raise SetupFailed(
            ExitCode.STATE_FAILED,
            f"cannot use the state database in {state_dir} ({describe_error(exc)});"
            " it is left as it is:"
            " stop the program that locks it, or restore it, or delete the folder to"
            " start over (every story is then delivered again)",
        ) from None


def acquire_lock(state_dir: Path) -> None:
    folder = state_dir.resolve()
    if folder in _held_locks:
        return
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StateLocked(
            f"another run ({holder}) is using {folder}; this run stops without touching it"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
    handle.flush()
    _held_locks[folder] = handle


def release_lock(state_dir: Path) -> None:
    handle = _held_locks.pop(state_dir.resolve(), None)
    if handle is not None:
        handle.close()  # closing the file releases the flock


def new_run_id(spider_name: str) -> str:
    # Sortable by start time; the suffix keeps two runs started in one second apart.
    return f"{spider_name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def write_atomically(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` whole or does not exist: write, fsync, rename, fsync dir."""
    part = path.with_name(path.name + PART_SUFFIX)
    with open(part, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class OutputFile:
    path: str  # relative to the output folder
    items: int
    sha256: str


@dataclass
class Run:
    spider_name: str
    spider_args: dict[str, Any]
    output_dir: Path
    state_dir: Path
    log_dir: Path | None = None
    log_keep_days: int = 14
    log_format: str = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    log_level: str = "INFO"
    run_id: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    files: list[OutputFile] = field(default_factory=list)
    state: StateStore = field(init=False)
    log_handler: logging.Handler | None = field(init=False, default=None)
    aborted: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        acquire_lock(self.state_dir)
        self.run_id = self.run_id or new_run_id(self.spider_name)
        self._open_log()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.state = StateStore(self.state_dir, self.run_id)
        self._recover()
        discarded = self.state.start_run()
        if discarded:
            logger.warning(
                "%d stories written by a run that did not finish were never delivered; "
                "this run delivers them again.",
                discarded,
            )

    def _open_log(self) -> None:
        """One log file per run in ``log_dir``; files older than ``log_keep_days`` go."""
        if self.log_dir is None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        horizon = datetime.now(UTC).timestamp() - self.log_keep_days * 86400
        for old in self.log_dir.glob("*.log"):
            if old.stat().st_mtime < horizon:
                old.unlink(missing_ok=True)
        self.log_handler = logging.FileHandler(self.log_dir / f"{self.run_id}.log", "a", "utf-8")
        self.log_handler.setFormatter(logging.Formatter(self.log_format))
        self.log_handler.setLevel(self.log_level)
        logging.getLogger().addHandler(self.log_handler)

    # -- recovery ---------------------------------------------------------------

    def _recover(self) -> None:
        """Settle what killed runs left in the output folder.

        A complete manifest whose stories the state does not know as delivered
        (killed between the manifest and the state update): its stories are
        recorded as delivered from its files. Files no complete manifest names
        (killed before its manifest) and ``.part`` files: renamed aside with
        ``.discarded``; their stories are crawled and delivered again.
        """
        # A run the state knows as delivered or failed is settled: its manifest names
        # its files, nothing to read or move. Only the others' manifests are read, so
        # start-up does not grow with the runs kept in the output folder.
        settled = self.state.settled_runs()
        # A run id is the spider's name and a fixed-width suffix, as wide as this
        # run's: the names of settled runs' files (nearly all of them) are passed
        # over by a set lookup.
        id_width = len(self.run_id)
        names = sorted(
            entry.name
            for entry in os.scandir(self.output_dir)
            if entry.name[:id_width] not in settled and RUN_FILE_RE.match(entry.name)
        )

        named: set[str] = set()
        for name in names:
            if not name.endswith(MANIFEST_SUFFIX):
                continue
            manifest_path = self.output_dir / name
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                logger.error("Unreadable manifest %s: %s", manifest_path, exc)
                continue
            named.update(f["path"] for f in manifest.get("files", []))
            run_id = manifest.get("run_id", "")
            if manifest.get("status") == "complete" and not self.state.is_delivered_run(run_id):
                stories = [
                    recovered_story(item)
                    for f in manifest["files"]
                    if (self.output_dir / f["path"]).exists()
                    for item in _read_jsonl(self.output_dir / f["path"])
                ]
                self.state.recover_delivered_run(run_id, stories)
                logger.warning(
                    "Recovered run %s: its manifest is complete but it was stopped before "
                    "recording its %d stories as delivered; recorded now.",
                    run_id,
                    len(stories),
                )
        for name in names:
            path = self.output_dir / name
            unnamed_file = path.suffix == ".jsonl" and path.name not in named
            if unnamed_file or path.name.endswith(PART_SUFFIX):
                aside = path.with_name(path.name + DISCARDED_SUFFIX)
                os.replace(path, aside)
                logger.warning(
                    "Discarded %s, left by a run that did not finish (now %s); its stories "
                    "will be crawled and delivered again.",
                    path.name,
                    aside.name,
                )

    def abort(self, crawler: Crawler, stat: str, message: str) -> NotWritten:
        """The output or the state failed: the run cannot deliver, so it stops
        crawling pages it could not keep (the verdict fails it; the next run
        delivers them). Counted under ``newscrawl/<stat>``, logged once. Returns
        the drop for the item at hand, for the caller to raise."""
        crawler.stats.inc_value(f"newscrawl/{stat}")
        if self.aborted:
            return NotWritten(message)
        self.aborted = True
        logger.error("%s; stopping the run", message)
        # How Scrapy's own CloseSpider extension closes a spider from outside a callback.
        _schedule_coro(crawler.engine.close_spider_async(reason=stat))
        return NotWritten(message)

    # -- files -------------------------------------------------------------------

    def file_path(self, number: int) -> Path:
        return self.output_dir / f"{self.run_id}-{number:04d}.jsonl"

    def add_file(self, path: Path, items: int) -> None:
        """Register an output file the output stage has renamed into place."""
        self.files.append(OutputFile(path.name, items, sha256_of(path)))

    # -- end -------------------------------------------------------------------------

    def finish(self, close_reason: str, stats: dict[str, Any]) -> Verdict:
        """Judge the run, write its manifest, deliver its stories if complete."""
        metrics = run_metrics(stats)
        verdict = judge(stats, metrics, self.state.recent_metrics(limit=5))
        items = sum(f.items for f in self.files)
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "run_id": self.run_id,
            "spider": self.spider_name,
            "spider_arguments": self.spider_args,
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC),
            "status": verdict.status,
            "reason": verdict.reason,
            "close_reason": close_reason,
            "exit_code": int(verdict.exit_code),
            "items": items,
            "files": [asdict(f) for f in self.files],
            "stats": _manifest_stats(stats),
        }
        path = self.output_dir / f"{self.run_id}{MANIFEST_SUFFIX}"
        data = json.dumps(manifest, cls=ScrapyJSONEncoder, indent=2, ensure_ascii=False)
        # The state's batch of per-item writes first: a run killed after its
        # manifest is recovered from it, near-duplicate fingerprints included.
        self.state.flush()
        write_atomically(path, data.encode("utf-8") + b"\n")
        if verdict.status == "complete":
            self.state.mark_delivered()
        self.state.end_run(verdict.status, verdict.reason, items, metrics)
        log = logger.info if verdict.status == "complete" else logger.error
        log(
            "Run %s %s%s: %d stories in %d file(s); manifest %s",
            self.run_id,
            verdict.status,
            f" ({verdict.reason})" if verdict.reason else "",
            items,
            len(self.files),
            path,
        )
        return verdict

    def close(self) -> None:
        # The log handler stays: Scrapy's last lines (the stats) come after this.
        self.state.close()
        release_lock(self.state_dir)


def recovered_story(item: dict[str, Any]) -> RecoveredStory:
    """What the state keeps of a delivered story, read back from its output line."""
    return RecoveredStory(
        item["url"],
        item.get("article_id"),
        item.get("content_hash"),
        version=item.get("version", 1),
        revision=revision_hash(item["title"], item["body"]),
        published_at=unix_seconds(item["published"]),
        fetched_at=unix_seconds(item["crawled_at"]),
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _manifest_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The stats a consumer or operator needs, grouped."""
    grouped: dict[str, Any] = {
        "requests": stats.get("downloader/request_count", 0),
        "responses_by_status": {},
        "items": stats.get("item_scraped_count", 0),
        "dropped_by_reason": {},
        "newscrawl": {},
    }
    for key, value in sorted(stats.items()):
        if key.startswith("downloader/response_status_count/"):
            grouped["responses_by_status"][key.rsplit("/", 1)[1]] = value
        elif key.startswith("item_dropped_reasons_count/"):
            grouped["dropped_by_reason"][key.rsplit("/", 1)[1]] = value
        elif key.startswith("newscrawl/"):
            grouped["newscrawl"][key.removeprefix("newscrawl/")] = value
    return grouped
