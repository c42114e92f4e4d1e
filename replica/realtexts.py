"""Real article texts to build the replica from, read from a JSON Lines file.

Why: the replica's own text is generated from templates, and a near-duplicate
detector tuned on it may only have learned the templates. Built from real ECNS texts
(one story a text, the same site around them), the replica tests the crawler on
the prose it will meet, including texts the project has never seen.

The format is the one of ``../shared/reference/ecns/politics-2024-articles.jsonl``:
one object a line with ``title`` and ``body`` (paragraphs separated by ``"\\n"``),
and optionally ``listing_date`` (``Dec 13, 2024``, ``Sept 3, 2024`` or
``2024-12-13``) and ``url`` (the story's address on the site, whose path says its
section and, failing the listing date, its day). Such files are never copied into
the project: the command line and the tests read them where they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_LISTING_DATE = re.compile(r"^\s*([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\s*$")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Path prefixes the replica keeps as they are; any other story becomes a politics one.
CNS_WIRE_PREFIXES = ("/news/cns-wire/", "/cns-wire/")


@dataclass(frozen=True)
class RealText:
    title: str
    body: str  # paragraphs separated by "\n"
    listing_date: str | None = None
    url: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n") if p.strip()]

    @property
    def day(self) -> date | None:
        """The day the text was published: its listing date, else the day in its URL."""
        return parse_day(self.listing_date) or parse_day(urlsplit(self.url or "").path)

    @property
    def path_prefix(self) -> str:
        """``/news/cns-wire/`` or ``/cns-wire/`` for Ecns Wire texts, else
        ``/news/politics/``."""
        path = urlsplit(self.url or "").path
        for prefix in CNS_WIRE_PREFIXES:
            if path.startswith(prefix):
                return prefix
        return "/news/politics/"


def parse_day(text: str | None) -> date | None:
    """``Dec 13, 2024``, ``Sept 3, 2024``, or a ``2024-12-13`` anywhere in the text;
    None when neither is there or the date does not exist."""
    if not text:
        return None
    try:
        m = _LISTING_DATE.match(text)
        if m and m.group(1)[:3].lower() in _MONTHS:
            return date(int(m.group(3)), _MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
        m = _ISO_DATE.search(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


def load_texts(path: Path) -> list[RealText]:
    """The file's texts in order. A line without a non-empty title and body is an
    error naming the line (a replica silently built from half a file would measure
    less than it claims)."""
    texts: list[RealText] = []
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: not a JSON object")
            title, body = row.get("title"), row.get("body")
            if not isinstance(title, str) or not title.strip():
                raise ValueError(f"{path}:{number}: no title")
            if not isinstance(body, str) or not body.strip():
                raise ValueError(f"{path}:{number}: no body")
            listing_date, url = row.get("listing_date"), row.get("url")
            texts.append(
                RealText(
                    " ".join(title.split()),
                    body,
                    listing_date if isinstance(listing_date, str) else None,
                    url if isinstance(url, str) else None,
                )
            )
    if not texts:
        raise ValueError(f"{path}: no texts")
    return texts
