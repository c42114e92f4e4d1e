"""The fault suite as tests: the crawler against a replica that misbehaves on
purpose (``replica.faults``), one fault case a test or two.

Each case runs ``scrapy crawl ecns`` once or more, then a clean run (the server
without faults) unless the case says otherwise, and is measured as a consumer
sees it: stories read from the files complete manifests name, against the
replica's truth. A test asserts what the case's behaviour must be; where one case
has a part the crawler handles and a part it does not, they are separate tests:
``assert_survived`` (each run's exit code, no crash, no hang, memory bounded,
valid output, and the case's own check) and ``assert_lost_nothing`` (every story
delivered once by the end, as the page holds it). ``python -m replica.faults``
prints the same measurements as a table.

A test the crawler fails today is ``xfail(strict=True)`` with the reason: when
the crawler is fixed it passes, the xfail turns into a failure, and the mark
comes off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from replica.faults import CASES_BY_NAME, Measurements, Row

# Cases measured at once: each is a few sequential crawls that wait on the network
# part of the time; two keep the module near its time on two cores. Cases that
# mostly wait (a hung download) are measured beside them.
JOBS = min(2, os.cpu_count() or 1)
TestFunction = TypeVar("TestFunction", bound=Callable[..., None])
Measured = Callable[[str], Row]


def fault(name: str) -> Callable[[TestFunction], TestFunction]:
    """The fault case a test asserts on (its ``row`` fixture)."""
    if name not in CASES_BY_NAME:
        raise ValueError(f"no fault case {name!r}")

    def mark(test: TestFunction) -> TestFunction:
        test.fault_case = name  # type: ignore[attr-defined]
        return test

    return mark


def known_failure(reason: str) -> pytest.MarkDecorator:
    """What the crawler does wrong in this case today."""
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.fixture(scope="module")
def measured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Measured]:
    """Measure the cases the selected tests need, ``JOBS`` at a time in test order
    (the waiting cases first, beside them), from the first test on; a test waits
    only for its own case."""
    names: list[str] = []
    for item in request.session.items:
        name = getattr(getattr(item, "function", None), "fault_case", None)
        if name and name not in names:
            names.append(name)
    measurements = Measurements(tmp_path_factory.mktemp("faults"), JOBS)
    for name in sorted(names, key=lambda n: not CASES_BY_NAME[n].idle):
        measurements.submit(name)
    yield lambda name: measurements.submit(name).result()
    measurements.close()


@pytest.fixture
def row(request: pytest.FixtureRequest, measured: Measured) -> Row:
    return measured(request.function.fault_case)


def skip_if_skipped(row: Row) -> None:
    if row.skipped:
        pytest.skip(row.skipped)


def assert_survived(row: Row) -> None:
    """Right statuses, no traceback, no hang, bounded memory, valid output, nothing
    let in, no duplicate, and what the case checks beyond that."""
    skip_if_skipped(row)
    assert row.survived, row.explain()


def assert_lost_nothing(row: Row) -> None:
    """Every story expected was delivered once (twice after a reset) and as the page
    holds it."""
    skip_if_skipped(row)
    assert (row.lost, row.duplicated, row.damaged) == (0, 0, 0), row.explain()


def assert_right(row: Row) -> None:
    assert_survived(row)
    assert_lost_nothing(row)


# --- server faults the crawler recovers from within Scrapy's retries ---------------


@fault("connection-reset")
def test_connection_resets_are_retried_and_lose_nothing(row: Row) -> None:
    assert_right(row)


@fault("connection-closed")
def test_connections_closed_without_an_answer_are_retried(row: Row) -> None:
    assert_right(row)


@fault("slow-response")
def test_answers_slower_than_the_download_timeout_are_retried(row: Row) -> None:
    assert_right(row)


@fault("5xx-burst")
def test_bursts_of_500_502_503_are_retried(row: Row) -> None:
    assert_right(row)


@fault("429-retry-after")
def test_429_with_retry_after_is_waited_for_and_retried(row: Row) -> None:
    assert_right(row)


@fault("truncated-length")
def test_a_body_shorter_than_its_content_length_is_fetched_again(row: Row) -> None:
    assert_right(row)


@fault("gbk-declared-utf8")
def test_gbk_bytes_in_a_page_declared_utf8_are_delivered_intact(row: Row) -> None:
    assert_right(row)


@fault("no-charset")
def test_a_page_with_no_charset_anywhere_is_delivered_intact(row: Row) -> None:
    assert_right(row)


@fault("robots-disallow")
def test_a_section_robots_txt_disallows_is_never_requested(row: Row) -> None:
    assert_right(row)
    assert row.expected == row.delivered > 0


@fault("endless-listing")
def test_an_endless_listing_stops_at_max_pages(row: Row) -> None:
    """The stories of the generated pages up to max_pages are expected; a request
    for a page past it is a problem of the row."""
    assert_right(row)


# --- faults recovered by the next run ------------------------------------------------


@fault("connection-refused")
def test_a_site_down_exits_4_and_the_next_run_delivers_everything(row: Row) -> None:
    assert_right(row)
    assert row.exits == [4, 0]


@fault("resets-beyond-retries")
def test_pages_failing_past_the_retries_are_delivered_by_the_next_run(row: Row) -> None:
    assert_right(row)


@fault("truncated-mid-paragraph")
def test_a_page_cut_mid_paragraph_is_not_delivered_cut_and_nothing_is_lost(row: Row) -> None:
    assert_right(row)


@fault("redirect-loop")
def test_redirect_loops_and_endless_chains_end(row: Row) -> None:
    assert_survived(row)


@fault("redirect-loop")
def test_stories_behind_a_redirect_loop_are_delivered_by_the_next_run(row: Row) -> None:
    assert_lost_nothing(row)


@fault("redirect-offsite")
def test_redirects_to_another_domain_are_not_followed(row: Row) -> None:
    assert_survived(row)  # includes: no request reached the other host


@fault("redirect-offsite")
def test_stories_redirected_off_site_are_delivered_by_the_next_run(row: Row) -> None:
    assert_lost_nothing(row)


@fault("listing-all-offsite")
def test_a_listing_whose_items_all_point_off_site_fetches_nothing_off_site(row: Row) -> None:
    assert_right(row)


# --- hostile content -----------------------------------------------------------------


@fault("control-characters")
def test_control_characters_and_lone_surrogates_never_reach_the_output(row: Row) -> None:
    assert_survived(row)


@fault("control-characters")
def test_a_story_with_control_characters_and_surrogate_entities_is_delivered(row: Row) -> None:
    assert_lost_nothing(row)


@fault("1mb-title")
def test_a_1mb_title_leaves_the_run_and_its_output_sound(row: Row) -> None:
    assert_right(row)


@fault("script-elements")
def test_script_style_and_iframe_code_never_reach_a_text_field(row: Row) -> None:
    assert_survived(row)


@fault("script-elements")
def test_a_story_with_script_in_its_headline_and_body_is_still_delivered(row: Row) -> None:
    assert_lost_nothing(row)


@fault("escaped-markup")
def test_markup_shown_as_text_is_delivered_as_that_text(row: Row) -> None:
    """Fields are plain text, as the page shows it (README, "Output format"): a page
    that shows "<script>" as text delivers that text, and nothing is lost; a consumer
    escapes text fields before rendering them as HTML, as with any text."""
    assert_right(row)


@fault("path-escape-ids")
def test_ids_and_paths_crafted_to_escape_write_nothing_outside_the_folders(row: Row) -> None:
    assert_right(row)


# --- local faults --------------------------------------------------------------------


@fault("output-read-only")
def test_an_unwritable_output_folder_exits_6_and_the_next_run_delivers(row: Row) -> None:
    assert_right(row)
    assert row.runs[0].manifest is None


@fault("output-path-is-a-file")
def test_an_output_path_that_is_a_file_exits_6_and_the_next_run_delivers(row: Row) -> None:
    assert_right(row)


@fault("disk-full")
def test_a_full_output_disk_exits_6_and_the_next_run_delivers(row: Row) -> None:
    assert row.exits == [6, 0] and not row.problems, row.explain()
    assert_lost_nothing(row)


@fault("disk-full")
def test_a_full_output_disk_fails_with_a_clear_message_not_tracebacks(row: Row) -> None:
    assert_survived(row)


@fault("file-size-limit")
def test_a_file_size_limit_loses_nothing(row: Row) -> None:
    assert not row.problems and row.exits[-1] == 0, row.explain()
    assert_lost_nothing(row)


@fault("file-size-limit")
def test_a_file_size_limit_exits_with_the_output_or_state_code(row: Row) -> None:
    assert_survived(row)


@fault("state-locked")
def test_a_state_database_locked_by_another_program_exits_8_losing_nothing(row: Row) -> None:
    assert_right(row)
    assert row.exits == [0, 8, 0]


@fault("state-corrupted")
def test_a_corrupted_state_database_exits_8_and_is_left_as_it_is(row: Row) -> None:
    assert_survived(row)
    assert row.exits == [0, 8] and row.runs[1].manifest is None


# --- give-up: only for a fault of the story's own page, in completed runs, over time --

GIVES_UP_AFTER_THREE_RUNS = (
    "a story that failed in 3 runs is given up whatever those runs' outcome and however"
    " short the span (newscrawl.state.MAX_ATTEMPTS): the recovered site's run skips it"
)


@fault("giveup-500-three-runs")
def test_every_article_answering_500_fails_each_run_and_delivers_nothing(row: Row) -> None:
    assert_survived(row)
    assert row.exits == [5, 5, 5, 0]


@fault("giveup-500-three-runs")
def test_stories_that_answered_500_in_three_failed_runs_are_delivered_after(row: Row) -> None:
    assert_lost_nothing(row)


@fault("giveup-empty-200-three-runs")
def test_every_article_an_empty_200_fails_each_run_with_5(row: Row) -> None:
    assert_survived(row)


@fault("giveup-empty-200-three-runs")
def test_stories_that_were_empty_in_three_runs_are_delivered_after(row: Row) -> None:
    assert_lost_nothing(row)


@fault("declared-gbk-utf8-bytes")
def test_utf8_pages_declared_gbk_are_decoded_as_utf8_in_the_first_run(row: Row) -> None:
    assert_right(row)


@fault("listed-404-until-published")
def test_a_listed_story_that_answers_404_leaves_the_runs_complete(row: Row) -> None:
    assert_survived(row)


@fault("listed-404-until-published")
def test_a_listed_story_that_answered_404_is_delivered_once_published(row: Row) -> None:
    assert_lost_nothing(row)


# --- link spam inside real paragraphs ------------------------------------------------


@fault("spam-anchor-in-2-of-17")
def test_a_story_with_a_spam_anchor_in_two_paragraphs_is_delivered_once(row: Row) -> None:
    assert_survived(row)


@fault("spam-anchor-in-2-of-17")
def test_a_spam_anchor_inside_real_paragraphs_is_removed_and_the_sentences_kept(
    row: Row,
) -> None:
    assert_lost_nothing(row)


@fault("spam-anchor-in-every-paragraph")
def test_a_story_with_a_spam_anchor_in_every_paragraph_is_still_delivered(row: Row) -> None:
    assert_right(row)


# --- a tree deeper than the parser builds --------------------------------------------


@fault("deep-nesting-3000-divs")
def test_a_page_nested_3000_deep_is_counted_failed_not_delivered_short(row: Row) -> None:
    assert_survived(row)


@fault("deep-nesting-3000-divs")
def test_a_page_nested_3000_deep_is_delivered_whole_once_served_normally(row: Row) -> None:
    assert_lost_nothing(row)


# --- reset --------------------------------------------------------------------------------


@fault("reset-state-folder")
def test_deleting_the_state_folder_delivers_every_story_again_once(row: Row) -> None:
    assert_right(row)


# --- a page whose document tail is missing -----------------------------------------------


@fault("document-tail-missing")
def test_a_page_whose_body_is_whole_but_document_tail_missing_is_delivered(row: Row) -> None:
    assert_survived(row)


@fault("document-tail-missing")
def test_pages_without_their_document_tail_lose_nothing_once_served_whole(row: Row) -> None:
    assert_lost_nothing(row)


# --- every article page broken in one run -------------------------------------------------

NOT_COUNTED_AS_DOWNLOAD_FAILURES = (
    "pages cut short, empty or undecodable are not download failures for the verdict: exit 0"
)


@fault("all-articles-empty")
def test_a_run_where_every_article_is_empty_exits_5(row: Row) -> None:
    assert_survived(row)


@fault("all-articles-empty")
def test_stories_empty_in_a_failed_run_are_delivered_by_the_next(row: Row) -> None:
    assert_lost_nothing(row)


@fault("all-articles-cut")
def test_a_run_where_every_article_is_cut_short_exits_5(row: Row) -> None:
    assert_survived(row)


@fault("all-articles-cut")
def test_stories_cut_short_in_a_failed_run_are_delivered_by_the_next(row: Row) -> None:
    assert_lost_nothing(row)


@fault("all-articles-undecodable")
def test_a_run_where_every_article_is_undecodable_exits_5(row: Row) -> None:
    assert_survived(row)


@fault("all-articles-undecodable")
def test_stories_undecodable_in_a_failed_run_are_delivered_by_the_next(row: Row) -> None:
    assert_lost_nothing(row)


# --- bounded resources ------------------------------------------------------------------

NO_SIZE_CAP = (
    "no DOWNLOAD_MAXSIZE below Scrapy's 1 GiB: the page is read (and delivered), memory"
    " grows past 250 MB, nothing counts or logs it"
)


@fault("10mb-page")
def test_a_10mb_article_and_listing_page_are_not_read_and_counted(row: Row) -> None:
    assert_survived(row)


@fault("10mb-page")
def test_stories_behind_a_10mb_page_are_delivered_by_the_next_run(row: Row) -> None:
    assert_lost_nothing(row)


@fault("3mb-page")
def test_a_3mb_article_and_listing_page_are_read_whole(row: Row) -> None:
    assert_right(row)


@fault("50mb-page")
def test_a_50mb_article_is_not_read_and_memory_stays_bounded(row: Row) -> None:
    assert_survived(row)


@fault("50mb-page")
def test_a_50mb_article_loses_no_other_story(row: Row) -> None:
    assert_lost_nothing(row)


@fault("gzip-bomb")
def test_a_gzip_bomb_is_not_inflated_and_memory_stays_bounded(row: Row) -> None:
    assert_survived(row)


@fault("gzip-bomb")
def test_a_gzip_bomb_loses_no_other_story(row: Row) -> None:
    assert_lost_nothing(row)


@fault("endless-chunked")
def test_an_endless_answer_is_cut_and_memory_stays_bounded(row: Row) -> None:
    assert_survived(row)


@fault("endless-chunked")
def test_an_endless_answer_loses_no_other_story(row: Row) -> None:
    assert_lost_nothing(row)


@fault("listing-100k-links")
def test_a_listing_of_many_links_makes_a_bounded_number_of_requests(row: Row) -> None:
    assert_survived(row)


@fault("listing-100k-links")
def test_a_listing_of_many_links_loses_no_story(row: Row) -> None:
    assert_lost_nothing(row)


@fault("editor-100k-chars")
def test_an_editor_of_100k_characters_is_null_and_the_story_delivered(row: Row) -> None:
    assert_survived(row)


@fault("editor-100k-chars")
def test_a_story_with_an_editor_of_100k_characters_is_delivered(row: Row) -> None:
    assert_lost_nothing(row)


# --- prompt stop ------------------------------------------------------------------------

WAITS_FOR_DOWNLOADS = (
    "a graceful stop waits for the downloads in flight or queued behind a slot's delay"
    " (DOWNLOAD_TIMEOUT 180 s, Retry-After 600 s): the run is killed, no manifest"
)


@fault("sigterm-hung-download")
def test_sigterm_during_a_hung_download_ends_the_run_within_30_s(row: Row) -> None:
    assert_survived(row)


@fault("sigterm-hung-download")
def test_stories_after_a_sigterm_during_a_hung_download_are_delivered_next(row: Row) -> None:
    assert_lost_nothing(row)


@fault("sigterm-retry-after")
def test_sigterm_during_a_long_retry_after_ends_the_run_within_30_s(row: Row) -> None:
    assert_survived(row)


@fault("sigterm-retry-after")
def test_stories_after_a_sigterm_during_retry_after_are_delivered_next(row: Row) -> None:
    assert_lost_nothing(row)


@fault("closespider-timeout-hung")
def test_closespider_timeout_on_a_hung_server_ends_the_run_within_40_s(row: Row) -> None:
    assert_survived(row)


@fault("closespider-timeout-hung")
def test_stories_after_a_closespider_timeout_on_a_hung_server_are_delivered(row: Row) -> None:
    assert_lost_nothing(row)


# --- hostile text in the replica's pages ------------------------------------------------


@fault("script-in-info-spans")
def test_script_and_style_never_reach_the_editor_or_source(row: Row) -> None:
    assert_survived(row)


@fault("script-in-info-spans")
def test_a_story_with_script_in_its_spans_is_delivered(row: Row) -> None:
    assert_lost_nothing(row)


@fault("svg-mathml-in-body")
def test_svg_and_mathml_text_never_reaches_the_body(row: Row) -> None:
    assert_right(row)


@fault("bidi-invisible-chars")
def test_bidi_controls_and_invisible_characters_never_reach_a_field(row: Row) -> None:
    assert_right(row)


@fault("bare-text-order")
def test_a_story_with_bare_text_in_its_body_is_delivered_once(row: Row) -> None:
    assert_survived(row)


@fault("bare-text-order")
def test_bare_text_in_the_body_container_keeps_its_document_order(row: Row) -> None:
    assert_lost_nothing(row)


# --- two runs on one output folder ------------------------------------------------------


@fault("shared-output-two-states")
def test_a_second_run_on_the_same_output_folder_exits_3_and_touches_nothing(row: Row) -> None:
    assert_right(row)


# --- robots.txt failing -----------------------------------------------------------------


@fault("robots-503")
def test_robots_txt_answering_503_stops_the_run_with_4_requesting_nothing(row: Row) -> None:
    assert_survived(row)


@fault("robots-503")
def test_stories_are_delivered_once_robots_txt_answers_again(row: Row) -> None:
    assert_lost_nothing(row)


# --- debris ------------------------------------------------------------------------------


@fault("debris-after-sigkill")
def test_debris_of_killed_runs_is_removed(row: Row) -> None:
    assert_survived(row)


@fault("debris-after-sigkill")
def test_a_sigkill_loses_no_story(row: Row) -> None:
    assert_lost_nothing(row)


# --- messages ------------------------------------------------------------------------------


@fault("not-fetched-reasons")
def test_a_cancelled_or_data_loss_download_is_logged_with_a_reason(row: Row) -> None:
    assert_survived(row)


@fault("not-fetched-reasons")
def test_cancelled_and_data_loss_downloads_lose_nothing(row: Row) -> None:
    assert_lost_nothing(row)


@fault("robots-disallow-all-listings")
def test_robots_txt_disallowing_every_listing_is_the_reason_given(row: Row) -> None:
    assert_survived(row)


@fault("robots-disallow-all-listings")
def test_stories_are_delivered_once_robots_txt_allows_the_listings(row: Row) -> None:
    assert_lost_nothing(row)


@fault("listings-redirect-offsite")
def test_listings_redirected_off_site_are_the_reason_given(row: Row) -> None:
    assert_survived(row)


@fault("listings-redirect-offsite")
def test_stories_are_delivered_once_the_listings_stop_redirecting(row: Row) -> None:
    assert_lost_nothing(row)


@fault("redirect-messages")
def test_redirected_stories_are_logged_with_their_url_and_counted(row: Row) -> None:
    assert_survived(row)


@fault("redirect-messages")
def test_redirected_stories_are_delivered_by_the_next_run(row: Row) -> None:
    assert_lost_nothing(row)


def test_every_fault_case_has_a_test() -> None:
    tested = {getattr(test, "fault_case", None) for test in globals().values()}
    assert set(CASES_BY_NAME) <= tested
