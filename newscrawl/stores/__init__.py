"""Stores a crawl's output is loaded into: SQLite (``sqlite:///stories.sqlite3``)
and PostgreSQL (``postgresql://user@host/db``), with the same tables
(docs/STORES.md).

``ingest(output_dir, store_url)`` applies the complete manifests the store has not
applied yet, in run order, each in one transaction together with the store's
record that it was applied (``ingested_runs``): an ingest killed at any moment and
run again leaves the store as one uninterrupted ingest does, and a second ingest
changes nothing. Every file of a manifest is checked against its sha256 before
anything of it is applied; a damaged file stops the ingest (``OutputDamaged``),
with nothing of that manifest or any later one applied.

A story is kept at its highest ``version``: a manifest applied late never brings
an older version back. A story is withdrawn (``withdrawn_at``) when a run saw it
taken down after the version the store holds was fetched; a higher version
fetched later makes it live again. Every time in the store comes from the output
(when the crawler fetched a page or saw it gone), so the store is a function of
the manifests applied and their order.

``scrapy ingest`` (``newscrawl/commands/ingest.py``) is the command; the crawl
calls ``ingest`` after its manifest with ``NEWSCRAWL_STORE_URL`` set.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from queue import Full, Queue
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from newscrawl.consume import (
    Manifest,
    OutputDamaged,
    Withdrawal,
    complete_manifests,
    parse_time,
)

__all__ = [
    "STORE_FAILED_EXIT",
    "AppliedRun",
    "BadStoreURL",
    "IngestResult",
    "OutputDamaged",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "check_store_url",
    "ingest",
    "open_store",
    "redact",
]

T = TypeVar("T")

# The exit code of `scrapy ingest` and `scrapy prune` when the store is unreachable
# or refused a write (their other codes are newscrawl.verdict.ExitCode's).
STORE_FAILED_EXIT = 9
# The tables' layout, kept in the store's ``store_meta``: a store made by a newer
# layout is refused rather than written wrong.
LAYOUT_VERSION = 1
# Stories sent to the database at a time: memory stays flat, round trips few.
BATCH = 500
# The item's fields, each a column of ``stories``.
STORY_FIELDS = (
    "article_id",
    "url",
    "section",
    "title",
    "published",
    "published_raw",
    "source",
    "editor",
    "body",
    "images",
    "crawled_at",
    "content_hash",
    "spam_removed",
    "version",
)
# A story as the ingest hands it to a store: the item's fields, then the run.
ROW_COLUMNS = (*STORY_FIELDS, "run_id")


class StoreError(Exception):
    """The store failed: what was being applied is rolled back, the manifest stays
    pending and the next ingest applies it."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or opened (a server down, a missing folder, a
    database locked by another program)."""


class BadStoreURL(ValueError):
    """A store URL newscrawl cannot use (an unknown scheme, a driver not installed)."""


@dataclass(frozen=True, slots=True)
class AppliedRun:
    run_id: str
    stories: int  # stories the manifest delivered
    changed: int  # of them, the stories the store took (new, or a higher version)
    withdrawals: int  # withdrawals the manifest listed


@dataclass
class IngestResult:
    store: str  # the store's URL, password hidden
    runs: list[AppliedRun] = field(default_factory=list)

    @property
    def stories(self) -> int:
        return sum(r.stories for r in self.runs)

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.runs)

    @property
    def withdrawals(self) -> int:
        return sum(r.withdrawals for r in self.runs)


# done, total: stories applied so far and stories pending when the ingest began.
Progress = Callable[[int, int], None]


class Store(ABC):
    """A database holding the stories; ``open_store`` makes one from a URL. Its
    tables exist once it is open."""

    def __init__(self, url: str) -> None:
        self.url = redact(url)

    @abstractmethod
    def applied_runs(self) -> set[str]:
        """The run ids of the manifests the store has applied."""

    def apply(
        self,
        manifest: Manifest,
        stories: Iterable[dict[str, Any]],
        manifest_name: str,
        progress: Callable[[int], None] | None = None,
    ) -> AppliedRun | None:
        """Apply one manifest in one transaction, with its record in
        ``ingested_runs``; ``None`` if another ingest applied it meanwhile. An error
        from ``stories`` (``OutputDamaged``) or from the database rolls it back."""
        try:
            self._begin()
            if not self._claim(manifest, manifest_name):
                self._rollback()
                return None
            changed = 0
            rows = (story_row(item, manifest) for item in stories)
            # Reading and parsing go on in a thread while the database works.
            with prefetched(batched(rows, BATCH)) as batches:
                for batch in batches:
                    changed += self._upsert(batch)
                    if progress is not None:
                        progress(len(batch))
            withdrawn = [withdrawal_row(w, manifest.run_id) for w in manifest.withdrawn]
            if withdrawn:
                self._withdraw(withdrawn)
            self._finish_claim(manifest.run_id, changed)
            self._commit()
        except BaseException as exc:
            self._abandon()
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc
        return AppliedRun(manifest.run_id, manifest.items, changed, len(withdrawn))

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    # -- what each database does ---------------------------------------------------

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _claim(self, manifest: Manifest, manifest_name: str) -> bool:
        """Record the manifest in ``ingested_runs``; False if it is there already."""

    @abstractmethod
    def _finish_claim(self, run_id: str, changed: int) -> None: ...

    @abstractmethod
    def _upsert(self, rows: list[tuple[Any, ...]]) -> int:
        """Insert or raise the stories (rows of ``ROW_COLUMNS``); how many the
        store took."""

    @abstractmethod
    def _withdraw(self, rows: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    def _abandon(self) -> None:
        """Roll back after a failure, whatever state the connection is in."""
        # The first error is the one to report.
        with contextlib.suppress(Exception):
            self._rollback()

    def _translate(self, exc: BaseException) -> BaseException:
        """The database's own error as a ``StoreError``; anything else as it is."""
        return exc


