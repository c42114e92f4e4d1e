"""Saved replica pages against their expected items: one test a field of a page, so
the first mismatch hides none of the others.

After an intended change to extraction, rewrite the expected files with
``make fixtures`` and review the diff.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from tests.fixtures.regenerate import EXPECTED, INDEX, PAGES, page_to_item, to_json

CASES = sorted(json.loads(INDEX.read_text(encoding="utf-8")).items())


@cache
def item_of(name: str) -> dict[str, Any]:
    meta = dict(CASES)[name]
    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    return json.loads(to_json(page_to_item(html, meta["url"], meta["listing_date"])))


@cache
def expected_of(name: str) -> dict[str, Any]:
    return json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))


FIELDS = [(name, field) for name, _ in CASES for field in sorted(expected_of(name))]


def test_there_is_a_fixture_for_every_listed_page() -> None:
    assert len(CASES) >= 15
    assert {p.stem for p in PAGES.glob("*.html")} == {name for name, _ in CASES}


@pytest.mark.parametrize("name", [name for name, _ in CASES])
def test_page_gives_exactly_the_expected_fields(name: str) -> None:
    assert set(item_of(name)) == set(expected_of(name))


@pytest.mark.parametrize(("name", "field"), FIELDS, ids=[f"{n}-{f}" for n, f in FIELDS])
def test_page_gives_the_expected_value_of_each_field(name: str, field: str) -> None:
    assert item_of(name).get(field) == expected_of(name)[field]
