"""Measuring a case, and the table of the suite.

``measure`` runs a case's crawls against a fault server on a built replica and
measures them as a consumer sees them: stories read only from files named in
complete manifests, against the replica's truth (expected, delivered, lost,
duplicated, delivered but damaged), each run's exit status against the one the
case expects (README, "Exit codes"), tracebacks, the crawl's peak memory, what the
case's own check finds, and the time taken. ``format_table`` prints one line a
case: what was expected (the exit codes of the runs, the promise), what happened,
right or wrong.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replica.build import TRUTH_FILE, build_site
from replica.faults.cases import CASES, CASES_BY_NAME
from replica.faults.launcher import DROP_DAC_FAILED, TICK, RunResult
from replica.faults.model import Case, Context, Step, launch
from replica.faults.output import delivered_items, output_problems, state_delivered
from replica.faults.server import FaultServer
from replica.server import site_dir_of


@dataclass
class Row:
    """The measurement of one case: one line of the table."""

    name: str
    kind: str
    behaviour: str
    recoverable: bool
    promise: str = ""
    expected: int = 0
    times: int = 1  # deliveries each expected story must have
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    damaged: int = 0
    exits: list[int | None] = field(default_factory=list)
    expect_exits: list[frozenset[int]] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)  # the step of each run (1-based)
    crashes: list[str] = field(default_factory=list)  # unhandled tracebacks
    logged_tracebacks: list[str] = field(default_factory=list)  # after a handled error
    problems: list[str] = field(default_factory=list)
    output_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    cpu_seconds: float = 0.0  # of the case's crawls
    runs: list[RunResult] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def exits_ok(self) -> bool:
        return all(code in want for code, want in zip(self.exits, self.expect_exits, strict=True))

    @property
    def survived(self) -> bool:
        """No crash, no hang, valid output, nothing let in, nothing duplicated, and
        what the case checks beyond that."""
        return (
            self.exits_ok
            and not self.crashes
            and not self.problems
            and not self.output_problems
            and self.unexpected == 0
            and self.duplicated == 0
        )

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        if not self.survived:
            return False
        return not self.recoverable or (self.lost == 0 and self.damaged == 0)

    def exit_text(self, codes: Sequence[Any]) -> str:
        """Codes a run, ``/`` between steps, ``+`` between runs of one step."""
        by_step: dict[int, list[str]] = {}
        for step, code in zip(self.steps, codes, strict=True):
            by_step.setdefault(step, []).append(code)
        return "/".join("+".join(group) for group in by_step.values())

    @property
    def expected_text(self) -> str:
        want = self.exit_text(["|".join(str(c) for c in sorted(w)) for w in self.expect_exits])
        return f"{want}; {self.promise}"

    @property
    def happened_text(self) -> str:
        got = self.exit_text(["killed" if c is None else str(c) for c in self.exits])
        times = "" if self.times == 1 else f" x{self.times}"
        parts = [f"{got}; {self.delivered}/{self.expected}{times}"]
        for count, what in (
            (self.lost, "lost"),
            (self.duplicated, "dup"),
            (self.unexpected, "extra"),
            (self.damaged, "damaged"),
            (len(self.crashes), "crashed"),
            (len(self.problems) + len(self.output_problems), "problem(s)"),
        ):
            if count:
                parts.append(f"{count} {what}")
        return ", ".join(parts)

    def explain(self) -> str:
        """Why the row is not right, with the evidence (for test failures)."""
        lines = [
            f"{self.name}: expected {self.expected}, delivered {self.delivered}, lost {self.lost},"
            f" duplicated {self.duplicated}, unexpected {self.unexpected}, damaged {self.damaged};"
            f" exits {self.exits} (want {[sorted(w) for w in self.expect_exits]})",
        ]
        lines += [f"  problem: {p}" for p in self.problems + self.output_problems]
        lines += [f"  traceback: {c}" for c in self.crashes]
        lines += [f"  e.g. {e}" for e in self.examples[:5]]
        for i, run in enumerate(self.runs, 1):
            if run.exit_code not in self.expect_exits[i - 1] or self.crashes:
                lines.append(f"  run {i} stderr (last lines):")
                lines += ["    " + line for line in run.stderr.strip().splitlines()[-25:]]
        return "\n".join(lines)


LOG_RECORD_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)? "
    r"\[(?P<logger>[^\]]+)\] (?P<level>[A-Z]+): (?P<msg>.*)"
)
# Loggers whose tracebacks follow an error that was handled: the crawler's own
# ``logger.exception`` where it recovers, and Scrapy's robots.txt download failure
# (the site is then crawled as if it had no robots.txt).
HANDLED_LOGGERS = ("newscrawl", "scrapy.downloadermiddlewares.robotstxt")


def tracebacks(stderr: str) -> tuple[list[str], list[str]]:
    """The tracebacks in ``stderr``, one per log record, as ``[logger] message →
    exception``: (unhandled, handled). Unhandled: Scrapy's "Error processing" (an
    item pipeline raised), "Spider error processing", "Error caught on signal
    handler", Twisted's "Unhandled error in Deferred", a failing log handler, and
    a traceback no warning or error record announces (the process died)."""
    unhandled: list[str] = []
    handled: list[str] = []
    record: tuple[int, str, str] | None = None  # (line number, logger, message)
    reported: set[int] = set()
    lines = stderr.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = LOG_RECORD_RE.match(line)
        if m:
            level = m.group("level")
            announces = level in ("WARNING", "ERROR", "CRITICAL")
            record = (i, m.group("logger"), m.group("msg")) if announces else None
        elif line.startswith("--- Logging error ---"):
            record = (i, "logging", "a log handler failed")
        elif line.startswith("Traceback (most recent call last):"):
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t"):
                j += 1
            exc = lines[j].strip() if j < len(lines) else "?"
            if record is None or record[0] not in reported:
                if record is not None:
                    reported.add(record[0])
                where = f"[{record[1]}] {record[2][:70]}" if record else "(no log record)"
                ours = record is not None and record[1].startswith(HANDLED_LOGGERS)
                (handled if ours else unhandled).append(f"{where} -> {exc[:150]}")
            i = j
        i += 1
    return unhandled, handled


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


def read_truth(site_root: Path) -> list[dict[str, Any]]:
    with (site_root / TRUTH_FILE).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def steps_of(case: Case, ctx: Context) -> list[Step]:
    """The case's runs, and the clean run after them unless it ends clean already."""
    steps = case.build(ctx)
    if case.clean_after and not steps[-1].clean:
        steps.append(Step())
    return steps


