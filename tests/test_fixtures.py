"""Saved replica pages against their expected items, field by field.

After an intended change to extraction, rewrite the expected files with
``make fixtures`` and review the diff.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.regenerate import EXPECTED, INDEX, PAGES, page_to_item, to_json

CASES = sorted(json.loads(INDEX.read_text(encoding="utf-8")).items())


def test_there_is_a_fixture_for_every_listed_page() -> None:
    assert len(CASES) >= 15
    assert {p.stem for p in PAGES.glob("*.html")} == {name for name, _ in CASES}


@pytest.mark.parametrize(("name", "meta"), CASES, ids=[name for name, _ in CASES])
def test_page_gives_its_expected_item(name: str, meta: dict) -> None:
    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    item = json.loads(to_json(page_to_item(html, meta["url"], meta["listing_date"])))
    expected = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))
    assert set(item) == set(expected)
    for field in sorted(expected):
        assert item[field] == expected[field], f"{name}: {field}"
