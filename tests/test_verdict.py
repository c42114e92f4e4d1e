"""The verdict a run ends with: which failures fail it, and how they are named."""

from __future__ import annotations

from typing import Any

from newscrawl.verdict import ExitCode, judge, run_metrics


def stats_of(parsed: int = 30, editor: int = 30, items: int = 30, **extra: Any) -> dict:
    stats = {
        "newscrawl/listing_pages": 3,
        "newscrawl/listing_items/politics": items,
        "newscrawl/articles_requested": parsed,
        "newscrawl/articles_parsed": parsed,
        "newscrawl/field_present/title": parsed,
        "newscrawl/field_present/published": parsed,
        "newscrawl/field_present/body": parsed,
        "newscrawl/field_present/editor": editor,
    }
    stats.update(extra)
    return stats


def verdict_for(stats: dict, history: list[dict] | None = None):
    return judge(stats, run_metrics(stats), history or [])


def test_a_normal_run_is_complete() -> None:
    good = stats_of()
    verdict = verdict_for(good, [run_metrics(good)] * 3)
    assert verdict.exit_code is ExitCode.OK and verdict.status == "complete"


def test_a_collapsed_field_fails_the_run_naming_field_and_numbers() -> None:
    history = [run_metrics(stats_of(editor=29))] * 3
    verdict = verdict_for(stats_of(editor=3), history)
    assert verdict.exit_code is ExitCode.LAYOUT_CHANGED
    assert verdict.reason == "field editor: on 10% of 30 articles (recent runs: 97%)"


def test_a_field_rare_in_history_does_not_fail_when_rare_now() -> None:
    history = [run_metrics(stats_of(editor=4))] * 3
    assert verdict_for(stats_of(editor=3), history).exit_code is ExitCode.OK


def test_coverage_is_not_judged_on_a_handful_of_articles() -> None:
    history = [run_metrics(stats_of())] * 3
    assert verdict_for(stats_of(parsed=2, editor=0), history).exit_code is ExitCode.OK


def test_an_empty_listing_that_used_to_list_stories_fails_the_run() -> None:
    history = [run_metrics(stats_of())]
    verdict = verdict_for(stats_of(items=0, parsed=0, editor=0), history)
    assert verdict.exit_code is ExitCode.LAYOUT_CHANGED
    assert verdict.reason == "listing politics: page 1 lists 0 stories (recent runs: 30)"


def test_most_articles_failing_validation_fails_the_run_without_history() -> None:
    stats = stats_of(**{"item_dropped_reasons_count/MissingBody": 20})
    verdict = verdict_for(stats)
    assert verdict.exit_code is ExitCode.LAYOUT_CHANGED
    assert verdict.reason == "20 of 30 articles failed validation"


def test_no_listing_fetched_is_an_unreachable_site() -> None:
    stats = {"newscrawl/listing_pages": 0, "newscrawl/listing_errors": 10}
    assert verdict_for(stats).exit_code is ExitCode.SITE_UNREACHABLE


def test_spider_exceptions_fail_the_run() -> None:
    stats = stats_of(**{"spider_exceptions/KeyError": 1})
    assert verdict_for(stats).exit_code is ExitCode.CRAWL_ERRORS


def test_most_downloads_failing_fails_the_run_a_few_do_not() -> None:
    assert verdict_for(stats_of(**{"newscrawl/article_download_errors": 3})).exit_code == 0
    failing = stats_of(**{"newscrawl/article_download_errors": 30})
    assert verdict_for(failing).exit_code is ExitCode.CRAWL_ERRORS


def test_an_output_error_fails_the_run_first() -> None:
    stats = stats_of(**{"newscrawl/output_errors": 1})
    assert verdict_for(stats).exit_code is ExitCode.OUTPUT_FAILED


def test_a_run_whose_article_pages_were_all_empty_or_cut_short_fails() -> None:
    # Downloads "succeeded" (HTTP 200), but no page could be used.
    stats = stats_of(
        parsed=0,
        **{"newscrawl/articles_requested": 30, "newscrawl/article_pages_failed": 30},
    )
    verdict = verdict_for(stats)
    assert verdict.exit_code is ExitCode.CRAWL_ERRORS
    assert verdict.reason == (
        "30 of 33 pages failed (0 not fetched, 30 empty, cut short or unreadable)"
    )


def test_a_few_unusable_pages_do_not_fail_the_run() -> None:
    assert verdict_for(stats_of(**{"newscrawl/article_pages_failed": 3})).exit_code == 0


def test_listings_forbidden_by_robots_are_named_not_called_missing() -> None:
    stats = {"newscrawl/listing_pages": 0, "newscrawl/listings_forbidden": 2}
    verdict = verdict_for(stats)
    assert verdict.exit_code is ExitCode.LAYOUT_CHANGED
    assert verdict.reason == "no section listing page could be read: 2 forbidden by robots.txt"


def test_listings_redirected_off_the_site_are_named() -> None:
    stats = {
        "newscrawl/listing_pages": 0,
        "newscrawl/listing_errors": 2,
        "newscrawl/listings_redirected_offsite": 2,
    }
    verdict = verdict_for(stats)
    assert verdict.exit_code is ExitCode.LAYOUT_CHANGED
    assert verdict.reason == "no section listing page could be read: 2 redirected off the site"


def test_an_unavailable_robots_txt_is_an_unreachable_site() -> None:
    stats = stats_of(**{"newscrawl/robots_txt_unavailable": 1, "newscrawl/robots_txt_status": 503})
    verdict = verdict_for(stats)
    assert verdict.exit_code is ExitCode.SITE_UNREACHABLE
    assert "robots.txt is unavailable (503)" in verdict.reason


def test_a_stop_before_any_listing_answered_is_not_a_layout_change() -> None:
    stats = {"newscrawl/listing_pages": 0}
    assert judge(stats, run_metrics(stats), [], "shutdown").exit_code is ExitCode.OK
    assert judge(stats, run_metrics(stats), [], "finished").exit_code is ExitCode.LAYOUT_CHANGED
