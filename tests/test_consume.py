"""``newscrawl.consume``: the complete manifests in run order, flat or in dated
folders, after a cursor, and their stories, checked against their sha256 before
the first is yielded. Synthetic outputs written as the crawler writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from bench.ingest import run_id_at
from newscrawl.consume import (
    OutputDamaged,
    Withdrawal,
    complete_manifests,
    find_manifests,
    read_manifest,
)
from tests.ingest_cases import MAKER, at, gone, run, story

SCHEMAS = Path(__file__).resolve().parent.parent / "newscrawl" / "schemas"


def ids(manifests: object) -> list[str]:
    return [m.run_id for m in manifests]  # type: ignore[attr-defined]


def test_complete_manifests_come_in_run_order_from_flat_and_dated_folders(
    tmp_path: Path,
) -> None:
    run(tmp_path, 3, [story(3)], dated=True)
    run(tmp_path, 1, [story(1)])
    run(tmp_path, 2, [story(2)], status="failed")
    run(tmp_path, 30, [story(30)], dated=True)
    found = list(complete_manifests(tmp_path))
    assert ids(found) == [run_id_at(at(h), h * 100) for h in (1, 3, 30)]
    assert len(find_manifests(tmp_path)) == 4
    # A dated manifest's paths are relative to its own folder.
    dated = found[2]
    assert dated.path.parent == tmp_path / "2026" / "03" / "02"
    assert [s["article_id"] for s in dated.stories()] == [MAKER.story(30)["article_id"]]


def test_run_order_is_the_start_time_even_within_one_second(tmp_path: Path) -> None:
    """Two runs started in the same second: their ids sort by suffix, not by start."""
    late = datetime(2026, 3, 1, 10, 0, 0, 900_000, tzinfo=UTC)
    early = datetime(2026, 3, 1, 10, 0, 0, 100_000, tzinfo=UTC)
    from bench.ingest import write_run

    write_run(tmp_path, late, [story(1)], n=0x0001)
    write_run(tmp_path, early, [story(2)], n=0xFFFF)
    assert ids(complete_manifests(tmp_path)) == [run_id_at(early, 0xFFFF), run_id_at(late, 1)]


def test_after_a_cursor_and_skipping_runs(tmp_path: Path) -> None:
    for hour in (1, 2, 3, 4):
        run(tmp_path, hour, [story(hour)])
    every = ids(complete_manifests(tmp_path))
    assert ids(complete_manifests(tmp_path, after=every[1])) == every[2:]
    assert ids(complete_manifests(tmp_path, after=every[3])) == []
    assert ids(complete_manifests(tmp_path, skip={every[0], every[2]})) == [every[1], every[3]]
    # The cursor's manifest pruned: the runs started after its id's second follow.
    (tmp_path / f"{every[1]}.manifest.json").unlink()
    assert ids(complete_manifests(tmp_path, after=every[1])) == every[2:]


def test_withdrawn_is_read_and_absent_means_none(tmp_path: Path) -> None:
    run(tmp_path, 1, [story(1)])
    run(tmp_path, 2, [], withdrawn=[gone(1, seen=2)])
    first, second = complete_manifests(tmp_path)
    assert first.withdrawn == ()
    assert second.withdrawn == (
        Withdrawal(MAKER.story(1)["article_id"], MAKER.story(1)["url"], 404, at(2)),
    )
    assert list(second.stories()) == []


def test_every_file_is_checked_before_the_first_story(tmp_path: Path) -> None:
    path = run(tmp_path, 1, [story(n) for n in range(10)], file_items=4)
    (manifest,) = complete_manifests(tmp_path)
    assert len(manifest.files) == 3
    last = manifest.files[-1].path
    last.write_bytes(last.read_bytes().replace(b"{", b" {", 1))
    stories = manifest.stories()
    with pytest.raises(OutputDamaged) as raised:
        next(stories)
    message = str(raised.value)
    assert "\n" not in message and last.name in message and path.name in message
    assert raised.value.path == last
    last.unlink()
    with pytest.raises(OutputDamaged, match="cannot be read"):
        manifest.verify()


def test_a_file_changed_after_the_check_fails_at_its_end(tmp_path: Path) -> None:
    run(tmp_path, 1, [story(n) for n in range(3)])
    (manifest,) = complete_manifests(tmp_path)
    manifest.verify()
    f = manifest.files[0].path
    f.write_bytes(f.read_bytes().replace(b"{", b" {", 1))
    read = []
    with pytest.raises(OutputDamaged, match="changed while it was read"):
        for item in manifest.stories(verify=False):
            read.append(item)
    assert len(read) == 3


def test_a_manifest_that_is_not_one_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "ecns-20260301T000000Z-0000.manifest.json"
    bad.write_text('{"run_id": "x"')
    with pytest.raises(OutputDamaged, match="is not JSON") as raised:
        list(complete_manifests(tmp_path))
    assert raised.value.path == bad
    bad.write_text('{"run_id": "x", "status": "complete"}')
    with pytest.raises(OutputDamaged, match="no 'files'"):
        read_manifest(bad)
    outside = {"path": "/etc/passwd", "items": 1, "sha256": "0" * 64}
    bad.write_text(
        json.dumps(
            {
                "run_id": "x",
                "status": "complete",
                "files": [outside],
                "started_at": at(0).isoformat(),
            }
        )
    )
    with pytest.raises(OutputDamaged, match="not relative"):
        read_manifest(bad)


def test_synthetic_outputs_fit_the_schemas(tmp_path: Path) -> None:
    """What the tests and the benchmark ingest looks like what the crawler writes."""
    manifest_schema = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    article_schema = json.loads((SCHEMAS / "article.schema.json").read_text())
    path = run(tmp_path, 1, [story(1), story(2, version=2)], withdrawn=[gone(1, seen=2)])
    jsonschema.validate(json.loads(path.read_text()), manifest_schema)
    for item in read_manifest(path).stories():
        jsonschema.validate(item, article_schema)
