"""Reading what newscrawl delivered: the complete manifests of an output folder, in
run order, and their stories, each file checked against its ``sha256`` first.

A run writes its files, then ``<run id>.manifest.json`` naming them (README,
"Output"). Read only what complete manifests name and every story arrives exactly
once; a correction arrives again with the same ``article_id`` and a higher
``version``, and a story taken down is listed in its run's ``withdrawn``.

    from newscrawl.consume import complete_manifests

    for manifest in complete_manifests("/data/ecns/out", after=last_run_id):
        for story in manifest.stories():  # every file's sha256 checked first
            ...
        for gone in manifest.withdrawn:
            ...
        last_run_id = manifest.run_id  # keep it: the next read starts after it

- Manifests are found anywhere below the output folder (flat, or in dated
  folders such as ``2026/11/26/``); a file's ``path`` is relative to its
  manifest's folder.
- Run order is the order the runs started in (``started_at``, then ``run_id``).
  Runs of one output folder never overlap: each holds the folder's lock.
- ``Manifest.stories()`` checks the sha256 of every file of the manifest before it
  yields anything, then streams the files a line at a time (memory stays flat
  however large the output), hashing what it reads: a file changed between the
  check and the read raises ``OutputDamaged`` at that file's end.
- Nothing here writes: reading while a crawl runs is safe (its manifest appears
  whole, by a rename, after its files).

The standard library only: a consumer needs nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST_SUFFIX = ".manifest.json"
# The run id at the start of a run's file names: spider, start second (UTC), suffix.
RUN_ID_RE = re.compile(r"^(?P<spider>[a-z0-9_]+)-(?P<start>\d{8}T\d{6}Z)-[0-9a-f]{4}$")


class OutputDamaged(Exception):
    """A manifest or a file it names is missing, unreadable, or not what the
    manifest says (its sha256, its line count). The message is one line and names
    the file; ``path`` is that file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One JSON Lines file a manifest names."""

    path: Path  # the manifest's folder joined with the manifest's relative path
    items: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A delivered story the crawler found taken down (its page answered ``status``)."""

    article_id: str
    url: str
    status: int | str
    seen_at: datetime  # aware


@dataclass(frozen=True)
class Manifest:
    """A run's manifest: what the run delivered, as written (``data``), with the
    fields a consumer needs read out."""

    path: Path
    data: dict[str, Any]
    run_id: str
    status: str
    started_at: datetime
    items: int
    files: tuple[OutputFile, ...]
    withdrawn: tuple[Withdrawal, ...]

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def order(self) -> tuple[datetime, str]:
        """Run order: when the run started, then its id."""
        return (self.started_at, self.run_id)

    def verify(self) -> None:
        """Check every file's sha256; raise ``OutputDamaged`` naming the first that
        is missing or differs."""
        for f in self.files:
            try:
                found = _sha256(f.path)
            except OSError as exc:
                raise OutputDamaged(f.path, f"cannot be read ({_reason(exc)})") from None
            if found != f.sha256:
                raise OutputDamaged(
                    f.path,
                    f"sha256 {found} differs from {f.sha256} in {self.path.name}",
                )

    def stories(self, *, verify: bool = True) -> Iterator[dict[str, Any]]:
        """The stories of the manifest's files, in order, one JSON object a line.

        With ``verify`` (the default) every file is checked before the first story
        is yielded (``verify=False`` if you called ``verify()`` just before). The
        lines are hashed as they are read; a file whose bytes differ from its
        sha256 by then, or whose line count differs from its manifest's, raises
        ``OutputDamaged`` after its last line."""
        if verify:
            self.verify()
        for f in self.files:
            yield from _read_file(f, self.path.name)


def find_manifests(output_dir: str | os.PathLike[str]) -> list[Path]:
    """Every ``*.manifest.json`` below ``output_dir`` (any depth, any status),
    sorted by path. A missing folder has none."""
    found = []
    for folder, dirs, names in os.walk(output_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, n) for n in names if n.endswith(MANIFEST_SUFFIX)]
    return sorted(found)


def run_id_of(path: Path) -> str:
    """The run id a manifest's file name carries."""
    return path.name.removesuffix(MANIFEST_SUFFIX)


