"""``make demo``: the whole job, end to end, on the bundled replica.

Builds the replica, serves it on 127.0.0.1, runs ``scrapy crawl ecns`` against
it, then publishes four new stories on top of politics and runs again, the way
cron would: the second run delivers only those four. Prints where the output
went and what each run did, and writes the operators' report of both runs
(``scrapy report``) into the state folder. Uses its own folders (``output/demo`` and
``output/demo-state``), emptied at the start, so it can be run again and again.
"""

from __future__ import annotations

import collections
import json
import shutil
import sys
import time

from newscrawl.report import write_report
from replica import ReplicaServer, build_site
from replica.localrun import PROJECT_ROOT, crawl, read_jsonl

REPLICA_DIR = PROJECT_ROOT / ".replica" / "demo"
OUTPUT_DIR = PROJECT_ROOT / "output" / "demo"
STATE_DIR = PROJECT_ROOT / "output" / "demo-state"


def _run(label: str, base_url: str) -> list[dict]:
    before = set(OUTPUT_DIR.glob("*.manifest.json"))
    started = time.monotonic()
    result = crawl(base_url, OUTPUT_DIR, STATE_DIR)
    took = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"{label}: scrapy crawl ecns exited {result.returncode}")
    (manifest_path,) = set(OUTPUT_DIR.glob("*.manifest.json")) - before
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    items = [item for f in manifest["files"] for item in read_jsonl(OUTPUT_DIR / f["path"])]
    stats = manifest["stats"]
    print(f"\n== {label}: {len(items)} new stories, {stats['requests']} requests, {took:.1f} s")
    print(f"   manifest: {manifest_path.relative_to(PROJECT_ROOT)} (status {manifest['status']})")
    for f in manifest["files"]:
        print(f"   file: {f['path']} ({f['items']} stories)")
    sections = collections.Counter(item["section"] for item in items)
    if sections:
        print("   by section: " + ", ".join(f"{k} {v}" for k, v in sections.most_common()))
    dropped = stats["dropped_by_reason"]
    if dropped:
        print("   dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())))
    return items


def main() -> None:
    for folder in (OUTPUT_DIR, STATE_DIR):
        shutil.rmtree(folder, ignore_errors=True)
    build_site(REPLICA_DIR)
    with ReplicaServer(REPLICA_DIR) as server:
        print(f"replica of www.ecns.cn serving on {server.base_url}")
        first = _run("first run (empty state)", server.base_url)
        build_site(REPLICA_DIR, new_on_top=4)
        print("\n(four new stories published on top of politics)")
        second = _run("second run (incremental)", server.base_url)
    if first:
        sample = {k: v for k, v in first[0].items() if k != "body"}
        sample["body"] = first[0]["body"][:160] + "…"
        print("\nfirst story of the first run:")
        for key, value in sample.items():
            print(f"   {key}: {value}")
    print(f"\noutput folder: {OUTPUT_DIR.relative_to(PROJECT_ROOT)}  (state: {STATE_DIR.name})")
    print(f"stories delivered: {len(first)} + {len(second)}")
    report = write_report(
        STATE_DIR / "report.html", OUTPUT_DIR, STATE_DIR, STATE_DIR / "logs", days=None
    )
    print(f"report of the runs (open it in a browser): {report.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