def _run_step(ctx: Context, step: Step) -> list[tuple[RunResult, Step]]:
    """One step: its crawl, and the crawls started beside it, to their ends."""
    server = ctx.server
    if step.faults is None:
        server.pause()
    else:
        server.start()
        server.release_hung()
        server.set_faults(step.faults)
    ctx.hits_from = len(server.hits)
    ctx.beside = []
    crawl = launch(ctx, step)
    while crawl.poll():
        for other, _ in ctx.beside:
            other.poll()
        if step.during:
            step.during(ctx, crawl)
        time.sleep(TICK)
    results = [(crawl.result(), step)]
    results += [(other.wait(), other_step) for other, other_step in ctx.beside]
    hits = server.hits[ctx.hits_from :]
    for result, _ in results:
        result.hits = hits
    return results


def measure(case: Case, site_root: Path, work: Path) -> Row:
    """Run ``case`` against a fault server on the replica at ``site_root``, in ``work``."""
    row = Row(case.name, case.kind, case.behaviour, case.recoverable, case.promise)
    site_dir = site_dir_of(site_root)
    truth = read_truth(site_root)
    shutil.rmtree(work, ignore_errors=True)  # a kept folder from an earlier measurement
    work.mkdir(parents=True)
    # Deep folders: an id that climbs out of the output folder lands inside ``work``.
    nest = work / "crawl" / "a" / "b"
    server = FaultServer(site_dir)
    ctx = Context(work, site_dir, truth, server, nest / "out", nest / "state")
    ctx.tmp.mkdir()
    with server:
        steps = steps_of(case, ctx)
        before = tree(work)
        started = time.monotonic()
        for number, step in enumerate(steps, 1):
            if step.setup:
                step.setup(ctx)
            try:
                results = _run_step(ctx, step)
            finally:
                if step.teardown:
                    step.teardown(ctx)
            for result, expected in results:
                _record(row, ctx, case, number, result, expected)
            if row.skipped:
                break
        row.seconds = time.monotonic() - started
        # The runs may make the folders' parents, and anything inside them; nothing else
        # (what they leave in their TMPDIR is the debris case's to judge).
        roots = [ctx.out, ctx.state, ctx.tmp, *ctx.allowed]
        parents = {parent for root in roots for parent in root.parents}
        outside = [
            p
            for p in tree(work) - before
            if not any(p.is_relative_to(root) for root in roots)
            and not (p in parents and p.is_dir())
        ]
        if outside:
            row.problems.append(f"files created outside output and state: {sorted(outside)[:3]}")
        if case.check and not row.skipped:
            row.problems += case.check(ctx, [r for r in row.runs if r.label != "beside"])
    row.output_problems = output_problems(ctx.out, server.netloc, case.shows_markup_as_text)
    _count(row, ctx)
    for held in ctx.held:
        held.close()
    return row


