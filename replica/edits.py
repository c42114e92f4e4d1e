"""The edits ECNS makes when it re-publishes a wire copy, as text transformations.

Why a module of its own: the replica publishes near copies of its stories (a copy at
another id, often in another section, the same day or the next) and the
near-duplicate benchmark makes the same kinds of copies to measure recall. One
implementation of each edit keeps the two honest: what the crawler is tested
against is what it is measured on. (``bench/neardup_bench.py`` has its own copies of
these functions for now; it can import them from here.)

A body here is plain text with paragraphs separated by ``"\\n"`` (the format of the
real-text exports); every function takes the ``random.Random`` it draws from, so a
copy is the same for a seed.

The kinds (``NEAR_COPY_EDITS``): the agency lead ``(ECNS) -- `` added (or removed
when the story has one), one or two sentences added, one or two cut, punctuation and
whitespace respelled as another desk writes them, and a retitled headline over the
same body.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

# --- sentences --------------------------------------------------------------------

# A sentence ends at . ! ? (and closing quotes) before a capital or a quote, not
# after "U.S." or "Mr.": an editor adds and cuts whole sentences.
_SENTENCE = re.compile(
    r"(?<![A-Z]\.[A-Z]\.)(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bNo\.)"
    r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[A-Z\"“(])"
)
_ENDS_SENTENCE = re.compile(r"[.!?][\"”’)]*$")
# A sentence of a body: (paragraph number, text). Fractional paragraph numbers
# place an added sentence in a paragraph of its own between two others.
Unit = tuple[float, str]


def units(body: str) -> list[Unit]:
    """The body's sentences, each with the number of its paragraph."""
    paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
    return [(float(i), s) for i, p in enumerate(paragraphs) for s in _SENTENCE.split(p) if s]


def join(parts: Sequence[Unit]) -> str:
    """Sentences back into a body: one line a paragraph."""
    out: list[list[str]] = []
    current = None
    for para, sentence in parts:
        if para != current:
            out.append([])
            current = para
        out[-1].append(sentence)
    return "\n".join(" ".join(p) for p in out)


def sentence_count(body: str) -> int:
    return len(units(body))


# Stories an added sentence may come from: a sentence of a one- or two-sentence flash
# is most of that story, and a copy carrying it would also be a copy of the flash.
DONOR_MIN_SENTENCES = 4


def donor_bodies(bodies: Sequence[str]) -> list[str]:
    """The bodies added sentences may be taken from."""
    return [b for b in bodies if sentence_count(b) >= DONOR_MIN_SENTENCES]


# --- the edits ----------------------------------------------------------------------


def add_sentences(rng: random.Random, body: str, donors: Sequence[str], n: int) -> str:
    """``n`` sentences taken from ``donors`` (other stories' bodies) inserted at random
    places: in a paragraph, or as a paragraph of their own."""
    parts = units(body)
    if not parts or not any(d.strip() for d in donors):
        return body
    for _ in range(n):
        donor: list[Unit] = []
        while not donor:
            donor = units(rng.choice(donors))
        sentence = rng.choice(donor)[1]
        pos = rng.randint(0, len(parts))
        # A sentence joins a paragraph only where both it and the one before end
        # like sentences; a heading or caption line stays a paragraph of its own.
        own = not _ENDS_SENTENCE.search(sentence) or rng.random() < 0.5
        if pos == 0:
            para = parts[0][0] - 0.5 if own else parts[0][0]
        elif own or not _ENDS_SENTENCE.search(parts[pos - 1][1]):
            para = parts[pos - 1][0] + 0.5 / (1 + pos)
        else:
            para = parts[pos - 1][0]
        parts.insert(pos, (para, sentence))
    return join(parts)


def cut_sentences(rng: random.Random, body: str, n: int) -> str | None:
    """``n`` sentences removed at random; None when the body has no more than ``n``."""
    parts = units(body)
    if len(parts) <= n:
        return None
    for _ in range(n):
        parts.pop(rng.randrange(len(parts)))
    return join(parts)


_LEAD = re.compile(r"^\s*\(ECNS\)\s*[-—]+\s*")


def ecns_lead(rng: random.Random, body: str) -> str:
    """The agency lead added in one of its spellings (removed if the story has it)."""
    if _LEAD.match(body):
        return _LEAD.sub("", body)
    return rng.choice(("(ECNS) -- ", "(ECNS) — ", "(ECNS)--")) + body


