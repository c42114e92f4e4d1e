"""End-to-end check of duplicate detection: a replica with exact twins, cross-posts
and near copies, crawled twice, every delivered item compared with the truth.

    python -m replica dedup-check [--texts FILE.jsonl] [--seed S]

Why: duplicate detection holds when, against a replica built from real ECNS texts
the project has not seen, two runs emit no exact duplicate and no near copy and lose no
distinct story (recall >= 99%). Anyone with a file of texts (the format of
``../shared/reference/ecns/politics-2024-articles.jsonl``) runs this to see it; without
``--texts`` it checks the generated replica.

Run 1 crawls the site; then the site is rebuilt with new stories on top (held-back
texts, or generated ones) and copies of stories run 1 delivered (each near edit and
an exact one), and run 2 crawls it. A *distinct story* is a group of truth records
joined by ``duplicate_of`` (an original, its twins and near copies): whichever of a
group is delivered first is fine (a crawl may meet a copy before its original), a
second one is an exact duplicate (the same URL, or the same title and text) or a
near copy emitted (one of the two carries an edit), and a group none of whose
members is delivered is a story lost.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from replica.build import TRUTH_FILE, build_site
from replica.localrun import crawl, read_jsonl
from replica.model import NEW_COPY_KINDS, default_reserve
from replica.realtexts import load_texts
from replica.server import ReplicaServer

RECALL_TARGET = 0.99
OFFERED = ("delivered", "duplicate")
# New generated stories on top for run 2, and copies of run 1's stories among them:
# two of each kind (each near edit, and an exact copy).
GENERATED_NEW = 8
NEW_COPIES = 2 * len(NEW_COPY_KINDS)


@dataclass
class Finding:
    """One failure: what the truth says and what the crawler did."""

    kind: str  # "exact duplicate", "near copy", "lost", "unexpected", "crawl"
    text: str


@dataclass
class Report:
    label: str
    groups: int = 0
    near_pairs: int = 0  # near copies in the truth
    twins: int = 0  # exact copies in the truth
    items: list[int] = field(default_factory=list)  # items delivered by each run
    exit_codes: list[int] = field(default_factory=list)
    exact_emitted: int = 0
    near_emitted: int = 0
    lost: int = 0
    unexpected: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return (self.groups - self.lost) / self.groups if self.groups else 0.0

    @property
    def passed(self) -> bool:
        return (
            self.exact_emitted == 0
            and self.near_emitted == 0
            and self.recall >= RECALL_TARGET
            and self.unexpected == 0
            and all(code == 0 for code in self.exit_codes)
        )

    def lines(self) -> list[str]:
        target = f"{RECALL_TARGET:.0%}"
        out = [
            f"dedup check: {self.label}",
            f"  items delivered by each run: {self.items}, exit codes {self.exit_codes}",
            f"  distinct stories offered: {self.groups}"
            f" (with {self.near_pairs} near copies and {self.twins} exact copies in the truth)",
            f"  exact duplicates emitted: {self.exact_emitted} (target 0)",
            f"  near copies emitted: {self.near_emitted} (target 0)",
            f"  distinct stories lost: {self.lost}, recall {self.recall:.2%} (target >= {target})",
            f"  items the truth does not offer: {self.unexpected} (target 0)",
            f"  result: {'PASS' if self.passed else 'FAIL'}",
        ]
        if self.findings:
            out.append("  failures:")
            out += [f"    {f.kind}: {f.text}" for f in self.findings]
        return out


def _groups(truth: Sequence[dict]) -> dict[str, str]:
    """Each offered path's group: the path at the end of its ``duplicate_of`` chain."""
    by_path = {r["path"]: r for r in truth}

    def root(path: str) -> str:
        seen = set()
        while by_path[path].get("duplicate_of") and path not in seen:
            seen.add(path)
            path = by_path[path]["duplicate_of"]
        return path

    return {
        r["path"]: root(r["path"]) for r in truth if r["expect"] in OFFERED and r.get("listed_in")
    }


def _describe(record: dict) -> str:
    """A story of a group, and how it relates to the group's first story."""
    path = record["path"]
    if record.get("edit"):
        return f"{path} (copy of {record['copy_of']}, edit {record['edit']})"
    if record.get("duplicate_of"):
        return f"{path} (exact copy of {record['duplicate_of']})"
    return f"{path} (the original)"


def _drop_line(log: str, path: str) -> str:
    """The crawl's log line about a story's drop, if any (what the crawler did)."""
    for line in log.splitlines():
        if path in line and "Dropped" in line:
            return re.sub(r"^\S+ \S+ \[[^\]]*\] \w+: ", "", line)[:300]
    return "no drop logged (never fetched, or failed)"


