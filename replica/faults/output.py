"""What a consumer of the crawler's output receives, and what is wrong with it.

A consumer reads only the files named in manifests whose status is ``complete``
(README, "Output format"); everything here reads the output folder that way, or
checks that the folder can be read that way: every line valid UTF-8 JSON, data
and never markup, no control, bidi or invisible character in any string, every
complete manifest naming files that exist with their item count and sha256.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replica.faults.pages import SCRIPT_MARKER

TEXT_FIELDS = ("title", "body", "source", "editor", "published_raw")
RUNNABLE_MARKUP_RE = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|svg|img|style|link|meta|frame)\b", re.IGNORECASE
)
# Characters that change how text around them is shown, or show nothing at all, and
# that no field may hold: bidi embeddings, overrides and isolates, the marks, the
# Arabic letter mark, the Hangul filler.
BIDI_AND_INVISIBLE = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u3164"
)


def string_problems(value: Any, where: str) -> list[str]:
    """Control characters (but ``\\n``), lone surrogates, bidi controls and invisible
    characters anywhere in a JSON value."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in string_problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in string_problems(v, f"{where}[{i}]")]
    if not isinstance(value, str):
        return []
    bad = sorted(
        {
            c
            for c in value
            if (unicodedata.category(c) in ("Cc", "Cs") and c != "\n") or c in BIDI_AND_INVISIBLE
        }
    )
    if bad:
        return [f"{where} holds {', '.join(f'U+{ord(c):04X}' for c in bad[:6])}"]
    return []


def read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def complete_manifests(out: Path) -> list[dict[str, Any]]:
    """The complete manifests of the folder, oldest run first."""
    if not out.is_dir():
        return []
    found = (read_manifest(p) for p in sorted(out.glob("*.manifest.json")))
    return [m for m in found if m is not None and m.get("status") == "complete"]


def manifest_items(out: Path, manifest: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The stories the files of one manifest hold, when it is complete."""
    items: list[dict[str, Any]] = []
    if not manifest or manifest.get("status") != "complete":
        return items
    for f in manifest.get("files", []):
        path = out / f["path"]
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue  # reported by output_problems
                if isinstance(item, dict) and isinstance(item.get("url"), str):
                    items.append(item)
    return items


def delivered_items(out: Path) -> list[dict[str, Any]]:
    """What a consumer reading only files named in complete manifests receives."""
    return [item for m in complete_manifests(out) for item in manifest_items(out, m)]


def delivered_paths(out: Path, manifest: Mapping[str, Any] | None) -> set[str]:
    """The URL paths of the stories one manifest delivered."""
    return {urlsplit(item["url"]).path for item in manifest_items(out, manifest)}


def state_delivered(state: Path) -> set[str] | None:
    """URLs the state database holds as delivered; None when it cannot be read."""
    db = state / "newscrawl.sqlite3"
    if not db.is_file():
        return set()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = con.execute("SELECT url FROM stories WHERE outcome = 'delivered'")
            return {url for (url,) in rows}
        finally:
            con.close()
    except sqlite3.Error:
        return None


def output_problems(out: Path, netloc: str, shows_markup_as_text: bool = False) -> list[str]:
    """What is wrong with the output files a consumer could read: every ``*.jsonl``
    must be UTF-8 JSON objects one a line, data and never markup (unless the page
    itself shows markup as text); every complete manifest must name existing files
    with their item count and sha256."""
    problems: list[str] = []
    if not out.is_dir():
        return problems
    for path in sorted(out.glob("*.jsonl")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{path.name}: not UTF-8 ({exc})")
            continue
        if text and not text.endswith("\n"):
            problems.append(f"{path.name}: last line not terminated")
        for n, line in enumerate(text.splitlines(), 1):
            try:
                item = json.loads(line)
            except ValueError as exc:
                problems.append(f"{path.name}:{n}: not JSON ({exc})")
                continue
            if not isinstance(item, dict):
                problems.append(f"{path.name}:{n}: not an object")
                continue
            where = f"{path.name}:{n}"
            problems += string_problems(item, where)
            fields = [item.get(f) for f in TEXT_FIELDS]
            fields += [img.get("caption") for img in item.get("images") or []]
            text_values = [v for v in fields if isinstance(v, str)]
            if not shows_markup_as_text and any(RUNNABLE_MARKUP_RE.search(v) for v in text_values):
                problems.append(f"{where}: markup that runs in a text field")
            if any(SCRIPT_MARKER in v for v in text_values):
                problems.append(f"{where}: a <script> element's code in a text field")
            for img in item.get("images") or []:
                if not str(img.get("url", "")).startswith(("http://", "https://")):
                    problems.append(f"{where}: image URL {str(img.get('url'))[:60]!r}")
            if urlsplit(str(item.get("url", ""))).netloc != netloc:
                problems.append(f"{where}: off-site URL {str(item.get('url'))[:80]}")
    for manifest in complete_manifests(out):
        name = f"{manifest.get('run_id')}.manifest.json"
        for f in manifest["files"]:
            path = out / f["path"]
            if not path.is_file():
                problems.append(f"{name}: names missing {f['path']}")
                continue
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != f["sha256"]:
                problems.append(f"{name}: sha256 of {f['path']} differs")
            if data.count(b"\n") != f["items"]:
                problems.append(f"{name}: item count of {f['path']} differs")
    return problems


# Counters of the run's stats (``newscrawl/…`` in its manifest) that count a page
# not delivered for a fault of its own, by the words their names may hold; none of
# a clean run's counters (articles_parsed, listing_links_skipped, field_present/…)
# matches.
FAILURE_STAT_RE = re.compile(
    r"error|fail|invalid|not_fetched|unfetched|truncat|cut|incomplete|empty|too_large"
    r"|oversize|maxsize|size|cancel|data_?loss|given_up|redirect|loop|offsite"
    r"|undecodable|misdecoded|nested|depth|deep|withheld"
)


def failures_counted(manifest: Mapping[str, Any] | None) -> int:
    """How many page failures a manifest's stats count (see :data:`FAILURE_STAT_RE`)."""
    if not manifest:
        return 0
    stats = manifest.get("stats", {}).get("newscrawl", {})
    return sum(int(v) for k, v in stats.items() if isinstance(v, int) and FAILURE_STAT_RE.search(k))


LOG_LINE_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)? \[[^\]]+\] [A-Z]+: .*$", re.MULTILINE
)


def lines_naming(stderr: str, text: str) -> list[str]:
    """The log lines (the crawls log INFO and above) that name ``text`` (a URL)."""
    return [line for line in LOG_LINE_RE.findall(stderr) if text in line]
