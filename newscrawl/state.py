"""What earlier runs delivered, on disk: the ground an incremental run stands on.

One SQLite file (WAL mode, indexed) in ``NEWSCRAWL_STATE_DIR``. Two tables:

- ``stories``: every story URL a finished run dealt with, and the outcome
  (``delivered``, ``duplicate``, ``spam_page``, ``invalid``, ``not_found``).
  A URL in this table is known ground: a listing page holding only known URLs
  ends the paging of its section.
- ``pending``: the stories of the running run, claimed by the duplicate stage
  and marked ``written`` by the output stage. They become ``delivered`` only
  once the files holding them and the run's complete manifest are in place
  (``mark_delivered``), so a crash loses nothing: the next run discards the
  dead run's pending rows and delivers those stories again. A run killed
  between its manifest and ``mark_delivered`` is recovered from its manifest
  (``newscrawl.run``), so nothing is delivered twice either.
- ``runs``: the history of runs, with each run's verdict and metrics, against
  which a run judges whether the site changed (``newscrawl.verdict``).
- ``sections``: whether the last run paged each section to its end. Known
  ground only ends paging where the previous run did not stop half-way.

A delivered story keeps its ``version``, the ``revision`` of its text (see
``newscrawl.hashes.revision_hash``), when it was published and
when it was last fetched: what revisits for corrections need
(``due_revisits``).

Memory does not grow with the number of known stories: every lookup is an
indexed query.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from newscrawl.neardup import NearDuplicateIndex

DB_NAME = "newscrawl.sqlite3"

DELIVERED = "delivered"
DUPLICATE = "duplicate"
SPAM_PAGE = "spam_page"
INVALID = "invalid"
NOT_FOUND = "not_found"
FAILED = "failed"  # not downloaded: errors past retries, a dropped redirect

# Outcomes after which a story is not fetched again.
FINAL_OUTCOMES = frozenset({DELIVERED, DUPLICATE, SPAM_PAGE})
# Outcomes that may be the fault of the story's own page (a page that never
# validates, never downloads whole, never answers): such a story is fetched again by
# every run, and given up only once it failed in runs that otherwise completed, over
# a span of time (``give_up_due``). A failure seen in a failed run (the site down,
# every page empty) says nothing about the page and never counts. ``not_found`` (a
# listed story answering 404, perhaps not yet published) never counts: it is fetched
# again for as long as a listing leads to it.
PAGE_FAULT_OUTCOMES = (INVALID, FAILED)
# Complete runs a story must have failed in, at least, before it is given up; the
# span of time is the setting NEWSCRAWL_GIVE_UP_DAYS.
GIVE_UP_MIN_RUNS = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (
    url TEXT PRIMARY KEY,
    article_id TEXT,
    content_hash TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    run_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stories_article_id ON stories(article_id)
    WHERE outcome = 'delivered';
CREATE INDEX IF NOT EXISTS stories_content_hash ON stories(content_hash)
    WHERE outcome = 'delivered';
CREATE TABLE IF NOT EXISTS pending (
    run_id TEXT NOT NULL,
    url TEXT NOT NULL,
    article_id TEXT,
    content_hash TEXT,
    written INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, url)
);
CREATE INDEX IF NOT EXISTS pending_article_id ON pending(run_id, article_id);
CREATE INDEX IF NOT EXISTS pending_content_hash ON pending(run_id, content_hash);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    items INTEGER,
    delivered_at TEXT,
    metrics TEXT
);
CREATE TABLE IF NOT EXISTS withdrawals (
    run_id TEXT NOT NULL,
    url TEXT NOT NULL,
    article_id TEXT,
    status INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, url)
);
CREATE TABLE IF NOT EXISTS sections (
    section TEXT PRIMARY KEY,
    paged_to_end INTEGER NOT NULL,
    run_id TEXT NOT NULL
);
"""

