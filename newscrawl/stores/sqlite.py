"""The SQLite store (the standard library's ``sqlite3``): one file, WAL journal so
readers never wait for an ingest, FTS5 over title and body kept in sync with
``stories`` by triggers. Layout: docs/STORES.md."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from newscrawl.consume import Manifest
from newscrawl.stores import (
    LAYOUT_VERSION,
    ROW_COLUMNS,
    Store,
    StoreError,
    StoreUnavailable,
    now_text,
    utc_text,
)

# Seconds a write waits for another ingest's transaction before giving up.
BUSY_TIMEOUT = 120

SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    section TEXT NOT NULL,
    title TEXT NOT NULL,
    published TEXT NOT NULL,
    published_raw TEXT NOT NULL,
    source TEXT,
    editor TEXT,
    body TEXT NOT NULL,
    images TEXT NOT NULL,
    crawled_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    spam_removed INTEGER NOT NULL,
    version INTEGER NOT NULL,
    withdrawn_at TEXT,
    first_changed_at TEXT NOT NULL,
    last_changed_at TEXT NOT NULL,
    run_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stories_published ON stories (published);
CREATE INDEX IF NOT EXISTS stories_last_changed_at ON stories (last_changed_at);
CREATE TABLE IF NOT EXISTS withdrawals (
    article_id TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (article_id, seen_at)
);
CREATE TABLE IF NOT EXISTS ingested_runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    ingested_at TEXT NOT NULL,
    stories INTEGER NOT NULL,
    stories_changed INTEGER NOT NULL,
    withdrawals INTEGER NOT NULL,
    manifest TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS stories_fts USING fts5(
    title, body, content='stories', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS stories_fts_insert AFTER INSERT ON stories BEGIN
    INSERT INTO stories_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS stories_fts_delete AFTER DELETE ON stories BEGIN
    INSERT INTO stories_fts (stories_fts, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER IF NOT EXISTS stories_fts_update AFTER UPDATE OF title, body ON stories BEGIN
    INSERT INTO stories_fts (stories_fts, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO stories_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
"""

# Each batch of stories goes through a temporary table, then into ``stories`` in one
# statement: FTS5 flushes its pending terms at every statement that writes it, and
# a statement a story takes two to three times as long.
STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS staging (
    ord INTEGER PRIMARY KEY, {", ".join(ROW_COLUMNS)}
)
"""
STAGE = f"""
INSERT INTO temp.staging ({", ".join(ROW_COLUMNS)})
VALUES ({", ".join("?" for _ in ROW_COLUMNS)})
"""

# A story is inserted, or replaces the row when its version is higher. Withdrawals
# the store already holds that were seen after this version was fetched make it
# arrive withdrawn (a manifest applied after a later run's withdrawal).
UPSERT = """
INSERT INTO stories (
    article_id, url, section, title, published, published_raw, source, editor, body,
    images, crawled_at, content_hash, spam_removed, version, withdrawn_at,
    first_changed_at, last_changed_at, run_id
)
SELECT
    article_id, url, section, title, published, published_raw, source, editor, body,
    images, crawled_at, content_hash, spam_removed, version, seen_at,
    crawled_at, coalesce(seen_at, crawled_at), run_id
FROM (
    SELECT s.*, (
        SELECT min(w.seen_at) FROM withdrawals AS w
        WHERE w.article_id = s.article_id AND w.seen_at > s.crawled_at
    ) AS seen_at
    FROM temp.staging AS s
)
WHERE true
ORDER BY ord
ON CONFLICT (article_id) DO UPDATE SET
    url = excluded.url,
    section = excluded.section,
    title = excluded.title,
    published = excluded.published,
    published_raw = excluded.published_raw,
    source = excluded.source,
    editor = excluded.editor,
    body = excluded.body,
    images = excluded.images,
    crawled_at = excluded.crawled_at,
    content_hash = excluded.content_hash,
    spam_removed = excluded.spam_removed,
    version = excluded.version,
    withdrawn_at = excluded.withdrawn_at,
    last_changed_at = excluded.last_changed_at,
    run_id = excluded.run_id
