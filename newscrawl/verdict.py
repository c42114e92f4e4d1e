"""Did the run succeed? The verdict a scheduled run ends with, and its exit code.

A scheduler only sees the exit status, so every way a run can fail has its own
code (README.md, "Exit codes"). Besides outright errors, a run fails when the
site changed under it: listings that yielded stories yield none, a field the
recent runs found on nearly every article is suddenly missing, or most articles
fail validation. The message names the section or field and the numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # Scrapy's own: the crawl could not start (bad setting, import error)
    USAGE = 2  # Scrapy's own: bad command line
    LOCKED = 3  # another run holds the state folder
    SITE_UNREACHABLE = 4  # no listing page could be fetched
    CRAWL_ERRORS = 5  # spider errors, or most pages failed to download
    OUTPUT_FAILED = 6  # the output files or manifest could not be written
    LAYOUT_CHANGED = 7  # the site's pages no longer look like the crawler expects
    STATE_FAILED = 8  # the state database is locked by another program or unreadable
    STORE_PENDING = 9  # delivered, but not loaded into NEWSCRAWL_STORE_URL (store down)


# Fields whose coverage (share of parsed articles that have them) is watched.
WATCHED_FIELDS = ("title", "published", "editor", "body")
# How many earlier complete runs the coverage of this run is compared with.
HISTORY_RUNS = 5
# Coverage below this share of the recent median is a collapse, not noise:
# editors are sometimes missing on a few pages, never on half of them.
COVERAGE_COLLAPSE_RATIO = 0.5
# Below this many parsed articles a share says little (an hourly run may find 2).
MIN_ARTICLES_FOR_COVERAGE = 5
# More than this share of parsed articles failing validation means the
# extraction no longer fits the pages.
MAX_INVALID_SHARE = 0.5
# Drops that mean the page did not fit the extraction.
INVALID_REASONS = (
    "MissingTitle",
    "MissingBody",
    "MissingPublished",
    "ImpossibleDate",
    "ImplausibleTitle",
    "ImplausibleBody",
)
# Pages not fetched (after retries) or fetched unusable (empty, cut short, bytes in
# no charset) on more than this share of requested pages fail the run; a few
# broken pages are logged and retried by the next run.
MAX_FAILED_PAGE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Verdict:
    exit_code: ExitCode
    reason: str | None = None

    @property
    def status(self) -> str:
        return "complete" if self.exit_code is ExitCode.OK else "failed"


def run_metrics(stats: Mapping[str, Any]) -> dict[str, Any]:
    """What the run history keeps of a run, to judge later runs against."""
    parsed = stats.get("newscrawl/articles_parsed", 0)
    return {
        "articles_parsed": parsed,
        "coverage": {
            field: (stats.get(f"newscrawl/field_present/{field}", 0) / parsed if parsed else None)
            for field in WATCHED_FIELDS
        },
        "listing_items": {
            key.rsplit("/", 1)[1]: value
            for key, value in stats.items()
            if key.startswith("newscrawl/listing_items/")
        },
    }


def judge(
    stats: Mapping[str, Any],
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    close_reason: str = "finished",
) -> Verdict:
    """The run's verdict from its stats and the recent runs' metrics. A run stopped
    before its end (a signal, the run-time limit) is judged on what it did: reading
    no listing page before the stop says nothing about the site."""
    if stats.get("newscrawl/output_errors"):
        return Verdict(ExitCode.OUTPUT_FAILED, "the output could not be written (see log)")
    if stats.get("newscrawl/state_errors"):
        return Verdict(ExitCode.STATE_FAILED, "the state database failed (see log)")
    if stats.get("newscrawl/robots_txt_unavailable"):
        status = stats.get("newscrawl/robots_txt_status") or "no answer"
        return Verdict(
            ExitCode.SITE_UNREACHABLE,
            f"no listing page could be fetched: robots.txt is unavailable ({status}),"
            " and nothing may be fetched until it answers (RFC 9309)",
        )
    listings_ok = stats.get("newscrawl/listing_pages", 0)
    listing_errors = stats.get("newscrawl/listing_errors", 0)
    if listings_ok == 0 and close_reason == "finished":
        return _no_listing_verdict(stats)
    if listings_ok == 0 and not listing_errors:
        return Verdict(ExitCode.OK)  # stopped before any listing answered
    exceptions = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    if exceptions:
        return Verdict(ExitCode.CRAWL_ERRORS, f"{exceptions} spider exception(s) (see log)")
    requested = stats.get("newscrawl/articles_requested", 0) + listings_ok + listing_errors
    not_fetched = listing_errors + stats.get("newscrawl/article_download_errors", 0)
    unusable = stats.get("newscrawl/article_pages_failed", 0)
    if requested and not_fetched + unusable > MAX_FAILED_PAGE_SHARE * requested:
        return Verdict(
            ExitCode.CRAWL_ERRORS,
            f"{not_fetched + unusable} of {requested} pages failed"
            f" ({not_fetched} not fetched, {unusable} empty, cut short or unreadable)",
        )
    return _layout_verdict(stats, metrics, history)


def _no_listing_verdict(stats: Mapping[str, Any]) -> Verdict:
    """No listing page was read: why, in the operator's words."""
    errors = stats.get("newscrawl/listing_errors", 0)
    forbidden = stats.get("newscrawl/listings_forbidden", 0)
    offsite = stats.get("newscrawl/listings_redirected_offsite", 0)
    loops = stats.get("newscrawl/listing_redirect_loops", 0)
    missing = stats.get("newscrawl/missing_sections", 0)
    if errors and not (offsite or loops or forbidden):
        return Verdict(
            ExitCode.SITE_UNREACHABLE,
            f"no listing page could be fetched ({errors} failed after retries)",
        )
    parts = [
        f"{count} {what}"
        for count, what in (
            (missing, "not found (404)"),
            (forbidden, "forbidden by robots.txt"),
            (offsite, "redirected off the site"),
            (loops, "redirected in a loop"),
            (errors - offsite - loops, "failed after retries"),
        )
        if count
    ]
    return Verdict(
        ExitCode.LAYOUT_CHANGED,
        "no section listing page could be read: " + (", ".join(parts) or "none requested"),
    )


