"""The parse ceiling: the extraction functions alone over the pages a crawl fetches,
read from disk.

Why: it bounds what any crawler built on these functions can reach on one core,
and shows how much of a crawl's cost per page is the framework and the crawler
around extraction rather than the parsing itself. It does per page what the
spider does between "response received" and "item built": decode, build the
selector, ``extract_listing`` / ``extract_article`` and ``compose_body``. Pages are
read into memory first; only the loop is timed (CPU time of this process, one
core).

    python -m bench.parse_ceiling REPLICA_ROOT [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from parsel import Selector

from newscrawl.extract import extract_article, extract_listing
from newscrawl.extract.body import compose_body
from newscrawl.urls import SECTION_PATHS

SITE_ORIGIN = "http://127.0.0.1"


@dataclass(frozen=True, slots=True)
class ParseResult:
    pages: int
    listing_pages: int
    article_pages: int
    megabytes: float
    cpu_s: float
    wall_s: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.cpu_s if self.cpu_s else float("nan")


def crawled_pages(root: Path, sections: str = "") -> tuple[list[Path], list[Path]]:
    """Listing pages and the listed article pages of a replica: what a full crawl
    (of ``sections``, comma-separated; empty: all) fetches. Unlisted pages and
    404s are not read."""
    site = root / "site"
    chosen = [s for s in sections.split(",") if s] or list(SECTION_PATHS)
    listings = sorted(
        p for s in chosen for p in (site / SECTION_PATHS[s].strip("/")).glob("index*.shtml")
    )
    articles = []
    with (root / "truth.jsonl").open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            path = site / record["path"].lstrip("/")
            if set(record["listed_in"]) & set(chosen) and path.is_file():
                articles.append(path)
    return listings, articles


def parse_pages(root: Path, limit: int = 0, sections: str = "") -> ParseResult:
    listings, articles = crawled_pages(root, sections)
    if limit:
        articles = articles[:limit]
    site = root / "site"
    loaded = [
        (f"{SITE_ORIGIN}/{p.relative_to(site).as_posix()}", p.read_bytes(), kind == "listing")
        for kind, paths in (("listing", listings), ("article", articles))
        for p in paths
    ]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for url, body, is_listing in loaded:
        selector = Selector(text=body.decode("utf-8"))
        if is_listing:
            extract_listing(selector)
        else:
            raw = extract_article(selector, url)
            compose_body(raw.blocks)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return ParseResult(
        pages=len(loaded),
        listing_pages=len(listings),
        article_pages=len(articles),
        megabytes=sum(len(b) for _, b, _ in loaded) / 1e6,
        cpu_s=cpu,
        wall_s=wall,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parse_ceiling")
    parser.add_argument("root", type=Path, help="a replica root (with site/ and truth.jsonl)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many articles")
    parser.add_argument("--json", type=Path, help="write the result here as JSON")
    parser.add_argument("--sections", default="", help="only these sections' pages")
    args = parser.parse_args(argv)
    result = parse_pages(args.root, args.limit, args.sections)
    if args.json:
        args.json.write_text(json.dumps(asdict(result)))
    print(
        f"{result.pages} pages ({result.megabytes:.1f} MB) in {result.cpu_s:.2f} s CPU: "
        f"{result.pages_per_s:.0f} pages/s, {1000 * result.cpu_s / result.pages:.2f} s/1000 pages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