def _record(row: Row, ctx: Context, case: Case, number: int, result: RunResult, step: Step) -> None:
    """One run into the row: its status, and what is wrong with it."""
    row.runs.append(result)
    row.exits.append(result.exit_code)
    row.expect_exits.append(step.expect_exit)
    row.steps.append(number)
    n = len(row.runs)
    if result.exit_code == DROP_DAC_FAILED:
        row.skipped = "cannot drop CAP_DAC_OVERRIDE: a folder is writable for root here"
        return
    if result.killed:
        row.problems.append(f"run {n} killed: {result.killed}")
    row.cpu_seconds += result.cpu_seconds or 0.0
    if result.peak_rss_mb is not None:
        row.peak_rss_mb = max(row.peak_rss_mb or 0.0, result.peak_rss_mb)
        if case.max_rss_mb is not None and result.peak_rss_mb > case.max_rss_mb:
            row.problems.append(
                f"run {n}: peak RSS {result.peak_rss_mb:.0f} MB (at most {case.max_rss_mb:.0f})"
            )
    failed = step.message and result.exit_code != 0
    if failed and not re.search(step.message or "", result.stderr):
        row.problems.append(f"run {n}: no clear message (/{step.message}/) in stderr")
    unhandled, handled = tracebacks(result.stderr)
    row.crashes += [f"run {n}: {t}" for t in unhandled]
    row.logged_tracebacks += [f"run {n}: {t}" for t in handled]
    marked = state_delivered(ctx.state)
    named = {item["url"] for item in delivered_items(ctx.out)}
    if marked is not None and marked - named:
        row.problems.append(
            f"run {n}: {len(marked - named)} stories marked delivered"
            " that no complete manifest holds"
        )


def _count(row: Row, ctx: Context) -> None:
    """Expected, delivered, lost, duplicated, unexpected and damaged stories."""
    sections = set(ctx.sections)
    records = ctx.records
    key = ctx.story_key
    wanted = ctx.expect_story or (lambda r: bool(set(r["listed_in"]) & sections))
    expected = {
        key(r["path"]) for r in ctx.truth if r["expect"] in ("delivered", "duplicate") and wanted(r)
    }
    expected |= set(ctx.extra_expected)
    items = delivered_items(ctx.out)
    keys = Counter(key(urlsplit(item["url"]).path) for item in items)
    row.times = ctx.times
    row.expected = len(expected)
    row.delivered = sum(1 for k in expected if keys[k] >= ctx.times)
    short = sorted(k for k in expected if keys[k] < ctx.times)
    row.lost = len(short)
    row.duplicated = sum(n - ctx.times for n in keys.values() if n > ctx.times)
    extra = [k for k in keys if k not in expected and k not in ctx.optional]
    if ctx.scratch.get("escape_any"):  # generated probes: any may or may not be delivered
        extra = [k for k in extra if k in records]
    row.unexpected = len(extra)
    row.examples += [f"lost {p}" for p in short[:3]]
    row.examples += [f"unexpected {p}" for p in extra[:3]]
    row.examples += [f"delivered {n} times: {k}" for k, n in keys.items() if n > ctx.times][:3]
    for item in items:
        path = urlsplit(item["url"]).path
        want = ctx.overrides.get(path) or ctx.extra_expected.get(path) or records.get(path)
        if not want or "title" not in want:
            continue
        names = list(want) if path in ctx.overrides or path in ctx.extra_expected else []
        for name in names or ["title", "body"]:
            if item.get(name) != want[name]:
                row.damaged += 1
                row.examples.append(_difference(path, name, item.get(name), want[name]))
                break