def read_manifest(path: Path) -> Manifest:
    """A manifest read and checked; ``OutputDamaged`` if it is not one."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise OutputDamaged(path, f"cannot be read ({_reason(exc)})") from None
    except ValueError as exc:
        raise OutputDamaged(path, f"is not JSON ({exc})") from None
    try:
        return _parse(path, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise OutputDamaged(path, f"is not a newscrawl manifest ({_what(exc)})") from None


def complete_manifests(
    output_dir: str | os.PathLike[str],
    *,
    after: str | None = None,
    skip: Container[str] = (),
) -> Iterator[Manifest]:
    """The complete manifests below ``output_dir``, in run order.

    ``after``: only runs that started after that run (a consumer's cursor: the
    last run it loaded). When that run's manifest is gone (pruned), runs started
    in later seconds than its id's time follow it. ``skip``: run ids to leave out
    (a store's applied runs); their manifests are not even read.

    The manifests are read and ordered first (they are small), then yielded; their
    files are read only through ``Manifest.stories()``.
    """
    cursor: tuple[datetime, str] | None = None
    chosen = []
    for path in find_manifests(output_dir):
        run_id = run_id_of(path)
        if run_id == after:
            cursor = read_manifest(path).order
            continue
        if run_id in skip:
            continue
        manifest = read_manifest(path)
        if manifest.complete:
            chosen.append(manifest)
    if after is not None and cursor is None:
        cursor = _id_order(after)
    chosen.sort(key=lambda m: m.order)
    for manifest in chosen:
        if cursor is None or manifest.order > cursor:
            yield manifest


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time with its offset (as the crawler writes them), aware."""
    if not isinstance(value, str):
        raise TypeError(f"a time must be an ISO 8601 string, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"a time must carry its offset, got {value!r}")
    return parsed


# -- internals --------------------------------------------------------------------


def _parse(path: Path, data: Any) -> Manifest:
    if not isinstance(data, dict):
        raise TypeError("not an object")
    run_id = data["run_id"]
    status = data["status"]
    if not isinstance(run_id, str) or not isinstance(status, str):
        raise TypeError("run_id and status must be strings")
    files = []
    for entry in data["files"]:
        rel = entry["path"]
        if not isinstance(rel, str) or os.path.isabs(rel):
            raise ValueError(f"file path {rel!r} is not relative to the manifest")
        files.append(OutputFile(path.parent / rel, int(entry["items"]), str(entry["sha256"])))
    withdrawn = tuple(
        Withdrawal(str(w["article_id"]), str(w["url"]), w["status"], parse_time(w["seen_at"]))
        for w in data.get("withdrawn") or ()
    )
    return Manifest(
        path=path,
        data=data,
        run_id=run_id,
        status=status,
        started_at=parse_time(data["started_at"]),
        items=int(data.get("items", 0)),
        files=tuple(files),
        withdrawn=withdrawn,
    )


def _id_order(run_id: str) -> tuple[datetime, str]:
    """Where a run whose manifest is gone stands in run order: the second its id
    names (its manifest's ``started_at`` lies within that second)."""
    m = RUN_ID_RE.match(run_id)
    if m is None:
        raise ValueError(f"not a run id: {run_id!r}")
    start = datetime.strptime(m["start"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return (start, "")


def _read_file(f: OutputFile, manifest_name: str) -> Iterator[dict[str, Any]]:
    digest = hashlib.sha256()
    lines = 0
    try:
        handle = f.path.open("rb")
    except OSError as exc:
        raise OutputDamaged(f.path, f"cannot be read ({_reason(exc)})") from None
    with handle:
        for line in handle:
            digest.update(line)
            lines += 1
            try:
                story = json.loads(line)
            except ValueError as exc:
                raise OutputDamaged(f.path, f"line {lines} is not JSON ({exc})") from None
            yield story
    if digest.hexdigest() != f.sha256:
        raise OutputDamaged(f.path, f"changed while it was read (sha256 in {manifest_name})")
    if lines != f.items:
        raise OutputDamaged(f.path, f"has {lines} lines, {manifest_name} says {f.items}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _what(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    return str(exc)
