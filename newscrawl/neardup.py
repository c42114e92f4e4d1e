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
   indexed query whatever the number of known stories. A key sentence is hashed
   over its letters and digits alone, so case, punctuation, whitespace and the lead
   do not change it; it ends at a line end or at a period not after a single
   letter, so "U.S." respelled "US" moves no key boundary. The edits that make a
   copy are whole sentences added or cut, so a copy keeps most of its story's key
   sentences, while distinct stories share a few at most. A story indexes the
   ``KEYS_PER_STORY`` key sentences with the least keys (all of a short story's):
   a bottom-k sample, the same sentences in every copy that kept them; a lookup
   probes its ``PROBE_KEYS`` least, the ``FIRST_PROBES`` least first. A key held
   by ``KEY_MAX_STORIES`` stories is boilerplate and ignored. At a million
   stories each key probe is a disk read, so a fixed 16 MiB bit filter
   (``KeyFilter``) over the delivered keys skips the probes of keys no story has.
   Earlier versions also indexed MinHash-LSH bands over word 5-shingles; with
   the sentences sampled, recall and false merges measured the same without
   them (``bench/neardup_bench.py``), and they were about half the numpy calls of a
   lookup. SimHash was rejected before that: two sentences added to a story flip
   as many of its bits as separate the closest distinct stories.
2. **Verification** (precision): the two stories compared sentence by sentence,
   from a stored list of sentence hashes (14 bytes a sentence). The edits that
   make a copy are whole-sentence edits, while distinct stories on one topic differ
   inside many sentences. A candidate is the same story when sentences were only
   added or cut, in at most ``MAX_EDIT_PLACES`` places, or, if some were replaced,
   when the shared sentences hold ``MIN_SHARED_WHEN_REPLACED`` of the words. Of
   several such stories the closest is named. A candidate whose shared key
   sentences hold less than ``MIN_KEY_SHARE`` of the letters of either side's
   sampled sentences is not even read: a copy shares nearly all of one side's
   (the known story's when sentences were added, its own when cut), a distinct
   story a template sentence or two. Keys known to be boilerplate
   (``neardup_boilerplate``) are not even probed.

Normalization makes case, punctuation, whitespace, non-ASCII punctuation (and
non-ASCII letters: the site is English) and the ``(ECNS) -- `` lead irrelevant. A
sentence is hashed over its letters and digits alone, with a polynomial hash that
composes (``h(a + b) = h(a) + P**len(a) * h(b)``), so a boundary that punctuation
moved ("U.S." written "US", two sentences joined by a semicolon) is found again by
re-joining neighbours. Each step is one pass of a bytes method or a numpy call
over the whole body: a lookup is dominated by per-call overhead, not by bytes.

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
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

# --- thresholds and sizes --------------------------------------------------------

# Key sentences a story indexes: those with the least keys (a bottom-k sample,
# ~9 a real story on average). A copy with sentences cut keeps most of them: 12
# of a 30-sentence story leave a copy that lost two at least 10 to be found by.
KEYS_PER_STORY = 12
# A lookup probes its least keys in two rounds: these first; the others only if
# none of these found a near copy, and not at all if no story has any of these.
# A copy's least keys are nearly all its story's least (it added or changed a few
# sentences), so most copies are settled, and most new stories dismissed, by the
# first round: each key a story has costs a B-tree read (~3 µs at a million
# stories). Recall measured the same with 4 as with all at once.
FIRST_PROBES = 4
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
# At 0.4 recall measured as with no threshold at all, while half of the other
# candidates of the benchmarks (distinct stories sharing a template sentence or
# two) are not read; at 0.5 a two-sentence flash whose second sentence is
# boilerplate fell below it.
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
# Sentences (split at every period, so "the U.S. President" is two) a copy may add
# or cut whatever the story's length: two sentences, each cut in two, plus one.
MAX_SENTENCES_ADDED_OR_CUT = 5
# ... or more, in a long story, while the shared sentences hold this share of the
# words of the longer side. (A one-sentence flash and the full story that opens
# with it share ~5%.)
MIN_SHARED_WHEN_ADDED_OR_CUT = 0.5
# When sentences were replaced (cut in one place, others added: an edited
# sentence), the shared ones must hold this share of the words of the longer side.
# Distinct flashes sharing their boilerplate second sentence reach 0.48, distinct
# stories of the replica 0.44.
MIN_SHARED_WHEN_REPLACED = 0.75
# A known story sharing this share of the words is the one a copy copies: distinct
# known stories are never near one another, so no other can be closer, and the
# lookup verifies no further candidates.
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
# Bytes tables (one C call a pass). Word bytes: ASCII letters and digits; every
# other byte, non-ASCII ones included (curly quotes, dashes, no-break spaces, and
# the rare accented letter), separates words.
_WORD = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_IS_WORD = bytes(1 if c in _WORD else 0 for c in range(256))
# Sentence structure: a sentence ends at . ! or ? followed by a space, a tab, a
# closing quote or bracket or a non-ASCII byte (curly quotes, no-break space), and
# at a line end (paragraphs are separate <p> blocks).
_SPACE, _LINE, _STOP = 1, 4, 5
_STRUCTURE = bytes(
    _STOP if c in b".!?" else _SPACE if c in b" \t\r\"')]" or c >= 128 else _LINE if c == 10 else 0
    for c in range(256)
)


def normalize(body: str) -> bytes:
    """The body as UTF-8, ASCII letters lowered, without the agency lead. Which
    bytes are letters, punctuation or sentence ends is left to byte tables."""
    data = body.encode("utf-8", "surrogatepass").lower()
    found = data.find(b"ecns")
    if found < 0:
        return data
    # The lead regex runs on the few bytes around each "ecns" only: over a whole
    # body it costs ~10 ns a byte (30 µs), more than the rest of a fingerprint.
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


# --- hashing ---------------------------------------------------------------------

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
# Polynomial hashing modulo 2**64: any span's hash comes from two prefix sums.
_POLY = 0x100000001B3 * 2 + 1  # odd, so it has an inverse modulo 2**64
_POLY_INV = pow(_POLY, -1, 1 << 64)
_MIX = _U64(0xD6E8FEB86659FD93)
_KEY_HIGH = _U64(0xFFFFFFFFFFFF0000)


class _Powers:
    """Powers of the polynomial base and of its inverse, grown on demand."""

    def __init__(self) -> None:
        self.size = 0
        self.up = np.empty(0, dtype=_U64)
        self.down = np.empty(0, dtype=_U64)
        self.down_key = np.empty(0, dtype=_U64)

    def ensure(self, size: int) -> None:
        if size <= self.size:
            return
        size = max(size, 1 << 16, 2 * self.size)
        for name, base in (("up", _POLY), ("down", _POLY_INV)):
            seq = np.full(size, base, dtype=_U64)
            seq[0] = 1
            setattr(self, name, np.cumprod(seq))
        # A key sentence's key is its hash times _MIX (odd: no two hashes share a
        # key), which spreads every bit over the high bits the filter and the
        # least-hash sample use; folded into the powers, it costs no extra pass.
        self.down_key = self.down * _MIX
        self.size = size


_POWERS = _Powers()
_POWERS.ensure(1 << 16)


def story_of(url: str) -> int:
    """The story a URL names, as a signed 64-bit key: every version of it shares it."""
    digest = hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


# --- one body --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sentences:
    """A story as the verification sees it, sentence by sentence, in order: the
    hash of each sentence's letters and digits, their number, and its words."""

    hashes: Sequence[int]  # signed 64-bit
    lengths: Sequence[int]  # letters and digits
    sizes: Sequence[int]  # words

    def to_blob(self) -> bytes:
        return (
            np.array(self.hashes, dtype="<i8").tobytes()
            + np.array(self.lengths, dtype="<u4").tobytes()
            + np.array(self.sizes, dtype="<u2").tobytes()
        )

    @classmethod
    def from_blob(cls, blob: bytes) -> Sentences:
        n = len(blob) // 14
        hashes, lengths, sizes = array("q"), array("I"), array("H")
        hashes.frombytes(blob[: 8 * n])
        lengths.frombytes(blob[8 * n : 12 * n])
        sizes.frombytes(blob[12 * n :])
        if sys.byteorder != "little":  # stored little-endian
            for part in (hashes, lengths, sizes):
                part.byteswap()
        return cls(hashes, lengths, sizes)  # arrays: read-only use, no tuple copies


class Fingerprint:
    """What the index needs of one body. The words, letters and sentence ends are
    found and the letters hashed at once (~30 numpy calls, ~20 µs for 2,800
    bytes; each call costs ~0.5 µs whatever its few thousand bytes); the key
    sentences and the sentences for verification only when asked for, so a body
    that is too short, or whose keys no story has, costs no more."""

    def __init__(self, body: str) -> None:
        data = self.data = normalize(body)
        # 1 for word bytes, with a 0 on either side: word i is
        # data[starts[i]:stops[i]].
        is_word = np.frombuffer(b"\0" + data.translate(_IS_WORD) + b"\0", dtype=np.uint8)
        edges = np.flatnonzero(is_word[1:] != is_word[:-1])
        starts, stops = edges[0::2], edges[1::2]
        self.tokens = n = len(starts)
        # The letters and digits alone (numpy's compress beats bytes.translate
        # with a delete argument, 3 µs against 5 on a 2,800-byte body).
        raw = np.frombuffer(data, dtype=np.uint8)
        letters = np.compress(is_word[1:-1].view(np.bool_), raw)
        m = self.letters = len(letters)
        _POWERS.ensure(m + 1)
        self._prefix = prefix = np.zeros(m + 1, dtype=_U64)
        np.cumsum(letters * _POWERS.up[:m], out=prefix[1:])
        # Sentence ends (byte positions): a stop before a space-like byte, and line
        # ends. A stop that ends the body ends nothing that follows (the 0 after).
        marks = np.frombuffer((data + b"\0").translate(_STRUCTURE), dtype=np.uint8)
        ends = np.flatnonzero(marks >= _LINE)
        kind = marks[ends]
        self._line = line = kind == _LINE
        ending = line | (marks[ends + 1] == _SPACE)
        if not ending.all():
            ends, self._line = ends[ending], line[ending]
        self._ends = ends
        # Per end: the words before it, and the letters (those of the words).
        self._sizes = sizes = stops - starts
        self._words_before = at = np.searchsorted(starts, ends)
        letters_before = np.zeros(n + 1, dtype=np.intp)
        np.cumsum(sizes, out=letters_before[1:])
        self._cut = letters_before[at]
        self._starts = starts
        self._sentences: Sentences | None = None
        self._keys: tuple[np.ndarray, list[int]] | None = None

    @property
    def indexable(self) -> bool:
        return self.tokens >= MIN_TOKENS

    @property
    def text_hash(self) -> int:
        """The hash of all letters and digits: equal when only case, punctuation,
        whitespace or the lead changed (for revisits: is the page unchanged?)."""
        return int(self._prefix[-1:].view(np.int64)[0])

    def _bounds(self, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The non-empty sentences ending at letter positions ``cut``: their first
        letter positions, the positions past their end, and which of the
        ``len(cut) + 1`` pieces they are."""
        bounds = np.empty(len(cut) + 2, dtype=np.intp)
        bounds[0], bounds[-1] = 0, self.letters
        bounds[1:-1] = cut
        lo, hi = bounds[:-1], bounds[1:]
        keep = hi > lo
        return lo[keep], hi[keep], keep

    @property
    def sentences(self) -> Sentences:
        """The sentences, split at every sentence end: an edit at any falls on a
        boundary."""
        if self._sentences is None:
            lo, hi, keep = self._bounds(self._cut)
            hashes = (self._prefix[hi] - self._prefix[lo]) * _POWERS.down[lo]
            # Words: those starting between the two ends.
            at = np.empty(len(self._ends) + 2, dtype=np.intp)
            at[0], at[-1] = 0, self.tokens
            at[1:-1] = self._words_before
            words = (at[1:] - at[:-1])[keep]
            self._sentences = Sentences(
                hashes.view(np.int64).tolist(),
                (hi - lo).tolist(),
                np.minimum(words, 0xFFFF).tolist(),
            )
        return self._sentences

    def _key_sentences(self) -> tuple[np.ndarray, list[int]]:
        """All key sentences, as ascending distinct keys (unsigned 64-bit), and
        the letters of each."""
        if self._keys is None and not self.tokens:
            self._keys = (np.empty(0, dtype=_U64), [])
        if self._keys is None:
            # A stop ends a key sentence unless the word before it is a single
            # letter ("U.S."); a line end always does. (Abbreviations such as
            # "Jan." were exempted too: no copy of the benchmarks needed it.)
            single = self._sizes[self._words_before - 1] == 1
            surely = ~single | self._line | (self._words_before == 0)
            lo, hi, _ = self._bounds(self._cut[surely])
            # The key: the mixed hash's high 48 bits, the sentence's letters in the
            # low 16 (a function of the sentence too), so one sort orders both.
            mixed = (self._prefix[hi] - self._prefix[lo]) * _POWERS.down_key[lo]
            keys = np.sort((mixed & _KEY_HIGH) | np.minimum(hi - lo, 0xFFFF).astype(_U64))
            if len(keys) > 1 and (same := keys[1:] == keys[:-1]).any():
                keys = keys[np.concatenate(([True], ~same))]  # a sentence said twice
            letters = (keys & _U64(0xFFFF)).tolist()
            self._keys = (keys, letters)
        return self._keys

    def keys(self, *, probe: bool = False) -> np.ndarray:
        """The keys (unsigned 64-bit, ascending) a story indexes, or that a lookup
        probes (``probe``): those of the key sentences with the least hash."""
        return self._key_sentences()[0][: PROBE_KEYS if probe else KEYS_PER_STORY]

    def letters_of_keys(self, *, probe: bool = False) -> list[int]:
        """The letters of each key sentence of ``keys(probe=...)``."""
        return self._key_sentences()[1][: PROBE_KEYS if probe else KEYS_PER_STORY]

    def shares(self, *, probe: bool = False) -> list[int]:
        """For each of ``keys(probe=...)``: its share of their letters, per mille."""
        letters = self.letters_of_keys(probe=probe)
        total = sum(letters) or 1
        return [n * 1000 // total for n in letters]


# --- the verification ------------------------------------------------------------

# Neighbouring sentences re-joined at most when looking for a boundary moved by
# punctuation (a sentence with seven "U.S." is eight pieces; the real export has
# sentences with five).
_MAX_JOINED = 8


@dataclass(frozen=True, slots=True)
class Resemblance:
    """How a story compares with a known one, sentence by sentence."""

    shared: int  # sentences in both (a re-joined group counts once)
    added: int  # sentences only in the story looked up
    cut: int  # sentences only in the known story
    places: int  # runs of consecutive added or cut sentences, both sides
    shared_share: float  # words in shared sentences / words of the longer story

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
            f" in {self.places} places, {self.shared_share:.0%} of the words shared"
        )


def _unmatched(side: Sentences, other: Sentences) -> list[int]:
    """Positions of ``side`` whose sentence ``other`` lacks (as multisets)."""
    pool = Counter(other.hashes)
    left: list[int] = []
    for i, h in enumerate(side.hashes):
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
    punctuation). Hashes are composed (``h(a + b) = h(a) + P**len(a) * h(b)``), and
    only for runs as long as such a sentence. Returns the positions used on each
    side."""
    by_length: dict[int, list[int]] = {}
    for k in other_left:
        by_length.setdefault(other.lengths[k], []).append(k)
    free = set(left)
    used: set[int] = set()
    used_other: set[int] = set()
    for i in left:
        total = 0
        for j in range(i, i + _MAX_JOINED):
            if j not in free or j in used:
                break
            total += side.lengths[j]
            if j == i or total not in by_length:
                continue
            h, offset = 0, 0
            for p in range(i, j + 1):
                h = (h + pow(_POLY, offset, 1 << 64) * (side.hashes[p] & _MASK64)) & _MASK64
                offset += side.lengths[p]
            match = next(
                (
                    k
                    for k in by_length[total]
                    if k not in used_other and other.hashes[k] & _MASK64 == h
                ),
                None,
            )
            if match is not None:
                used.update(range(i, j + 1))
                used_other.add(match)
                break
    return used, used_other


def _runs(positions: Sequence[int]) -> int:
    """How many runs of consecutive numbers ``positions`` (sorted) holds."""
    return sum(1 for i, p in enumerate(positions) if i == 0 or positions[i - 1] != p - 1)


def resemblance(new: Sentences, known: Sentences) -> Resemblance:
    """Compare a story with a known one as multisets of sentences, weighted by
    words. Runs of unmatched sentences whose letters are the same on both sides
    (a boundary moved by punctuation) count as shared."""
    new_set, known_set = set(new.hashes), set(known.hashes)
    if len(new_set) == len(new.hashes) and len(known_set) == len(known.hashes):
        only_new = [i for i, h in enumerate(new.hashes) if h not in known_set]
        only_known = [i for i, h in enumerate(known.hashes) if h not in new_set]
    else:  # a sentence said twice: as multisets
        only_new = _unmatched(new, known)
        only_known = _unmatched(known, new)
    shared = len(new.hashes) - len(only_new)
    if only_new and only_known:
        for a, a_left, b, b_left, swap in (
            (new, only_new, known, only_known, False),
            (known, only_known, new, only_new, True),
        ):
            used, used_other = _rejoin(a, a_left, b, b_left)
            if used:
                shared += len(used_other)
                used_new, used_known = (used_other, used) if swap else (used, used_other)
                only_new = [i for i in only_new if i not in used_new]
                only_known = [i for i in only_known if i not in used_known]
    new_words = sum(new.sizes)
    shared_words = new_words - sum(new.sizes[i] for i in only_new)
    longer = max(new_words, sum(known.sizes)) or 1
    return Resemblance(
        shared=shared,
        added=len(only_new),
        cut=len(only_known),
        places=_runs(only_new) + _runs(only_known),
        shared_share=shared_words / longer,
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
    its high bits (keys are hashes multiplied by an odd constant: well mixed)."""

    def __init__(self, bits: np.ndarray) -> None:
        self.bits = bits
        bits_log2 = (len(bits) * 8).bit_length() - 1
        self.shift = 64 - bits_log2
        self._bytes: bytearray | None = None

    def _lookup_bytes(self) -> bytearray:
        """The bits as a bytearray that ``bits`` shares (made on the first lookup):
        lookups test a handful of keys, and Python ints on a bytearray beat a
        dozen numpy calls on arrays of 20 (~1.5 µs against ~4)."""
        if self._bytes is None:
            base = self.bits.base
            if isinstance(base, memoryview) and isinstance(base.obj, bytearray):
                self._bytes = base.obj
            else:
                self._bytes = bytearray(self.bits.tobytes())
                self.bits = np.frombuffer(self._bytes, dtype=np.uint8)
        return self._bytes

    def _positions(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slot = keys >> _U64(self.shift)
        return (slot >> _U64(3)).astype(np.intp), np.left_shift(1, slot & _U64(7)).astype(np.uint8)

    def may_contain(self, keys: np.ndarray) -> np.ndarray:
        byte, mask = self._positions(keys)
        return (self.bits[byte] & mask) != 0

    def may_contain_any(self, keys: list[int]) -> list[bool]:
        """``may_contain`` for unsigned keys given as Python ints."""
        data, shift, byte_shift = self._lookup_bytes(), self.shift, self.shift + 3
        return [bool(data[k >> byte_shift] >> ((k >> shift) & 7) & 1) for k in keys]

    def add(self, keys: np.ndarray) -> None:
        byte, mask = self._positions(keys)
        np.bitwise_or.at(self.bits, byte, mask)

    def merge_stored(self, db: sqlite3.Connection) -> None:
        """OR these bits into the stored filter, only the chunks that have any (read,
        merge, write: another process may have stored bits since)."""
        chunks = self.bits.reshape(-1, _FILTER_CHUNK)
        for chunk in np.flatnonzero(chunks.any(axis=1)).tolist():
            row = db.execute("SELECT bits FROM neardup_filter WHERE chunk = ?", (chunk,)).fetchone()
            bits = chunks[chunk].copy()
            if row is not None:
                bits |= np.frombuffer(row[0], dtype=np.uint8)
            db.execute(
                "INSERT OR REPLACE INTO neardup_filter (chunk, bits) VALUES (?, ?)",
                (chunk, bits.tobytes()),
            )

    @classmethod
    def empty(cls, bits_log2: int = FILTER_BITS_LOG2) -> KeyFilter:
        return cls(np.zeros(1 << (bits_log2 - 3), dtype=np.uint8))

    @classmethod
    def load(cls, db: sqlite3.Connection) -> KeyFilter:
        bits = np.frombuffer(bytearray(_FILTER_BYTES), dtype=np.uint8)
        for chunk, blob in db.execute("SELECT chunk, bits FROM neardup_filter"):
            bits[chunk * _FILTER_CHUNK : (chunk + 1) * _FILTER_CHUNK] = np.frombuffer(
                blob, dtype=np.uint8
            )
        return cls(bits)

    def store(self, db: sqlite3.Connection, chunks: Sequence[int]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO neardup_filter (chunk, bits) VALUES (?, ?)",
            (
                (int(c), self.bits[c * _FILTER_CHUNK : (c + 1) * _FILTER_CHUNK].tobytes())
                for c in chunks
            ),
        )


# --- the index -------------------------------------------------------------------

# ``story``: ``story_of(url)``, shared by a story's versions. ``share``: the key
# sentence's letters per mille of the letters of the story's indexed ones. A run's
# keys wait in ``neardup_pending_keys`` until ``promote`` moves them, in key
# order, into ``neardup_keys``: an add then writes ~11 pages a commit instead of
# ~17 (a dozen random leaves of the big table). ``neardup_boilerplate``: the
# delivered keys that reached ``KEY_MAX_STORIES`` holders (set by ``promote``;
# delivered keys are never removed, so a mark never goes stale): lookups skip
# them without reading their rows.
SCHEMA = """
CREATE TABLE IF NOT EXISTS neardup_docs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    story INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    text_hash INTEGER NOT NULL,
    sentences BLOB NOT NULL,
    copy INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS neardup_docs_story ON neardup_docs(story);
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
# Tables of earlier layouts (keys per version and MinHash band keys; pending keys
# beside delivered ones), dropped when found: never deployed.
_OLD_LAYOUT = "DROP TABLE IF EXISTS neardup_keys; DROP TABLE IF EXISTS neardup_docs;" + (
    " DROP TABLE IF EXISTS neardup_filter; DROP TABLE IF EXISTS neardup_boilerplate;"
)
_MIN_KEY_SHARE = int(MIN_KEY_SHARE * 1000)  # per mille, as stored
_SIGN = 1 << 63


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
        columns = {row[1] for row in db.execute("PRAGMA table_info(neardup_keys)")}
        if columns and ("story" not in columns or "pending_run" in columns):
            db.executescript(_OLD_LAYOUT)
        docs = {row[1] for row in db.execute("PRAGMA table_info(neardup_docs)")}
        if docs and "copy" not in docs:
            db.execute("ALTER TABLE neardup_docs ADD COLUMN copy INTEGER NOT NULL DEFAULT 0")
        db.executescript(SCHEMA)
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
        the bits of keys since discarded); ~5 s a million stories."""
        bits = KeyFilter.empty()
        cursor = self.db.execute("SELECT key FROM neardup_keys")
        while rows := cursor.fetchmany(1 << 16):
            bits.add(np.array(rows, dtype=np.int64).ravel().view(_U64))
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
            cursor = self.db.execute(
                "SELECT key FROM neardup_pending_keys WHERE run_id = ?", (run_id,)
            )
            found = False
            while rows := cursor.fetchmany(1 << 16):
                keys.add(np.array(rows, dtype=np.int64).ravel().view(_U64))
                found = True
            self._run_keys[run_id] = keys if found else None
        return self._run_keys[run_id]

    # -- lookups -------------------------------------------------------------------

    def _postings(
        self, delivered: list[int], pending: list[int], run_id: str | None
    ) -> list[tuple[int, int, int]]:
        """(key, story, share) of the ``delivered`` keys (signed) in delivered
        stories, and of the ``pending`` ones in run ``run_id``'s. One statement
        per shape, prepared once (sqlite3's statement cache)."""
        parts, params = [], []
        if delivered:
            parts.append(
                "SELECT key, story, share FROM neardup_keys"
                f" WHERE key IN ({_marks(len(delivered))})"
            )
            params += delivered
        if pending:
            parts.append(
                "SELECT key, story, share FROM neardup_pending_keys"
                f" WHERE run_id = ? AND key IN ({_marks(len(pending))})"
            )
            params += [run_id, *pending]
        if not parts:
            return []
        return self.db.execute(" UNION ALL ".join(parts), params).fetchall()

    @staticmethod
    def _ranked(
        rows: list[tuple[int, int, int]], mine: dict[int, int], probed: int, exclude: int | None
    ) -> list[int]:
        """The stories of ``rows`` sharing a key that is not boilerplate, whose
        shared keys hold ``MIN_KEY_SHARE`` of their key letters or of the body's
        (``mine``: the body's share of each key, per mille; ``probed``: the
        share of the keys probed so far); those sharing the most first."""
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
        ranked.sort()
        return [story for _, story in ranked]

    def find(
        self, body: str, run_id: str | None = None, *, exclude_url: str | None = None
    ) -> NearMatch | None:
        """The known story ``body`` is a near copy of, delivered by an earlier run
        or added by run ``run_id``: the closest, if several (the first of equally
        close ones; the first found sharing ``CLOSE_ENOUGH`` of the words; those
        sharing the body's ``FIRST_PROBES`` least keys before the others, which
        are not read once one of the first is near, or when no story has any of
        the first: distinct known stories are not near one another, and a copy
        keeps nearly all of its story's least keys).
        ``exclude_url`` (the item's own URL) never matches: a story re-fetched
        after a crash must not copy itself."""
        return self.find_fingerprint(Fingerprint(body), run_id, exclude_url=exclude_url)

    def find_fingerprint(
        self, fp: Fingerprint, run_id: str | None = None, *, exclude_url: str | None = None
    ) -> NearMatch | None:
        if not fp.indexable:
            return None
        probe = fp.keys(probe=True).tolist()
        delivered = self.filter.may_contain_any(probe)
        run_keys = self._run_filter(run_id)
        pending = run_keys.may_contain_any(probe) if run_keys is not None else [False] * len(probe)
        if not any(delivered) and not any(pending):
            return None  # no story has any of the keys: nothing to read
        # The body's share of each key, per mille, counted for its KEYS_PER_STORY
        # least only: the sample a story of this text would have indexed (a story
        # shares none of the keys it did not sample).
        shares = fp.shares(probe=True)
        shares[KEYS_PER_STORY:] = [0] * len(shares[KEYS_PER_STORY:])
        signed = [k - (1 << 64) if k >= _SIGN else k for k in probe]  # as SQLite stores them
        boilerplate = self.boilerplate
        exclude = None if exclude_url is None else story_of(exclude_url)
        # Two rounds: the FIRST_PROBES least keys, then (unless a close copy was
        # found) the others. A copy shares nearly all of them, and each key
        # found is a B-tree read (~3 µs): most copies are settled by the first.
        rows: list[tuple[int, int, int]] = []
        mine: dict[int, int] = {}  # signed key: the body's share, per mille
        probed = 0
        verified: set[int] = set()
        best: tuple[tuple[float, int, int], NearMatch] | None = None
        for first, last in ((0, FIRST_PROBES), (FIRST_PROBES, len(probe))):
            ours = range(first, min(last, len(probe)))
            probed += sum(shares[first:last])
            known = [i for i in ours if delivered[i] or pending[i]]
            if not known:
                break  # none of the least keys is known: not a copy (see find)
            # Keys marked boilerplate are not read, and count as boilerplate.
            marked = [i for i in known if delivered[i] and signed[i] in boilerplate]
            if marked:
                probed -= sum(shares[i] for i in marked)
                known = [i for i in known if i not in marked]
            mine.update((signed[i], shares[i]) for i in ours)
            if known:
                rows += self._postings(
                    [signed[i] for i in known if delivered[i]],
                    [signed[i] for i in known if pending[i]],
                    run_id,
                )
            stories = [s for s in self._ranked(rows, mine, probed, exclude) if s not in verified]
            if not stories:
                continue
            verified.update(stories)
            best = self._verify(fp, stories, run_id, best)
            if best is not None:
                break
        return None if best is None else best[1]

    def _verify(
        self,
        fp: Fingerprint,
        stories: list[int],
        run_id: str | None,
        best: tuple[tuple[float, int, int], NearMatch] | None,
    ) -> tuple[tuple[float, int, int], NearMatch] | None:
        """The closest near copy among ``stories`` (each of their versions) and
        ``best``, with its rank."""
        rows = self.db.execute(
            "SELECT story, id, url, sentences FROM neardup_docs WHERE story IN"
            f" ({_marks(len(stories))}) AND (delivered = 1 OR run_id = ?)",
            [*stories, run_id],
        ).fetchall()
        order = {story: i for i, story in enumerate(stories)}
        rows.sort(key=lambda row: (order[row[0]], row[1]))
        for _, doc, url, blob in rows:
            found = resemblance(fp.sentences, Sentences.from_blob(blob))
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
        keys = fp.keys()
        signed = keys.view(np.int64).tolist()
        letters = fp.letters_of_keys()
        run_keys = self._run_filter(run_id)
        if run_keys is None:
            run_keys = self._run_keys[run_id] = KeyFilter.empty(_RUN_FILTER_BITS_LOG2)
        # Which keys other stories hold: read only those the filters let through
        # (usually none of a new story's).
        unsigned = keys.tolist()
        delivered = self.filter.may_contain_any(unsigned)
        pending = run_keys.may_contain_any(unsigned)
        # One transaction: in autocommit each of the ~12 key inserts would be a
        # WAL commit of its own.
        with _savepoint(self.db, "neardup_add"):
            # Keys that are boilerplate already (held by KEY_MAX_STORIES other
            # stories) are not stored, and the shares are of the keys the story
            # holds; keys it holds already (an earlier version) keep their row.
            known: dict[int, tuple[int, bool]] = {}  # key: (holders, this story's?)
            for key, holder, _ in self._postings(
                [k for k, d in zip(signed, delivered, strict=True) if d],
                [k for k, p in zip(signed, pending, strict=True) if p],
                run_id,
            ):
                n, mine = known.get(key, (0, False))
                known[key] = (n + 1, mine or holder == story)
            held = [
                (k, n, k in known and known[k][1])
                for k, n in zip(signed, letters, strict=True)
                if k not in known or known[k][0] < KEY_MAX_STORIES or known[k][1]
            ]
            total = sum(n for _, n, _ in held) or 1
            self.db.execute(
                "INSERT INTO neardup_docs (url, story, run_id, delivered, text_hash, sentences,"
                " copy) VALUES (?, ?, ?, 0, ?, ?, ?)",
                (url, story, run_id, fp.text_hash, fp.sentences.to_blob(), int(copy)),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO neardup_pending_keys (run_id, key, story, share)"
                " VALUES (?, ?, ?, ?)",
                [(run_id, k, story, n * 1000 // total) for k, n, mine in held if not mine],
            )
        run_keys.add(keys)
        return True

    def promote(self, run_id: str) -> int:
        """Make permanent the fingerprints of the stories run ``run_id`` delivered,
        and forget its other adds. Call right after ``StateStore.mark_delivered()``:
        a story counts as delivered when the state's ``stories`` table says so (in a
        database without that table, every add of the run is promoted). Returns how
        many fingerprints were promoted."""
        # Correlated EXISTS: one primary-key probe per story of the run, where
        # ``url IN (SELECT url FROM stories …)`` read every delivered URL (O(archive)).
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
                values = np.array(rows, dtype=np.int64).ravel().view(_U64)
                added.add(values)
                if self._filter is not None:
                    self._filter.add(values)
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
        return count

    def discard_other_runs(self, run_id: str) -> int:
        """Forget what runs other than ``run_id`` added and never delivered (they
        died before their file was in place). Call next to ``StateStore.start_run()``.
        Returns how many fingerprints were discarded."""
        self._run_keys.clear()
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


def _marks(n: int) -> str:
    return ",".join("?" * n)


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
