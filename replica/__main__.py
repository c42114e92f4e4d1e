"""Command line of the replica.

    python -m replica build DIR [--seed S] [--new N] [--scale K]
                                          [--new-copies K] [--texts FILE.jsonl [--reserve R]]
    python -m replica serve DIR [--host 127.0.0.1] [--port 0]
    python -m replica dedup-check [--texts FILE.jsonl] [--seed S] [--work DIR]

``build --texts`` makes the stories from a JSON Lines file of real texts (title,
body, listing_date, url); its last ``--reserve`` texts (default a tenth) are held
back, and ``--new N`` publishes N of them on top: build both sites of a two-run test
with the same file and reserve. ``--new-copies K`` adds K copies of older stories on
top (near copies of each kind in turn, and an exact one). ``dedup-check`` crawls such
a replica twice and prints the duplicates emitted and the stories lost
(``replica.dedup_check``).

``serve`` prints exactly one line, ``listening on http://HOST:PORT``, once it
accepts connections (``ReplicaServer`` waits for it), and runs until SIGTERM or
SIGINT.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from replica import dedup_check
from replica.build import TRUTH_FILE, build_site
from replica.server import serve, site_dir_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replica")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write DIR/site and DIR/truth.jsonl")
    build.add_argument("dir", type=Path)
    build.add_argument("--seed", type=int, default=7)
    build.add_argument("--new", type=int, default=0, help="new politics stories on top")
    build.add_argument("--scale", type=int, default=1, help="multiply the number of stories")
    build.add_argument("--new-copies", type=int, default=0, help="copies of older stories on top")
    build.add_argument("--texts", type=Path, help="build the stories from real texts (JSON Lines)")
    build.add_argument("--reserve", type=int, help="texts held back for --new (default 10%%)")
    run = commands.add_parser("serve", help="serve DIR/site over HTTP")
    run.add_argument("dir", type=Path)
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="0 picks a free port")
    check = commands.add_parser(
        "dedup-check", help="crawl a replica with copies twice: duplicates emitted, stories lost"
    )
    dedup_check.add_arguments(check)
    args = parser.parse_args(argv)

    if args.command == "dedup-check":
        return dedup_check.run_from_args(args)
    if args.command == "build":
        started = time.monotonic()
        try:
            site = build_site(
                args.dir,
                seed=args.seed,
                new_on_top=args.new,
                scale=args.scale,
                new_copies=args.new_copies,
                texts=args.texts,
                reserve=args.reserve,
            )
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
        took = time.monotonic() - started
        with (args.dir / TRUTH_FILE).open(encoding="utf-8") as f:
            expects = collections.Counter(json.loads(line)["expect"] for line in f)
        files = sum(1 for p in site.rglob("*") if p.is_file())
        summary = ", ".join(f"{k} {v}" for k, v in sorted(expects.items()))
        # Diagnostics go to stderr: stdout stays free for scripts.
        print(f"built {site}: {files} files in {took:.2f} s; truth: {summary}", file=sys.stderr)
        return 0
    site_dir = site_dir_of(args.dir)
    if not site_dir.is_dir():
        parser.error(f"no site at {args.dir} (build it first)")
    serve(site_dir, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
