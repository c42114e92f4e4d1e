"""Spider contracts of the project, for ``scrapy check ecns``.

``@story PATH`` is Scrapy's ``@url`` for a story of the site being crawled: the
path is put on ``ECNS_BASE_URL``, so the same contract checks the live site and a
replica (``scrapy check ecns -s ECNS_BASE_URL=http://127.0.0.1:8000``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.contracts import Contract


class StoryContract(Contract):
    name = "story"

    def __init__(self, method: Callable[..., Any], *args: Any) -> None:
        super().__init__(method, *args)
        self.base_url: str = method.__self__.base_url  # type: ignore[attr-defined]

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        args["url"] = self.base_url + self.args[0]
        return args
