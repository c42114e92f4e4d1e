"""``python -m replica.faults``: the fault suite as a command (``make faults``).

Prints one line a case: what was expected (the exit codes of its runs and what a
consumer must get), what happened, right or wrong; exits 1 when a case is wrong.
``--serve FAULT`` serves a case's first run and waits, to look at it by hand.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from replica.build import TRUTH_FILE, build_site
from replica.faults.cases import CASES, CASES_BY_NAME
from replica.faults.model import Case, Context
from replica.faults.report import format_table, read_truth, run_suite
from replica.faults.server import Faults, FaultServer
from replica.server import site_dir_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replica.faults",
        description="Run the crawler against a misbehaving replica, one fault at a time,"
        " and print what it delivered, lost and duplicated.",
    )
    parser.add_argument("faults", nargs="*", help="fault names (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    parser.add_argument("--jobs", type=int, default=1, help="faults measured at once")
    parser.add_argument("--keep", type=Path, help="work here and keep the folders")
    parser.add_argument("--serve", metavar="FAULT", help="serve FAULT's first run and wait")
    parser.add_argument("--port", type=int, default=0, help="port for --serve")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:<32} {case.kind:<9} {case.behaviour}")
        return 0
    named = [*args.faults, *([args.serve] if args.serve else [])]
    unknown = [n for n in named if n not in CASES_BY_NAME]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; see --list")
    if args.serve:
        return _serve(CASES_BY_NAME[args.serve], args.keep, args.port)
    started = time.monotonic()
    rows = run_suite(
        args.faults or None,
        work=args.keep,
        jobs=args.jobs,
        progress=lambda r: print(
            f"  {r.name}: {'right' if r.ok else 'WRONG'} ({r.seconds:.1f} s)", file=sys.stderr
        ),
    )
    print(format_table(rows))
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 0 if all(r.ok for r in rows) else 1


def _serve(case: Case, keep: Path | None, port: int) -> int:
    """Serve the first run's faults of ``case`` on 127.0.0.1 until Ctrl-C."""
    root = keep or Path(tempfile.mkdtemp(prefix="newscrawl-faults-"))
    try:
        site_root = root / "replica"
        if not (site_root / TRUTH_FILE).is_file():
            build_site(site_root)
        server = FaultServer(site_root, port=port)
        site = site_dir_of(site_root)
        ctx = Context(root, site, read_truth(site_root), server, root / "out", root / "state")
        steps = case.build(ctx)
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
        with server:
            server.set_faults(steps[0].faults or Faults())
            print(f"listening on {server.base_url} ({case.name}: {case.behaviour})", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
