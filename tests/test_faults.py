"""The fault suite of issue 7 as tests: the crawler against a replica that
misbehaves on purpose (``replica.faults``), one fault a test.

Each case runs ``scrapy crawl ecns`` once or more (a recoverable fault clears
before the next run) and is measured as a consumer sees it: stories read from
the files complete manifests name, against the replica's truth. A test asserts
what the fault's behaviour must be; where one fault has a part the crawler
handles and a part it does not, they are separate tests. ``python -m
replica.faults`` prints the same measurements as a table.

A test the crawler fails today is ``xfail(strict=True)`` with the reason: when
the crawler is fixed it passes, the xfail turns into a failure, and the mark
comes off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pytest

from replica import build_site
from replica.faults import CASES_BY_NAME, Row, measure

# Cases measured at once: each is a few sequential crawls that wait on the network
# part of the time; two keep the module near a minute on two cores.
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


@pytest.fixture(scope="module")
def measured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Measured]:
    """Measure the cases the selected tests need, ``JOBS`` at a time, in test order,
    from the first test on; a test waits only for its own case."""
    root = tmp_path_factory.mktemp("faults")
    build_site(root / "replica")
    names: list[str] = []
    for item in request.session.items:
        name = getattr(getattr(item, "function", None), "fault_case", None)
        if name and name not in names:
            names.append(name)
    pool = ThreadPoolExecutor(JOBS, thread_name_prefix="fault-case")
    futures: dict[str, Future[Row]] = {}

    def submit(name: str) -> Future[Row]:
        if name not in futures:
            futures[name] = pool.submit(measure, CASES_BY_NAME[name], root / "replica", root / name)
        return futures[name]

    for name in names:
        submit(name)
    yield lambda name: submit(name).result()
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def row(request: pytest.FixtureRequest, measured: Measured) -> Row:
    return measured(request.function.fault_case)


def skip_if_skipped(row: Row) -> None:
    if row.skipped:
        pytest.skip(row.skipped)


def assert_survived(row: Row) -> None:
    """Right statuses, no traceback, no hang, valid output, nothing let in, no duplicate."""
    skip_if_skipped(row)
    assert row.survived, row.explain()


def assert_lost_nothing(row: Row) -> None:
    """Every story expected was delivered once and as the page holds it."""
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


@fault("10mb-page")
def test_a_10mb_article_and_listing_page_are_read_whole(row: Row) -> None:
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


def test_every_fault_case_has_a_test() -> None:
    tested = {getattr(test, "fault_case", None) for test in globals().values()}
    assert set(CASES_BY_NAME) <= tested
