"""The Prometheus textfile a run ends with, written from the real manifests of
replica crawls (two complete runs, then one with the site down: exit 4) and read
back with prometheus_client's own parser: every metric holds the run's values, a
failed run moves the last run but not the last success, and the file is replaced
whole.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from newscrawl.metrics import write_textfile
from newscrawl.state import DB_NAME
from replica.localrun import crawl, read_jsonl
from tests.conftest import Replica


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Crawl:
    exit_code: int
    manifest: dict
    items: list[dict]


@dataclass
class Runs:
    output: Path
    state: Path
    crawls: list[Crawl]

    @property
    def db(self) -> Path:
        return self.state / DB_NAME


@pytest.fixture(scope="module")
def runs(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    work = tmp_path_factory.mktemp("metrics")
    output, state = work / "output", work / "state"
    crawls = []

    def run(base_url: str) -> None:
        before = set(output.glob("*.manifest.json"))
        result = crawl(base_url, output, state)
        (path,) = set(output.glob("*.manifest.json")) - before
        manifest = json.loads(path.read_text(encoding="utf-8"))
        items = [i for f in manifest["files"] for i in read_jsonl(output / f["path"])]
        crawls.append(Crawl(result.returncode, manifest, items))

    run(replica.base_url)
    replica.rebuild(new_on_top=4)
    run(replica.base_url)
    run(f"http://127.0.0.1:{free_port()}")  # the site down
    return Runs(output, state, crawls)


Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def read_metrics(path: Path) -> tuple[Samples, dict[str, str]]:
    """name → labels → value, and name → type, as Prometheus reads the file."""
    samples: Samples = {}
    types = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        types[family.name] = family.type
        assert family.documentation, family.name
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples, types


def one(samples: Samples, name: str) -> float:
    (value,) = samples[f"newscrawl_{name}"].values()
    return value


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(k)[label]: v for k, v in samples[f"newscrawl_{name}"].items()}


def ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def test_the_crawls_are_two_complete_runs_then_the_site_down(runs: Runs) -> None:
    assert [c.exit_code for c in runs.crawls] == [0, 0, 4]
    assert [c.manifest["status"] for c in runs.crawls] == ["complete", "complete", "failed"]


def test_a_complete_run_writes_each_metric_with_its_values(runs: Runs, tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "newscrawl.prom"
    first = runs.crawls[0]
    write_textfile(path, first.manifest, runs.db, runs.output)
    samples, types = read_metrics(path)
    m, items = first.manifest, first.items
    stats, own = m["stats"], m["stats"]["newscrawl"]

    assert all(name.startswith("newscrawl_") for name in types)
    assert set(types.values()) == {"gauge"}  # no counter: each value is the last run's
    assert not [n for n in types if n.endswith("_total")]
    assert one(samples, "last_run_timestamp_seconds") == pytest.approx(ts(m["finished_at"]))
    assert one(samples, "last_success_timestamp_seconds") == pytest.approx(ts(m["finished_at"]))
    assert one(samples, "last_run_success") == 1
    assert one(samples, "last_run_exit_code") == 0
    assert one(samples, "last_run_duration_seconds") == pytest.approx(
        ts(m["finished_at"]) - ts(m["started_at"])
    )
    assert one(samples, "last_run_stories_delivered") == m["items"] == len(items) > 200
    assert one(samples, "last_run_corrections") == own.get("corrections", 0)
    assert one(samples, "last_run_withdrawals") == 0
    assert one(samples, "last_run_requests") == stats["requests"]
    assert one(samples, "last_run_articles_parsed") == own["articles_parsed"]
    assert by_label(samples, "last_run_items_dropped", "reason") == stats["dropped_by_reason"]
    categories = {
        dict(k)["reason"]: dict(k)["category"] for k in samples["newscrawl_last_run_items_dropped"]
    }
    assert categories["DuplicateContent"] == "duplicate"
    assert categories["SpamPage"] == "spam"
    assert categories["MissingBody"] == "validation"
    assert by_label(samples, "last_run_http_responses", "code") == {
        k: v for k, v in stats["responses_by_status"].items()
    }
    assert one(samples, "last_run_stories_given_up") == len(m["given_up"])
    assert one(samples, "stories_given_up") == 0
    assert by_label(samples, "last_run_section_stories_delivered", "section") == Counter(
        i["section"] for i in items
    )
    hours = [(ts(m["finished_at"]) - ts(i["published"])) for i in items if i["version"] == 1]
    fresh = by_label(samples, "last_run_freshness_seconds", "quantile")
    assert fresh["0.5"] == pytest.approx(statistics.median(hours))
    assert fresh["0.95"] == pytest.approx(statistics.quantiles(hours, n=20, method="inclusive")[18])
    coverage = by_label(samples, "last_run_field_coverage_ratio", "field")
    for field in ("title", "published", "editor", "body"):
        assert coverage[field] == pytest.approx(
            own[f"field_present/{field}"] / own["articles_parsed"]
        )
    assert coverage["source"] == pytest.approx(sum(bool(i["source"]) for i in items) / len(items))
    assert coverage["images"] == pytest.approx(sum(bool(i["images"]) for i in items) / len(items))
    # The first run has no history: no floor yet.
    assert "newscrawl_last_run_field_coverage_floor_ratio" not in samples
    # Whole or absent: no temporary file is left, and the collector (another user) reads it.
    assert [p.name for p in path.parent.iterdir()] == ["newscrawl.prom"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_the_floor_is_half_the_recent_runs_median(runs: Runs, tmp_path: Path) -> None:
    path = tmp_path / "newscrawl.prom"
    write_textfile(path, runs.crawls[1].manifest, runs.db, runs.output)
    samples, _ = read_metrics(path)
    own = runs.crawls[0].manifest["stats"]["newscrawl"]
    floor = by_label(samples, "last_run_field_coverage_floor_ratio", "field")
    for field in ("title", "published", "editor", "body"):
        assert floor[field] == pytest.approx(
            0.5 * own[f"field_present/{field}"] / own["articles_parsed"]
        )
    assert by_label(samples, "last_run_section_stories_delivered", "section") == {"politics": 4}


def test_a_failed_run_moves_the_last_run_and_keeps_the_last_success(
    runs: Runs, tmp_path: Path
) -> None:
    path = tmp_path / "newscrawl.prom"
    first, second, down = runs.crawls
    write_textfile(path, first.manifest, runs.db, runs.output)
    write_textfile(path, second.manifest, runs.db, runs.output)
    write_textfile(path, down.manifest, runs.db, runs.output)
    samples, _ = read_metrics(path)
    assert one(samples, "last_run_timestamp_seconds") == pytest.approx(
        ts(down.manifest["finished_at"])
    )
    assert one(samples, "last_success_timestamp_seconds") == pytest.approx(
        ts(second.manifest["finished_at"]), abs=1e-6
    )
    assert one(samples, "last_run_success") == 0
    assert one(samples, "last_run_exit_code") == 4
    assert one(samples, "last_run_stories_delivered") == 0
    assert one(samples, "last_run_requests") == down.manifest["stats"]["requests"] > 0
    # Nothing delivered: no sections, no freshness.
    assert "newscrawl_last_run_section_stories_delivered" not in samples
    assert "newscrawl_last_run_freshness_seconds" not in samples


def test_without_a_previous_file_the_last_success_comes_from_the_state(
    runs: Runs, tmp_path: Path
) -> None:
    path = tmp_path / "newscrawl.prom"
    down = runs.crawls[2]
    write_textfile(path, down.manifest, runs.db, runs.output)
    samples, _ = read_metrics(path)
    # The state closes a run's record just after its manifest is written.
    assert one(samples, "last_success_timestamp_seconds") == pytest.approx(
        ts(runs.crawls[1].manifest["finished_at"]), abs=2
    )
    assert one(samples, "last_run_success") == 0


def test_withdrawals_and_odd_label_values_are_written_as_prometheus_reads_them(
    runs: Runs, tmp_path: Path
) -> None:
    manifest = json.loads(json.dumps(runs.crawls[1].manifest))
    manifest["withdrawn"] = [{"url": "https://www.ecns.cn/a.shtml"}, {"url": "b"}]
    manifest["stats"]["dropped_by_reason"]['Odd"Reason\\x\n'] = 2
    path = tmp_path / "newscrawl.prom"
    write_textfile(path, manifest, runs.db, runs.output)
    samples, _ = read_metrics(path)
    assert one(samples, "last_run_withdrawals") == 2
    assert by_label(samples, "last_run_items_dropped", "reason")['Odd"Reason\\x\n'] == 2


def test_a_write_that_fails_leaves_the_previous_file_whole(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "newscrawl.prom"
    write_textfile(path, runs.crawls[0].manifest, runs.db, runs.output)
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        write_textfile(path, runs.crawls[2].manifest, runs.db, runs.output)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["newscrawl.prom"]


def test_a_run_without_a_manifest_writes_what_it_knows(runs: Runs, tmp_path: Path) -> None:
    path = tmp_path / "newscrawl.prom"
    write_textfile(path, {"status": "failed", "exit_code": 8}, runs.db)
    samples, _ = read_metrics(path)
    assert one(samples, "last_run_exit_code") == 8
    assert one(samples, "last_run_success") == 0
    assert one(samples, "last_success_timestamp_seconds") > 0


def test_the_manifest_as_the_run_holds_it_with_datetimes_gives_the_same_file(
    runs: Runs, tmp_path: Path
) -> None:
    """At the end of a run the manifest's times are datetimes, not yet JSON."""
    manifest = dict(runs.crawls[0].manifest)
    as_text, as_datetimes = tmp_path / "a.prom", tmp_path / "b.prom"
    write_textfile(as_text, manifest, runs.db, runs.output)
    for key in ("started_at", "finished_at"):
        manifest[key] = datetime.fromisoformat(manifest[key])
    write_textfile(as_datetimes, manifest, runs.db, runs.output)
    assert as_text.read_text() == as_datetimes.read_text()
