"""Stage 4: the run's JSON Lines file, complete or absent, never half-written.

Items go to ``<run id>.jsonl.part``; when the spider closes, the file is
flushed, fsynced and renamed to ``<run id>.jsonl``, the folder is fsynced, and
only then are its stories marked delivered in the state. A crash before the
rename leaves a ``.part`` file that no consumer reads and stories the next run
delivers again: at least once, never lost.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exporters import JsonLinesItemExporter

from newscrawl.locations import output_dir

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
)
PART_SUFFIX = ".part"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JsonLinesOutputPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.folder = output_dir(crawler.settings)
        self.items = 0
        self.file: IO[bytes] | None = None
        self.exporter: JsonLinesItemExporter | None = None
        self.path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesOutputPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        orphans = sorted(self.folder.glob(f"*{PART_SUFFIX}"))
        if orphans:
            logger.warning(
                "Found %d unfinished file(s) from runs that did not end: %s. Their stories "
                "were never marked delivered and will be delivered again by this run.",
                len(orphans),
                ", ".join(p.name for p in orphans),
            )
        self.path = self.folder / f"{self.crawler.spider.run_id}.jsonl"

    def _open_part(self) -> JsonLinesItemExporter:
        assert self.path is not None
        self.file = open(self.path.with_name(self.path.name + PART_SUFFIX), "xb")  # noqa: SIM115
        self.exporter = JsonLinesItemExporter(
            self.file, encoding="utf-8", fields_to_export=list(EXPORTED_FIELDS)
        )
        self.exporter.start_exporting()
        return self.exporter

    def process_item(self, item: Any) -> Any:
        exporter = self.exporter or self._open_part()
        exporter.export_item(item)
        self.items += 1
        self.crawler.spider.state.mark_written(ItemAdapter(item)["url"])
        return item

    def close_spider(self) -> None:
        state = self.crawler.spider.state
        if self.file is None or self.exporter is None or self.path is None:
            logger.info("No new stories: no output file written for this run.")
            return
        self.exporter.finish_exporting()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.file.name, self.path)
        fsync_dir(self.folder)
        delivered = state.mark_delivered()
        self.crawler.stats.set_value("newscrawl/output_file", str(self.path))
        logger.info(
            "Wrote %d stories to %s (%d marked delivered)", self.items, self.path, delivered
        )
