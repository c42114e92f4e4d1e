"""Near-duplicate benchmark: recall per kind of edit, false merges, and lookups per
second and peak memory with 1,000,000 known stories.

    python bench/neardup_bench.py                # ~1-2 minutes
    python bench/neardup_bench.py --scale 8 --known 1000000 --lookups 40000

Why each part:
- *Recall*: copies of the replica's stories (``replica.build_site``, its
  ``truth.jsonl``) edited the ways ECNS edits wire copies. A copy counts as found
  only when the lookup names the story it was made from.
- *False merges*: the stories of a corpus added one by one, as a crawl would; a
  story found to copy an earlier one is a false merge (the corpora hold no copies).
  Run on the 447 real texts (``../shared/reference/ecns``, where present) and on
  the replica's stories.
- *Scale*: the state database seeded with 1,000,000 known stories, then lookups
  timed in a fresh process whose peak RSS is read from the kernel. The known
  stories are the replica's and half the real texts (real fingerprints) plus
  synthetic ones written straight into the tables (random keys, ~10 a story as
  real stories index, and sentence lists of 3 to 25 sentences), so seeding takes
  seconds, not the hours of fingerprinting a million texts.
- *What a lookup is*: two measures are timed, on the same bodies, and labeled.
  "fingerprint + query" is ``index.find(body)``: the body normalized, hashed and
  split into sentences, its keys probed, candidates verified; what the crawler
  pays per story, and what the 20,000/s target is judged on. "query alone" is
  ``index.find_fingerprint(fp)`` with each body's ``Fingerprint``, keys and
  sentences computed before the clock starts: a lookup in the sense of an LSH
  index query (filter, SQLite, verification).
- *Why sampled key sentences and not SimHash* (``--compare``): the Hamming
  distances SimHash gives near copies and distinct same-event rewrites.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newscrawl import neardup  # noqa: E402
from newscrawl.neardup import Fingerprint, NearDuplicateIndex  # noqa: E402
from newscrawl.state import BATCH_WRITES  # noqa: E402
from replica.edits import (  # noqa: E402
    add_sentences,
    cut_sentences,
    ecns_lead,
    punctuation,
)

REAL_TEXTS = ROOT.parent / "shared" / "reference" / "ecns" / "politics-2024-articles.jsonl"
RECALL_TARGET = 0.95
LOOKUP_TARGET = 20_000
RSS_TARGET_MB = 300

# --- edits ------------------------------------------------------------------------

# The replica's own edits (``replica.edits``), under the names the targets use.
EDITS: dict[str, Callable[[random.Random, str, list[str]], str | None]] = {
    "lead added": lambda rng, b, d: ecns_lead(rng, b),
    "sentence added": lambda rng, b, d: add_sentences(rng, b, d, 1),
    "two sentences added": lambda rng, b, d: add_sentences(rng, b, d, 2),
    "sentence removed": lambda rng, b, d: cut_sentences(rng, b, 1),
    "two sentences removed": lambda rng, b, d: cut_sentences(rng, b, 2),
    "punctuation & whitespace": lambda rng, b, d: punctuation(rng, b),
    "title edited": lambda rng, b, d: b,  # the body is untouched; only the title changed
    "lead + sentence + punctuation": lambda rng, b, d: punctuation(
        rng, add_sentences(rng, ecns_lead(rng, b), d, 1)
    ),
}
REQUIRED = [k for k in EDITS if "+" not in k]  # the required kinds; the last is extra

# --- corpora ----------------------------------------------------------------------


def replica_stories(folder: Path, scale: int, seed: int = 7) -> list[tuple[str, str]]:
    """(url path, body) of the replica's distinct stories with a body."""
    from replica import build_site

    build_site(folder, scale=scale, seed=seed)
    stories: dict[str, str] = {}
    with (folder / "truth.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("body") and row["expect"] == "delivered":
                stories.setdefault(row["body"], row["path"])
    return [(path, body) for body, path in stories.items()]


def real_texts() -> list[tuple[str, str]]:
    if not REAL_TEXTS.exists():
        return []
    with REAL_TEXTS.open(encoding="utf-8") as f:
        return [(row["url"], row["body"]) for row in map(json.loads, f)]


def open_db(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


# --- measurements -----------------------------------------------------------------


def false_merges(stories: list[tuple[str, str]]) -> tuple[int, list[str]]:
    """Add the stories one by one, as a crawl does; count the ones found to copy
    an earlier one."""
    index = NearDuplicateIndex(open_db(":memory:"))
    merges: list[str] = []
    for url, body in stories:
        match = index.find(body, "run")
        if match is not None:
            merges.append(f"{url} -> {match.url} ({match.resemblance.describe()})")
        else:
            index.add(url, body, "run")
    return len(merges), merges


def recall(stories: list[tuple[str, str]], seed: int) -> dict[str, tuple[int, int, int, list[str]]]:
    """Per kind of edit: (found, copies, wrong story named, examples of misses)."""
    index = NearDuplicateIndex(open_db(":memory:"))
    for url, body in stories:
        index.add(url, body, "seed")
    index.promote("seed")
    donors = [body for _, body in stories]
    out: dict[str, tuple[int, int, int, list[str]]] = {}
    for kind, edit in EDITS.items():
        rng = random.Random(f"{seed}-{kind}")
        found = total = wrong = 0
        misses: list[str] = []
        for url, body in stories:
            if not Fingerprint(body).indexable:
                continue
            copy = edit(rng, body, donors)
            if copy is None:  # too few sentences to cut
                continue
            total += 1
            match = index.find(copy, "check")
            if match is not None and match.url == url:
                found += 1
            elif match is not None:
                wrong += 1  # found, but named another known story holding that text
            elif len(misses) < 3:
                fp = Fingerprint(copy)
                known = Fingerprint(body)
                misses.append(
                    f"{url}: {neardup.resemblance(fp.sentences, known.sentences).describe()}"
                )
        out[kind] = (found, total, wrong, misses)
    return out


def fill_rows(
    rng: np.random.Generator, rows: int, stories: np.ndarray, chunks: int = 64
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``rows`` random keys (CRC-32s, as real keys) of the synthetic ``stories``
    (their story ids), produced in ascending key order chunk by chunk (B-tree
    friendly, bounded memory): each chunk covers one slice of the key space."""
    per_chunk = rows // chunks
    step = (1 << 32) // chunks
    for c in range(chunks):
        low = c * step
        keys = np.sort(rng.integers(low, low + step - 1, size=per_chunk, dtype=np.int64))
        yield keys, stories[rng.integers(0, len(stories), size=per_chunk)]


# Keys a real story indexes, on average (its key sentences, at most
# ``neardup.KEYS_PER_STORY``): 8.9 for the real texts; synthetic stories get 10.
SYNTHETIC_KEYS_PER_STORY = 10


def seed_known(path: Path, stories: list[tuple[str, str]], known: int, seed: int) -> dict:
    """The state database with ``known`` stories: the replica's, fingerprinted, and
    synthetic ones written into the tables."""
    t0 = time.perf_counter()
    db = open_db(path)
    index = NearDuplicateIndex(db)
    for url, body in stories:
        index.add(url, body, "seed")
    index.promote("seed")
    synthetic = known - len(stories)
    first = db.execute("SELECT count(*) FROM neardup_docs").fetchone()[0] + 1

    def url_of(i: int) -> str:
        return f"https://www.ecns.cn/news/politics/2020-01-01/detail-isynth{i:09d}.shtml"

    story_ids = np.array(
        [neardup.story_of(url_of(i)) for i in range(first, first + synthetic)], dtype=np.int64
    )
    rng = np.random.default_rng(seed)
    filter_ = index.filter
    db.execute("BEGIN")
    share = 1000 // SYNTHETIC_KEYS_PER_STORY
    for keys, owners in fill_rows(rng, synthetic * SYNTHETIC_KEYS_PER_STORY, story_ids):
        db.executemany(
            "INSERT OR IGNORE INTO neardup_keys (key, story, share) VALUES (?, ?, ?)",
            zip(keys.tolist(), owners.tolist(), [share] * len(keys), strict=True),
        )
        filter_.add(keys.tolist())
    blob_rng = random.Random(seed)

    def docs_rows() -> Iterator[tuple]:
        # In story order, as the table is keyed: B-tree appends.
        for j in np.argsort(story_ids).tolist():
            i, story = first + j, int(story_ids[j])
            n = blob_rng.randint(3, 25)
            sentences = neardup.Sentences([blob_rng.getrandbits(32) for _ in range(n)], [120] * n)
            yield (
                story,
                i,
                url_of(i),
                "seed",
                1,
                sentences.to_blob(),
            )

    db.executemany(
        "INSERT INTO neardup_docs (story, id, url, run_id, delivered, sentences)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        docs_rows(),
    )
    db.execute("DELETE FROM neardup_filter")
    filter_.store(db, range(len(filter_.bits) // (1 << 16)))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = index.count()
    keys = db.execute("SELECT count(*) FROM neardup_keys").fetchone()[0]
    db.close()
    return {
        "known": count,
        "keys": keys,
        "seconds": time.perf_counter() - t0,
        "db_mb": path.stat().st_size / 1e6,
    }


QUERY_SETS = {
    "new real": "new stories (real texts)",
    "new replica": "new stories (replica text)",
    "real copies": "near copies of real texts",
    "replica copies": "near copies of replica stories",
}


def peak_rss_mb() -> float:
    """This process's peak resident set size. ``VmHWM`` is the high-water mark of
    this program's memory; ``ru_maxrss`` would also count the parent's, which Linux
    carries over a fork and exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lookup_stage(args: argparse.Namespace) -> None:
    """Run in a fresh process: time lookups against the seeded database and report
    them with this process's peak RSS (JSON on stdout). Both wall-clock and CPU
    time are reported: the machine may be shared, and CPU time is what one
    lookup costs one core. Each query set is timed twice, back to back: with the
    fingerprint (``find(body)``), and the index query alone (``find_fingerprint``
    on fingerprints whose keys and sentences were computed beforehand)."""
    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    db = open_db(args.db)  # the state's settings: 2 MB page cache, no mmap
    index = NearDuplicateIndex(db)
    t0 = time.perf_counter()
    index.filter  # noqa: B018  (load it: 16 MiB, once per process)
    out: dict[str, object] = {"filter_load_s": time.perf_counter() - t0}

    def timed(items: list, lookup: Callable[[Any], object]) -> dict[str, float]:
        for item in items[:300]:  # warm up
            lookup(item)
        n = found = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while n < args.lookups:
            # As in a crawl, where lookups run inside the state's open batch of
            # writes (committed every BATCH_WRITES writes): in autocommit mode each
            # statement would open and close a read transaction of its own.
            for start in range(0, min(len(items), args.lookups - n), BATCH_WRITES):
                db.execute("BEGIN")
                for item in items[start : min(start + BATCH_WRITES, args.lookups - n)]:
                    found += lookup(item) is not None
                db.execute("COMMIT")
            n += min(len(items), args.lookups - n)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"lookups": n, "per_s": n / wall, "per_cpu_s": n / cpu, "found": found}

    for name, bodies in queries.items():
        fps = [Fingerprint(body) for body in bodies]
        for fp in fps:  # everything a lookup may ask of the fingerprint
            fp.keys(probe=True)
            fp.sentences  # noqa: B018
        out[name] = {
            "fingerprint + query": timed(bodies, lambda body: index.find(body, "bench")),
            "query alone": timed(fps, lambda fp: index.find_fingerprint(fp, "bench")),
        }
    out["peak_rss_mb"] = peak_rss_mb()
    out["load_average"] = os.getloadavg()[0]
    print(json.dumps(out))


def _shingles(body: str) -> np.ndarray:
    """64-bit hashes of the word 5-grams of a body (for SimHash only)."""
    words = re.findall(r"[a-z0-9]+", body.lower())
    grams = {" ".join(words[i : i + 5]) for i in range(max(len(words) - 4, 1))}
    return np.array(
        [int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest()) for g in grams],
        dtype=np.uint64,
    )


def compare(stories: list[tuple[str, str]], real: list[tuple[str, str]], seed: int) -> None:
    """Why sentence keys and a sentence-by-sentence check, not SimHash."""
    bodies = [b for _, b in (real or stories)]
    rng = random.Random(seed)

    def simhash(body: str) -> int:
        h = _shingles(body)
        bits = np.unpackbits(h.view(np.uint8)).reshape(-1, 64)
        return int(np.packbits(bits.sum(axis=0) * 2 > len(h)).view(">u8")[0])

    near = [
        bin(simhash(b) ^ simhash(add_sentences(rng, b, bodies, 2))).count("1")
        for b in bodies[:300]
        if Fingerprint(b).tokens > 150
    ]
    # The closest distinct pairs of the corpus (same event, two desks).
    sets = [set(_shingles(b).tolist()) for b in bodies]
    pairs = sorted(
        (len(sets[i] & sets[j]) / len(sets[i] | sets[j]), i, j)
        for i in range(len(sets))
        for j in range(i + 1, len(sets))
        if sets[i] & sets[j]
    )[-10:]
    distinct = [bin(simhash(bodies[i]) ^ simhash(bodies[j])).count("1") for _, i, j in pairs]
    print("\nWhy sampled key sentences with sentence verification, not SimHash:")
    print(
        f"  SimHash (64-bit) Hamming distance, two sentences added to a story: "
        f"median {np.median(near):.0f}, 95th percentile {np.percentile(near, 95):.0f}"
    )
    print(
        f"  between the 10 most similar distinct stories (shingle Jaccard "
        f"{pairs[0][0]:.2f}-{pairs[-1][0]:.2f}): {sorted(distinct)}"
    )
    sample = bodies[:200]
    took = float("inf")
    for _ in range(5):  # the least of five passes: the machine may be shared
        t0 = time.process_time()
        for body in sample:
            Fingerprint(body).keys(probe=True)
        took = min(took, (time.process_time() - t0) / len(sample) * 1e6)
    print(f"  Fingerprint and its probe keys (this module): {took:.1f} µs of CPU a story")


def scale(
    args: argparse.Namespace,
    work: Path,
    stories: list[tuple[str, str]],
    real: list[tuple[str, str]],
) -> bool:
    """Seed ``args.known`` stories, time lookups in a fresh process; True if the
    targets are met."""
    print(f"\nScale: {args.known:,} known stories")
    # Known: the replica's stories and every other real text; looked up: the other
    # real texts and a replica built with another seed (new stories), and copies
    # of known stories with a sentence added.
    known = stories + real[::2]
    db_path = work / "state.sqlite3"
    for stale in (db_path, work / "state.sqlite3-wal", work / "state.sqlite3-shm"):
        stale.unlink(missing_ok=True)  # kept by an earlier run (--workdir)
    seeded = seed_known(db_path, known, args.known, args.seed)
    print(
        f"  seeded {seeded['known']:,} stories ({seeded['keys']:,} keys) in"
        f" {seeded['seconds']:.0f} s, database {seeded['db_mb']:.0f} MB"
    )
    rng = random.Random(args.seed)
    donors = [b for _, b in known]
    fresh = replica_stories(work / "fresh", 1, seed=1000 + args.seed)
    copy = EDITS["sentence added"]
    queries = {
        "new real": [b for _, b in real[1::2]],
        "new replica": [b for _, b in fresh],
        "real copies": [copy(rng, b, donors) for _, b in real[::2]],
        "replica copies": [copy(rng, b, donors) for _, b in stories],
    }
    queries = {name: bodies for name, bodies in queries.items() if bodies}
    queries_path = work / "queries.json"
    queries_path.write_text(json.dumps(queries), encoding="utf-8")
    command = [sys.executable, __file__, "--lookup-stage", "--db", str(db_path)]
    command += ["--queries", str(queries_path), "--lookups", str(args.lookups)]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    print("  'fingerprint + query': index.find(body), what the crawler pays per story (the target")
    print(
        "  is judged on it); 'query alone': index.find_fingerprint(fp), its Fingerprint, keys and"
    )
    print("  sentences computed beforehand (filter, SQLite, verification)")
    ok = True
    for name, label in QUERY_SETS.items():
        if name not in result:
            continue
        print(f"  lookups of {label}:")
        for measure, r in result[name].items():
            judged = measure == "fingerprint + query"
            fast = r["per_s"] >= LOOKUP_TARGET
            ok &= fast or not judged
            verdict = ("ok" if fast else "BELOW 20,000/s") if judged else ""
            print(
                f"    {measure:20s} {r['per_s']:8,.0f}/s wall, {r['per_cpu_s']:8,.0f}/s of CPU"
                f" ({r['lookups']:,} timed, {r['found']:,} found a copy)  {verdict}"
            )
    rss_ok = result["peak_rss_mb"] < RSS_TARGET_MB
    print(
        f"  peak RSS of the lookup process: {result['peak_rss_mb']:.0f} MB"
        f"  {'ok' if rss_ok else 'ABOVE 300 MB'}"
    )
    print(
        f"  (filter loaded in {result['filter_load_s']:.2f} s; load average during the run"
        f" {result['load_average']:.1f} on {os.cpu_count()} cores: other work slows the wall clock)"
    )
    return ok and rss_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=4, help="replica scale (stories x ~255)")
    parser.add_argument("--known", type=int, default=1_000_000, help="0: skip the scale part")
    parser.add_argument("--lookups", type=int, default=30_000, help="timed lookups per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compare", action="store_true", help="SimHash distances")
    parser.add_argument(
        "--workdir", type=Path, help="keep the databases here (default: a temp dir, removed)"
    )
    parser.add_argument("--lookup-stage", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lookup_stage:
        lookup_stage(args)
        return 0

    started = time.perf_counter()
    command = "python bench/neardup_bench.py " + " ".join(sys.argv[1:])
    ok = True
    with contextlib.ExitStack() as cleanup:
        work = args.workdir or Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        stories = replica_stories(work / "replica", args.scale)
        real = real_texts()
        print(f"Replica (scale {args.scale}): {len(stories)} distinct stories with a body")
        print(f"Real texts: {len(real) or 'not present'}")

        print("\nNear-copy recall (target >= 95% per kind; 'other story': the copy was found as")
        print("a copy of another known story that holds the same text, e.g. a flash cut to")
        print("its boilerplate second sentence; it is dropped all the same):")
        for label, corpus in (("replica", stories), ("real", real)):
            if not corpus:
                continue
            for kind, (found, total, wrong, misses) in recall(corpus, args.seed).items():
                share = found / total
                required = kind in REQUIRED
                flag = "" if not required else ("ok" if share >= RECALL_TARGET else "BELOW")
                ok &= not required or share >= RECALL_TARGET
                print(
                    f"  {label:7s} {kind:30s} {found:5d}/{total:<5d} {share:7.2%}"
                    f"  other story: {wrong}  {flag}"
                )
                for miss in misses:
                    print(f"      missed {miss}")

        print("\nFalse merges (stories added one by one; target 0):")
        for label, corpus in (("real texts", real), ("replica stories", stories)):
            if not corpus:
                continue
            count, merges = false_merges(corpus)
            ok &= count == 0
            print(f"  {label}: {count} of {len(corpus)}")
            for merge in merges[:5]:
                print(f"      {merge}")

        if args.compare:
            compare(stories, real, args.seed)

        if args.known > 0:
            ok &= scale(args, work, stories, real)
    print(f"\nPeak RSS of this (seeding) process: {peak_rss_mb():.0f} MB")
    print(f"All targets met: {'yes' if ok else 'NO'}  ({time.perf_counter() - started:.0f} s)")
    print(f"Reproduce: {command.strip()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
