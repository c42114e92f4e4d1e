"""Log lines for dropped items that name the URL and the reason, not the item.

Scrapy's default prints the whole item (here: every body block) for each drop,
which buries the reason; an operator needs ``Dropped MissingBody: <url> …``.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy import logformatter


class NewscrawlLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        result = dict(super().dropped(item, exception, response, spider))
        result["msg"] = "Dropped %(reason)s: %(url)s: %(exception)s"
        result["args"] = {
            "reason": type(exception).__name__,
            "url": ItemAdapter(item).get("url"),
            "exception": exception,
        }
        return result
