"""Near copies: each kind of edit is recognized, distinct stories on one topic are
not merged, and the index lives in the state database across connections and runs.

The stories here are our own text. The real export (``../shared/reference/ecns``)
is used where present, and only read.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from newscrawl import neardup
from newscrawl.neardup import Fingerprint, NearDuplicateIndex, resemblance
from newscrawl.state import StateStore

REAL_TEXTS = (
    Path(__file__).resolve().parents[2] / "shared/reference/ecns/politics-2024-articles.jsonl"
)

STORY = [
    "China and Germany agreed on Tuesday to deepen cooperation on green energy, according"
    " to a statement issued after talks in Berlin.",
    "The two sides signed 12 agreements covering wind power, hydrogen and battery"
    " recycling, worth about 3.4 billion euros in total.",
    "Officials said the deals would help both economies cut carbon emissions while"
    " keeping supply chains stable.",
    '"We will continue to work with our German partners," said Li Wei, a spokesperson'
    " for the Ministry of Commerce.",
    "German Economy Minister Anna Vogel described the talks as frank and productive,"
    " adding that a joint working group would meet again in June.",
    "Trade between the two countries reached 203 billion U.S. dollars last year,"
    " according to customs data.",
    "Analysts at Fudan University said the agreements reflected growing demand for clean"
    " technology in Europe.",
    "A second round of talks is scheduled to take place in Shanghai later this year.",
]
BODY = "\n\n".join(STORY)
# The same event written up by another desk: two sentences word for word, the
# rest reworded (as the real export's "Beijing, Berlin vow to bolster cooperation"
# and "Beijing, Berlin urged to consolidate partnership").
OTHER_DESK = "\n\n".join(
    [
        "Beijing and Berlin pledged on Tuesday to expand their partnership in renewable"
        " energy, a joint statement said after talks in the German capital.",
        STORY[1],
        "Li Wei, a spokesperson for the Ministry of Commerce, said China would keep"
        " working with German partners to open markets for clean technology.",
        "Vogel called the meeting productive and said a joint working group would convene"
        " again in June.",
        STORY[5],
        "Experts said clean technology had become a pillar of bilateral ties.",
    ]
)
ADDED = "The agreements were signed in the presence of business leaders from both countries."
ADDED_2 = "Germany is China's largest trading partner in the European Union."


def index(db: sqlite3.Connection | None = None) -> NearDuplicateIndex:
    return NearDuplicateIndex(db or sqlite3.connect(":memory:", isolation_level=None))


def known(*bodies: str) -> NearDuplicateIndex:
    """An index holding ``bodies`` as delivered stories ``u0``, ``u1``, ..."""
    ix = index()
    for i, body in enumerate(bodies):
        assert ix.add(f"u{i}", body, "earlier")
    ix.promote("earlier")
    return ix


def long_story(seed: int, sentences: int = 40) -> list[str]:
    """A story of ~600 words: more key sentences than a story indexes."""
    rng = random.Random(seed)
    subjects = ["The ministry", "Local officials", "The committee", "Researchers", "The agency"]
    verbs = ["reported", "announced", "confirmed", "estimated", "noted"]
    things = ["rail freight", "rice output", "solar capacity", "port traffic", "tourism income"]
    places = ["Hunan", "Gansu", "Fujian", "Yunnan", "Jilin", "Hebei", "Anhui"]
    return [
        f"{rng.choice(subjects)} {rng.choice(verbs)} that {rng.choice(things)} in"
        f" {rng.choice(places)} rose {rng.randint(2, 40)}.{rng.randint(1, 9)} percent in"
        f" the {rng.choice(['first', 'second', 'third'])} quarter of {2000 + i},"
        f" with {rng.randint(10, 900)} projects finished on schedule."
        for i in range(sentences)
    ]


# --- each kind of edit --------------------------------------------------------------

EDITS = {
    "lead added": "(ECNS) -- " + BODY,
    "lead with a dash and no space": "(ECNS)— " + BODY,
    "sentence added": "\n\n".join([*STORY[:3], ADDED, *STORY[3:]]),
    "two sentences added": "\n\n".join([ADDED_2, *STORY[:5], ADDED, *STORY[5:]]),
    "sentence added inside a paragraph": "\n\n".join([STORY[0] + " " + ADDED, *STORY[1:]]),
    "sentence removed": "\n\n".join(STORY[:4] + STORY[5:]),
    "two sentences removed": "\n\n".join(STORY[1:6] + STORY[7:]),
    "punctuation and whitespace": (
        "  " + BODY.replace('"', "“", 1).replace('," said', ",” said").replace("U.S.", "US")
    )
    .replace(", ", " , ")
    .replace("\n\n", "\n \n\n")
    .replace(" the ", "\u00a0the "),
    "paragraphs joined": " ".join(STORY),
    "case changed": BODY.upper(),
    "everything at once": "(ECNS) -- "
    + "\n".join([*STORY[:2], ADDED, *STORY[2:6], *STORY[7:]]).replace("U.S.", "US"),
}


@pytest.mark.parametrize("kind", EDITS)
def test_each_kind_of_edit_is_a_near_copy(kind: str) -> None:
    match = known(OTHER_DESK, BODY).find(EDITS[kind], "now")
    assert match is not None and match.url == "u1", kind
    assert match.resemblance.near


def test_a_retitled_copy_has_the_same_body() -> None:
    # The title is not fingerprinted: a copy under a new headline is the same body.
    assert known(BODY).find(BODY, "now").url == "u0"


def test_copies_of_a_long_story_are_found_by_its_sampled_sentences() -> None:
    story = long_story(1)
    body = "\n".join(story)
    # More key sentences than a story indexes: only a sample of them is stored.
    assert len(Fingerprint(body).keys(probe=True)) > neardup.KEYS_PER_STORY
    ix = known(body, "\n".join(long_story(2)))
    copies = [
        "(ECNS) -- " + body.replace(",", ""),
        "\n".join([*story[:10], ADDED, *story[10:30], ADDED_2, *story[30:]]),
        "\n".join(story[:5] + story[6:20] + story[21:]),
    ]
    for copy in copies:
        match = ix.find(copy, "now")
        assert match is not None and match.url == "u0"


def test_a_short_story_with_two_sentences_added_is_found() -> None:
    flash = "Premier Li Qiang met the visiting Kenyan president in Beijing on Monday."
    ix = known(flash)
    copy = f"{flash} {ADDED}\n\n{ADDED_2}"
    match = ix.find(copy, "now")
    assert match is not None and match.url == "u0"
    assert (match.resemblance.added, match.resemblance.cut) == (2, 0)


def test_a_copy_with_a_sentence_removed_names_the_story_it_came_from() -> None:
    match = known(OTHER_DESK, BODY).find(EDITS["sentence removed"], "now")
    assert match is not None
    assert match.url == "u1"
    assert match.resemblance.cut == 1 and match.resemblance.added == 0


# --- distinct stories are never merged ----------------------------------------------


def test_two_desks_writing_up_one_event_are_distinct() -> None:
    assert known(BODY).find(OTHER_DESK, "now") is None
    assert known(OTHER_DESK).find(BODY, "now") is None


def test_flashes_sharing_their_second_sentence_are_distinct() -> None:
    second = (
        "Xi made the remarks in a meeting with the Chilean president on the sidelines of"
        " a regional summit in Lima."
    )
    first = f"China and Chile should expand trade in farm produce, Xi said on Friday.\n{second}"
    other = f"China and Chile are good friends and good partners, Xi said on Friday.\n{second}"
    assert known(first).find(other, "now") is None


def test_a_flash_and_the_full_story_that_opens_with_it_are_distinct() -> None:
    flash = STORY[0]
    assert known(flash).find(BODY, "now") is None
    assert known(BODY).find(flash, "now") is None


def test_distinct_long_stories_are_distinct() -> None:
    ix = known(*("\n".join(long_story(seed)) for seed in range(20)))
    for seed in range(20, 40):
        assert ix.find("\n".join(long_story(seed)), "now") is None


def test_monthly_figures_in_the_same_template_are_distinct() -> None:
    template = (
        "Figures released by the National Bureau of Statistics on Friday showed that"
        " retail sales grew {} percent year on year in the first {} months. Online sales"
        " rose {} percent. Sales of consumer goods in rural areas rose {} percent."
    )
    ix = known(template.format(3.5, 10, 6.1, 4.3))
    assert ix.find(template.format(3.4, 11, 6.3, 4.2), "now") is None


@pytest.mark.skipif(not REAL_TEXTS.exists(), reason="the real export is not present")
def test_the_real_texts_have_no_merges_among_themselves() -> None:
    with REAL_TEXTS.open(encoding="utf-8") as f:
        texts = [(row["url"], row["body"]) for row in map(json.loads, f)]
    assert len(texts) == 447
    ix = index()
    merges = []
    for url, body in texts:
        match = ix.find(body, "run")
        if match is not None:
            merges.append((url, match.url))
        ix.add(url, body, "run")
    assert merges == []
    # ... and each of them, with the agency lead and restyled punctuation, is a copy.
    for url, body in texts:
        if not Fingerprint(body).indexable:
            continue
        copy = "(ECNS) -- " + body.replace("U.S.", "US").replace('"', "“")
        match = ix.find(copy, "run")
        assert match is not None and match.url == url


# --- the verification ---------------------------------------------------------------


def test_a_period_after_a_single_letter_ends_no_sentence() -> None:
    original = Fingerprint("He met U.S. President Joe Biden in Lima. They talked for an hour.")
    respelled = Fingerprint("He met US President Joe Biden in Lima. They talked for an hour.")
    assert original.sentences.hashes == respelled.sentences.hashes
    assert original.keys() == respelled.keys() and len(original.keys()) == 2


def test_sentences_rejoin_across_a_period_removed_by_punctuation() -> None:
    original = Fingerprint("He met Mr. Li Qiang in Lima on Monday. They talked for an hour.")
    respelled = Fingerprint("He met Mr Li Qiang in Lima on Monday; they talked for an hour.")
    assert len(original.sentences.hashes) == 3  # split after "Mr."
    assert len(respelled.sentences.hashes) == 1
    for found in (
        resemblance(respelled.sentences, original.sentences),
        resemblance(original.sentences, respelled.sentences),
    ):
        assert (found.shared, found.added, found.cut) == (1, 0, 0)
        assert found.shared_share == 1.0


def test_bodies_too_short_to_tell_apart_are_not_indexed() -> None:
    ix = index()
    assert not ix.add("u0", "Photo gallery.", "run")
    assert ix.find("Photo gallery.", "run") is None
    assert ix.count(delivered=False) == 0


# --- storage: pending, promoted, discarded; across connections ------------------------


def test_adds_of_a_run_count_in_that_run_only_until_promoted(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    ix = index(db)
    ix.add("u0", BODY, "r1")
    assert ix.find(EDITS["sentence added"], "r1").url == "u0"
    assert ix.find(EDITS["sentence added"], "r2") is None
    assert ix.find(EDITS["sentence added"]) is None
    assert ix.promote("r1") == 1
    assert ix.find(EDITS["sentence added"], "r2").url == "u0"


def test_the_index_survives_a_new_connection(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    first = index(db)
    first.add("u0", "\n".join(long_story(1)), "r1")
    first.add("u1", BODY, "r1")
    first.promote("r1")
    db.close()
    again = index(sqlite3.connect(path, isolation_level=None))
    assert again.count() == 2
    assert again.find(EDITS["two sentences added"], "r2").url == "u1"
    long_copy = "(ECNS) -- " + "\n".join(long_story(1)[1:])
    assert again.find(long_copy, "r2").url == "u0"


def test_a_dead_runs_adds_are_discarded(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    dead = index(sqlite3.connect(path, isolation_level=None))
    dead.add("u0", BODY, "r1")  # killed before its file was in place
    dead.db.close()
    ix = index(sqlite3.connect(path, isolation_level=None))
    assert ix.discard_other_runs("r2") == 1
    assert ix.count(delivered=False) == 0
    assert ix.find(BODY, "r2") is None
    assert ix.db.execute("SELECT count(*) FROM neardup_keys").fetchone()[0] == 0


def test_discarding_keeps_the_running_runs_adds() -> None:
    ix = index()
    ix.add("u0", BODY, "r2")
    assert ix.discard_other_runs("r2") == 0
    assert ix.find(BODY, "r2").url == "u0"


def test_delivery_promotes_only_the_stories_the_state_delivered(tmp_path: Path) -> None:
    state = StateStore(tmp_path, "r1")
    state.start_run()
    ix = index(state.db)
    for url, body in (("u-written", BODY), ("u-lost", OTHER_DESK)):
        state.claim(url, None, url)
        ix.add(url, body, "r1")
    state.mark_written("u-written")  # the other item never reached the file
    state.mark_delivered()  # promotes the run's near-duplicate rows too
    later = index(state.db)
    assert later.find(BODY, "r2").url == "u-written"
    assert later.find(OTHER_DESK, "r2") is None
    assert later.count(delivered=False) == 0


def test_a_story_never_copies_itself() -> None:
    ix = known(BODY)
    assert ix.find(BODY, "now", exclude_url="u0") is None
    assert ix.find(BODY, "now", exclude_url="elsewhere").url == "u0"


def test_the_filter_holds_every_delivered_key(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    ix = index(sqlite3.connect(path, isolation_level=None))
    bodies = ["\n".join(long_story(seed)) for seed in range(5)] + [BODY]
    for i, body in enumerate(bodies):
        ix.add(f"u{i}", body, "r1")
    ix.promote("r1")
    stored = neardup.KeyFilter.load(ix.db)
    keys = ix.db.execute("SELECT key FROM neardup_keys").fetchall()
    assert all(stored.may_contain(k for (k,) in keys))
    # A fresh connection loads the stored filter and finds the stories.
    fresh = index(sqlite3.connect(path, isolation_level=None))
    for i, body in enumerate(bodies):
        assert fresh.find("(ECNS) -- " + body, "r2").url == f"u{i}"
    fresh.rebuild_filter()
    assert fresh.filter.bits == stored.bits


# --- copies of copies ------------------------------------------------------------


def cut(*sentences: int) -> str:
    return "\n\n".join(s for i, s in enumerate(STORY) if i not in sentences)


def test_a_copy_of_a_story_first_met_through_its_copy_is_found_through_the_story() -> None:
    # A run meets a copy first (sentence 0 cut) and delivers it; the story itself is
    # then dropped as its near copy, and kept as one more text of it. A later copy
    # of the story (sentences 1 and 2 cut) is too far from the first copy alone.
    first_copy, later_copy = cut(0), cut(1, 2)
    bare = known(first_copy)
    assert bare.find(later_copy, "r2") is None
    ix = index()
    ix.add("u1", first_copy, "r1")
    assert ix.find(BODY, "r1").url == "u1"
    assert ix.add_fingerprint("u1", Fingerprint(BODY), "r1", copy=True)
    ix.promote("r1")
    assert ix.count() == 2
    match = index(ix.db).find(later_copy, "r2")
    assert match is not None and match.url == "u1"


# --- versions of one story ----------------------------------------------------------


def test_versions_of_one_story_do_not_make_its_keys_boilerplate(tmp_path: Path) -> None:
    # A corrected story is delivered again under its URL, one fingerprint a version:
    # however many versions, they are one story towards KEY_MAX_STORIES.
    db = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    ix = index(db)
    versions = [BODY.replace("12 agreements", f"{12 + v} agreements") for v in range(5)]
    for v, body in enumerate(versions):
        assert ix.add("u0", body, f"r{v}")
        assert ix.promote(f"r{v}") == 1
    assert v + 1 > neardup.KEY_MAX_STORIES
    assert ix.count() == 5
    # Each key is held once, by the story.
    held = ix.db.execute("SELECT key, count(*) FROM neardup_keys GROUP BY key").fetchall()
    assert held and all(n == 1 for _, n in held)
    match = index(db).find(EDITS["sentence added"], "r9", exclude_url="u1")
    assert match is not None and match.url == "u0"


def test_a_correction_the_run_did_not_deliver_is_not_promoted(tmp_path: Path) -> None:
    first = StateStore(tmp_path, "r1")
    first.start_run()
    first.claim("u0", None, "h0")
    first.near.add("u0", BODY, "r1")
    first.mark_written("u0")
    first.mark_delivered()
    first.db.close()
    # The next run fetches a correction but its file never gets the item.
    second = StateStore(tmp_path, "r2")
    second.start_run()
    corrected = BODY.replace("12 agreements", "14 agreements")
    second.claim("u0", None, "h1", version=2)
    second.near.add("u0", corrected, "r2")
    second.mark_delivered()
    assert second.near.count() == 1
    assert second.near.count(delivered=False) == 0
    kept = second.db.execute("SELECT sentences FROM neardup_docs WHERE delivered = 1")
    assert kept.fetchall() == [(Fingerprint(BODY).sentences.to_blob(),)]


# Five stories of one template whose second sentence is the same: boilerplate.
BOILER = "Xi made the remarks in a meeting with the visiting delegation in Beijing."
FIRSTS = [
    f"China and partner number {i} agreed on Tuesday to expand trade in {crop} and"
    f" other farm produce, according to a statement issued after talks."
    for i, crop in enumerate(["rice", "tea", "soybeans", "cotton", "maize"])
]


def test_boilerplate_keys_are_marked_and_copies_still_found() -> None:
    # A sentence in KEY_MAX_STORIES stories is boilerplate: marked at delivery,
    # skipped by lookups; each story is still found by its own sentences.
    boiler, firsts = BOILER, FIRSTS
    ix = known(*(f"{first}\n{boiler}" for first in firsts))
    key = Fingerprint(boiler).keys()
    assert ix.db.execute("SELECT count(*) FROM neardup_boilerplate").fetchone()[0] == len(key)
    assert set(key) <= ix.boilerplate
    for i, first in enumerate(firsts):
        match = ix.find(f"(ECNS) -- {first}\n{boiler}\n{ADDED}", "now")
        assert match is not None and match.url == f"u{i}"


def test_a_run_skips_the_keys_it_brought_to_the_cap_before_promote() -> None:
    # Within one run (nothing promoted yet), a sentence the run's stories repeat
    # KEY_MAX_STORIES times is boilerplate for the run's next lookups: its rows
    # are not read again, and each story is still found by its own sentences.
    boiler, firsts = BOILER, FIRSTS
    ix = index()
    for i, first in enumerate(firsts):
        assert ix.add(f"u{i}", f"{first}\n{boiler}", "now")
    (boiler_key,) = Fingerprint(boiler).keys()
    assert boiler_key in ix._run_boilerplate("now")
    held = ix.db.execute("SELECT count(*) FROM neardup_pending_keys WHERE key = ?", (boiler_key,))
    assert held.fetchone()[0] == neardup.KEY_MAX_STORIES
    statements: list[str] = []
    ix.db.set_trace_callback(statements.append)
    for i, first in enumerate(firsts):
        match = ix.find(f"(ECNS) -- {first}\n{boiler}\n{ADDED}", "now")
        assert match is not None and match.url == f"u{i}"
    ix.db.set_trace_callback(None)
    assert statements and not any(str(boiler_key) in s for s in statements)
    # Another run has no such marks until this one is promoted.
    assert ix._run_boilerplate("other") == set()
    ix.promote("now")
    assert ix._run_boilerplate("now") == set() and boiler_key in ix.boilerplate


def test_an_add_after_its_lookup_stores_what_an_add_alone_stores() -> None:
    # ``add`` reuses the rows the lookup of the same fingerprint read; the keys,
    # shares and boilerplate marks must be those a fresh read would give.
    # A boilerplate sentence with the greatest key of those tried: it is never among
    # a story's least keys, so the lookups do not read it, and the adds must.
    candidates = [f"The talks were held in hall number {j} of the complex." for j in range(50)]
    boiler = max(candidates, key=lambda c: Fingerprint(c).keys()[0])
    bodies = ["\n".join([*long_story(seed, 5), boiler]) for seed in range(8)]
    bodies += [EDITS["sentence added"], EDITS["lead added"], BODY]

    def stored(reuse: bool) -> list[tuple[int, ...]]:
        ix = index()
        for i, body in enumerate(bodies):
            fp = Fingerprint(body)
            match = ix.find_fingerprint(fp, "run", exclude_url=f"u{i}")
            # Another Fingerprint of the same body: the add reads every key itself.
            added = fp if reuse else Fingerprint(body)
            if match is not None:
                ix.add_fingerprint(match.url, added, "run", copy=True)
            else:
                ix.add_fingerprint(f"u{i}", added, "run")
        rows = ix.db.execute("SELECT key, story, share FROM neardup_pending_keys ORDER BY 1, 2")
        return rows.fetchall()

    assert stored(reuse=True) == stored(reuse=False)


def test_a_lookups_rows_are_read_again_after_another_add() -> None:
    # The boilerplate sentence with the least key is in every lookup's first round;
    # a story added between a lookup and its add changes its holders.
    candidates = [f"The talks were held in hall number {j} of the complex." for j in range(50)]
    boiler = min(candidates, key=lambda c: Fingerprint(c).keys()[0])
    (boiler_key,) = Fingerprint(boiler).keys()
    fps = [Fingerprint("\n".join([*long_story(seed, 5), boiler])) for seed in range(5)]
    assert neardup.KEY_MAX_STORIES == 4
    ix = index()
    for i, fp in enumerate(fps[:2]):
        ix.add_fingerprint(f"u{i}", fp, "run")
    assert ix.find_fingerprint(fps[3], "run") is None  # reads two holders
    ix.add_fingerprint("u2", fps[2], "run")  # the third
    ix.add_fingerprint("u3", fps[3], "run")  # the fourth: the cap
    assert boiler_key in ix._run_boilerplate("run")


def test_a_copy_whose_least_key_names_its_story_alone_reads_no_other_key() -> None:
    ix = known(BODY, OTHER_DESK)
    statements: list[str] = []
    ix.db.set_trace_callback(statements.append)
    match = ix.find(EDITS["sentence added"], "now")
    ix.db.set_trace_callback(None)
    assert match is not None and match.url == "u0"
    key_reads = sum(s.count("FROM neardup_keys WHERE key") for s in statements)
    assert key_reads == neardup.EARLY_PROBES


def test_a_lookup_whose_least_keys_only_the_filter_knows_finds_nothing() -> None:
    # The filter lets through keys no story holds (its false positives): the lookup
    # reads no rows for them and must simply go on.
    ix = known(BODY)
    other = "\n".join(long_story(3))
    ix.filter.add(Fingerprint(other).keys(probe=True))
    assert ix.find(other, "now") is None
