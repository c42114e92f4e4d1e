"""Pure normalizers for the fields of an article, used by the item loader.

Each takes the string the page printed and returns the value the item stores,
or None when the string holds no such value. They never consult the clock: a
date missing a part is not completed from today (see LESSONS.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

SITE_TZ = ZoneInfo("Asia/Shanghai")

# Characters that take space on no screen but break equality (zero-width
# space/joiners, word joiner, BOM, soft hyphen), control characters that are
# not whitespace, and lone surrogates (no valid UTF-8 can hold them): a hostile
# or broken page must not put them into the output.
#
# So are the bidirectional controls, which reorder what is shown (a title
# "\u202eexe.gnp" displays as "png.exe"), the Hangul fillers, which show as a
# blank letter, and the other format characters (Unicode category Cf) that no
# English or Chinese text needs. The format characters that belong to the text
# they mark stay: Arabic number signs (U+0600-0605, U+06DD, U+0890-0891,
# U+08E2), the Syriac abbreviation mark, Kaithi number signs, Egyptian
# hieroglyph, shorthand and musical format controls, and the tag characters of
# emoji flag sequences (U+E0020-E007F). ``tests/test_normalize.py`` checks the
# list against the Unicode database.
_INVISIBLE = dict.fromkeys(
    [
        *map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"),
        *range(0x200E, 0x2010),  # left-to-right and right-to-left marks
        0x061C,  # Arabic letter mark
        *range(0x202A, 0x202F),  # embeddings, overrides and their pop
        *range(0x2061, 0x2065),  # invisible function application, times, separator, plus
        *range(0x2066, 0x2070),  # isolates; deprecated shaping and digit controls
        0x180E,  # Mongolian vowel separator
        *range(0xFFF9, 0xFFFC),  # interlinear annotation controls
        0xE0001,  # language tag
        0x115F,  # Hangul choseong filler
        0x1160,  # Hangul jungseong filler
        0x3164,  # Hangul filler
        0xFFA0,  # halfwidth Hangul filler
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x1C),
        *range(0x7F, 0x85),
        *range(0x86, 0xA0),
        *range(0xD800, 0xE000),
        # U+FFFD stands for a character lost before us (``&#xD800;``, ``&#0;``);
        # bytes that do not decode are caught before extraction.
        0xFFFD,
    ],
    None,
)

# A label such as "Editor  : ", "Web Editor: ", "Editor：" (full-width colon).
_EDITOR_RE = re.compile(r"^(?:web\s+)?editors?\s*[:：]\s*(?P<name>.*)$", re.IGNORECASE)
# What a name never contains: an address, a link, a timestamp, the app banner.
_NOT_A_NAME_RE = re.compile(r"@|https?:|www\.|\d{4}-\d{2}-\d{2}|app download", re.IGNORECASE)

# "2025-01-10 16:52:22" as printed in div.downinfo; seconds are sometimes absent.
SITE_TIME_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?")
# "Jan 9, 2025", "Sept 3, 2024" as printed in listings.
LISTING_DATE_RE = re.compile(r"[A-Za-z]{3,9}\.?\s+\d{1,2},\s*\d{4}")

# A default with no field taken from today: a string missing its year or day
# fails the completeness check below instead of borrowing the current one.
_NO_DEFAULT = datetime(1, 1, 1)


def normalize_space(text: str | None) -> str:
    """Collapse every run of whitespace (Unicode spaces, non-breaking spaces,
    newlines) to one space, drop invisible and control characters and lone
    surrogates, and trim."""
    if not text:
        return ""
    return " ".join(text.translate(_INVISIBLE).split())


def normalize_parts(parts: Sequence[str]) -> tuple[str, list[int], list[int]]:
    """``normalize_space("".join(parts))``, and where each part's words stand in it.

    Returns the text, ``starts`` and ``ends``: ``ends[i]`` is the length of the text
    made of ``parts[:i]`` (``len(parts) + 1`` entries), ``starts[i]`` where the first
    word of ``parts[i:]`` begins. The words of ``parts[i:j]`` are then
    ``text[min(starts[i], ends[j]):ends[j]]``, as ``normalize_space`` of their own
    concatenation gives them.
    """
    chunks: list[str] = []
    length = 0
    pending_space = False
    starts = [0] * (len(parts) + 1)
    ends = [0] * (len(parts) + 1)
    first_word: list[int | None] = [None] * len(parts)
    for i, part in enumerate(parts):
        ends[i] = length
        part = part.translate(_INVISIBLE)
        words = part.split()
        if not words:
            pending_space = pending_space or bool(part)
            continue
        sep = " " if length and (pending_space or part[0].isspace()) else ""
        first_word[i] = length + len(sep)
        chunk = sep + " ".join(words)
        chunks.append(chunk)
        length += len(chunk)
        pending_space = part[-1].isspace()
    ends[-1] = starts[-1] = length
    for i in range(len(parts) - 1, -1, -1):
        found = first_word[i]
        starts[i] = starts[i + 1] if found is None else found
    return "".join(chunks), starts, ends


def none_if_empty(text: str | None) -> str | None:
    text = normalize_space(text)
    return text or None


def parse_editor(raw: str | None) -> str | None:
    """The editor's name from the printed label: ``Editor  : Li Yan`` → ``Li Yan``.

    Returns None when the string is not an editor label or names no one.
    """
    text = normalize_space(raw)
    m = _EDITOR_RE.match(text)
    if not m:
        return None
    name = m.group("name").strip(" :：-")
    if not name or _NOT_A_NAME_RE.search(name):
        return None
    return name


def parse_site_datetime(raw: str | None) -> datetime | None:
    """An aware datetime in the site's zone from a printed time or listing date.

    ``2025-01-10 16:52:22`` → 16:52:22+08:00; ``Jan 9, 2025`` → midnight +08:00.
    Returns None for strings that are not complete dates, or impossible ones
    (``2025-02-30``): nothing is filled in from the clock.
    """
    text = normalize_space(raw)
    if not (SITE_TIME_RE.fullmatch(text) or LISTING_DATE_RE.fullmatch(text)):
        return None
    try:
        parsed = dateparser.parse(text, default=_NO_DEFAULT)
    except (ValueError, OverflowError):
        return None
    if parsed is None or parsed.year == _NO_DEFAULT.year:
        return None
    return parsed.replace(tzinfo=SITE_TZ)
