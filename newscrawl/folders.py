"""The folders a run writes: their locks, a check that they are usable before
anything starts, and files written whole or not at all.

A run locks its state folder and its output folder (``acquire_lock``): a second
run, or ``scrapy giveup`` while a run goes on, stops at once and touches nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from newscrawl.state import StateStore, describe_error
from newscrawl.verdict import ExitCode

PART_SUFFIX = ".part"
LOCK_NAME = "run.lock"  # in the state folder
OUTPUT_LOCK_NAME = ".newscrawl.lock"  # in the output folder
PROBE_PREFIX = ".newscrawl-probe-"

# Locks this process holds, by folder: the crawl command takes the lock before
# Scrapy starts, and the run it starts takes it again without blocking itself.
_held_locks: dict[Path, IO[str]] = {}


class FolderLocked(RuntimeError):
    """Another process holds the folder: a run, or a command that changes the state."""


class SetupFailed(RuntimeError):
    """The run cannot start: its output folder or its state is unusable."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def preflight(output_dir: Path, state_dir: Path) -> None:
    """Check, before any crawling, that the output folder takes files and that the
    state database opens; raise ``SetupFailed`` with a clear message otherwise.
    A state that cannot be read is never reset: the operator decides."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / f"{PROBE_PREFIX}{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise SetupFailed(
            ExitCode.OUTPUT_FAILED, f"cannot write to the output folder {output_dir}: {exc}"
        ) from None
    try:
        store = StateStore(state_dir, "preflight")
        try:
            # Another program's transaction would stop this run's first write.
            store.db.execute("BEGIN IMMEDIATE")
            store.db.execute("ROLLBACK")
        finally:
            store.close()
    except sqlite3.Error as exc:
        raise SetupFailed(
            ExitCode.STATE_FAILED,
            f"cannot use the state database in {state_dir} ({describe_error(exc)});"
            " it is left as it is:"
            " stop the program that locks it, or restore it, or delete the folder to"
            " start over (every story is then delivered again)",
        ) from None


def acquire_lock(folder: Path, name: str = LOCK_NAME) -> None:
    """Hold an exclusive lock on ``folder`` (its file ``name``) until
    ``release_lock``: a run locks its state folder and its output folder, so two
    runs never share either (two states writing one output folder would set each
    other's live files aside)."""
    folder = folder.resolve()
    if folder in _held_locks:
        return
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / name, "a+", encoding="utf-8")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise FolderLocked(
            f"another run ({holder}) is using {folder}; this run stops without touching it"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
    handle.flush()
    _held_locks[folder] = handle


def release_lock(folder: Path) -> None:
    handle = _held_locks.pop(folder.resolve(), None)
    if handle is not None:
        handle.close()  # closing the file releases the flock


def write_atomically(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` whole or does not exist: write, fsync, rename, fsync dir."""
    part = path.with_name(path.name + PART_SUFFIX)
    with open(part, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
