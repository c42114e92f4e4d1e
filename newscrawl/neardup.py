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

1. **Candidates** (recall, cheap): MinHash-LSH over word 5-shingles of the
   normalized body, its ``BANDS`` band keys in an indexed SQLite table
   (``neardup_keys``), so a lookup is one indexed query whatever the number of
   known stories. The MinHash is a one-permutation MinHash (one hash per shingle,
   the least kept in each of ``BANDS * BAND_ROWS`` bins, empty bins filled by
   rotation) computed with numpy: ~5 µs a story, where
   ``datasketch.MinHash.update_batch`` takes 90-120 µs, more than a whole lookup
   may (``bench/neardup_bench.py --compare`` measures both). SimHash was measured
   and rejected: two sentences added to a story flip a median 7 (up to 13) of its
   64 bits, while the closest distinct stories of the real export differ by 8 to
   23, so no Hamming radius finds the one and not the other. Shingle resemblance
   cannot find every copy of a *short* story either (one sentence plus two added
   has a Jaccard of ~0.3), so stories up to ``SENTENCE_KEYS_MAX_TOKENS`` words also
   index a key per sentence: a copy with sentences added or cut keeps at least
   one. A key held by ``KEY_MAX_STORIES`` stories is boilerplate and ignored.
   At a million stories each key probe is a disk read (~2 µs), so a fixed 16 MiB
   bit filter (``KeyFilter``) over the delivered keys skips the probes of keys no
   story has: ~2 of a lookup's 16-30 keys reach the disk.
2. **Verification** (precision): the two stories compared sentence by sentence,
   from a stored list of sentence hashes (14 bytes a sentence). The edits that
   make a copy are whole-sentence edits, while distinct stories on one topic differ
   inside many sentences. A candidate is the same story when sentences were only
   added or cut, in at most ``MAX_EDIT_PLACES`` places, or, if some were replaced,
   when the shared sentences hold ``MIN_SHARED_WHEN_REPLACED`` of the words. Of
   several such stories the closest is named.

Normalization makes case, punctuation, whitespace, Unicode quotes/dashes/spaces and
the ``(ECNS) -- `` lead irrelevant. A sentence is hashed over its letters and
digits alone, with a polynomial hash that composes (``h(a + b) = h(a) + P**len(a)
* h(b)``), so a boundary that punctuation moved ("U.S." written "US", two
sentences joined by a semicolon) is found again by re-joining neighbours.

Delivery: fingerprints added during a run are pending (``delivered = 0``, with the
run id) and count for that run's lookups only. ``promote(run_id)`` makes those of
the stories the state marked delivered permanent; ``discard_other_runs(run_id)``
forgets what dead runs left pending. This mirrors ``StateStore``'s ``pending``
table, ``mark_delivered()`` and ``start_run()``.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

# --- thresholds and sizes --------------------------------------------------------

# Words a shingle spans: 5-grams keep chance overlap between unrelated stories low
# (3-grams such as "president xi jinping" are in most of this news).
SHINGLE_WORDS = 5
# LSH bands, and MinHash values per band: two stories share a band with probability
# J**3 (J: the Jaccard similarity of their shingle sets), so they are candidates
# with probability 1 - (1 - J**3)**16: 0.98 at J = 0.6, 0.9996 at J = 0.75, 0.002
# at J = 0.05 (unrelated stories of this news have J < 0.03 in 99% of pairs).
BANDS = 16
BAND_ROWS = 3
# Stories up to this many words also index each sentence: below it, two sentences
# added or cut (with punctuation respelled) can bring a copy's shingle Jaccard
# under 0.6, where the bands start to miss.
SENTENCE_KEYS_MAX_TOKENS = 200
# ... and a lookup probes sentences up to this many words: such a story with two
# long sentences added.
SENTENCE_PROBE_MAX_TOKENS = 300
# A key held by this many stories is boilerplate (a sentence like "Xi made the
# remarks at ..."): it identifies no story, so it takes no more stories and lookups
# ignore it (the stories' other keys still find them). Without the cap a templated
# corpus like the replica's turns one lookup into hundreds of candidates.
KEY_MAX_STORIES = 4
# Bits of the filter that spares lookups a disk read for keys no delivered story
# has: 2**27 bits (16 MiB) whatever the number of stories. With a million stories
# (~19 million keys) 13% of the bits are set, so ~2 of a lookup's 16 band keys
# (plus 13% of its sentence keys) are read from disk instead of all of them. More
# stories only make the filter let more keys through, never miss one.
FILTER_BITS_LOG2 = 27
# A body shorter than this carries too little text to tell one story from another:
# it is neither indexed nor matched (the exact checks still apply).
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