WHERE excluded.version > stories.version
"""

RECORD_WITHDRAWAL = """
INSERT INTO withdrawals (article_id, seen_at, url, status, run_id)
VALUES (:article_id, :seen_at, :url, :status, :run_id)
ON CONFLICT DO NOTHING
"""

# The version held was fetched before the story was seen gone: withdrawn (at the
# first such sighting, whatever order the manifests come in).
WITHDRAW = """
UPDATE stories SET withdrawn_at = :seen_at, last_changed_at = :seen_at, run_id = :run_id
WHERE article_id = :article_id AND crawled_at < :seen_at
    AND (withdrawn_at IS NULL OR withdrawn_at > :seen_at)
"""


class SqliteStore(Store):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path
        if not path.parent.is_dir():
            raise StoreUnavailable(f"{self.url}: the folder {path.parent} does not exist")
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.url}: cannot open {path} ({exc})") from None
        try:
            self._use_wal()
            self.db.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA} INSERT INTO store_meta VALUES"
                f" ('layout', '{LAYOUT_VERSION}') ON CONFLICT DO NOTHING; COMMIT;"
            )
            self.db.execute(STAGING)
            (layout,) = self.db.execute(
                "SELECT value FROM store_meta WHERE key = 'layout'"
            ).fetchone()
        except sqlite3.Error as exc:
            self.db.close()
            raise self._translate(exc) from None
        if int(layout) > LAYOUT_VERSION:
            self.db.close()
            raise StoreError(f"{self.url}: its tables are of a newer newscrawl (layout {layout})")

    def _use_wal(self) -> None:
        """WAL: readers never wait for an ingest. Switching a new file to it fails at
        once, without waiting, while another connection opens it: tried again."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def applied_runs(self) -> set[str]:
        try:
            return {row[0] for row in self.db.execute("SELECT run_id FROM ingested_runs")}
        except sqlite3.Error as exc:
            raise self._translate(exc) from None

    def close(self) -> None:
        self.db.close()

    def _begin(self) -> None:
        # The write lock first: a second ingest waits here, then sees the run applied.
        self.db.execute("BEGIN IMMEDIATE")

    def _claim(self, manifest: Manifest, manifest_name: str) -> bool:
        cur = self.db.execute(
            "INSERT INTO ingested_runs (run_id, started_at, finished_at, ingested_at, stories,"
            " stories_changed, withdrawals, manifest) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
            " ON CONFLICT (run_id) DO NOTHING",
            (
                manifest.run_id,
                _utc(manifest.data.get("started_at")),
                _utc(manifest.data.get("finished_at")),
                now_text(),
                manifest.items,
                len(manifest.withdrawn),
                manifest_name,
            ),
        )
        return cur.rowcount == 1

    def _finish_claim(self, run_id: str, changed: int) -> None:
        self.db.execute(
            "UPDATE ingested_runs SET stories_changed = ? WHERE run_id = ?", (changed, run_id)
        )

    def _upsert(self, rows: list[tuple[Any, ...]]) -> int:
        self.db.executemany(STAGE, rows)
        changed = self.db.execute(UPSERT).rowcount  # the rows taken, not the triggers'
        self.db.execute("DELETE FROM temp.staging")
        return changed

    def _withdraw(self, rows: list[dict[str, Any]]) -> None:
        self.db.executemany(RECORD_WITHDRAWAL, rows)
        self.db.executemany(WITHDRAW, rows)

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _translate(self, exc: BaseException) -> BaseException:
        if not isinstance(exc, sqlite3.Error):
            return exc
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and (
            "locked" in text or "unable to open" in text or "readonly" in text
        ):
            return StoreUnavailable(f"{self.url}: {text}")
        return StoreError(f"{self.url}: {text}")


def _utc(value: Any) -> str | None:
    return utc_text(value) if value else None
