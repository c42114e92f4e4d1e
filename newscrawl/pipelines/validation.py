"""Stage 1: an item without a title, a body or a possible date goes no further,
nor one whose headline is implausibly long. Stage 4 (``SchemaPipeline``): an item
that does not fit the output's JSON Schema is not written.

It also counts, for every parsed article, which watched fields it has
(``newscrawl/field_present/<field>``): the run's verdict compares that coverage
with recent runs to notice a site redesign (``newscrawl.verdict``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from numbers import Number
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from newscrawl.drops import (
    ArticleDrop,
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


class ValidationPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        self._count_coverage(adapter)
        title = adapter.get("title")
        if not title:
            raise MissingTitle("no headline in h1, twitter:title or <title>")
        if len(title) > TITLE_MAX_CHARS:
            raise ImplausibleTitle(f"a {len(title)}-character headline")
        if not any(block.text for block in adapter.get("body_blocks") or ()):
            raise MissingBody("the body container holds no text")
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


class SchemaPipeline:
    """Stage 4: every item checked against the output's JSON Schema
    (``ARTICLE_SCHEMA``) before it is written; an item that does not fit is dropped
    as ``SchemaMismatch``, naming each field and the keyword it fails.

    Why not spidermon's ``ItemValidationPipeline``, which did this until now: it
    cost ~180 µs of CPU an item, a tenth of the crawler's whole overhead over a
    minimal spider, mostly not validating (it copies the item with
    ``ItemAdapter.asdict`` and runs ``slugify`` over its stat names on every item).
    A jsonschema validator built once costs ~60 µs an item and ~30 ms of import at
    every start-up; the check compiled from the same schema (``compile_schema``)
    costs ~7 µs (the whole stage ~30 µs, with the item's copy and the stats).
    jsonschema stays the judge of every item the compiled check does not pass: the
    check is conservative (it passes only what jsonschema passes, as
    ``tests/test_schema_check.py`` verifies on generated items), so an item is
    dropped only on jsonschema's word, with its errors. A schema using a keyword the
    compiler does not know is checked by jsonschema alone. ``python -m bench.stages``
    measures the stage.

    Stats, under ``newscrawl/schema/``: ``items`` checked, ``items/invalid``, and
    ``errors/<field>/<keyword>`` for each error (e.g. ``errors/title/minLength``);
    the drop is counted under ``item_dropped_reasons_count/SchemaMismatch``.
    """

    def __init__(self, schema: dict[str, Any], stats: StatsCollector) -> None:
        self.schema = schema
        self.fast_check = compile_schema(schema)
        self.stats = stats
        self._validator: Any = None
        if self.fast_check is None:
            self._jsonschema()  # built now: a broken schema stops the run before it crawls

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemaPipeline:
        path = Path(crawler.settings.get("ARTICLE_SCHEMA"))
        return cls(json.loads(path.read_text(encoding="utf-8")), crawler.stats)

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
        if self.fast_check is not None and self.fast_check(data):
            return item
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


# --- the compiled check --------------------------------------------------------------

Check = Callable[[Any], bool]
# Keywords that only describe.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples"})
_KEYWORDS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "items",
        "pattern", "minLength", "maxLength", "minimum", "maximum",
    }
)  # fmt: skip
# Exact types, narrower than JSON Schema's where Python's differ (an integer-valued
# float is an "integer", a bool is no number there): what they refuse, jsonschema judges.
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "null": lambda v: v is None,
    "boolean": lambda v: type(v) is bool,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def compile_schema(schema: Any) -> Check | None:
    """A function that returns True only for instances ``schema`` accepts (False may
    be a false alarm: ask jsonschema), built from the draft-07 keywords listed in
    ``_KEYWORDS``; None when the schema uses any other."""
    if not isinstance(schema, dict) or not schema.keys() <= _KEYWORDS | _ANNOTATIONS:
        return None
    checks: list[Check] = []
    if "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not all(name in _TYPES for name in names):
            return None
        types = [_TYPES[name] for name in names]
        checks.append(types[0] if len(types) == 1 else lambda v: any(t(v) for t in types))
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search  # jsonschema searches too
        checks.append(lambda v: not isinstance(v, str) or search(v) is not None)
    if "minLength" in schema:
        shortest = schema["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= shortest)
    if "maxLength" in schema:
        longest = schema["maxLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) <= longest)
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda v: v >= low if _TYPES["number"](v) else not _is_number(v))
    if "maximum" in schema:
        high = schema["maximum"]
        checks.append(lambda v: v <= high if _TYPES["number"](v) else not _is_number(v))
    if "required" in schema:
        required = tuple(schema["required"])
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in required))
    properties: dict[str, Check] = {}
    for name, sub in schema.get("properties", {}).items():
        compiled = compile_schema(sub)
        if compiled is None:
            return None
        properties[name] = compiled
    if properties:
        checks.append(_properties_check(tuple(properties.items())))
    extra = schema.get("additionalProperties", True)
    if extra is False:
        allowed = frozenset(schema.get("properties", {}))
        checks.append(lambda v: not isinstance(v, dict) or v.keys() <= allowed)
    elif extra is not True:
        return None
    if "items" in schema:
        each = compile_schema(schema["items"])
        if each is None:
            return None
        checks.append(lambda v: not isinstance(v, list) or all(each(x) for x in v))
    return checks[0] if len(checks) == 1 else _all_of(tuple(checks))


# Loops rather than all() over generators: the check runs for every field of every
# item, and a generator per call costs more than the comparisons it makes.
def _all_of(checks: tuple[Check, ...]) -> Check:
    def check(value: Any) -> bool:
        for each in checks:  # noqa: SIM110 (see above)
            if not each(value):
                return False
        return True

    return check


def _properties_check(properties: tuple[tuple[str, Check], ...]) -> Check:
    def check(value: Any) -> bool:
        if isinstance(value, dict):
            for name, each in properties:
                if name in value and not each(value[name]):
                    return False
        return True

    return check


def _is_number(value: Any) -> bool:
    """A number to JSON Schema (not a bool). The limits do not apply to other values;
    a number of a type the compiled check does not compare (Decimal, Fraction…) is
    never passed by it: jsonschema judges."""
    return isinstance(value, Number) and not isinstance(value, bool)