def punctuation(rng: random.Random, body: str) -> str:
    """Quotes, apostrophes, dashes, commas, spacing, line breaks, thousands
    separators and "U.S." respelled, as two desks' house styles differ."""
    text = body
    if rng.random() < 0.5:
        text = re.sub(r'"([^"\n]*)"', r"“\1”", text)
    else:
        text = text.replace("“", '"').replace("”", '"')
    text = text.replace("'", "’") if rng.random() < 0.5 else text.replace("’", "'")
    text = text.replace(" -- ", " — ").replace("U.S.", "US")
    text = re.sub(r",(?= )", lambda m: "" if rng.random() < 0.3 else ",", text)
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = text.replace(". ", ".  ")
    if rng.random() < 0.5:
        text = text.replace("\n", "\n\n")
    text = re.sub(r" (?=[a-z])", lambda m: "\u00a0" if rng.random() < 0.05 else " ", text)
    return "  " + text + " \n"


# Headline rewrites a second desk makes: a verb for another, a kicker before it.
_SYNONYMS = (
    ("vows to", "pledges to"),
    ("vow to", "pledge to"),
    ("urges", "calls for"),
    ("urged to", "called on to"),
    ("meets", "holds talks with"),
    ("holds talks with", "meets"),
    ("stresses", "underlines"),
    ("calls for", "urges"),
    ("boost", "strengthen"),
    ("bolster", "boost"),
    ("deepen", "enhance"),
    ("says", "stresses"),
    ("eyes", "seeks"),
    ("to visit", "will visit"),
)
_KICKERS = ("Update: ", "China Focus: ", "Xinhua Headlines: ", "Feature: ", "Exclusive: ")


def retitle(rng: random.Random, title: str) -> str:
    """Another desk's headline for the same story: a verb replaced by a synonym, a
    kicker put before it, or its two halves around a colon swapped. Never the same
    headline."""
    lowered = title.lower()
    swaps = [(a, b) for a, b in _SYNONYMS if re.search(rf"\b{re.escape(a)}\b", lowered)]
    if swaps and rng.random() < 0.6:
        old, new = rng.choice(swaps)
        return re.sub(rf"\b{re.escape(old)}\b", new, title, count=1, flags=re.IGNORECASE)
    head, colon, tail = title.partition(": ")
    if colon and tail and rng.random() < 0.5:
        return f"{tail[:1].upper()}{tail[1:]}: {head}"
    kicker = rng.choice([k for k in _KICKERS if not title.startswith(k)])
    return kicker + title


# --- the kinds of near copy ----------------------------------------------------------

# Each takes (rng, title, body, donors) and returns the copy's (title, body), or None
# when the story cannot be edited so (too few sentences to cut).
Edit = Callable[[random.Random, str, str, Sequence[str]], "tuple[str, str] | None"]


def _body_edit(
    change: Callable[[random.Random, str, Sequence[str]], str | None],
) -> Edit:
    def edit(
        rng: random.Random, title: str, body: str, donors: Sequence[str]
    ) -> tuple[str, str] | None:
        new = change(rng, body, donors)
        return None if new is None else (title, new)

    return edit


NEAR_COPY_EDITS: dict[str, Edit] = {
    "lead_added": _body_edit(lambda rng, b, d: ecns_lead(rng, b)),
    "sentence_added": _body_edit(lambda rng, b, d: add_sentences(rng, b, d, 1)),
    "two_sentences_added": _body_edit(lambda rng, b, d: add_sentences(rng, b, d, 2)),
    "sentence_cut": _body_edit(lambda rng, b, d: cut_sentences(rng, b, 1)),
    "two_sentences_cut": _body_edit(lambda rng, b, d: cut_sentences(rng, b, 2)),
    "punctuation": _body_edit(lambda rng, b, d: punctuation(rng, b)),
    "retitled": lambda rng, t, b, d: (retitle(rng, t), b),
}
# Sentences a story needs before it is copied with each edit: a wire copy is a
# whole story, and a copy cut down to a sentence or two is another story.
MIN_SENTENCES = {"sentence_cut": 4, "two_sentences_cut": 5}
DEFAULT_MIN_SENTENCES = 3


def eligible(kind: str, body: str) -> bool:
    """Whether a story with this body may be copied with edit ``kind``."""
    return sentence_count(body) >= MIN_SENTENCES.get(kind, DEFAULT_MIN_SENTENCES)


def collapse(text: str) -> str:
    """The text as the crawler delivers it: paragraphs whitespace-collapsed, blank
    ones dropped, separated by a blank line."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n") if p.strip())


def near_copy(
    kind: str, rng: random.Random, title: str, body: str, donors: Sequence[str]
) -> tuple[str, str] | None:
    """The copy's (title, body) for edit ``kind``, or None when this story cannot be
    copied so or the edit would leave the delivered text unchanged (then it would be
    an exact copy, not a near one)."""
    if not eligible(kind, body):
        return None
    made = NEAR_COPY_EDITS[kind](rng, title, body, donors)
    if made is None:
        return None
    new_title, new_body = made
    if (" ".join(new_title.split()), collapse(new_body)) == (
        " ".join(title.split()),
        collapse(body),
    ):
        return None
    return new_title, new_body