def open_store(url: str) -> Store:
    """The store a URL names, open, its tables made if new.

    ``sqlite:///relative/path.sqlite3``, ``sqlite:////absolute/path.sqlite3``
    (SQLAlchemy's form: the path follows the third slash), ``postgresql://`` or
    ``postgres://`` (libpq's URI, e.g. ``postgresql://user:pw@host:5432/db``).
    Raises ``BadStoreURL`` or ``StoreUnavailable``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from newscrawl.stores.sqlite import SqliteStore

        return SqliteStore(url, sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        try:
            from newscrawl.stores.postgres import PostgresStore
        except ImportError as exc:
            raise BadStoreURL(
                f"{redact(url)}: PostgreSQL needs psycopg 3 ({exc.name} is not installed):"
                " pip install 'newscrawl[postgres]'"
            ) from None
        return PostgresStore(url)
    raise BadStoreURL(
        f"{redact(url)}: not a store URL (sqlite:///path/stories.sqlite3 or"
        " postgresql://user@host/database)"
    )


def check_store_url(value: Any) -> str | None:
    """For the settings' check: what is wrong with a store URL, or None."""
    if not value:
        return None
    try:
        scheme = urlsplit(str(value)).scheme
        if scheme == "sqlite":
            sqlite_path(str(value))
        elif scheme not in ("postgresql", "postgres"):
            raise BadStoreURL(str(value))
    except ValueError:
        return "must be sqlite:///path/stories.sqlite3 or postgresql://user@host/database"
    return None


def sqlite_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc or len(parts.path) < 2:
        raise BadStoreURL(
            f"{url}: a SQLite store is sqlite:///relative/path or sqlite:////absolute/path"
        )
    return Path(parts.path[1:])


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def ingest(
    output_dir: str | os.PathLike[str],
    store_url: str,
    *,
    progress: Progress | None = None,
    on_applied: Callable[[AppliedRun], None] | None = None,
) -> IngestResult:
    """Apply every complete manifest below ``output_dir`` that the store has not
    applied, in run order, each in one transaction; return what was applied.

    Raises ``StoreUnavailable`` when the store cannot be reached (nothing applied:
    the manifests stay pending and the next ingest applies them), ``StoreError``
    when it fails later (the manifests applied before stay applied),
    ``OutputDamaged`` when a manifest or a file it names is missing or differs from
    its sha256 (nothing of that manifest or any later one applied), ``BadStoreURL``
    for a URL it cannot use. ``progress(done, total)`` follows the stories applied;
    ``on_applied`` hears of each manifest once it is committed."""
    root = Path(output_dir)
    with open_store(store_url) as store:
        result = IngestResult(store.url)
        pending = list(complete_manifests(root, skip=store.applied_runs()))
        total = sum(m.items for m in pending)
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        if progress is not None:
            progress(0, total)
        for manifest in pending:
            manifest.verify()
            name = manifest.path.relative_to(root).as_posix()
            applied = store.apply(manifest, manifest.stories(verify=False), name, advance)
            if applied is not None:
                result.runs.append(applied)
                if on_applied is not None:
                    on_applied(applied)
        return result


# -- rows -------------------------------------------------------------------------


def utc_text(value: Any) -> str:
    """An ISO 8601 time as the store keeps it: UTC, microseconds, ``+00:00``, so
    that times compare as text (SQLite) and read the same in both stores."""
    moment = value if isinstance(value, datetime) else parse_time(value)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def story_row(item: dict[str, Any], manifest: Manifest) -> tuple[Any, ...]:
    """A story as a row of ``ROW_COLUMNS`` (in its order): images as JSON text,
    ``crawled_at`` in UTC."""
    try:
        return (
            item["article_id"],
            item["url"],
            item["section"],
            item["title"],
            item["published"],
            item["published_raw"],
            item["source"],
            item["editor"],
            item["body"],
            json.dumps(item["images"], ensure_ascii=False),
            utc_text(item["crawled_at"]),
            item["content_hash"],
            item["spam_removed"],
            item["version"],
            manifest.run_id,
        )
    except (KeyError, TypeError, ValueError) as exc:
        what = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise OutputDamaged(
            manifest.path, f"names a file holding a story that is not an article ({what})"
        ) from None


def withdrawal_row(w: Withdrawal, run_id: str) -> dict[str, Any]:
    return {
        "article_id": w.article_id,
        "url": w.url,
        "status": str(w.status),
        "seen_at": utc_text(w.seen_at),
        "run_id": run_id,
    }


def batched(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


@contextmanager
def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """``items`` produced by a thread, at most ``depth`` ahead of the consumer (the
    database driver lets go of the GIL while it waits). An exception in the thread
    is raised in the consumer; leaving the block early stops the thread."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
        except BaseException as exc:
            put((False, exc))
            return
        put((False, None))

    def consume() -> Iterator[T]:
        while True:
            ok, value = queue.get()
            if ok:
                yield value
            elif value is None:
                return
            else:
                raise value

    thread = threading.Thread(target=produce, name="newscrawl-ingest-reader", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
