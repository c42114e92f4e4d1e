"""The hashes a story is known by: its content hash (equal texts, equal hash) and
its revision hash (what a revisit compares to tell a correction from a reformatting).

Shared by the duplicate stage, which computes them, and the run, which reads them
back from output files when it recovers a killed run.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime


def content_hash(title: str, body: str) -> str:
    """A stable hash of the normalized title and body (both already
    whitespace-collapsed by the loader and the spam stage)."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


# What ``letters_and_digits`` removes: non-ASCII characters that are not letters or
# digits (curly quotes, dashes; ``\w`` is ``str.isalnum`` and "_"), and the ASCII
# ones that are not.
_NON_ASCII_NOT_WORD = re.compile(r"[^\w\x00-\x7f]+")
_ASCII_NOT_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())


def letters_and_digits(text: str) -> bytes:
    """The characters of ``text`` that ``str.isalnum`` keeps, case-folded, as UTF-8.
    Two passes with no Python work per match (a body holds hundreds of spaces and
    punctuation marks, and few non-ASCII ones): a regular expression for non-ASCII
    marks, one ``bytes.translate`` for ASCII ones."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _NON_ASCII_NOT_WORD.sub("", folded)
    return folded.encode().translate(None, _ASCII_NOT_ALNUM)


def revision_hash(title: str, body: str) -> str:
    """A hash of the letters and digits of the title and body, case-folded: a
    revisit whose page differs only in whitespace, punctuation, case or markup is
    the same revision; a changed word, number or sentence is a correction. (Stored
    in the state: a change of definition would make every revisit a correction.)"""
    return hashlib.sha256(b"\n".join(map(letters_and_digits, (title, body)))).hexdigest()


def unix_seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())
