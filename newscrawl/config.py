"""The project's settings, checked before a run starts, and the User-Agent composed
from them.

Why a check of its own: Scrapy reads a setting when a component first needs it, so
``-s NEWSCRAWL_FILE_MAX_ITEMS=abc`` surfaced as a traceback half-way into a run. The
crawl command checks every documented setting first and ends a bad one in one line
(exit 2), having touched nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, Settings

from newscrawl.stores import check_store_url

logger = logging.getLogger(__name__)

LIVE_SITE = "https://www.ecns.cn"
# The contact the project ships with: a crawl of the live site should name its
# operator instead (NEWSCRAWL_CONTACT), and is told so.
PLACEHOLDER_CONTACT = "https://github.com/newscrawl/newscrawl"


def _number(kind: type, minimum: float) -> Callable[[Any], str | None]:
    noun = "a whole number" if kind is int else "a number"

    def check(value: Any) -> str | None:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            return f"must be {noun} ≥ {minimum:g}"
        return None if number >= minimum else f"must be {noun} ≥ {minimum:g}"

    return check


def _flag(value: Any) -> str | None:
    try:
        BaseSettings({"x": value}).getbool("x")
    except ValueError:
        return "must be True or False"
    return None


def _origin(value: Any) -> str | None:
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an origin such as https://www.ecns.cn or http://127.0.0.1:8000"
    if parts.path.strip("/") or parts.query or parts.fragment:
        return "must be an origin alone, with no path"
    return None


def _text(value: Any) -> str | None:
    return None if str(value or "").strip() else "must not be empty"


CHECKS: dict[str, Callable[[Any], str | None]] = {
    "ECNS_BASE_URL": _origin,
    "ECNS_MAX_PAGES": _number(int, 1),
    "ECNS_MAX_LINKS_PER_LISTING": _number(int, 1),
    "NEWSCRAWL_FILE_MAX_ITEMS": _number(int, 0),
    "NEWSCRAWL_REVISIT_HOURS": _number(float, 0),
    "NEWSCRAWL_LOG_KEEP_DAYS": _number(int, 0),
    "NEWSCRAWL_GIVE_UP_DAYS": _number(float, 0),
    "NEWSCRAWL_DISCARDED_KEEP_DAYS": _number(float, 0),
    "NEWSCRAWL_MAX_RETRY_AFTER": _number(float, 0),
    "NEWSCRAWL_CONTACT": _text,
    "NEWSCRAWL_STORE_URL": check_store_url,
    "CLOSESPIDER_TIMEOUT": _number(float, 0),
    "DOWNLOAD_DELAY": _number(float, 0),
    "DOWNLOAD_TIMEOUT": _number(float, 0),
    "RETRY_TIMES": _number(int, 0),
    "CONCURRENT_REQUESTS": _number(int, 1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": _number(int, 1),
    "ROBOTSTXT_OBEY": _flag,
    "AUTOTHROTTLE_ENABLED": _flag,
}


def check_settings(settings: BaseSettings) -> None:
    """Raise ValueError naming the first documented setting whose value is unusable."""
    for name, check in CHECKS.items():
        value = settings.get(name)
        if value is None:
            continue
        problem = check(value)
        if problem:
            raise ValueError(f"{name} {problem}, got {value!r}")


def _version() -> str:
    try:
        return version("newscrawl")
    except PackageNotFoundError:
        return "0"


class Identity:
    """Scrapy add-on: the User-Agent, composed when a crawler is made, so
    ``NEWSCRAWL_CONTACT`` set anywhere (``-s``, ``settings.py``, scrapyd's
    ``setting=``) reaches it; a ``USER_AGENT`` set by the user wins."""

    def update_settings(self, settings: Settings) -> None:
        contact = settings.get("NEWSCRAWL_CONTACT")
        if (settings.getpriority("USER_AGENT") or 0) <= SETTINGS_PRIORITIES["default"]:
            settings.set("USER_AGENT", f"newscrawl/{_version()} (+{contact})", priority="addon")
        live = str(settings.get("ECNS_BASE_URL", "")).rstrip("/") == LIVE_SITE
        if live and contact == PLACEHOLDER_CONTACT:
            logger.warning(
                "NEWSCRAWL_CONTACT is the project's placeholder: set it to your own address"
                " (-s NEWSCRAWL_CONTACT=mailto:you@example.org), so the site can reach you"
            )