# Columns of ``stories`` (and ``pending``, which feeds it) for revisits, added to
# databases made before them. Times are Unix seconds; ``published_at`` is never
# later than the fetch, so a page dated in the future is not revisited for years.
_REVISIT_COLUMNS = {
    "version": "INTEGER NOT NULL DEFAULT 1",
    "revision": "TEXT",
    "published_at": "INTEGER",
    "fetched_at": "INTEGER",
    # The page's validators as last fetched, for a conditional revisit.
    "etag": "TEXT",
    "last_modified": "TEXT",
}
# Columns of ``stories`` for the give-up rule (Unix seconds): how many complete runs
# the story's page failed in, since when, and when it was given up.
_GIVE_UP_COLUMNS = {
    "failed_runs": "INTEGER NOT NULL DEFAULT 0",
    "first_failed_at": "INTEGER",
    "given_up_at": "INTEGER",
}
# Columns of ``stories`` for take-downs: a delivered story a revisit found gone (404,
# 410), by which run and when; when a later run confirmed it and reported it withdrawn.
_WITHDRAWAL_COLUMNS = {
    "gone_status": "INTEGER",
    "gone_at": "INTEGER",
    "gone_run": "TEXT",
    "withdrawn_at": "INTEGER",
}
_STORY_INDEXES = """
CREATE INDEX IF NOT EXISTS stories_published_at ON stories(published_at)
    WHERE outcome = 'delivered';
"""

# A revisit is due once the story has aged, since it was last fetched, by as much
# as its age then (revisits at about 2, 4, 8, 16, 32 hours of age), and never sooner
# than this: a correction comes early or not at all, and each revisit costs a
# request of every scheduled run.
REVISIT_MIN_INTERVAL_S = 2 * 3600

# Per-item writes (claims, written marks, outcomes, near-duplicate fingerprints)
# share one transaction, committed every BATCH_WRITES writes or BATCH_SECONDS: a
# commit each was about a fifth of the duplicate stage's cost. None of them has to
# outlive a crash: a dead run's pending rows are discarded anyway (its stories are
# delivered again), and an outcome lost with them only means a page fetched again.
# Deliveries (``mark_delivered``) are their own transaction, after the batch.
BATCH_WRITES = 200
BATCH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Match:
    """A story an item copies: which key matched, and the story it matched."""

    kind: str  # "url", "id" or "content"
    url: str


@dataclass(frozen=True, slots=True)
class RecoveredStory:
    """A story read back from the files of a run killed after its manifest."""

    url: str
    article_id: str | None
    content_hash: str | None
    version: int = 1
    revision: str | None = None
    published_at: int | None = None
    fetched_at: int | None = None


@dataclass(frozen=True, slots=True)
class GivenUp:
    """A story given up (or about to be): its page failed in ``failed_runs`` complete
    runs since ``first_failed_at``; ``outcome`` and ``detail`` say how, last time."""

    url: str
    outcome: str
    detail: str | None
    failed_runs: int
    first_failed_at: int
    given_up_at: int | None = None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A delivered story taken down: gone (HTTP ``status``) on two revisits of two
    runs, the last at ``seen_at`` (Unix seconds)."""

    article_id: str | None
    url: str
    status: int
    seen_at: int


@dataclass(frozen=True, slots=True)
class Delivered:
    """What is known of a delivered story's latest version."""

    version: int
    revision: str | None  # None: delivered before revisions were recorded
    withdrawn: bool = False  # reported withdrawn: a page seen again is delivered again


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _not_after(published_at: int | None, fetched_at: int | None) -> int | None:
    """The publication time, or the fetch time if the page claims a later one."""
    if published_at is None or fetched_at is None:
        return published_at
    return min(published_at, fetched_at)


def describe_error(exc: sqlite3.Error) -> str:
    """SQLite's message, with the likely cause where SQLite names none."""
    message = str(exc)
    if "disk i/o error" in message.lower() or "database or disk is full" in message.lower():
        message += " (perhaps the disk is full or a file size limit was reached)"
    return message


# Each key looked up among this run's claims, then among delivered stories (an
# indexed probe each: ``article_id = NULL`` matches nothing).
_COPY_KEYS = (("url", "url", 2), ("id", "article_id", 3), ("content", "content_hash", 4))
_FIND_COPY = (
    " UNION ALL ".join(
        f"SELECT * FROM (SELECT '{kind}', url FROM {table}"
        f" WHERE {test} AND {column} = ?{n} LIMIT 1)"
        for kind, column, n in _COPY_KEYS
        for table, test in (("pending", "run_id = ?1"), ("stories", "outcome = 'delivered'"))
    )
    + " LIMIT 1"
)


