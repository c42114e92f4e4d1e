"""``scrapy ingest`` and ``newscrawl.stores.ingest`` into a real PostgreSQL server
this module starts (``tests/postgres.py``; skipped without Debian's ``postgresql``
package, except in CI): the cases every store passes (``tests/ingest_cases.py``)
and what is PostgreSQL's own (the generated ``tsvector``, a server going away)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from newscrawl.consume import complete_manifests
from newscrawl.stores import StoreUnavailable, ingest, open_store
from tests.ingest_cases import StoreCases, run, story
from tests.postgres import PostgresServer, postgres_server


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with postgres_server() as started:
        yield started


class TestPostgres(StoreCases):
    @pytest.fixture(autouse=True)
    def _server(self, server: PostgresServer) -> None:
        self.server = server
        self.new_store = server.new_database

    def search(self, url: str, words: str) -> list[str]:
        with psycopg.connect(url) as db:
            rows = db.execute(
                "SELECT article_id FROM stories"
                " WHERE search @@ plainto_tsquery('english', %s) AND withdrawn_at IS NULL"
                " ORDER BY ts_rank(search, plainto_tsquery('english', %s)) DESC",
                (words, words),
            ).fetchall()
        return [r[0] for r in rows]

    def unreachable(self, tmp_path: Path) -> str:
        return f"postgresql://newscrawl@/postgres?host={tmp_path}&connect_timeout=2"


def test_a_server_that_goes_away_mid_ingest_leaves_the_manifest_pending(
    server: PostgresServer, tmp_path: Path
) -> None:
    out, url = tmp_path / "out", server.new_database()
    run(out, 1, [story(1)])
    run(out, 2, [story(2)])
    database = urlsplit(url).path.lstrip("/")

    def stories():
        yield story(2)
        # The server ends this client's connection mid-transaction.
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )

    first, second = list(complete_manifests(out))
    with open_store(url) as store:
        assert store.apply(first, first.stories(), first.path.name) is not None
        with pytest.raises(StoreUnavailable):
            store.apply(second, stories(), second.path.name)
    result = ingest(out, url)
    assert [r.run_id for r in result.runs] == [second.run_id]
