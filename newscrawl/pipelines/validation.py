"""Stage 1: an item without a title, a body or a possible date goes no further,
nor one whose headline or body is implausibly long; an implausibly long editor or
source is no editor or source (null, counted and logged, never cut). Stage 4
(``SchemaPipeline``): an item that does not fit the output's JSON Schema is not
written.

It also counts, for every parsed article, which watched fields it has
(``newscrawl/field_present/<field>``): the run's verdict compares that coverage
with recent runs to notice a site redesign (``newscrawl.verdict``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import fastjsonschema
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from newscrawl.drops import (
    ArticleDrop,
    ImplausibleBody,
    ImplausibleTitle,
    ImpossibleDate,
    MissingBody,
    MissingPublished,
    MissingTitle,
)
from newscrawl.normalize import SITE_TZ
from newscrawl.verdict import WATCHED_FIELDS

# ECNS started in 1999 (its footer: "Copyright ©1999-…"); nothing it serves is older.
EARLIEST_PUBLISHED = datetime(1999, 1, 1, tzinfo=SITE_TZ)
# Time zones and clock skew put a fresh story up to a day "ahead" of the crawler.
FUTURE_TOLERANCE = timedelta(days=1)
# ECNS headlines run to about 150 characters; ten times that is no headline.
TITLE_MAX_CHARS = 1500
# Far above any real ECNS value, so that only a broken or hostile page reaches them:
# editors' names run to 2-40 characters, so a longer "name" is no editor...
EDITOR_MAX_CHARS = 100
# ...sources ("Xinhua", "chinadaily.com.cn", "China News Service") stay under 60...
SOURCE_MAX_CHARS = 200
# ...and bodies under 60 KB: a million characters is no article.
BODY_MAX_CHARS = 1_000_000
# The fields that become null when longer than their limit.
FIELD_MAX_CHARS = {"source": SOURCE_MAX_CHARS, "editor": EDITOR_MAX_CHARS}

logger = logging.getLogger(__name__)


class ValidationPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        self._drop_implausible_fields(adapter)
        self._count_coverage(adapter)
        title = adapter.get("title")
        if not title:
            raise MissingTitle("no headline in h1, twitter:title or <title>")
        if len(title) > TITLE_MAX_CHARS:
            raise ImplausibleTitle(f"a {len(title)}-character headline")
        blocks = [block.text for block in adapter.get("body_blocks") or () if block.text]
        if not blocks:
            raise MissingBody("the body container holds no text")
        # The body as the spam stage composes it: paragraphs joined by a blank line.
        body_chars = sum(map(len, blocks)) + 2 * (len(blocks) - 1)
        if body_chars > BODY_MAX_CHARS:
            raise ImplausibleBody(f"a {body_chars}-character body")
        raw = adapter.get("published_raw")
        if adapter.get("published") is None:
            if raw:
                raise ImpossibleDate(f"{raw!r} is not a possible date")
            raise MissingPublished("no time on the page and no listing date")
        published = datetime.fromisoformat(adapter["published"])
        latest = datetime.fromisoformat(adapter["crawled_at"]) + FUTURE_TOLERANCE
        if not EARLIEST_PUBLISHED <= published <= latest:
            raise ImpossibleDate(f"{raw!r} is outside {EARLIEST_PUBLISHED:%Y} … crawl time + 1 day")
        return item

    def _drop_implausible_fields(self, adapter: ItemAdapter) -> None:
        """Null each field longer than its limit (FIELD_MAX_CHARS), count it under
        ``newscrawl/implausible_field/<field>``, and say so in one warning a page."""
        found = []
        for field, limit in FIELD_MAX_CHARS.items():
            value = adapter.get(field)
            if value and len(value) > limit:
                adapter[field] = None
                self.stats.inc_value(f"newscrawl/implausible_field/{field}")
                found.append(f"a {len(value)}-character {field}")
        if found:
            logger.warning(
                "Article %s: %s, over the limit; left null", adapter.get("url"), ", ".join(found)
            )

    def _count_coverage(self, adapter: ItemAdapter) -> None:
        self.stats.inc_value("newscrawl/articles_parsed")
        present = {
            "title": bool(adapter.get("title")),
            "published": adapter.get("published") is not None,
            "editor": bool(adapter.get("editor")),
            "body": any(block.text for block in adapter.get("body_blocks") or ()),
        }
        for field in WATCHED_FIELDS:
            if present[field]:
                self.stats.inc_value(f"newscrawl/field_present/{field}")


class SchemaMismatch(ArticleDrop):
    """The item does not fit the output's JSON Schema. Not recorded in the state
    (as with spidermon's plain ``DropItem`` before): the next run fetches the story
    again."""

    outcome = None


# jsonschema names a missing property only in its message.
_REQUIRED_RE = re.compile(r"^'(.+)' is a required property$")


def article_schema(path: str | None = None) -> dict[str, Any]:
    """The output's JSON Schema: the one the package ships, read as package data
    (``importlib.resources``: a filesystem path means nothing inside the zipped egg
    scrapyd runs), or the file at ``path`` (the ``ARTICLE_SCHEMA`` setting)."""
    source = Path(path) if path else files("newscrawl") / "schemas" / "article.schema.json"
    return json.loads(source.read_text(encoding="utf-8"))


class SchemaPipeline:
    """Stage 4: every item checked against the output's JSON Schema
    (``ARTICLE_SCHEMA``) before it is written; an item that does not fit is dropped
    as ``SchemaMismatch``, naming each field and the keyword it fails.

    Why not spidermon's ``ItemValidationPipeline``, which did this until now: it
    cost ~180 µs of CPU an item, a tenth of the crawler's whole overhead over a
    minimal spider, mostly not validating (it copies the item with
    ``ItemAdapter.asdict`` and runs ``slugify`` over its stat names on every item).
    A jsonschema validator built once costs ~60 µs an item and ~30 ms of import at
    every start-up; ``fastjsonschema`` compiles the same schema into Python code
    that checks an item in ~5 µs, but stops at the first error. So fastjsonschema
    passes items, and jsonschema, imported on first need, judges every item it
    refuses and names all its errors (``tests/test_schema_check.py`` checks on
    generated items that the two agree on the shipped schema).

    Stats, under ``newscrawl/schema/``: ``items`` checked, ``items/invalid``, and
    ``errors/<field>/<keyword>`` for each error (e.g. ``errors/title/minLength``);
    the drop is counted under ``item_dropped_reasons_count/SchemaMismatch``.
    """

    def __init__(self, schema: dict[str, Any], stats: StatsCollector) -> None:
        self.schema = schema
        # Compiled now: a broken schema stops the run before it crawls.
        self.fast_check = fastjsonschema.compile(schema)
        self.stats = stats
        self._validator: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemaPipeline:
        return cls(article_schema(crawler.settings.get("ARTICLE_SCHEMA")), crawler.stats)

    def _jsonschema(self) -> Any:
        """The jsonschema validator, imported and built on first need."""
        if self._validator is None:
            from jsonschema.validators import validator_for

            cls = validator_for(self.schema)
            cls.check_schema(self.schema)
            self._validator = cls(self.schema, format_checker=cls.FORMAT_CHECKER)
        return self._validator

    def process_item(self, item: Any) -> Any:
        self.stats.inc_value("newscrawl/schema/items")
        # A shallow copy is enough: the nested values are plain lists and dicts.
        data = dict(item) if isinstance(item, Mapping) else ItemAdapter(item).asdict()
        try:
            self.fast_check(data)
            return item
        except fastjsonschema.JsonSchemaException:
            pass
        errors = [_describe(error) for error in self._jsonschema().iter_errors(data)]
        if not errors:
            return item
        self.stats.inc_value("newscrawl/schema/items/invalid")
        for field, keyword, _ in errors:
            self.stats.inc_value(f"newscrawl/schema/errors/{field}/{keyword}")
        raise SchemaMismatch("; ".join(f"{field}: {message}" for field, _, message in errors))


def _describe(error: Any) -> tuple[str, str, str]:
    """The field (dotted path, ``item`` for the whole item), the schema keyword it
    fails, and jsonschema's message (the value shortened)."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and (m := _REQUIRED_RE.match(error.message)):
        path.append(m.group(1))
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return ".".join(path) or "item", str(error.validator), message