# UTF-8 of non-ASCII characters that are not letters or digits, turned into spaces:
# U+0080-U+00BF (no-break space, Latin-1 signs), x and ÷, U+2000-U+20BF (odd
# spaces, dashes, curly quotes, ellipsis, currency), CJK and full-width punctuation.
_NON_ASCII_PUNCTUATION = re.compile(
    rb"\xc2[\x80-\xbf]|\xc3[\x97\xb7]|\xe2[\x80-\x82][\x80-\xbf]|\xe3\x80[\x80-\xbf]"
    rb"|\xef\xbc[\x80-\x8f\x9a-\xa0\xbb-\xbf]|\xef\xbd[\x9b-\xa5]|\xef\xbf[\xa0-\xaf]"
)
# The agency lead ("(ECNS) -- ", "(ECNS)-- ", "(ECNS) — " once dashes are spaces),
# anywhere, with the dateline that may stand before it at the start of its line
# ("Beijing, Jan. 5 (ECNS) -- ").
_LEAD = re.compile(
    rb"(?m)(?:^[ \t]*[a-z][a-z .'\-]{0,30},[ \t]*[a-z]{3,9}\.?[ \t]+\d{1,2}(?:,[ \t]*\d{4})?"
    rb"[ \t]*)?\([ \t]*ecns[ \t]*\)[ \t\-]*"
)
# A sentence ends at . ! or ? before a space or tab (a closing quote or bracket
# may stand between), and at a line end (paragraphs are separate <p> blocks). For
# the verification every such period counts, "U.S." and "Jan." too, so that an edit
# at any of them falls on a boundary; the index keys skip periods after a single
# letter or an abbreviation (``_ABBREVIATIONS``). Found with a byte table and
# numpy: a regex takes ~10 ns a byte.
_STRUCTURE = bytes(
    1 if c in b".!?" else 2 if c in b"\"')]" else 3 if c in b" \t" else 5 if c == 10 else 0
    for c in range(256)
)
# Bytes: ASCII letters (lowered) and digits kept, other ASCII bytes turned into
# spaces, bytes of non-ASCII characters (letters, after the step above) kept.
_WORD_BYTES = bytes(
    (c | 0x20 if 65 <= c <= 90 else c)
    if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c >= 128)
    else 32
    for c in range(256)
)


# The commonest non-ASCII punctuation of the site, replaced without a regex.
_COMMON_NON_ASCII = tuple(
    (c.encode(), b" ") for c in "\u2019\u201c\u201d\u2014\u2013\u2002\u00a0\u2018\u2026"
)


def normalize(body: str) -> bytes:
    """The body lowered, as UTF-8, without the agency lead and with non-ASCII
    punctuation turned into spaces. ASCII punctuation stays for the sentence
    splitter; the byte table ``_WORD_BYTES`` drops it for words."""
    text = body.lower()
    data = text.encode()
    if not text.isascii():
        for old, new in _COMMON_NON_ASCII:
            data = data.replace(old, new)
        if not data.isascii():
            data = _NON_ASCII_PUNCTUATION.sub(b" ", data)
    if b"ecns" in data:
        data = _LEAD.sub(b"", data)
    return data


# --- hashing (numpy, no Python loop over words) ----------------------------------

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
# Polynomial hashing modulo 2**64: any span's hash comes from two prefix sums.
_POLY = 0x100000001B3 * 2 + 1  # odd, so it has an inverse modulo 2**64
_POLY_INV = pow(_POLY, -1, 1 << 64)
_MIX = _U64(0xD6E8FEB86659FD93)
_SALT = _U64(0x9E3779B97F4A7C15)


