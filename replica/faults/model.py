"""What a fault case is made of: its runs (``Step``), what its builder and checks
see (``Context``), the case itself (``Case``), and the pieces cases share: what
happens to a crawl while it runs (a signal, a second crawl beside it) and checks
of what a run delivered, counted and logged.
"""

from __future__ import annotations

import html
import re
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replica.faults.launcher import RSS_CEILING_MB, RUN_TIMEOUT, Crawl, RunResult
from replica.faults.output import (
    delivered_paths,
    failures_counted,
    lines_naming,
    manifest_items,
)
from replica.faults.server import Faults, FaultServer

SECTIONS = ("politics", "cns-wire")
WIRE = ("cns-wire",)  # the smaller section (2 listing pages, 50 stories): quicker runs


# --- Steps, context, cases ----------------------------------------------------------


@dataclass
class Step:
    """One run of a case: the server's faults during it (None: nothing listens),
    the statuses that are right for it, local faults set up around it, and what
    happens to the crawl while it runs (``during``, called every tick)."""

    faults: Faults | None = field(default_factory=Faults)
    expect_exit: frozenset[int] = frozenset({0})
    sections: tuple[str, ...] | None = None  # None: the context's
    spider_args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Context], None] | None = None
    teardown: Callable[[Context], None] | None = None
    # stderr must match this (a clear message), when the run is expected to fail
    message: str | None = None
    during: Callable[[Context, Crawl], None] | None = None
    state: Path | None = None  # None: the context's state folder
    timeout: float = RUN_TIMEOUT  # seconds the run may take: it is killed past them
    stop_within: float | None = None  # seconds it may take to end after a signal
    # the crawl is killed past this resident memory (the machine is shared)
    rss_ceiling_mb: float = RSS_CEILING_MB

    @property
    def clean(self) -> bool:
        """The server as it is, nothing done around the run."""
        return (
            self.faults == Faults()
            and not (self.settings or self.env or self.spider_args or self.state)
            and not (self.setup or self.teardown or self.during)
        )