def _layout_verdict(
    stats: Mapping[str, Any], metrics: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> Verdict:
    for section, items in metrics["listing_items"].items():
        before = [h["listing_items"].get(section) for h in history[:HISTORY_RUNS]]
        before = [b for b in before if b]
        if items == 0 and before:
            return Verdict(
                ExitCode.LAYOUT_CHANGED,
                f"listing {section}: page 1 lists 0 stories (recent runs: {max(before)})",
            )
    listed = metrics["listing_items"].values()
    if listed and not any(listed) and not stats.get("newscrawl/feed_items"):
        return Verdict(ExitCode.LAYOUT_CHANGED, "no listing page lists any story")
    parsed = metrics["articles_parsed"]
    if parsed >= MIN_ARTICLES_FOR_COVERAGE:
        invalid = sum(
            stats.get(f"item_dropped_reasons_count/{reason}", 0) for reason in INVALID_REASONS
        )
        if invalid > MAX_INVALID_SHARE * parsed:
            return Verdict(
                ExitCode.LAYOUT_CHANGED,
                f"{invalid} of {parsed} articles failed validation",
            )
        for field, share in metrics["coverage"].items():
            past = [
                h["coverage"][field]
                for h in history[:HISTORY_RUNS]
                if h["articles_parsed"] >= MIN_ARTICLES_FOR_COVERAGE
                and h["coverage"].get(field) is not None
            ]
            if past and share < COVERAGE_COLLAPSE_RATIO * statistics.median(past):
                return Verdict(
                    ExitCode.LAYOUT_CHANGED,
                    f"field {field}: on {share:.0%} of {parsed} articles"
                    f" (recent runs: {statistics.median(past):.0%})",
                )
    return Verdict(ExitCode.OK)
