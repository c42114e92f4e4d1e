"""Stage 4: an item that does not fit the output's JSON Schema is not written."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import fastjsonschema
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from newscrawl.drops import ArticleDrop


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
    """Every item checked against the output's JSON Schema
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