class _Powers:
    """Powers of the polynomial base and of its inverse, grown on demand."""

    def __init__(self) -> None:
        self.size = 0
        self.up = np.empty(0, dtype=_U64)
        self.down = np.empty(0, dtype=_U64)

    def ensure(self, size: int) -> None:
        if size <= self.size:
            return
        size = max(size, 1 << 16, 2 * self.size)
        for name, base in (("up", _POLY), ("down", _POLY_INV)):
            seq = np.full(size, base, dtype=_U64)
            seq[0] = 1
            setattr(self, name, np.cumprod(seq))
        self.size = size


_POWERS = _Powers()
_POWERS.ensure(1 << 16)


def _scramble(x: np.ndarray) -> np.ndarray:
    """Spread every input bit over the high bits (xorshift-multiply-xorshift)."""
    x = x ^ (x >> _U64(29))
    x *= _MIX
    x ^= x >> _U64(32)
    return x


_BINS = BANDS * BAND_ROWS
_BIN_INDEX = np.arange(_BINS)
_ROTATION = np.uint32(0x9E3779B1)  # added per bin of distance when filling empty bins
_EMPTY = np.uint32(0xFFFFFFFF)  # a bin no shingle fell in (a hash of all ones counts too)
_ROW_MULTIPLIERS = _scramble(np.arange(1, BAND_ROWS + 1, dtype=_U64) * _SALT) | _U64(1)
_BAND_SALTS = _scramble(np.arange(BANDS, dtype=_U64) + _SALT)
_SENTENCE_SALT = _U64(0x5DEECE66D)


def minhash(shingles: np.ndarray) -> np.ndarray:
    """One-permutation MinHash: the least shingle hash in each of ``BANDS *
    BAND_ROWS`` bins (chosen by the hash's high bits); an empty bin takes the value
    of the next filled bin, shifted by the distance, so two sketches agree in a bin
    with probability equal to the Jaccard similarity (Shrivastava and Li, 2014)."""
    bins = ((shingles.astype(_U64) * _U64(_BINS)) >> _U64(32)).astype(np.intp)
    sketch = np.full(_BINS, _EMPTY, dtype=np.uint32)
    np.minimum.at(sketch, bins, shingles)
    empty = sketch == _EMPTY
    if not empty.any():
        return sketch
    filled = np.flatnonzero(~empty)
    nxt = np.searchsorted(filled, _BIN_INDEX)
    nxt[nxt == len(filled)] = 0
    distance = ((filled[nxt] - _BIN_INDEX) % _BINS).astype(np.uint32)
    return sketch[filled[nxt]] + distance * _ROTATION


def band_keys(sketch: np.ndarray) -> np.ndarray:
    """One 64-bit key per band of ``BAND_ROWS`` MinHash values (unsigned)."""
    keys = sketch.astype(_U64).reshape(BANDS, BAND_ROWS) @ _ROW_MULTIPLIERS + _BAND_SALTS
    return _scramble(keys)


def sentence_keys(hashes: np.ndarray) -> np.ndarray:
    """Index keys (unsigned 64-bit) for sentence hashes."""
    return _scramble(hashes.view(_U64) ^ _SENTENCE_SALT)


def _word_hash(word: bytes) -> int:
    """A word's hash as ``Fingerprint`` computes it (sum of byte * P**i)."""
    return sum(c * pow(_POLY, i, 1 << 64) for i, c in enumerate(word)) & _MASK64


# After these a period does not end a sentence for the index keys.
_ABBREVIATIONS = (
    "jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms dr prof gen lt col"
    " capt gov sen rep rev st mt no vs etc inc ltd co corp jr sr dept approx fig"
)
_ABBREVIATION_HASHES = frozenset(_word_hash(w.encode()) for w in _ABBREVIATIONS.split(" "))


