"""One canonical URL per story, and what a story URL tells about itself.

ECNS links the same story as ``//www.ecns.cn/…``, ``http://…``, ``https://…``,
site-relative paths and mobile copies under ``/m/``. Every link is mapped onto one
origin (the ``ECNS_BASE_URL`` setting: the live site or a replica) so that one
story is one URL, whatever form the page used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Hosts that are the site itself, whatever origin we crawl it on.
SITE_HOSTS = frozenset({"www.ecns.cn", "ecns.cn", "m.ecns.cn"})

ARTICLE_PATH_RE = re.compile(
    r"^/(?P<section>(?:[a-z0-9-]+/)*?)(?P<date>\d{4}-\d{2}-\d{2})/detail-(?P<id>[a-z0-9]+)\.shtml$"
)

# Listing paths of the sections a crawl can be limited to (spider argument ``sections``).
SECTION_PATHS: dict[str, str] = {
    "politics": "/news/politics/",
    "society": "/news/society/",
    "economy": "/news/economy/",
    "sci-tech": "/news/sci-tech/",
    "cns-wire": "/cns-wire/",
    "business": "/business/",
    "travel": "/travel/",
    "voices": "/voices/",
    "photo": "/photo/",
    "video": "/video/",
}


def origin_of(base_url: str) -> tuple[str, str]:
    """``(scheme, netloc)`` of the configured site origin."""
    parts = urlsplit(base_url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"ECNS_BASE_URL must be an absolute origin, got {base_url!r}")
    return parts.scheme, parts.netloc


def canonical_url(href: str, base_url: str, page_url: str | None = None) -> str | None:
    """The canonical form of a link to the site, on the configured origin.

    Returns None for links that leave the site (other hosts, ``mailto:``,
    ``javascript:``) and for links that are not valid URLs. The mobile prefix
    ``/m/`` is dropped, query strings and fragments are removed (ECNS story URLs
    carry none), and the path is normalized by w3lib.
    """
    href = href.strip()
    if not href:
        return None
    # Most links are story URLs on the origin, already canonical (an article's own
    # URL, which the listing's link was made into): returned as they are, without
    # parsing (~10 µs, and twice a story).
    prefix = _canonical_origin(base_url)
    if prefix and href.startswith(prefix):
        path = href[len(prefix) :]
        if not path.startswith("/m/") and ARTICLE_PATH_RE.fullmatch(path):
            return href
    return _canonical(href, base_url, page_url)


@lru_cache(maxsize=8)
def _canonical_origin(base_url: str) -> str | None:
    """``scheme://netloc`` of the origin, if w3lib leaves it as it is (so a URL on it
    with a plain path is canonical as written)."""
    scheme, netloc = origin_of(base_url)
    prefix = f"{scheme}://{netloc}"
    return prefix if canonicalize_url(prefix + "/") == prefix + "/" else None


def _canonical(href: str, base_url: str, page_url: str | None) -> str | None:
    """``canonical_url`` for any link: joined, checked and normalized."""
    if not href:
        return None
    scheme, netloc = origin_of(base_url)
    try:
        parts = urlsplit(urljoin(page_url or base_url, href))
        host = (parts.hostname or "").lower()
    except ValueError:  # "http://[broken" and the like: not a link we can follow
        return None
    if parts.scheme not in ("http", "https"):
        return None
    if host not in SITE_HOSTS and parts.netloc.lower() != netloc.lower():
        return None
    path = parts.path or "/"
    if path.startswith("/m/"):
        path = path[2:]
    return canonicalize_url(urlunsplit((scheme, netloc, path, "", "")))


def article_match(url: str) -> re.Match[str] | None:
    """Match an article URL's path against the ``…/<date>/detail-<id>.shtml`` pattern."""
    return ARTICLE_PATH_RE.match(urlsplit(url).path)


def article_id(url: str) -> str | None:
    m = article_match(url)
    return m.group("id") if m else None


def section_slug(url: str) -> str | None:
    """Section slug from an article's path.

    ``/news/politics/…`` gives ``politics``; ``/news/cns-wire/…`` and
    ``/cns-wire/…`` give ``cns-wire``; ``/news/<date>/…`` gives ``news``;
    ``/business/…`` gives ``business``; galleries (``/hd/…``) give ``hd``.
    """
    m = article_match(url)
    if not m:
        return None
    segments = [s for s in m.group("section").split("/") if s]
    if not segments:
        return None
    if segments[0] == "news" and len(segments) > 1:
        return segments[1]
    return segments[0]


def listing_page_url(base_url: str, section_path: str, page: int) -> str:
    """``<section>/index.shtml`` for page 1, ``index_<n>.shtml`` after it."""
    name = "index.shtml" if page == 1 else f"index_{page}.shtml"
    scheme, netloc = origin_of(base_url)
    return urlunsplit((scheme, netloc, section_path.rstrip("/") + "/" + name, "", ""))