class StateStore:
    def __init__(self, state_dir: Path | str, run_id: str) -> None:
        self.path = Path(state_dir) / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a killed process loses no commit; a power cut may
        # lose the last ones but never corrupts the file, and deliveries are
        # recovered from the manifests on disk.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)
        self._add_columns()
        self.near = NearDuplicateIndex(self.db)
        self._batch_writes = 0
        self._batch_started = 0.0

    def _batched(self) -> None:
        """Join the batch of per-item writes (``BATCH_WRITES``), committing it first
        when it is full or old."""
        if self.db.in_transaction:
            age = time.monotonic() - self._batch_started
            if self._batch_writes < BATCH_WRITES and age < BATCH_SECONDS:
                self._batch_writes += 1
                return
            self.flush()
        self.db.execute("BEGIN")
        self._batch_started = time.monotonic()
        self._batch_writes = 1

    def flush(self) -> None:
        """Commit the batch of per-item writes, if one is open."""
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: the connection is in autocommit mode, where ``with db:``
        alone would not open a transaction. The open batch is committed first."""
        self.flush()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _add_columns(self) -> None:
        for table, columns in (
            ("stories", {**_REVISIT_COLUMNS, **_GIVE_UP_COLUMNS, **_WITHDRAWAL_COLUMNS}),
            ("pending", _REVISIT_COLUMNS),
        ):
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self.db.executescript(_STORY_INDEXES)

    def start_run(self) -> int:
        """Register this run; drop what dead runs left pending. Returns how many
        pending stories of dead runs were discarded (they will be delivered again)."""
        with self._transaction():
            stale = self.db.execute(
                "DELETE FROM pending WHERE run_id != ?", (self.run_id,)
            ).rowcount
            self.db.execute("DELETE FROM withdrawals WHERE run_id != ?", (self.run_id,))
            self.near.discard_other_runs(self.run_id)
            self.db.execute(
                "UPDATE runs SET status = 'crashed' WHERE status = 'running' AND run_id != ?",
                (self.run_id,),
            )
            self.db.execute(
                "INSERT INTO runs (run_id, started_at, status) VALUES (?, ?, 'running')",
                (self.run_id, _now()),
            )
        return stale

    # -- navigation -----------------------------------------------------------

    def outcome(self, url: str) -> str | None:
        """The outcome an earlier run recorded for ``url``, or None if unknown."""
        row = self.db.execute("SELECT outcome FROM stories WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def settled(self, url: str) -> bool:
        """Whether ``url`` is not to be fetched again: a final outcome, or given up."""
        row = self.db.execute(
            "SELECT outcome, given_up_at FROM stories WHERE url = ?", (url,)
        ).fetchone()
        return bool(row) and (row[0] in FINAL_OUTCOMES or row[1] is not None)

    # -- duplicates -----------------------------------------------------------

    def find_copy(self, url: str, article_id: str | None, content_hash: str) -> Match | None:
        """The story, delivered earlier or claimed in this run, that this item copies
        (by URL first, then id, then content). One statement: its parts run in order
        and it stops at the first row (six statements cost three times as much)."""
        row = self.db.execute(_FIND_COPY, (self.run_id, url, article_id, content_hash)).fetchone()
        return Match(*row) if row else None

    def claim(
        self,
        url: str,
        article_id: str | None,
        content_hash: str,
        *,
        version: int = 1,
        revision: str | None = None,
        published_at: int | None = None,
        fetched_at: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Reserve the story for this run, so later copies in the run match it."""
        self._batched()
        self.db.execute(
            "INSERT INTO pending (run_id, url, article_id, content_hash, version, revision,"
            " published_at, fetched_at, etag, last_modified)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *(self.run_id, url, article_id, content_hash),
                *(version, revision, _not_after(published_at, fetched_at), fetched_at),
                *(etag, last_modified),
            ),
        )

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified the delivered story's page last came with."""
        row = self.db.execute(
            "SELECT etag, last_modified FROM stories WHERE url = ? AND outcome = 'delivered'",
            (url,),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    # -- revisits -------------------------------------------------------------

    def delivered(self, url: str) -> Delivered | None:
        """The latest delivered version of ``url``, if any."""
        row = self.db.execute(
            "SELECT version, revision, withdrawn_at IS NOT NULL FROM stories"
            " WHERE url = ? AND outcome = 'delivered'",
            (url,),
        ).fetchone()
        return Delivered(row[0], row[1], bool(row[2])) if row else None

    def due_revisits(self, now: int, window_s: int) -> list[str]:
        """Delivered stories published less than ``window_s`` seconds before ``now``
        whose next revisit is due (``REVISIT_MIN_INTERVAL_S``), newest first. Reads
        only the recent stories (indexed), however large the archive."""
        rows = self.db.execute(
            "SELECT url FROM stories WHERE outcome = 'delivered'"
            " AND published_at > ? AND fetched_at <= ? - max(?, fetched_at - published_at)"
            " ORDER BY published_at DESC",
            (now - window_s, now, REVISIT_MIN_INTERVAL_S),
        )
        return [url for (url,) in rows]

    def revisited(self, url: str, fetched_at: int, revision: str | None = None) -> None:
        """A revisit found the delivered story unchanged, or gone (no ``revision``):
        the next is due later (and a story delivered before revisions were recorded
        has one now)."""
        self._batched()
        self.db.execute(
            "UPDATE stories SET fetched_at = ?, revision = coalesce(revision, ?),"
            " gone_status = CASE WHEN ? IS NULL THEN gone_status END,"
            " gone_at = CASE WHEN ? IS NULL THEN gone_at END,"
            " gone_run = CASE WHEN ? IS NULL THEN gone_run END"
            " WHERE url = ? AND outcome = 'delivered'",
            (fetched_at, revision, revision, revision, revision, url),
        )

    def gone(self, url: str, status: int, now: int) -> bool:
        """A revisit found the delivered story gone (``status`` 404 or 410). The first
        time, it is only noted (one bad answer is not a take-down); seen gone again by
        a later run, it is withdrawn in this run's manifest (``withdrawals``), and
        marked so once the run delivers. Returns whether this run withdraws it."""
        self._batched()
        row = self.db.execute(
            "SELECT gone_run, withdrawn_at, article_id FROM stories"
            " WHERE url = ? AND outcome = 'delivered'",
            (url,),
        ).fetchone()
        if row is None or row[1] is not None:
            self.revisited(url, now)
            return False
        if row[0] is None or row[0] == self.run_id:
            self.db.execute(
                "UPDATE stories SET gone_status = ?, gone_at = ?, gone_run = ?, fetched_at = ?"
                " WHERE url = ?",
                (status, now, self.run_id, now, url),
            )
            return False
        self.db.execute(
            "INSERT OR REPLACE INTO withdrawals (run_id, url, article_id, status, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.run_id, url, row[2], status, now),
        )
        self.db.execute("UPDATE stories SET fetched_at = ? WHERE url = ?", (now, url))
        return True

    def withdrawals(self) -> list[Withdrawal]:
        """The stories this run withdraws (``gone``), for its manifest."""
        rows = self.db.execute(
            "SELECT article_id, url, status, seen_at FROM withdrawals WHERE run_id = ?"
            " ORDER BY url",
            (self.run_id,),
        )
        return [Withdrawal(*row) for row in rows]

    def mark_written(self, url: str) -> None:
        self._batched()
        self.db.execute(
            "UPDATE pending SET written = 1 WHERE run_id = ? AND url = ?", (self.run_id, url)
        )

    # -- outcomes -------------------------------------------------------------

    def record(
        self,
        url: str,
        outcome: str,
        *,
        article_id: str | None = None,
        content_hash: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record a story this run will not deliver (a copy, a spam page, an invalid,
        missing or failed page). A delivered story is never overwritten by a later
        outcome. Whether a failure counts towards giving the story up is decided when
        the run ends (``give_up_due``, ``count_failures``)."""
        self._batched()
        self.db.execute(
            """INSERT INTO stories (url, article_id, content_hash, outcome, detail, run_id,
                                    recorded_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(url) DO UPDATE SET
                   outcome = excluded.outcome, detail = excluded.detail,
                   run_id = excluded.run_id, recorded_at = excluded.recorded_at
               WHERE stories.outcome != 'delivered'""",
            (url, article_id, content_hash, outcome, detail, self.run_id, _now()),
        )

    # -- giving up ------------------------------------------------------------

    def give_up_due(self, now: int, span_s: int) -> list[GivenUp]:
        """The stories whose page failed in this run and that this run's completion
        gives up: failed in at least ``GIVE_UP_MIN_RUNS`` complete runs (this one
        included) over at least ``span_s`` seconds. Nothing is changed here:
        ``count_failures`` does it, once the run's manifest is written."""
        rows = self.db.execute(
            f"""SELECT url, outcome, detail, failed_runs + 1, coalesce(first_failed_at, ?)
                FROM stories WHERE run_id = ? AND given_up_at IS NULL
                AND outcome IN {PAGE_FAULT_OUTCOMES!r}
                AND failed_runs + 1 >= ? AND ? - coalesce(first_failed_at, ?) >= ?
                ORDER BY url""",
            (now, self.run_id, GIVE_UP_MIN_RUNS, now, now, span_s),
        )
        return [GivenUp(*row) for row in rows]

    def count_failures(self, now: int, given_up: Iterable[GivenUp]) -> None:
        """A complete run's page failures count towards giving their stories up; the
        stories ``give_up_due`` named are given up."""
        with self._transaction():
            self.db.execute(
                f"""UPDATE stories SET failed_runs = failed_runs + 1,
                        first_failed_at = coalesce(first_failed_at, ?)
                    WHERE run_id = ? AND given_up_at IS NULL
                    AND outcome IN {PAGE_FAULT_OUTCOMES!r}""",
                (now, self.run_id),
            )
            self.db.executemany(
                "UPDATE stories SET given_up_at = ? WHERE url = ?",
                ((now, story.url) for story in given_up),
            )

    def given_up(self) -> list[GivenUp]:
        """Every story given up, most recently given up first."""
        rows = self.db.execute(
            """SELECT url, outcome, detail, failed_runs, first_failed_at, given_up_at
               FROM stories WHERE given_up_at IS NOT NULL
               ORDER BY given_up_at DESC, url"""
        )
        return [GivenUp(*row) for row in rows]

    def retry_given_up(self, urls: Iterable[str] | None = None) -> int:
        """Undo giving up ``urls`` (all when None): they are fetched again when a
        listing leads to them, their count of failures starting over. Every section
        is paged to its end by the next run, where the stories may lie deep.
        Returns how many stories were taken back."""
        with self._transaction():
            reset = (
                "UPDATE stories SET given_up_at = NULL, failed_runs = 0,"
                " first_failed_at = NULL WHERE given_up_at IS NOT NULL"
            )
            if urls is None:
                count = self.db.execute(reset).rowcount
            else:
                count = sum(
                    self.db.execute(reset + " AND url = ?", (url,)).rowcount for url in urls
                )
            if count:
                self.db.execute("UPDATE sections SET paged_to_end = 0")
        return count

    def mark_delivered(self) -> int:
        """Mark this run's written stories delivered. Call only once the files that
        hold them and the run's complete manifest are in place. Returns how many."""
        with self._transaction():
            delivered = self.db.execute(
                """INSERT INTO stories (url, article_id, content_hash, outcome, run_id,
                                        recorded_at, version, revision, published_at,
                                        fetched_at, etag, last_modified)
                   SELECT url, article_id, content_hash, 'delivered', run_id, ?, version,
                          revision, published_at, fetched_at, etag, last_modified
                   FROM pending WHERE run_id = ? AND written = 1
                   ON CONFLICT(url) DO UPDATE SET
                       article_id = excluded.article_id, content_hash = excluded.content_hash,
                       outcome = 'delivered', detail = NULL, run_id = excluded.run_id,
                       recorded_at = excluded.recorded_at, version = excluded.version,
                       revision = excluded.revision, published_at = excluded.published_at,
                       fetched_at = excluded.fetched_at, etag = excluded.etag,
                       last_modified = excluded.last_modified""",
                (_now(), self.run_id),
            ).rowcount
            self.near.promote(self.run_id)  # reads the stories just marked delivered
            self.db.execute(
                "UPDATE stories SET withdrawn_at = NULL, gone_status = NULL, gone_at = NULL,"
                " gone_run = NULL WHERE url IN (SELECT url FROM pending WHERE run_id = ?"
                " AND written = 1)",
                (self.run_id,),
            )
            self.db.execute(
                "UPDATE stories SET withdrawn_at = w.seen_at FROM withdrawals AS w"
                " WHERE w.run_id = ? AND stories.url = w.url",
                (self.run_id,),
            )
            self.db.execute("DELETE FROM withdrawals WHERE run_id = ?", (self.run_id,))
            self.db.execute("DELETE FROM pending WHERE run_id = ?", (self.run_id,))
            self.db.execute(
                "UPDATE runs SET delivered_at = ? WHERE run_id = ?", (_now(), self.run_id)
            )
        return delivered

    def unsettled_runs(self) -> set[str]:
        """Runs this state started that neither delivered nor failed: killed, perhaps
        after writing their manifest (``newscrawl.run`` recovers them from it)."""
        rows = self.db.execute(
            "SELECT run_id FROM runs WHERE delivered_at IS NULL AND status != 'failed'"
            " AND run_id != ?",
            (self.run_id,),
        )
        return {run_id for (run_id,) in rows}

    def recover_delivered_run(
        self,
        run_id: str,
        stories: Iterable[RecoveredStory],
        withdrawn: Iterable[tuple[str, int]] = (),
    ) -> int:
        """Record as delivered the stories of a run that wrote its complete manifest
        but was killed before recording them, and the stories it withdrew (URL and
        when, Unix seconds)."""
        now = _now()
        with self._transaction():
            count = self.db.executemany(
                """INSERT INTO stories (url, article_id, content_hash, outcome, run_id,
                                        recorded_at, version, revision, published_at,
                                        fetched_at)
                   VALUES (?, ?, ?, 'delivered', ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(url) DO UPDATE SET
                       article_id = excluded.article_id, content_hash = excluded.content_hash,
                       outcome = 'delivered', detail = NULL, run_id = excluded.run_id,
                       version = excluded.version, revision = excluded.revision,
                       published_at = excluded.published_at, fetched_at = excluded.fetched_at""",
                (
                    (
                        *(s.url, s.article_id, s.content_hash, run_id, now),
                        *(s.version, s.revision, _not_after(s.published_at, s.fetched_at)),
                        s.fetched_at,
                    )
                    for s in stories
                ),
            ).rowcount
            self.near.promote(run_id)  # else the next start_run discards them
            self.db.executemany(
                "UPDATE stories SET withdrawn_at = ? WHERE url = ? AND outcome = 'delivered'",
                ((seen_at, url) for url, seen_at in withdrawn),
            )
            self.db.execute(
                """INSERT INTO runs (run_id, started_at, status, delivered_at)
                   VALUES (?, ?, 'recovered', ?)
                   ON CONFLICT(run_id) DO UPDATE SET status = 'recovered',
                       delivered_at = excluded.delivered_at""",
                (run_id, now, now),
            )
        return count

    # -- run history ----------------------------------------------------------

    def end_run(self, status: str, reason: str | None, items: int, metrics: dict) -> None:
        """Close the run's record. Stories still pending (the run failed before its
        files were delivered) are discarded: the next run delivers them."""
        with self._transaction():
            self.db.execute("DELETE FROM pending WHERE run_id = ?", (self.run_id,))
            self.db.execute("DELETE FROM withdrawals WHERE run_id = ?", (self.run_id,))
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, reason = ?, items = ?, metrics = ?"
                " WHERE run_id = ?",
                (_now(), status, reason, items, json.dumps(metrics), self.run_id),
            )

    def recent_metrics(self, limit: int) -> list[dict]:
        """Metrics of the last ``limit`` complete runs, newest first."""
        rows = self.db.execute(
            "SELECT metrics FROM runs WHERE status = 'complete' AND metrics IS NOT NULL"
            " AND run_id != ? ORDER BY started_at DESC LIMIT ?",
            (self.run_id, limit),
        )
        return [json.loads(m) for (m,) in rows]

    def paged_to_end(self, section: str) -> bool:
        """Whether the last run that crawled ``section`` paged it to its end. A new
        section counts as paged: it has no known ground yet."""
        row = self.db.execute(
            "SELECT paged_to_end FROM sections WHERE section = ?", (section,)
        ).fetchone()
        return bool(row[0]) if row else True

    def set_paged_to_end(self, section: str, done: bool) -> None:
        self.db.execute(
            """INSERT INTO sections (section, paged_to_end, run_id) VALUES (?, ?, ?)
               ON CONFLICT(section) DO UPDATE SET
                   paged_to_end = excluded.paged_to_end, run_id = excluded.run_id""",
            (section, int(done), self.run_id),
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()


class NoState:
    """Known ground outside a scheduled run (``scrapy parse``, ``shell``, ``check``):
    nothing is known, and nothing is kept, so those tools leave the state as it was."""

    def outcome(self, url: str) -> str | None:
        return None

    def settled(self, url: str) -> bool:
        return False

    def paged_to_end(self, section: str) -> bool:
        return True

    def set_paged_to_end(self, section: str, done: bool) -> None:
        pass

    def due_revisits(self, now: int, window_s: int) -> list[str]:
        return []

    def record(self, url: str, outcome: str, **details: str | None) -> None:
        pass

    def revisited(self, url: str, fetched_at: int, revision: str | None = None) -> None:
        pass

    def gone(self, url: str, status: int, now: int) -> bool:
        return False

    def validators(self, url: str) -> tuple[str | None, str | None]:
        return (None, None)


NO_STATE = NoState()