def evaluate(
    label: str, truth: Sequence[dict], runs: Sequence[tuple[list[dict], str, int]]
) -> Report:
    """Compare what the runs delivered (items, log, exit code of each, in order)
    with the truth of the last site (a superset of the earlier ones)."""
    by_path = {r["path"]: r for r in truth}
    group_of = _groups(truth)
    report = Report(label, groups=len(set(group_of.values())))
    report.near_pairs = sum(1 for r in truth if r.get("edit") and r["path"] in group_of)
    report.twins = sum(
        1 for r in truth if r.get("duplicate_of") and not r.get("edit") and r["path"] in group_of
    )
    delivered: dict[str, list[tuple[str, dict, int]]] = {}
    for number, (items, _, code) in enumerate(runs, start=1):
        report.items.append(len(items))
        report.exit_codes.append(code)
        if code != 0:
            report.findings.append(Finding("crawl", f"run {number} exited {code}"))
        for item in items:
            path = urlsplit(item["url"]).path
            if path not in group_of:
                report.unexpected += 1
                expect = by_path[path]["expect"] if path in by_path else "not in the truth"
                report.findings.append(Finding("unexpected", f"{path} ({expect}) run {number}"))
                continue
            group = group_of[path]
            earlier = delivered.setdefault(group, [])
            if earlier:
                first_path, first, first_run = earlier[0]
                edits = [by_path[p].get("edit") for p in (path, first_path)]
                same_text = (first["title"], first["body"]) == (item["title"], item["body"])
                where = (
                    f"{_describe(by_path[path])} delivered by run {number}, after"
                    f" {_describe(by_path[first_path])} delivered by run {first_run}"
                )
                if any(edits) and not same_text:
                    report.near_emitted += 1
                    report.findings.append(Finding("near copy emitted", where))
                else:
                    report.exact_emitted += 1
                    report.findings.append(Finding("exact duplicate emitted", where))
            earlier.append((path, item, number))
    logs = "\n".join(log for _, log, _ in runs)
    for group in sorted(set(group_of.values())):
        if group in delivered:
            continue
        report.lost += 1
        members = sorted(p for p, g in group_of.items() if g == group)
        detail = "; ".join(
            f"{p}{' (edit ' + by_path[p]['edit'] + ')' if by_path[p].get('edit') else ''}:"
            f" {_drop_line(logs, p)}"
            for p in members
        )
        report.findings.append(Finding("lost", detail))
    return report


def _new_items(output: Path, before: set[Path]) -> list[dict]:
    """The items of the files a run added to the output folder (complete files only:
    ``*.jsonl``, never ``*.part``)."""
    files = sorted(set(output.glob("*.jsonl")) - before)
    return [item for path in files for item in read_jsonl(path)]


def run_check(
    work: Path,
    *,
    texts: Path | None = None,
    seed: int = 7,
    new: int | None = None,
    new_copies: int = NEW_COPIES,
    reserve: int | None = None,
    scale: int = 1,
) -> Report:
    """Build, serve and crawl the replica twice under ``work``; the report."""
    root, output, state = work / "replica", work / "output", work / "state"
    for folder in (root, output, state):  # a fresh start: an old state knows the stories
        shutil.rmtree(folder, ignore_errors=True)
    loaded = load_texts(texts) if texts is not None else None
    if loaded is not None:
        reserve = default_reserve(len(loaded)) if reserve is None else reserve
        new = reserve if new is None else new
        label = f"replica from {len(loaded)} texts of {texts} (seed {seed}, {new} new)"
    else:
        new = GENERATED_NEW if new is None else new
        label = f"generated replica (seed {seed}, scale {scale}, {new} new)"
    build_site(root, seed=seed, texts=loaded, reserve=reserve, scale=scale)
    runs: list[tuple[list[dict], str, int]] = []
    with ReplicaServer(root) as server:
        for number in (1, 2):
            if number == 2:
                build_site(
                    root,
                    seed=seed,
                    texts=loaded,
                    reserve=reserve,
                    new_on_top=new,
                    new_copies=new_copies,
                    scale=scale,
                )
            before = set(output.glob("*.jsonl"))
            result: subprocess.CompletedProcess[str] = crawl(server.base_url, output, state)
            runs.append((_new_items(output, before), result.stderr, result.returncode))
    with (root / TRUTH_FILE).open(encoding="utf-8") as f:
        truth = [json.loads(line) for line in f]
    return evaluate(label, truth, runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replica dedup-check",
        description="Crawl a replica with exact and near copies twice; count the copies "
        "emitted and the distinct stories lost. Exit 1 when a target is missed.",
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--texts", type=Path, help="JSON Lines of real texts (title, body, …)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--new", type=int, help="new stories on top for run 2")
    parser.add_argument("--new-copies", type=int, default=NEW_COPIES, help="copies on top")
    parser.add_argument("--reserve", type=int, help="texts held back for run 2 (default 10%%)")
    parser.add_argument("--scale", type=int, default=1, help="generated replica's scale")
    parser.add_argument("--work", type=Path, help="keep the replica, output and state here")


def run_from_args(args: argparse.Namespace) -> int:
    def check(work: Path) -> Report:
        return run_check(
            work,
            texts=args.texts,
            seed=args.seed,
            new=args.new,
            new_copies=args.new_copies,
            reserve=args.reserve,
            scale=args.scale,
        )

    try:
        if args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
            report = check(args.work)
        else:
            with tempfile.TemporaryDirectory(prefix="dedup-check-") as tmp:
                report = check(Path(tmp))
    except (OSError, ValueError) as exc:  # an unreadable texts file, a bad --new
        print(f"dedup-check: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