# --- one body --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sentences:
    """A story as the verification sees it, sentence by sentence, in order: the
    hash of each sentence's letters and digits, their number, and its words."""

    hashes: tuple[int, ...]  # signed 64-bit
    lengths: tuple[int, ...]  # letters and digits
    sizes: tuple[int, ...]  # words

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
        return cls(tuple(hashes), tuple(lengths), tuple(sizes))


class Fingerprint:
    """What the index needs of one body. The words are found and hashed at once
    (~10 µs); shingles, sentences and keys only when asked for, so a lookup that
    finds no candidate never splits sentences into pieces for verification."""

    def __init__(self, body: str) -> None:
        self.data = normalize(body)
        padded = b" " + self.data.translate(_WORD_BYTES) + b" "
        raw = np.frombuffer(padded, dtype=np.uint8)
        in_word = raw != 32
        edges = np.flatnonzero(in_word[1:] != in_word[:-1])
        # Word i is padded[edges[2i] + 1 : edges[2i + 1] + 1], data[edges[2i] : ...].
        self._starts, ends = edges[0::2], edges[1::2]
        self.tokens = len(self._starts)
        _POWERS.ensure(len(raw) + 1)
        prefix = np.cumsum(raw * _POWERS.up[: len(raw)])
        # Each word's hash, as if it started at position 0.
        self._words = (prefix[ends] - prefix[self._starts]) * _POWERS.down[self._starts + 1]
        self._letters = ends - self._starts

    @property
    def indexable(self) -> bool:
        return self.tokens >= MIN_TOKENS

    @cached_property
    def shingles(self) -> np.ndarray:
        """32-bit hashes of the word ``SHINGLE_WORDS``-grams (one for the whole text
        when it is shorter): word hashes combined as the letters of a string are."""
        n = self.tokens
        k = min(SHINGLE_WORDS, n)
        seq = np.zeros(n + 1, dtype=_U64)
        np.cumsum(self._words * _POWERS.up[:n], out=seq[1:])
        spans = (seq[k:] - seq[: n + 1 - k]) * _POWERS.down[: n + 1 - k]
        return (_scramble(spans) >> _U64(32)).astype(np.uint32)

    @cached_property
    def band_keys(self) -> np.ndarray:
        """The LSH band keys (unsigned 64-bit)."""
        return band_keys(minhash(self.shingles))

    @cached_property
    def _letter_offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """Letters before word i; the letters-only prefix hash up to word i."""
        n = self.tokens
        before = np.zeros(n + 1, dtype=np.intp)
        np.cumsum(self._letters, out=before[1:])
        prefix = np.zeros(n + 1, dtype=_U64)
        np.cumsum(self._words * _POWERS.up[before[:n]], out=prefix[1:])
        return before, prefix

    @cached_property
    def _cuts(self) -> tuple[np.ndarray, np.ndarray]:
        """Words that start a sentence, and whether each follows a period (or ! ?;
        else a line end)."""
        marks = self.data.translate(_STRUCTURE).replace(b"\x01\x02\x03", b"\x01\x03\x03")
        kind = np.frombuffer(marks.replace(b"\x01\x03", b"\x06\x03"), dtype=np.uint8)
        where = np.flatnonzero(kind >= 5)
        return np.searchsorted(self._starts, where), kind[where] == 6

    def _split(self, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hashes, letters and words of the sentences starting at words ``bounds``."""
        bounds = np.unique(np.concatenate(([0, self.tokens], bounds)))
        lo, hi = bounds[:-1], bounds[1:]
        before, prefix = self._letter_offsets
        hashes = ((prefix[hi] - prefix[lo]) * _POWERS.down[before[lo]]).view(np.int64)
        return hashes, before[hi] - before[lo], hi - lo

    @cached_property
    def sentences(self) -> Sentences:
        """The sentences, split at every period: an edit at any falls on a boundary."""
        hashes, letters, words = self._split(self._cuts[0])
        return Sentences(
            tuple(hashes.tolist()),
            tuple(letters.tolist()),
            tuple(np.minimum(words, 0xFFFF).tolist()),
        )

    @cached_property
    def _key_sentences(self) -> np.ndarray:
        """Sentence hashes for index keys, split where a sentence surely ends: not
        after a single letter or an abbreviation ("U.S.", "Jan."), so respelling
        "U.S." as "US" changes no key."""
        bounds, after_period = self._cuts
        inside = (bounds > 0) & (bounds < self.tokens)
        bounds, after_period = bounds[inside], after_period[inside]
        last = self._letters[bounds - 1]  # letters of the word before the period
        keep = ~after_period | (last > 5)
        for i in np.flatnonzero(after_period & (last <= 5)).tolist():
            keep[i] = last[i] > 1 and int(self._words[bounds[i] - 1]) not in _ABBREVIATION_HASHES
        return self._split(bounds[keep])[0]

    @property
    def text_hash(self) -> int:
        """The hash of all letters and digits: equal when only case, punctuation,
        whitespace or the lead changed (for revisits: is the page unchanged?)."""
        return int(self._letter_offsets[1][-1].view(np.int64))

    def sentence_keys(self, *, probe: bool = False) -> np.ndarray:
        """Sentence keys (unsigned 64-bit): of a short story to index, or to probe
        with (``probe``: a longer limit)."""
        limit = SENTENCE_PROBE_MAX_TOKENS if probe else SENTENCE_KEYS_MAX_TOKENS
        if self.tokens > limit:
            return np.empty(0, dtype=_U64)
        return sentence_keys(self._key_sentences)

    def keys(self, *, probe: bool = False) -> np.ndarray:
        """All index keys: the band keys, and the sentence keys of a short story."""
        sentences = self.sentence_keys(probe=probe)
        if not len(sentences):
            return self.band_keys
        return np.concatenate((self.band_keys, sentences))


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
    theirs = set(other.hashes)
    if len(theirs) == len(other.hashes) and len(set(side.hashes)) == len(side.hashes):
        return [i for i, h in enumerate(side.hashes) if h not in theirs]
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
    unmatched_new = set(only_new)
    shared_words = sum(n for i, n in enumerate(new.sizes) if i not in unmatched_new)
    longer = max(sum(new.sizes), sum(known.sizes)) or 1
    return Resemblance(
        shared=shared,
        added=len(only_new),
        cut=len(only_known),
        places=_runs(only_new) + _runs(only_known),
        shared_share=shared_words / longer,
    )


# --- the filter ------------------------------------------------------------------

_FILTER_SHIFT = _U64(64 - FILTER_BITS_LOG2)
_FILTER_BYTES = 1 << (FILTER_BITS_LOG2 - 3)
_FILTER_CHUNK = 1 << 16  # bytes of the filter stored in one row


class KeyFilter:
    """A fixed-size bit set over the band keys of delivered stories: a clear bit
    proves no delivered story has the key, so the lookup skips its disk read. It
    only ever gains bits (a key of a story discarded later costs a read, never a
    miss); its invariant is that every delivered band key has its bit set.
    Stored in ``neardup_filter`` in chunks, updated by ``promote``."""

    def __init__(self, bits: np.ndarray) -> None:
        self.bits = bits

    @staticmethod
    def _positions(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slot = keys >> _FILTER_SHIFT
        return (slot >> _U64(3)).astype(np.intp), np.left_shift(1, slot & _U64(7)).astype(np.uint8)

    def may_contain(self, keys: np.ndarray) -> np.ndarray:
        byte, mask = self._positions(keys)
        return (self.bits[byte] & mask) != 0

    def add(self, keys: np.ndarray) -> None:
        byte, mask = self._positions(keys)
        np.bitwise_or.at(self.bits, byte, mask)

    @classmethod
    def add_stored(cls, db: sqlite3.Connection, keys: np.ndarray) -> None:
        """Set the bits of ``keys`` in the stored filter, chunk by chunk (read,
        merge, write: another process may have stored bits since we loaded)."""
        byte, mask = cls._positions(keys)
        chunk_of = byte // _FILTER_CHUNK
        for chunk in np.unique(chunk_of).tolist():
            row = db.execute("SELECT bits FROM neardup_filter WHERE chunk = ?", (chunk,)).fetchone()
            bits = np.zeros(_FILTER_CHUNK, dtype=np.uint8)
            if row is not None:
                bits[:] = np.frombuffer(row[0], dtype=np.uint8)
            here = chunk_of == chunk
            np.bitwise_or.at(bits, byte[here] - chunk * _FILTER_CHUNK, mask[here])
            db.execute(
                "INSERT OR REPLACE INTO neardup_filter (chunk, bits) VALUES (?, ?)",
                (chunk, bits.tobytes()),
            )

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
    def load(cls, db: sqlite3.Connection) -> KeyFilter:
        bits = np.zeros(_FILTER_BYTES, dtype=np.uint8)
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS neardup_docs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    run_id TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    text_hash INTEGER NOT NULL,
    sentences BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS neardup_docs_url ON neardup_docs(url);
CREATE INDEX IF NOT EXISTS neardup_docs_pending ON neardup_docs(run_id) WHERE delivered = 0;
CREATE TABLE IF NOT EXISTS neardup_keys (
    key INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    pending_run TEXT,
    PRIMARY KEY (key, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS neardup_keys_pending ON neardup_keys(pending_run, key)
    WHERE pending_run IS NOT NULL;
CREATE TABLE IF NOT EXISTS neardup_filter (
    chunk INTEGER PRIMARY KEY,
    bits BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class NearMatch:
    """The known story a body copies, and how they compare."""

    url: str
    resemblance: Resemblance


class NearDuplicateIndex:
    """Fingerprints of known stories in the state database, found by their keys.

    ``db`` is the state's connection (autocommit, WAL). What ``add`` stores counts
    for lookups of the same run at once, and for later runs after ``promote``.
    Memory: the 16 MiB key filter, loaded on the first lookup; nothing grows with
    the number of stories.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)
        self._has_stories = (
            db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stories'"
            ).fetchone()
            is not None
        )
        self._lookup_sql: dict[tuple[int, int], str] = {}
        self._filter: KeyFilter | None = None
        self._pending: dict[str, bool] = {}  # run id: has it added fingerprints?

    @property
    def filter(self) -> KeyFilter:
        """The key filter, loaded on first use."""
        if self._filter is None:
            self._filter = KeyFilter.load(self.db)
        return self._filter

    def rebuild_filter(self) -> None:
        """Rebuild the filter from the delivered keys (after a bulk load, or to drop
        the bits of keys since discarded); ~10 s a million stories."""
        bits = KeyFilter(np.zeros(_FILTER_BYTES, dtype=np.uint8))
        cursor = self.db.execute("SELECT key FROM neardup_keys WHERE pending_run IS NULL")
        while rows := cursor.fetchmany(1 << 16):
            bits.add(np.array(rows, dtype=np.int64).ravel().view(_U64))
        with _savepoint(self.db, "neardup_filter"):
            self.db.execute("DELETE FROM neardup_filter")
            bits.store(self.db, range(_FILTER_BYTES // _FILTER_CHUNK))
        self._filter = bits

    # -- lookups -------------------------------------------------------------------

    def _candidates(self, fp: Fingerprint, run_id: str | None) -> list[int]:
        """Stories sharing a key that is not boilerplate: delivered ones (for the
        keys the filter lets through) and those run ``run_id`` added."""
        keys = fp.keys(probe=True)
        delivered = keys[self.filter.may_contain(keys)].view(np.int64).tolist()
        pending = keys.view(np.int64).tolist() if self._has_pending(run_id) else []
        shape = (len(delivered), len(pending))
        sql = self._lookup_sql.get(shape)
        if sql is None:
            parts = []
            if delivered:
                parts.append(
                    f"SELECT key, doc FROM neardup_keys WHERE key IN ({_marks(len(delivered))})"
                    " AND pending_run IS NULL"
                )
            if pending:
                parts.append(
                    "SELECT key, doc FROM neardup_keys"
                    f" WHERE pending_run = ? AND key IN ({_marks(len(pending))})"
                )
            sql = self._lookup_sql[shape] = " UNION ALL ".join(parts)
        if not sql:
            return []
        params: list[object] = [*delivered, run_id, *pending] if pending else delivered
        rows = self.db.execute(sql, params).fetchall()
        postings = Counter(key for key, _ in rows)
        hits = Counter(doc for key, doc in rows if postings[key] < KEY_MAX_STORIES)
        # Most shared keys first: the story a copy comes from shares the most.
        return [doc for doc, _ in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))]

    def _has_pending(self, run_id: str | None) -> bool:
        """Whether run ``run_id`` has added fingerprints (asked of the database once
        per run; then kept up to date by ``add``: a run adds through one index)."""
        if run_id is None:
            return False
        known = self._pending.get(run_id)
        if known is None:
            known = self._pending[run_id] = (
                self.db.execute(
                    "SELECT 1 FROM neardup_docs WHERE delivered = 0 AND run_id = ? LIMIT 1",
                    (run_id,),
                ).fetchone()
                is not None
            )
        return known

    def find(
        self, body: str, run_id: str | None = None, *, exclude_url: str | None = None
    ) -> NearMatch | None:
        """The known story ``body`` is a near copy of, delivered by an earlier run
        or added by run ``run_id``: the closest, if several (the first of equally
        close ones; the first found sharing ``CLOSE_ENOUGH`` of the words).
        ``exclude_url`` (the item's own URL) never matches: a story re-fetched
        after a crash must not copy itself."""
        return self.find_fingerprint(Fingerprint(body), run_id, exclude_url=exclude_url)

    def find_fingerprint(
        self, fp: Fingerprint, run_id: str | None = None, *, exclude_url: str | None = None
    ) -> NearMatch | None:
        if not fp.indexable:
            return None
        docs = self._candidates(fp, run_id)
        if not docs:
            return None
        rows = self.db.execute(
            f"SELECT id, url, sentences FROM neardup_docs WHERE id IN ({_marks(len(docs))})",
            docs,
        ).fetchall()
        order = {doc: i for i, doc in enumerate(docs)}
        best: tuple[tuple[float, int, int], NearMatch] | None = None
        for doc, url, blob in sorted(rows, key=lambda row: order[row[0]]):
            if url == exclude_url:
                continue
            found = resemblance(fp.sentences, Sentences.from_blob(blob))
            if not found.near:
                continue
            # The closest story wins; of equally close ones, the first delivered.
            rank = (-found.shared_share, found.places, doc)
            if best is None or rank < best[0]:
                best = (rank, NearMatch(url, found))
            if found.shared_share >= CLOSE_ENOUGH:
                break
        return None if best is None else best[1]

    def _latest(self, url: str, column: str) -> object | None:
        row = self.db.execute(
            f"SELECT {column} FROM neardup_docs WHERE url = ? AND delivered = 1"
            " ORDER BY id DESC LIMIT 1",
            (url,),
        ).fetchone()
        return None if row is None else row[0]

    def compare(self, url: str, body: str) -> Resemblance | None:
        """How ``body`` compares with the latest delivered version of ``url`` (None
        if none is known): for a revisit, to tell a correction from the same page."""
        blob = self._latest(url, "sentences")
        if not isinstance(blob, bytes):
            return None
        return resemblance(Fingerprint(body).sentences, Sentences.from_blob(blob))

    def unchanged(self, url: str, body: str) -> bool | None:
        """Whether ``body`` has the letters and digits of the latest delivered
        version of ``url``, in order (case, punctuation, whitespace and the lead
        aside); None if no version is known."""
        known = self._latest(url, "text_hash")
        return None if known is None else known == Fingerprint(body).text_hash

    # -- changes -------------------------------------------------------------------

    def add(self, url: str, body: str, run_id: str) -> bool:
        """Store the fingerprint of a story run ``run_id`` will deliver. Returns False
        for a body too short to fingerprint (``MIN_TOKENS``)."""
        return self.add_fingerprint(url, Fingerprint(body), run_id)

    def add_fingerprint(self, url: str, fp: Fingerprint, run_id: str) -> bool:
        if not fp.indexable:
            return False
        self._pending[run_id] = True
        # One transaction: in autocommit each of the ~16-30 key inserts would be a
        # WAL commit of its own.
        with _savepoint(self.db, "neardup_add"):
            return self._insert(url, fp, run_id)

    def _insert(self, url: str, fp: Fingerprint, run_id: str) -> bool:
        doc = self.db.execute(
            "INSERT INTO neardup_docs (url, run_id, delivered, text_hash, sentences)"
            " VALUES (?, ?, 0, ?, ?)",
            (url, run_id, fp.text_hash, fp.sentences.to_blob()),
        ).lastrowid
        # A key stops taking stories once it holds the cap (boilerplate).
        self.db.executemany(
            "INSERT OR IGNORE INTO neardup_keys (key, doc, pending_run)"
            " SELECT ?1, ?2, ?3 WHERE (SELECT count(*) FROM (SELECT 1 FROM neardup_keys"
            f" WHERE key = ?1 LIMIT {KEY_MAX_STORIES})) < {KEY_MAX_STORIES}",
            [(key, doc, run_id) for key in np.unique(fp.keys()).view(np.int64).tolist()],
        )
        return True

    def promote(self, run_id: str) -> int:
        """Make permanent the fingerprints of the stories run ``run_id`` delivered,
        and forget its other adds. Call right after ``StateStore.mark_delivered()``:
        a story counts as delivered when the state's ``stories`` table says so (in a
        database without that table, every add of the run is promoted). Returns how
        many fingerprints were promoted."""
        # Correlated EXISTS: one primary-key probe per story of the run, where
        # ``url IN (SELECT url FROM stories …)`` read every delivered URL (O(archive)).
        delivered = (
            " AND EXISTS (SELECT 1 FROM stories WHERE stories.url = neardup_docs.url"
            " AND stories.outcome = 'delivered')"
            if self._has_stories
            else ""
        )
        # This run's promoted docs, found through the pending index (O(run)), where
        # ``SELECT id … WHERE run_id = ? AND delivered = 1`` scanned every doc.
        promoted_docs = "(SELECT id FROM temp.neardup_promoted)"
        with _savepoint(self.db, "neardup_promote"):
            self.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS neardup_promoted (id INTEGER PRIMARY KEY)"
            )
            self.db.execute("DELETE FROM temp.neardup_promoted")
            self.db.execute(
                "INSERT INTO temp.neardup_promoted SELECT id FROM neardup_docs"
                f" WHERE run_id = ? AND delivered = 0{delivered}",
                (run_id,),
            )
            promoted = self.db.execute(
                f"UPDATE neardup_docs SET delivered = 1 WHERE id IN {promoted_docs}"
            ).rowcount
            # Streamed: a 50k-story backfill holds ~1.2M keys, ~130 MB as Python rows.
            added = KeyFilter(np.zeros(_FILTER_BYTES, dtype=np.uint8))
            cursor = self.db.execute(
                f"SELECT key FROM neardup_keys WHERE pending_run = ? AND doc IN {promoted_docs}",
                (run_id,),
            )
            while rows := cursor.fetchmany(1 << 16):
                values = np.array(rows, dtype=np.int64).ravel().view(_U64)
                added.add(values)
                if self._filter is not None:
                    self._filter.add(values)
            added.merge_stored(self.db)
            self.db.execute(
                "UPDATE neardup_keys SET pending_run = NULL"
                f" WHERE pending_run = ? AND doc IN {promoted_docs}",
                (run_id,),
            )
            self._discard("= ?", (run_id,))
        self._pending.clear()
        return promoted

    def discard_other_runs(self, run_id: str) -> int:
        """Forget what runs other than ``run_id`` added and never delivered (they
        died before their file was in place). Call next to ``StateStore.start_run()``.
        Returns how many fingerprints were discarded."""
        self._pending.clear()
        with _savepoint(self.db, "neardup_discard"):
            return self._discard("!= ?", (run_id,))

    def _discard(self, run_test: str, params: tuple[str, ...]) -> int:
        self.db.execute(
            f"DELETE FROM neardup_keys WHERE pending_run IS NOT NULL AND pending_run {run_test}",
            params,
        )
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
