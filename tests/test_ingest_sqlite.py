"""``scrapy ingest`` and ``newscrawl.stores.ingest`` into SQLite files: the cases
every store passes (``tests/ingest_cases.py``), and what is SQLite's own (FTS5 kept
in sync by triggers, the file's folder, the URL's forms)."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from bench import ingest as ingest_bench
from newscrawl.consume import find_manifests
from newscrawl.stores import BadStoreURL, ingest, open_store, sqlite_path
from tests.ingest_cases import MAKER, StoreCases, crawled_outputs, run, story

SCHEMAS = Path(__file__).resolve().parent.parent / "newscrawl" / "schemas"


class TestSqlite(StoreCases):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        counter = itertools.count()
        self.new_store = lambda: f"sqlite:///{tmp_path / f'store{next(counter)}.sqlite3'}"

    def search(self, url: str, words: str) -> list[str]:
        phrase = " ".join('"' + w.replace('"', "") + '"' for w in words.split())
        with sqlite3.connect(sqlite_path(url)) as db:
            rows = db.execute(
                "SELECT s.article_id FROM stories_fts JOIN stories AS s ON s.id = stories_fts.rowid"
                " WHERE stories_fts MATCH ? AND s.withdrawn_at IS NULL ORDER BY rank",
                (phrase,),
            ).fetchall()
        return [r[0] for r in rows]

    def unreachable(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'stories.sqlite3'}"


def test_the_search_index_stays_in_sync_with_the_stories(tmp_path: Path) -> None:
    out, url = tmp_path / "out", f"sqlite:///{tmp_path / 's.sqlite3'}"
    run(out, 1, [story(1), story(2)])
    run(out, 2, [story(1, version=2, crawled=2)])
    ingest(out, url)
    db = sqlite3.connect(sqlite_path(url))
    db.execute("INSERT INTO stories_fts (stories_fts) VALUES ('integrity-check')")
    # An analyst's own changes are followed too.
    db.execute("DELETE FROM stories WHERE article_id = ?", (MAKER.story(2)["article_id"],))
    db.execute("UPDATE stories SET title = 'Zanzibar cloves' WHERE version = 2")
    db.commit()
    db.execute("INSERT INTO stories_fts (stories_fts) VALUES ('integrity-check')")
    found = db.execute("SELECT rowid FROM stories_fts WHERE stories_fts MATCH 'zanzibar'")
    assert len(found.fetchall()) == 1


def test_store_urls() -> None:
    assert sqlite_path("sqlite:///data/stories.sqlite3") == Path("data/stories.sqlite3")
    assert sqlite_path("sqlite:////data/stories.sqlite3") == Path("/data/stories.sqlite3")
    for bad in ("sqlite://host/x.sqlite3", "sqlite://", "mysql://u@h/db", "stories.sqlite3"):
        with pytest.raises(BadStoreURL):
            open_store(bad)


def test_the_crawls_manifests_fit_the_manifest_schema(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    schema = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    manifests = find_manifests(crawled_outputs(tmp_path_factory).second)
    assert len(manifests) == 2
    for path in manifests:
        jsonschema.validate(json.loads(path.read_text()), schema)


def test_the_ingest_benchmark_runs(tmp_path: Path) -> None:
    section = ingest_bench.run(tmp_path, sizes=(20, 40), stores=("sqlite",))
    assert "| sqlite | 40 " in section.render().replace("  ", " ")
    assert [t.holds is not None for t in section.targets] == [True, True]
