"""Stage 4: the run's JSON Lines files, complete or absent, never half-written.

Items go to ``<run id>-0001.jsonl.part``; when the file reaches
``NEWSCRAWL_FILE_MAX_ITEMS`` items, or the spider closes, it is flushed,
fsynced and renamed to ``<run id>-0001.jsonl`` (then ``-0002``, …), the folder
is fsynced, and the file is handed to the run (``newscrawl.run``), which names
it in the manifest and only then marks its stories delivered. A crash before
that leaves files no complete manifest names; the next run sets them aside and
delivers their stories again: at least once, never lost.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.exporters import JsonLinesItemExporter

from newscrawl.drops import NotWritten
from newscrawl.folders import PART_SUFFIX, fsync_dir
from newscrawl.run import Run
from newscrawl.state import describe_error

logger = logging.getLogger(__name__)

# The exported fields, in this order on every line (README.md, "Output format").
EXPORTED_FIELDS = (
    "url",
    "article_id",
    "section",
    "title",
    "published",
    "published_raw",
    "source",
    "editor",
    "body",
    "images",
    "crawled_at",
    "content_hash",
    "spam_removed",
    "version",
)


class JsonLinesOutputPipeline:
    """Only a scheduled run writes files (``scrapy parse --pipelines`` does not)."""

    def __init__(self, crawler: Crawler, run: Run) -> None:
        self.crawler = crawler
        self.run = run
        self.max_items = crawler.settings.getint("NEWSCRAWL_FILE_MAX_ITEMS")
        self.file: IO[bytes] | None = None
        self.exporter: JsonLinesItemExporter | None = None
        self.path: Path | None = None
        self.items_in_file = 0
        self.files_written = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesOutputPipeline:
        run = crawler.get_extension(Run)
        if run is None:
            raise NotConfigured("no scheduled run: nothing is written")
        return cls(crawler, run)

    def _open_file(self) -> JsonLinesItemExporter:
        self.path = self.run.file_path(self.files_written + 1)
        self.file = open(self.path.with_name(self.path.name + PART_SUFFIX), "xb")  # noqa: SIM115
        self.exporter = JsonLinesItemExporter(
            self.file,  # type: ignore[arg-type]  # annotated BytesIO; any binary file works
            encoding="utf-8",
            fields_to_export=list(EXPORTED_FIELDS),
        )
        self.exporter.start_exporting()
        self.items_in_file = 0
        return self.exporter

    def _close_file(self) -> None:
        assert self.file is not None and self.exporter is not None and self.path is not None
        self.exporter.finish_exporting()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.file.name, self.path)
        fsync_dir(self.path.parent)
        self.run.add_file(self.path, self.items_in_file)
        self.files_written += 1
        self.file = self.exporter = None

    def process_item(self, item: Any) -> Any:
        if self.run.aborted:
            raise NotWritten("the run is stopping: it cannot deliver")
        try:
            (self.exporter or self._open_file()).export_item(item)
        except OSError as exc:
            raise self._failed(exc) from None
        self.items_in_file += 1
        try:
            self.run.state.mark_written(ItemAdapter(item)["url"])
        except sqlite3.Error as exc:
            # The line is in the file but will never be marked delivered: the run fails.
            message = f"the state database failed: {describe_error(exc)}"
            raise self.run.abort("state_errors", message) from None
        if self.max_items and self.items_in_file >= self.max_items:
            self._close_file()
        return item

    def close_spider(self) -> None:
        if self.file is None:
            if not self.files_written:
                logger.info("No new stories: this run writes no output file.")
            return
        try:
            self._close_file()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> NotWritten:
        return self.run.abort("output_errors", f"cannot write {self.path}: {exc}")