def _difference(path: str, name: str, got: Any, want: Any) -> str:
    got, want = str(got), str(want)
    at = next(
        (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
        min(len(got), len(want)),
    )
    return (
        f"damaged {name} of {path}: got {got[max(0, at - 20) : at + 40]!r}"
        f" want {want[max(0, at - 20) : at + 40]!r}"
    )


class Measurements:
    """Cases measured in the background, ``jobs`` at a time; the cases that spend
    their time waiting (``Case.idle``) beside them, each in a thread of its own."""

    def __init__(self, root: Path, jobs: int) -> None:
        self.root = root
        self.site_root = root / "replica"
        if not (self.site_root / TRUTH_FILE).is_file():
            build_site(self.site_root)
        self._busy = concurrent.futures.ThreadPoolExecutor(max(1, jobs), "fault-case")
        idle = sum(case.idle for case in CASES)
        self._idle = concurrent.futures.ThreadPoolExecutor(max(1, idle), "idle-fault-case")
        self._futures: dict[str, concurrent.futures.Future[Row]] = {}

    def submit(
        self, name: str, progress: Callable[[Row], None] | None = None
    ) -> concurrent.futures.Future[Row]:
        if name not in self._futures:
            case = CASES_BY_NAME[name]
            pool = self._idle if case.idle else self._busy

            def one() -> Row:
                row = measure(case, self.site_root, self.root / case.name)
                if progress:
                    progress(row)
                return row

            self._futures[name] = pool.submit(one)
        return self._futures[name]

    def close(self) -> None:
        for pool in (self._idle, self._busy):
            pool.shutdown(wait=True, cancel_futures=True)


def run_suite(
    names: Sequence[str] | None = None,
    *,
    work: Path | None = None,
    jobs: int = 1,
    progress: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Build a replica and measure the named cases (all by default)."""
    cases = [CASES_BY_NAME[n] for n in names] if names else list(CASES)
    owned = work is None
    root = Path(tempfile.mkdtemp(prefix="newscrawl-faults-")) if work is None else work
    try:
        measurements = Measurements(root, jobs)
        try:
            # The waiting cases first: they take no place of the others.
            for case in sorted(cases, key=lambda c: not c.idle):
                measurements.submit(case.name, progress)
            return [measurements.submit(case.name).result() for case in cases]
        finally:
            measurements.close()
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)


def summarize(tracebacks: Sequence[str]) -> list[str]:
    """``N x [logger] message -> ExceptionType`` per kind of traceback, most first."""
    kinds: Counter[str] = Counter()
    for line in tracebacks:
        m = re.match(r"run \d+: (\[[^\]]+\]|\(no log record\)) ?(.*?) -> ([\w.]+)", line)
        if m:
            words = " ".join(m.group(2).split()[:2])
            kinds[f"{m.group(1)} {words} ... -> {m.group(3)}"] += 1
        else:
            kinds[line[:100]] += 1
    return [f"{n} x {kind}" for kind, n in kinds.most_common()]


def format_table(rows: Sequence[Row]) -> str:
    """The suite's table: one line a case (expected: the exit codes of its runs, ``/``
    between runs, and its promise; what happened; right or wrong), then the reasons
    of the wrong ones."""
    cells = [
        (
            r.name,
            r.kind,
            r.expected_text,
            r.happened_text,
            "-" if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f}",
            f"{r.cpu_seconds:.1f}",
            f"{r.seconds:.1f}",
            "skip" if r.skipped else ("right" if r.ok else "WRONG"),
        )
        for r in rows
    ]
    header = ("fault", "kind", "expected", "happened", "MB", "cpu s", "s", "")
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    right_aligned = {4, 5, 6}

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in right_aligned else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    lines = [line(header), "-" * len(line(header))]
    lines += [line(c) for c in cells]
    failed = [r for r in rows if not r.ok or r.skipped]
    if failed:
        lines.append("")
    for r in failed:
        if r.skipped:
            lines.append(f"{r.name}: skipped: {r.skipped}")
            continue
        notes = r.problems + r.output_problems[:3] + summarize(r.crashes) + r.examples[:3]
        lines.append(f"{r.name}: {r.behaviour}")
        lines += [f"    {n[:160]}" for n in notes]
    total = sum(r.seconds for r in rows)
    lines.append("")
    lines.append(
        "expected: exit codes of the runs (/ between runs, + a run beside, | either), then what"
        " a consumer must get; happened: exit codes (killed: by the suite, past its time or"
        " memory), stories received from complete manifests"
        " of those expected (lost: short of it; dup: received more; extra: received but not"
        " listed; damaged: title, body or field not as the page shows it; crashed: unhandled"
        " tracebacks); MB: the crawls' peak resident memory; cpu s: their CPU time; s: the"
        " case's wall time"
    )
    cpu = sum(r.cpu_seconds for r in rows)
    lines.append(
        f"{sum(r.ok for r in rows)} of {len(rows)} faults handled right; {total:.0f} s of crawling,"
        f" {cpu:.0f} s of the crawls' CPU"
    )
    return "\n".join(lines)
