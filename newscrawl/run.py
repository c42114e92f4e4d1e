"""One scheduled run: its lock, its state, its files, its manifest, its verdict.

``Run`` is a Scrapy extension that only ``scrapy crawl`` enables (the crawl
command sets ``NEWSCRAWL_RUN``): ``scrapy parse``, ``shell``, ``check`` and
``list`` build the same spider and leave the output folder, the state and the run
history as they were. The spider and the pipelines reach the run, and through it
the state, with ``crawler.get_extension(Run)``.

A run takes an exclusive lock on its state folder and its output folder (a second
run started meanwhile stops at once, touching nothing), recovers what a killed
run left, collects the files the output stage renames into place, and when the
spider closes writes ``<run id>.manifest.json`` beside them and records the
verdict. Stories become delivered in the state only after a complete manifest
names their file, so a consumer that reads only the files named in complete
manifests sees every story exactly once, however runs are killed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.serialize import ScrapyJSONEncoder

from newscrawl.consume import OutputDamaged
from newscrawl.drops import ArticleDrop, NotWritten
from newscrawl.folders import (
    OUTPUT_LOCK_NAME,
    PART_SUFFIX,
    PROBE_PREFIX,
    acquire_lock,
    release_lock,
    sha256_of,
    write_atomically,
)
from newscrawl.hashes import revision_hash, unix_seconds
from newscrawl.locations import log_dir, output_dir, state_dir
from newscrawl.metrics import write_textfile
from newscrawl.state import GivenUp, RecoveredStory, StateStore
from newscrawl.stores import StoreError, ingest
from newscrawl.verdict import ExitCode, Verdict, judge, run_metrics

logger = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".manifest.json"
DISCARDED_SUFFIX = ".discarded"
MANIFEST_VERSION = 1
# Only files named like a run's own are ever moved aside: a user's
# ``-O output/x.jsonl`` is not ours to touch.
RUN_FILE_RE = re.compile(
    r"^(?P<run_id>[a-z0-9_]+-\d{8}T\d{6}Z-[0-9a-f]{4})(?:-\d{4}\.jsonl|\.manifest\.json)"
)


def new_run_id(spider_name: str) -> str:
    # Sortable by start time; the suffix keeps two runs started in one second apart.
    return f"{spider_name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


@dataclass
class OutputFile:
    path: str  # relative to the output folder
    items: int
    sha256: str


@dataclass
class Run:
    """The run around one ``scrapy crawl``; see the module's docstring."""

    spider_name: str
    spider_args: dict[str, Any]
    output_dir: Path
    state_dir: Path
    log_dir: Path | None = None
    log_keep_days: int = 14
    log_format: str = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    log_level: str = "INFO"
    give_up_days: float = 7.0
    discarded_keep_days: float = 7.0
    # NEWSCRAWL_STORE_URL: the run loads its complete manifest into this store.
    store_url: str | None = None
    # NEWSCRAWL_METRICS_FILE: the Prometheus textfile the run ends by writing.
    metrics_file: str | None = None
    run_id: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    files: list[OutputFile] = field(default_factory=list)
    state: StateStore = field(init=False)
    log_handler: logging.Handler | None = field(init=False, default=None)
    aborted: bool = field(init=False, default=False)
    crawler: Crawler | None = field(init=False, default=None)
    # The one line a run ends with on stderr (the crawl command prints it).
    summary: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        acquire_lock(self.state_dir)
        acquire_lock(self.output_dir, OUTPUT_LOCK_NAME)
        self.run_id = self.run_id or new_run_id(self.spider_name)
        self._open_log()
        self.state = StateStore(self.state_dir, self.run_id)
        self._recover()
        self._remove_debris()
        discarded = self.state.start_run()
        if discarded:
            logger.warning(
                "%d stories written by a run that did not finish were never delivered; "
                "this run delivers them again.",
                discarded,
            )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Run:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWL_RUN"):
            raise NotConfigured("not a scheduled run: only scrapy crawl starts one")
        spider = crawler.spider
        assert spider is not None  # Scrapy builds extensions after the spider
        run = cls(
            spider.name,
            getattr(spider, "spider_args", {}),
            output_dir(settings),
            state_dir(settings),
            log_dir=log_dir(settings),
            log_keep_days=settings.getint("NEWSCRAWL_LOG_KEEP_DAYS"),
            log_format=settings.get("LOG_FORMAT"),
            log_level=settings.get("LOG_LEVEL"),
            give_up_days=settings.getfloat("NEWSCRAWL_GIVE_UP_DAYS"),
            discarded_keep_days=settings.getfloat("NEWSCRAWL_DISCARDED_KEEP_DAYS"),
            store_url=settings.get("NEWSCRAWL_STORE_URL") or None,
            metrics_file=settings.get("NEWSCRAWL_METRICS_FILE") or None,
        )
        run.crawler = crawler
        crawler.signals.connect(run.item_dropped, signal=signals.item_dropped)
        # Connected after the spider's own closing (Scrapy builds extensions after
        # the spider), which settles the stories that got no answer first.
        crawler.signals.connect(run.spider_closed, signal=signals.spider_closed)
        return run

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        """What a pipeline's drop means for the story: a copy, spam or an invalid page
        is recorded, so the next run knows whether to fetch it again."""
        if isinstance(exception, ArticleDrop) and exception.outcome is not None:
            self.state.record(
                item["url"],
                exception.outcome,
                article_id=item.get("article_id"),
                content_hash=item.get("content_hash"),
                detail=f"{type(exception).__name__}: {exception}",
            )

    def spider_closed(self, reason: str) -> None:
        """The verdict, the manifest, the deliveries; the exit code for the crawl
        command in the stat ``newscrawl/exit_code``."""
        assert self.crawler is not None
        stats = self.crawler.stats
        try:
            verdict = self.finish(reason, stats.get_stats())
            stats.set_value("newscrawl/exit_code", int(verdict.exit_code))
        except OSError:
            logger.exception("Cannot write the run's manifest: nothing is marked delivered")
            stats.set_value("newscrawl/exit_code", int(ExitCode.OUTPUT_FAILED))
        except Exception:
            logger.exception("The run could not be finished: nothing is marked delivered")
            stats.set_value("newscrawl/exit_code", int(ExitCode.CRAWL_ERRORS))
        finally:
            self.close()

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

        A run this state started whose manifest is complete but whose stories the
        state does not know as delivered (killed between the manifest and the state
        update): its stories are recorded as delivered from its files. Only runs this
        state started are recovered: after a reset (a new state folder), the
        manifests already in the output folder are another state's deliveries, and
        the new state delivers their stories again. Files no manifest names (a run
        killed before its manifest) and ``.part`` files: renamed aside with
        ``.discarded``; their stories are crawled and delivered again. Both folders
        are locked, so no live run owns them.
        """
        # Runs the state knows as delivered or failed are settled, and runs it does
        # not know at all are not its own: only the rest (killed while running) have
        # their manifests read, so start-up does not grow with the runs kept.
        unsettled = self.state.unsettled_runs()
        # A run id is the spider's name and a fixed-width suffix, as wide as this
        # run's: the names of other runs' files are sorted out by a set lookup.
        id_width = len(self.run_id)
        manifests: set[str] = set()
        leftovers: list[str] = []
        for entry in os.scandir(self.output_dir):
            name = entry.name
            if not RUN_FILE_RE.match(name):
                continue
            if name.endswith(MANIFEST_SUFFIX):
                manifests.add(name[:id_width])
                if name[:id_width] in unsettled:
                    self._recover_run(self.output_dir / name)
            elif name.endswith(PART_SUFFIX) or name.endswith(".jsonl"):
                leftovers.append(name)
        for name in sorted(leftovers):
            if name.endswith(".jsonl") and name[:id_width] in manifests:
                continue  # named by its run's manifest
            path = self.output_dir / name
            aside = path.with_name(path.name + DISCARDED_SUFFIX)
            os.replace(path, aside)  # its age stays the dead run's last write
            logger.warning(
                "Discarded %s, left by a run that did not finish (now %s); its stories "
                "will be crawled and delivered again.",
                path.name,
                aside.name,
            )

    def _recover_run(self, manifest_path: Path) -> None:
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.error("Unreadable manifest %s: %s", manifest_path, exc)
            return
        if manifest.get("status") != "complete":
            return
        run_id = manifest.get("run_id", "")
        stories = [
            recovered_story(item)
            for f in manifest["files"]
            if (self.output_dir / f["path"]).exists()
            for item in _read_jsonl(self.output_dir / f["path"])
        ]
        withdrawn = [(w["url"], unix_seconds(w["seen_at"])) for w in manifest.get("withdrawn", [])]
        self.state.recover_delivered_run(run_id, stories, withdrawn)
        logger.warning(
            "Recovered run %s: its manifest is complete but it was stopped before "
            "recording its %d stories as delivered; recorded now.",
            run_id,
            len(stories),
        )

    def _remove_debris(self) -> None:
        """Remove what earlier runs set aside or left behind: ``.discarded`` files
        once their dead run last wrote them ``discarded_keep_days`` ago (kept that long
        for a look at what a killed run wrote), and write probes of a killed start-up
        (any age: both folders are locked)."""
        horizon = datetime.now(UTC).timestamp() - self.discarded_keep_days * 86400
        for entry in os.scandir(self.output_dir):
            name = entry.name
            stale = name.startswith(PROBE_PREFIX) or (
                name.endswith(DISCARDED_SUFFIX) and entry.stat().st_mtime < horizon
            )
            if stale and entry.is_file():
                Path(entry.path).unlink(missing_ok=True)
                logger.info("Removed %s, left by an earlier run", name)

    def abort(self, stat: str, message: str) -> NotWritten:
        """The output or the state failed: the run cannot deliver, so it stops
        crawling pages it could not keep (the verdict fails it; the next run
        delivers them). Counted under ``newscrawl/<stat>``, logged once. Returns
        the drop for the item at hand, for the caller to raise."""
        assert self.crawler is not None
        crawler = self.crawler
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
        verdict = judge(stats, metrics, self.state.recent_metrics(limit=5), close_reason)
        now = int(time.time())
        given_up: list[GivenUp] = []
        if verdict.status == "complete":
            given_up = self.state.give_up_due(now, int(self.give_up_days * 86400))
            for story in given_up:
                logger.warning(
                    "Giving up %s: its page failed in %d complete runs since %s (last: %s)",
                    story.url,
                    story.failed_runs,
                    datetime.fromtimestamp(story.first_failed_at, UTC).isoformat(),
                    story.detail or story.outcome,
                )
            stats["newscrawl/stories_given_up"] = len(given_up)
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
            "given_up": [
                {"url": g.url, "reason": g.detail or g.outcome, "failed_runs": g.failed_runs}
                for g in given_up
            ],
            "withdrawn": [
                {
                    "article_id": w.article_id,
                    "url": w.url,
                    "status": w.status,
                    "seen_at": datetime.fromtimestamp(w.seen_at, UTC),
                }
                for w in self.state.withdrawals()
            ],
            "stats": _manifest_stats(stats),
        }
        path = self.output_dir / f"{self.run_id}{MANIFEST_SUFFIX}"
        self.summary = summary_line(verdict, manifest, stats, path)
        data = json.dumps(manifest, cls=ScrapyJSONEncoder, indent=2, ensure_ascii=False)
        # The state's batch of per-item writes first: a run killed after its
        # manifest is recovered from it, near-duplicate fingerprints included.
        self.state.flush()
        write_atomically(path, data.encode("utf-8") + b"\n")
        if verdict.status == "complete":
            self.state.mark_delivered()
            self.state.count_failures(now, given_up)
        self.state.end_run(verdict.status, verdict.reason, items, metrics)
        if verdict.status == "complete" and self.store_url:
            verdict = self._load_into_store(verdict)
        if self.metrics_file:
            try:
                write_textfile(self.metrics_file, manifest, self.state.path, self.output_dir)
            except OSError as exc:
                logger.warning("Cannot write the metrics file %s: %s", self.metrics_file, exc)
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

    def _load_into_store(self, verdict: Verdict) -> Verdict:
        """Apply this run's complete manifest (and any left pending) to the store,
        through ``scrapy ingest``'s own code. A store that fails does not undo the
        delivery: the manifest stays pending for the next ingest or crawl, and the
        run exits ``STORE_PENDING`` so the operator hears of it."""
        try:
            result = ingest(self.output_dir, self.store_url or "")
        except (StoreError, OutputDamaged) as exc:
            logger.error("Stories delivered but not loaded into the store: %s", exc)
            self.summary = f"{self.summary}; NOT loaded into the store ({exc})"
            return Verdict(ExitCode.STORE_PENDING, f"not loaded into the store: {exc}")
        logger.info("Loaded %d stories of %d run(s) into the store", result.stories, result.runs)
        self.summary = f"{self.summary}; loaded into the store"
        return verdict

    def close(self) -> None:
        # The log handler stays: Scrapy's last lines (the stats) come after this.
        self.state.close()
        release_lock(self.output_dir)
        release_lock(self.state_dir)


def summary_line(
    verdict: Verdict, manifest: dict[str, Any], stats: dict[str, Any], path: Path
) -> str:
    """What happened, in one line, for cron's mail and systemd's journal."""
    if verdict.status != "complete":
        return f"newscrawl: FAILED (exit {int(verdict.exit_code)}): {verdict.reason} -> {path}"
    corrections = stats.get("newscrawl/corrections", 0)
    given_up = stats.get("newscrawl/stories_given_up", 0)
    withdrawn = len(manifest["withdrawn"])
    seconds = (manifest["finished_at"] - manifest["started_at"]).total_seconds()
    new = manifest["items"] - corrections
    parts = [
        f"{new} new {_plural(new, 'story', 'stories')}",
        f"{corrections} {_plural(corrections, 'correction', 'corrections')}",
        f"{withdrawn} withdrawn",
        *([f"{given_up} given up"] if given_up else []),
        f"{stats.get('downloader/request_count', 0)} requests",
        f"{seconds:.0f} s",
    ]
    return f"newscrawl: complete, {', '.join(parts)} -> {path}"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


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