@dataclass
class Context:
    """What a case's builder and checks see: the folders, the server, the truth, and
    what the case adds to or removes from the stories it expects."""

    work: Path
    site_dir: Path
    truth: list[dict[str, Any]]
    server: FaultServer
    out: Path
    state: Path
    sections: tuple[str, ...] = SECTIONS
    # generated stories that must be delivered: path → expected fields (or None)
    extra_expected: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    # paths that may or may not be delivered (hostile pages with no right answer)
    optional: set[str] = field(default_factory=set)
    # which truth stories the case expects (default: listed in the crawled sections)
    expect_story: Callable[[dict[str, Any]], bool] | None = None
    # truth path → the fields the page shows under this fault (title, body, editor …)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # how many times each story must be delivered over the case (2 after a reset)
    times: int = 1
    # folders the runs may write to besides the output and state folders
    allowed: list[Path] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)
    # crawls started beside the running one, with their step
    beside: list[tuple[Crawl, Step]] = field(default_factory=list)
    hits_from: int = 0  # the server's hit count when the running step started
    records: dict[str, dict[str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.records = {r["path"]: r for r in self.truth}

    @property
    def tmp(self) -> Path:
        """The crawls' temporary folder (``TMPDIR``): what a killed run leaves there
        stays with the case."""
        return self.work / "tmp"

    def listing(self, section: str, page: int = 1) -> str:
        path = {"politics": "/news/politics/", "cns-wire": "/cns-wire/"}[section]
        return path + ("index.shtml" if page == 1 else f"index_{page}.shtml")

    def last_page(self, section: str) -> int:
        page = 1
        while (self.site_dir / self.listing(section, page + 1).lstrip("/")).is_file():
            page += 1
        return page

    def page_stories(self, section: str, page: int) -> list[str]:
        """The deliverable stories listing page ``page`` of ``section`` links to."""
        listing = (self.site_dir / self.listing(section, page).lstrip("/")).read_text("utf-8")
        hrefs = re.findall(r'<li><h3><a href="([^"]+)"', listing)
        deliverable = {r["path"] for r in self.truth if r["expect"] == "delivered"}
        paths = [urlsplit(html.unescape(h)).path for h in hrefs]
        return [p for p in paths if p in deliverable]

    def stories(self, section: str, count: int, offset: int = 0) -> list[str]:
        """``count`` deliverable stories listed in ``section``, spread over it."""
        paths = sorted(
            r["path"]
            for r in self.truth
            if r["expect"] == "delivered" and section in r["listed_in"]
        )
        step = max(1, len(paths) // count)
        return paths[offset::step][:count]

    def record(self, path: str) -> dict[str, Any]:
        return self.records[path]

    def plain_stories(self, section: str, page: int) -> list[str]:
        """Stories of a listing page with a page of the common kind: plain paragraphs,
        a time, a source, an editor, no photo, no spam, no title or body variation."""
        common = re.compile(r"editor_(?:two_spaces|one_space)")
        single = self.single_stories(SECTIONS)
        return [
            p
            for p in self.page_stories(section, page)
            if p in single
            and all(common.fullmatch(v) for v in self.record(p)["variations"])
            and self.record(p)["source"]
            and self.record(p)["editor"]
            and p.startswith(self.listing(section).removesuffix("index.shtml"))
        ]

    def story_key(self, path: str) -> str:
        """The story a path is: a copy (exact or near) is the story it copies (of the
        two, either may be the one delivered)."""
        record = self.records.get(path)
        if record is not None and record["expect"] == "duplicate":
            return str(record["duplicate_of"])
        return path

    def single_stories(self, sections: Iterable[str] | None = None) -> set[str]:
        """The stories listed in ``sections`` (default: the crawled ones) that must be
        delivered and have no copy (of a copy and its original, either may be the
        one delivered)."""
        wanted = set(self.sections if sections is None else sections)
        paired = {r["duplicate_of"] for r in self.truth if "duplicate_of" in r}
        paired |= {r["path"] for r in self.truth if "duplicate_of" in r}
        return {
            r["path"]
            for r in self.truth
            if r["expect"] == "delivered"
            and set(r["listed_in"]) & wanted
            and r["path"] not in paired
        }

    def page_bytes(self, path: str) -> bytes:
        return (self.site_dir / path.lstrip("/")).read_bytes()

    def article_paths(self) -> frozenset[str]:
        """Every article page of the replica."""
        return frozenset(
            "/" + p.relative_to(self.site_dir).as_posix()
            for p in self.site_dir.rglob("detail-*.shtml")
        )

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}"

    def run_paths(self) -> list[str]:
        """Paths requested since the running step started."""
        return self.server.paths_requested(self.hits_from)


def launch(ctx: Context, step: Step, *, label: str = "") -> Crawl:
    """Start the crawl of ``step`` against the context's server and folders."""
    sections = step.sections or ctx.sections
    return Crawl(
        ctx.server.base_url,
        ctx.out,
        step.state or ctx.state,
        spider_args={"sections": ",".join(sections), **step.spider_args},
        settings=step.settings,
        env={"TMPDIR": str(ctx.tmp), **step.env},
        timeout=step.timeout,
        stop_within=step.stop_within,
        rss_ceiling_mb=step.rss_ceiling_mb,
        label=label,
    ).start()


Check = Callable[[Context, list[RunResult]], list[str]]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # server, next-run, hostile, resource, stop, local, message
    behaviour: str  # what the crawler must do, one line
    build: Callable[[Context], list[Step]]
    recoverable: bool = True
    check: Check | None = None
    # The page shows markup as text (``&lt;script&gt;``): fields are plain text as
    # the page shows it (README, "Output format"), so that text is right there.
    shows_markup_as_text: bool = False
    # What a consumer gets, in a few words (the table's "expected" column, after
    # the exit codes of the runs).
    promise: str = "every story once"
    clean_after: bool = True  # a clean run follows the case's runs
    max_rss_mb: float | None = None  # the crawl's peak resident memory must stay below
    # The case spends its time waiting (a hung download, a long Retry-After): it is
    # measured beside the others instead of taking one of their places.
    idle: bool = False


def path_set(*paths: str | Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for p in paths:
        out.update([p] if isinstance(p, str) else p)
    return frozenset(out)


def all_of(*checks: Check) -> Check:
    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        return [problem for c in checks for problem in c(ctx, runs)]

    return check


# -- what happens to a crawl while it runs ---------------------------------------------


def signal_when(
    condition: Callable[[Context, Crawl], bool], sig: signal.Signals = signal.SIGTERM
) -> Callable[[Context, Crawl], None]:
    """Send ``sig`` to the crawl once ``condition`` holds."""

    def during(ctx: Context, crawl: Crawl) -> None:
        if crawl.signalled is None and condition(ctx, crawl):
            crawl.send(sig)

    return during


def requested(paths: Iterable[str], wait: float = 0.5) -> Callable[[Context, Crawl], bool]:
    """True ``wait`` seconds after the server got a request for one of ``paths``."""
    wanted = set(paths)

    def condition(ctx: Context, crawl: Crawl) -> bool:
        hits = [h for h in ctx.server.hits[ctx.hits_from :] if urlsplit(h.path).path in wanted]
        return bool(hits) and time.monotonic() - hits[0].at >= wait

    return condition


def articles_requested(count: int) -> Callable[[Context, Crawl], bool]:
    def condition(ctx: Context, crawl: Crawl) -> bool:
        return sum("/detail-" in p for p in ctx.run_paths()) >= count

    return condition


def beside(step: Step, when: Callable[[Context], bool]) -> Callable[[Context, Crawl], None]:
    """Start a second crawl (``step``) once ``when`` holds, while the first runs."""

    def during(ctx: Context, crawl: Crawl) -> None:
        if "beside" not in ctx.scratch and when(ctx):
            started = launch(ctx, step, label="beside")
            ctx.scratch["beside"] = started
            ctx.beside.append((started, step))

    return during


# -- checks shared by cases ------------------------------------------------------------


def delivered_by(ctx: Context, runs: list[RunResult], n: int) -> set[str]:
    """The story paths run ``n`` (1-based) delivered."""
    return delivered_paths(ctx.out, runs[n - 1].manifest) if len(runs) >= n else set()


def delivered_in_run(n: int, paths_of: Callable[[Context], Iterable[str]]) -> Check:
    """The stories ``paths_of`` names are delivered by run ``n`` already."""

    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        missing = sorted(set(paths_of(ctx)) - delivered_by(ctx, runs, n))
        if not missing:
            return []
        return [f"run {n} did not deliver {len(missing)} of them, e.g. {missing[0]}"]

    return check


def not_delivered_in_run(n: int, key: str, why: str) -> Check:
    """The pages in ``ctx.scratch[key]`` are not delivered by run ``n``."""

    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        wrong = sorted(set(ctx.scratch[key]) & delivered_by(ctx, runs, n))
        return [f"run {n} delivered {p} ({why})" for p in wrong]

    return check


def counted(n: int, *keys: str) -> Check:
    """Run ``n`` counts the pages in ``ctx.scratch[key]`` (for each key) among its
    failures (``output.FAILURE_STAT_RE``, in its manifest's stats)."""

    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        manifest = runs[n - 1].manifest if len(runs) >= n else None
        want = sum(len(ctx.scratch[key]) for key in keys)
        got = failures_counted(manifest)
        if got >= want:
            return []
        return [f"run {n} counts {got} failed page(s) in its manifest's stats, want {want}+"]

    return check


def logged(n: int, key: str, reason: str) -> Check:
    """Run ``n`` logs a line naming each page in ``ctx.scratch[key]`` (its URL) and a
    reason matching ``reason``."""

    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        stderr = runs[n - 1].stderr if len(runs) >= n else ""
        return [
            f"run {n} logs no line naming {path} with /{reason}/"
            for path in sorted(ctx.scratch[key])
            if not any(re.search(reason, line) for line in lines_naming(stderr, ctx.url(path)))
        ]

    return check


def manifest_complete(n: int) -> Check:
    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        manifest = runs[n - 1].manifest if len(runs) >= n else None
        if manifest is None or manifest.get("status") != "complete":
            status = manifest.get("status") if manifest else "no manifest"
            return [f"run {n} left no complete manifest ({status})"]
        return []

    return check


def stops_within(n: int, seconds: float) -> Check:
    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        run = runs[n - 1] if len(runs) >= n else None
        if run is None or run.signalled is None:
            return [f"run {n} was never signalled (the fault was not reached)"]
        if run.stop_seconds is None or run.stop_seconds > seconds:
            return [f"run {n} did not end within {seconds:.0f} s of {run.signalled}"]
        return []

    return check


def fields_are(n: int) -> Check:
    """The fields in ``ctx.scratch["fields"]`` (path → field → value) are what run
    ``n`` delivered for those stories."""

    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        items = {urlsplit(i["url"]).path: i for i in manifest_items(ctx.out, runs[n - 1].manifest)}
        problems = []
        for path, fields in ctx.scratch["fields"].items():
            item = items.get(path)
            if item is None:
                problems.append(f"run {n} did not deliver {path}")
                continue
            for name, want in fields.items():
                if item.get(name) != want:
                    got = item.get(name)
                    shown = got[:80] + "…" if isinstance(got, str) and len(got) > 80 else got
                    problems.append(f"{path}: {name} is {shown!r}, want {want!r}")
        return problems

    return check


def no_text(*markers: str) -> Check:
    """None of ``markers`` in any string field of any line of the output."""

    def check(ctx: Context, runs: list[RunResult]) -> list[str]:
        problems = []
        for path in sorted(ctx.out.glob("*.jsonl")):
            text = path.read_text(encoding="utf-8", errors="replace")
            problems += [f"{path.name} holds {m!r}" for m in markers if m in text]
        return problems

    return check


def no_offsite_request(ctx: Context, runs: list[RunResult]) -> list[str]:
    hits = ctx.server.offsite_hits
    if not hits:
        return []
    return [f"{len(hits)} request(s) went off-site, e.g. {hits[0].host}{hits[0].path}"]
