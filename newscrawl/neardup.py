"""Near copies: the same story republished with small edits, found in bounded memory.

ECNS re-publishes wire copies with an ``(ECNS) -- `` lead, a sentence or two added
or cut, punctuation and whitespace changed, or a new headline. Such a copy has a new
URL, id and ``content_hash``, so the exact checks of the duplicate stage let it
through. This module recognizes it, and must never merge two distinct stories on
one topic: the real politics export holds rewrites of one event by two desks that
share 73% of their word 5-shingles, and two-sentence flashes that share their
second sentence word for word ("Xi made the remarks in his meeting with ...").
No single similarity score separates those from copies with two sentences added
to a short story, so the module works in two steps.

1. **Candidates** (recall, cheap): the stories sharing a *key sentence* with the
   body, found in an indexed SQLite table (``neardup_keys``), so a lookup is one
   indexed query whatever the number of known stories. A sentence is hashed over
   its letters and digits alone, so case, punctuation, whitespace and the lead do
   not change it; it ends at a line end or at a period not after a single letter,
   so "U.S." respelled "US" moves no boundary. The edits that make a copy are
   whole sentences added or cut, so a copy keeps most of its story's sentences,
   while distinct stories share a few at most. A story indexes the
   ``KEYS_PER_STORY`` sentences with the least keys (all of a short story's): a
   bottom-k sample, the same sentences in every copy that kept them; a lookup
   probes its ``PROBE_KEYS`` least, the ``FIRST_PROBES`` least first (and when
   its least key is one story's alone, that story before any other). A key is
   the sentence's CRC-32. A key held by ``KEY_MAX_STORIES`` stories is
   boilerplate and ignored. At a million stories each key probe is a disk read,
   so a fixed 16 MiB bit filter (``KeyFilter``) over the delivered keys skips the
   probes of keys no story has.
   MinHash-LSH bands over word 5-shingles would add nothing: with the sentences
   sampled, recall and false merges are the same without them
   (``bench/neardup_bench.py``). SimHash cannot tell copies from rewrites: two
   sentences added to a story flip as many of its bits as separate the closest
   distinct stories (``bench/neardup_bench.py --compare``).
2. **Verification** (precision): the two stories compared sentence by sentence,
   from a stored list of sentence hashes (8 bytes a sentence), read with the
   story in one B-tree descent (``neardup_docs`` is keyed by story). The edits
   that make a copy are whole-sentence edits, while distinct stories on one topic
   differ inside many sentences. A candidate is the same story when sentences
   were only added or cut, in at most ``MAX_EDIT_PLACES`` places, or, if some were
   replaced, when the shared sentences hold ``MIN_SHARED_WHEN_REPLACED`` of the
   letters. Of several such stories the closest is named. A candidate whose shared
   key sentences hold less than ``MIN_KEY_SHARE`` of the letters of either side's
   sampled sentences is not even read: a copy shares nearly all of one side's
   (the known story's when sentences were added, its own when cut), a distinct
   story a template sentence or two. Keys known to be boilerplate
   (``neardup_boilerplate``) are not even probed.

Normalization makes case, punctuation, whitespace, non-ASCII punctuation (and
non-ASCII letters: the site is English) and the ``(ECNS) -- `` lead irrelevant. A
sentence's hash is the CRC-32 of its letters and digits, weighed by their number.
CRCs compose (the CRC of ``a + b`` follows from those of ``a`` and ``b`` and the
length of ``b``), so a boundary that punctuation moved (two sentences joined by a
semicolon, "Mr." written "Mr") is found again by re-joining neighbours. A
fingerprint is a handful of passes of bytes methods and one compiled regular
expression over the whole body, then ``zlib.crc32`` mapped over the sentences: at
a few thousand bytes a body, the fixed cost of each call weighs more than the
bytes, so the calls are few and each does its pass in C.

Versions: a corrected story delivered again adds a fingerprint for the same URL.
Keys belong to the story (a hash of its URL), not to each version, so versions
never count as several stories towards ``KEY_MAX_STORIES``, and a candidate story
is verified against each of its versions.

Delivery: fingerprints added during a run are pending (``delivered = 0``, with the
run id) and count for that run's lookups only. ``promote(run_id)`` makes those of
the stories the state marked delivered permanent; ``discard_other_runs(run_id)``
forgets what dead runs left pending. This mirrors ``StateStore``'s ``pending``
table, ``mark_delivered()`` and ``start_run()``.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import NamedTuple

# --- thresholds and sizes --------------------------------------------------------

# Key sentences a story indexes: those with the least keys (a bottom-k sample,
# ~9 a real story on average). A copy with sentences cut keeps most of them: 12
# of a 30-sentence story leave a copy that lost two at least 10 to be found by.
KEYS_PER_STORY = 12
# A lookup probes its least keys in two rounds: these first; the others only if
# none of these found a near copy, and not at all if no story has any of these.
# A copy's least keys are nearly all its story's least (it added or changed a few
# sentences), so most copies are settled, and most new stories dismissed, by the
# first round: each key a story has costs a B-tree read. Keys marked boilerplate
# are left out of the rounds. Recall is the same with 3 as with all at once; with
# 2, the replica's new stories (which share template sentences with known ones)
# are read and verified half again as long, with 4 the copies pay a key read more.
FIRST_PROBES = 3
# A copy's least key nearly always names its story and no other: when it does, that
# story is verified before any other key is read (two B-tree reads less a copy;
# new stories of the templated replica, whose least key is more often some
# story's template sentence, pay a little more, real ones nothing). With 2 keys
# copies save half as much.
EARLY_PROBES = 1
# Key sentences a lookup probes, the least first: a known story's sampled
# sentences that the copy kept are among the copy's least unless more sentences
# than this minus ``KEYS_PER_STORY`` were added below them.
PROBE_KEYS = 24
# A key held by this many stories is boilerplate (a sentence like "Xi made the
# remarks at ..."): it identifies no story, so it takes no more stories and lookups
# ignore it (the stories' other keys still find them). Without the cap a templated
# corpus like the replica's turns one lookup into hundreds of candidates. Versions
# of one story count once.
KEY_MAX_STORIES = 4
# A candidate is verified only if the key sentences it shares with the body hold
# this share of the letters of its sampled key sentences, or of the body's
# (its KEYS_PER_STORY least keys), boilerplate aside (see the module docstring).
# At 0.4 recall is as with no threshold at all, while half of the other
# candidates of the benchmarks (distinct stories sharing a template sentence or
# two) are not read; at 0.5 a two-sentence flash whose second sentence is
# boilerplate falls below it.
MIN_KEY_SHARE = 0.4
# Bits of the filter that spares lookups a disk read for keys no delivered story
# has: 2**27 bits (16 MiB) whatever the number of stories. With a million stories
# (~10 million keys) 7% of the bits are set, so a new story's keys are read from
# disk ~0.6 times a lookup instead of 13. More stories only make the filter
# let more keys through, never miss one.
FILTER_BITS_LOG2 = 27
# A body shorter than this (in words) carries too little text to tell one story
# from another: it is neither indexed nor matched (the exact checks still apply).
MIN_TOKENS = 8
# Places (runs of consecutive sentences) where a copy may add or cut sentences:
# the one or two sentences, plus a byline or dateline line.
MAX_EDIT_PLACES = 3
# Sentences a copy may add or cut whatever the story's length: two sentences,
# each cut in two by a stray period ("No. 1"), plus one.
MAX_SENTENCES_ADDED_OR_CUT = 5
# ... or more, in a long story, while the shared sentences hold this share of the
# letters of the longer side. (A one-sentence flash and the full story that opens
# with it share ~5%.)
MIN_SHARED_WHEN_ADDED_OR_CUT = 0.5
# When sentences were replaced (cut in one place, others added: an edited
# sentence), the shared ones must hold this share of the letters of the longer
# side. Distinct flashes sharing their boilerplate second sentence reach 0.48,
# distinct stories of the replica 0.44.
MIN_SHARED_WHEN_REPLACED = 0.75
# A known story sharing this share of the letters is the one a copy copies:
# distinct known stories are never near one another, so no other can be closer,
# and the lookup verifies no further candidates.
CLOSE_ENOUGH = 0.9

# --- normalization ---------------------------------------------------------------

# The agency lead ("(ECNS) -- ", "(ECNS)-- ", "(ECNS) — "; non-ASCII bytes are
# punctuation here), anywhere, with the dateline that may stand before it at the
# start of its line ("Beijing, Jan. 5 (ECNS) -- ").
_LEAD = re.compile(
    rb"(?m)(?:^[ \t]*[a-z][a-z .'\-]{0,30},[ \t]*[a-z]{3,9}\.?[ \t]+\d{1,2}(?:,[ \t]*\d{4})?"
    rb"[ \t]*)?\([ \t]*ecns[ \t]*\)[ \t\-\x80-\xff]*"
)
# ... without the dateline, for an "ecns" far into its line; and the reach of a
# lead around its "ecns": a dateline (at most 64 bytes) and "(" before it, the
# closing ")" and dashes after it.
_LEAD_ONLY = re.compile(rb"\([ \t]*ecns[ \t]*\)[ \t\-\x80-\xff]*")
_DATELINE_MAX, _LEAD_BEFORE, _LEAD_AFTER = 80, 8, 40


def normalize(body: str) -> bytes:
    """The body as UTF-8, ASCII letters lowered, without the agency lead. Which
    bytes are letters, punctuation or sentence ends is left to byte tables."""
    data = body.encode("utf-8", "surrogatepass").lower()
    found = data.find(b"ecns")
    if found < 0:
        return data
    # The lead regex runs on the few bytes around each "ecns" only: over a whole
    # body it would cost more than the rest of a fingerprint.
    out: list[bytes] = []
    done = 0
    while found >= 0:
        line = data.rfind(b"\n", 0, found) + 1
        start = max(line, done)
        # A dateline stands at the start of its line, and is short.
        pattern = _LEAD if start == line and found - line <= _DATELINE_MAX else _LEAD_ONLY
        if pattern is _LEAD_ONLY:
            start = max(found - _LEAD_BEFORE, done)
        end = min(found + _LEAD_AFTER, len(data))
        out.append(data[done:start])
        out.append(pattern.sub(b"", data[start:end]))
        done = end
        found = data.find(b"ecns", done)
    out.append(data[done:])
    return b"".join(out)


# --- one body --------------------------------------------------------------------

# Bytes tables (one C call a pass). Word bytes: ASCII letters and digits (the body
# is lowered); every other byte, non-ASCII ones included (curly quotes, dashes,
# no-break spaces, and the rare accented letter), separates words. In ``_CLASSES``
# a word byte stands for itself, . ! and ? for a stop, a line end for itself, and
# every other byte for a space, so one compiled pattern finds the sentence ends.
_WORD_BYTES = b"0123456789abcdefghijklmnopqrstuvwxyz"
_CLASSES = bytes(
    c if c in _WORD_BYTES else 0x2E if c in b".!?" else 0x0A if c == 0x0A else 0x20
    for c in range(256)
)
# A sentence ends at a line end (paragraphs are separate <p> blocks) and at a stop
# before a space-like byte, unless the word before it is a single letter ("U.S.",
# "p.m."): so "U.S." respelled "US" moves no boundary. (Abbreviations such as
# "Jan." end a sentence: the same in the story and its copies.) Matched on
# ``_CLASSES`` bytes, where it starts with a literal ". " (a fast scan).
_SENTENCE_END = re.compile(rb"\. (?<![ .\n][a-z0-9]\. )")


def story_of(url: str) -> int:
    """The story a URL names, as a signed 64-bit key: every version of it shares it."""
    digest = hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _joined(crcs: Sequence[int], lengths: Sequence[int]) -> int:
    """The CRC-32 of consecutive sentences read as one, from theirs: the CRC is
    affine, so ``crc(a + b) = crc(b) ^ crc(zeros, crc(a)) ^ crc(zeros)`` with
    ``zeros`` as many zero bytes as ``b`` has letters."""
    crc = 0
    for c, n in zip(crcs, lengths, strict=True):
        zeros = bytes(n)
        crc = c ^ zlib.crc32(zeros, crc) ^ zlib.crc32(zeros)
    return crc


class Sentences:
    """A story as the verification sees it, sentence by sentence, in order: the
    CRC-32 of each sentence's letters and digits (two distinct sentences of two
    stories share one once in ~7 million comparisons of 25-sentence stories),
    and their number, its weight; stored as 8 bytes a sentence."""

    __slots__ = ("_set", "_total", "hashes", "lengths")

    def __init__(self, hashes: Sequence[int], lengths: Sequence[int]) -> None:
        self.hashes = hashes
        self.lengths = lengths
        self._set: set[int] | None = None
        self._total: int | None = None

    @property
    def total(self) -> int:
        """All their letters and digits (kept: a lookup may compare several)."""
        if self._total is None:
            self._total = sum(self.lengths)
        return self._total

    @property
    def distinct(self) -> set[int]:
        """The hashes as a set (kept: a lookup may compare several)."""
        if self._set is None:
            self._set = set(self.hashes)
        return self._set

    def to_blob(self) -> bytes:
        stored = array("I", self.hashes) + array("I", self.lengths)
        if sys.byteorder != "little":  # stored little-endian
            stored.byteswap()
        return stored.tobytes()

    @classmethod
    def from_blob(cls, blob: bytes) -> Sentences:
        half = len(blob) // 2
        hashes, lengths = array("I"), array("I")
        hashes.frombytes(blob[:half])
        lengths.frombytes(blob[half:])
        if sys.byteorder != "little":
            hashes.byteswap()
            lengths.byteswap()
        return cls(hashes, lengths)  # arrays: read-only use, no list copies


class Fingerprint:
    """What the index needs of one body: its sentences' hashes, found in a few
    passes of bytes methods and one regular expression over the body and one
    ``zlib.crc32`` call a sentence; its keys only when
    asked for, so a body too short to index costs no more."""

    __slots__ = (
        "_by_key",
        "_indexable",
        "_key_letters",
        "_keys",
        "_marked",
        "_sentences",
        "hashes",
        "lengths",
    )

    def __init__(self, body: str) -> None:
        data = normalize(body)
        # Sentence ends become line ends, then everything but letters, digits and
        # line ends goes: each line is one sentence's letters. The per-sentence
        # work is in C (map), not in a Python loop.
        self._marked = marked = _SENTENCE_END.sub(b"\n", data.translate(_CLASSES))
        letters = marked.translate(None, b" .")
        # Only letters, digits and line ends are left: split() drops the empty lines.
        sentences = letters.split()
        self.hashes = list(map(zlib.crc32, sentences))
        self.lengths = list(map(len, sentences))
        self._indexable: bool | None = None
        self._keys: list[int] | None = None
        self._key_letters: list[int] = []
        self._by_key: dict[int, int] = {}  # key: its sentence's letters
        self._sentences: Sentences | None = None

    @property
    def tokens(self) -> int:
        """Words: runs of letters and digits between spaces or sentence ends ("U.S."
        is one, as is "3.4")."""
        return len(self._marked.split())

    @property
    def indexable(self) -> bool:
        if self._indexable is None:
            # Split no further than MIN_TOKENS words: a long body costs no more.
            self._indexable = len(self._marked.split(None, MIN_TOKENS - 1)) >= MIN_TOKENS
        return self._indexable

    @property
    def sentences(self) -> Sentences:
        if self._sentences is None:
            self._sentences = Sentences(self.hashes, self.lengths)
        return self._sentences

    def keys(self, *, probe: bool = False) -> list[int]:
        """The keys (ascending) a story indexes, or that a lookup probes
        (``probe``): the least CRCs of its distinct sentences. (~10 million keys
        in 2**32 values: a probe meets a stranger's key once in ~400, a candidate
        the verification dismisses.)"""
        if self._keys is None:
            self._by_key = by_crc = dict(zip(self.hashes, self.lengths, strict=True))
            self._keys = least = sorted(by_crc)[:PROBE_KEYS]
            self._key_letters = list(map(by_crc.__getitem__, least))
        return self._keys if probe else self._keys[:KEYS_PER_STORY]

    def letters_of_keys(self, *, probe: bool = False) -> list[int]:
        """The letters of each key sentence of ``keys(probe=...)``."""
        self.keys()
        return self._key_letters if probe else self._key_letters[:KEYS_PER_STORY]

    def shares(self, *, probe: bool = False) -> list[int]:
        """For each of ``keys(probe=...)``: its share of the letters of the
        ``KEYS_PER_STORY`` least (those a story indexes), per mille; 0 beyond them."""
        return self.shares_of(0, PROBE_KEYS if probe else KEYS_PER_STORY)

    def shares_of(self, start: int, stop: int) -> list[int]:
        """``shares(probe=True)[start:stop]``, without the others (a lookup's first
        round needs its few keys' only)."""
        letters = self.letters_of_keys(probe=True)
        total = sum(letters[:KEYS_PER_STORY]) or 1
        shares = [n * 1000 // total for n in letters[start : min(stop, KEYS_PER_STORY)]]
        return shares + [0] * (len(letters[start:stop]) - len(shares))


# --- the verification ------------------------------------------------------------

# Neighbouring sentences re-joined at most when looking for a boundary moved by
# punctuation.
_MAX_JOINED = 8


class Resemblance(NamedTuple):
    """How a story compares with a known one, sentence by sentence. (A tuple:
    made for every candidate, at a fifth of a frozen dataclass's cost.)"""

    shared: int  # sentences in both (a re-joined group counts once)
    added: int  # sentences only in the story looked up
    cut: int  # sentences only in the known story
    places: int  # runs of consecutive added or cut sentences, both sides
    shared_share: float  # letters in shared sentences / letters of the longer story

    @property
    def near(self) -> bool:
        """Whether the story is the known one with small edits."""
        if self.shared == 0 or self.places > MAX_EDIT_PLACES:
            return False
        if self.added == 0 or self.cut == 0:
            return (
                self.added + self.cut <= MAX_SENTENCES_ADDED_OR_CUT
                or self.shared_share >= MIN_SHARED_WHEN_ADDED_OR_CUT
            )
        return self.shared_share >= MIN_SHARED_WHEN_REPLACED

    def describe(self) -> str:
        return (
            f"{self.shared} sentences shared, {self.added} added and {self.cut} cut"
            f" in {self.places} places, {self.shared_share:.0%} of the letters shared"
        )


def _unmatched(side: Sequence[int], other: Sequence[int]) -> list[int]:
    """Positions of ``side`` whose sentence ``other`` lacks (as multisets)."""
    pool = Counter(other)
    left: list[int] = []
    for i, h in enumerate(side):
        if pool[h] > 0:
            pool[h] -= 1
        else:
            left.append(i)
    return left


def _rejoin(
    side: Sentences, left: list[int], other: Sentences, other_left: list[int]
) -> tuple[set[int], set[int]]:
    """Runs of 2 to ``_MAX_JOINED`` consecutive unmatched sentences of ``side``
    whose letters spell one unmatched sentence of ``other`` (a boundary moved by
    punctuation). CRCs are composed (``_joined``), and only for runs as long as
    such a sentence. Returns the positions used on each side."""
    by_length: dict[int, list[int]] = {}
    for k in other_left:
        by_length.setdefault(other.lengths[k], []).append(k)
    longest = max(by_length)
    lengths, crcs = side.lengths, side.hashes
    free = set(left)
    used: set[int] = set()
    used_other: set[int] = set()
    for i in left:
        total = 0
        for j in range(i, i + _MAX_JOINED):
            if j not in free or j in used:
                break
            total += lengths[j]
            if total > longest:
                break  # runs only grow: none can spell a sentence of ``other``
            if j == i or total not in by_length:
                continue
            crc = _joined(crcs[i : j + 1], lengths[i : j + 1])
            match = next(
                (k for k in by_length[total] if k not in used_other and other.hashes[k] == crc),
                None,
            )
            if match is not None:
                used.update(range(i, j + 1))
                used_other.add(match)
                break
    return used, used_other


def _runs(positions: Sequence[int]) -> int:
    """How many runs of consecutive numbers ``positions`` (sorted) holds."""
    if len(positions) < 2:
        return len(positions)
    return sum(1 for i, p in enumerate(positions) if i == 0 or positions[i - 1] != p - 1)


def resemblance(new: Sentences, known: Sentences) -> Resemblance:
    """Compare a story with a known one as multisets of sentences, weighted by
    letters. Runs of unmatched sentences whose letters are the same on both sides
    (a boundary moved by punctuation) count as shared, looked for only when the
    story is not near without them (the usual copy adds or cuts whole sentences)."""
    a, b = new.hashes, known.hashes
    a_set, b_set = new.distinct, set(b)
    if len(a_set) == len(a) and len(b_set) == len(b):
        # Positions of the sentences in one set only, found in C (a copy has few).
        only_new = list(compress(range(len(a)), map((a_set - b_set).__contains__, a)))
        only_known = list(compress(range(len(b)), map((b_set - a_set).__contains__, b)))
    else:  # a sentence said twice: as multisets
        only_new = _unmatched(a, b)
        only_known = _unmatched(b, a)
    shared = len(a) - len(only_new)
    found = _compared(new, known, shared, only_new, only_known)
    if not (only_new and only_known) or found.near:
        return found
    used, used_other = _rejoin(new, only_new, known, only_known)  # runs of the story's
    if used:
        shared += len(used_other)  # a group counts once
        only_new = [i for i in only_new if i not in used]
        only_known = [i for i in only_known if i not in used_other]
    if only_new and only_known:
        used, used_other = _rejoin(known, only_known, new, only_new)  # runs of the known one's
        if used:
            shared += len(used_other)
            only_known = [i for i in only_known if i not in used]
            only_new = [i for i in only_new if i not in used_other]
    if shared == found.shared:
        return found
    return _compared(new, known, shared, only_new, only_known)


def _compared(
    new: Sentences, known: Sentences, shared: int, only_new: list[int], only_known: list[int]
) -> Resemblance:
    """The resemblance, given which sentences of either side are unmatched. The
    shared sentences (and re-joined groups) have the same letters on both sides,
    so the known story's letters are the shared ones plus its unmatched ones."""
    a, b = new.lengths, known.lengths
    shared_letters = new.total - sum([a[i] for i in only_new])
    known_letters = shared_letters + sum([b[i] for i in only_known])
    return Resemblance(
        shared,
        len(only_new),
        len(only_known),
        _runs(only_new) + _runs(only_known),
        shared_letters / (max(new.total, known_letters) or 1),
    )


# --- the filter ------------------------------------------------------------------

_FILTER_BYTES = 1 << (FILTER_BITS_LOG2 - 3)
_FILTER_CHUNK = 1 << 16  # bytes of the filter stored in one row
# The bit filter over a run's own pending keys: a run adds at most some tens of
# thousands of stories (a backfill), ~12 keys each; 2**23 bits keep it under 5%
# full, in 1 MiB.
_RUN_FILTER_BITS_LOG2 = 23


class KeyFilter:
    """A fixed-size bit set over the keys of delivered stories: a clear bit proves
    no delivered story has the key, so the lookup skips its disk read. It only ever
    gains bits (a key of a story discarded later costs a read, never a miss); its
    invariant is that every delivered key has its bit set. Stored in
    ``neardup_filter`` in chunks, updated by ``promote``. A key's bit is chosen by
    the high bits of its 32 (keys are CRC-32s: well mixed): bit ``slot & 7`` of
    byte ``slot >> 3`` of ``bits``, with ``slot = key >> shift & mask``."""

    __slots__ = ("bits", "mask", "shift")

    def __init__(self, bits: bytearray) -> None:
        self.bits = bits
        bits_log2 = (len(bits) * 8).bit_length() - 1
        self.shift = 32 - bits_log2
        self.mask = (1 << bits_log2) - 1

    def may_contain(self, keys: Iterable[int]) -> list[bool]:
        """For each key, whether its bit is set."""
        data, shift, byte_shift = self.bits, self.shift, self.shift + 3
        byte_mask = self.mask >> 3
        return [bool(data[k >> byte_shift & byte_mask] >> (k >> shift & 7) & 1) for k in keys]

    def known(self, keys: list[int]) -> list[int]:
        """Those of ``keys`` whose bit is set."""
        data, shift, byte_shift = self.bits, self.shift, self.shift + 3
        byte_mask = self.mask >> 3
        return [k for k in keys if data[k >> byte_shift & byte_mask] >> (k >> shift & 7) & 1]

    def add(self, keys: Iterable[int]) -> None:
        """Set the bits of ``keys`` (a story's few, or a database's millions)."""
        data, shift, byte_shift = self.bits, self.shift, self.shift + 3
        byte_mask = self.mask >> 3
        for k in keys:
            data[k >> byte_shift & byte_mask] |= 1 << (k >> shift & 7)

    def add_rows(self, cursor: sqlite3.Cursor) -> bool:
        """Set the bits of the keys a ``SELECT key ...`` returns, read in batches
        (bounded memory whatever the number of rows). Returns whether it had any."""
        found = False
        while rows := cursor.fetchmany(1 << 16):
            self.add(map(itemgetter(0), rows))
            found = True
        return found

    def _chunk(self, chunk: int) -> memoryview:
        return memoryview(self.bits)[chunk * _FILTER_CHUNK : (chunk + 1) * _FILTER_CHUNK]

    def merge_stored(self, db: sqlite3.Connection) -> None:
        """OR these bits into the stored filter, only the chunks that have any (read,
        merge, write: another process may have stored bits since)."""
        for chunk in range(len(self.bits) // _FILTER_CHUNK):
            bits = self._chunk(chunk)
            if bits == _ZERO_CHUNK:
                continue
            row = db.execute("SELECT bits FROM neardup_filter WHERE chunk = ?", (chunk,)).fetchone()
            merged = bytes(bits)
            if row is not None:
                merged = _or(merged, row[0])
            db.execute(
                "INSERT OR REPLACE INTO neardup_filter (chunk, bits) VALUES (?, ?)",
                (chunk, merged),
            )

    @classmethod
    def empty(cls, bits_log2: int = FILTER_BITS_LOG2) -> KeyFilter:
        return cls(bytearray(1 << (bits_log2 - 3)))

    @classmethod
    def load(cls, db: sqlite3.Connection) -> KeyFilter:
        loaded = cls(bytearray(_FILTER_BYTES))
        for chunk, blob in db.execute("SELECT chunk, bits FROM neardup_filter"):
            loaded._chunk(chunk)[:] = blob  # a stored chunk of another size raises
        return loaded

    def store(self, db: sqlite3.Connection, chunks: Iterable[int]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO neardup_filter (chunk, bits) VALUES (?, ?)",
            ((c, bytes(self._chunk(c))) for c in chunks),
        )


_ZERO_CHUNK = bytes(_FILTER_CHUNK)


def _or(a: bytes, b: bytes) -> bytes:
    """Bitwise OR of two byte strings of one length (as big integers: one C pass)."""
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


# --- the index -------------------------------------------------------------------

# ``story``: ``story_of(url)``, shared by a story's versions and copies; the texts
# of a story are kept together (``neardup_docs`` is keyed by story: verifying a
# candidate is one B-tree descent, where a rowid table and an index on story were
# two), ``id`` orders them (the time of the add, in ns). ``share``: the key
# sentence's letters per mille of the letters of the story's indexed ones. A run's
# keys wait in ``neardup_pending_keys`` until ``promote`` moves them, in key
# order, into ``neardup_keys``: an add then writes ~11 pages a commit instead of
# ~17 (a dozen random leaves of the big table). ``neardup_boilerplate``: the
# delivered keys that reached ``KEY_MAX_STORIES`` holders (set by ``promote``;
# delivered keys are never removed, so a mark never goes stale): lookups skip
# them without reading their rows.
SCHEMA = """
CREATE TABLE IF NOT EXISTS neardup_docs (
    story INTEGER NOT NULL,
    id INTEGER NOT NULL,
    url TEXT NOT NULL,
    run_id TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    sentences BLOB NOT NULL,
    copy INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (story, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS neardup_docs_pending ON neardup_docs(run_id) WHERE delivered = 0;
CREATE TABLE IF NOT EXISTS neardup_keys (
    key INTEGER NOT NULL,
    story INTEGER NOT NULL,
    share INTEGER NOT NULL,
    PRIMARY KEY (key, story)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS neardup_pending_keys (
    run_id TEXT NOT NULL,
    key INTEGER NOT NULL,
    story INTEGER NOT NULL,
    share INTEGER NOT NULL,
    PRIMARY KEY (run_id, key, story)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS neardup_boilerplate (
    key INTEGER PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS neardup_filter (
    chunk INTEGER PRIMARY KEY,
    bits BLOB NOT NULL
);
"""
_MIN_KEY_SHARE = int(MIN_KEY_SHARE * 1000)  # per mille, as stored


@dataclass(frozen=True, slots=True)
class NearMatch:
    """The known story a body copies, and how they compare."""

    url: str
    resemblance: Resemblance


class NearDuplicateIndex:
    """Fingerprints of known stories in the state database, found by their keys.

    ``db`` is the state's connection (autocommit, WAL). What ``add`` stores counts
    for lookups of the same run at once, and for later runs after ``promote``.
    Memory: the 16 MiB key filter, loaded on the first lookup, a 1 MiB filter of
    the running run's keys, and the set of boilerplate keys (~60 bytes each: it
    grows with the sentences that several stories repeat, not with the stories;
    a few hundred keys in the benchmark's million).
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)
        self._last_id = 0
        self._has_stories = (
            db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stories'"
            ).fetchone()
            is not None
        )
        self._filter: KeyFilter | None = None
        # Per run id: a filter of the keys it added (pending), or None if it added
        # none; kept up to date by ``add`` (a run adds through one index).
        self._run_keys: dict[str, KeyFilter | None] = {}
        self._boilerplate: set[int] | None = None
        # Per run id: its pending keys that reached KEY_MAX_STORIES holders (known
        # to ``add`` from the rows it reads; ``promote`` marks them in the table).
        self._run_boilerplates: dict[str, set[int]] = {}
        # The rows the last lookup read: ``add`` of the same fingerprint right
        # after it (a new story, or a copy) reads only the keys it did not settle.
        # ``_changes`` counts the writes that would make them stale.
        self._changes = 0
        self._last_read: _Read | None = None

    @property
    def boilerplate(self) -> set[int]:
        """The delivered keys held by ``KEY_MAX_STORIES`` stories, loaded on first
        use (~60 bytes of memory a key: a small share of all keys; a lookup skips
        them, where each would cost a B-tree read returning ``KEY_MAX_STORIES``
        rows to ignore)."""
        if self._boilerplate is None:
            self._boilerplate = {
                k for (k,) in self.db.execute("SELECT key FROM neardup_boilerplate")
            }
        return self._boilerplate

    @property
    def filter(self) -> KeyFilter:
        """The key filter, loaded on first use."""
        if self._filter is None:
            self._filter = KeyFilter.load(self.db)
        return self._filter

    def rebuild_filter(self) -> None:
        """Rebuild the filter from the delivered keys (after a bulk load, or to drop
        the bits of keys since discarded): reads every delivered key."""
        bits = KeyFilter.empty()
        bits.add_rows(self.db.execute("SELECT key FROM neardup_keys"))
        with _savepoint(self.db, "neardup_filter"):
            self.db.execute("DELETE FROM neardup_filter")
            bits.store(self.db, range(_FILTER_BYTES // _FILTER_CHUNK))
        self._filter = bits

    def _run_filter(self, run_id: str | None) -> KeyFilter | None:
        """The filter of run ``run_id``'s pending keys, None if it has none (read
        from the database once per run: usually nothing)."""
        if run_id is None:
            return None
        if run_id not in self._run_keys:
            keys = KeyFilter.empty(_RUN_FILTER_BITS_LOG2)
            found = keys.add_rows(
                self.db.execute("SELECT key FROM neardup_pending_keys WHERE run_id = ?", (run_id,))
            )
            self._run_keys[run_id] = keys if found else None
        return self._run_keys[run_id]

    def _run_boilerplate(self, run_id: str | None) -> set[int]:
        """Run ``run_id``'s keys found boilerplate among its pending ones, so far. (A
        run reopened from the database starts with none: its lookups then read
        those keys' rows and ``_ranked`` ignores them, as before the mark.)"""
        if run_id is None:
            return set()
        return self._run_boilerplates.setdefault(run_id, set())

    # -- lookups -------------------------------------------------------------------

    def _postings(
        self, delivered: list[int], pending: list[int], run_id: str | None
    ) -> list[tuple[int, int, int]]:
        """(key, story, share) of the ``delivered`` keys (signed) in delivered
        stories, and of the ``pending`` ones in run ``run_id``'s. One statement
        per shape, prepared once (sqlite3's statement cache)."""
        if not pending:  # (most lookups)
            if not delivered:
                return []
            return self.db.execute(_DELIVERED_POSTINGS[len(delivered)], delivered).fetchall()
        parts: list[str] = []
        params: list[int | str | None] = []
        if delivered:
            parts.append(_DELIVERED_POSTINGS[len(delivered)])
            params += delivered
        parts.append(
            "SELECT key, story, share FROM neardup_pending_keys"
            f" WHERE run_id = ? AND key IN ({_marks(len(pending))})"
        )
        params += [run_id, *pending]
        return self.db.execute(" UNION ALL ".join(parts), params).fetchall()

    @staticmethod
    def _ranked(
        rows: list[tuple[int, int, int]], mine: dict[int, int], probed: int, exclude: int | None
    ) -> list[tuple[int, int]]:
        """The stories of ``rows`` sharing a key that is not boilerplate, whose
        shared keys hold ``MIN_KEY_SHARE`` of their key letters or of the body's
        (``mine``: the body's share of each key, per mille; ``probed``: the
        share of the keys probed so far); those sharing the most first, as
        (-score, story)."""
        if len(rows) < KEY_MAX_STORIES:  # (most lookups) no key can be boilerplate
            boilerplate: set[int] | tuple[()] = ()
            ours_total = max(probed, 1)
        else:
            postings = Counter(map(itemgetter(0), rows))
            boilerplate = {k for k, n in postings.items() if n >= KEY_MAX_STORIES}
            # The body's letters outside boilerplate keys: what a story can share.
            ours_total = max(probed - sum(mine[k] for k in boilerplate), 1)
        theirs: dict[int, int] = {}  # story: its share (per mille) of the shared keys
        ours: dict[int, int] = {}  # story: the body's share of them, not boilerplate
        for key, story, share in rows:
            if story != exclude:
                theirs[story] = theirs.get(story, 0) + share
                if key not in boilerplate:
                    ours[story] = ours.get(story, 0) + mine[key]
        # A story sharing only boilerplate is not a candidate: the boilerplate
        # identifies no story.
        ranked = []
        for story, our_share in ours.items():
            score = max(theirs[story], our_share * 1000 // ours_total)
            if score >= _MIN_KEY_SHARE:
                ranked.append((-score, story))
        if len(ranked) > 1:
            ranked.sort()
        return ranked

    def find(
        self, body: str, run_id: str | None = None, *, exclude_url: str | None = None
    ) -> NearMatch | None:
        """The known story ``body`` is a near copy of, delivered by an earlier run
        or added by run ``run_id``: the closest, if several (the first of equally
        close ones; the first found sharing ``CLOSE_ENOUGH`` of the letters; those
        sharing the body's ``FIRST_PROBES`` least keys before the others, which
        are not read once one of the first is near, or when no story has any of
        the first: distinct known stories are not near one another, and a copy
        keeps nearly all of its story's least keys; the sole holder of the least
        key before all, ``EARLY_PROBES``).
        ``exclude_url`` (the item's own URL) never matches: a story re-fetched
        after a crash must not copy itself."""
        return self.find_fingerprint(Fingerprint(body), run_id, exclude_url=exclude_url)

    def find_fingerprint(
        self, fp: Fingerprint, run_id: str | None = None, *, exclude_url: str | None = None
    ) -> NearMatch | None:
        if not fp.indexable:
            return None
        probe = fp.keys(probe=True)
        boilerplate, run_boilerplate = self.boilerplate, self._run_boilerplate(run_id)
        if not (boilerplate.isdisjoint(probe) and run_boilerplate.isdisjoint(probe)):
            # Keys marked boilerplate identify no story: they are neither read nor
            # counted, and the rounds are made of the others (in the templated
            # replica most copies have one among their two least).
            probe = [k for k in probe if k not in boilerplate and k not in run_boilerplate]
        delivered_keys = self.filter
        run_keys = self._run_filter(run_id)
        # Only the first round's keys are tested before it is known whether any
        # story has one: most new stories end here, with no read at all.
        first = probe[:FIRST_PROBES]
        delivered = delivered_keys.known(first)
        pending = run_keys.known(first) if run_keys is not None else []
        rows: list[tuple[int, int, int]] = []
        # Keys whose rows are all in ``rows`` (none, if no filter lets them through).
        settled = set(first)
        self._last_read = _Read(fp, run_id, self._changes, settled, rows)
        if not delivered and not pending:
            return None  # none of the least keys is known: not a copy (see find)
        # The body's share of each key, per mille, counted for its KEYS_PER_STORY
        # least only (up to ``last``): the sample a story of this text would have
        # indexed (a story shares none of the keys it did not sample).
        last, total = fp.keys()[-1], sum(fp.letters_of_keys()) or 1
        letters = fp._by_key
        exclude = None if exclude_url is None else story_of(exclude_url)
        # Two rounds: the FIRST_PROBES least keys, then (unless a close copy was
        # found) the others. A copy shares nearly all of them, and each key
        # found is a B-tree read: most copies are settled by the first.
        mine: dict[int, int] = {}  # key: the body's share, per mille
        probed = 0
        verified: list[int] = []
        best: tuple[tuple[float, int, int], NearMatch] | None = None
        early = probe[:EARLY_PROBES]
        if len(early) == EARLY_PROBES and all(k in delivered or k in pending for k in early):
            rows += self._postings(
                [k for k in delivered if k in early], [k for k in pending if k in early], run_id
            )
            delivered = [k for k in delivered if k not in early]
            pending = [k for k in pending if k not in early]
            holders = {story for _, story, _ in rows}  # (none: the filter's false positives)
            if len(rows) == len(early) and len(holders) == 1 and exclude not in holders:
                (story,) = holders
                verified.append(story)
                best = self._verify(fp, [(-1000, story)], run_id, None)
                if best is not None and -best[0][0] >= MIN_SHARED_WHEN_ADDED_OR_CUT:
                    settled.difference_update(delivered + pending)  # known, not read
                    return best[1]
        for start, stop in ((0, FIRST_PROBES), (FIRST_PROBES, len(probe))):
            keys = probe[start:stop]
            if not keys:
                break
            ours = {k: letters[k] * 1000 // total if k <= last else 0 for k in keys}
            probed += sum(ours.values())
            mine.update(ours)
            if start:
                delivered = delivered_keys.known(keys)
                pending = run_keys.known(keys) if run_keys is not None else []
                settled.update(keys)
                if not delivered and not pending:
                    break  # none of the other keys is known either
            if delivered or pending:
                rows += self._postings(delivered, pending, run_id)
            ranked = self._ranked(rows, mine, probed, exclude)
            if verified:
                ranked = [r for r in ranked if r[1] not in verified]
            if not ranked:
                continue
            verified += [story for _, story in ranked]
            best = self._verify(fp, ranked, run_id, best)
            # A near story sharing little of the body (a flash its first sentence
            # opens) may not be the closest: the others are probed too.
            if best is not None and -best[0][0] >= MIN_SHARED_WHEN_ADDED_OR_CUT:
                break
        return None if best is None else best[1]

    def _verify(
        self,
        fp: Fingerprint,
        ranked: list[tuple[int, int]],
        run_id: str | None,
        best: tuple[tuple[float, int, int], NearMatch] | None,
    ) -> tuple[tuple[float, int, int], NearMatch] | None:
        """The closest near copy among the ``ranked`` stories (each of their
        versions) and ``best``, with its rank. Texts are compared in the order of
        their stories' scores, and of equal scores the first added first (the one
        named if two stories hold the same text)."""
        stories = [story for _, story in ranked]
        rows = self.db.execute(_DOCS[len(stories)], [*stories, run_id]).fetchall()
        if len(rows) > 1:
            order = {story: score for score, story in ranked}  # story: -score
            rows.sort(key=lambda row: (order[row[0]], row[1]))
        sentences = fp.sentences
        for _, doc, url, blob in rows:
            found = resemblance(sentences, Sentences.from_blob(blob))
            if not found.near:
                continue
            # The closest story wins; of equally close ones, the first delivered.
            rank = (-found.shared_share, found.places, doc)
            if best is None or rank < best[0]:
                best = (rank, NearMatch(url, found))
            if found.shared_share >= CLOSE_ENOUGH:
                break
        return best

    # -- changes -------------------------------------------------------------------

    def add(self, url: str, body: str, run_id: str) -> bool:
        """Store the fingerprint of a story run ``run_id`` will deliver (a story or
        a new version of one). Returns False for a body too short to fingerprint
        (``MIN_TOKENS``)."""
        return self.add_fingerprint(url, Fingerprint(body), run_id)

    def add_fingerprint(
        self, url: str, fp: Fingerprint, run_id: str, *, copy: bool = False
    ) -> bool:
        """``copy``: ``fp`` is of a near copy of story ``url``, dropped as such. It is
        kept as one more text of that story, so that a later copy made from the
        copy (a sentence cut from the copy, not from the story) is still found."""
        if not fp.indexable:
            return False
        story = story_of(url)
        run_keys = self._run_filter(run_id)
        if run_keys is None:
            run_keys = self._run_keys[run_id] = KeyFilter.empty(_RUN_FILTER_BITS_LOG2)
        # Keys known to be boilerplate are neither read nor stored (nor counted in
        # the shares, even if an earlier version of the story holds one).
        delivered_boilerplate, run_boilerplate = self.boilerplate, self._run_boilerplate(run_id)
        sampled = [
            (k, n)
            for k, n in zip(fp.keys(), fp.letters_of_keys(), strict=True)
            if k not in delivered_boilerplate and k not in run_boilerplate
        ]
        keys = [k for k, _ in sampled]
        # Which keys other stories hold: the rows the lookup of ``fp`` read, and
        # of the other keys those the filters let through (usually none of a new
        # story's).
        rows: list[tuple[int, int, int]] = []
        last = self._last_read
        if (
            last is not None
            and last.fp is fp
            and last.run_id == run_id
            and last.changes == self._changes
        ):
            wanted = set(keys)
            rows = [row for row in last.rows if row[0] in wanted]
            keys = [k for k in keys if k not in last.settled]
        rows += self._postings(self.filter.known(keys), run_keys.known(keys), run_id)
        # Of equally close texts the first added is named: ids follow the clock.
        self._last_id = max(time.time_ns(), self._last_id + 1)
        # One transaction: in autocommit each of the ~12 key inserts would be a
        # WAL commit of its own.
        with _savepoint(self.db, "neardup_add"):
            # Keys that are boilerplate already (held by KEY_MAX_STORIES other
            # stories) are not stored, and the shares are of the keys the story
            # holds; keys it holds already (an earlier version) keep their row.
            known: dict[int, tuple[int, bool]] = {}  # key: (holders, this story's?)
            for key, holder, _ in rows:
                n, mine = known.get(key, (0, False))
                known[key] = (n + 1, mine or holder == story)
            held = [
                (k, n, k in known and known[k][1])
                for k, n in sampled
                if k not in known or known[k][0] < KEY_MAX_STORIES or known[k][1]
            ]
            total = sum(n for _, n, _ in held) or 1
            self.db.execute(
                "INSERT INTO neardup_docs (story, id, url, run_id, delivered, sentences, copy)"
                " VALUES (?, ?, ?, ?, 0, ?, ?)",
                (story, self._last_id, url, run_id, fp.sentences.to_blob(), int(copy)),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO neardup_pending_keys (run_id, key, story, share)"
                " VALUES (?, ?, ?, ?)",
                [(run_id, k, story, n * 1000 // total) for k, n, mine in held if not mine],
            )
        self._changes += 1
        stored = [k for k, _, mine in held if not mine]
        run_keys.add(stored)
        # The keys this story brought to the cap: the run's lookups skip them from
        # now on, as all lookups will once ``promote`` marks them.
        run_boilerplate.update(k for k in stored if known.get(k, (0,))[0] + 1 >= KEY_MAX_STORIES)
        return True

    def promote(self, run_id: str) -> int:
        """Make permanent the fingerprints of the stories run ``run_id`` delivered,
        and forget its other adds. Call right after ``StateStore.mark_delivered()``:
        a story counts as delivered when the state's ``stories`` table says so (in a
        database without that table, every add of the run is promoted). Returns how
        many fingerprints were promoted."""
        # Correlated EXISTS: one primary-key probe per story of the run, where
        # ``url IN (SELECT url FROM stories …)`` would read every delivered URL
        # (O(archive)).
        # Delivered by this run: a correction added and then not written must not
        # be promoted because an earlier run delivered the story. A copy's text is
        # promoted if its story is delivered, by this run or an earlier one.
        delivered = (
            " AND EXISTS (SELECT 1 FROM stories WHERE stories.url = neardup_docs.url"
            " AND stories.outcome = 'delivered'"
            " AND (neardup_docs.copy = 1 OR stories.run_id = neardup_docs.run_id))"
            if self._has_stories
            else ""
        )
        # This run's promoted stories, found through the pending index (O(run)).
        promoted = "(SELECT story FROM temp.neardup_promoted)"
        with _savepoint(self.db, "neardup_promote"):
            self.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS neardup_promoted (story INTEGER PRIMARY KEY)"
            )
            self.db.execute("DELETE FROM temp.neardup_promoted")
            self.db.execute(
                "INSERT OR IGNORE INTO temp.neardup_promoted SELECT story FROM neardup_docs"
                f" WHERE run_id = ? AND delivered = 0{delivered}",
                (run_id,),
            )
            count = self.db.execute(
                "UPDATE neardup_docs SET delivered = 1"
                f" WHERE run_id = ? AND delivered = 0 AND story IN {promoted}",
                (run_id,),
            ).rowcount
            # Streamed: a 50k-story backfill holds ~600k keys, ~60 MB as Python rows.
            added = KeyFilter.empty()
            cursor = self.db.execute(
                f"SELECT key FROM neardup_pending_keys WHERE run_id = ? AND story IN {promoted}",
                (run_id,),
            )
            while rows := cursor.fetchmany(1 << 16):
                keys = list(map(itemgetter(0), rows))
                added.add(keys)
                if self._filter is not None:
                    self._filter.add(keys)
            added.merge_stored(self.db)
            # In key order: B-tree leaves written once each. The cap needs no
            # check here: ``add`` counted this run's pending holders too.
            self.db.execute(
                "INSERT OR IGNORE INTO neardup_keys (key, story, share)"
                " SELECT key, story, share FROM neardup_pending_keys"
                f" WHERE run_id = ? AND story IN {promoted} ORDER BY key",
                (run_id,),
            )
            # The keys this run brought to the cap are boilerplate from now on.
            self.db.execute(
                "INSERT OR IGNORE INTO neardup_boilerplate SELECT key FROM neardup_keys"
                " WHERE key IN (SELECT key FROM neardup_pending_keys"
                f" WHERE run_id = ? AND story IN {promoted})"
                f" GROUP BY key HAVING count(*) >= {KEY_MAX_STORIES}",
                (run_id,),
            )
            self._boilerplate = None  # read again at the next lookup
            self._discard("= ?", (run_id,))
        self._run_keys.clear()
        self._run_boilerplates.clear()
        self._changes += 1
        return count

    def discard_other_runs(self, run_id: str) -> int:
        """Forget what runs other than ``run_id`` added and never delivered (they
        died before their file was in place). Call next to ``StateStore.start_run()``.
        Returns how many fingerprints were discarded."""
        self._run_keys.clear()
        self._run_boilerplates.clear()
        self._changes += 1
        with _savepoint(self.db, "neardup_discard"):
            return self._discard("!= ?", (run_id,))

    def _discard(self, run_test: str, params: tuple[str, ...]) -> int:
        self.db.execute(f"DELETE FROM neardup_pending_keys WHERE run_id {run_test}", params)
        return self.db.execute(
            f"DELETE FROM neardup_docs WHERE delivered = 0 AND run_id {run_test}", params
        ).rowcount

    def count(self, *, delivered: bool = True) -> int:
        """How many fingerprints are delivered (or pending)."""
        return self.db.execute(
            "SELECT count(*) FROM neardup_docs WHERE delivered = ?", (int(delivered),)
        ).fetchone()[0]


class _Read(NamedTuple):
    """What a lookup read: the rows of the ``settled`` keys of ``fp``, for run
    ``run_id``, when the index had made ``changes`` writes."""

    fp: Fingerprint
    run_id: str | None
    changes: int
    settled: set[int]
    rows: list[tuple[int, int, int]]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class _Statements(dict[int, str]):
    """A statement's text per number of values in its ``IN (...)``, made once."""

    def __init__(self, template: str, joined: str | None = None) -> None:
        super().__init__()
        self.template, self.joined = template, joined

    def __missing__(self, n: int) -> str:
        if self.joined is None:
            text = self.template.format(marks=_marks(n))
        else:
            text = self.joined.join([self.template] * n)
        self[n] = text
        return text


# One SELECT a key, joined: a tenth faster than ``key IN (...)`` (no ephemeral
# table for the list).
_DELIVERED_POSTINGS = _Statements(
    "SELECT key, story, share FROM neardup_keys WHERE key = ?", " UNION ALL "
)
_DOCS = _Statements(
    "SELECT story, id, url, sentences FROM neardup_docs WHERE story IN ({marks})"
    " AND (delivered = 1 OR run_id = ?)"
)


class _savepoint:
    """A savepoint: atomic on its own, and nested inside a caller's transaction."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self.db, self.name = db, name

    def __enter__(self) -> None:
        self.db.execute(f"SAVEPOINT {self.name}")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.db.execute(f"ROLLBACK TO {self.name}")
        self.db.execute(f"RELEASE {self.name}")
