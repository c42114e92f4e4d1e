"""The schema stage: fastjsonschema, which passes items, agrees with jsonschema,
which judges the ones it refuses, and refused items are dropped with their field
and reason.

Why: fastjsonschema's compiled check is what lets every item be checked for ~5 µs
instead of jsonschema's ~60 µs; it is only sound if it never passes an item
jsonschema refuses, which these tests pin on generated items.
"""

from __future__ import annotations

from typing import Any

import fastjsonschema
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from newscrawl.items import ArticleItem
from newscrawl.pipelines.schema import SchemaMismatch, SchemaPipeline, article_schema

SCHEMA: dict[str, Any] = article_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
CHECK = fastjsonschema.compile(SCHEMA)


def passes(item: dict[str, Any]) -> bool:
    try:
        CHECK(item)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


VALID: dict[str, Any] = {
    "url": "https://www.ecns.cn/news/politics/2025-01-10/detail-ihaabcde1234567.shtml",
    "article_id": "ihaabcde1234567",
    "section": "politics",
    "title": "A headline",
    "published": "2025-01-10T16:52:22+08:00",
    "published_raw": "2025-01-10 16:52:22",
    "source": "Xinhua",
    "editor": "Li Yan",
    "body": "First paragraph.\n\nSecond paragraph.",
    "images": [{"url": "https://www.ecns.cn/a.jpg", "caption": None}],
    "crawled_at": "2026-11-26T08:09:54.100000+00:00",
    "content_hash": "0" * 64,
    "spam_removed": 0,
    "version": 1,
}
# Only the fields the shipped schema has (another field may be on its way).
VALID = {k: v for k, v in VALID.items() if k in SCHEMA["properties"]}

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=False, min_value=-3, max_value=3),
    st.sampled_from(["", "x", "abc", "ABC", "0" * 64, "a-b", "https://x/", "2025-01-10"]),
    st.sampled_from([v for v in VALID.values() if isinstance(v, str)]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["url", "caption", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def test_the_shipped_schema_compiles_and_passes_a_valid_item() -> None:
    assert list(VALIDATOR.iter_errors(VALID)) == []
    assert passes(VALID)


@settings(max_examples=600, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from([*VALID, "extra"]), json_values, max_size=4),
    removed=st.sets(st.sampled_from(list(VALID)), max_size=2),
)
def test_fastjsonschema_and_jsonschema_agree_on_generated_items(
    changes: dict[str, Any], removed: set[str]
) -> None:
    item = {k: v for k, v in {**VALID, **changes}.items() if k not in removed}
    assert passes(item) == (list(VALIDATOR.iter_errors(item)) == []), item


def test_an_item_that_does_not_fit_is_dropped_with_its_field_and_keyword() -> None:
    stats = MemoryStatsCollector(get_crawler())
    stage = SchemaPipeline(SCHEMA, stats)
    assert stage.process_item(ArticleItem(VALID)) is not None
    bad = ArticleItem({**VALID, "title": "", "spam_removed": -1})
    with pytest.raises(SchemaMismatch, match="title") as dropped:
        stage.process_item(bad)
    assert "spam_removed" in str(dropped.value)
    assert stats.get_value("newscrawl/schema/items") == 2
    assert stats.get_value("newscrawl/schema/items/invalid") == 1
    assert stats.get_value("newscrawl/schema/errors/title/minLength") == 1
    assert stats.get_value("newscrawl/schema/errors/spam_removed/minimum") == 1
    del bad["url"]
    with pytest.raises(SchemaMismatch):
        stage.process_item(bad)
    assert stats.get_value("newscrawl/schema/errors/url/required") == 1
