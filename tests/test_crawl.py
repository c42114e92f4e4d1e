"""``scrapy crawl ecns`` end to end, as a subprocess against the replica, twice.

The replica writes the truth of every story it lists (what must be delivered,
field by field, and what must not); the crawl's real output files are compared
with it. Then four new stories appear on top of politics and a second run must
deliver exactly those, for a small fraction of the first run's requests.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import jsonschema
import pytest

from newscrawl.pipelines.output import EXPORTED_FIELDS
from newscrawl.pipelines.schema import article_schema
from newscrawl.state import DB_NAME
from replica import spam as replica_spam
from replica.localrun import crawl, read_jsonl
from tests.conftest import Replica, crawl_stat

COMPARED_FIELDS = (
    "article_id",
    "section",
    "title",
    "published",
    "published_raw",
    "source",
    "editor",
    "body",
)


@dataclass
class Run:
    result: subprocess.CompletedProcess[str]
    files: list[Path]
    items: list[dict]
    truth: list[dict]

    def stat(self, name: str) -> int:
        return crawl_stat(self.result.stderr, name)


@dataclass
class TwoRuns:
    first: Run
    second: Run
    output: Path


@pytest.fixture(scope="module")
def runs(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    work = tmp_path_factory.mktemp("crawl")
    output, state = work / "output", work / "state"

    def run() -> Run:
        before = set(output.glob("*.jsonl"))
        result = crawl(replica.base_url, output, state)
        files = sorted(set(output.glob("*.jsonl")) - before)
        items = [item for path in files for item in read_jsonl(path)]
        return Run(result, files, items, replica.truth())

    first = run()
    replica.rebuild(new_on_top=4)
    second = run()
    return TwoRuns(first, second, output)


def path_of(item: dict) -> str:
    return urlsplit(item["url"]).path


def by_path(items: list[dict]) -> dict[str, dict]:
    return {path_of(item): item for item in items}


def test_both_runs_exit_zero_and_leave_no_part_file(runs: TwoRuns) -> None:
    for run in (runs.first, runs.second):
        assert run.result.returncode == 0, run.result.stderr[-3000:]
        assert len(run.files) == 1
    assert list(runs.output.glob("*.part")) == []


def test_every_line_is_a_json_object_with_the_documented_fields(runs: TwoRuns) -> None:
    for path in runs.first.files:
        for line in path.read_text(encoding="utf-8").splitlines():
            assert list(json.loads(line)) == list(EXPORTED_FIELDS)


def test_first_run_delivers_every_listed_story_exactly_once(runs: TwoRuns) -> None:
    run = runs.first
    paths = [path_of(item) for item in run.items]
    assert len(paths) == len(set(paths)), "a story was delivered twice"
    expected = {s["path"] for s in run.truth if s["expect"] == "delivered"}
    twins = [s for s in run.truth if s["expect"] == "duplicate"]
    assert twins, "the replica publishes a story twice"
    # Of a story and its copy, the one met first is delivered: requests of one
    # listing page are answered in any order.
    for copy in twins:
        assert (copy["path"] in paths) != (copy["duplicate_of"] in paths), copy["path"]
    originals = {copy["duplicate_of"] for copy in twins}
    assert expected - originals - set(paths) == set(), "stories missing"
    allowed = expected | {s["path"] for s in twins}
    assert set(paths) - allowed == set(), "delivered something the listings do not offer"


def test_every_field_matches_the_replica_field_by_field(runs: TwoRuns) -> None:
    run = runs.first
    delivered = by_path(run.items)
    mismatches = []
    for story in run.truth:
        item = delivered.get(story["path"])
        if item is None or story["expect"] not in ("delivered", "duplicate"):
            continue
        for field in COMPARED_FIELDS:
            if item[field] != story[field]:
                mismatches.append((story["path"], field, story[field], item[field]))
        images = [
            {"url": urljoin(item["url"], img["src"]), "caption": img["caption"]}
            for img in story["images"]
        ]
        if item["images"] != images:
            mismatches.append((story["path"], "images", images, item["images"]))
    assert mismatches == []


def test_spam_pages_missing_pages_empty_pages_and_sidebar_stories_are_not_delivered(
    runs: TwoRuns,
) -> None:
    run = runs.first
    delivered = {path_of(item) for item in run.items}
    for expect in ("spam_page", "not_found", "no_body", "not_listed"):
        stories = [s["path"] for s in run.truth if s["expect"] == expect]
        assert stories, f"the replica has no {expect} story"
        assert delivered.isdisjoint(stories), expect


def test_no_link_spam_reaches_any_field(runs: TwoRuns) -> None:
    markers = (
        "蜘蛛池",
        *replica_spam.POOL_DOMAINS,
        *replica_spam.GAMBLING_TERMS,
        *replica_spam.GAMBLING_DOMAINS,
        *replica_spam.ENGLISH_SPAM_DOMAINS,
    )
    for item in runs.first.items:
        text = json.dumps(item, ensure_ascii=False)
        found = [m for m in markers if m in text]
        assert found == [], (item["url"], found)
    assert any(item["spam_removed"] for item in runs.first.items)


def test_drops_are_counted_in_the_stats_by_reason(runs: TwoRuns) -> None:
    run = runs.first
    assert run.stat("item_dropped_reasons_count/SpamPage") >= 1
    assert run.stat("item_dropped_reasons_count/MissingBody") >= 1
    assert run.stat("item_dropped_reasons_count/DuplicateContent") >= 1


def test_second_run_emits_exactly_the_new_stories(runs: TwoRuns) -> None:
    known = {s["path"] for s in runs.first.truth}
    new = {s["path"] for s in runs.second.truth if s["path"] not in known}
    assert len(new) == 4
    assert {path_of(item) for item in runs.second.items} == new
    assert len(runs.second.items) == 4


def test_second_run_makes_under_a_tenth_of_the_first_runs_requests(runs: TwoRuns) -> None:
    first = runs.first.stat("downloader/request_count")
    second = runs.second.stat("downloader/request_count")
    assert first > 100
    assert second <= first / 10, (first, second)


def test_a_story_listed_in_two_sections_leaves_no_section_half_paged(runs: TwoRuns) -> None:
    # The replica cross-posts stories (listed in cns-wire and politics): the second
    # listing's request is dropped as a repeat, which is not a failure to fetch.
    assert any("cross_posted" in s["variations"] for s in runs.first.truth)
    with sqlite3.connect(runs.output.parent / "state" / DB_NAME) as db:
        half_paged = db.execute("SELECT section FROM sections WHERE paged_to_end = 0")
        assert half_paged.fetchall() == []
        failed = db.execute("SELECT url, detail FROM stories WHERE outcome = 'failed'")
        assert failed.fetchall() == []


def test_every_delivered_item_fits_the_shipped_json_schema(runs: TwoRuns) -> None:
    schema = article_schema()
    validator = jsonschema.Draft7Validator(schema)
    for item in runs.first.items + runs.second.items:
        assert list(validator.iter_errors(item)) == [], item["url"]
    # Checked by newscrawl's own SchemaPipeline (spidermon's cost three times as much).
    assert runs.first.stat("newscrawl/schema/items") == len(runs.first.items)
